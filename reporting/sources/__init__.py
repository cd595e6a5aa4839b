"""Declarative mappings from CRM exports to the canonical tables.

A mapping is a YAML file in ``params/sources/<name>.yaml``; see ``docs/data-model.md`` for
the format. :func:`load_mapping` validates it with pydantic and reports every problem at
once, naming the file.
"""

from __future__ import annotations

import codecs
import functools
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..exceptions import MappingError, capped
from ..resources import sources_dir
from ..schema import CHANGE_FIELDS, STATUSES, TABLES
from ..tzcheck import check_timezone  # noqa: F401 - defined there (params needs it without pandas)

SOURCES_DIR = sources_dir()  # the shipped mappings (reporting/resources/params/sources)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: largest absolute amount (or other number) accepted at ingest: ten trillion
MAX_ABS_NUMBER = 1e13
_CODE = re.compile(r"^[A-Za-z]{3}$")


class CurrencySpec(_Strict):
    """Currency handling: the code to assume when the export has none, the reporting
    currency, and conversion rates (1 unit of the key = rate units of ``reporting``).

    ``rates_file`` names a CSV of dated rates (columns ``date, currency, rate``; relative
    paths are relative to the mapping file's folder): an amount is converted with the
    rate of its currency on the latest date on or before the amount's date; ``rates`` is
    the static fallback when the file has no rate for that currency and date."""

    default: str = "USD"
    reporting: str = "USD"
    rates: dict[str, float] = Field(default_factory=dict)
    rates_file: str | None = None

    @field_validator("default", "reporting")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE.match(v.strip()):
            raise ValueError(f"currency {v!r} must be a three-letter ISO 4217 code such as USD")
        return v.strip().upper()

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [
            f"{k}: {r!r}" for k, r in v.items()
            if not _CODE.match(str(k)) or not math.isfinite(r) or not 0 < r <= MAX_ABS_NUMBER
        ]
        if bad:
            raise ValueError(
                "every rate must be a finite number > 0 (and at most 1e13) keyed by a "
                "three-letter currency code; fix " + ", ".join(bad)
            )
        return {k.upper(): float(r) for k, r in v.items()}


#: longest regular expression accepted in a mapping (``unpivot.pattern``)
MAX_PATTERN = 500


class UnpivotSpec(_Strict):
    """Columns of a wide export read as rows: every export column whose whole name
    matches ``pattern`` gives one row per non-empty cell, with the cell in the canonical
    column ``value`` and each named group of the pattern in the canonical column of that
    name (groups that are not columns of the table are ignored). The table's other
    columns repeat the row's values. An empty cell is no row (the deal never entered
    that stage); a file with no matching column gives no rows."""

    pattern: str = Field(description="regular expression with named groups, e.g. "
                         "'Date entered \"(?P<stage>.+) \\((?P<pipeline>.+)\\)\"'")
    value: str = Field(description="canonical column the matching cells go to")

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if len(v) > MAX_PATTERN:
            raise ValueError(f"unpivot pattern is longer than {MAX_PATTERN} characters")
        try:
            rx = re.compile(v)
        except re.error as exc:
            raise ValueError(f"unpivot pattern {v!r} is not a regular expression: {exc}") from None
        if not rx.groupindex:
            raise ValueError(
                f"unpivot pattern {v!r} has no named group: name the part of the column "
                "that becomes a value, e.g. (?P<stage>.+)"
            )
        return v

    def groups(self) -> list[str]:
        """The pattern's named groups, in order."""
        return list(re.compile(self.pattern).groupindex)


class TableMapping(_Strict):
    """How one canonical table is read from an export."""

    files: list[str] = Field(
        default_factory=lambda: ["*.csv", "*.parquet"],
        description="file name patterns (glob) that hold this table inside a folder",
    )
    sheet: str | None = Field(
        default=None,
        description="the workbook sheet (.xlsx, .xls, .ods) that holds this table; default: "
        "the sheet named like the table or like one of its `files` patterns",
    )
    columns: dict[str, str | list[str]] = Field(
        description="canonical column -> export column (a list: first non-empty wins)"
    )
    optional_columns: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="like `columns`, but mapped only when the export has the column",
    )
    constants: dict[str, str | float | int | bool] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="canonical column -> {export value: value}; in opportunity_changes also "
        "a changed field (stage, owner, status, forecast_category, currency) -> {export "
        "value: value} for its old and new values",
    )
    unpivot: UnpivotSpec | None = Field(
        default=None, description="wide columns read as rows (see UnpivotSpec)"
    )
    keep_rows: dict[str, list[str]] = Field(
        default_factory=dict,
        description="column -> values: only rows with one of them are rows of this table "
        "(a canonical column: its value after `values:`; else an export column's text); "
        "the others are skipped and counted in the data note rows_skipped",
    )
    skip_rows: dict[str, list[str]] = Field(
        default_factory=dict,
        description="column -> values: rows with one of them are skipped (counted in the "
        "data note rows_skipped); columns as in keep_rows, a column the file lacks skips "
        "nothing",
    )
    scale: dict[str, float] = Field(
        default_factory=dict,
        description="canonical number column -> factor its values are multiplied by "
        "(e.g. probability: 0.01 for a CRM that gives percent)",
    )
    status_from: str | list[str] | None = Field(
        default=None,
        description="export column whose values map through `statuses` (a list: the first "
        "non-empty of the columns the file has)",
    )
    statuses: dict[str, Literal["open", "won", "lost"]] = Field(default_factory=dict)
    booleans: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "true": ["true", "yes", "1", "y", "t"],
            "false": ["false", "no", "0", "n", "f", ""],
        }
    )

    def status_columns(self) -> list[str]:
        """The ``status_from`` alternatives, in order (none: ``[]``)."""
        if self.status_from is None:
            return []
        return [self.status_from] if isinstance(self.status_from, str) else list(self.status_from)

    @field_validator("sheet")
    @classmethod
    def _sheet(cls, v: str | None) -> str | None:
        if v is None:
            return v
        bad = sorted(set(v) & set(_SHEET_FORBIDDEN))
        if not v.strip() or len(v) > 31 or bad or v.startswith("'") or v.endswith("'"):
            raise ValueError(
                f"sheet {v!r} is not a workbook sheet name: give the sheet's name as shown "
                "on its tab (1 to 31 characters, none of " + " ".join(_SHEET_FORBIDDEN)
                + ", not starting or ending with an apostrophe)"
            )
        return v


#: characters Excel forbids in a sheet name
_SHEET_FORBIDDEN = ("[", "]", ":", "*", "?", "/", "\\")


class SourceMapping(_Strict):
    """A whole export format: which tables it holds and how each maps."""

    name: str
    description: str = ""
    date_formats: list[str] = Field(default_factory=lambda: ["ISO8601"])
    timezone: str = Field("UTC", description="time zone of naive timestamps in the export")
    encoding: str | None = Field(None, description="file encoding; default: detect UTF-8/16")
    delimiter: str | None = Field(None, description="CSV delimiter; default: detect")
    decimal: str = "."
    thousands: str = ","
    null_tokens: list[str] = Field(
        default_factory=list,
        description="values read as missing besides the empty field (case-insensitive), "
        "e.g. [NULL, N/A]; by default only an empty field is missing (NA is North America)",
    )
    created_after_close_days: int = Field(
        3, ge=0, le=366,
        description="a closed deal 'created' at most this many days after it closed is kept "
        "(created_at floored to closed_at, with a data note); later ones are quarantined",
    )
    currency: CurrencySpec = Field(default_factory=CurrencySpec)
    tables: dict[str, TableMapping]
    path: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(
                    f"unknown encoding {v!r}; use a Python codec name such as utf-8, utf-16, "
                    "cp1256 (Persian / Arabic Windows) or latin-1"
                ) from None
        return v

    @field_validator("date_formats")
    @classmethod
    def _date_formats(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one date format, e.g. ['ISO8601'] or ['%Y-%m-%d']")
        bad = [f for f in v if not valid_date_format(f)]
        if bad:
            raise ValueError(
                f"invalid date format(s) {bad}: use 'ISO8601', 'mixed' or strftime codes "
                "such as '%Y-%m-%d' or '%m/%d/%Y %H:%M' (a format must contain a year, a "
                "month and a day)"
            )
        return v

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableMapping]) -> dict[str, TableMapping]:
        problems = []
        for table, tm in v.items():
            if table not in TABLES:
                problems.append(f"unknown table {table!r}; allowed: {', '.join(TABLES)}")
                continue
            known = set(TABLES[table].columns)
            value_keys = set(known)
            if table == "opportunity_changes":  # renames of a changed field's values
                value_keys |= set(CHANGE_FIELDS)
            for col in tm.values:
                if col not in value_keys:
                    problems.append(
                        f"{table}: `values:` names unknown column {col!r}; allowed: "
                        + ", ".join(sorted(value_keys))
                    )
            if tm.unpivot is not None and tm.unpivot.value not in known:
                problems.append(
                    f"{table}: unpivot value {tm.unpivot.value!r} is not a column; allowed: "
                    + ", ".join(sorted(known))
                )
            if tm.status_from and table not in ("opportunities", "opportunity_snapshots"):
                problems.append(
                    f"{table}: `status_from` applies to opportunities and "
                    "opportunity_snapshots (opportunity_changes uses `statuses` alone)"
                )
            for col in [*tm.columns, *tm.optional_columns, *tm.constants]:
                if col not in known:
                    problems.append(
                        f"{table}: unknown canonical column {col!r}; allowed: "
                        + ", ".join(sorted(known))
                    )
            if table == "opportunities":
                if tm.status_from is None and "status" not in tm.columns:
                    problems.append("opportunities: give `status_from` and `statuses`")
            for stage, status in tm.statuses.items():
                if status not in STATUSES:
                    problems.append(f"{table}: stage {stage!r} -> {status!r}")
            unpivoted = set(tm.unpivot.groups()) | {tm.unpivot.value} if tm.unpivot else set()
            missing = [
                c
                for c in TABLES[table].required
                if c not in tm.columns
                and c not in tm.constants
                and c not in unpivoted
                and not (c == "status" and tm.status_from)
                and not (table == "revenue" and c == "revenue_id")
            ]
            if missing:
                problems.append(f"{table}: required columns not mapped: {', '.join(missing)}")
        if problems:
            raise ValueError("; ".join(problems))
        return v


_PROBE = datetime(2017, 7, 21, 13, 45, 30)


def valid_date_format(fmt: str) -> bool:
    """True for ``ISO8601``, ``mixed`` or a strftime format that writes a date with a
    year, a month and a day that pandas reads back."""
    if fmt in ("ISO8601", "mixed"):
        return True
    if not isinstance(fmt, str) or "%" not in fmt:
        return False
    codes = set(re.findall(r"%(.)", fmt.replace("%%", "")))
    if not ({"Y", "y", "G"} & codes and ({"m", "b", "B"} & codes or "j" in codes)
            and ({"d"} & codes or "j" in codes)):
        return False
    try:
        text = _PROBE.strftime(fmt)
        back = pd.to_datetime(text, format=fmt)
    except (ValueError, TypeError):
        return False
    return back.date() == _PROBE.date()


def is_date_only(fmt: str) -> bool:
    """A strftime format without a time of day (``%Y-%m-%d``, ``%m/%d/%Y``)."""
    return fmt not in ("ISO8601", "mixed") and not set(
        re.findall(r"%(.)", fmt.replace("%%", ""))
    ) & set("HIMSfpzZXcTRr")


@functools.lru_cache(maxsize=16)
def _read_rates(path: str, data: bytes) -> pd.DataFrame:
    import io

    p = Path(path)
    try:
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise MappingError(f"rates file {p}: cannot be read as CSV ({exc})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = {"date", "currency", "rate"} - set(raw.columns)
    if missing:
        raise MappingError(
            f"rates file {p}: needs the columns date, currency, rate (missing: "
            f"{', '.join(sorted(missing))}); a rate is how many units of the reporting "
            "currency one unit of `currency` buys on `date`"
        )
    date = pd.to_datetime(raw["date"].str.strip(), format="ISO8601", errors="coerce")
    rate = pd.to_numeric(raw["rate"].str.strip(), errors="coerce")
    code = raw["currency"].str.strip().str.upper()
    bad = date.isna() | ~rate.between(0, MAX_ABS_NUMBER, inclusive="right") | ~code.str.fullmatch(
        "[A-Z]{3}")
    if bad.any():
        lines = (raw.index[bad] + 2).tolist()
        raise MappingError(
            f"rates file {p}: line(s) {', '.join(map(str, lines[:10]))} need an ISO date "
            "(YYYY-MM-DD), a three-letter currency code and a finite rate > 0"
        )
    if date.dt.tz is not None:
        date = date.dt.tz_convert("UTC").dt.tz_localize(None)
    out = pd.DataFrame({"date": date.astype("datetime64[us]"), "currency": code,
                        "rate": rate.astype("float64")})
    return out.sort_values(["date", "currency"], kind="stable").reset_index(drop=True)


def load_rates(mapping: SourceMapping) -> pd.DataFrame | None:
    """The mapping's dated exchange rates (``date, currency, rate``), or None."""
    if not mapping.currency.rates_file:
        return None
    p = Path(mapping.currency.rates_file)
    if not p.is_absolute() and mapping.path is not None:
        p = mapping.path.parent / p
    if not p.is_file():
        raise MappingError(
            f"{mapping.path or mapping.name}: currency.rates_file {mapping.currency.rates_file!r} "
            f"does not exist (looked for {p})"
        )
    return _read_rates(str(p.resolve()), p.read_bytes())


def source_folders() -> list[Path]:
    """Where mappings are looked up by name: the current project's ``params/sources/``
    (a project's copy wins), then the shipped ones."""
    from ..params import params_folder

    own = Path(params_folder()) / "sources"
    return [own, SOURCES_DIR] if own.resolve() != SOURCES_DIR.resolve() else [SOURCES_DIR]


def available_sources() -> list[str]:
    """Names of the mappings in the project's ``params/sources/`` and the shipped ones."""
    return sorted({p.stem for d in source_folders() for p in d.glob("*.yaml")})


def load_mapping(name_or_path: str | Path) -> SourceMapping:
    """Load a mapping by name (``maven``) or path, validating it.

    Raises
    ------
    MappingError
        When the file is missing, is not YAML, or does not fit the mapping format.
    """
    p = Path(name_or_path)
    if not p.suffix:
        found = [d / f"{name_or_path}.yaml" for d in source_folders()
                 if (d / f"{name_or_path}.yaml").exists()]
        p = found[0] if found else SOURCES_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            raise MappingError(
                f"unknown source {name_or_path!r}; shipped sources: "
                f"{', '.join(available_sources())} (or give the path of a mapping file)"
            )
    if not p.exists():
        raise MappingError(f"mapping file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {p} cannot be read: {exc}") from None
    m = _parse_mapping(str(p), text)
    m = m.model_copy(update={"path": p})
    load_rates(m)  # a bad rates file is a mapping error too
    return m


@functools.lru_cache(maxsize=64)
def _parse_mapping(path: str, text: str) -> SourceMapping:
    """The validated mapping ``text`` of file ``path`` (cached by content)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise MappingError(f"{p}: expected a mapping at the top level")
    try:
        m = SourceMapping.model_validate(raw)
    except ValidationError as exc:
        items = [
            f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        ]
        raise MappingError(f"{p}: invalid mapping:\n{capped(items)}") from None
    return m
