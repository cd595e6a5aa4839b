"""The canonical CRM data model.

Every CRM export is mapped onto these six tables (see ``docs/data-model.md``). Only
``opportunities`` is required; every other table, and every column not marked required,
is optional: metrics that need them say so instead of failing.

All timestamps are stored as naive UTC ``datetime64`` values; amounts are floats in the
row's ``currency``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

STATUSES = ("open", "won", "lost")
REVENUE_KINDS = ("new", "renewal", "expansion", "one-off")


@dataclass(frozen=True)
class Field:
    """One column of a canonical table."""

    name: str
    kind: str  # "str", "datetime", "float", "int", "bool"
    required: bool
    description: str


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns and the columns that identify a row."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    description: str

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _f(name: str, kind: str, required: bool, description: str) -> Field:
    return Field(name, kind, required, description)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "opportunities",
            (
                _f("opportunity_id", "str", True, "Unique id of the opportunity (deal)."),
                _f("name", "str", False, "Deal title as written in the CRM (untrusted text)."),
                _f("account_id", "str", False, "Account the deal is with."),
                _f("owner", "str", True, "Rep who owns the deal; matches reps.rep_id."),
                _f("team", "str", False, "Sales team; filled from reps when missing."),
                _f("region", "str", False, "Sales region; filled from reps when missing."),
                _f("source", "str", False, "Lead source / channel."),
                _f("product", "str", False, "Product or product line."),
                _f("created_at", "datetime", True, "When the deal entered the funnel."),
                _f("stage", "str", False, "Current stage name as in the CRM."),
                _f("status", "str", True, "open, won or lost (derived from the stage)."),
                _f("closed_at", "datetime", False, "When the deal was won or lost."),
                _f("amount", "float", False, "Deal value in `currency`."),
                _f("currency", "str", False, "ISO 4217 code of `amount`."),
                _f("last_activity_at", "datetime", False, "Last logged activity."),
            ),
            ("opportunity_id",),
            "One row per deal, with its current state.",
        ),
        Table(
            "stage_history",
            (
                _f("opportunity_id", "str", True, "The deal."),
                _f("stage", "str", True, "Stage entered."),
                _f("entered_at", "datetime", True, "When the deal entered the stage."),
            ),
            ("opportunity_id", "stage", "entered_at"),
            "One row per stage change.",
        ),
        Table(
            "leads",
            (
                _f("lead_id", "str", True, "Unique id of the lead."),
                _f("created_at", "datetime", True, "When the lead was captured."),
                _f("source", "str", False, "Lead source / channel."),
                _f("owner", "str", False, "Rep or SDR working the lead."),
                _f("region", "str", False, "Region of the lead."),
                _f("team", "str", False, "Team of the lead."),
                _f("converted_opportunity_id", "str", False, "Opportunity it became."),
                _f("converted_at", "datetime", False, "When it was converted."),
                _f("disqualified", "bool", False, "True when the lead was disqualified."),
            ),
            ("lead_id",),
            "One row per lead, converted or not.",
        ),
        Table(
            "accounts",
            (
                _f("account_id", "str", True, "Unique id of the account."),
                _f("name", "str", False, "Account name (untrusted text)."),
                _f("industry", "str", False, "Industry or sector."),
                _f("region", "str", False, "Region of the account."),
                _f("account_manager", "str", False, "Rep who keeps the account."),
                _f("acquired_by", "str", False, "Rep who won the account."),
            ),
            ("account_id",),
            "One row per customer account.",
        ),
        Table(
            "reps",
            (
                _f("rep_id", "str", True, "Rep identifier used in opportunities.owner."),
                _f("name", "str", False, "Display name."),
                _f("team", "str", False, "Team."),
                _f("region", "str", False, "Region."),
                _f("manager", "str", False, "Manager."),
                _f("start_date", "datetime", False, "First day in the role."),
                _f("capacity", "int", False, "Open deals the rep can work at once."),
            ),
            ("rep_id",),
            "One row per sales rep or account manager.",
        ),
        Table(
            "revenue",
            (
                _f("revenue_id", "str", False, "Id of the line; derived when missing."),
                _f("account_id", "str", True, "Paying account."),
                _f("date", "datetime", True, "Date the revenue was booked."),
                _f("amount", "float", True, "Amount in `currency`."),
                _f("currency", "str", False, "ISO 4217 code of `amount`."),
                _f("kind", "str", False, "new, renewal, expansion or one-off."),
            ),
            ("revenue_id",),
            "Revenue lines per account, for lifetime value.",
        ),
    )
}


def _pa_dtype(kind: str):
    return {
        "str": pa.String,
        "float": pa.Float64,
        "int": pa.Float64,  # nullable ints travel as floats until the store
        "bool": pa.Bool,
        "datetime": pa.DateTime,
    }[kind]


def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema that a mapped table must satisfy.

    Values are already parsed (dates, numbers) by the ingest step; this schema checks
    presence, allowed values, ranges and the cross-column rules, lazily, so one pass
    reports every failing row.
    """
    t = TABLES[table]
    columns: dict[str, pa.Column] = {}
    for f in t.fields:
        checks: list[pa.Check] = []
        if table == "opportunities" and f.name == "status":
            checks.append(pa.Check.isin(STATUSES, error="status must be open, won or lost"))
        if f.name == "amount" and table == "opportunities":
            checks.append(pa.Check.ge(0, error="amount is negative"))
        if f.name == "capacity":
            checks.append(pa.Check.ge(0, error="capacity is negative"))
        if f.name == "kind" and table == "revenue":
            checks.append(pa.Check.isin(REVENUE_KINDS, error="unknown revenue kind"))
        columns[f.name] = pa.Column(
            _pa_dtype(f.kind),
            checks=checks,
            nullable=not f.required,
            required=False,
            coerce=False,
        )
    checks = []
    if table == "opportunities":
        checks = [
            pa.Check(
                lambda d: ~(d["status"].isin(["won", "lost"]) & d["closed_at"].isna()),
                error="closed deal without closed_at",
                name="closed_needs_date",
            ),
            pa.Check(
                lambda d: ~(d["closed_at"] < d["created_at"]).fillna(False),
                error="closed before created",
                name="closed_after_created",
            ),
            pa.Check(
                lambda d: ~((d["status"] == "won") & d["amount"].isna()),
                error="won deal without amount",
                name="won_needs_amount",
            ),
        ]
    return pa.DataFrameSchema(columns, checks=checks, strict=False)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of ``table``."""
    dtypes = {
        "str": "object",
        "float": "float64",
        "int": "float64",
        "bool": "object",
        "datetime": "datetime64[us]",
    }
    t = TABLES[table]
    return pd.DataFrame({f.name: pd.Series(dtype=dtypes[f.kind]) for f in t.fields})
