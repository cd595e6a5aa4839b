"""Every figure of a report, computed once from a slice of the store: :func:`analyse`.

Pure: frames and typed settings in, an :class:`Analysis` out. Notebooks, the CLI and the
insights read from it; nothing here reads files or draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_
from ..models import DealSizeBander
from ..params import ReportSettings, Threshold
from ..periods import Period
from . import clv, conversion, cycle, deal_mix, pipeline
from .core import TOO_FEW, Note, headline, rate_win_rates, rep_summary, requirements, win_rate
from .filters import won_in_period
from .ratings import profile_thresholds, scope_thresholds, team_profiles


@dataclass
class Analysis:
    """The figures of one report. Frames are tidy; ``headline`` holds scalars for the
    current period, the previous one and the same period last year."""

    period: Period
    summary: pd.DataFrame
    win_rates: pd.DataFrame
    win_rate_trend: pd.DataFrame
    cohorts: pd.DataFrame
    funnel: pd.DataFrame
    leads: pd.DataFrame
    time_to_win: pd.DataFrame
    cycle_trend: pd.DataFrame
    band_edges: dict[str, list[float]]
    band_notes: dict[str, str]
    bands: pd.Series
    band_mix: pd.DataFrame
    open_deals: pd.DataFrame
    aging: pd.DataFrame
    pipeline: pd.DataFrame
    accounts: pd.DataFrame
    acquirers: pd.DataFrame
    managers: pd.DataFrame
    thresholds: dict[str, Threshold]
    profile_weights: dict[str, float]
    headline: dict[str, dict[str, Any]]
    ratings: dict[str, str | None]
    missing: dict[str, str | None]
    findings: list = field(default_factory=list)
    clv_model: dict | None = None
    lead_horizon_days: float | None = None
    as_of: pd.Timestamp | None = None
    # the forward look (issue 15): quota attainment of the period per rep and for the
    # scope, the quarter's pacing (a month inside a quarter), the forecast of the next
    # period (see reporting.context), pipeline movement over the period, close-date
    # slippage over the 12 months to its end, velocity and its change, loss reasons
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    targets_scope: pd.DataFrame = field(default_factory=pd.DataFrame)
    pacing: pd.DataFrame = field(default_factory=pd.DataFrame)
    quota_notes: list = field(default_factory=list)
    forecast: dict | None = None
    movement: pd.DataFrame = field(default_factory=pd.DataFrame)
    movement_by_rep: pd.DataFrame = field(default_factory=pd.DataFrame)
    movement_deals: pd.DataFrame = field(default_factory=pd.DataFrame)
    movement_close_by: pd.Timestamp | None = None
    slippage: pd.DataFrame = field(default_factory=pd.DataFrame)
    slipped_deals: pd.DataFrame = field(default_factory=pd.DataFrame)
    velocity_change: pd.DataFrame = field(default_factory=pd.DataFrame)
    velocity_by_rep: pd.DataFrame = field(default_factory=pd.DataFrame)
    velocity_by_team: pd.DataFrame = field(default_factory=pd.DataFrame)
    loss_reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    loss_reasons_by_team: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the slice's deals as they were at the period end (reporting.history.state_at)
    deals_at_end: pd.DataFrame = field(default_factory=pd.DataFrame)


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else v


def data_end(opps: pd.DataFrame, leads: pd.DataFrame | None = None) -> pd.Timestamp:
    """When the data ends: the latest timestamp of the opportunities and leads."""
    stamps = [opps[c].max() for c in ("created_at", "closed_at", "last_activity_at") if c in opps]
    if leads is not None and len(leads):
        stamps += [leads[c].max() for c in ("created_at", "converted_at") if c in leads]
    stamps = [t for t in stamps if pd.notna(t)]
    return max(stamps) if stamps else pd.Timestamp.now()


def win_rate_trend(opps: pd.DataFrame, as_of: pd.Timestamp, months: int = 12) -> pd.DataFrame:
    """Win rate of deals closed in each of the ``months`` months before ``as_of``, with
    the 95% interval. Columns: month, won, lost, closed, win_rate, ci_low, ci_high."""
    end = pd.Timestamp(as_of.year, as_of.month, 1)
    rows = []
    for i in range(months, 0, -1):
        start = end - pd.DateOffset(months=i)
        p = Period("month", start, start + pd.DateOffset(months=1))
        wr = win_rate(opps, p)
        if len(wr):
            rows.append({"month": start, **wr.drop(columns="group").iloc[0].to_dict()})
        else:
            rows.append({"month": start, "won": 0, "lost": 0, "closed": 0,
                         "win_rate": np.nan, "ci_low": np.nan, "ci_high": np.nan})
    return pd.DataFrame(rows)


def learn_band_edges(opps: pd.DataFrame, period: Period, profiles: pd.Series
                     ) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Deal-size band edges per business profile, learned on the positive amounts of the
    deals won in the 12 months before the period end (the reference window; KMeans works on
    log amounts, so zero-amount wins do not shape the edges, and they fall in the smallest
    band when the edges are applied)."""
    ref = (opps["status"] == "won") & (opps["closed_at"] < period.end) & (
        opps["closed_at"] >= period.end - pd.DateOffset(months=12))
    edges: dict[str, list[float]] = {}
    notes: dict[str, str] = {}
    for prof in sorted(profiles.dropna().unique()):
        amounts = opps.loc[ref & (profiles == prof), "amount"]
        if (amounts > 0).sum() < 3:
            notes[prof] = Note(N_("only {value} won deals in the reference window"),
                               value=int((amounts > 0).sum()))
            continue
        b = DealSizeBander().fit(amounts)
        edges[prof] = [float(e) for e in b.edges_]
        if b.fallback_:  # too few different amounts to learn clusters from: said plainly
            notes[prof] = Note(N_("only {value} different amounts among the won deals: the "
                                  "bands are equal-count groups, not learned from the amounts"),
                               value=int(amounts[amounts > 0].nunique()))
    return edges, notes


def apply_band_edges(amounts: pd.Series, profiles: pd.Series,
                     edges: dict[str, list[float]]) -> pd.Series:
    """Band label of each amount under its profile's fixed edges (None where the profile
    has no edges or the amount is negative or missing). A zero amount is in the smallest
    band: a zero-amount win is a won deal, counted in the bands as it is in the average
    and median deal size."""
    labels = pd.Series(None, index=amounts.index, dtype=object)
    names = np.array(["small", "medium", "large"], dtype=object)
    for prof, e in edges.items():
        mine = (profiles == prof).to_numpy()
        a = amounts[mine].to_numpy(dtype=float)
        idx = np.minimum(np.searchsorted(np.asarray(e), a, side="right"), len(names) - 1)
        lab = names[idx]
        lab[~(np.isfinite(a) & (a >= 0))] = None
        labels[mine] = lab
    return labels


def _bands(opps: pd.DataFrame, period: Period, profiles: pd.Series,
           fixed: dict[str, list[float]] | None = None):
    """Bands of every deal: fixed edges from the run's artifacts when given (so every
    region of a run, and next month's report, use the same edges), else learned here."""
    if fixed:
        won = won_in_period(opps, period)
        notes = {prof: N_("no band edges in the reference for this profile (too few won "
                          "deals in its window): its deals are not banded")
                 for prof in sorted(set(profiles[won].dropna()) - set(fixed))}
        return apply_band_edges(opps["amount"], profiles, fixed), dict(fixed), notes
    edges, notes = learn_band_edges(opps, period, profiles)
    return apply_band_edges(opps["amount"], profiles, edges), edges, notes


def analyse(
    opps: pd.DataFrame,
    period: Period,
    settings: ReportSettings,
    reps: pd.DataFrame | None = None,
    stage_history: pd.DataFrame | None = None,
    leads: pd.DataFrame | None = None,
    revenue: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    available: dict[str, bool] | None = None,
    band_edges: dict[str, list[float]] | None = None,
    predicted_value: pd.Series | None = None,
    clv_model: dict | None = None,
    as_of: pd.Timestamp | None = None,
    deal_history: pd.DataFrame | None = None,
    quotas: pd.DataFrame | None = None,
    scope_level: str | None = None,
    forecast: dict | None = None,
    quota_notes: list[str] | None = None,
) -> Analysis:
    """Compute every figure a report shows for ``period`` from canonical frames.

    ``band_edges`` (profile -> edges) fixes the deal-size bands, e.g. the run's shared
    reference; without it they are learned from this slice. ``as_of`` is when the data
    ends (the latest timestamp in the frames when not given): lead cohorts are mature
    only once it is past their horizon. ``deal_history`` (``opportunity_history`` versions)
    gives the open pipeline (open deals, amounts, stages, owners) as it was at the period
    ends (:func:`reporting.metrics.pipeline.open_deals`), the pipeline movement and the
    close-date slippage. ``quotas`` (canonical ``quotas`` rows, see
    :func:`reporting.metrics.targets.combine_quotas`) gives attainment, pacing and coverage
    per rep and for the scope (``scope_level``: ``region``, ``team`` or None for the whole
    company); ``forecast`` is the next period's forecast prepared by the caller
    (:func:`reporting.context.build`), shown as it is."""
    from ..insights import DealFrames
    from ..insights import findings as make_findings

    p, s = period, settings
    reps = reps if reps is not None else pd.DataFrame(columns=["rep_id", "capacity"])
    available = available or {}
    as_of = as_of if as_of is not None else data_end(opps, leads)
    hist_or_none = stage_history if stage_history is not None and len(stage_history) else None
    # the deals open at the period end, reconstructed once: the rep table, the headline
    # and the pipeline section all count these (with the age limit added below)
    open_at_end = pipeline.open_deals(opps, p.end, hist_or_none, s.stale_days,
                                      deal_history=deal_history)
    summary = rep_summary(opps, p, reps, "owner", s.stale_days, hist_or_none, deal_history,
                          deals=open_at_end)
    summary["profile"] = team_profiles(s, summary["team"]) if "team" in summary else "default"

    # conversion
    wr = win_rate(opps, p, "owner")
    wr["profile"] = wr["group"].map(summary.set_index("group")["profile"]).fillna("default")
    wr["rating"] = None
    for prof, rows in wr.groupby("profile"):
        th = profile_thresholds(s, prof, opps[opps["owner"].isin(rows["group"])], p).get(
            "win_rate")
        if th is not None:
            wr.loc[rows.index, "rating"] = rate_win_rates(rows, th.good, th.bad,
                                                          s.max_interval_width)
    summary["rating"] = summary["group"].map(wr.set_index("group")["rating"])
    hist = stage_history if stage_history is not None else pd.DataFrame(
        columns=["opportunity_id", "stage", "entered_at"])
    # stage order from the deals closed in the period and open at its end: small and recent
    recent = opps[(opps["closed_at"].isna() | (opps["closed_at"] >= p.start))
                  & (opps["created_at"] >= p.end - pd.DateOffset(months=12))]
    stages = (conversion.stage_order(
        hist[hist["opportunity_id"].isin(recent["opportunity_id"])], opps) if len(hist) else [])
    funnel = conversion.stage_funnel(hist, opps, p, stages) if stages else pd.DataFrame(
        columns=["stage", "reached", "conversion_to_next", "lost_here"])
    has_leads = leads is not None and len(leads) > 0
    horizon = conversion.conversion_horizon(leads, as_of) if has_leads else None
    lead_frame = (conversion.lead_conversion(leads, p, "source", horizon, as_of)
                  if has_leads and horizon is not None else pd.DataFrame())

    # cycle: time to win counting open deals, to the horizon of 9 wins in 10
    p90 = pipeline.won_cycle_quantile(opps, p.end, 0.9)
    ttw = cycle.time_to_win(opps, p.end, p90, "owner")
    if len(ttw):
        summary = summary.merge(ttw[["group", "median_days_to_win"]], on="group", how="left")
    else:
        summary["median_days_to_win"] = np.nan

    # deal size
    profiles = team_profiles(s, opps["team"]) if "team" in opps else pd.Series(
        "default", index=opps.index)
    bands, edges, notes = _bands(opps, p, profiles, band_edges)
    mixes = []
    for prof in edges:
        mine = profiles == prof
        m = deal_mix.band_mix(opps[mine], p, bands[mine], "owner", s.deal_mix_target.get(prof))
        if len(m):
            mixes.append(m.assign(profile=prof))
    band_mix = pd.concat(mixes, ignore_index=True) if mixes else pd.DataFrame()

    # open pipeline: one definition of stale (pipeline.open_deals) for every figure
    deals = pipeline.flag_too_old(open_at_end, None if np.isnan(p90) else p90)
    health = pipeline.pipeline_health(opps, p, deals, "owner", stale_days=s.stale_days,
                                      stage_history=hist_or_none)
    summary = summary.merge(
        health[["group", "bloat_months", "stale_share", "lost_when_tired_share"]],
        on="group", how="left")
    if "capacity" in summary:
        summary["load"] = summary["open_count"] / summary["capacity"].where(
            summary["capacity"] > 0)

    # customer value
    # customer value: every customer account in scope (see reporting.metrics.clv)
    if revenue is not None and accounts is not None and len(revenue) and len(accounts):
        acc = clv.account_history(revenue, accounts, p.end)
        if predicted_value is not None:
            acc["predicted_value"] = acc["account_id"].map(predicted_value).fillna(0.0)
        acquirers = clv.value_by_person(acc, "acquired_by")
        managers = clv.value_by_person(acc, "account_manager")
    else:
        acc = acquirers = managers = pd.DataFrame()

    # headline, thresholds, ratings
    thresholds, weights = scope_thresholds(s, opps, p)
    head = {}
    for key, per in (("current", p), ("previous", p.previous()), ("last_year", p.last_year())):
        h = headline(opps, per, reps, None, None, s.stale_days, hist_or_none,
                     deal_history, deals=open_at_end if per == p else None)
        h.update(clv.customer_headline(revenue, accounts, per))
        h["lead_conversion"] = None
        h["lead_conversion_leads"] = None
        if has_leads and horizon is not None:
            lc = conversion.lead_conversion(leads, per, None, horizon, as_of)
            if len(lc):
                h["lead_conversion"] = _num(lc["conversion_rate"].iloc[0])
                h["lead_conversion_leads"] = int(lc["leads"].iloc[0])
                h["lead_conversion_mature"] = bool(lc["mature"].iloc[0])
                h["lead_conversion_mature_on"] = lc["mature_on"].iloc[0]
        head[key] = h
    cur = head["current"]
    cur["lead_conversion_horizon_days"] = horizon
    cur["p90_won_cycle_days"] = None if np.isnan(p90) else p90
    cur["older_than_p90_count"] = int(deals["too_old"].sum()) if len(deals) else 0
    closed_n = health["closed_per_month"].sum()
    cur["bloat_months"] = float(len(deals) / closed_n) if closed_n else None
    lost_n = health["lost"].sum()
    cur["lost_when_tired_share"] = (float(health["lost_when_tired"].sum() / lost_n)
                                    if lost_n and pipeline.has_activity(opps) else None)
    all_ttw = cycle.time_to_win(opps, p.end, p90, None)
    cur["median_days_to_win"] = _num(all_ttw["median_days_to_win"].iloc[0]) if len(all_ttw) \
        else None
    cur["won_by_horizon"] = _num(all_ttw["won_by_horizon"].iloc[0]) if len(all_ttw) else None
    ratings: dict[str, str | None] = {
        name: th.rate(cur.get(name)) for name, th in thresholds.items()
    }
    if cur["win_rate"] is not None:
        lo, hi = cur["win_rate_ci_low"], cur["win_rate_ci_high"]
        if hi - lo > s.max_interval_width:
            ratings["win_rate"] = TOO_FEW

    a = Analysis(
        period=p, summary=summary, win_rates=wr,
        win_rate_trend=win_rate_trend(opps, p.end),
        cohorts=conversion.cohort_win_rate(opps, p.end), funnel=funnel, leads=lead_frame,
        time_to_win=ttw, cycle_trend=cycle.cycle_trend(opps, p.end),
        band_edges=edges, band_notes=notes, bands=bands, band_mix=band_mix,
        open_deals=deals,
        aging=pipeline.aging_heatmap(deals, stages or None, by_stage=hist_or_none is not None),
        pipeline=health,
        accounts=acc, acquirers=acquirers, managers=managers,
        thresholds=thresholds, profile_weights=weights, headline=head, ratings=ratings,
        missing=requirements(available, opps, reps, cur),
    )
    a.clv_model = clv_model
    a.lead_horizon_days = horizon
    a.as_of = as_of
    _forward_look(a, opps, p, reps, deal_history, quotas, scope_level, forecast, quota_notes)
    a.findings = make_findings(a, DealFrames(
        opps=opps, period=p, open_deals=deals, then=a.deals_at_end,
        stage_history=hist_or_none, stale_days=s.stale_days, slipped=a.slipped_deals,
        accounts=acc if len(acc) else None))
    return a


def movement_close_by(period: Period) -> pd.Timestamp:
    """The pipeline a period's movement follows: deals expected to close by the end of the
    quarter the period ends in (a month: its quarter; a quarter or year: its own end)."""
    if period.kind == "month":
        return max(period.end, period.quarter().end)
    return period.end


def _forward_look(a: Analysis, opps: pd.DataFrame, p: Period, reps: pd.DataFrame,
                  deal_history: pd.DataFrame | None, quotas: pd.DataFrame | None,
                  scope_level: str | None, forecast: dict | None,
                  quota_notes: list[str] | None) -> None:
    """Targets, movement, slippage, velocity and reasons of the period (issue 15)."""
    from ..history import state_at
    from . import movement, reasons, targets, velocity

    versions = deal_history if deal_history is not None and len(deal_history) else None
    # the deals as they were at the period end: attainment and coverage never use a state
    # recorded later
    then = state_at(opps, versions, p.end)
    a.deals_at_end = then
    q = quotas if quotas is not None else targets.empty_frame("quotas")
    a.quota_notes = list(quota_notes or [])
    a.targets = targets.attainment(then, q, p, by="rep", as_of=p.end, reps=reps)
    a.targets_scope = targets.attainment(then, q, p, by=scope_level, as_of=p.end, reps=reps)
    a.targets.attrs["period"] = a.targets_scope.attrs["period"] = p.label
    if p.kind == "month" and p.quarter().end > p.end:
        qp = p.quarter()
        a.pacing = targets.attainment(then, q, qp, by="rep", as_of=p.end, reps=reps,
                                      shape="seasonal")
        a.pacing.attrs["period"] = qp.label
    a.forecast = forecast
    close_by = movement_close_by(p)
    a.movement_close_by = close_by
    a.movement = movement.pipeline_movement(opps, versions, p.start, p.end, close_by)
    a.movement_by_rep = movement.pipeline_movement(opps, versions, p.start, p.end, close_by,
                                                   by="rep")
    a.movement_deals = movement.movement_deals(opps, versions, p.start, p.end, close_by)
    year_ago = p.end - pd.DateOffset(months=12)
    a.slipped_deals = movement.slipped_deals(opps, versions, year_ago, p.end)
    a.slippage = movement.slippage(opps, versions, year_ago, p.end, by="owner",
                                   deals=a.slipped_deals)
    a.velocity_change = velocity.velocity_change(opps, p, by=None)
    a.velocity_by_rep = velocity.velocity_change(opps, p, by="rep")
    if "team" in opps:
        a.velocity_by_team = velocity.velocity_change(opps, p, by="team")
    a.loss_reasons = reasons.loss_reasons(opps, p, by=None)
    if "team" in opps:
        a.loss_reasons_by_team = reasons.loss_reasons(opps, p, by="team", top=3)
    cur = a.headline["current"]
    scope = a.targets_scope.iloc[0] if len(a.targets_scope) else None
    cur["quota"] = _num(scope["quota"]) if scope is not None else None
    cur["attainment"] = _num(scope["attainment"]) if scope is not None else None
    if cur["attainment"] is not None and "attainment" in a.thresholds:
        a.ratings["attainment"] = a.thresholds["attainment"].rate(cur["attainment"])
