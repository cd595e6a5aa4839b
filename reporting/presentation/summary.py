"""The executive summary: the headline tiles (value, change against the previous period
and last year, rating, and a note with the figures behind it) and the top findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..i18n import format_date, tr
from ..metrics import pipeline
from ..metrics.deltas import changes
from .fragments import fmt_money, fmt_num, fmt_pct, show_html

if TYPE_CHECKING:
    from ..context import ReportContext


def kpis(ctx: ReportContext) -> list[dict[str, Any]]:
    """The five headline tiles: label, value, change vs previous period and last year,
    rating and a note with the figures behind it."""
    h = ctx.a.headline
    f = h["current"]
    cur = ctx.settings.currency
    r = ctx.a.ratings

    def delta(key: str | None, kind: str) -> tuple[str, str]:
        if key is None:  # a figure without a past (the forecast)
            return "–", "–"
        vs_prev, vs_ly = changes(h, key, kind)
        return fmt_change(vs_prev, kind), fmt_change(vs_ly, kind)

    km = f.get("median_days_to_win")
    bloat = f.get("bloat_months")
    t = ctx.t
    tiles = [
        bookings_tile(ctx),
        forecast_tile(ctx),
        (t("Win rate"), fmt_pct(f["win_rate"]), "win_rate", "pp", r.get("win_rate"),
         t("{won} won / {closed} closed").format(won=f["won"], closed=f["won"] + f["lost"])),
        lead_tile(ctx),
        (t("Median cycle (won)"), t("{n} days").format(n=fmt_num(f["median_cycle_days_won"])),
         "median_cycle_days_won", "rel", r.get("median_cycle_days_won"),
         t("time to win incl. open deals: {n} days (Aalen-Johansen)").format(n=fmt_num(km))
         if km is not None else t("created to won")),
        (t("Average won deal"), fmt_money(f["avg_won_amount"], cur), "avg_won_amount", "rel",
         None, t("median {value}").format(value=fmt_money(f["median_won_amount"], cur))),
        (t("Revenue per account"), fmt_money(f["avg_account_value"], cur), "avg_account_value",
         "rel", None, value_tile_note(f, cur, ctx.language)),
        pipeline_value_tile(ctx),
        (t("Open deals per rep"), fmt_num(f["open_per_rep"], 1), "open_per_rep", "rel",
         r.get("load"),
         (t("{load} of capacity").format(load=fmt_pct(f.get("load")))
          if f.get("load") is not None else t("no capacity: load not rated"))
         + (t("; {months} months of pipeline").format(months=fmt_num(bloat, 1))
            if bloat is not None else "")),
        stale_tile(ctx),
    ]
    out = []
    for label, value, key, kind, rating, note in tiles:
        dp, dy = delta(key, kind)
        out.append({"label": label, "value": value, "vs_prev": dp, "vs_ly": dy,
                    "rating": rating, "note": note})
    return out


def bookings_tile(ctx: ReportContext) -> tuple:
    """Won value and count of the period against the scope's quota (rated against the
    attainment baseline where a quota is set)."""
    f, t, cur = ctx.a.headline["current"], ctx.t, ctx.settings.currency
    won = t("{n} deals won").format(n=fmt_num(f.get("won")))
    if f.get("quota"):
        note = won + t("; {share} of the {quota} quota").format(
            share=fmt_pct(f.get("attainment")), quota=fmt_money(f["quota"], cur))
    else:
        note = won + t("; no quota set for the period")
    return (t("Bookings"), fmt_money(f.get("won_amount"), cur), "won_amount", "rel",
            ctx.a.ratings.get("attainment") if f.get("quota") else None, note)


def forecast_tile(ctx: ReportContext) -> tuple:
    """The next period's expected bookings by the method the backtest chose, with the 80%
    range, against the next period's quota where one is set."""
    from .forward import forecast_figures

    t, cur, fc = ctx.t, ctx.settings.currency, ctx.a.forecast
    label = t("Forecast, {period}").format(period=ctx.period_title_of(ctx.period.next()))
    fig = forecast_figures(fc)
    if not fig or fig.get("value") is None:
        return (label, t("not computable"), None, "rel", None,
                t("too little closed history to forecast") if not fc
                else t("most open deals have no amount"))
    parts = []
    if fig.get("low_value") is not None:
        parts.append(t("8 in 10: {low} to {high}").format(
            low=fmt_money(fig["low_value"], cur), high=fmt_money(fig["high_value"], cur)))
    if fig.get("vs_quota") is not None:
        parts.append(t("{share} of the {quota} quota").format(
            share=fmt_pct(fig["vs_quota"]), quota=fmt_money(fig["quota"], cur)))
    elif fig.get("naive_value") is not None and fc.get("method") != "naive":
        parts.append(t("simple rule {value}").format(value=fmt_money(fig["naive_value"], cur)))
    return (label, fmt_money(fig["value"], cur), None, "rel", None, "; ".join(parts))


def fmt_change(d: float | None, kind: str) -> str:
    """A change of :func:`reporting.metrics.deltas.change`: ``+3 pp`` for a difference of
    ratios, ``+12%`` for a relative change, ``–`` when there is none."""
    if d is None:
        return "–"
    return f"{d * 100:+.0f} pp" if kind == "pp" else f"{d:+.0%}"


def lead_tile(ctx: ReportContext) -> tuple:
    """Lead conversion at the maturity horizon, rated only when the period's cohort is
    mature (see :func:`reporting.metrics.conversion.lead_conversion`)."""
    f, t = ctx.a.headline["current"], ctx.t
    days = f.get("lead_conversion_horizon_days")
    if f.get("lead_conversion_leads") is None:
        note = t("needs the leads table") if not ctx.data.available().get("leads") \
            else t("no leads created in the period")
        return (t("Lead conversion"), "–", "lead_conversion", "pp", None, note)
    if not f.get("lead_conversion_mature"):
        on = format_date(pd.Timestamp(f["lead_conversion_mature_on"]).date(), ctx.language,
                         ctx.settings.calendar)
        return (t("Lead conversion"), "–", "lead_conversion", "pp", None,
                t("not rated yet: the period's leads mature on {date} ({days}-day horizon)")
                .format(date=on, days=fmt_num(days)))
    return (t("Lead conversion"), fmt_pct(f["lead_conversion"]), "lead_conversion", "pp",
            ctx.a.ratings.get("lead_conversion"),
            t("of {n} leads created in the period, converted within {days} days").format(
                n=fmt_num(f["lead_conversion_leads"]), days=fmt_num(days)))


def pipeline_value_tile(ctx: ReportContext) -> tuple:
    """Open pipeline value at period end from the amounts known then; not computable when
    most open deals have none."""
    f, t = ctx.a.headline["current"], ctx.t
    n, unknown = f["open_count"], f.get("open_amount_unknown_count") or 0
    value = fmt_money(f.get("open_amount"), ctx.settings.currency) \
        if f.get("open_amount") is not None else t("not computable")
    note = t("{open} open deals; {unknown} ({share}) without an amount known then").format(
        open=fmt_num(n), unknown=fmt_num(unknown),
        share=fmt_pct(f.get("open_amount_unknown_share")))
    return (t("Open pipeline value"), value, "open_amount", "rel", None, note)


def stale_tile(ctx: ReportContext) -> tuple:
    """Share of open deals gone stale (the one definition), rated against stale_share."""
    f, t = ctx.a.headline["current"], ctx.t
    share = f.get("stale_share")
    if share is None:
        if not f["open_count"]:
            note = t("no open deals")
        elif not (pipeline.has_activity(ctx.opps) or len(ctx.data.stage_history)):
            note = t("no activity dates or stage history to judge it")
        else:
            note = t("{unknown} of {open} open deals: state unknown").format(
                unknown=fmt_num(f.get("stale_unknown_count")), open=fmt_num(f["open_count"]))
        return (t("Stale open deals"), t("not computable"), "stale_share", "pp", None, note)
    known = f["open_count"] - f["stale_unknown_count"]
    note = t("{stale} of {known} open deals without a touch for the stale threshold").format(
        stale=fmt_num(f["stale_open_count"]), known=fmt_num(known))
    if f["stale_unknown_count"]:
        note += t("; {n} unknown").format(n=fmt_num(f["stale_unknown_count"]))
    return (t("Stale open deals"), fmt_pct(share), "stale_share", "pp",
            ctx.a.ratings.get("stale_share"), note)


def value_tile_note(f: dict[str, Any], currency: str, language: str = "en") -> str:
    """The note under the revenue-per-account tile: the basis of the figure (revenue in
    the period per paying account), the churn of year-old customers and the revenue to
    date per customer account, each labelled."""
    if not f.get("customers"):
        return tr("no revenue in scope", language)
    parts = [tr("in the period, {n} paying accounts", language).format(
        n=fmt_num(f.get("paying_accounts")))]
    if f.get("churn_rate") is not None:
        parts.append(tr("{rate} of {n} year-old customers churned", language).format(
            rate=fmt_pct(f["churn_rate"]), n=fmt_num(f.get("mature_accounts"))))
    parts.append(tr("to date {value} per customer", language).format(
        value=fmt_money(f.get("value_to_date_per_account"), currency)))
    return "; ".join(parts)


def findings(ctx: ReportContext, limit: int = 6) -> list[str]:
    """The top findings, ranked; each carries its figures."""
    return [f.render(ctx.language) for f in ctx.a.findings[:limit]]


def show_summary(ctx: ReportContext) -> None:
    show_html("summary.html.j2", ctx.language, tiles=kpis(ctx), insights=findings(ctx))
