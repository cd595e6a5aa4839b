"""The trend report on the page: the months' small multiples (bookings, deals won, win
rate, cycle, average deal, open pipeline at month end) and their table, in the report's
language. The figures come from :func:`reporting.metrics.trend.monthly_series` (via
:func:`reporting.kind_context.build_trend`); which of them are as known at each month's
end is said in that module and on the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import plots_trend
from ..i18n import N_
from .fragments import fmt_money, fmt_num, fmt_pct, show_html, show_note
from .layout import chart, half_ax, show_row
from .rollup import concentration_cell, concentration_note

if TYPE_CHECKING:
    from ..kind_context import KindContext


def trend_table(ctx: KindContext) -> tuple[list[dict[str, str]], list[list[str]]]:
    """The table's columns and formatted rows, one per month."""
    t, cur = ctx.t, ctx.settings.currency
    cols = [(N_("Month"), ""), (N_("Bookings"), "num"), (N_("Deals won"), "num"), (N_("Win rate"), "num"),
            (N_("Cycle (days)"), "num"), (N_("Avg won deal"), "num"), (N_("Open deals"), "num"),
            (N_("Open pipeline"), "num")]
    rows = []
    for m, (_, r) in zip(ctx.months, ctx.frame.iterrows(), strict=True):
        big = concentration_cell(ctx, r)
        rows.append([ctx.period_title_of(m), (fmt_money(r["won_value"], cur), big),
                     fmt_num(r["won_count"]), fmt_pct(r["win_rate"]),
                     fmt_num(r["median_cycle_days_won"]), fmt_money(r["avg_won_amount"], cur),
                     fmt_num(r["open_count"]), fmt_money(r["open_value"], cur)])
    return [{"label": t(c), "align": a} for c, a in cols], rows


def show_trend_table(ctx: KindContext) -> None:
    """The month-by-month table (the open figures at each month's end)."""
    cols, rows = trend_table(ctx)
    table = {"cls": "trend",
             "caption": ctx.t("Month by month (open deals and pipeline at each month's end)"),
             "columns": cols,
             "rows": [{"total": False, "cells": [
                 {"text": c[0], "note": c[1]} if isinstance(c, tuple) else {"text": c}
                 for c in row]} for row in rows]}
    show_html("rollup.html.j2", ctx.language, tables=[table], notes=[])


def summary_line(ctx: KindContext) -> str:
    """Bookings over the months, the best and the weakest month."""
    f, cur = ctx.frame, ctx.settings.currency
    best, worst = f["won_value"].idxmax(), f["won_value"].idxmin()
    return ctx.t("Over {n} months {scope} booked {value} from {deals} deals; the best "
                 "month was {best} ({best_value}), the weakest {worst} ({worst_value}).").format(
        n=fmt_num(len(f)), scope=ctx.scope, value=fmt_money(f["won_value"].sum(), cur),
        deals=fmt_num(f["won_count"].sum()), best=ctx.period_title_of(ctx.months[best]),
        best_value=fmt_money(f.loc[best, "won_value"], cur),
        worst=ctx.period_title_of(ctx.months[worst]),
        worst_value=fmt_money(f.loc[worst, "won_value"], cur))


def best_month_note(ctx: KindContext) -> str | None:
    """When the best month's bookings rest on one deal (the spike a reader sees in the
    bookings and average-deal lines), the sentence that says so; the table notes every
    such month under its bookings."""
    f = ctx.frame
    if "concentrated" not in f or not len(f):
        return None
    best = f["won_value"].idxmax()
    return concentration_note(ctx, f.loc[best], ctx.period_title_of(ctx.months[best]))


def show_trend(ctx: KindContext) -> None:
    """The summary line (and whether the best month rests on one deal), the charts and how
    to read them, then the table."""
    show_note(ctx, " ".join(s for s in (summary_line(ctx), best_month_note(ctx)) if s))
    show_note(ctx, ctx.t(
        "How to read: each point is one month. Bookings, win rate, cycle and deal size "
        "count the deals closed in the month as the CRM records them today; the open "
        "pipeline is what was open at the month's end, as it was known then."))
    # the six panels as charts of half the page's width, two a row: on a phone each row
    # becomes one chart the screen's width (legible), in print they sit side by side
    panels = plots_trend.PANELS
    for pair in zip(panels[::2], panels[1::2], strict=False):
        items = []
        for col, title, unit in pair:
            ax = half_ax(2.3)
            plots_trend.trend_line(ctx.frame, col, title, unit, ctx.settings.currency,
                                   ctx.language, ax=ax, calendar=ctx.settings.calendar)
            items.append(chart(ax, ctx, alt=title))
        show_row(*items)
    show_trend_table(ctx)


__all__ = ["show_trend", "show_trend_table", "summary_line", "trend_table"]
