"""Table layouts: the compact per-rep table of each section and the customer-value tables
per acquiring rep and account manager (columns, labels, formats, sort order).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from ..i18n import tr
from ..metrics.core import TOO_FEW
from . import fragments
from .fragments import fmt_money, fmt_num, fmt_pct, render_fragment

if TYPE_CHECKING:
    from ..context import ReportContext


def table_html(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15, language: str = "en", ctx: ReportContext | None = None,
               sheet: str | None = None,
               links: tuple[str, dict[str, tuple[str | None, str | None]]] | None = None
               ) -> str:
    """A compact table as an HTML fragment: ``columns`` are (key, label, format) with
    format one of ``text``, ``int``, ``num1``, ``num3``, ``pct``, ``money``; at most
    ``limit`` rows. On a screen it scrolls inside its own box. ``links`` (a column key and,
    per value of that column, the anchors of its deal list on a screen and in the PDF:
    :func:`reporting.presentation.deals.row_links`) makes those cells links
    (:func:`_linked`). The whole table (every row) is also kept on ``ctx.tables`` for
    report.xlsx, as the sheet ``sheet`` (default: the caption); without ``ctx``, on the
    report context built last (:func:`reporting.context.active`) when it is in the same
    language."""
    if ctx is None:
        from ..context import active

        ctx = active()
        ctx = ctx if ctx is not None and ctx.language == language else None
    if ctx is not None:
        register_table(ctx, frame, columns, caption, sheet)
    def text(v) -> str:
        from ..textsafe import clipped

        # long CRM text clipped: the table shows it, report.xlsx keeps it whole
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else clipped(str(v))

    fmt = {"text": text, "int": lambda v: fmt_num(v), "num1": lambda v: fmt_num(v, 1),
           "num3": lambda v: fmt_num(v, 3), "pct": fmt_pct, "money": fmt_money}
    rows = [[fmt[f](r[k]) for k, _, f in columns] for _, r in frame.head(limit).iterrows()]
    if links is not None:
        col, anchors = links
        j = next((i for i, (k, _, _) in enumerate(columns) if k == col), None)
        if j is not None:
            for row, (_, r) in zip(rows, frame.head(limit).iterrows(), strict=True):
                row[j] = _linked(row[j], anchors.get(str(r[col])))
    if language != "en":
        rows = [[tr(v, language) if f == "text" and v in ("good", "watch", "bad",
                 TOO_FEW, SHORT_TOO_FEW) else v for v, (_, _, f) in zip(row, columns, strict=True)]
                for row in rows]
    cols = [{"label": tr(label, language), "align": "" if f == "text" else "num"}
            for _, label, f in columns]
    return render_fragment("table.html.j2", language, columns=cols, rows=rows,
                           caption=tr(caption, language), more=len(frame) > limit,
                           total=len(frame))


def _linked(text: str, anchors: tuple[str | None, str | None] | None):
    """A table cell's (clipped) text as a link to its deal list: on a screen to the list
    of ``anchors[0]``, in the PDF to ``anchors[1]`` (a flagged row's list, or the finding's
    that stands in for it; both shown bold) and plain text where the PDF has no list. Escaped:
    CRM text never becomes markup; the anchors are
    :func:`reporting.insights.deal_list_key`'s ASCII ids."""
    if not anchors or not anchors[0]:
        return text
    screen, printed = anchors
    if screen == printed:
        return Markup('<a class="row-link flagged" href="#{}">{}</a>').format(screen, text)
    if printed:
        return Markup('<a class="row-link flagged screen-only" href="#{}">{}</a>'
                      '<a class="row-link flagged print-only" href="#{}">{}</a>').format(
            screen, text, printed, text)
    return Markup('<a class="row-link screen-only" href="#{}">{}</a>'
                  '<span class="print-only">{}</span>').format(screen, text, text)


def show_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15, language: str = "en", ctx: ReportContext | None = None,
               sheet: str | None = None) -> None:
    """Display :func:`table_html`."""
    fragments.show_fragment(table_html(frame, columns, caption, limit, language, ctx, sheet))


#: a rating of too few deals, as a table cell says it
SHORT_TOO_FEW = "too few deals"


#: report.xlsx's sheet names of the tables shown with a caption that holds figures (the
#: English caption contains the key)
CAPTION_SHEETS = (
    ("Bookings against quota", "Quota attainment"), (" to date in ", "Quarter pace"),
    ("Open deals with the largest expected value", "Largest expected deals"),
    ("Open deals most at risk", "Deals at risk"), ("Forecast of ", "Forecast by rep"),
    ("Pipeline movement by rep", "Movement by rep"),
    ("Close-date pushes by rep", "Close-date pushes"), ("Why deals were lost", "Loss reasons"),
    ("Forecast backtest", "Forecast backtest"),
)


def short_name(caption: str, language: str = "en") -> str:
    """A sheet name for a table's caption: the name :data:`CAPTION_SHEETS` gives it (in
    ``language``), else its words before the first comma, colon, semicolon or parenthesis,
    cut at a word to 31 characters ("Bookings against quota" -> "Quota attainment")."""
    for key, name in CAPTION_SHEETS:
        if key in caption:
            return tr(name, language)
    head = re.split(r"[,،(:;؛]", caption, maxsplit=1)[0].strip() or caption
    while len(head) > 31 and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head


def register_table(ctx: ReportContext, frame: pd.DataFrame, columns: list[tuple[str, str, str]],
                   caption: str = "", sheet: str | None = None) -> None:
    """Keep a table of the report on ``ctx.tables`` (in the order shown) for report.xlsx:
    its sheet name and caption in the report's language, the shown columns with their
    translated labels and formats, and every row (not only those shown)."""
    if not hasattr(ctx, "tables"):  # a context made before report.xlsx existed (pickled)
        ctx.tables = []
    keys = [k for k, _, _ in columns if k in frame.columns]
    cols = [(k, tr(label, ctx.language), f) for k, label, f in columns if k in frame.columns]
    data = frame[keys].reset_index(drop=True).copy()
    if ctx.language != "en":
        for k, _, f in cols:
            if f == "text":
                data[k] = data[k].map(lambda v: tr(v, ctx.language) if v in (
                    "good", "watch", "bad", "too few deals to judge") else v)
    shown = tr(caption, ctx.language)
    ctx.tables.append({"sheet": tr(sheet, ctx.language) if sheet else short_name(
        caption if ctx.language == "en" else shown, ctx.language),
                       "caption": tr(caption, ctx.language), "columns": cols, "frame": data})


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


#: the report.xlsx sheet of each table (a sheet name holds at most 31 characters)
REP_SHEETS = {"conversion": "Win rate by rep", "cycle": "Cycle by rep",
              "deal_size": "Deal size by rep", "pipeline": "Pipeline by rep",
              "acquirers": "Value by acquirer", "managers": "Value by manager"}


def rep_table(ctx: ReportContext, key: str, limit: int = 15) -> str:
    """The compact per-rep table of a section, sorted by its main figure (HTML): each
    rep's name links to the deals behind the row (:func:`deals.row_links`), and the links
    to the deal lists of its rows flagged bad or watch follow it."""
    from .deals import row_links, row_links_html

    caption, sort, ascending, columns = REP_TABLES[key]
    columns = [c for c in columns if c[0] in ctx.summary.columns]
    frame = ctx.summary.sort_values(sort, ascending=ascending, na_position="last")
    if "rating" in frame:  # the short form, so that a half-width table keeps one line a row
        frame = frame.assign(rating=frame["rating"].replace({TOO_FEW: SHORT_TOO_FEW}))
    return table_html(frame, columns, caption, limit, ctx.language, ctx=ctx,
                      sheet=REP_SHEETS[key], links=("group", row_links(ctx, key))
                      ) + row_links_html(ctx, key)


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
    there is none. Each person's name links to the won deals with their accounts, and
    the links to the lists of the rows a finding rates bad or watch follow it."""
    from .deals import row_links, row_links_html

    frame = getattr(ctx.a, key)
    if frame.empty:
        return ""
    caption, columns = PERSON_TABLES[key]
    columns = [c for c in columns if c[0] in frame.columns]
    return table_html(frame.sort_values("value_per_account_year", ascending=False), columns,
                      caption, limit, ctx.language, ctx=ctx, sheet=REP_SHEETS[key],
                      links=("person", row_links(ctx, key))) + row_links_html(ctx, key)


def show_person_table(ctx: ReportContext, key: str, limit: int = 12) -> None:
    """Display :func:`person_table`."""
    html = person_table(ctx, key, limit)
    if html:
        fragments.show_fragment(html)
