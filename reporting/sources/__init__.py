"""Declarative mappings from CRM exports to the canonical tables.

A mapping is a YAML file in ``params/sources/<name>.yaml``; see ``docs/data-model.md`` for
the format. :func:`load_mapping` validates it with pydantic and reports every problem at
once, naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..exceptions import MappingError, capped
from ..schema import STATUSES, TABLES

SOURCES_DIR = Path(__file__).resolve().parents[2] / "params" / "sources"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurrencySpec(_Strict):
    """Currency handling: the code to assume when the export has none, the reporting
    currency, and conversion rates (1 unit of the key = rate units of ``reporting``)."""

    default: str = "USD"
    reporting: str = "USD"
    rates: dict[str, float] = Field(default_factory=dict)


class TableMapping(_Strict):
    """How one canonical table is read from an export."""

    files: list[str] = Field(
        default_factory=lambda: ["*.csv", "*.parquet"],
        description="file name patterns (glob) that hold this table inside a folder",
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
        default_factory=dict, description="canonical column -> {export value: value}"
    )
    status_from: str | None = Field(
        default=None, description="export column whose values map through `statuses`"
    )
    statuses: dict[str, Literal["open", "won", "lost"]] = Field(default_factory=dict)
    booleans: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "true": ["true", "yes", "1", "y", "t"],
            "false": ["false", "no", "0", "n", "f", ""],
        }
    )


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
    currency: CurrencySpec = Field(default_factory=CurrencySpec)
    tables: dict[str, TableMapping]
    path: Path | None = None

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableMapping]) -> dict[str, TableMapping]:
        problems = []
        for table, tm in v.items():
            if table not in TABLES:
                problems.append(f"unknown table {table!r}; allowed: {', '.join(TABLES)}")
                continue
            known = set(TABLES[table].columns)
            for col in [*tm.columns, *tm.optional_columns, *tm.constants, *tm.values]:
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
                        problems.append(f"opportunities: stage {stage!r} -> {status!r}")
            missing = [
                c
                for c in TABLES[table].required
                if c not in tm.columns
                and c not in tm.constants
                and not (c == "status" and tm.status_from)
                and not (table == "revenue" and c == "revenue_id")
            ]
            if missing:
                problems.append(f"{table}: required columns not mapped: {', '.join(missing)}")
        if problems:
            raise ValueError("; ".join(problems))
        return v


def available_sources() -> list[str]:
    """Names of the mappings shipped in ``params/sources/``."""
    return sorted(p.stem for p in SOURCES_DIR.glob("*.yaml"))


def load_mapping(name_or_path: str | Path) -> SourceMapping:
    """Load a mapping by name (``maven``) or path, validating it.

    Raises
    ------
    MappingError
        When the file is missing, is not YAML, or does not fit the mapping format.
    """
    p = Path(name_or_path)
    if not p.suffix:
        p = SOURCES_DIR / f"{name_or_path}.yaml"
        if not p.exists():
            raise MappingError(
                f"unknown source {name_or_path!r}; shipped sources: "
                f"{', '.join(available_sources())} (or give the path of a mapping file)"
            )
    if not p.exists():
        raise MappingError(f"mapping file {p} does not exist")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
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
    return m.model_copy(update={"path": p})
