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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..exceptions import MappingError
from ..schema import TABLES, pandera_schema
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
}


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
    if tm.status_from and tm.status_from not in raw.columns:
        missing.append(repr(tm.status_from))
    if missing:
        wanted = len(tm.columns) + (1 if tm.status_from else 0)
        raise MappingError(
            f"{file}: column(s) {', '.join(missing)} named in mapping "
            f"{mapping.path or mapping.name} (table {table}) are not in the file; the file has: "
            + ", ".join(repr(c[:80]) for c in list(raw.columns)[:30])
            + _one_column_hint(raw, wanted)
        )
    return sources


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
            s = s.astype(object).where(s.notna(), "").astype(str).str.strip().replace(tm.values[col])
        columns[col] = s
        if t is not None:
            typed[col] = t
        if cols[0] in nan_in:
            nan[col] = nan_in[cols[0]]
    stage = None
    if table == "opportunities" and tm.status_from:
        stage = raw[tm.status_from].astype(object).where(raw[tm.status_from].notna(), "")
        stage = stage.astype(str).str.strip()
    flags = attrs.get("flags")
    damaged = flags if flags is not None and len(flags) else None
    return Parsed(raw, columns, lines, stage, typed, nan, damaged, attrs.get("extra"))


def _merge_typed(a: tuple[np.ndarray, np.ndarray] | None, b: tuple[np.ndarray, np.ndarray] | None,
                 use_b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    empty = (np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"), np.full(n, np.nan))
    a, b = a or empty, b or empty
    return np.where(use_b, b[0], a[0]), np.where(use_b, b[1], a[1])


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
        out = s.astype(object).where(~null, None)
        out = out.where(out.isna(), out.astype(str).str.strip()).astype(object)
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
    cur = cur.astype(object).fillna(mapping.currency.default).astype(str).str.upper().str.strip()
    foreign = cur != reporting
    rate = pd.Series(np.where(foreign, np.nan, 1.0), index=out.index)
    if foreign.any():
        dated_rates = load_rates(mapping)
        if dated_rates is not None:
            if table == "opportunities":
                when = out["closed_at"].where(out["status"] != "open", now)
                when = when.fillna(out["created_at"])
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
    for col in parsed.columns:
        out[col], nulls[col] = _coerce_column(col, parsed, table, mapping, timezone, tokens,
                                              problems)
    for col, value in tm.constants.items():
        out[col] = value
    texts = dict(parsed.columns)
    if parsed.stage is not None:
        status = parsed.stage.map(tm.statuses)
        problems.add(status.isna(), "stage", "unknown_stage", "unknown stage", parsed.stage)
        out["status"] = status.astype(object)
        if "stage" not in out:
            out["stage"] = parsed.stage.astype(object)
    for col, factor in tm.scale.items():
        if col in out and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col] * factor
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
               problems: Problems) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Step 5: ``(loaded, quarantine, qkeys)``. Each rejected row is quarantined once,
    with its first problem (damage found while reading first, then by column): file, row
    number, column, ``reason_code``, ``reason``, the raw value (200 characters at most)
    and the raw record as JSON; records the reader could not take as rows join it.
    ``qkeys`` are the keys of the quarantined rows (where known): their old versions
    leave the store."""
    keycols = list(TABLES[table].key)
    found = problems.frame()
    if len(found):
        found = found.sort_values(["idx", "prio", "column"], kind="stable")
        found = found.drop_duplicates("idx", keep="first")  # one reason per row
        qi = found["idx"].to_numpy().astype("int64")
        q = pd.DataFrame({
            "file": file,
            "table": table,
            "row": parsed.lines[qi],
            "column": found["column"].to_numpy(),
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
        ).sort_values("row", kind="stable").reset_index(drop=True)
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
    parsed = parse(raw, table, mapping, file, row_offset)
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
    loaded, q, qkeys = quarantine(parsed, co.frame, table, file, problems)
    reasons, codes = count_reasons(q)
    flags, note_counts = _flags(loaded, co.notes, TABLES[table].key[0])
    extra = len(parsed.extra) if parsed.extra is not None else 0
    result = FileResult(file, table, len(parsed.raw) + extra, len(loaded), len(q), reasons,
                        notes={k: v for k, v in note_counts.items() if v}, reason_codes=codes)
    return MappedTable(table, file, loaded.reset_index(drop=True), q, result,
                       qkeys.reset_index(drop=True), flags)
