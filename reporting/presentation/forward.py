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
from ..i18n import format_date
from .fragments import fmt_money, fmt_num, fmt_pct, show_chart, show_note
from .tables import show_table

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
    "model": "the win chance of each open deal learned from past months",
    "naive": "open deals x the past year's win rate",
    "weighted": "the CRM's stage probabilities",
    "category": "the deals the reps call commit",
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


def show_targets(ctx: ReportContext) -> None:
    """Attainment of the period's quota per rep and, for a month inside a quarter, the
    quarter's pace and the coverage of what is left of it; a line saying so when no
    quota is set."""
    t, a, cur = ctx.t, ctx.a, ctx.settings.currency
    targets = a.targets
    if not _present(targets) or targets["quota"].isna().all():
        show_note(ctx, t("No quotas for this period: attainment, pacing and coverage need "
                         "params/quotas.yaml or an ingested quotas table."))
        return
    rows = targets[targets["quota"].notna()].sort_values("attainment", na_position="last")
    show_table(rows, [
        ("group", "Rep", "text"), ("won_count", "Won", "int"),
        ("won_value", f"Booked ({cur})", "money"), ("quota", f"Quota ({cur})", "money"),
        ("attainment", "Attainment", "pct")],
        t("Bookings against quota in {period} by rep, lowest attainment first").format(
            period=ctx.period_title), 15, ctx.language)
    pacing = a.pacing
    if _present(pacing) and pacing["quota"].notna().any():
        method = pacing["pacing_method"].dropna()
        shape = (t("shaped by when past quarters booked") if len(method)
                 and method.iloc[0] == "seasonal" else t("spread evenly over the quarter"))
        show_table(pacing[pacing["quota"].notna()].sort_values("pace", na_position="last"), [
            ("group", "Rep", "text"), ("won_value", "Booked", "money"),
            ("quota", "Quota", "money"), ("expected_to_date", "Expected", "money"),
            ("pace", "Pace", "pct"), ("pipeline", "Due", "money"),
            ("coverage", "Coverage", "num1")],
            t("{quarter} to date in {currency}, slowest first: booked against the quarter's "
              "quota and against what it expects by now ({shape}); coverage is the open "
              "value due this quarter over the quota still to go").format(
                quarter=ctx.period_title_of(ctx.period.quarter()), currency=cur,
                shape=shape), 15, ctx.language)
    for note in a.quota_notes:
        show_note(ctx, t("Quotas: {note}").format(note=note))


def show_forecast(ctx: ReportContext) -> None:
    """The forecast of the next period with its 80% range against quota, per rep, and the
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
        show_chart(plots.forecast_by_rep(groups, cur), ctx)
        g = groups.copy()
        g["forecast"] = [forecast_figures(fc, r)["value"] for r in g.to_dict("records")]
        g["naive"] = [forecast_figures(fc, r)["naive_value"] for r in g.to_dict("records")]
        show_table(g.sort_values("forecast", ascending=False, na_position="last"), [
            ("group", "Rep", "text"), ("open_count", "Open", "int"),
            ("forecast", f"Forecast ({cur})", "money"),
            ("naive", f"Simple rule ({cur})", "money"),
            ("weighted_pipeline", f"CRM weighted ({cur})", "money"),
            ("quota", f"Quota ({cur})", "money"), ("coverage", "Coverage", "num1")],
            t("Forecast of {period} by rep").format(period=period), 15, ctx.language)
    if _present(deals):
        cols = [("opportunity_id", "Deal", "text"), ("owner", "Owner", "text"),
                ("stage", "Stage", "text"), ("amount", f"Amount ({cur})", "money"),
                ("p_win", "Chance", "pct"),
                ("expected_value", f"Expected ({cur})", "money"),
                ("age_days", "Age (days)", "int")]
        top = deals.sort_values("expected_value", ascending=False, na_position="last")
        show_table(top, cols, t("Open deals with the largest expected value"), 10,
                   ctx.language)
        flags = [c for c in ("old", "slipping", "inactive") if c in deals]
        risk = deals[deals[flags].fillna(False).astype(bool).any(axis=1)].copy() if flags \
            else deals.iloc[:0]
        if len(risk):
            risk["why"] = [", ".join(t(c) for c in flags if bool(r[c]))
                           for r in risk.to_dict("records")]
            risk = risk.sort_values("amount", ascending=False, na_position="last")
            show_table(risk, [*cols[:5], ("why", "At risk", "text")],
                       t("Open deals most at risk (old, slipping or inactive), largest "
                         "first"), 10, ctx.language)


def show_movement(ctx: ReportContext) -> None:
    """How the pipeline due this quarter moved during the period (a waterfall that
    reconciles), per rep; close-date slippage over the last 12 months; what moved sales
    velocity; why deals were lost."""
    t, a, cur = ctx.t, ctx.a, ctx.settings.currency
    mv = a.movement
    if _present(mv):
        due = format_date((a.movement_close_by - pd.Timedelta(days=1)).date(), ctx.language,
                          ctx.settings.calendar) if a.movement_close_by is not None else "–"
        show_chart(plots.movement_waterfall(mv.iloc[0], cur, title="Pipeline movement"), ctx)
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
            ("group", "Rep", "text"), ("start_value", "Start", "money"),
            ("created", "Created", "money"), ("pulled_in", "Pulled in", "money"),
            ("pushed_out", "Pushed out", "money"), ("won", "Won", "money"),
            ("lost", "Lost", "money"), ("other", "Other", "money"),
            ("end_value", "End", "money")],
            t("Pipeline movement by rep in {currency} (other: amount changes, reopened "
              "deals, deletions and handovers)").format(currency=cur), 15, ctx.language)
    slip = a.slippage
    if _present(slip) and slip["pushes"].notna().any():
        show_chart(plots.slippage_by_rep(slip), ctx)
        # reps with a handful of deals rank high on a ratio: the table shows those the
        # chart judges (5 deals or more)
        show_table(slip[slip["deals"] >= 5], [
            ("group", "Rep", "text"), ("deals", "Deals", "int"), ("pushes", "Pushes", "int"),
            ("pushes_per_deal", "Per deal", "num1"),
            ("share_pushed_twice", "Pushed 2+ times", "pct"),
            ("value_pushed_out", f"Pushed out ({cur})", "money")],
            t("Close-date pushes by rep over the last 12 months, most per deal first"), 12,
            ctx.language)
    vc = a.velocity_change
    if _present(vc):
        show_chart(plots.velocity_effects(vc, cur), ctx)
    teams = a.velocity_by_team
    if _present(teams) and len(teams) >= 2:  # per team, when the scope has several
        show_chart(plots.velocity_effects(teams, cur), ctx)
    lr = a.loss_reasons
    if _present(lr) and lr["reason"].notna().any():
        show_table(lr, [("reason", "Reason", "text"), ("count", "Lost deals", "int"),
                        ("value", f"Value ({cur})", "money"), ("share", "Share", "pct")],
                   t("Why deals were lost in the period ({share} without a reason)").format(
                       share=fmt_pct(_num(lr["share_without_reason"].iloc[0]))), 8,
                   ctx.language)
