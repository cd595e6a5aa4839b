"""Untrusted CRM text on its way out: to a terminal, a CSV or a spreadsheet.

Region, rep, file and column names come from CRM exports, so they are hostile by default:

- in a terminal they must never become markup (``[bold]``, ``[link=...]``, ``[/]`` crash or
  restyle rich output) or control sequences (ESC, OSC-8 hyperlinks, BEL): :func:`terminal`
  makes a string literal and visible;
- in a CSV or spreadsheet a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV injection"):
  :func:`neutralise_cells` prefixes such text cells with a single quote.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:  # pandas is imported by neutralise_cells only: the CLI starts without it
    import pandas as pd

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f: CSI, OSC, ...), plus
# the bidirectional overrides and isolates that reorder what a reader sees.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``)."""
    s = str(text)
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), s)


def terminal(text: object, style: str | None = None) -> Text:
    """A rich ``Text`` that prints ``text`` literally: no markup, no highlighting, no
    control sequences."""
    return Text(visible(text), style=style or "")


#: characters of one CRM text a report's table shows (report.xlsx keeps the whole text)
SHOWN_CHARS = 60


def clipped(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: a CRM name of thousands of
    characters would otherwise fill pages and make the PDF layout of its table take
    minutes (WeasyPrint measures every break opportunity of every cell)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text value that a spreadsheet would read as a formula, prefixed with ``'``;
    numbers and other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot be formulas.

    Numeric columns are left alone, so a negative number stays a number."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            out[col] = s.map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out
