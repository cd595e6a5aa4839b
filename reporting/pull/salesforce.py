"""Salesforce: SOQL through the REST ``query`` / ``queryAll`` resources (API v62.0).

Objects: Opportunity (``queryAll``, so deleted deals come back with ``IsDeleted``),
OpportunityHistory (snapshots), OpportunityFieldHistory (changes), User (reps), Account,
OpportunityStage (stage definitions). Cursors: ``SystemModstamp`` (OpportunityFieldHistory
has only ``CreatedDate``); paging follows ``nextRecordsUrl`` while ``done`` is false. The
Opportunity fields asked for are those of :data:`OPPORTUNITY_FIELDS` that the org has
(``describe``: ``CurrencyIsoCode`` exists only in multi-currency orgs).
"""

from __future__ import annotations

from .base import Flat, Puller, frame, max_cursor, plain_number, utc
from .http import Client
from .staging import Staging

API = "v62.0"
DATA = f"/services/data/{API}"

OPPORTUNITY_FIELDS = [
    "Id", "AccountId", "OwnerId", "Name", "StageName", "Amount", "CurrencyIsoCode",
    "Probability", "ForecastCategoryName", "CloseDate", "CreatedDate", "IsClosed", "IsWon",
    "LastActivityDate", "LastModifiedDate", "SystemModstamp", "LeadSource", "Type",
    "IsDeleted",
]
HISTORY_FIELDS = ["Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount",
                  "ExpectedRevenue", "CloseDate", "Probability", "ForecastCategory",
                  "PrevAmount", "PrevCloseDate", "SystemModstamp", "IsDeleted"]
FIELD_HISTORY_FIELDS = ["Id", "OpportunityId", "CreatedById", "CreatedDate", "Field",
                        "OldValue", "NewValue", "IsDeleted"]
USER_FIELDS = ["Id", "Username", "Name", "Email", "IsActive", "UserRoleId", "ManagerId",
               "Title", "SystemModstamp"]
ACCOUNT_FIELDS = ["Id", "Name", "Type", "Industry", "BillingCountry", "OwnerId",
                  "SystemModstamp"]
STAGE_FIELDS = ["ApiName", "MasterLabel", "IsActive", "IsClosed", "IsWon", "DefaultProbability",
                "ForecastCategoryName", "SortOrder"]

#: object -> (fields, cursor field or None, resource)
OBJECTS = {
    "Opportunity": (OPPORTUNITY_FIELDS, "SystemModstamp", "queryAll"),
    "OpportunityHistory": (HISTORY_FIELDS, "SystemModstamp", "query"),
    "OpportunityFieldHistory": (FIELD_HISTORY_FIELDS, "CreatedDate", "query"),
    "User": (USER_FIELDS, "SystemModstamp", "query"),
    "Account": (ACCOUNT_FIELDS, "SystemModstamp", "query"),
    "OpportunityStage": (STAGE_FIELDS, None, "query"),
}

#: OpportunityFieldHistory.Field -> how its OldValue / NewValue become canonical text
TRACKED = {"StageName": "text", "Amount": "number", "CloseDate": "text",
           "Probability": "percent", "ForecastCategoryName": "category", "OwnerId": "text",
           "CurrencyIsoCode": "text"}


def soql_time(cursor: str) -> str:
    """A cursor as a SOQL dateTime literal (UTC, whole seconds: Salesforce stamps carry no
    sub-second part)."""
    return utc(cursor).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql(obj: str, fields: list[str], cursor_field: str | None, cursor: str | None) -> str:
    q = f"SELECT {', '.join(fields)} FROM {obj}"
    if cursor_field and cursor:
        q += f" WHERE {cursor_field} > {soql_time(cursor)}"
    if cursor_field:
        q += f" ORDER BY {cursor_field} ASC, Id ASC"
    return q


def _next(body) -> dict | None:
    if isinstance(body, dict) and not body.get("done", True) and body.get("nextRecordsUrl"):
        return {"path": body["nextRecordsUrl"]}
    return None


def _status(closed, won) -> str:
    return "won" if won is True else "lost" if closed is True else "open"


class Salesforce(Puller):
    crm = "salesforce"
    default_base_url = None  # the org's instance URL is required

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def fetch(self, st: Staging, client: Client, cursors: dict[str, str]) -> dict[str, list]:
        def get(req: dict):
            return client.request("GET", req["path"], params=req.get("params"))

        desc = st.stream("describe-Opportunity", {"path": f"{DATA}/sobjects/Opportunity/describe"},
                         get, lambda body: None)
        have = {f.get("name") for f in (desc[0] or {}).get("fields", [])} if desc else set()
        out: dict[str, list] = {}
        for obj, (fields, cur_field, resource) in OBJECTS.items():
            if obj == "Opportunity" and have:
                fields = [f for f in fields if f in have]
            q = soql(obj, fields, cur_field, cursors.get(obj))
            pages = st.stream(obj, {"path": f"{DATA}/{resource}", "params": {"q": q}}, get, _next)
            out[obj] = [r for body in pages for r in (body or {}).get("records", [])]
        return out

    def flatten(self, fetched: dict[str, list]) -> Flat:
        flat = Flat()
        for obj, recs in fetched.items():
            flat.records[obj] = len(recs)
            cur_field = OBJECTS[obj][1]
            if cur_field:
                c = max_cursor((r.get(cur_field) for r in recs), None)
                if c:
                    flat.cursors[obj] = c
        opps = fetched.get("Opportunity", [])
        status_of = {}
        for s in fetched.get("OpportunityStage", []):
            for name in (s.get("ApiName"), s.get("MasterLabel")):
                if name:
                    status_of[name] = _status(s.get("IsClosed"), s.get("IsWon"))
        for r in opps:
            status_of.setdefault(r.get("StageName"), _status(r.get("IsClosed"), r.get("IsWon")))
        currency_of = {r.get("Id"): r.get("CurrencyIsoCode") for r in opps}

        live, changes = [], []
        for r in opps:
            row = {k: v for k, v in r.items() if k != "attributes"}
            if r.get("IsDeleted") is True:  # loaded with its last state, then moved by the
                # core to opportunities_deleted (so the past still shows it)
                changes.append({"OpportunityId": r.get("Id"), "CreatedDate": r.get("SystemModstamp"),
                                "Field": "deleted", "OldValue": None, "NewValue": "true"})
            row["stage_status"] = _status(r.get("IsClosed"), r.get("IsWon"))
            live.append(row)
        cols = [f for f in OPPORTUNITY_FIELDS if f != "IsDeleted"] + ["stage_status"]
        flat.tables["opportunities"] = frame(live, cols)

        snaps = []
        for r in fetched.get("OpportunityHistory", []):
            if r.get("IsDeleted") is True:
                flat.skip("OpportunityHistory", "deleted history row")
                continue
            row = {k: r.get(k) for k in HISTORY_FIELDS if k != "IsDeleted"}
            row["stage_status"] = status_of.get(r.get("StageName"))
            row["CurrencyIsoCode"] = currency_of.get(r.get("OpportunityId"))
            snaps.append(row)
        flat.tables["opportunity_snapshots"] = frame(
            snaps, [k for k in HISTORY_FIELDS if k != "IsDeleted"] + ["stage_status",
                                                                      "CurrencyIsoCode"])

        for r in fetched.get("OpportunityFieldHistory", []):
            kind = TRACKED.get(r.get("Field"))
            if r.get("IsDeleted") is True:
                flat.skip("OpportunityFieldHistory", "deleted history row")
                continue
            if kind is None:
                flat.skip("OpportunityFieldHistory", f"field {r.get('Field')!s:.40} not tracked")
                continue
            old, new = (_canonical(kind, r.get("OldValue")), _canonical(kind, r.get("NewValue")))
            base = {"OpportunityId": r.get("OpportunityId"), "CreatedDate": r.get("CreatedDate"),
                    # the deal's currency: amount changes are converted at ingest
                    "CurrencyIsoCode": currency_of.get(r.get("OpportunityId"))}
            changes.append({**base, "Field": r.get("Field"), "OldValue": old, "NewValue": new})
            if r.get("Field") == "StageName":
                so, sn = status_of.get(old), status_of.get(new)
                if sn and so != sn:
                    changes.append({**base, "Field": "status", "OldValue": so, "NewValue": sn})
        flat.tables["opportunity_changes"] = frame(
            changes, ["OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue",
                      "CurrencyIsoCode"])

        flat.tables["reps"] = frame([{k: r.get(k) for k in USER_FIELDS}
                                     for r in fetched.get("User", [])], USER_FIELDS)
        flat.tables["accounts"] = frame([{k: r.get(k) for k in ACCOUNT_FIELDS}
                                         for r in fetched.get("Account", [])], ACCOUNT_FIELDS)
        stages = [{**{k: s.get(k) for k in STAGE_FIELDS},
                   "stage_status": _status(s.get("IsClosed"), s.get("IsWon"))}
                  for s in fetched.get("OpportunityStage", [])]
        flat.tables["stages"] = frame(stages, [*STAGE_FIELDS, "stage_status"])
        flat.whole.add("stages")
        return flat


_CATEGORY = {"pipeline": "pipeline", "best case": "best case", "bestcase": "best case",
             "commit": "commit", "forecast": "commit", "closed": "closed", "omitted": "omitted",
             "most likely": "best case", "mostlikely": "best case"}


def _canonical(kind: str, v) -> str | None:
    """An OpportunityFieldHistory value as canonical change text."""
    if v is None:
        return None
    if kind == "number":
        return plain_number(v)
    if kind == "percent":
        try:
            return plain_number(float(v) / 100)
        except (TypeError, ValueError):
            return str(v)
    if kind == "category":
        return _CATEGORY.get(str(v).strip().lower(), str(v))
    if isinstance(v, str) and len(v) >= 10 and v[4:5] == "-" and "T" in v:
        return v[:10]  # a date sent as a datetime
    return str(v)
