"""Excel and OpenDocument workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``),
read with python-calamine.

A workbook holds one sheet per table: the sheet named by the table mapping's ``sheet:``,
else the sheets whose name is the table's name or matches one of its ``files`` patterns
without the extension (``sales_pipeline*.csv`` -> a sheet ``sales_pipeline``), compared
without case. Each sheet is read like a CSV file: the first row with a value is the
header, rows are numbered as in the sheet (header row 1 when it is the first row), rows
without any value are not rows, and the quarantine names the file ``workbook.xlsx[Sheet]``.

Cells become the text a CSV export would hold (an id stored as the number 1001.0 reads
``1001``; a formula cell its cached value; a text cell that looks like a formula stays
text), and date and number cells also keep their typed value (``attrs["typed"]``): the
coerce step takes a date or datetime cell as it is, a number in a date column as an Excel
serial date (days since 1899-12-30, 1900 date system), and a number cell as that number
whatever the mapping's decimal mark.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..sources import SourceMapping, TableMapping
from .parsing import _clean_columns

#: file name endings read as workbooks
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
#: day 0 of Excel's 1900 date system (serial 60, the non-existent 1900-02-29, is skipped
#: by starting here, so serials from 61 on are right)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: serial numbers read as dates: 1 (1899-12-31) up to 9999-12-31
MAX_SERIAL = 2_958_465


def is_workbook(path: Path) -> bool:
    """True for a file name ending in one of :data:`WORKBOOK_SUFFIXES`."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def label(path: Path, sheet: str) -> str:
    """How the quarantine and the ingest log name a sheet: ``workbook.xlsx[Sheet]``."""
    return f"{path}[{sheet}]"


def _open(path: Path):
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise DataValidationError(
            f"{path}: not a readable workbook ({exc}); save it again as .xlsx from Excel or "
            "LibreOffice, or export the sheets as CSV"
        ) from None


def sheet_names(path: Path) -> list[str]:
    """The names of the workbook's sheets, in order."""
    return list(_open(path).sheet_names)


def sheet_matches(sheet: str, table: str, tm: TableMapping) -> bool:
    """Whether ``sheet`` holds ``table``: its name is the table's, or matches one of the
    table's ``files`` patterns without the extension (patterns that are only wildcards,
    like the default ``*.csv``, match no sheet)."""
    key = sheet.strip().casefold()
    if key == table.casefold():
        return True
    for pat in tm.files:
        stem = pat.rsplit(".", 1)[0] if "." in pat else pat
        if stem.strip("*?") and fnmatch.fnmatch(key, stem.casefold()):
            return True
    return False


def sheets_for_tables(
    path: Path, mapping: SourceMapping, tables: list[str] | None = None
) -> list[tuple[str, str]]:
    """``(table, sheet)`` for each table of the mapping (or of ``tables``) held in the
    workbook. A table whose mapping names a ``sheet:`` needs that sheet. A workbook of
    one sheet that no table's name matches is read like one CSV file: it holds the table
    whose ``files`` pattern matched the workbook (``tables`` given), else opportunities.

    Raises
    ------
    DataValidationError
        Naming the workbook and the sheets it has, when a named sheet is missing or no
        sheet holds any of the tables.
    """
    names = sheet_names(path)
    wanted = tables if tables is not None else list(mapping.tables)
    pairs: list[tuple[str, str]] = []
    for table in wanted:
        tm = mapping.tables[table]
        if tm.sheet is not None:
            if tm.sheet not in names:
                raise DataValidationError(
                    f"{path}: no sheet {tm.sheet!r} (named by `sheet:` of table {table} in "
                    f"mapping {mapping.path or mapping.name}); the workbook's sheets: "
                    + ", ".join(repr(n) for n in names)
                    + "; rename the sheet or fix `sheet:`"
                )
            pairs.append((table, tm.sheet))
            continue
        pairs.extend((table, n) for n in names if sheet_matches(n, table, mapping.tables[table]))
    if not pairs and len(names) == 1:
        # a one-sheet workbook is read like one CSV file: the table whose `files` pattern
        # matched it, else (given directly) opportunities
        target = wanted[0] if tables is not None else (
            "opportunities" if "opportunities" in wanted else None)
        if target is not None and mapping.tables[target].sheet is None:
            pairs = [(target, names[0])]
    # a table read with `unpivot:` (wide columns of the deals) reads the opportunities'
    # sheet when no sheet of its own is named after it
    have = {t for t, _ in pairs}
    for table in wanted:
        if (table not in have and mapping.tables[table].unpivot is not None
                and mapping.tables[table].sheet is None):
            pairs.extend((table, n) for t, n in list(pairs) if t == "opportunities")
    if not pairs:
        expected = "; ".join(
            f"{t}: {mapping.tables[t].sheet or ', '.join([t, *mapping.tables[t].files])}"
            for t in wanted
        )
        raise DataValidationError(
            f"{path}: no sheet of this workbook holds a table of mapping {mapping.name!r}; "
            f"the workbook's sheets: {', '.join(repr(n) for n in names)}; name each sheet "
            f"after its table ({expected}) or give `sheet:` in the table mapping"
        )
    return pairs


def _text(v: object) -> str:
    """A cell as the text a CSV export would hold."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))  # ids and counts are stored as floats: 1001.0 -> "1001"
        return repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    return str(v)


def _typed(values: list[object]) -> tuple[np.ndarray, np.ndarray] | None:
    """The date cells (datetime64, NaT elsewhere) and number cells (float, NaN elsewhere)
    of a column, or None when it has neither."""
    dates = [None] * len(values)
    numbers = np.full(len(values), np.nan)
    any_date = any_number = False
    for i, v in enumerate(values):
        if isinstance(v, bool) or isinstance(v, str):
            continue
        if isinstance(v, int | float):
            numbers[i] = v
            any_number = True
        elif isinstance(v, datetime):
            dates[i] = v
            any_date = True
        elif isinstance(v, date):
            dates[i] = datetime(v.year, v.month, v.day)
            any_date = True
    if not (any_date or any_number):
        return None
    return pd.to_datetime(pd.Series(dates, dtype=object)).to_numpy("datetime64[us]"), numbers


def _column_name(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def sheet_chunks(path: Path, sheet: str, chunksize: int | None) -> Iterator[pd.DataFrame]:
    """The rows of one sheet in frames of ``chunksize`` rows (None: one frame), text
    columns named by the header row, with ``attrs``: ``lines`` (sheet row numbers) and
    ``typed`` (column -> date and number cells, see :func:`_typed`).

    Blank header cells (e.g. the tail of a merged cell) name their column ``(column C)``
    when it holds values; columns without header and values (trailing empty columns) and
    rows without any value (trailing empty rows) are dropped.
    """
    from python_calamine import CalamineError

    wb = _open(path)
    if sheet not in wb.sheet_names:
        raise DataValidationError(
            f"{path}: no sheet {sheet!r}; the workbook's sheets: "
            + ", ".join(repr(n) for n in wb.sheet_names)
        )
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise DataValidationError(f"{label(path, sheet)}: cannot be read ({exc})") from None

    def blank(v: object) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    filled = [i for i, r in enumerate(rows) if not all(blank(v) for v in r)]
    if not filled:
        raise DataValidationError(
            f"{label(path, sheet)}: the sheet is empty (no header row); put the table's "
            "header in its first row"
        )
    h = filled[0]
    body = filled[1:]
    width = max(len(rows[i]) for i in filled)
    header = list(rows[h]) + [""] * (width - len(rows[h]))
    keep, names = [], []
    for j in range(width):
        name = _text(header[j]).strip()
        if not name and all(j >= len(rows[i]) or blank(rows[i][j]) for i in body):
            continue  # no header and no values: an empty (trailing) column
        keep.append(j)
        names.append(name or f"(column {_column_name(j)})")
    clean = _clean_columns(names)
    step = chunksize or max(1, len(body))
    for start in range(0, max(1, len(body)), step):
        part = body[start:start + step]
        data: dict[int, list[str]] = {}
        typed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for j, name in zip(keep, clean, strict=True):
            cells = [rows[i][j] if j < len(rows[i]) else "" for i in part]
            data[j] = [_text(v) for v in cells]
            t = _typed(cells)
            if t is not None:
                typed[name] = t
        frame = pd.DataFrame(data, columns=keep, dtype=object)
        frame.columns = clean
        frame.attrs = {"lines": np.asarray(part, dtype="int64") + 1, "typed": typed}
        yield frame
