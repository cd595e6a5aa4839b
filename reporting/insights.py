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
