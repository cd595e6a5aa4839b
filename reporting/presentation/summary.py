"""The executive summary: the headline tiles (value, change against the previous period
and last year, rating, and a note with the figures behind it) and the top findings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..i18n import N_, format_date, tr
from ..metrics import pipeline
from ..metrics.core import largest_won
from ..metrics.deltas import changes
from .deals import page_one_findings as deal_findings
from .fragments import fmt_money, fmt_num, fmt_pct, show_html
from .sections import masthead

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
        return fmt_change(vs_prev, kind, ctx.language), fmt_change(vs_ly, kind, ctx.language)

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
         t("time to win counting the deals still open: {n} days").format(n=fmt_num(km))
         if km is not None else t("created to won")),
        (t("Average won deal"), fmt_money(f["avg_won_amount"], cur), "avg_won_amount", "rel",
         r.get("avg_won_amount"), t("median {value}").format(value=fmt_money(f["median_won_amount"], cur))),
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
    for tile_id, (label, value, key, kind, rating, note) in zip(TILE_IDS, tiles, strict=True):
        dp, dy = delta(key, kind)
        out.append({"id": tile_id, "label": label, "value": value, "vs_prev": dp,
                    "vs_ly": dy, "rating": rating, "note": note, "sub": None})
    return out


#: the tiles of :func:`kpis`, in their order
TILE_IDS = ("bookings", "forecast", "win_rate", "lead_conversion", "cycle", "deal_size",
            "account_value", "open_value", "open_per_rep", "stale")


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
    range where the method has one, against the next period's quota where one is set."""
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
    # not the simple rule's figure: it values every open deal, whenever it closes, so
    # beside a one-period forecast it reads as a contradiction ($2.7M against $418.7K on
    # the demo's EMEA); the forecast section compares the methods with their backtests
    return (label, fmt_money(fig["value"], cur), None, "rel", None, "; ".join(parts))


def fmt_change(d: float | None, kind: str, language: str = "en") -> str:
    """A change of :func:`reporting.metrics.deltas.change`: ``+3 pp`` for a difference of
    ratios, ``+12%`` for a relative change, ``–`` when there is none; in Persian with
    Persian digits and the unit in words ("+۳ واحد درصد")."""
    from .. import formatting

    if d is None:
        return "–"
    if language == "en":
        return f"{d * 100:+.0f} pp" if kind == "pp" else f"{d:+.0%}"
    if kind == "pp":
        return f"{formatting.native_digits(f'{d * 100:+.0f}', language)} {tr('pp', language)}"
    return formatting.percent(d, language=language, sign=True)


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


#: worst first: the verdict of a metric judged on two figures is the worse one
_SEVERITY = {"bad": 0, "watch": 1, "good": 2}


def _baseline_text(ctx: ReportContext, name: str, fmt) -> str | None:
    """"good from 27%, bad below 17%" (or "good up to 30 days, bad above 50") for a
    figure with a baseline; None without one."""
    th = ctx.a.thresholds.get(name)
    if th is None:
        return None
    key = (N_("good from {good}, bad below {bad}") if th.higher_is_better
           else N_("good up to {good}, bad above {bad}"))
    return ctx.t(key).format(good=fmt(th.good), bad=fmt(th.bad))


def verdicts(ctx: ReportContext) -> list[dict[str, Any]]:
    """The five metrics' verdicts for page one: label, rating (good / watch / bad, or
    None when the figure has no baseline or too few deals) and the figure with its
    baseline in words."""
    f, t, r = ctx.a.headline["current"], ctx.t, ctx.a.ratings
    cur = ctx.settings.currency

    def days(v):
        return t("{n} days").format(n=fmt_num(v))

    def one(label, name, value, fmt):
        rating = r.get(name)
        base = _baseline_text(ctx, name, fmt)
        if rating not in _SEVERITY:
            why = (t("too few deals to judge") if rating
                   else t("no baseline set") if base is None else t("not rated"))
            return {"label": label, "rating": None, "text": f"{value}; {why}"}
        return {"label": label, "rating": rating, "text": f"{value}; {base}"}

    out = [
        one(t("Conversion"), "win_rate",
            t("win rate {rate}").format(rate=fmt_pct(f.get("win_rate"))), fmt_pct),
        one(t("Sales cycle"), "median_cycle_days_won",
            t("median {n}").format(n=days(f.get("median_cycle_days_won"))), days),
        one(t("Deal size"), "avg_won_amount",
            t("average {value}").format(value=fmt_money(f.get("avg_won_amount"), cur)),
            lambda v: fmt_money(v, cur)),
        one(t("Customer value"), "avg_account_value",
            t("{value} per paying account").format(
                value=fmt_money(f.get("avg_account_value"), cur)),
            lambda v: fmt_money(v, cur)),
    ]
    # open opportunities: the load against capacity and the stale share, the worse of both
    parts, rated = [], []
    for name, value in (("load", t("{share} of capacity").format(share=fmt_pct(f.get("load")))
                         if f.get("load") is not None else None),
                        ("stale_share", t("{share} stale").format(
                            share=fmt_pct(f.get("stale_share")))
                         if f.get("stale_share") is not None else None)):
        if value is None:
            continue
        rating = r.get(name)
        if rating in _SEVERITY:
            rated.append(rating)
            value += f" ({t(rating)})"
        parts.append(value)
    head = t("{n} per rep").format(n=fmt_num(f.get("open_per_rep"), 1))
    out.append({"label": t("Open opportunities"),
                "rating": min(rated, key=_SEVERITY.get) if rated else None,
                "text": "; ".join([head, *parts]) if parts
                else f"{head}; {t('no capacity or activity dates to judge')}"})
    return out


def pipeline_coverage(ctx: ReportContext) -> tuple[float | None, str]:
    """Coverage of the quota still to go by the open pipeline: for a month inside a
    quarter, the open value due this quarter over the quarter's quota not yet booked
    (the reps with a quota); otherwise the open value over the next period's quota."""
    from .forward import forecast_figures

    t = ctx.t
    pacing = getattr(ctx.a, "pacing", None)
    if isinstance(pacing, pd.DataFrame) and len(pacing) and pacing["quota"].notna().any():
        p = pacing[pacing["quota"].notna()]
        remaining = float(p["remaining"].clip(lower=0).sum())
        if remaining > 0:
            cov = float(p["pipeline"].fillna(0).sum()) / remaining
            return cov, t("{x}x coverage of the {quarter} quota still to go").format(
                x=fmt_num(cov, 1), quarter=ctx.period_title_of(ctx.period.quarter()))
    fig = forecast_figures(ctx.a.forecast)
    pipe = (ctx.a.forecast or {}).get("total", {}).get("pipeline")
    if fig.get("quota") and pipe is not None:
        cov = float(pipe) / fig["quota"]
        return cov, t("{x}x coverage of the {period} quota").format(
            x=fmt_num(cov, 1), period=ctx.period_title_of(ctx.period.next()))
    return None, t("no quota to cover")


#: the tiles page one shows, in two rows of four
PAGE_ONE_TILES = ("bookings", "forecast", "open_value", "win_rate", "cycle", "deal_size",
                  "account_value", "open_per_rep")


def page_one_tiles(ctx: ReportContext) -> list[dict[str, Any]]:
    """The tiles of page one: bookings with the count won (and, when they rest on one deal,
    its share: :func:`reporting.metrics.core.largest_won`), the forecast, the open
    pipeline with its coverage, win rate, cycle, deal size, customer value and open deals
    per rep."""
    f, t = ctx.a.headline["current"], ctx.t
    tiles = {k["id"]: k for k in kpis(ctx)}
    tiles["bookings"]["sub"] = t("{n} deals won").format(n=fmt_num(f.get("won")))
    tiles["bookings"]["note"] = t("{share} of the {quota} quota").format(
        share=fmt_pct(f.get("attainment")),
        quota=fmt_money(f["quota"], ctx.settings.currency)) if f.get("quota") \
        else t("no quota set for the period")
    big = largest_won(ctx.opps, ctx.period, None)
    if len(big) and big["concentrated"].iloc[0]:  # the month rests on one deal: say so
        tiles["bookings"]["note"] += "; " + t("one deal is {share}").format(
            share=fmt_pct(big["share"].iloc[0]))
    _, cov = pipeline_coverage(ctx)
    tiles["open_value"]["sub"] = cov
    tiles["account_value"]["rating"] = ctx.a.ratings.get("avg_account_value")
    for k in tiles.values():
        if k["rating"] not in _SEVERITY:
            k["rating"] = None
    return [tiles[k] for k in PAGE_ONE_TILES]


def show_summary(ctx: ReportContext, title: str | None = None,
                 page_findings: list[dict[str, Any]] | None = None) -> None:
    """Page one: the header (company, title, scope, period, as-of date), the tiles, the
    five metrics' verdicts and the top three findings with their deals."""
    show_html("summary.html.j2", ctx.language, head=masthead(ctx, title),
              tiles=page_one_tiles(ctx), verdicts=verdicts(ctx),
              findings=page_findings if page_findings is not None
              else deal_findings(ctx))
