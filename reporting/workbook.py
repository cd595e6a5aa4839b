"""report.xlsx: every table of a report and its deal lists, one sheet each (XlsxWriter).

Pure: :class:`Sheet` frames in, one file out. Numbers stay numbers with a format of their
kind (amounts in the reporting currency, rates as percentages, dates as dates), each sheet
has a frozen header row with an autofilter and column widths fitted to its content, and a
first "Contents" sheet links to every sheet with its caption.

CRM text is hostile: every text cell is written as a string (``write_string``; the
workbook is opened with ``strings_to_formulas=False, strings_to_urls=False``, so no text
ever becomes a formula or a link), and text that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return, see
:data:`reporting.textsafe.FORMULA_START`) gets Excel's quote prefix, so that editing the
cell keeps it text. Sheet names are sanitised (:func:`sheet_names`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: the notebook output holding the sheets (``presentation.payload.workbook_payload``)
WORKBOOK_MIME = "application/vnd.crm-report.workbook+json"
#: text a spreadsheet reads as a formula (as ``reporting.textsafe.FORMULA_START``)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: column kinds (the formats of ``presentation.tables.show_table``, plus ``date``) ->
#: Excel number formats; ``money`` gets the currency code (see :func:`number_format`)
NUMBER_FORMATS = {"int": "#,##0", "num1": "#,##0.0", "num3": "0.000", "pct": "0%",
                  "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
KINDS = ("text", "money", *NUMBER_FORMATS)
MAX_NAME = 31  # characters in an Excel sheet name
_BAD_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
MAX_WIDTH, MIN_WIDTH = 60, 6


@dataclass
class Sheet:
    """One sheet: a name (sanitised when written), the frame, its columns as (key, label,
    kind) with kind one of :data:`KINDS` (the frame's other columns are left out), and a
    caption for the contents sheet."""

    name: str
    frame: pd.DataFrame
    columns: Sequence[tuple[str, str, str]] = field(default_factory=list)
    caption: str = ""


def sheet_names(names: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel-safe, unique sheet names: no ``[]:*?/\\`` or control characters, no leading
    or trailing apostrophe, at most 31 characters, never empty, never ``History``, and
    unique case-insensitively (a repeated name gets `` (2)``, `` (3)``, ...); ``reserved``
    names are taken already."""
    taken = {n.casefold() for n in reserved}
    out = []
    for raw in names:
        base = _BAD_NAME.sub(" ", str(raw or ""))
        base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
        if base.casefold() == "history":
            base = "History (table)"
        base = base[:MAX_NAME].rstrip().rstrip("'").rstrip() or "Sheet"
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[:MAX_NAME - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(name.casefold())
        out.append(name)
    return out


def number_format(kind: str, currency: str = "") -> str | None:
    """The Excel number format of a column kind; ``money`` shows the currency code
    (``[$USD] #,##0``); None for text."""
    if kind == "money":
        code = re.sub(r"[^A-Za-z]", "", currency or "")[:3]
        return f"[${code}] #,##0" if code else "#,##0"
    return NUMBER_FORMATS.get(kind)


def _missing(v: Any) -> bool:
    import pandas as pd

    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _when(v: Any) -> datetime | None:
    import pandas as pd

    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    try:
        t = pd.Timestamp(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(t) else t.tz_localize(None).to_pydatetime() if t.tzinfo else \
        t.to_pydatetime()


def _shown_width(v: Any, kind: str) -> int:
    """The characters a present value ``v`` shows (the caller counts a missing one as 1)."""
    if kind in ("date",):
        return 10
    if kind == "datetime":
        return 16
    if kind == "pct":
        return 5
    if kind in ("int", "num1", "num3", "money"):
        f = _number(v)
        return 4 if f is None else len(f"{f:,.1f}") + (5 if kind == "money" else 0)
    return max((len(line) for line in str(v).splitlines()), default=1)


def write_workbook(path: str | Path, sheets: Sequence[Sheet], currency: str = "",
                   language: str = "en", contents: str = "Contents",
                   contents_labels: tuple[str, str] = ("Sheet", "What it holds"),
                   title: str = "") -> list[str]:
    """Write ``sheets`` to the workbook ``path`` after a contents sheet (named
    ``contents``; its two column labels and an optional ``title`` line, all in the report's
    language); return the sheet names written (contents first). ``language`` ``fa`` lays
    the sheets out right to left. Numbers keep their values; text is never a formula."""
    import xlsxwriter

    path = Path(path)
    names = sheet_names([s.name for s in sheets], reserved=[contents])
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                         "strings_to_urls": False,
                                         "strings_to_numbers": False,
                                         "nan_inf_to_errors": False})
    try:
        head = {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}
        header = wb.add_format(head)
        header_q = wb.add_format({**head, "quote_prefix": True})
        quoted = wb.add_format({"quote_prefix": True})
        formats: dict[str, Any] = {}

        def fmt(kind: str):
            if kind not in formats:
                nf = number_format(kind, currency)
                formats[kind] = wb.add_format({"num_format": nf}) if nf else None
            return formats[kind]

        toc = wb.add_worksheet(contents)
        if language == "fa":
            toc.right_to_left()
        row = 0
        if title:
            _text(toc, 0, 0, title, wb.add_format({"bold": True, "font_size": 13}), quoted)
            row = 2
        _text(toc, row, 0, contents_labels[0], header, header_q)
        _text(toc, row, 1, contents_labels[1], header, header_q)
        toc.freeze_panes(row + 1, 0)
        link = wb.add_format({"font_color": "blue", "underline": 1})
        for i, (s, name) in enumerate(zip(sheets, names, strict=True), start=row + 1):
            target = name.replace("'", "''")
            toc.write_url(i, 0, f"internal:'{target}'!A1", link, string=name)
            _text(toc, i, 1, s.caption, None, quoted)
        toc.set_column(0, 0, min(MAX_WIDTH, max([len(contents_labels[0]), *map(len, names)],
                                                default=10) + 2))
        toc.set_column(1, 1, 100)

        for s, name in zip(sheets, names, strict=True):
            ws = wb.add_worksheet(name)
            if language == "fa":
                ws.right_to_left()
            cols = [(k, label, kind if kind in KINDS else "text")
                    for k, label, kind in (s.columns or [(c, str(c), "text")
                                                         for c in s.frame.columns])
                    if k in s.frame.columns]
            widths = []
            for j, (_, label, _) in enumerate(cols):
                _text(ws, 0, j, str(label), header, header_q)
                widths.append(len(str(label)))
            col_formats = [fmt(kind) for _, _, kind in cols]
            for i, rec in enumerate(s.frame[[k for k, _, _ in cols]].itertuples(
                    index=False, name=None), start=1):
                for j, (v, (_, _, kind)) in enumerate(zip(rec, cols, strict=True)):
                    miss = _missing(v)
                    _cell(ws, i, j, v, kind, col_formats[j], quoted, miss)
                    # a column already as wide as it may be is not measured again (at 1M
                    # opportunities "Deals by rep" is 1.2M cells)
                    if widths[j] < MAX_WIDTH:
                        widths[j] = max(widths[j], 1 if miss else _shown_width(v, kind))
            for j, w in enumerate(widths):
                ws.set_column(j, j, max(MIN_WIDTH, min(MAX_WIDTH, w + 2)))
            ws.freeze_panes(1, 0)
            if cols:
                ws.autofilter(0, 0, max(len(s.frame), 1), len(cols) - 1)
    finally:
        wb.close()
    return [contents, *names]


def _text(ws, row: int, col: int, value: str, fmt, quoted) -> None:
    """A text cell: always a string; a formula-like one in the ``quoted`` format (Excel's
    quote prefix: it stays text when edited)."""
    value = "" if value is None else str(value)
    ws.write_string(row, col, value, quoted if value.startswith(FORMULA_START) else fmt)


def _cell(ws, row: int, col: int, v: Any, kind: str, fmt, quoted, missing: bool) -> None:
    if missing:
        ws.write_blank(row, col, None, fmt)
        return
    if kind == "text":
        _text(ws, row, col, str(v), None, quoted)
        return
    if kind in ("date", "datetime"):
        when = _when(v)
        if when is None:
            _text(ws, row, col, str(v), None, quoted)
        else:
            ws.write_datetime(row, col, when, fmt)
        return
    f = _number(v)
    if f is None:  # not a number after all: shown as the text it is
        _text(ws, row, col, str(v), None, quoted)
    else:
        ws.write_number(row, col, f, fmt)


def sheets_from_payload(payload: dict) -> list[Sheet]:
    """The sheets of the notebook's workbook output (see
    :func:`reporting.presentation.payload.workbook_payload`): each ``{"sheet", "caption",
    "columns": [[key, label, kind], ...], "rows": [[...], ...]}``, dates as ISO text."""
    import pandas as pd

    out = []
    for s in payload.get("sheets", []):
        cols = [tuple(c) for c in s.get("columns", [])]
        frame = pd.DataFrame(s.get("rows", []), columns=[c[0] for c in cols])
        for k, _, kind in cols:
            if kind in ("date", "datetime") and len(frame):
                frame[k] = pd.to_datetime(frame[k], errors="coerce")
        out.append(Sheet(str(s.get("sheet", "")), frame, cols, str(s.get("caption", ""))))
    return out
