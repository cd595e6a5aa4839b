"""The forward look: the "Forecast and targets" and "Pipeline movement" sections.

Reads the figures :func:`reporting.metrics.suite.analyse` put on the analysis
(``targets``, ``pacing``, ``forecast``, ``movement``, ``slippage``, ``velocity_change``,
``loss_reasons``); computes nothing but the choice of the columns of the method the
backtest chose.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import plots
from ..i18n import N_, format_date
from .fragments import fmt_money, fmt_num, fmt_pct, show_note
from .layout import chart, full_ax, half_ax, rows_height, show_row
from .tables import show_table, table_html

if TYPE_CHECKING:
    from ..context import ReportContext

#: forecast method -> the columns of its count and value (``reporting.forecast``)
METHOD_COLUMNS = {
    "model": ("expected_won_count", "expected_won_amount"),
    "naive": ("naive_won_count", "naive_won_amount"),
    "weighted": ("weighted_won_count", "weighted_pipeline"),
    "category": ("commit_count", "commit"),
}
#: how the body names each method (plain words; the appendix gives the statistics)
METHOD_NAMES = {
    "model": N_("the win chance of each open deal learned from past months"),
    "naive": N_("open deals x the past year's win rate"),
    "weighted": N_("the CRM's stage probabilities"),
    "category": N_("the deals the reps call commit"),
}


def _present(frame) -> bool:
    return isinstance(frame, pd.DataFrame) and not frame.empty


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def forecast_figures(fc: dict[str, Any] | None, row: dict[str, Any] | None = None
                     ) -> dict[str, float | None]:
    """The chosen method's forecast of one group (default the scope's total): expected
    count and value of the open deals plus the new deals expected to be created and won,
    the 80% range (the model's only), the naive figure for comparison and the quota."""
    if not fc:
        return {}
    r = row if row is not None else fc.get("total") or {}
    method = fc.get("method") or "model"
    c_col, v_col = METHOD_COLUMNS.get(method, METHOD_COLUMNS["model"])
    new_c, new_v = _num(r.get("expected_new_won_count")) or 0.0, _num(
        r.get("expected_new_won_amount")) or 0.0
    count, value = _num(r.get(c_col)), _num(r.get(v_col))
    naive_v = _num(r.get("naive_won_amount"))
    out = {"count": None if count is None else count + new_c,
           "value": None if value is None else value + new_v,
           "naive_value": None if naive_v is None else naive_v + new_v,
           "naive_count": (None if _num(r.get("naive_won_count")) is None
                           else _num(r.get("naive_won_count")) + new_c),
           "new_count": new_c, "new_value": new_v, "quota": _num(r.get("quota")),
           "low": None, "high": None, "low_value": None, "high_value": None}
    if method == "model":
        out.update(low=_num(r.get("low_total")), high=_num(r.get("high_total")))
        lo, hi = _num(r.get("low_amount")), _num(r.get("high_amount"))
        out.update(low_value=None if lo is None else lo + new_v,
                   high_value=None if hi is None else hi + new_v)
    q = out["quota"]
    out["vs_quota"] = out["value"] / q if q and out["value"] is not None else None
    return out


def forecast_chart(ctx: ReportContext) -> str | None:
    """The chart of the next period's forecast per rep (HTML), None without one."""
    fc = ctx.a.forecast
    groups = (fc or {}).get("groups")
    if not _present(groups) or not groups["expected_won_amount"].notna().any():
        return None
    n = int(groups["expected_won_amount"].notna().sum())
    return chart(plots.forecast_by_rep(groups, ctx.settings.currency,
                                       ax=half_ax(rows_height(min(n, 15)))), ctx)


def show_targets(ctx: ReportContext, beside: str | None = None) -> None:
    """Attainment of the period's quota per rep (with ``beside``, a fragment such as
    :func:`forecast_chart`, next to it) and, for a month inside a quarter, the
    quarter's pace and the coverage of what is left of it; a line saying so when no
    quota is set."""
    t, a, cur = ctx.t, ctx.a, ctx.settings.currency
    targets = a.targets
    if not _present(targets) or targets["quota"].isna().all():
        show_note(ctx, t("No quotas for this period: attainment, pacing and coverage need "
                         "params/quotas.yaml or an ingested quotas table."))
        show_row(beside, None)
        return
    rows = targets[targets["quota"].notna()].sort_values("attainment", na_position="last")
    attained = table_html(rows, [
        ("group", N_("Rep"), "text"), ("won_count", N_("Won"), "int"),
        ("won_value", t("Booked ({currency})").format(currency=cur), "money"), ("quota", t("Quota ({currency})").format(currency=cur), "money"),
        ("attainment", N_("Attainment"), "pct")],
        t("Bookings against quota in {period} by rep, lowest attainment first").format(
            period=ctx.period_title), 15, ctx.language)
    paced = None
    pacing = a.pacing
    if _present(pacing) and pacing["quota"].notna().any():
        method = pacing["pacing_method"].dropna()
        shape = (t("shaped by when past quarters booked") if len(method)
                 and method.iloc[0] == "seasonal" else t("spread evenly over the quarter"))
        paced = table_html(pacing[pacing["quota"].notna()].sort_values("pace", na_position="last"), [
            ("group", N_("Rep"), "text"), ("won_value", N_("Booked"), "money"),
            ("quota", N_("Quota"), "money"), ("expected_to_date", N_("Expected"), "money"),
            ("pace", N_("Pace"), "pct"), ("pipeline", N_("Due"), "money"),
            ("coverage", N_("Coverage"), "num1")],
            t("{quarter} to date in {currency}, slowest first: booked against the quarter's "
              "quota and against what it expects by now ({shape}); coverage is the open "
              "value due this quarter over the quota still to go").format(
                quarter=ctx.period_title_of(ctx.period.quarter()), currency=cur,
                shape=shape), 15, ctx.language)
    show_row(attained, beside)
    show_row(paced)
    for note in a.quota_notes:
        show_note(ctx, t("Quotas: {note}").format(note=note))


def show_forecast(ctx: ReportContext, with_chart: bool = True) -> None:
    """The forecast of the next period with its 80% range against quota, per rep (the
    chart too unless ``with_chart`` is False: :func:`show_targets` showed it), and the
    open deals that carry it: the largest expected values and the most at risk."""
    t, fc, cur = ctx.t, ctx.a.forecast, ctx.settings.currency
    if not fc:
        show_note(ctx, t("No forecast: the store has too little closed history to learn "
                         "from."))
        return
    f = forecast_figures(fc)
    period = ctx.period_title_of(fc["period"])
    method = fc.get("method") or "model"
    text = t("Expected bookings in {period}: {value} from about {count} deals, by "
             "{method}.").format(period=period, value=fmt_money(f.get("value"), cur),
                                 count=fmt_num(f.get("count")), method=t(METHOD_NAMES[method]))
    if f.get("low_value") is not None:
        text += " " + t("In 8 months of 10 like this one, bookings land between {low} and "
                        "{high}.").format(low=fmt_money(f["low_value"], cur),
                                          high=fmt_money(f["high_value"], cur))
    if f.get("naive_value") is not None and method != "naive":
        text += " " + t("The simple rule (open deals x the past year's win rate) says "
                        "{naive}.").format(naive=fmt_money(f["naive_value"], cur))
    if f.get("vs_quota") is not None:
        text += " " + t("That is {share} of the {quota} quota.").format(
            share=fmt_pct(f["vs_quota"]), quota=fmt_money(f["quota"], cur))
    show_note(ctx, text)
    deals = fc.get("deals")
    if _present(deals):
        unknown = int((~deals["history_known"].astype(bool)).sum())
        if unknown and "history_known" in deals:
            show_note(ctx, t("{n} of the {open} open deals have no recorded history: for past "
                             "months the forecast learned only from their creation and close "
                             "dates.").format(n=fmt_num(unknown), open=fmt_num(len(deals))))
    groups = fc.get("groups")
    if _present(groups) and groups["expected_won_amount"].notna().any():
        if with_chart:
            show_row(forecast_chart(ctx), None)
        g = groups.copy()
        g["forecast"] = [forecast_figures(fc, r)["value"] for r in g.to_dict("records")]
        g["naive"] = [forecast_figures(fc, r)["naive_value"] for r in g.to_dict("records")]
        show_row(table_html(g.sort_values("forecast", ascending=False, na_position="last"), [
            ("group", N_("Rep"), "text"), ("open_count", N_("Open"), "int"),
            ("forecast", t("Forecast ({currency})").format(currency=cur), "money"),
            ("naive", t("Simple rule ({currency})").format(currency=cur), "money"),
            ("weighted_pipeline", t("CRM weighted ({currency})").format(currency=cur), "money"),
            ("quota", t("Quota ({currency})").format(currency=cur), "money"), ("coverage", N_("Coverage"), "num1")],
            t("Forecast of {period} by rep").format(period=period), 15, ctx.language))
    if _present(deals):
        cols = [("opportunity_id", N_("Deal"), "text"), ("owner", N_("Owner"), "text"),
                ("stage", N_("Stage"), "text"), ("amount", t("Amount ({currency})").format(currency=cur), "money"),
                ("p_win", N_("Chance"), "pct"),
                ("expected_value", t("Expected ({currency})").format(currency=cur), "money"),
                ("age_days", N_("Age (days)"), "int")]
        top = deals.sort_values("expected_value", ascending=False, na_position="last")
        show_table(top, cols, t("Open deals with the largest expected value"), 8,
                   ctx.language)
        flags = [c for c in (N_("old"), N_("slipping"), N_("inactive")) if c in deals]
        risk = deals[deals[flags].fillna(False).astype(bool).any(axis=1)].copy() if flags \
            else deals.iloc[:0]
        if len(risk):
            risk["why"] = [", ".join(t(c) for c in flags if bool(r[c]))
                           for r in risk.to_dict("records")]
            risk = risk.sort_values("amount", ascending=False, na_position="last")
            show_table(risk, [*cols[:5], ("why", N_("At risk"), "text")],
                       t("Open deals most at risk (old, slipping or inactive), largest "
                         "first"), 8, ctx.language)


def show_movement(ctx: ReportContext) -> None:
    """How the pipeline due this quarter moved during the period (a waterfall that
    reconciles), per rep; close-date slippage over the last 12 months; what moved sales
    velocity; why deals were lost."""
    t, a, cur = ctx.t, ctx.a, ctx.settings.currency
    mv = a.movement
    if _present(mv):
        due = format_date((a.movement_close_by - pd.Timedelta(days=1)).date(), ctx.language,
                          ctx.settings.calendar) if a.movement_close_by is not None else "–"
        waterfall = chart(plots.movement_waterfall(mv.iloc[0], cur, title=N_("Pipeline movement"),
                                                   ax=half_ax(3.0)), ctx)
        vc = a.velocity_change
        show_row(waterfall, chart(plots.velocity_effects(vc, cur, ax=half_ax(3.0)), ctx)
                 if _present(vc) else None)
        show_note(ctx, t("Open deals due to close by {due}: how the pipeline at the start of "
                         "the period became the pipeline at its end.").format(due=due))
        if not bool(mv.iloc[0].get("history_known", True)):
            show_note(ctx, t("This store has no deal history: the movement shows what "
                             "creation and close dates tell; pushes and amount changes are "
                             "not known."))
    rep = a.movement_by_rep
    if _present(rep):
        rep = rep.copy()
        # amount changes, reopened and restored deals, deletions and handovers in one
        # column, so each row adds up: start + created + pulled in - pushed out - won -
        # lost + other = end
        rep["other"] = (rep["end_value"] - rep["start_value"] - rep["created"]
                        - rep["pulled_in"] + rep["pushed_out"] + rep["won"] + rep["lost"])
        show_table(rep.sort_values("start_value", ascending=False, na_position="last"), [
            ("group", N_("Rep"), "text"), ("start_value", N_("Start"), "money"),
            ("created", N_("Created"), "money"), ("pulled_in", N_("Pulled in"), "money"),
            ("pushed_out", N_("Pushed out"), "money"), ("won", N_("Won"), "money"),
            ("lost", N_("Lost"), "money"), ("other", N_("Other"), "money"),
            ("end_value", N_("End"), "money")],
            t("Pipeline movement by rep in {currency} (other: amount changes, reopened "
              "deals, deletions and handovers)").format(currency=cur), 15, ctx.language)
    slip = a.slippage
    if _present(slip) and slip["pushes"].notna().any():
        judged = slip[slip["deals"] >= 5]
        drawn = chart(plots.slippage_by_rep(slip, ax=half_ax(rows_height(min(len(judged),
                                                                             15)))), ctx)
        # reps with a handful of deals rank high on a ratio: the table shows those the
        # chart judges (5 deals or more)
        slip_table = (table_html(judged, [
            ("group", N_("Rep"), "text"), ("deals", N_("Deals"), "int"), ("pushes", N_("Pushes"), "int"),
            ("pushes_per_deal", N_("Per deal"), "num1"),
            ("share_pushed_twice", N_("Pushed 2+ times"), "pct"),
            ("value_pushed_out", t("Pushed out ({currency})").format(currency=cur), "money")],
            t("Close-date pushes by rep over the last 12 months, most per deal first"), 12,
            ctx.language))
    else:
        drawn = slip_table = None
    if not _present(mv) and _present(a.velocity_change):
        show_row(chart(plots.velocity_effects(a.velocity_change, cur, ax=half_ax(3.0)), ctx))
    teams = a.velocity_by_team
    by_team = None
    if _present(teams) and len(teams) >= 2:  # per team, when the scope has several
        by_team = chart(plots.velocity_effects(teams, cur, ax=full_ax(3.0)), ctx)
    lr = a.loss_reasons
    reasons = None
    if _present(lr) and lr["reason"].notna().any():
        reasons = table_html(lr, [("reason", N_("Reason"), "text"), ("count", N_("Lost deals"), "int"),
                        ("value", t("Value ({currency})").format(currency=cur), "money"), ("share", N_("Share"), "pct")],
                   t("Why deals were lost in the period ({share} without a reason)").format(
                       share=fmt_pct(_num(lr["share_without_reason"].iloc[0]))), 8,
                   ctx.language)
    show_row(drawn, reasons)
    show_row(slip_table)
    show_row(by_team)
