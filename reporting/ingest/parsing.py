"""Value parsers of the coerce step: text cleaning, dates, numbers and yes/no values as
people and CRMs write them (Persian digits, currency symbols, thousands separators, UTC
offsets). Pure functions of pandas Series; nothing here reads files or knows the tables.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from ..sources import is_date_only

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# bidi marks and overrides, zero-width characters, BOM and soft hyphen: invisible in a
# spreadsheet, but they break number and date parsing (Persian exports are full of them)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SPACES = " \u00a0\u2007\u2009\u202f"
_CURRENCY = r"(?:[A-Za-z]{3}|[A-Za-z]{0,2}\$|[€£¥₹﷼₽₺₩₪₫฿₦₱¢]|ریال|ريال|تومان)"


def _clean_name(name: object) -> str:
    return _INVISIBLE.sub("", str(name)).strip()


def _clean_columns(columns: list[object]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for c in columns:
        name = _clean_name(c)
        base, i = name, 0
        while name in seen:
            i += 1
            name = f"{base}.{i}"
        seen.add(name)
        out.append(name)
    return out


def _arrow_text(s: pd.Series):
    import pyarrow as pyarrow_

    values = s.to_numpy(dtype=object, na_value=None) if len(s) else np.array([], dtype=object)
    try:
        return pyarrow_.array(values, type=pyarrow_.string(), from_pandas=True)
    except (pyarrow_.ArrowInvalid, pyarrow_.ArrowTypeError):  # not all text: go through str
        return pyarrow_.array([None if v is None else str(v) for v in values],
                              type=pyarrow_.string())


def _contains(s: pd.Series, pattern: str) -> pd.Series:
    """``s.str.contains(pattern)`` (RE2 syntax) in pyarrow: object-dtype text is matched
    value by value in Python by pandas, several times slower."""
    import pyarrow.compute as pc

    hit = pc.fill_null(pc.match_substring_regex(_arrow_text(s), pattern), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def _breaks(s: pd.Series) -> np.ndarray:
    """Line breaks inside each value (CR LF, LF or a lone CR count one each)."""
    import pyarrow.compute as pc

    if s.dtype != object and not pd.api.types.is_string_dtype(s):
        return np.zeros(len(s), dtype="int64")
    arr = _arrow_text(s)
    n = pc.fill_null(pc.count_substring_regex(arr, "\r\n|\r|\n"), 0)
    return n.to_numpy(zero_copy_only=False).astype("int64")


def _is_null(
    s: pd.Series, tokens: frozenset[str] = frozenset(), text: pd.Series | None = None
) -> pd.Series:
    """Missing values: an empty field (or spaces, invisible characters), a null of a typed
    column, or one of the mapping's ``null_tokens`` (lower-case). ``NA``, ``None`` and
    ``-`` are values unless the mapping lists them. ``text``: ``_clean_text(s)`` if known."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        t = _clean_text(s) if text is None else text
        null = s.isna() | (t == "")
        return null | t.str.lower().isin(tokens) if tokens else null
    return s.isna()


def _text_array(s: pd.Series):
    """``(values, arr)``: the values as an object array (None for missing) and as a
    pyarrow string array; None when they are not all text."""
    import pyarrow as pyarrow_

    values = s.to_numpy(dtype=object, na_value=None)
    try:
        return values, pyarrow_.array(values, type=pyarrow_.string(), from_pandas=True)
    except (pyarrow_.ArrowInvalid, pyarrow_.ArrowTypeError):
        return None


def _trimmed(values: np.ndarray, arr) -> np.ndarray:
    """``values`` with each text stripped as ``str.strip`` does. pyarrow's
    ``utf8_trim_whitespace`` trims exactly the same characters (checked over every code
    point); it only finds the values that change, so the others keep their objects and
    only those few are stripped in Python."""
    import pyarrow.compute as pc

    changed = pc.fill_null(pc.not_equal(pc.binary_length(arr), pc.binary_length(
        pc.utf8_trim_whitespace(arr))), False).to_numpy(zero_copy_only=False)
    out = values.copy()
    if changed.any():
        idx = np.flatnonzero(changed)
        out[idx] = [values[k].strip() for k in idx]
    return out


def _strip(s: pd.Series) -> pd.Series:
    """``s.astype(str).str.strip()`` for text (missing values stay None), without a Python
    call per value; values that are not all text go the Python way."""
    got = _text_array(s)
    if got is None:
        return s.where(s.isna(), s.astype(str).str.strip())
    return pd.Series(_trimmed(*got), index=s.index, dtype=object)


def _clean_text(s: pd.Series) -> pd.Series:
    """Text (missing: "") with Persian / Arabic digits as ASCII and invisible characters
    removed, stripped. ASCII text goes through pyarrow; only non-ASCII values take the
    slow path."""
    import pyarrow.compute as pc

    if s.dtype == object or pd.api.types.is_string_dtype(s):
        got = _text_array(s)
        if got is not None:
            values, arr = got
            ascii_ = pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False)
            out = _trimmed(values, arr)
            if arr.null_count:
                out[arr.is_null().to_numpy(zero_copy_only=False)] = ""
            t = pd.Series(out, index=s.index, dtype=object)
            if not ascii_.all():
                odd = ~ascii_
                raw = values[odd]
                t[odd] = [_INVISIBLE.sub("", str(v).translate(_DIGITS)).strip() for v in raw]
            return t
    t = s.astype("str").fillna("")
    odd = t.str.contains(_NON_ASCII, regex=True)
    if odd.any():
        fixed = [_INVISIBLE.sub("", v.translate(_DIGITS)) for v in t[odd].tolist()]
        t = t.copy()
        t[odd] = fixed
    return t.str.strip()


# a time of day in a value: 10:30, 10:30:00, 10 am (RE2 syntax, for pyarrow)
_HAS_TIME = r"\d{1,2}:\d{2}|\d\s*[AaPp]\.?[Mm]\b|T\d{2}"
# an explicit UTC offset or zone after the time: Z, +03:30, -0800, UTC, GMT
_HAS_OFFSET = r"(?i)\d(?:\.\d+)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"


def _to_local(parsed: pd.Series, zone: str, to_tz: str) -> pd.Series:
    """Naive wall-clock times of ``zone`` as naive times of ``to_tz`` (a time that does
    not exist is moved forward; an ambiguous one, in the hour a clock goes back, is read
    as standard time)."""
    if zone == to_tz or parsed.empty:
        return parsed
    loc = parsed.dt.tz_localize(zone, ambiguous=np.zeros(len(parsed), dtype=bool),
                                nonexistent="shift_forward")
    return loc.dt.tz_convert(to_tz).dt.tz_localize(None)


def _parse_dates(
    s: pd.Series, formats: list[str], tz: str, to_tz: str = "UTC",
    tokens: frozenset[str] = frozenset(), text: pd.Series | None = None,
) -> pd.Series:
    """Dates and timestamps as naive ``datetime64[us]`` in the reporting time zone ``to_tz``.

    A date without a time of day is a calendar date and is kept as it is (midnight of that
    date), whatever the zones. A timestamp with a UTC offset (``2017-03-12T10:00-07:00``;
    offsets may differ from row to row, as across a daylight-saving change) is converted
    to ``to_tz``; a timestamp without one is wall-clock time in the mapping's zone ``tz``
    and is converted from there.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if out.dt.tz is not None:
            return out.dt.tz_convert(to_tz).dt.tz_localize(None).astype("datetime64[us]")
        out = out.astype("datetime64[us]")
        timed = out.notna() & (out != out.dt.normalize())  # midnight: a date
        if timed.any() and tz != to_tz:
            out = out.copy()
            out[timed] = _to_local(out[timed], tz, to_tz)
        return out
    text = _clean_text(s) if text is None else text
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo_all = ~_is_null(s, tokens, text)
    if not todo_all.any():
        return out
    if all(is_date_only(f) for f in formats):
        has_time = has_offset = pd.Series(False, index=s.index)
    else:
        has_time = _contains(text, _HAS_TIME) & todo_all
        has_offset = has_time & _contains(text, _HAS_OFFSET)
    for fmt in formats:
        todo = out.isna() & todo_all
        if not todo.any():
            break
        aware = todo & has_offset
        naive = todo & ~has_offset
        if aware.any():
            parsed = pd.to_datetime(text[aware], errors="coerce", utc=True, format=fmt)
            if pd.api.types.is_datetime64_any_dtype(parsed):
                out.loc[aware] = parsed.dt.tz_convert(to_tz).dt.tz_localize(None).astype(
                    "datetime64[us]")
        if naive.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(text[naive], errors="coerce", format=fmt)
            if not pd.api.types.is_datetime64_any_dtype(parsed):  # offsets the regex missed
                parsed = pd.to_datetime(text[naive], errors="coerce", utc=True, format=fmt)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(to_tz).dt.tz_localize(None)
            else:
                parsed = parsed.astype("datetime64[us]")
                timed = has_time[naive] & parsed.notna()
                if timed.any() and tz != to_tz:
                    parsed = parsed.copy()
                    parsed[timed] = _to_local(parsed[timed], tz, to_tz)
            out.loc[naive] = parsed.astype("datetime64[us]")
    return out


def _number_pattern(decimal: str, thousands: str) -> re.Pattern[str]:
    d = re.escape(decimal or ".")
    t = "[" + re.escape(thousands + _SPACES) + "]" if thousands else "[" + re.escape(_SPACES) + "]"
    number = (
        rf"[0-9]{{1,3}}(?:{t}[0-9]{{3}})+(?:{d}[0-9]*)?"  # 1,234,567.5
        rf"|[0-9]{{1,2}}(?:{t}[0-9]{{2}})+{t}[0-9]{{3}}(?:{d}[0-9]*)?"  # 12,34,567.5 (lakh)
        rf"|[0-9]+(?:{d}[0-9]*)?(?:[eE][-+]?[0-9]+)?"  # 1234.5, 1e6
        rf"|{d}[0-9]+"  # .5
    )
    sign = "[-+\u2212]"
    return re.compile(
        rf"^(?P<open>\()?\s*(?P<s1>{sign})?\s*(?:{_CURRENCY})?\s*(?P<s2>{sign})?\s*"
        rf"(?P<num>{number})\s*(?:{_CURRENCY})?\s*(?P<s3>-)?\s*(?P<close>\))?$"
    )


def _parse_numbers(
    s: pd.Series, decimal: str, thousands: str, text: pd.Series | None = None
) -> pd.Series:
    """Numbers written by people: currency symbols or codes, thousands separators (the
    mapping's, or spaces), the mapping's decimal mark, negative in parentheses, Persian /
    Arabic digits. Anything else is NaN (reported as non-numeric), never a guess."""
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.nan, index=s.index, dtype="float64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = _clean_text(s) if text is None else text
    value = pd.Series(np.nan, index=s.index, dtype="float64")
    # fast path: plain numbers like 1234 or -12.5 (vectorised in pyarrow)
    plain = text.str.fullmatch(r"-?[0-9]{1,15}(?:\.[0-9]*)?") if decimal == "." else (
        text.str.fullmatch(r"-?[0-9]{1,15}"))
    if plain.any():
        value[plain] = pd.to_numeric(text[plain], errors="coerce").astype("float64")
    rest = ~plain & (text != "")
    if not rest.any():
        return value
    text = text[rest].str.replace("٬", thousands or "", regex=False)
    text = text.str.replace("٫", decimal or ".", regex=False)
    parts = text.str.extract(_number_pattern(decimal, thousands))
    num = parts["num"].astype("str")
    for ch in (thousands + _SPACES) if thousands else _SPACES:
        num = num.str.replace(ch, "", regex=False)
    if decimal and decimal != ".":
        num = num.str.replace(decimal, ".", regex=False)
    opened, closed = parts["open"].notna(), parts["close"].notna()
    negative = (opened & closed) | parts["s1"].isin(["-", "\u2212"]) | parts["s2"].isin(
        ["-", "\u2212"]
    ) | parts["s3"].notna()
    parsed = pd.to_numeric(num, errors="coerce").astype("float64")
    parsed = parsed.where(opened == closed, np.nan)
    parsed = parsed.where(np.isfinite(parsed), np.nan)
    value[rest] = parsed.where(~negative, -parsed)
    return value


def _parse_bools(s: pd.Series, booleans: dict[str, list[str]]) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object)
    low = _clean_text(s).str.lower()
    out = pd.Series(None, index=s.index, dtype=object)
    out[low.isin(booleans.get("true", []))] = True
    out[low.isin(booleans.get("false", []))] = False
    return out


def _record_json(raw: pd.DataFrame, rows: np.ndarray) -> list[str]:
    sub = raw.iloc[rows]
    return [json.dumps(r, ensure_ascii=False, default=str) for r in sub.to_dict("records")]


def _as_of(as_of: datetime | date | str | pd.Timestamp | None) -> pd.Timestamp:
    """The as-of time as a naive UTC timestamp (default: now)."""
    if as_of is None:
        return pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts
