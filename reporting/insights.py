"""Plain-language findings computed from the figures; each carries its numbers.

First version: rep-level outliers against the median of the reps in scope. Findings are
ranked by how far the figure is from the median.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

import pandas as pd

from .i18n import N_, N_p
from .metrics.filters import closed_in_period, open_at, won_in_period
from .metrics.pipeline import stale_share
from .periods import Period


@dataclass(frozen=True)
class Finding:
    """One finding: a message template with its figures, the figure behind it, and a
    score used for ranking. ``text`` is the English sentence; :meth:`render` gives it in
    another language through the message catalogue.

    ``deal_ids`` are the deals the finding is about (largest amount first; every one of
    them, the report caps what it shows) and ``deals_label`` says which deals they are
    (an English catalogue string); :attr:`key` names the finding's deal list (an HTML
    anchor id)."""

    template: str
    params: dict
    metric: str
    subject: str
    value: float
    reference: float
    score: float
    deal_ids: tuple[str, ...] = ()
    deals_label: str = ""

    @property
    def key(self) -> str:
        """A stable ASCII id of the finding, from its metric and subject: ``deals-`` + the
        metric's slug + a hash of the subject (CRM text never appears in it)."""
        return deal_list_key(self.metric, self.subject)

    @property
    def text(self) -> str:
        return self.template.format(**self.params)

    @property
    def rating(self) -> str | None:
        """How the finding reads: ``good`` (expanding accounts, velocity up), ``bad``
        (behind quota, churn, slipping deals, velocity down) or ``watch``."""
        if self.metric == "velocity_change":
            return "good" if self.params.get("direction") == "rose" else "bad"
        return FINDING_RATINGS.get(self.metric, "watch")

    def render(self, language: str = "en") -> str:
        """The sentence for a reader: in ``language``, every figure in the report's
        formats (amounts with their currency, Persian digits and separators;
        :class:`Figure`)."""
        from .crm_terms import crm_term
        from .i18n import localize_numbers, tr

        params = {k: Figure(v, language) if isinstance(v, int | float) and not isinstance(
            v, bool) else v for k, v in self.params.items()}
        from .textsafe import clipped

        params = {k: clipped(v) if isinstance(v, str) else v for k, v in params.items()}
        for k in ("stage", "next", "profile"):  # the CRM's standard stages, our profiles
            if isinstance(params.get(k), str):
                params[k] = crm_term(params[k], language)
        if isinstance(params.get("period"), str):  # "November 2026", not "2026-11"
            params["period"] = _period_words(params["period"], language)
        return localize_numbers(tr(self.template, language).format(**params), language)


def _period_words(label: str, language: str) -> str:
    """A period label of a finding ("2026-11", "2026-Q4") as the report names periods
    ("November 2026"; in Persian, in the report's calendar); anything else as it is."""
    from . import formatting
    from .i18n import period_title
    from .periods import parse_period

    try:
        p = parse_period(label)
    except Exception:  # noqa: BLE001 - not a period label: shown as it is
        return label
    return period_title(p, language, formatting.active().calendar)


class Figure(float):
    """A finding's number, formatted by the template's format spec in the report's
    formats (:mod:`reporting.formatting`): ``{x:,.0f}`` is an amount (the templates
    write amounts, and only amounts, with a group separator) and gets its currency,
    ``{x:.0%}`` a share, ``{x:.1f}`` a decimal, ``{x:+,.0f}`` a signed amount."""

    def __new__(cls, value: float, language: str = "en"):
        obj = super().__new__(cls, value)
        obj.language = language
        return obj

    def __format__(self, spec: str) -> str:
        from . import formatting as fmt

        v = float(self)
        if spec.endswith("%"):
            return fmt.percent(v, int(spec[-2]) if spec[-2:-1].isdigit() else 0,
                               self.language, sign="+" in spec)
        if "," in spec and spec.endswith("f"):
            return fmt.money(v, None, self.language, sign="+" in spec)
        if spec.endswith("f"):
            digits = int(spec.split(".")[-1][:-1]) if "." in spec else 0
            out = fmt.number(v, digits, self.language)
            return ("+" + out) if "+" in spec and v > 0 else out
        return format(v, spec)


#: how each kind of finding reads (velocity: by its direction, see Finding.rating)
FINDING_RATINGS = {"quota_attainment": "bad", "churn_rate": "bad",
                   "quarter_pushes_per_deal": "bad", "pushes_per_deal": "bad",
                   "expansion_per_account": "good"}


def deal_list_key(metric: str, subject: str) -> str:
    """The anchor id of a deal list: ``deals-<metric slug>-<10 hex digits of the subject's
    SHA-1>``; ASCII whatever the subject (CRM text) holds."""
    slug = re.sub(r"[^a-z0-9]+", "-", metric.lower()).strip("-") or "x"
    digest = hashlib.sha1(f"{metric}\x1f{subject}".encode(),
                          usedforsecurity=False).hexdigest()[:10]
    return f"deals-{slug}-{digest}"


@dataclass(frozen=True)
class DealFrames:
    """The deals the findings point at, from frames the analysis already has: ``opps``
    (the report's slice), ``open_deals`` (:func:`reporting.metrics.pipeline.open_deals`
    at the period end, owners then), ``then`` (the deals as they were at the period end,
    :func:`reporting.history.state_at`), the stage history and stale threshold of the
    lost-when-tired rule, the slipped deals and the accounts' history."""

    opps: pd.DataFrame
    period: Period
    open_deals: pd.DataFrame | None = None
    then: pd.DataFrame | None = None
    stage_history: pd.DataFrame | None = None
    stale_days: object = 45
    slipped: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None


def ranked_ids(frame: pd.DataFrame, id_col: str = "opportunity_id") -> tuple[str, ...]:
    """The ids of ``frame``'s deals, largest amount first (unknown amounts last, ties by
    id)."""
    if frame is None or not len(frame):
        return ()
    f = frame.assign(_a=pd.to_numeric(frame["amount"], errors="coerce")
                     if "amount" in frame else float("nan"))
    f = f.sort_values(["_a", id_col], ascending=[False, True], na_position="last",
                      kind="stable")
    return tuple(dict.fromkeys(str(i) for i in f[id_col]))


def won_deals(d: DealFrames, rep: str | None = None) -> pd.DataFrame:
    """The deals won in the period (a rep's, when given)."""
    o = d.opps
    w = o[won_in_period(o, d.period)]
    return w if rep is None else w[w["owner"] == rep]


def open_deals_of(d: DealFrames, rep: str | None = None, stale_only: bool = False
                  ) -> pd.DataFrame:
    """The open deals at the period end (a rep's, by the owner then), the stale ones only
    with ``stale_only``."""
    o = d.open_deals
    if o is None or not len(o):
        return pd.DataFrame(columns=["opportunity_id", "amount"])
    if rep is not None:
        o = o[o["owner"] == rep]
    return o[o["stale"].astype(bool)] if stale_only else o


def bloated_deals(d: DealFrames, rep: str) -> tuple[tuple[str, ...], str]:
    """Behind a bloated pipeline: the rep's stale open deals, or every open deal when
    none is stale (or stale is not known)."""
    stale = open_deals_of(d, rep, stale_only=True)
    if len(stale):
        return ranked_ids(stale), N_("Stale open deals at the period end")
    return ranked_ids(open_deals_of(d, rep)), N_("Open deals at the period end")


def rep_findings(summary: pd.DataFrame, min_closed: int = 3,
                 deals: DealFrames | None = None) -> list[Finding]:
    """Outlier reps against the other reps of their team (``team`` column of
    ``metrics.rep_summary``; the whole scope when there is none): bloated pipeline, many
    deals with long cycles, mostly small deals. With ``deals``, each finding carries the
    rep's deals behind it: the stale open deals, the won deals slower than the team's
    median cycle, the won deals smaller than the team's median."""
    if summary.empty:
        return []
    if "team" not in summary or summary["team"].isna().all():
        return _findings(summary, min_closed, "team", deals)
    out: list[Finding] = []
    for team, grp in summary.groupby("team", sort=True):
        out.extend(_findings(grp, min_closed, str(team), deals))
    return sorted(out, key=lambda f: -f.score)


def _with(f: Finding, ids: tuple[str, ...], label: str) -> Finding:
    return replace(f, deal_ids=tuple(ids), deals_label=label)


def _findings(s: pd.DataFrame, min_closed: int, ref: str,
              deals: DealFrames | None = None) -> list[Finding]:
    out: list[Finding] = []
    med_open = s["open_count"].median()
    for _, r in s.iterrows():
        if med_open and r["open_count"] >= 2 * med_open and r["open_count"] >= 5:
            stale = stale_share(int(r["stale_open_count"]), int(r.get("stale_unknown_count", 0)),
                                int(r["open_count"]))
            params = {"rep": r["group"], "n": r["open_count"],
                      "ratio": r["open_count"] / med_open, "team": ref, "median": med_open}
            if stale is None:  # stale not known: say nothing about it
                template = (N_("{rep} holds {n:.0f} open opportunities, {ratio:.1f}x the {team} "
                            "median of {median:.0f}."))
            else:  # the one stale definition, over the deals whose state is known
                template = (N_("{rep} holds {n:.0f} open opportunities, {ratio:.1f}x the {team} "
                            "median of {median:.0f}; {stale:.0%} are stale."))
                params["stale"] = stale
            f = Finding(template, params, "open_count", str(r["group"]),
                        float(r["open_count"]), float(med_open), r["open_count"] / med_open)
            out.append(_with(f, *bloated_deals(deals, r["group"])) if deals else f)
    closed = s["won"] + s["lost"]
    judged = s[closed >= min_closed]
    if len(judged) >= 3:
        med_closed = (judged["won"] + judged["lost"]).median()
        med_cycle = judged["median_cycle_days_won"].median()
        for _, r in judged.iterrows():
            c = r["won"] + r["lost"]
            cyc = r["median_cycle_days_won"]
            if pd.notna(cyc) and med_cycle and c > med_closed and cyc >= 1.4 * med_cycle:
                f = Finding(
                    N_("{rep} closed {n:.0f} deals (the {team} median: {median_n:.0f}) but with a "
                    "median cycle of {cycle:.0f} days, {ratio:.1f}x the {team} median of "
                    "{median:.0f}: many deals, slowly."),
                    {"rep": r["group"], "n": c, "team": ref, "median_n": med_closed,
                     "cycle": cyc, "ratio": cyc / med_cycle, "median": med_cycle},
                    "median_cycle_days_won", str(r["group"]), float(cyc), float(med_cycle),
                    cyc / med_cycle,
                )
                if deals:
                    w = won_deals(deals, r["group"])
                    slow = w[(w["closed_at"] - w["created_at"]) / pd.Timedelta(days=1)
                             > med_cycle]
                    f = _with(f, ranked_ids(slow),
                              N_("Won deals with a longer cycle than the team median"))
                out.append(f)
        med_amount = judged["median_won_amount"].median()
        for _, r in judged.iterrows():
            a = r["median_won_amount"]
            if pd.notna(a) and med_amount and r["won"] >= min_closed and a <= 0.5 * med_amount:
                f = Finding(
                    N_("{rep}'s median won deal is {amount:,.0f}, {share:.0%} of the {team} "
                    "median ({median:,.0f}): mostly small deals."),
                    {"rep": r["group"], "amount": a, "share": a / med_amount, "team": ref,
                     "median": med_amount},
                    "median_won_amount", str(r["group"]), float(a), float(med_amount),
                    med_amount / a if a else 10.0,
                )
                if deals:
                    w = won_deals(deals, r["group"])
                    f = _with(f, ranked_ids(w[w["amount"] < med_amount]),
                              N_("Won deals smaller than the team median"))
                out.append(f)
    return sorted(out, key=lambda f: -f.score)


def _by_profile(frame: pd.DataFrame, key: str, profiles: pd.Series) -> pd.DataFrame:
    return frame.assign(profile=frame[key].map(profiles).fillna("default"))


def account_deals(d: DealFrames, role: str, person: str, churned: bool = False,
                  deal_type: str | None = None) -> pd.DataFrame:
    """The deals of the slice won by the period end with the accounts ``person`` acquired
    or manages (``role``: ``acquired_by`` or ``account_manager``; the churned accounts
    only with ``churned``; one deal type only with ``deal_type``). A deal won after the
    period end was still open in it."""
    acc = d.accounts
    if acc is None or not len(acc) or role not in acc or "account_id" not in d.opps:
        return d.opps.iloc[:0]
    mine = acc[acc[role] == person]
    if churned and "churned" in mine:
        mine = mine[mine["churned"].astype(bool)]
    o = d.opps[d.opps["status"].eq("won") & (d.opps["closed_at"] < d.period.end)
               & d.opps["account_id"].isin(mine["account_id"])]
    if deal_type is not None and "deal_type" in o:
        o = o[o["deal_type"] == deal_type]
    return o


def customer_findings(acquirers: pd.DataFrame, managers: pd.DataFrame,
                      profiles: pd.Series, min_accounts: int = 10,
                      deals: DealFrames | None = None) -> list[Finding]:
    """Acquirers whose won customers churn far more often than their peers', and account
    managers whose accounts expand far more (or less) than their peers'. With ``deals``:
    the won deals of the churned accounts, and the won expansion deals of the managed
    accounts, that the report's slice holds."""
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
                        N_("{rep}'s won customers churn: {churn:.0%} of the accounts they "
                        "acquired (a year old or more) stopped buying, against {median:.0%} "
                        "for {profile} peers; average value {value:,.0f}."),
                        {"rep": r["person"], "churn": r["churn_rate"], "median": med,
                         "profile": prof, "value": r["avg_value"]},
                        "churn_rate", str(r["person"]), float(r["churn_rate"]), float(med),
                        r["churn_rate"] / med,
                    ))
                    if deals:
                        out[-1] = _with(out[-1], ranked_ids(account_deals(
                            deals, "acquired_by", r["person"], churned=True)),
                            N_("Won deals with the customers who stopped buying"))
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
                        N_("{rep}'s accounts expand: {value:,.0f} of expansion revenue per "
                        "account, {ratio:.1f}x the {profile} account managers' median of "
                        "{median:,.0f}."),
                        {"rep": r["person"], "value": r["expansion_per_account"],
                         "ratio": r["expansion_per_account"] / med, "profile": prof,
                         "median": med},
                        "expansion_per_account", str(r["person"]),
                        float(r["expansion_per_account"]), float(med),
                        r["expansion_per_account"] / med,
                    ))
                    if deals:
                        out[-1] = _with(out[-1], ranked_ids(account_deals(
                            deals, "account_manager", r["person"], deal_type="expansion")),
                            N_("Won expansion deals with the accounts they manage"))
    return out


def pipeline_findings(summary: pd.DataFrame, pipeline: pd.DataFrame,
                      deals: DealFrames | None = None) -> list[Finding]:
    """Reps who close lost deals only after they went stale ("closed when tired"); with
    ``deals``, those lost deals."""
    out: list[Finding] = []
    p = pipeline[pipeline["lost"] >= 5].dropna(subset=["lost_when_tired_share"])
    if len(p) < 3:
        return out
    med = p["lost_when_tired_share"].median()
    for _, r in p.iterrows():
        share = r["lost_when_tired_share"]
        if share >= 0.3 and share >= 2 * max(med, 0.05):
            out.append(Finding(
                N_("{rep} closed {tired:.0f} of {lost:.0f} lost deals ({share:.0%}) only after "
                "they had gone stale, against a median of {median:.0%}: deals are given up, "
                "not disqualified."),
                {"rep": r["group"], "tired": r["lost_when_tired"], "lost": r["lost"],
                 "share": share, "median": med},
                "lost_when_tired_share", str(r["group"]), float(share), float(med),
                share / max(med, 0.05),
            ))
            if deals:
                from .metrics.pipeline import lost_when_tired

                lost = deals.opps[closed_in_period(deals.opps, deals.period)
                                  & deals.opps["status"].eq("lost")
                                  & deals.opps["owner"].eq(r["group"])]
                tired = lost[lost_when_tired(lost, deals.stale_days, deals.stage_history)]
                out[-1] = _with(out[-1], ranked_ids(tired),
                                N_("Deals lost only after they had gone stale"))
    return out


def funnel_findings(funnel: pd.DataFrame, deals: DealFrames | None = None) -> list[Finding]:
    """The stage where the most deals are lost; with ``deals``, the deals closed in the
    period that were lost there (their furthest stage)."""
    f = funnel.dropna(subset=["conversion_to_next"])
    if f.empty or f["reached"].iloc[0] < 10:
        return []
    worst = f.loc[f["conversion_to_next"].idxmin()]
    nxt = funnel["stage"].iloc[funnel.index.get_loc(worst.name) + 1]
    out = [Finding(
        N_("The funnel leaks most at {stage}: {rate:.0%} of the {reached:.0f} closed deals that "
        "reached it went on to {next}; {lost:.0f} were lost there."),
        {"stage": worst["stage"], "rate": worst["conversion_to_next"],
         "reached": worst["reached"], "next": nxt, "lost": worst["lost_here"]},
        "stage_conversion", str(worst["stage"]), float(worst["conversion_to_next"]),
        float(f["conversion_to_next"].median()), 1.0,
    )]
    if deals and deals.stage_history is not None and len(deals.stage_history):
        from .metrics.conversion import furthest_stage

        stages = [st for st in funnel["stage"] if st != "Won"]
        closed = deals.opps[closed_in_period(deals.opps, deals.period)
                            & deals.opps["status"].eq("lost")]
        far = furthest_stage(deals.stage_history, closed, stages)
        here = closed[far == stages.index(worst["stage"])] if worst["stage"] in stages \
            else closed.iloc[:0]
        return [_with(out[0], ranked_ids(here), N_("Deals lost at this stage"))]
    return out


def findings(analysis, deals: DealFrames | None = None) -> list[Finding]:
    """Every finding of a report, ranked: rep outliers, customer value, pipeline, funnel;
    with ``deals`` (the frames of :func:`reporting.metrics.suite.analyse`), each carries
    the deals it is about."""
    profiles = analysis.summary.set_index("group")["profile"] if "profile" in \
        analysis.summary else pd.Series(dtype=object)
    out = rep_findings(analysis.summary, deals=deals)
    out += customer_findings(analysis.acquirers, analysis.managers, profiles, deals=deals)
    out += pipeline_findings(analysis.summary, analysis.pipeline, deals)
    out += funnel_findings(analysis.funnel, deals)
    # the forward look: the period's attainment, then the quarter's pace while it runs
    # (each rep named once)
    named: set[str] = set()
    for frame in (getattr(analysis, "targets", None), getattr(analysis, "pacing", None)):
        if frame is not None and len(frame):
            new = [f for f in target_findings(frame, deals=deals) if f.subject not in named]
            named |= {f.subject for f in new}
            out += new
    slip = getattr(analysis, "slippage", None)
    if slip is not None and len(slip):
        out += movement_findings(slip, getattr(analysis, "velocity_change", None),
                                 deals=deals)
    return sorted(out, key=lambda f: -f.score)


def target_findings(attainment_frame: pd.DataFrame, max_pace: float = 0.6,
                    max_coverage: float = 1.0, min_deals_short: float = 2.0,
                    top: int = 3, deals: DealFrames | None = None) -> list[Finding]:
    """Reps (or teams, regions) behind pace with too little coverage, from
    :func:`reporting.metrics.targets.attainment`: won value below ``max_pace`` of what the
    quota's pacing expected by the as-of time, and the open pipeline due in the period
    covering less than ``max_coverage`` x the quota still to go (or no such pipeline; for
    a period that is over, the shortfall alone: its pipeline can no longer close the gap).
    Only groups behind pace by at least ``min_deals_short`` of their typical won deals
    (expected to date - won, over ``typical_won``) are judged: one missing deal is not a
    trend (a month's quota of one or two big deals is lumpy, and early in a period the
    pace expects little); where the typical deal is unknown the shortfall is judged
    anyway. The ``top`` furthest behind (lowest pace, then the most deals short), scored
    1 / pace (at most 10). With ``deals``: the group's deals open at the as-of time and due
    by the period's end (as they were then), else its deals won in the period."""
    f = attainment_frame
    if f is None or f.empty:
        return []
    period = f.attrs.get("period", "")
    ok = f["quota"].gt(0) & f["pace"].notna() & (f["pace"] < max_pace)
    # once the period is over, the pipeline can no longer close the gap: the shortfall
    # alone is the finding
    over = f["expected_share"] >= 1
    thin = over | (f["coverage"].isna() & f["coverage_note"].isna()) | (
        f["coverage"] < max_coverage)
    behind = (f["expected_to_date"] - f["won_value"]) / f["typical_won"]
    judged = behind.isna() | (behind >= min_deals_short)
    hits = f[ok & thin & judged].sort_values(["pace", "deals_short"], ascending=[True, False],
                                             kind="stable").head(top)
    out: list[Finding] = []
    for _, r in hits.iterrows():
        params = {"rep": r["group"], "won": r["won_value"], "quota": r["quota"],
                  "period": period, "attainment": r["attainment"], "pace": r["pace"],
                  "method": r["pacing_method"], "remaining": r["remaining"],
                  "pipeline": r["pipeline"], "coverage": r["coverage"]}
        # a whole sentence per case, so that each reads in its language's own order
        if r["expected_share"] >= 1:
            template = N_("{rep} booked {won:,.0f} of a {quota:,.0f} quota for {period} "
                          "({attainment:.0%}), {remaining:,.0f} short.")
        elif pd.isna(r["coverage"]):
            template = N_("{rep} has booked {won:,.0f} of a {quota:,.0f} quota for {period} "
                          "({attainment:.0%}), {pace:.0%} of the {method} pace expected by "
                          "now; no open pipeline is due in the period to make up the "
                          "{remaining:,.0f}.")
        else:
            template = N_("{rep} has booked {won:,.0f} of a {quota:,.0f} quota for {period} "
                          "({attainment:.0%}), {pace:.0%} of the {method} pace expected by "
                          "now; the open pipeline due in the period ({pipeline:,.0f}) covers "
                          "{coverage:.1f}x of the {remaining:,.0f} still to go.")
        pace = float(r["pace"])
        f = Finding(template, params, "quota_attainment", str(r["group"]),
                    float(r["attainment"]), 1.0, 1.0 / max(pace, 0.1))
        if deals:
            f = _with(f, *due_deals(deals, period, attainment_frame.attrs.get("as_of"),
                                    r["group"]))
        out.append(f)
    return out


def due_deals(d: DealFrames, label: str, as_of, rep: str) -> tuple[tuple[str, ...], str]:
    """Behind a quota finding: the rep's deals open at ``as_of`` whose expected close date
    (as known at the period end) is before the end of the quota's period (``label``);
    when there are none, the rep's deals won in that period."""
    from .exceptions import ReportingError
    from .periods import parse_period

    try:
        p = parse_period(label) if label else d.period
    except (ReportingError, ValueError):  # a label we did not make: the report's period
        p = d.period
    when = pd.Timestamp(as_of) if as_of is not None else min(p.end, d.period.end)
    o = d.then if d.then is not None and len(d.then) else d.opps
    mine = o[o["owner"] == rep]
    if "expected_close_date" in mine:
        due = mine[mine["status"].eq("open") & (mine["created_at"] < when)
                   & (mine["expected_close_date"] < p.end)]
        if len(due):
            return ranked_ids(due), N_("Open deals due by the end of the quota period")
    won = mine[mine["status"].eq("won") & p.contains(mine["closed_at"])]
    if len(won):
        return ranked_ids(won), N_("Deals won in the quota period")
    still = mine[mine["status"].eq("open") & (mine["created_at"] < when)]
    return ranked_ids(still), N_("Open deals at the period end")


def movement_findings(slip: pd.DataFrame, velocity_change: pd.DataFrame | None = None,
                      min_deals: int = 10, ratio: float = 2.0,
                      deals: DealFrames | None = None) -> list[Finding]:
    """Pipeline movement findings: a rep whose deals slip, and the factor that moved sales
    velocity.

    Slip (``metrics.movement.slippage``): among the reps with at least ``min_deals`` deals
    whose push figures are known, the rep whose deals are pushed past a quarter end most
    often (``quarter_pushes_per_deal``: the slips that break a quarter's forecast), when that
    is at least ``ratio`` times the median rep's and at least 5 such pushes. Velocity
    (``metrics.velocity.velocity_change``): the group ``all`` when there is one (else the one
    with the largest change), when its change is decomposable: its main factor and effect.
    The slippage table is steadier over a longer window than a month (the demo's slipping
    rep pushes in each quarter's last week): e.g. the 12 months to the period end.

    With ``deals``: the rep's deals pushed past a quarter end (pushed at all, when the
    quarter pushes are not known) in the slippage window; for velocity, the open deals at
    the period's start when the open deals moved it most, else the deals won in the
    period."""
    out: list[Finding] = []
    key = "quarter_pushes_per_deal" if "quarter_pushes_per_deal" in slip else "pushes_per_deal"
    count = "quarter_pushes" if key == "quarter_pushes_per_deal" else "pushes"
    s = slip.dropna(subset=[key]) if len(slip) else slip
    s = s[s["deals"] >= min_deals] if len(s) else s
    if len(s) >= 3:
        med = float(s[key].median())
        top = s.sort_values([key, "group"], ascending=[False, True]).iloc[0]
        per = float(top[key])
        if top[count] >= 5 and per > 0 and per >= ratio * max(med, 0.01):
            params = {"rep": top["group"], "pushes": top["pushes"], "deals": top["deals"],
                      "slips": top[count], "per_deal": per,
                      "ratio": per / max(med, 0.01), "median": med,
                      "twice": top["share_pushed_twice"],
                      "value": top["value_pushed_out"] if pd.notna(top["value_pushed_out"])
                      else 0.0}
            out.append(Finding(
                N_("{rep}'s deals slip: {slips:.0f} of {pushes:.0f} close-date pushes on "
                "{deals:.0f} open deals moved a deal past a quarter end ({per_deal:.2f} a "
                "deal, {ratio:.1f}x the median rep's {median:.2f}); {twice:.0%} of the deals "
                "were pushed twice or more and {value:,.0f} was pushed out of the period."),
                params, key, str(top["group"]), per, med, params["ratio"],
            ))
            sd = deals.slipped if deals else None
            if sd is not None and len(sd):
                col = "quarter_pushes" if key == "quarter_pushes_per_deal" else "pushes"
                mine = sd[(sd["owner"] == top["group"]) & (sd[col] > 0)]
                out[-1] = _with(out[-1], ranked_ids(mine),
                                N_("Deals pushed past a quarter end") if col == "quarter_pushes"
                                else N_("Deals whose close date was pushed"))
    vc = velocity_change
    if vc is not None and len(vc):
        rows = vc[vc["group"] == "all"] if (vc["group"] == "all").any() else vc.reindex(
            vc["change"].abs().sort_values(ascending=False).index)
        rows = rows.dropna(subset=["open_deals_effect"])
        if len(rows):
            r = rows.iloc[0]
            key = {"open deals": "open_deals_effect", "win rate": "win_rate_effect",
                   "average won deal": "avg_won_effect", "cycle days": "cycle_effect"}
            effect = float(r[key[r["main_factor"]]])
            prev, cur = float(r["velocity_prev"]), float(r["velocity"])
            params = {"group": r["group"],
                      "direction": N_p("direction", "rose") if cur >= prev
                      else N_p("direction", "fell"),
                      "prev": prev, "cur": cur, "factor": r["main_factor"],
                      "effect": effect, "share": abs(effect) / max(
                          sum(abs(float(r[k])) for k in key.values()), 1e-12)}
            template = (N_("Sales velocity {direction} from {prev:,.0f} to {cur:,.0f} a day; "
                           "{factor} moved it most ({effect:+,.0f} a day, {share:.0%} of the "
                           "factors' combined effect).") if r["group"] == "all" else
                        N_("In {group}, sales velocity {direction} from {prev:,.0f} to "
                           "{cur:,.0f} a day; {factor} moved it most ({effect:+,.0f} a day, "
                           "{share:.0%} of the factors' combined effect)."))
            out.append(Finding(template, params, "velocity_change", str(r["group"]), cur, prev,
                               params["share"]))
            if deals:
                o = deals.opps
                if r["main_factor"] == "open deals":
                    ids = ranked_ids(o[open_at(o, deals.period.start)])
                    label = N_("Open deals at the start of the period")
                else:
                    ids, label = ranked_ids(won_deals(deals)), N_("Deals won in the period")
                out[-1] = _with(out[-1], ids, label)
    return out
