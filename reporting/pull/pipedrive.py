"""Pipedrive: API v2 deals, stages and organizations (cursor paging, ``updated_since``), v1
users and v1 deal flow (``dealChange`` items, offset paging). Auth header ``x-api-token``.

Won / lost are a deal *status* in Pipedrive, not a stage: a won deal keeps its last stage.
A deal without an amount has ``value: 0``; a 0 is read as "no amount" (NULL), since
Pipedrive cannot tell the two apart (see docs/pull.md).
"""

from __future__ import annotations

import pandas as pd

from .base import Flat, Puller, frame, max_cursor, plain_number, utc
from .http import Client
from .staging import Staging

PAGE = 500
DEAL_STATUSES = "open,won,lost,deleted"

DEAL_FIELDS = ["id", "title", "owner_id", "org_id", "pipeline_id", "stage_id", "stage_name",
               "stage_probability", "value", "currency", "add_time", "update_time", "status",
               "probability", "lost_reason", "close_time", "won_time", "lost_time",
               "expected_close_date"]
STAGE_FIELDS = ["id", "name", "pipeline_id", "order_nr", "deal_probability", "is_deal_rot_enabled",
                "days_to_rotten", "is_deleted", "stage_status"]
ORG_FIELDS = ["id", "name", "owner_id", "add_time", "update_time"]
USER_FIELDS = ["id", "name", "email", "active_flag", "is_deleted"]
CHANGE_FIELDS = ["item_id", "log_time", "field_key", "old_value", "new_value"]
#: the creation snapshot: each tracked field as the deal was created
CREATED_FIELDS = ["id", "add_time", "stage_name", "status", "value", "currency",
                  "expected_close_date", "probability", "owner_id"]
#: creation snapshot column -> (flow field_key, flattened change value -> column value)
_CREATED_FROM = {"stage_name": "stage_id", "status": "status", "value": "value",
                 "currency": "currency", "expected_close_date": "expected_close_date",
                 "probability": "probability", "owner_id": "user_id"}

#: dealChange field_key -> canonical field (others are left out, counted)
TRACKED = {"stage_id": "stage", "status": "status", "value": "amount",
           "expected_close_date": "close_date", "user_id": "owner", "currency": "currency",
           "probability": "probability"}


def _since(cursor: str | None) -> str | None:
    """``updated_since`` from a cursor: one second after it (the filter includes its bound
    and stamps are whole seconds, so the last deal seen is not fetched again)."""
    if not cursor:
        return None
    return (utc(cursor) + pd.Timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _v2_next(req: dict):
    def nxt(body) -> dict | None:
        cur = ((body or {}).get("additional_data") or {}).get("next_cursor")
        return {**req, "params": {**req["params"], "cursor": cur}} if cur else None
    return nxt


def _v1_next(req: dict):
    def nxt(body) -> dict | None:
        pag = (((body or {}).get("additional_data") or {}).get("pagination") or {})
        if pag.get("more_items_in_collection") and pag.get("next_start") is not None:
            return {**req, "params": {**req["params"], "start": pag["next_start"]}}
        return None
    return nxt


def _sid(v) -> str | None:
    """An id as text (``12001002``, not ``12001002.0``)."""
    if v is None or v == "":
        return None
    if isinstance(v, dict):  # v1 related object {id, name, ...}
        v = v.get("id") if "id" in v else v.get("value")
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _amount(v):
    """``value``: 0 is Pipedrive's "no amount" -> None."""
    try:
        return None if v is None or float(v) == 0 else float(v)
    except (TypeError, ValueError):
        return None


class Pipedrive(Puller):
    crm = "pipedrive"
    default_base_url = "https://api.pipedrive.com"

    def headers(self, token: str) -> dict[str, str]:
        return {"x-api-token": token}

    def fetch(self, st: Staging, client: Client, cursors: dict[str, str]) -> dict[str, list]:
        def get(req: dict):
            return client.request("GET", req["path"], params=req.get("params"))

        def v2(name: str, path: str, params: dict) -> list:
            first = {"path": path, "params": {"limit": PAGE, **params}}
            pages = st.stream(name, first, get, _v2_next(first))
            return [r for b in pages for r in ((b or {}).get("data") or [])]

        out: dict[str, list] = {}
        since = _since(cursors.get("deals"))
        out["deals"] = v2("deals", "/api/v2/deals", {
            "sort_by": "update_time", "sort_direction": "asc", "status": DEAL_STATUSES,
            **({"updated_since": since} if since else {})})
        out["stages"] = v2("stages", "/api/v2/stages", {})
        osince = _since(cursors.get("organizations"))
        out["organizations"] = v2("organizations", "/api/v2/organizations", {
            "sort_by": "update_time", "sort_direction": "asc",
            **({"updated_since": osince} if osince else {})})
        users = st.stream("users", {"path": "/api/v1/users", "params": {}}, get, lambda b: None)
        out["users"] = [r for b in users for r in ((b or {}).get("data") or [])]
        flow: list = []
        for d in out["deals"]:
            if d.get("status") == "deleted" or d.get("is_deleted") is True:
                continue
            first = {"path": f"/api/v1/deals/{int(d['id'])}/flow",
                     "params": {"start": 0, "limit": 100, "items": "dealChange", "all_changes": 1}}
            pages = st.stream(f"flow-{int(d['id'])}", first, get, _v1_next(first))
            flow += [r for b in pages for r in ((b or {}).get("data") or [])]
        out["flow"] = flow
        return out

    def flatten(self, fetched: dict[str, list]) -> Flat:
        flat = Flat()
        for obj, recs in fetched.items():
            flat.records[obj] = len(recs)
        for obj in ("deals", "organizations"):
            c = max_cursor((r.get("update_time") for r in fetched.get(obj, [])), None)
            if c:
                flat.cursors[obj] = c
        stages = {r.get("id"): r for r in fetched.get("stages", [])}

        def stage_name(sid) -> str | None:
            try:
                s = stages.get(int(sid))
            except (TypeError, ValueError):
                return None
            return s.get("name") if s else None

        live, changes = [], []
        for d in fetched.get("deals", []):
            if d.get("status") == "deleted" or d.get("is_deleted") is True:
                changes.append({"item_id": _sid(d.get("id")), "log_time": d.get("update_time"),
                                "field_key": "deleted", "old_value": None, "new_value": "true"})
                continue
            s = stages.get(d.get("stage_id")) or {}
            row = {k: d.get(k) for k in DEAL_FIELDS}
            row.update(id=_sid(d.get("id")), owner_id=_sid(d.get("owner_id")),
                       org_id=_sid(d.get("org_id")), pipeline_id=_sid(d.get("pipeline_id")),
                       stage_id=_sid(d.get("stage_id")), stage_name=s.get("name"),
                       stage_probability=s.get("deal_probability"), value=_amount(d.get("value")))
            live.append(row)
        flat.tables["opportunities"] = frame(live, DEAL_FIELDS)

        for item in fetched.get("flow", []):
            data = item.get("data") or {}
            key = data.get("field_key")
            field = TRACKED.get(key)
            if item.get("object") != "dealChange" or field is None:
                flat.skip("flow", f"{key or item.get('object')!s:.40} not tracked")
                continue
            old, new = data.get("old_value"), data.get("new_value")
            if key == "status" and new == "deleted":
                key, old, new = "deleted", None, "true"
            elif field == "stage":
                old, new = stage_name(old) or old, stage_name(new) or new
            elif field == "amount":
                old, new = (plain_number(_amount(old)), plain_number(_amount(new)))
            elif field == "probability":
                old, new = (plain_number(float(v) / 100) if v not in (None, "") else None
                            for v in (old, new))
            elif field == "owner":
                old, new = _sid(old), _sid(new)
            changes.append({"item_id": _sid(data.get("item_id")), "log_time": data.get("log_time")
                            or item.get("timestamp"), "field_key": key,
                            "old_value": None if old is None else str(old),
                            "new_value": None if new is None else str(new)})
        flat.tables["opportunity_changes"] = frame(changes, CHANGE_FIELDS)
        flat.tables["opportunity_snapshots"] = frame(_created(live, changes), CREATED_FIELDS)

        srows = []
        for s in fetched.get("stages", []):
            row = {k: s.get(k) for k in STAGE_FIELDS}
            row.update(id=_sid(s.get("id")), pipeline_id=_sid(s.get("pipeline_id")),
                       stage_status="open")  # won / lost are statuses, not stages
            if not s.get("is_deal_rot_enabled"):
                row["days_to_rotten"] = None
            srows.append(row)
        flat.tables["stages"] = frame(srows, STAGE_FIELDS)
        flat.whole.add("stages")
        flat.tables["reps"] = frame([{**{k: u.get(k) for k in USER_FIELDS}, "id": _sid(u.get("id"))}
                                     for u in fetched.get("users", [])], USER_FIELDS)
        flat.whole.add("reps")
        flat.tables["accounts"] = frame(
            [{**{k: o.get(k) for k in ORG_FIELDS}, "id": _sid(o.get("id")),
              "owner_id": _sid(o.get("owner_id"))} for o in fetched.get("organizations", [])],
            ORG_FIELDS)
        return flat


def _created(deals: list[dict], changes: list[dict]) -> list[dict]:
    """One snapshot per deal at its ``add_time``: each tracked field as it was when the
    deal was created. The deal flow (``all_changes=1``) logs every change of these fields,
    so a field's value at creation is the old value of its first change, and the current
    value when it never changed. Deal-level probability counts only when set."""
    first: dict[tuple[str, str], dict] = {}
    for c in changes:
        key = (c["item_id"], c["field_key"])
        t = utc(c["log_time"])
        if t is not None and (key not in first or t < utc(first[key]["log_time"])):
            first[key] = c
    rows = []
    for d in deals:
        row = {"id": d["id"], "add_time": d.get("add_time")}
        for col, key in _CREATED_FROM.items():
            c = first.get((d["id"], key))
            if c is None:
                v = d.get(col)
            else:
                v = c["old_value"]
                if col == "value":
                    v = _amount(v)
                elif col == "probability" and v is not None:
                    v = float(v) * 100  # back to percent, as the API gives it
            row[col] = v
        rows.append(row)
    return rows
