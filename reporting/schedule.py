"""Scheduled reports: the schedule in ``params/schedule.yaml``, which periods are due,
and the fingerprints that make ``crm-report run-due`` idempotent.

A report is due for a period when no finished report exists for the same inputs: the
same parameters, the same store contents (fingerprint of the ingest log and table sizes)
and the same code (hash of the package, notebooks, templates and params).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .exceptions import ParamsError, capped
from .params import check_name, params_folder, read_yaml, validation_items
from .periods import Period, parse_period

PACKAGE = Path(str(files("reporting")))  # the installed package, resources included


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Delivery(_Strict):
    enabled: bool = False
    recipients: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, addrs in v.items():
            for a in addrs:
                if "@" not in a or any(c in a for c in "\r\n <>,;"):
                    raise ValueError(f"{key}: {a!r} is not an e-mail address")
        return v

    def recipients_for(self, region: str, team: str = "all") -> list[str]:
        """Who gets a report: the list under the region's name, else under ``"*"``. A team
        report looks first under ``"<region>/<team>"``, then under the team's name, then
        falls back like its region's report."""
        keys = [f"{region}/{team}", team] if team and team != "all" else []
        for key in [*keys, region, "*"]:
            if self.recipients.get(key):
                return self.recipients[key]
        return []


class ReportDef(_Strict):
    name: str
    notebook: str | None = None  # None: the kind's notebook (monthly_sales_report)
    # monthly | scorecard | rollup | trend (reporting.kinds); None: the notebook's kind
    kind: Literal["monthly", "scorecard", "rollup", "trend"] | None = None
    cadence: Literal["monthly", "quarterly", "weekly"] = "monthly"
    regions: Literal["all"] | list[str] = "all"
    teams: list[str] = Field(default_factory=list)
    catch_up: int = Field(3, ge=1, le=36)
    publish_dir: str | None = None
    deliver: Delivery = Field(default_factory=Delivery)
    timeout_seconds: int | None = Field(None, ge=10, le=24 * 3600)
    # seconds to render one report (HTML export + PDF layout); defaults.render_timeout_seconds
    render_timeout_seconds: float | None = Field(None, ge=1, le=24 * 3600)
    language: Literal["en", "fa"] | None = None
    # pull this CRM (crm-report pull) before running the report; a failed pull skips it
    pull: Literal["salesforce", "hubspot", "pipedrive"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        check_name("report", v)
        return v

    @field_validator("notebook")
    @classmethod
    def _notebook(cls, v: str | None) -> str | None:
        from .project import notebook_path

        if v is None:
            return v
        try:
            notebook_path(v)
        except ParamsError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v):
        if isinstance(v, list):
            for r in v:
                check_name("region", r)
        return v


class Defaults(_Strict):
    timeout_seconds: int = Field(600, ge=10, le=24 * 3600)
    # = reporting.render.DEFAULT_RENDER_TIMEOUT (not imported: it would load WeasyPrint)
    render_timeout_seconds: float = Field(300.0, ge=1, le=24 * 3600)
    language: Literal["en", "fa"] = "en"


class Schedule(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    reports: list[ReportDef] = Field(default_factory=list)

    def render_timeout_for(self, rd: ReportDef) -> float:
        """Seconds allowed to render one report of ``rd`` (its own setting or the default)."""
        return rd.render_timeout_seconds or self.defaults.render_timeout_seconds

    @field_validator("reports")
    @classmethod
    def _unique(cls, v: list[ReportDef]) -> list[ReportDef]:
        names = [r.name for r in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"report names must be unique: {dup}")
        return v


def load_schedule(params_dir: str | Path | None = None) -> Schedule:
    """Read and validate ``schedule.yaml``; every problem reported at once."""
    path = params_folder(params_dir) / "schedule.yaml"
    try:
        return Schedule.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise ParamsError(f"{path}: invalid schedule:\n{capped(validation_items(exc))}") from None


def due_periods(cadence: str, today: date, catch_up: int) -> list[Period]:
    """The last ``catch_up`` complete periods of a cadence before ``today``, oldest first."""
    out: list[Period] = []
    if cadence == "monthly":
        last = parse_period("last-complete-month", today=today)
        out = [last.shift_months(-i) for i in range(catch_up)]
    elif cadence == "quarterly":
        q_start = pd.Timestamp(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        first = q_start - pd.DateOffset(months=3)
        for i in range(catch_up):
            s = first - pd.DateOffset(months=3 * i)
            out.append(Period("quarter", s, s + pd.DateOffset(months=3)))
    elif cadence == "weekly":
        monday = pd.Timestamp(today - timedelta(days=today.weekday()))
        for i in range(1, catch_up + 1):
            s = monday - pd.Timedelta(weeks=i)
            out.append(Period("range", s, s + pd.Timedelta(weeks=1)))
    else:  # pragma: no cover - pydantic rejects it first
        raise ParamsError(f"unknown cadence {cadence!r}")
    return sorted(out, key=lambda p: p.start)


def code_version(params_dir: str | Path | None = None) -> str:
    """Hash of everything that shapes a report: the package (code, shipped notebooks,
    templates and params), the params folder in use and the project's own notebooks."""
    from .project import current

    h = hashlib.sha256()
    proj = current()
    roots = [("package", PACKAGE, "**/*")]
    roots.append(("params", Path(params_folder(params_dir)), "**/*.yaml"))
    if proj is not None and proj.notebooks is not None:
        roots.append(("notebooks", proj.notebooks, "*.ipynb"))
    for name, root, pattern in roots:
        for f in sorted(root.glob(pattern)):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                h.update(f"{name}/{f.relative_to(root)}".encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


def data_fingerprint(con) -> str:
    """Fingerprint of the store's contents: the ingest log (files, hashes, counts) and the
    size and latest timestamps of each table. Cheap: no table scan beyond aggregates."""
    parts = [json.dumps(con.execute(
        'SELECT file, file_sha256, "table", rows_loaded, ingested_at FROM ingest_log '
        'ORDER BY ALL').fetchall(), default=str)]
    parts.append(json.dumps(con.execute(
        "SELECT COUNT(*), MAX(created_at), MAX(closed_at), MAX(last_activity_at), "
        "SUM(amount) FROM opportunities").fetchall(), default=str))
    for t in ("stage_history", "leads", "accounts", "reps", "revenue", "quarantine"):
        parts.append(str(con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def inputs_fingerprint(parameters: dict, data_fp: str, code_fp: str) -> str:
    """One fingerprint of a report's inputs: parameters, data and code."""
    blob = json.dumps({"parameters": parameters, "data": data_fp, "code": code_fp},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
