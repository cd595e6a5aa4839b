"""Table layouts: the compact per-rep table of each section and the customer-value tables
per acquiring rep and account manager (columns, labels, formats, sort order).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from ..crm_terms import crm_term
from ..formatting import currency_words
from ..i18n import N_, tr
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
        rows = [[_translated(v, k, f, language) for v, (k, _, f) in zip(row, columns, strict=True)]
                for row in rows]
    cols = [{"label": currency_words(tr(label, language), None, language),
             "align": "" if f == "text" else "num"} for _, label, f in columns]
    return render_fragment("table.html.j2", language, columns=cols, rows=rows,
                           caption=currency_words(tr(caption, language), None, language),
                           more=len(frame) > limit, total=len(frame))


#: columns holding a deal id, shown as the CRM writes it (its digits too)
ID_COLUMNS = ("opportunity_id",)


def _translated(v, key: str, f: str, language: str):
    """A shown text cell in ``language``: our ratings through the catalogue, the CRM's
    standard stages and loss reasons translated (:func:`reporting.crm_terms.crm_term`),
    a deal id with its own digits; names as they are."""
    if f != "text":
        return v
    if key in ID_COLUMNS:
        from .deals import latin_digits

        return latin_digits(v, language)
    return cell_word(v, language)


def cell_word(v, language: str):
    """A text cell's value in ``language`` (the page and report.xlsx alike): our ratings
    through the catalogue, the CRM's standard stages and loss reasons translated
    (:func:`reporting.crm_terms.crm_term`), anything else (names) as it is."""
    if v in ("good", "watch", "bad", TOO_FEW, SHORT_TOO_FEW):
        return tr(v, language)
    return crm_term(v, language)


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
SHORT_TOO_FEW = N_("too few deals")


#: report.xlsx's sheet names of the tables shown with a caption that holds figures (the
#: English caption contains the key)
CAPTION_SHEETS = (
    ("Bookings against quota", N_("Quota attainment")), (" to date in ", N_("Quarter pace")),
    (N_("Open deals with the largest expected value"), N_("Largest expected deals")),
    ("Open deals most at risk", N_("Deals at risk")), ("Forecast of ", N_("Forecast by rep")),
    ("Pipeline movement by rep", N_("Movement by rep")),
    ("Close-date pushes by rep", N_("Close-date pushes")), ("Why deals were lost", N_("Loss reasons")),
    (N_("Forecast backtest"), N_("Forecast backtest")),
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
                data[k] = data[k].map(lambda v: cell_word(v, ctx.language))
        cols = [(k, currency_words(label, None, ctx.language), f) for k, label, f in cols]
    shown = currency_words(tr(caption, ctx.language), None, ctx.language)
    ctx.tables.append({"sheet": tr(sheet, ctx.language) if sheet else short_name(
        caption if ctx.language == "en" else shown, ctx.language),
                       "caption": shown, "columns": cols, "frame": data})


REP_TABLES = {
    "conversion": (N_("Win rate by rep"), "win_rate", False, [
        ("group", N_("Rep"), "text"), ("won", N_("Won"), "int"), ("lost", N_("Lost"), "int"),
        ("win_rate", N_("Win rate"), "pct"), ("rating", N_("Rating"), "text"),
        ("created", N_("Created"), "int")]),
    "cycle": (N_("Cycle length by rep (days)"), "won", False, [
        ("group", N_("Rep"), "text"), ("won", N_("Won"), "int"),
        ("median_cycle_days_won", N_("Median won"), "int"),
        ("mean_cycle_days_won", N_("Mean won"), "int"),
        ("median_cycle_days_lost", N_("Median lost"), "int"),
        ("median_days_to_win", N_("To win, incl. open"), "int")]),
    "deal_size": (N_("Won deal size by rep"), "avg_won_amount", False, [
        ("group", N_("Rep"), "text"), ("won", N_("Won"), "int"),
        ("avg_won_amount", N_("Average"), "money"), ("median_won_amount", N_("Median"), "money")]),
    "pipeline": (N_("Open pipeline by rep at period end"), "open_count", False, [
        ("group", N_("Rep"), "text"), ("open_count", N_("Open"), "int"),
        ("stale_open_count", N_("Stale"), "int"), ("open_amount", N_("Value"), "money"),
        ("open_amount_unknown", N_("No amount"), "int"),
        ("capacity", N_("Capacity"), "int"), ("load", N_("Load"), "pct"),
        ("bloat_months", N_("Months"), "num1"),
        ("lost_when_tired_share", N_("Lost tired"), "pct")]),
}


#: the report.xlsx sheet of each table (a sheet name holds at most 31 characters)
REP_SHEETS = {"conversion": N_("Win rate by rep"), "cycle": N_("Cycle by rep"),
              "deal_size": N_("Deal size by rep"), "pipeline": N_("Pipeline by rep"),
              "acquirers": N_("Value by acquirer"), "managers": N_("Value by manager")}


#: rows a rep table and a person table show (report.xlsx holds every row)
REP_TABLE_ROWS, PERSON_TABLE_ROWS = 15, 12


def table_frame(ctx: ReportContext, key: str) -> pd.DataFrame:
    """The rows of a rep table (``conversion``, ``cycle``, ``deal_size``, ``pipeline``) or
    a person table (``acquirers``, ``managers``) in the order the table shows them: by
    its main figure, missing last; person tables by value per account-year, highest
    first."""
    if key in PERSON_TABLES:
        frame = getattr(ctx.a, key, None)
        if not isinstance(frame, pd.DataFrame) or frame.empty \
                or "value_per_account_year" not in frame:
            return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()
        return frame.sort_values("value_per_account_year", ascending=False)
    _, sort, ascending, _ = REP_TABLES[key]
    s = ctx.summary
    return s.sort_values(sort, ascending=ascending, na_position="last") if sort in s else s


def rep_table(ctx: ReportContext, key: str, limit: int = REP_TABLE_ROWS) -> str:
    """The compact per-rep table of a section, sorted by its main figure (HTML): each
    rep's name links to the deals behind the row (:func:`deals.row_links`), and the links
    to the deal lists of its rows flagged bad or watch follow it."""
    from .deals import row_links, row_links_html

    caption, _, _, columns = REP_TABLES[key]
    columns = [c for c in columns if c[0] in ctx.summary.columns]
    frame = table_frame(ctx, key)
    if "rating" in frame:  # the short form, so that a half-width table keeps one line a row
        frame = frame.assign(rating=frame["rating"].replace({TOO_FEW: SHORT_TOO_FEW}))
    return table_html(frame, columns, caption, limit, ctx.language, ctx=ctx,
                      sheet=REP_SHEETS[key], links=("group", row_links(ctx, key))
                      ) + row_links_html(ctx, key)


def show_rep_table(ctx: ReportContext, key: str, limit: int = REP_TABLE_ROWS) -> None:
    """Display :func:`rep_table`."""
    fragments.show_fragment(rep_table(ctx, key, limit))


PERSON_TABLES = {
    "acquirers": (N_("Customer value by acquiring rep"), [
        ("person", N_("Acquired by"), "text"), ("accounts", N_("Accounts"), "int"),
        ("value_per_account_year", N_("Per account-year"), "money"),
        ("first_year_value", N_("First-year value"), "money"),
        ("avg_predicted_value", N_("Lifetime value"), "money"),
        ("churn_rate", N_("Churned"), "pct"), ("total_value", N_("Revenue to date"), "money")]),
    "managers": (N_("Customer value by account manager"), [
        ("person", N_("Account manager"), "text"), ("accounts", N_("Accounts"), "int"),
        ("value_per_account_year", N_("Per account-year"), "money"),
        ("avg_predicted_value", N_("Lifetime value"), "money"),
        ("expansion_per_account", N_("Expansion / account"), "money"),
        ("churn_rate", N_("Churned"), "pct")]),
}


def person_table(ctx: ReportContext, key: str, limit: int = PERSON_TABLE_ROWS) -> str:
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
    return table_html(table_frame(ctx, key), columns,
                      caption, limit, ctx.language, ctx=ctx, sheet=REP_SHEETS[key],
                      links=("person", row_links(ctx, key))) + row_links_html(ctx, key)


def show_person_table(ctx: ReportContext, key: str, limit: int = PERSON_TABLE_ROWS
                      ) -> None:
    """Display :func:`person_table`."""
    html = person_table(ctx, key, limit)
    if html:
        fragments.show_fragment(html)
