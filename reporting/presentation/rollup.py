"""The company roll-up on the page: every region a row, the company total last, ratings
as words (a badge with the word, never colour alone), amounts with the currency.

The figures come from :func:`reporting.metrics.rollup.region_rollup` (via
:func:`reporting.kind_context.build_rollup`); this module only formats, translates and
displays them, and attaches the ``metrics.json`` payload.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from IPython.display import display

from .. import plots_trend
from ..i18n import N_
from ..metrics.core import TOO_FEW
from .fragments import fmt_money, fmt_num, fmt_pct, show_chart, show_html, show_note
from .payload import METRICS_MIME, _clean, _records

if TYPE_CHECKING:
    from ..kind_context import KindContext


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def rollup_tables(ctx: KindContext) -> list[dict[str, Any]]:
    """The two tables of the roll-up, formatted: bookings against quota with the next
    period's forecast, and conversion with the open pipeline. Each row: its cells (text,
    rating word or None, a note) and whether it is the company total."""
    t, cur, f = ctx.t, ctx.settings.currency, ctx.frame
    money = lambda v: fmt_money(v, cur)  # noqa: E731

    def name(r) -> str:
        return t("Company total") if r["is_total"] else str(r["region"])

    def cell(text, rating=None, note=None):
        return {"text": text, "rating": rating, "note": note}

    has_fc = "forecast_value" in f and f["forecast_value"].notna().any()
    has_quota = f["quota"].notna().any()
    nxt = ctx.period_title_of(ctx.forecast_period) if ctx.forecast_period else ""
    book_cols = [(N_("Region"), ""), (N_("Bookings (won value)"), "num"), (N_("Deals won"), "num")]
    if has_quota:
        book_cols += [(N_("Quota"), "num"), (N_("Attainment"), "num")]
    if has_fc:
        book_cols += [(t("Forecast for {period}").format(period=nxt), "num")]
    rows_b, rows_c = [], []
    for _, r in f.iterrows():
        cells = [cell(name(r)), cell(money(r["won_value"]), None, concentration_cell(ctx, r)),
                 cell(fmt_num(r["won_count"]))]
        if has_quota:
            cells += [cell(money(r["quota"]) if not _missing(r["quota"]) else t("no quota")),
                      cell(fmt_pct(r["attainment"]), r.get("attainment_rating"))]
        if has_fc:
            lo, hi = r.get("forecast_low"), r.get("forecast_high")
            rng = None if _missing(lo) or _missing(hi) else \
                t("80% range {low} – {high}").format(low=money(lo), high=money(hi))
            cells += [cell(money(r.get("forecast_value")), None, rng)]
        rows_b.append({"total": bool(r["is_total"]), "cells": cells})
        cov = r.get("coverage")
        cov_text = (f"{cov:.1f}×" if not _missing(cov) else
                    t(r.get("coverage_note") or N_("not computable")) if r.get("coverage_note")
                    else "–")
        wr_rating = r.get("win_rate_rating")
        rows_c.append({"total": bool(r["is_total"]), "cells": [
            cell(name(r)),
            cell(fmt_pct(r["win_rate"]), wr_rating,
                 t("{won} of {closed} closed").format(won=fmt_num(r["won_count"]),
                                                      closed=fmt_num(r["closed"]))),
            cell(fmt_num(r["median_cycle_days_won"]), r.get("cycle_rating")),
            cell(money(r["avg_won_amount"])),
            cell(money(r["open_value"]), None,
                 t("{n} open deals").format(n=fmt_num(r["open_count"]))),
            cell(cov_text)]})
    conv_cols = [(N_("Region"), ""), (N_("Win rate"), "num"), (N_("Median cycle (days)"), "num"),
                 (N_("Average won deal"), "num"), (N_("Open pipeline"), "num"), (N_("Coverage"), "num")]
    return [
        {"caption": t("Bookings and targets"),
         "columns": [{"label": t(c), "align": a} for c, a in book_cols], "rows": rows_b},
        {"caption": t("Conversion and pipeline"),
         "columns": [{"label": t(c), "align": a} for c, a in conv_cols], "rows": rows_c},
    ]


def concentration_cell(ctx, r) -> str | None:
    """The note under a bookings figure that rests on one deal
    (:func:`reporting.metrics.core.largest_won`): 'one deal is 81%'; None otherwise."""
    if not r.get("concentrated"):
        return None
    return ctx.t("one deal is {share}").format(share=fmt_pct(r["largest_won_share"]))


def concentration_note(ctx, r, where: str) -> str | None:
    """A sentence for a bookings figure that rests on one deal: how large the deal is,
    its share, and the bookings without it; None when the bookings do not rest on one."""
    if not r.get("concentrated"):
        return None
    cur = ctx.settings.currency
    return ctx.t("{where}: one deal of {amount} is {share} of the bookings of {value}; "
                 "without it {rest}.").format(
        where=where, amount=fmt_money(r["largest_won_amount"], cur),
        share=fmt_pct(r["largest_won_share"]), value=fmt_money(r["won_value"], cur),
        rest=fmt_money(r["won_value"] - r["largest_won_amount"], cur))


def rollup_notes(ctx: KindContext) -> list[str]:
    """What the table rests on, in plain words: the total's definition, where quotas or
    the forecast are missing."""
    t = ctx.t
    notes = [t("The company total is computed over all deals: its win rate is all deals won "
               "over all deals closed, not an average of the regions' rates."),
             t("Open pipeline: the deals open at the period end, as known then. Coverage: the "
               "open value due in the period over the quota still to go.")]
    f = ctx.frame
    if "concentrated" in f:
        regional = set(f.loc[~f["is_total"] & f["concentrated"], "largest_won_id"])
        for _, r in f.iterrows():
            if r["is_total"] and r["largest_won_id"] in regional:
                continue  # the region's note already names the deal the total rests on
            note = concentration_note(
                ctx, r, t("The company") if r["is_total"] else str(r["region"]))
            if note:
                notes.append(note)
    if not f["quota"].notna().any():
        notes.append(t("No quotas for this period: attainment and coverage need "
                       "params/quotas.yaml or an ingested quotas table."))
    if "forecast_value" not in f or not f["forecast_value"].notna().any():
        notes.append(t("No forecast: the store has too little history to forecast the next "
                       "period."))
    if (f["win_rate_rating"] == TOO_FEW).any():
        notes.append(t("'too few deals to judge': the win rate rests on so few closed deals "
                       "that its likely range is too wide to rate."))
    return notes


def show_rollup(ctx: KindContext) -> None:
    """The roll-up's tables, its chart of bookings per region and the notes."""
    show_html("rollup.html.j2", ctx.language, tables=rollup_tables(ctx),
              notes=rollup_notes(ctx))
    if ctx.frame["won_value"].fillna(0).gt(0).any():
        show_chart(plots_trend.bookings_by_region(ctx.frame, ctx.settings.currency,
                                                  ctx.language), ctx)


def summary_line(ctx: KindContext) -> str:
    """One sentence on the company's month: bookings, attainment where a quota exists."""
    t, cur = ctx.t, ctx.settings.currency
    total = ctx.frame[ctx.frame["is_total"]].iloc[0]
    text = t("The company booked {value} from {n} deals in {period}; win rate {rate}.").format(
        value=fmt_money(total["won_value"], cur), n=fmt_num(total["won_count"]),
        period=ctx.period_title, rate=fmt_pct(total["win_rate"]))
    if not _missing(total["attainment"]):
        text += " " + t("That is {share} of the company's quota.").format(
            share=fmt_pct(total["attainment"]))
    return text


def show_summary_line(ctx: KindContext) -> None:
    show_note(ctx, summary_line(ctx))


def kind_payload(ctx: KindContext, rows_key: str) -> dict[str, Any]:
    """``metrics.json`` of a roll-up or trend report: scope, period, the headline (the
    company total, or the last month of the trend) and every row."""
    f = ctx.frame
    if rows_key == "regions":
        head = f[f["is_total"]].iloc[0]
    else:
        head = f.iloc[-1]
    cur = ctx.settings.currency
    units = {"win_rate": "ratio", "median_cycle_days_won": "days", "avg_won_amount": cur,
             "won_amount": cur, "won": "deals", "open_count": "deals", "open_amount": cur}
    values = {"win_rate": head["win_rate"], "median_cycle_days_won": head["median_cycle_days_won"],
              "avg_won_amount": head["avg_won_amount"], "won_amount": head["won_value"],
              "won": head["won_count"], "open_count": head["open_count"],
              "open_amount": head.get("open_value")}
    out = {
        "kind": ctx.kind, "region": ctx.region, "team": ctx.team, "language": ctx.language,
        "period": ctx.period.label,
        "period_start": ctx.period.start.date().isoformat(),
        "period_end": ctx.period.last_day.date().isoformat(),
        "data_as_of": _clean(ctx.data.as_of), "generated_at": ctx.generated_at,
        "currency": cur,
        "headline": {k: {"value": _clean(v), "unit": units[k]} for k, v in values.items()},
        "ratings": {"win_rate": head.get("win_rate_rating")} if rows_key == "regions" else {},
        rows_key: _records(f.drop(columns=["start"], errors="ignore")),
    }
    if ctx.forecast_method:
        out["forecast_method"] = ctx.forecast_method
    if ctx.months:
        out["months"] = [m.label for m in ctx.months]
    return out


def emit_kind_metrics(ctx: KindContext) -> None:
    """Attach the payload (:func:`kind_payload`) to the notebook; the runner writes it to
    ``metrics.json``."""
    key = "regions" if ctx.kind == "rollup" else "months"
    display({METRICS_MIME: kind_payload(ctx, key)}, raw=True)


__all__ = ["emit_kind_metrics", "kind_payload", "rollup_notes", "rollup_tables",
           "show_rollup", "show_summary_line", "summary_line"]
