"""The canonical CRM data model.

Every CRM export is mapped onto these tables (see ``docs/data-model.md``). Only
``opportunities`` is required; every other table, and every column not marked required,
is optional: metrics that need them say so instead of failing.

Deal history: ``opportunity_snapshots`` (a deal's tracked fields as seen at one time: a
CRM history row, or a full export diffed at ingest) and ``opportunity_changes`` (one
field's old and new value at one time) are the *evidence*; ``opportunity_history`` (one
row per version, ``valid_from`` .. ``valid_to``) is derived from them, and from
``stage_history``, by :mod:`reporting.history`.

All timestamps are stored as naive UTC ``datetime64`` values; amounts are floats in the
row's ``currency``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

STATUSES = ("open", "won", "lost")
REVENUE_KINDS = ("new", "renewal", "expansion", "one-off")
DEAL_TYPES = ("new business", "renewal", "expansion")
#: canonical forecast categories (Salesforce's labels; HubSpot / Pipedrive map onto them)
FORECAST_CATEGORIES = ("pipeline", "best case", "commit", "closed", "omitted")
#: the deal fields a version of ``opportunity_history`` tracks (``close_date`` is the
#: expected close date of an open deal and the actual one of a closed deal)
TRACKED_FIELDS = ("stage", "status", "amount", "currency", "close_date", "probability",
                  "forecast_category", "owner")
#: what a quota is set for: ``rep`` (a rep_id, matching opportunities.owner), ``team``, ``region``
QUOTA_SCOPES = ("rep", "team", "region")
#: a quota period's canonical label: a month ``2026-11`` or a quarter ``2026-Q4``
QUOTA_PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"
#: ``opportunity_changes.field`` values: the tracked fields, plus ``deleted`` (new_value
#: ``true``: the deal was deleted in the CRM at ``changed_at``)
CHANGE_FIELDS = (*TRACKED_FIELDS, "deleted")


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
                _f("expected_close_date", "datetime", False,
                   "Expected close date of an open deal (the CRM's Close Date while open)."),
                _f("probability", "float", False,
                   "The CRM's win probability, 0 to 1 (stage default or the rep's)."),
                _f("forecast_category", "str", False,
                   "pipeline, best case, commit, closed or omitted."),
                _f("lost_reason", "str", False, "Why a lost deal was lost (untrusted text)."),
                _f("deal_type", "str", False, "new business, renewal or expansion."),
                _f("modified_at", "datetime", False,
                   "When the CRM last changed the record (SystemModstamp, "
                   "hs_lastmodifieddate, update_time)."),
            ),
            ("opportunity_id",),
            "One row per deal, with its current state.",
        ),
        Table(
            "opportunity_history",
            (
                _f("opportunity_id", "str", True, "The deal."),
                _f("valid_from", "datetime", True, "When this version became true."),
                _f("valid_to", "datetime", False,
                   "When the next version replaced it (empty: still current, or deleted)."),
                _f("stage", "str", False, "Stage then."),
                _f("status", "str", False, "open, won or lost then."),
                _f("amount", "float", False, "Amount then, in `currency`."),
                _f("currency", "str", False, "ISO 4217 code of `amount`."),
                _f("close_date", "datetime", False,
                   "Expected close date then (actual close date once won or lost)."),
                _f("probability", "float", False, "The CRM's win probability then, 0 to 1."),
                _f("forecast_category", "str", False, "Forecast category then."),
                _f("owner", "str", False, "Owner then."),
                _f("origin", "str", False,
                   "What the version is known from: crm (a CRM history record), export (a "
                   "full export or pulled record), created (the deal's creation)."),
                _f("stage_since", "datetime", False,
                   "When the deal entered this version's stage (the first of its run of "
                   "versions in that stage)."),
            ),
            ("opportunity_id", "valid_from"),
            "One row per deal per version (derived from the evidence tables).",
        ),
        Table(
            "opportunity_snapshots",
            (
                _f("opportunity_id", "str", True, "The deal."),
                _f("observed_at", "datetime", True,
                   "When the CRM recorded this state (history row) or the export's as-of time."),
                _f("stage", "str", False, "Stage (empty: not recorded)."),
                _f("status", "str", False, "open, won or lost (empty: not recorded)."),
                _f("amount", "float", False, "Amount (empty: not recorded)."),
                _f("currency", "str", False, "ISO 4217 code of `amount`."),
                _f("close_date", "datetime", False, "Expected or actual close date."),
                _f("probability", "float", False, "Win probability, 0 to 1."),
                _f("forecast_category", "str", False, "Forecast category."),
                _f("owner", "str", False, "Owner."),
                _f("origin", "str", False, "crm, export or created."),
            ),
            ("opportunity_id", "observed_at"),
            "Evidence: a deal's tracked fields as recorded at one time.",
        ),
        Table(
            "opportunity_changes",
            (
                _f("opportunity_id", "str", True, "The deal."),
                _f("changed_at", "datetime", True, "When the field changed."),
                _f("field", "str", True,
                   "stage, status, amount, currency, close_date, probability, "
                   "forecast_category, owner or deleted."),
                _f("old_value", "str", False, "Value before (canonical text form)."),
                _f("new_value", "str", False, "Value after (canonical text form)."),
                _f("currency", "str", False,
                   "ISO 4217 code of an amount change's values (default: the mapping's "
                   "default currency); ingest converts them to the reporting currency."),
            ),
            ("opportunity_id", "changed_at", "field"),
            "Evidence: one field's change (Salesforce field history, Pipedrive deal flow).",
        ),
        Table(
            "stages",
            (
                _f("stage", "str", True, "Stage name as in opportunities.stage."),
                _f("pipeline", "str", False, "Pipeline the stage belongs to."),
                _f("position", "int", False, "Order in the pipeline (1 = first)."),
                _f("probability", "float", False, "The CRM's default win probability, 0 to 1."),
                _f("status", "str", False, "open, won or lost: what the stage means."),
                _f("forecast_category", "str", False, "Default forecast category."),
                _f("rotting_days", "int", False,
                   "Days without activity after which the CRM calls a deal rotten."),
            ),
            ("stage", "pipeline"),
            "Stage definitions pulled from the CRM.",
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
            "quotas",
            (
                _f("scope_type", "str", True, "rep, team or region: what the quota is for."),
                _f("scope", "str", True,
                   "The rep (reps.rep_id, as in opportunities.owner), team or region "
                   "(untrusted text)."),
                _f("period", "str", True,
                   "The month (2026-11) or quarter (2026-Q4) the quota covers."),
                _f("amount", "float", True,
                   "Quota: the won value expected in the period, in `currency`."),
                _f("currency", "str", False,
                   "ISO 4217 code of `amount`; ingest converts it to the reporting currency."),
            ),
            ("scope_type", "scope", "period"),
            "Sales targets: one row per rep, team or region and month or quarter.",
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
        if f.name == "status" and table != "stages":
            checks.append(pa.Check.isin(STATUSES, error="status must be open, won or lost"))
        if f.name == "probability":
            checks.append(pa.Check.in_range(0, 1, error="probability is not between 0 and 1"))
        if f.name == "deal_type":
            checks.append(pa.Check.isin(DEAL_TYPES, error="unknown deal type"))
        if f.name == "forecast_category":
            checks.append(pa.Check.isin(FORECAST_CATEGORIES, error="unknown forecast category"))
        if f.name == "field" and table == "opportunity_changes":
            checks.append(pa.Check.isin(CHANGE_FIELDS, error="unknown changed field"))
        if f.name == "amount" and table in ("opportunity_history", "opportunity_snapshots"):
            checks.append(pa.Check.ge(0, error="amount is negative"))
        if f.name == "amount" and table == "opportunities":
            checks.append(pa.Check.ge(0, error="amount is negative"))
        if f.name == "amount" and table == "quotas":
            checks.append(pa.Check.ge(0, error="quota is negative"))
        if f.name == "scope_type" and table == "quotas":
            checks.append(pa.Check.isin(QUOTA_SCOPES, error="scope_type must be rep, team or region"))
        if f.name == "period" and table == "quotas":
            checks.append(pa.Check.str_matches(QUOTA_PERIOD_PATTERN,
                                               error="period must be a month or a quarter"))
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
