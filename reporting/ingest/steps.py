"""Mapping one raw frame onto a canonical table, in named steps.

:func:`map_table` runs them in order; each can be called (and tested) on its own:

1. :func:`parse` picks the export columns the mapping names (the first non-empty of
   alternatives, value renames) and the reader's damaged rows;
2. :func:`coerce` turns text into dates, numbers, yes/no values and clean text, maps stages
   to statuses, converts currencies and flags what does not parse (plus
   :func:`derive_revenue_ids` for revenue lines without an id);
3. :func:`validate` applies the table's pandera schema (presence, ranges, allowed values,
   cross-column rules) to the rows that parsed;
4. :func:`deduplicate` finds keys met before in the frame, the file or the export;
5. :func:`quarantine` keeps one reason per rejected row (the first found) and splits the
   frame into loaded rows and the quarantine.

Problems are collected in a :class:`Problems` as (row, column, reason code, reason text,
value); codes are listed in :mod:`.reasons`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..exceptions import MappingError
from ..periods import quota_period_label
from ..schema import FORECAST_CATEGORIES, STATUSES, TABLES, pandera_schema
from ..sources import MAX_ABS_NUMBER, SourceMapping, TableMapping, load_rates
from .excel import EXCEL_EPOCH, MAX_SERIAL
from .keys import SeenKeys, key_strings
from .parsing import (
    _as_of,
    _clean_text,
    _is_null,
    _parse_bools,
    _parse_dates,
    _parse_numbers,
    _record_json,
    _strip,
)
from .reasons import PANDERA_CHECKS, duplicate_reason, reason_label
from .results import QUARANTINE_COLUMNS, FileResult, MappedTable

#: a date later than the as-of time plus this is "in the future"
FUTURE_TOLERANCE = timedelta(days=1)
#: datetime columns that cannot lie in the future (a rep's start date or a booked revenue
#: line may legitimately be planned ahead)
FUTURE_CHECKED = {
    "opportunities": ("created_at", "closed_at", "last_activity_at"),
    "leads": ("created_at", "converted_at"),
    "stage_history": ("entered_at",),
    "opportunity_snapshots": ("observed_at",),
    "opportunity_changes": ("changed_at",),
}
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_EPOCH = pd.Timestamp("1970-01-01")
_ESTIMATES = ("created_at_estimated", "created_after_close")
#: what each data note code means (the text stored with its count in ``data_notes``)
NOTE_TEXT = {
    "created_at_estimated": (
        "open deals without a creation date (e.g. Maven's Prospecting deals have no engage "
        "date) are kept; their created_at is the export's last date ({end}), flagged in "
        "row_flags; they count as open deals, never as created in a period or a cohort"
    ),
    "created_after_close": (
        "closed deals entered up to {days} days after they closed (created after the close "
        "date) are kept with created_at floored to the close date (cycle 0 days), flagged "
        "in row_flags"
    ),
    "fx_dated": "amounts converted to {reporting} with dated rates from {file}",
    "fx_static": "amounts converted to {reporting} with the mapping's static rates",
    "rows_skipped": (
        "records the mapping's keep_rows / skip_rows leave out (e.g. changes of fields the "
        "deal history does not track, or other kinds of items) were not loaded; the count "
        "is the records skipped, which are not counted as read"
    ),
}
#: the export column an unpivoted row came from (a column of the long frame)
UNPIVOT_COLUMN = "<unpivot:column>"


class Problems:
    """The problems found in one frame: one entry per (row, column, reason). Rows keep
    only their first problem at the :func:`quarantine` step (by priority, then column):
    damage found while reading (priority 0) explains every other problem of the row."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series | np.ndarray, column: str, code: str, reason: str,
            values: pd.Series | None = None) -> None:
        """Record ``code`` / ``reason`` for the rows where ``mask`` is true, with each
        row's ``values`` (the raw text shown in the quarantine)."""
        mask = pd.Series(mask).fillna(False).astype(bool).to_numpy()
        if mask.any():
            idx = np.flatnonzero(mask)
            self.add_rows(idx, column, code, reason, values)

    def add_rows(self, idx: np.ndarray, column: str, code: str | list[str],
                 reason: str | list[str], values: pd.Series | np.ndarray | None,
                 prio: int = 1) -> None:
        """Record problems of rows ``idx`` (positions); ``values`` aligned with the frame
        (a Series) or with ``idx`` (an array)."""
        if isinstance(values, pd.Series):
            vals = values.iloc[idx].astype(object).fillna("").astype(str).to_numpy()
        else:
            vals = values if values is not None else ""
        self.parts.append(pd.DataFrame({"idx": np.asarray(idx, dtype="int64"), "column": column,
                                        "code": code, "reason": reason, "value": vals,
                                        "prio": prio}))

    def rows(self) -> list[int]:
        """Positions of the rows with at least one problem."""
        if not self.parts:
            return []
        return np.unique(np.concatenate([p["idx"].to_numpy() for p in self.parts])).tolist()

    def frame(self) -> pd.DataFrame:
        """Every problem: ``idx, column, code, reason, value, prio``."""
        if not self.parts:
            return pd.DataFrame(columns=["idx", "column", "code", "reason", "value", "prio"])
        return pd.concat(self.parts, ignore_index=True)


# --------------------------------------------------------------------------- 1. parse


@dataclass
class Parsed:
    """The export columns of one frame that the mapping names, by canonical column."""

    #: the frame as read (positions 0..n-1): quarantine records are its rows
    raw: pd.DataFrame
    #: canonical column -> the export's values (first non-empty alternative, renamed)
    columns: dict[str, pd.Series]
    #: each row's line (CSV) or sheet row (workbook)
    lines: np.ndarray
    #: the ``status_from`` column, stripped text (opportunities)
    stage: pd.Series | None = None
    #: workbook cells: canonical column -> (date cells, number cells), see ``excel``
    typed: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: typed Parquet columns: canonical column -> NaN mask of its first source column
    nan: dict[str, np.ndarray] = field(default_factory=dict)
    #: rows damaged in the file (``idx, column, code, reason, value``), quarantined first
    damaged: pd.DataFrame | None = None
    #: records that could not become rows (``row, column, reason_code, ...``)
    extra: pd.DataFrame | None = None
    #: opportunity_changes: rows derived from a stage change (its status change)
    derived: np.ndarray | None = None
    #: records left out by ``keep_rows`` / ``skip_rows``
    skipped: int = 0


def _one_column_hint(raw: pd.DataFrame, wanted: int) -> str:
    if len(raw.columns) != 1 or wanted < 2:
        return ""
    name = str(raw.columns[0])
    found = [d for d in _DELIMITERS if d in name]
    guess = (
        f"; it looks {_DELIMITER_NAMES[found[0]]}-separated: set `delimiter: {found[0]!r}` in "
        "the mapping" if found else "; set `delimiter:` in the mapping"
    )
    return (
        f". The delimiter seems wrong: the header was read as one column but the mapping "
        f"wants {wanted}{guess}"
    )


def _sources(raw: pd.DataFrame, table: str, mapping: SourceMapping, file: str
             ) -> dict[str, list[str]]:
    """Canonical column -> the export columns that exist for it (alternatives in order).

    Raises MappingError naming the mapped columns the file lacks and the ones it has."""
    tm: TableMapping = mapping.tables[table]

    def alternatives(src: str | list[str]) -> list[str]:
        return [src] if isinstance(src, str) else src

    sources: dict[str, list[str]] = {}
    missing = []
    for col, src in tm.columns.items():
        found = [c for c in alternatives(src) if c in raw.columns]
        if not found:
            missing.append(" or ".join(repr(c) for c in alternatives(src)))
        sources[col] = found
    for col, src in tm.optional_columns.items():
        found = [c for c in alternatives(src) if c in raw.columns]
        if found and col not in sources:
            sources[col] = found
    if tm.unpivot is not None:  # the long frame names them by the canonical column
        for col in [*tm.unpivot.groups(), tm.unpivot.value]:
            if col in TABLES[table].columns and col not in sources and _long(col) in raw:
                sources[col] = [_long(col)]
    if tm.status_from and not any(c in raw.columns for c in tm.status_columns()):
        missing.append(" or ".join(repr(c) for c in tm.status_columns()))
    if missing and table != "quotas" and _looks_like_quotas(raw.columns):
        raise MappingError(
            f"{file}: this looks like a quotas file (columns "
            + ", ".join(repr(c) for c in list(raw.columns)[:8])
            + f"), not an export of table {table} (mapping {mapping.path or mapping.name}): ingest "
            "it with `crm-report ingest FILE --source quotas` (scope_type, scope, period, "
            "amount, currency; see docs/data-model.md)"
        )
    if missing:
        wanted = len(tm.columns) + (1 if tm.status_from else 0)
        raise MappingError(
            f"{file}: column(s) {', '.join(missing)} named in mapping "
            f"{mapping.path or mapping.name} (table {table}) are not in the file; the file has: "
            + ", ".join(repr(c[:80]) for c in list(raw.columns)[:30])
            + _one_column_hint(raw, wanted)
        )
    return sources


#: header names that make a file a quotas table (compared without case)
_QUOTA_HEADERS = ({"scope", "scope_type", "rep", "team", "region"}, {"period"},
                  {"amount", "quota", "target"})


def _looks_like_quotas(columns) -> bool:
    """A header with a scope, a period and an amount / quota column: a quotas file given
    to a deals mapping (it is refused with a pointer to ``--source quotas``, never loaded
    as deals)."""
    names = {str(c).strip().lower() for c in columns}
    return all(names & group for group in _QUOTA_HEADERS)


def parse(raw: pd.DataFrame, table: str, mapping: SourceMapping, file: str,
          row_offset: int = 0) -> Parsed:
    """Step 1: the export columns of ``raw`` that the mapping names, by canonical column.

    Of alternative columns (``owner: [Owner, Created By]``) the first non-empty value of
    each row wins; ``values:`` renames apply to text columns. Row numbers come from the
    reader (``attrs["lines"]``), else ``row_offset + 2`` on (the header is row 1).

    Raises
    ------
    MappingError
        When a mapped column is not in the frame (naming what the file has).
    """
    tm: TableMapping = mapping.tables[table]
    spec = TABLES[table]
    attrs = dict(raw.attrs)
    raw = raw.reset_index(drop=True)
    raw.attrs = {}
    n = len(raw)
    tokens = frozenset(t.strip().lower() for t in mapping.null_tokens)
    lines = attrs.get("lines")
    if lines is None or len(lines) != n:
        lines = np.arange(n, dtype="int64") + row_offset + 2
    typed_in = attrs.get("typed", {})
    nan_in: dict[str, np.ndarray] = attrs.get("nan", {})
    columns: dict[str, pd.Series] = {}
    typed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    nan: dict[str, np.ndarray] = {}
    for col, cols in _sources(raw, table, mapping, file).items():
        s = raw[cols[0]]
        t = typed_in.get(cols[0])
        for other in cols[1:]:
            use = _is_null(s, tokens).to_numpy()
            s = s.where(~use, raw[other])
            if t is not None or other in typed_in:
                t = _merge_typed(t, typed_in.get(other), use, n)
        if col in tm.values and spec.field(col).kind == "str":
            s = _strip(s.astype(object).where(s.notna(), "")).replace(tm.values[col])
        columns[col] = s
        if t is not None:
            typed[col] = t
        if cols[0] in nan_in:
            nan[col] = nan_in[cols[0]]
    stage = None
    if table in ("opportunities", "opportunity_snapshots") and tm.status_from:
        stage = None
        for c in (c for c in tm.status_columns() if c in raw.columns):
            s = _strip(raw[c].astype(object).where(raw[c].notna(), ""))
            stage = s if stage is None else stage.where(stage != "", s)
    flags = attrs.get("flags")
    damaged = flags if flags is not None and len(flags) else None
    return Parsed(raw, columns, lines, stage, typed, nan, damaged, attrs.get("extra"))


def _merge_typed(a: tuple[np.ndarray, np.ndarray] | None, b: tuple[np.ndarray, np.ndarray] | None,
                 use_b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    empty = (np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"), np.full(n, np.nan))
    a, b = a or empty, b or empty
    return np.where(use_b, b[0], a[0]), np.where(use_b, b[1], a[1])


# --------------------------------------------------------------------------- reshape


def _long(col: str) -> str:
    """The name an unpivoted value takes in the long frame (no export column is named so)."""
    return f"<unpivot:{col}>"


def unpivot(raw: pd.DataFrame, table: str, mapping: SourceMapping) -> pd.DataFrame:
    """Step 0 (tables with ``unpivot:``): the wide frame as a long one.

    Every export column whose whole name matches the pattern gives one row per non-empty
    cell (an empty cell is no row), in file order: the row's other columns, each named
    group of the pattern (column ``<unpivot:group>``), the cell (``<unpivot:value>``) and
    the export column's name (``<unpivot:column>``, which the quarantine names). Row
    numbers, damaged-row flags and workbook date cells follow their rows."""
    spec = mapping.tables[table].unpivot
    assert spec is not None
    attrs = dict(raw.attrs)
    raw = raw.reset_index(drop=True)
    n = len(raw)
    rx = re.compile(spec.pattern)
    matched = [(c, m) for c in raw.columns if (m := rx.fullmatch(str(c))) is not None]
    names = {c for c, _ in matched}
    keep = [c for c in raw.columns if c not in names]
    tokens = frozenset(t.strip().lower() for t in mapping.null_tokens)
    lines = attrs.get("lines")
    if lines is None or len(lines) != n:
        lines = np.arange(n, dtype="int64") + 2
    typed_in = attrs.get("typed", {})
    rows, cols = [], []
    for j, (c, _) in enumerate(matched):
        filled = ~_is_null(raw[c], tokens).to_numpy()
        if c in typed_in:
            d, x = typed_in[c]
            filled |= ~np.isnat(d) | ~np.isnan(x)
        idx = np.flatnonzero(filled)
        rows.append(idx)
        cols.append(np.full(len(idx), j, dtype="int64"))
    pos = np.concatenate(rows) if rows else np.zeros(0, dtype="int64")
    col = np.concatenate(cols) if cols else np.zeros(0, dtype="int64")
    order = np.lexsort((col, pos))
    pos, col = pos[order], col[order]
    out = raw.iloc[pos][keep].reset_index(drop=True)
    groups = spec.groups()
    for g in groups:
        vals = np.array([m.group(g) for _, m in matched] or [""], dtype=object)
        out[_long(g)] = vals[col] if len(col) else pd.Series([], dtype=object)
    cells = np.empty(len(pos), dtype=object)
    for j, (c, _) in enumerate(matched):
        here = col == j
        cells[here] = raw[c].to_numpy(dtype=object)[pos[here]]
    out[_long(spec.value)] = cells
    colnames = np.array([c for c, _ in matched] or [""], dtype=object)
    out[UNPIVOT_COLUMN] = colnames[col] if len(col) else pd.Series([], dtype=object)
    new_attrs: dict = {"lines": np.asarray(lines)[pos]}
    if matched and any(c in typed_in for c, _ in matched):
        d = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[us]")
        x = np.full(len(pos), np.nan)
        for j, (c, _) in enumerate(matched):
            if c in typed_in:
                here = col == j
                d[here] = typed_in[c][0][pos[here]]
                x[here] = typed_in[c][1][pos[here]]
        new_attrs["typed"] = {_long(spec.value): (d, x)}
    flags = attrs.get("flags")
    if flags is not None and len(flags):
        # a damaged record damages every row it gives (first row of each: the record)
        where = {int(i): k for k, i in enumerate(flags["idx"].astype("int64"))}
        hit = [k for k, p in enumerate(pos) if int(p) in where]
        f = flags.iloc[[where[int(pos[k])] for k in hit]].copy()
        f["idx"] = np.asarray(hit, dtype="int64")
        new_attrs["flags"] = f.reset_index(drop=True)
    if attrs.get("extra") is not None:
        new_attrs["extra"] = attrs["extra"]
    out.attrs = new_attrs
    return out


def _with_lines(raw: pd.DataFrame, row_offset: int) -> pd.DataFrame:
    """``raw`` with each row's line in ``attrs["lines"]`` (the reader's, else counted
    from ``row_offset``: the header is row 1)."""
    lines = raw.attrs.get("lines")
    if lines is None or len(lines) != len(raw):
        attrs = dict(raw.attrs)
        attrs["lines"] = np.arange(len(raw), dtype="int64") + row_offset + 2
        raw = raw.copy()
        raw.attrs = attrs
    return raw


def _take(parsed: Parsed, pos: np.ndarray) -> Parsed:
    """The rows ``pos`` (positions, may repeat) of a parsed frame."""
    pos = np.asarray(pos, dtype="int64")
    raw = parsed.raw.iloc[pos].reset_index(drop=True)
    columns = {c: s.iloc[pos].reset_index(drop=True) for c, s in parsed.columns.items()}
    stage = parsed.stage.iloc[pos].reset_index(drop=True) if parsed.stage is not None else None
    typed = {c: (d[pos], x[pos]) for c, (d, x) in parsed.typed.items()}
    nan = {c: m[pos] for c, m in parsed.nan.items()}
    damaged = None
    if parsed.damaged is not None and len(parsed.damaged):
        where = {int(i): k for k, i in enumerate(parsed.damaged["idx"].astype("int64"))}
        hit = [k for k, p in enumerate(pos) if int(p) in where]
        if hit:
            damaged = parsed.damaged.iloc[[where[int(pos[k])] for k in hit]].copy()
            damaged["idx"] = np.asarray(hit, dtype="int64")
            damaged = damaged.reset_index(drop=True)
    derived = parsed.derived[pos] if parsed.derived is not None else None
    return Parsed(raw, columns, parsed.lines[pos], stage, typed, nan, damaged, parsed.extra,
                  derived, parsed.skipped)


def _row_values(parsed: Parsed, col: str, tokens: frozenset[str]) -> pd.Series:
    """A row filter's column: the canonical column (after ``values:``) when mapped, else
    the export column's text; missing (or a column the file lacks): ``""``."""
    if col in parsed.columns:
        s = parsed.columns[col]
    elif col in parsed.raw.columns:
        s = parsed.raw[col]
    else:
        return pd.Series("", index=parsed.raw.index, dtype=object)
    text = _clean_text(s.astype(object).where(s.notna(), ""))
    return text.where(~_is_null(s, tokens, text), "")


def select_rows(parsed: Parsed, table: str, mapping: SourceMapping) -> Parsed:
    """Step 1b: the rows ``keep_rows`` keeps and ``skip_rows`` does not skip. Records the
    reader found damaged always stay (their damage is quarantined); the others left out
    are counted in ``skipped`` (data note ``rows_skipped``), not as read."""
    tm: TableMapping = mapping.tables[table]
    if not tm.keep_rows and not tm.skip_rows:
        return parsed
    tokens = frozenset(t.strip().lower() for t in mapping.null_tokens)
    keep = np.ones(len(parsed.raw), dtype=bool)
    for col, allowed in tm.keep_rows.items():
        keep &= _row_values(parsed, col, tokens).isin([str(a).strip() for a in allowed]).to_numpy()
    for col, banned in tm.skip_rows.items():
        keep &= ~_row_values(parsed, col, tokens).isin([str(b).strip() for b in banned]).to_numpy()
    if parsed.damaged is not None and len(parsed.damaged):
        keep[parsed.damaged["idx"].astype("int64").to_numpy()] = True
    if keep.all():
        return parsed
    out = _take(parsed, np.flatnonzero(keep))
    out.skipped = parsed.skipped + int((~keep).sum())
    return out


def _stage_status(text: pd.Series, tm: TableMapping) -> pd.Series:
    """The status of each stage name through ``statuses`` (the export's name, else its
    ``values: {stage: ...}`` rename); None where empty or unknown."""
    renamed = text.map(tm.values.get("stage", {}))
    status = text.map(tm.statuses)
    return status.where(status.notna(), renamed.map(tm.statuses)).astype(object)


def derive_status_changes(parsed: Parsed, table: str, mapping: SourceMapping) -> Parsed:
    """Step 1c (opportunity_changes with ``statuses``): a stage change whose stages mean
    different statuses (or whose new stage ``statuses`` does not list) also gives a
    ``status`` change at the same time, right after it (marked in ``derived``; its
    values are mapped in :func:`coerce`). Such rows count as read: one record of the
    file gives two rows."""
    tm: TableMapping = mapping.tables[table]
    if table != "opportunity_changes" or not tm.statuses or "field" not in parsed.columns:
        return parsed
    n = len(parsed.raw)
    field_ = _clean_text(parsed.columns["field"].astype(object).fillna(""))
    old = _clean_text(parsed.columns.get("old_value", pd.Series("", index=parsed.raw.index)
                                          ).astype(object).fillna(""))
    new = _clean_text(parsed.columns.get("new_value", pd.Series("", index=parsed.raw.index)
                                          ).astype(object).fillna(""))
    st_old, st_new = _stage_status(old, tm), _stage_status(new, tm)
    unknown = st_new.isna() & (new != "")
    differs = st_new.notna() & (st_old.isna() | (st_old != st_new))
    want = ((field_ == "stage") & (unknown | differs)).to_numpy()
    if not want.any():
        return parsed
    pos = np.concatenate([np.arange(n), np.flatnonzero(want)])
    is_derived = np.concatenate([np.zeros(n, dtype=bool), np.ones(int(want.sum()), dtype=bool)])
    order = np.lexsort((is_derived, pos))
    pos, is_derived = pos[order], is_derived[order]
    before = parsed.derived if parsed.derived is not None else np.zeros(n, dtype=bool)
    out = _take(parsed, pos)
    out.derived = before[pos] | is_derived
    if out.damaged is not None:  # the record's damage is quarantined once, on its own row
        out.damaged = out.damaged[~is_derived[out.damaged["idx"].to_numpy()]].reset_index(
            drop=True)
    out.columns["field"] = out.columns["field"].astype(object).where(~is_derived, "status")
    return out


# --------------------------------------------------------------------------- 2. coerce


@dataclass
class Coerced:
    """The canonical frame of one raw frame, before validation."""

    #: the table's columns in schema order, parsed
    frame: pd.DataFrame
    #: canonical column -> the raw values (shown in the quarantine's ``value``)
    texts: dict[str, pd.Series]
    #: data-quality note code -> the rows it applies to
    notes: dict[str, pd.Series]
    #: open deals without a creation date (created_at is NaT again after validation)
    estimated: pd.Series


def _typed_dates(typed: tuple[np.ndarray, np.ndarray]) -> pd.Series:
    """Workbook date cells, and number cells as Excel serial dates (1900 system)."""
    dates, numbers = typed
    out = pd.Series(dates, dtype="datetime64[us]")
    serial = (numbers >= 1) & (numbers <= MAX_SERIAL)
    if serial.any():
        days = pd.to_timedelta(np.where(serial, numbers, 0), unit="D").round("ms")
        out = out.where(~pd.Series(serial), (EXCEL_EPOCH + days).astype("datetime64[us]"))
    return out


def _coerce_dates(col: str, s: pd.Series, clean: pd.Series | None, null: pd.Series,
                  parsed_in: Parsed, mapping: SourceMapping, timezone: str,
                  tokens: frozenset[str], problems: Problems) -> pd.Series:
    parsed = _parse_dates(s, mapping.date_formats, mapping.timezone, timezone, tokens, clean)
    if col in parsed_in.typed:  # workbook date (or serial number) cells: as they are
        cells = _typed_dates(parsed_in.typed[col]).set_axis(s.index)
        if cells.notna().any():
            local = _parse_dates(cells, mapping.date_formats, mapping.timezone, timezone)
            parsed = parsed.where(cells.isna(), local)
    failed = parsed.isna() & ~null
    if failed.any():  # year 1 and the like do not parse at all: say why
        src = clean if clean is not None else _clean_text(s.astype(str))
        year = src[failed].str.extract(r"(?<![0-9])([0-9]{4})(?![0-9])")[0]
        early = pd.Series(False, index=s.index)
        early[failed] = pd.to_numeric(year, errors="coerce").lt(1970).to_numpy()
        problems.add(early, col, "date_before_1970", "date before 1970", s)
        problems.add(failed & ~early, col, "bad_date", "unparseable date", s)
    problems.add(parsed < _EPOCH, col, "date_before_1970", "date before 1970", s)
    return parsed


def _coerce_numbers(col: str, s: pd.Series, clean: pd.Series | None, null: pd.Series,
                    parsed_in: Parsed, mapping: SourceMapping, problems: Problems) -> pd.Series:
    parsed = _parse_numbers(s, mapping.decimal, mapping.thousands, clean)
    if col in parsed_in.typed:  # workbook number cells: the number, whatever the decimal mark
        cells = pd.Series(parsed_in.typed[col][1], index=s.index)
        parsed = parsed.where(cells.isna(), cells)
    nan = parsed_in.nan.get(col)
    if nan is not None:  # a NaN (not a null) in a typed Parquet column
        problems.add(nan, col, "not_finite", f"{col} is not a finite number", s)
        null = null & ~pd.Series(nan, index=s.index)
    problems.add(np.isinf(parsed), col, "not_finite", f"{col} is not a finite number", s)
    problems.add(parsed.isna() & ~null, col, "bad_number", f"non-numeric {col}", s)
    problems.add(parsed.abs() > MAX_ABS_NUMBER, col, "out_of_range",
                 f"{col} out of range (beyond ±1e13)", s)
    return parsed.where(np.isfinite(parsed), np.nan)


def _coerce_column(col: str, parsed_in: Parsed, table: str, mapping: SourceMapping,
                   timezone: str, tokens: frozenset[str], problems: Problems
                   ) -> tuple[pd.Series, pd.Series]:
    """One canonical column parsed by its kind, and its missing-value mask."""
    s = parsed_in.columns[col]
    kind = TABLES[table].field(col).kind
    clean = _clean_text(s) if (s.dtype == object or pd.api.types.is_string_dtype(s)) else None
    null = _is_null(s, tokens, clean)
    if kind == "datetime":
        out = _coerce_dates(col, s, clean, null, parsed_in, mapping, timezone, tokens, problems)
    elif kind in ("float", "int"):
        out = _coerce_numbers(col, s, clean, null, parsed_in, mapping, problems)
    elif kind == "bool":
        out = _parse_bools(s, mapping.tables[table].booleans)
        problems.add(out.isna() & ~null, col, "bad_bool", f"not a yes/no value in {col}", s)
    else:
        out = _strip(s.astype(object).where(~null, None))
    return out, null


def _estimate_created(out: pd.DataFrame, nulls: dict[str, pd.Series], now: pd.Timestamp,
                      mapping: SourceMapping, notes: dict[str, pd.Series]) -> pd.Series:
    """Open deals without a creation date are kept (their created_at estimated later);
    closed deals created a few days after they closed get created_at = closed_at."""
    estimated = pd.Series(False, index=out.index)
    if "created_at" not in out or "status" not in out:
        return estimated
    # an open deal with no creation date at all is a valid open opportunity: it gets the
    # export's last date (the best evidence that it existed), flagged
    estimated = (out["status"] == "open") & nulls.get("created_at", out["created_at"].isna())
    if estimated.any():
        notes["created_at_estimated"] = estimated
        out.loc[estimated, "created_at"] = now  # placeholder for the checks below
    if "closed_at" in out:
        # created a day or two after it closed (entered after the fact): kept, floored
        gap = out["created_at"] - out["closed_at"]
        late = (out["status"] != "open") & (gap > pd.Timedelta(0)) & (
            gap <= pd.Timedelta(days=mapping.created_after_close_days))
        if late.any():
            notes["created_after_close"] = late
            out.loc[late, "created_at"] = out.loc[late, "closed_at"]
    return estimated


def _convert_currency(out: pd.DataFrame, table: str, mapping: SourceMapping,
                      now: pd.Timestamp, texts: dict[str, pd.Series], problems: Problems,
                      notes: dict[str, pd.Series]) -> None:
    """Amounts in another currency converted to the reporting one: with dated rates (the
    latest on or before the amount's date), else the mapping's static rates."""
    reporting = mapping.currency.reporting.upper()
    cur = out["currency"] if "currency" in out else pd.Series(None, index=out.index)
    codes, uniques = pd.factorize(cur.astype(object).fillna(mapping.currency.default))
    # a handful of distinct codes: upper-cased and stripped once each, not once a row
    cur = pd.Series(np.array([str(u).upper().strip() for u in uniques], dtype=object)[codes]
                    if len(uniques) else np.array([], dtype=object), index=out.index, dtype=object)
    foreign = cur != reporting
    rate = pd.Series(np.where(foreign, np.nan, 1.0), index=out.index)
    if foreign.any():
        dated_rates = load_rates(mapping)
        if dated_rates is not None:
            if table == "opportunities":
                when = out["closed_at"].where(out["status"] != "open", now)
                when = when.fillna(out["created_at"])
            elif table == "opportunity_snapshots":  # the rate of the day it was recorded
                when = out["observed_at"]
            elif table == "quotas":  # the rate of the period's first day
                when = _quota_starts(out["period"])
            else:
                when = out["date"] if "date" in out else pd.Series(now, index=out.index)
            when = when.fillna(now).astype("datetime64[us]")
            probe = pd.DataFrame({"date": when[foreign], "currency": cur[foreign],
                                  "pos": np.flatnonzero(foreign.to_numpy())})
            probe = probe.sort_values("date", kind="stable")
            got = pd.merge_asof(probe, dated_rates, on="date", by="currency",
                                direction="backward")
            got = got[got["rate"].notna()]
            rate.iloc[got["pos"].to_numpy()] = got["rate"].to_numpy()
            dated = pd.Series(False, index=out.index)
            dated.iloc[got["pos"].to_numpy()] = True
            notes["fx_dated"] = dated
        static = rate.isna() & foreign
        rate[static] = cur[static].map(mapping.currency.rates)
        notes["fx_static"] = static & rate.notna()
    problems.add(rate.isna(), "currency", "unknown_currency", "unknown currency without a rate",
                 cur)
    out["amount"] = out["amount"] * rate.astype(float)
    problems.add(out["amount"].abs() > MAX_ABS_NUMBER, "amount", "out_of_range",
                 "amount out of range (beyond ±1e13)", texts.get("amount"))
    out["currency"] = reporting


def _convert_change_amounts(out: pd.DataFrame, mapping: SourceMapping,
                            problems: Problems) -> None:
    """Amount changes in another currency (their ``currency``, else the mapping's default)
    converted to the reporting currency like every stored amount: with the dated rate of
    the change's day, else the mapping's static rate (``unknown_currency`` without one).
    Other rows keep their currency column empty."""
    is_amount = out["field"].astype(object).eq("amount").to_numpy()
    reporting = mapping.currency.reporting.upper()
    cur = out["currency"] if "currency" in out else pd.Series(None, index=out.index)
    codes, uniques = pd.factorize(cur.astype(object).fillna(mapping.currency.default))
    # a handful of distinct codes: upper-cased and stripped once each, not once a row
    cur = pd.Series(np.array([str(u).upper().strip() for u in uniques], dtype=object)[codes]
                    if len(uniques) else np.array([], dtype=object), index=out.index, dtype=object)
    foreign = pd.Series(is_amount, index=out.index) & (cur != reporting)
    if foreign.any():
        rate = pd.Series(np.nan, index=out.index)
        dated_rates = load_rates(mapping)
        if dated_rates is not None and "changed_at" in out:
            when = out["changed_at"].astype("datetime64[us]")
            probe = pd.DataFrame({"date": when[foreign], "currency": cur[foreign],
                                  "pos": np.flatnonzero(foreign.to_numpy())}).dropna(
                subset=["date"]).sort_values("date", kind="stable")
            got = pd.merge_asof(probe, dated_rates, on="date", by="currency",
                                direction="backward")
            got = got[got["rate"].notna()]
            rate.iloc[got["pos"].to_numpy()] = got["rate"].to_numpy()
        static = rate.isna() & foreign
        rate[static] = cur[static].map(mapping.currency.rates)
        problems.add(foreign & rate.isna(), "currency", "unknown_currency",
                     "unknown currency without a rate", cur)
        for col in ("old_value", "new_value"):
            if col not in out:
                continue
            num = pd.to_numeric(out[col].where(foreign), errors="coerce") * rate
            ok = foreign & num.notna()
            out.loc[ok, col] = [_plain_number(x) for x in num[ok]]
    out["currency"] = pd.Series(np.where(is_amount, reporting, None), index=out.index,
                                dtype=object)


def _plain_number(x: float) -> str:
    """A number as plain decimal text: 36000, 36000.5, 0.75 (no exponent, no trailing 0)."""
    return np.format_float_positional(float(x), trim="-")


def canonical_changes(out: pd.DataFrame, parsed: Parsed, tm: TableMapping,
                      mapping: SourceMapping, timezone: str, tokens: frozenset[str],
                      problems: Problems) -> None:
    """opportunity_changes: old and new values in the canonical text form of their field.

    ``amount``: a plain decimal (``$36,000.00`` -> ``36000``; the mapping's decimal mark and
    thousands separator); ``probability``: a fraction (``75%`` -> ``0.75``; without a
    percent sign the value is multiplied by ``scale: {probability: ...}``, e.g. 0.01 for a
    CRM that gives 75), between 0 and 1; ``close_date``: an ISO date ``YYYY-MM-DD`` read
    with the mapping's date formats; ``stage``, ``owner``, ``currency``, ``status``,
    ``forecast_category``: the text, renamed by ``values: {<field>: {...}}``; a status
    must then be open, won or lost (``deleted`` makes the row a ``deleted`` change), a
    forecast category one of the canonical ones; ``deleted``: ``true`` / ``false`` by
    ``booleans``. A status change derived from a stage change maps both stages through
    ``statuses``. What does not parse is a problem naming the column (old_value or
    new_value) and the field (``bad_number``, ``bad_date``, ``out_of_range``,
    ``invalid_value``, ``unknown_stage``)."""
    field_ = out["field"].astype(object).where(out["field"].notna(), "").astype(str).str.strip()
    derived = (pd.Series(parsed.derived, index=out.index) if parsed.derived is not None
               else pd.Series(False, index=out.index))
    plain = ~derived
    deleting = pd.Series(False, index=out.index)
    for col in ("old_value", "new_value"):
        if col not in out:
            continue
        s = out[col]
        raw = parsed.columns.get(col, s)
        text = _clean_text(s.astype(object).where(s.notna(), ""))
        null = _is_null(s, tokens, text)
        res = s.astype(object).where(~null, None)

        def rename(f: str, t: pd.Series) -> pd.Series:
            return t.replace(tm.values[f]) if f in tm.values else t

        # numbers
        for f in ("amount", "probability"):
            m = plain & (field_ == f) & ~null
            if not m.any():
                continue
            t = text[m]
            pct = t.str.endswith("%")
            num = _parse_numbers(t.str.rstrip("%").str.strip(), mapping.decimal, mapping.thousands)
            bad = num.isna() | ~np.isfinite(num)
            problems.add(bad.reindex(out.index, fill_value=False), col, "bad_number",
                         f"non-numeric {f} in {col}", raw)
            if f == "probability":
                num = num.where(~pct, num / 100)
                num = num.where(pct, num * tm.scale.get("probability", 1.0))
                outside = ~bad & ~num.between(0, 1)
                problems.add(outside.reindex(out.index, fill_value=False), col, "out_of_range",
                             f"probability in {col} is not between 0 and 1", raw)
            else:
                num = num * tm.scale.get("amount", 1.0)
                outside = ~bad & (num.abs() > MAX_ABS_NUMBER)
                problems.add(outside.reindex(out.index, fill_value=False), col, "out_of_range",
                             f"amount in {col} out of range (beyond ±1e13)", raw)
            res[m] = [None if pd.isna(x) else _plain_number(x) for x in num]
        # dates
        m = plain & (field_ == "close_date") & ~null
        if m.any():
            d = _parse_dates(text[m], mapping.date_formats, mapping.timezone, timezone)
            problems.add(d.isna().reindex(out.index, fill_value=False), col, "bad_date",
                         f"unparseable date in {col} (close_date)", raw)
            problems.add((d < _EPOCH).reindex(out.index, fill_value=False), col,
                         "date_before_1970", f"date before 1970 in {col} (close_date)", raw)
            res[m] = [None if pd.isna(x) else f"{x:%Y-%m-%d}" for x in d]
        # text fields
        for f in ("stage", "owner", "currency", "status", "forecast_category"):
            m = plain & (field_ == f) & ~null
            if m.any():
                res[m] = rename(f, text[m])
        m = plain & (field_ == "currency") & ~null
        if m.any():
            res[m] = res[m].astype(str).str.upper()
            problems.add((~res[m].str.fullmatch("[A-Z]{3}")).reindex(out.index, fill_value=False),
                         col, "invalid_value", f"currency in {col} is not a three-letter code",
                         raw)
        m = plain & (field_ == "status") & ~null
        if m.any():
            if col == "new_value":
                deleting = deleting | (m & (res == "deleted"))
            bad = m & ~res.isin(STATUSES) & ~(res == "deleted")
            problems.add(bad, col, "invalid_value",
                         f"status in {col} must be open, won or lost", raw)
        m = plain & (field_ == "forecast_category") & ~null
        if m.any():
            problems.add(m & ~res.isin(FORECAST_CATEGORIES), col, "invalid_value",
                         f"unknown forecast category in {col}", raw)
        m = plain & (field_ == "deleted") & ~null
        if m.any():
            b = _parse_bools(text[m], tm.booleans)
            problems.add(b.isna().reindex(out.index, fill_value=False), col, "bad_bool",
                         f"not a yes/no value in {col} (deleted)", raw)
            res[m] = [None if v is None else ("true" if v else "false") for v in b]
        # a status derived from a stage change: both stages through `statuses`
        if derived.any():
            st = _stage_status(text[derived], tm).where(~null[derived], None)
            res[derived] = st
            if col == "new_value":
                problems.add(derived & st.reindex(out.index).isna() & ~null, col,
                             "unknown_stage", "unknown stage (its status is not known)", raw)
        out[col] = res.astype(object)
    if deleting.any():  # a status change to "deleted": the deal was deleted then
        out.loc[deleting, "field"] = "deleted"
        out.loc[deleting, "old_value"] = None
        out.loc[deleting, "new_value"] = "true"


def _quota_starts(labels: pd.Series) -> pd.Series:
    """The first day of each canonical quota period label (NaT where there is none)."""
    from ..periods import parse_period

    starts = {lab: parse_period(lab).start for lab in labels.dropna().unique()
              if quota_period_label(lab) == lab}
    return pd.to_datetime(labels.map(starts), errors="coerce")


def _quota_columns(out: pd.DataFrame, texts: dict[str, pd.Series], problems: Problems) -> None:
    """quotas: ``scope_type`` in lower case (``Rep`` -> ``rep``; other values fail the
    schema's check, ``invalid_value``) and ``period`` as its canonical label (``2026-q4``,
    ``Q4 2026``, a spreadsheet's ``2026-11-01`` -> ``2026-Q4`` / ``2026-11``); a period that
    is neither a month nor a quarter is ``bad_period``."""
    if "scope_type" in out:
        st = out["scope_type"]
        out["scope_type"] = st.where(st.isna(), st.astype(str).str.strip().str.lower())
    if "period" in out:
        raw = out["period"]
        labels = raw.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                         else quota_period_label(v))
        bad = raw.notna() & labels.isna()
        problems.add(bad, "period", "bad_period",
                     "period is not a month (2026-11) or a quarter (2026-Q4)",
                     texts.get("period", raw))
        out["period"] = labels.astype(object)


def _schema_order(out: pd.DataFrame, table: str) -> pd.DataFrame:
    """The table's columns in schema order; unmapped ones empty, typed by kind."""
    spec = TABLES[table]
    for c in spec.columns:
        if c not in out:
            kind = spec.field(c).kind
            if kind in ("float", "int"):
                out[c] = pd.Series(np.nan, index=out.index, dtype="float64")
            elif kind == "datetime":
                out[c] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
            else:
                out[c] = pd.Series([None] * len(out), index=out.index, dtype=object)
    return out[spec.columns]


def coerce(parsed: Parsed, table: str, mapping: SourceMapping, problems: Problems, *,
           now: pd.Timestamp, timezone: str = "UTC") -> Coerced:
    """Step 2: the canonical frame, every value parsed by its column's kind.

    Dates (``bad_date``, ``date_before_1970``, ``date_in_future`` after ``now`` plus a
    day), numbers (``bad_number``, ``not_finite``, ``out_of_range``), yes/no values
    (``bad_bool``) and clean text; stages mapped to statuses (``unknown_stage``; an open
    deal has no close date); open deals without a creation date kept (note
    ``created_at_estimated``) and closed deals created a few days after closing floored
    (``created_after_close``); amounts converted to the reporting currency
    (``unknown_currency``, notes ``fx_dated`` / ``fx_static``). Problems go to
    ``problems``; nothing is dropped here.
    """
    tm: TableMapping = mapping.tables[table]
    tokens = frozenset(t.strip().lower() for t in mapping.null_tokens)
    out = pd.DataFrame(index=parsed.raw.index)
    nulls: dict[str, pd.Series] = {}
    pct = None
    if "probability" in parsed.columns and TABLES[table].field("probability").kind == "float":
        # "75%" is a percent whatever `scale` says: read 75, divided by 100 below
        s = parsed.columns["probability"]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = _clean_text(s.astype(object).where(s.notna(), ""))
            pct = text.str.endswith("%")
            if pct.any():
                parsed.columns["probability"] = s.where(~pct, text.str.rstrip("%").str.strip())
    for col in parsed.columns:
        out[col], nulls[col] = _coerce_column(col, parsed, table, mapping, timezone, tokens,
                                              problems)
    for col, value in tm.constants.items():
        out[col] = value
    texts = dict(parsed.columns)
    if table == "quotas":
        _quota_columns(out, texts, problems)
    if parsed.stage is not None:
        status = parsed.stage.map(tm.statuses)
        # a snapshot's empty stage is "not recorded" (carried forward), not unknown
        unknown = status.isna() & ~((parsed.stage == "") & (table != "opportunities"))
        problems.add(unknown, "stage", "unknown_stage", "unknown stage", parsed.stage)
        out["status"] = status.astype(object)
        if "stage" not in out:
            out["stage"] = parsed.stage.astype(object).where(parsed.stage != "", None)
    if table == "opportunity_changes" and "field" in out:
        canonical_changes(out, parsed, tm, mapping, timezone, tokens, problems)
        _convert_change_amounts(out, mapping, problems)
    for col, factor in tm.scale.items():
        if col in out and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col] * factor
    if pct is not None and pct.any():
        factor = tm.scale.get("probability", 1.0)
        out.loc[pct, "probability"] = out.loc[pct, "probability"] / factor / 100
    if table == "opportunities" and "closed_at" in out:
        # an open deal has no close date: CRMs put the *expected* close date there, which
        # is kept as expected_close_date (unless the export maps that column itself)
        is_open = out["status"] == "open"
        if "expected_close_date" not in out:
            out["expected_close_date"] = out["closed_at"].where(is_open, pd.NaT)
        out["closed_at"] = out["closed_at"].where(~is_open, pd.NaT)
    # dates after the data's as-of time (plus a day's tolerance) are typos or test data
    limit = now + FUTURE_TOLERANCE
    for col in FUTURE_CHECKED.get(table, ()):
        if col in out and pd.api.types.is_datetime64_any_dtype(out[col]):
            problems.add(out[col] > limit, col, "date_in_future",
                         f"date in the future (after {now.date()})", texts.get(col, out[col]))
    notes: dict[str, pd.Series] = {}
    estimated = pd.Series(False, index=out.index)
    if table == "opportunities":
        estimated = _estimate_created(out, nulls, now, mapping, notes)
    if "currency" in TABLES[table].columns and "amount" in out:
        _convert_currency(out, table, mapping, now, texts, problems, notes)
    return Coerced(_schema_order(out, table), texts, notes, estimated)


def derive_revenue_ids(frame: pd.DataFrame, table: str, seen: SeenKeys | None) -> None:
    """Revenue lines without an id get a stable one: a hash of account, date, amount, kind
    and the line's occurrence among identical lines (counted across chunks by ``seen``)."""
    if table != "revenue":
        return
    missing_id = frame["revenue_id"].isna()
    if not missing_id.any():
        return
    key = (
        frame["account_id"].astype(str) + "|" + frame["date"].astype(str) + "|"
        + frame["amount"].astype(str) + "|" + frame["kind"].astype(str)
    )
    counts = seen.revenue_counts if seen is not None else {}
    occurrence = key.groupby(key).cumcount() + key.map(counts).fillna(0).astype(int)
    if seen is not None:
        for k, c in key.value_counts().items():
            counts[k] = counts.get(k, 0) + int(c)
    derived = (key + "|" + occurrence.astype(str)).map(
        lambda k: "R" + hashlib.sha1(k.encode()).hexdigest()[:16]
    )
    frame.loc[missing_id, "revenue_id"] = derived[missing_id]


# --------------------------------------------------------------------------- 3. validate


@functools.cache
def _value_schema(table: str) -> pa.DataFrameSchema:
    """The table's pandera schema without dtype checks: the parsing above sets the dtypes,
    and pandera's element-wise string dtype check costs more than the value checks."""
    schema = pandera_schema(table)
    return schema.update_columns({c: {"dtype": None} for c in schema.columns})


def _pandera_reason(column: str, check: str) -> tuple[str, str, str]:
    """(code, reason text, column judged) of a pandera failure."""
    if check == "not_nullable":
        return "missing_required", f"missing required field {column}", column
    if check in PANDERA_CHECKS:
        code, judged = PANDERA_CHECKS[check]
        return code, check, judged or column
    if check.startswith("greater_than_or_equal_to"):  # a range check without error text
        return "negative_value", "negative value", column
    return "invalid_value", check, column


def validate(frame: pd.DataFrame, table: str, texts: dict[str, pd.Series],
             problems: Problems) -> None:
    """Step 3: the table's pandera schema (lazily: all failures at once) on the rows
    without a problem yet: ``missing_required``, ``negative_value``, ``invalid_value``,
    ``closed_without_date``, ``closed_before_created``, ``won_without_amount``."""
    bad = problems.rows()
    check_frame = frame.drop(index=bad) if bad else frame
    if not len(check_frame):
        return
    try:
        _value_schema(table).validate(check_frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        found: dict[tuple[str, str, str], list[np.ndarray]] = {}
        for (column, check), grp in fc.groupby(
            [fc["column"].fillna(""), fc["check"].astype(str)], dropna=False
        ):
            # a dataframe-wide rule fails once per column of each failing row: once here
            found.setdefault(_pandera_reason(column, check), []).append(
                grp["index"].astype(int).to_numpy())
        for (code, reason, column), parts in found.items():
            src = texts.get(column, frame[column] if column in frame else None)
            problems.add_rows(np.unique(np.concatenate(parts)), column, code, reason, src)


# --------------------------------------------------------------------------- 4. deduplicate


def deduplicate(frame: pd.DataFrame, table: str, file: str, lines: np.ndarray,
                problems: Problems, seen: SeenKeys | None = None) -> None:
    """Step 4: rows whose key was met before keep the first; the others are quarantined
    (``duplicate_key`` when identical to the first, ``conflicting_duplicate`` when not),
    naming the first's row (and file, when another file of the export). Only rows without
    a problem count. ``seen`` carries the keys of earlier chunks and files (and learns
    this frame's); without it only duplicates within the frame are found."""
    keycols = list(TABLES[table].key)
    ok = frame[~frame.index.isin(problems.rows())]
    if not len(ok):
        return
    loaded_before = seen.loaded.get(file, 0) if seen is not None else 0
    keys = key_strings(ok[keycols])
    rows = lines[ok.index.to_numpy()]
    hashes = pd.util.hash_pandas_object(ok, index=False).to_numpy()
    firsts = pd.DataFrame({"k": keys.to_numpy(), "row": rows, "h": hashes}, index=ok.index)
    ref = firsts.groupby("k", sort=False)[["row", "h"]].transform("first")
    ref["file"] = file
    first_in_chunk = ~keys.duplicated(keep="first")
    hit = pd.Series(False, index=keys.index)
    if seen is not None:
        earlier = seen.lookup(keys[first_in_chunk])
        if len(earlier):
            hit = keys.isin(earlier.index)
            ref.loc[hit, "row"] = keys[hit].map(earlier["first_row"]).astype("int64")
            ref.loc[hit, "h"] = keys[hit].map(earlier["h"]).astype("uint64")
            ref.loc[hit, "file"] = keys[hit].map(earlier["file"])
    dup = (hit | ~first_in_chunk).to_numpy()
    if seen is not None:
        new = (first_in_chunk & ~hit).to_numpy()
        pos = loaded_before + np.cumsum(~dup) - 1
        seen.add(keys[new], rows[new], hashes[new], file, pos[new])
        seen.loaded[file] = loaded_before + int((~dup).sum())
    if not dup.any():
        return
    same = ref["h"].to_numpy()[dup] == hashes[dup]
    if seen is not None and (~same).any():
        seen.add_conflicts(keys[dup][~same], rows[dup][~same], file)
    reasons = [duplicate_reason(s, j, f, file) for s, j, f in zip(
        same, ref["row"].to_numpy()[dup], ref["file"].to_numpy()[dup], strict=True)]
    codes = np.where(same, "duplicate_key", "conflicting_duplicate").tolist()
    problems.add_rows(ok.index.to_numpy()[dup], ",".join(keycols), codes, reasons,
                      ok[keycols[0]].astype(str).to_numpy()[dup])


# --------------------------------------------------------------------------- 5. quarantine


def quarantine(parsed: Parsed, frame: pd.DataFrame, table: str, file: str,
               problems: Problems, unpivot_value: str | None = None,
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Step 5: ``(loaded, quarantine, qkeys)``. Each rejected row is quarantined once,
    with its first problem (damage found while reading first, then by column): file, row
    number, column, ``reason_code``, ``reason``, the raw value (200 characters at most)
    and the raw record as JSON; records the reader could not take as rows join it. A
    problem of an unpivoted cell (column ``unpivot_value``) names the export column the
    cell came from.
    ``qkeys`` are the keys of the quarantined rows (where known): their old versions
    leave the store."""
    keycols = list(TABLES[table].key)
    found = problems.frame()
    if len(found):
        found = found.sort_values(["idx", "prio", "column"], kind="stable")
        found = found.drop_duplicates("idx", keep="first")  # one reason per row
        qi = found["idx"].to_numpy().astype("int64")
        column = found["column"].to_numpy(dtype=object)
        if unpivot_value is not None and UNPIVOT_COLUMN in parsed.raw:
            origin = parsed.raw[UNPIVOT_COLUMN].to_numpy(dtype=object)[qi]
            column = np.where(column == unpivot_value, origin, column)
        q = pd.DataFrame({
            "file": file,
            "table": table,
            "row": parsed.lines[qi],
            "column": column,
            "reason_code": found["code"].to_numpy(),
            "reason": found["reason"].to_numpy(),
            "value": found["value"].astype(str).str.slice(0, 200).to_numpy(),
            "record": _record_json(parsed.raw, qi),
        })
        qkeys = frame.loc[qi, keycols]
        qkeys = qkeys[qkeys.notna().all(axis=1)]
        loaded = frame.drop(index=qi)
    else:
        q = pd.DataFrame(columns=QUARANTINE_COLUMNS)
        qkeys = frame.iloc[:0][keycols]
        loaded = frame
    extra = parsed.extra
    if extra is not None and len(extra):
        q = pd.concat(
            [q, extra.assign(file=file, table=table)[QUARANTINE_COLUMNS]], ignore_index=True,
        ).astype({"row": "int64"}).sort_values("row", kind="stable").reset_index(drop=True)
    return loaded, q, qkeys


def count_reasons(q: pd.DataFrame) -> tuple[dict[str, int], dict[str, str]]:
    """Quarantined rows per reason label, and each label's code."""
    if not len(q):
        return {}, {}
    labels = [reason_label(c, r) for c, r in zip(q["reason_code"], q["reason"], strict=True)]
    counts = pd.Series(labels).value_counts().to_dict()
    codes = dict(zip(labels, q["reason_code"], strict=True))
    return counts, codes


# --------------------------------------------------------------------------- all steps


def _fill_estimated(frame: pd.DataFrame, now: pd.Timestamp) -> pd.Timestamp:
    """Give the open deals without a creation date (NaT) the latest date of the others
    (the export's last date; the as-of date when there is none). Returns that date."""
    est = frame["created_at"].isna()
    known = [frame.loc[~est, c].max() for c in ("created_at", "closed_at", "last_activity_at")
             if c in frame]
    known = [k for k in known if pd.notna(k)]
    end = max(known) if known else now.normalize()
    frame.loc[est, "created_at"] = end
    return pd.Timestamp(end)


def _flags(loaded: pd.DataFrame, notes: dict[str, pd.Series], keycol: str
           ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The loaded rows with an estimated or corrected value (``key``, ``code``), and the
    loaded rows each note applies to."""
    counts = {code: int(mask.reindex(loaded.index, fill_value=False).sum())
              for code, mask in notes.items()}
    parts = [loaded.loc[notes[c].reindex(loaded.index, fill_value=False), keycol].astype(str)
             for c in _ESTIMATES if c in notes]
    flags = pd.DataFrame({"key": pd.concat(parts or [pd.Series([], dtype=object)],
                                           ignore_index=True)})
    flags["code"] = [c for c in _ESTIMATES if c in notes for _ in range(counts[c])]
    return flags, counts


def map_table(
    raw: pd.DataFrame,
    table: str,
    mapping: SourceMapping,
    file: str,
    *,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    row_offset: int = 0,
    seen: SeenKeys | None = None,
    timezone: str = "UTC",
    defer_estimates: bool = False,
) -> MappedTable:
    """Map one export frame onto canonical ``table``; quarantine the rows that fail.

    Runs :func:`parse`, :func:`coerce`, :func:`validate`, :func:`deduplicate` and
    :func:`quarantine`. ``raw`` may be one chunk of a file: ``row_offset`` is the number
    of data rows before it (row numbers continue; frames from :func:`iter_export` carry
    each row's physical line instead), and ``seen`` carries the keys of the earlier
    chunks (and files) so duplicates are found across the whole file or export. ``as_of``
    (default: now) is the time after which (plus one day) a date is "in the future".
    ``timezone`` is the reporting time zone timestamps are converted to (dates stay
    calendar dates). ``defer_estimates``: leave the estimated creation dates empty (the
    caller fills them with the file's last date).

    Each quarantined row has a ``reason_code`` (see :mod:`.reasons`) and a ``reason``:
    ``missing required field <column>``, ``unparseable date``, ``date before 1970``,
    ``non-numeric <column>``, ``<column> is not a finite number``, ``<column> out of
    range``, ``amount is negative``, ``unknown stage``, ``unknown currency without a
    rate``, ``closed before created``, ``closed deal without closed_at``, ``won deal
    without amount``, ``date in the future (after <as-of date>)``, ``duplicate id
    (identical to row N)``, ``duplicate id with conflicting values (first seen at row
    N)``, ``unbalanced quote: ...``, ``more fields than the header ...``.
    ``result.reasons`` counts them by :func:`.reasons.reason_label` (without row numbers).
    """
    now = _as_of(as_of)
    tm = mapping.tables[table]
    if tm.unpivot is not None:
        raw = _with_lines(raw, row_offset)
        raw = unpivot(raw, table, mapping)
    parsed = parse(raw, table, mapping, file, row_offset)
    parsed = select_rows(parsed, table, mapping)
    parsed = derive_status_changes(parsed, table, mapping)
    problems = Problems()
    if parsed.damaged is not None:
        d = parsed.damaged
        problems.add_rows(d["idx"].astype("int64").to_numpy(), d["column"].to_numpy(),
                          d["code"].to_numpy(), d["reason"].to_numpy(), d["value"].to_numpy(),
                          prio=0)
    co = coerce(parsed, table, mapping, problems, now=now, timezone=timezone)
    derive_revenue_ids(co.frame, table, seen)
    validate(co.frame, table, co.texts, problems)
    if co.estimated.any():
        co.frame["created_at"] = co.frame["created_at"].where(~co.estimated, pd.NaT)
        if not defer_estimates:
            _fill_estimated(co.frame, now)
    deduplicate(co.frame, table, file, parsed.lines, problems, seen)
    loaded, q, qkeys = quarantine(parsed, co.frame, table, file, problems,
                                  unpivot_value=tm.unpivot.value if tm.unpivot else None)
    reasons, codes = count_reasons(q)
    flags, note_counts = _flags(loaded, co.notes, TABLES[table].key[0])
    if parsed.skipped:
        note_counts["rows_skipped"] = parsed.skipped
    extra = len(parsed.extra) if parsed.extra is not None else 0
    result = FileResult(file, table, len(parsed.raw) + extra, len(loaded), len(q), reasons,
                        notes={k: v for k, v in note_counts.items() if v}, reason_codes=codes)
    return MappedTable(table, file, loaded.reset_index(drop=True), q, result,
                       qkeys.reset_index(drop=True), flags)
