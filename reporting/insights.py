"""Plain-language findings computed from the figures; each carries its numbers.

First version: rep-level outliers against the median of the reps in scope. Findings are
ranked by how far the figure is from the median.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Finding:
    """One finding: its text, the figure behind it, and a score used for ranking."""

    text: str
    metric: str
    subject: str
    value: float
    reference: float
    score: float


def rep_findings(summary: pd.DataFrame, min_closed: int = 3) -> list[Finding]:
    """Outlier reps against the other reps of their team (``team`` column of
    ``metrics.rep_summary``; the whole scope when there is none): bloated pipeline, many
    deals with long cycles, mostly small deals."""
    if summary.empty:
        return []
    if "team" not in summary or summary["team"].isna().all():
        return _findings(summary, min_closed, "the median")
    out: list[Finding] = []
    for team, grp in summary.groupby("team", sort=True):
        out.extend(_findings(grp, min_closed, f"the {team} median"))
    return sorted(out, key=lambda f: -f.score)


def _findings(s: pd.DataFrame, min_closed: int, ref: str) -> list[Finding]:
    out: list[Finding] = []
    med_open = s["open_count"].median()
    for _, r in s.iterrows():
        if med_open and r["open_count"] >= 2 * med_open and r["open_count"] >= 5:
            stale = r["stale_open_count"] / r["open_count"]
            out.append(Finding(
                f"{r['group']} holds {int(r['open_count'])} open opportunities, "
                f"{r['open_count'] / med_open:.1f}x {ref} of {med_open:.0f}; "
                f"{stale:.0%} are stale.",
                "open_count", str(r["group"]), float(r["open_count"]), float(med_open),
                r["open_count"] / med_open,
            ))
    closed = s["won"] + s["lost"]
    judged = s[closed >= min_closed]
    if len(judged) >= 3:
        med_closed = (judged["won"] + judged["lost"]).median()
        med_cycle = judged["median_cycle_days_won"].median()
        for _, r in judged.iterrows():
            c = r["won"] + r["lost"]
            cyc = r["median_cycle_days_won"]
            if pd.notna(cyc) and med_cycle and c > med_closed and cyc >= 1.4 * med_cycle:
                out.append(Finding(
                    f"{r['group']} closed {int(c)} deals ({ref}: {med_closed:.0f}) but with a "
                    f"median cycle of {cyc:.0f} days, {cyc / med_cycle:.1f}x {ref} of "
                    f"{med_cycle:.0f}: many deals, slowly.",
                    "median_cycle_days_won", str(r["group"]), float(cyc), float(med_cycle),
                    cyc / med_cycle,
                ))
        med_amount = judged["median_won_amount"].median()
        for _, r in judged.iterrows():
            a = r["median_won_amount"]
            if pd.notna(a) and med_amount and r["won"] >= min_closed and a <= 0.5 * med_amount:
                out.append(Finding(
                    f"{r['group']}'s median won deal is {a:,.0f}, {a / med_amount:.0%} of "
                    f"{ref} ({med_amount:,.0f}): mostly small deals.",
                    "median_won_amount", str(r["group"]), float(a), float(med_amount),
                    med_amount / a if a else 10.0,
                ))
    return sorted(out, key=lambda f: -f.score)


def _by_profile(frame: pd.DataFrame, key: str, profiles: pd.Series) -> pd.DataFrame:
    return frame.assign(profile=frame[key].map(profiles).fillna("default"))


def customer_findings(acquirers: pd.DataFrame, managers: pd.DataFrame,
                      profiles: pd.Series, min_accounts: int = 10) -> list[Finding]:
    """Acquirers whose won customers churn far more often than their peers', and account
    managers whose accounts expand far more (or less) than their peers'."""
    out: list[Finding] = []
    if not acquirers.empty:
        acq = _by_profile(acquirers, "person", profiles)
        acq = acq[acq["accounts"] >= min_accounts].dropna(subset=["churn_rate"])
        for prof, grp in acq.groupby("profile"):
            med = grp["churn_rate"].median()
            if len(grp) < 3 or not med:
                continue
            for _, r in grp.iterrows():
                if r["churn_rate"] >= 1.5 * med and r["churn_rate"] >= 0.3:
                    out.append(Finding(
                        f"{r['person']}'s won customers churn: {r['churn_rate']:.0%} of the "
                        f"accounts they acquired (a year old or more) stopped buying, against "
                        f"{med:.0%} for {prof} peers; average value {r['avg_value']:,.0f}.",
                        "churn_rate", str(r["person"]), float(r["churn_rate"]), float(med),
                        r["churn_rate"] / med,
                    ))
    if not managers.empty:
        man = _by_profile(managers, "person", profiles)
        man = man[man["accounts"] >= 5]
        for prof, grp in man.groupby("profile"):
            med = grp["expansion_per_account"].median()
            if len(grp) < 3 or not med:
                continue
            for _, r in grp.iterrows():
                share = r["expansion_per_account"] / r["avg_value"] if r["avg_value"] else 0
                # material: at least 2x peers and at least 15% of the accounts' value
                if r["expansion_per_account"] >= 2 * med and share >= 0.15:
                    out.append(Finding(
                        f"{r['person']}'s accounts expand: {r['expansion_per_account']:,.0f} "
                        f"of expansion revenue per account, {r['expansion_per_account'] / med:.1f}x "
                        f"the {prof} account managers' median of {med:,.0f}.",
                        "expansion_per_account", str(r["person"]),
                        float(r["expansion_per_account"]), float(med),
                        r["expansion_per_account"] / med,
                    ))
    return out


def pipeline_findings(summary: pd.DataFrame, pipeline: pd.DataFrame) -> list[Finding]:
    """Reps who close lost deals only after they went stale ("closed when tired")."""
    out: list[Finding] = []
    p = pipeline[pipeline["lost"] >= 5].dropna(subset=["lost_when_tired_share"])
    if len(p) < 3:
        return out
    med = p["lost_when_tired_share"].median()
    for _, r in p.iterrows():
        share = r["lost_when_tired_share"]
        if share >= 0.3 and share >= 2 * max(med, 0.05):
            out.append(Finding(
                f"{r['group']} closed {int(r['lost_when_tired'])} of {int(r['lost'])} lost "
                f"deals ({share:.0%}) only after they had gone stale, against a median of "
                f"{med:.0%}: deals are given up, not disqualified.",
                "lost_when_tired_share", str(r["group"]), float(share), float(med),
                share / max(med, 0.05),
            ))
    return out


def funnel_findings(funnel: pd.DataFrame) -> list[Finding]:
    """The stage where the most deals are lost."""
    f = funnel.dropna(subset=["conversion_to_next"])
    if f.empty or f["reached"].iloc[0] < 10:
        return []
    worst = f.loc[f["conversion_to_next"].idxmin()]
    nxt = funnel["stage"].iloc[funnel.index.get_loc(worst.name) + 1]
    return [Finding(
        f"The funnel leaks most at {worst['stage']}: {worst['conversion_to_next']:.0%} of the "
        f"{int(worst['reached'])} closed deals that reached it went on to {nxt}; "
        f"{int(worst['lost_here'])} were lost there.",
        "stage_conversion", str(worst["stage"]), float(worst["conversion_to_next"]),
        float(f["conversion_to_next"].median()), 1.0,
    )]


def findings(analysis) -> list[Finding]:
    """Every finding of a report, ranked: rep outliers, customer value, pipeline, funnel."""
    profiles = analysis.summary.set_index("group")["profile"] if "profile" in \
        analysis.summary else pd.Series(dtype=object)
    out = rep_findings(analysis.summary)
    out += customer_findings(analysis.acquirers, analysis.managers, profiles)
    out += pipeline_findings(analysis.summary, analysis.pipeline)
    out += funnel_findings(analysis.funnel)
    return sorted(out, key=lambda f: -f.score)
