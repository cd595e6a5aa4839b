"""Table layouts: the compact per-rep table of each section and the customer-value tables
per acquiring rep and account manager (columns, labels, formats, sort order).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from ..i18n import tr
from ..metrics.core import TOO_FEW
from . import fragments
from .fragments import fmt_money, fmt_num, fmt_pct, render_fragment

if TYPE_CHECKING:
    from ..context import ReportContext


def table_html(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15, language: str = "en") -> str:
    """A compact table as an HTML fragment: ``columns`` are (key, label, format) with
    format one of ``text``, ``int``, ``num1``, ``num3``, ``pct``, ``money``; at most
    ``limit`` rows. On a screen it scrolls inside its own box."""
    def text(v) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    fmt = {"text": text, "int": lambda v: fmt_num(v), "num1": lambda v: fmt_num(v, 1),
           "num3": lambda v: fmt_num(v, 3), "pct": fmt_pct, "money": fmt_money}
    rows = [[fmt[f](r[k]) for k, _, f in columns] for _, r in frame.head(limit).iterrows()]
    if language != "en":
        rows = [[tr(v, language) if f == "text" and v in ("good", "watch", "bad",
                 TOO_FEW, SHORT_TOO_FEW) else v for v, (_, _, f) in zip(row, columns, strict=True)]
                for row in rows]
    cols = [{"label": tr(label, language), "align": "" if f == "text" else "num"}
            for _, label, f in columns]
    return render_fragment("table.html.j2", language, columns=cols, rows=rows,
                           caption=tr(caption, language), more=len(frame) > limit,
                           total=len(frame))


def show_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15, language: str = "en") -> None:
    """Display :func:`table_html`."""
    fragments.show_fragment(table_html(frame, columns, caption, limit, language))


#: a rating of too few deals, as a table cell says it
SHORT_TOO_FEW = "too few deals"

REP_TABLES = {
    "conversion": ("Win rate by rep", "win_rate", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"), ("lost", "Lost", "int"),
        ("win_rate", "Win rate", "pct"), ("rating", "Rating", "text"),
        ("created", "Created", "int")]),
    "cycle": ("Cycle length by rep (days)", "won", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("median_cycle_days_won", "Median won", "int"),
        ("mean_cycle_days_won", "Mean won", "int"),
        ("median_cycle_days_lost", "Median lost", "int"),
        ("median_days_to_win", "To win, incl. open", "int")]),
    "deal_size": ("Won deal size by rep", "avg_won_amount", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("avg_won_amount", "Average", "money"), ("median_won_amount", "Median", "money")]),
    "pipeline": ("Open pipeline by rep at period end", "open_count", False, [
        ("group", "Rep", "text"), ("open_count", "Open", "int"),
        ("stale_open_count", "Stale", "int"), ("open_amount", "Value", "money"),
        ("open_amount_unknown", "No amount", "int"),
        ("capacity", "Capacity", "int"), ("load", "Load", "pct"),
        ("bloat_months", "Months", "num1"),
        ("lost_when_tired_share", "Lost tired", "pct")]),
}


def rep_table(ctx: ReportContext, key: str, limit: int = 15) -> str:
    """The compact per-rep table of a section, sorted by its main figure (HTML)."""
    caption, sort, ascending, columns = REP_TABLES[key]
    columns = [c for c in columns if c[0] in ctx.summary.columns]
    frame = ctx.summary.sort_values(sort, ascending=ascending, na_position="last")
    if "rating" in frame:  # the short form, so that a half-width table keeps one line a row
        frame = frame.assign(rating=frame["rating"].replace({TOO_FEW: SHORT_TOO_FEW}))
    return table_html(frame, columns, caption, limit, ctx.language)


def show_rep_table(ctx: ReportContext, key: str, limit: int = 15) -> None:
    """Display :func:`rep_table`."""
    fragments.show_fragment(rep_table(ctx, key, limit))


PERSON_TABLES = {
    "acquirers": ("Customer value by acquiring rep", [
        ("person", "Acquired by", "text"), ("accounts", "Accounts", "int"),
        ("value_per_account_year", "Per account-year", "money"),
        ("first_year_value", "First-year value", "money"),
        ("avg_predicted_value", "Lifetime value", "money"),
        ("churn_rate", "Churned", "pct"), ("total_value", "Revenue to date", "money")]),
    "managers": ("Customer value by account manager", [
        ("person", "Account manager", "text"), ("accounts", "Accounts", "int"),
        ("value_per_account_year", "Per account-year", "money"),
        ("avg_predicted_value", "Lifetime value", "money"),
        ("expansion_per_account", "Expansion / account", "money"),
        ("churn_rate", "Churned", "pct")]),
}


def person_table(ctx: ReportContext, key: str, limit: int = 12) -> str:
    """Customer value per acquiring rep or account manager, highest value per account-year
    first (an age-normalised figure: revenue to date favours old books); HTML, empty when
    there is none."""
    frame = getattr(ctx.a, key)
    if frame.empty:
        return ""
    caption, columns = PERSON_TABLES[key]
    columns = [c for c in columns if c[0] in frame.columns]
    return table_html(frame.sort_values("value_per_account_year", ascending=False), columns,
                      caption, limit, ctx.language)


def show_person_table(ctx: ReportContext, key: str, limit: int = 12) -> None:
    """Display :func:`person_table`."""
    html = person_table(ctx, key, limit)
    if html:
        fragments.show_fragment(html)
