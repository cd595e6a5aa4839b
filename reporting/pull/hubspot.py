"""HubSpot: CRM API v3 deals (with ``propertiesWithHistory`` and company associations),
deal pipelines (stage id -> label, probability, closed / won), owners and companies.

Full pull: the deals list (``after`` paging). Incremental pull: ``POST
/crm/v3/objects/deals/search`` with ``hs_lastmodifieddate GT <cursor>`` gives the deals
modified since; each is then read with its history. Search stops at 10,000 results per
query: beyond that the pull stops with a message asking for ``--full``. Archived (deleted)
deals come from the list with ``archived=true``; each archived since the last pull becomes a
``deleted`` change at its ``archivedAt``.
"""

from __future__ import annotations

from .base import Flat, Puller, frame, max_cursor, utc
from .http import Client, PullError
from .staging import Staging

DEAL_PROPS = ["dealname", "amount", "deal_currency_code", "closedate", "createdate", "dealstage",
              "pipeline", "hubspot_owner_id", "hs_deal_stage_probability", "hs_is_closed",
              "hs_is_closed_won", "closed_lost_reason", "dealtype", "hs_lastmodifieddate",
              "hs_object_id"]
HISTORY_PROPS = ["dealstage", "amount", "closedate", "hubspot_owner_id", "hs_deal_stage_probability",
                 "deal_currency_code"]
COMPANY_PROPS = ["name", "domain", "industry", "hubspot_owner_id", "createdate",
                 "hs_lastmodifieddate", "hs_object_id"]
SEARCH_LIMIT = 10_000

OPP_COLUMNS = ["hs_object_id", *[p for p in DEAL_PROPS if p != "hs_object_id"], "stage_label",
               "pipeline_label", "stage_status", "company_id"]
SNAP_COLUMNS = ["hs_object_id", "timestamp", "stage_label", "stage_status", "amount",
                "deal_currency_code", "closedate", "hubspot_owner_id", "hs_deal_stage_probability"]


def _after_next(req: dict):
    def nxt(body) -> dict | None:
        after = (((body or {}).get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return None
        if req.get("json") is not None:
            return {**req, "json": {**req["json"], "after": after}}
        return {**req, "params": {**req["params"], "after": after}}
    return nxt


def _ms(cursor: str) -> str:
    return str(int(utc(cursor).value // 1_000_000))


def _status(stage: dict | None, props: dict) -> str | None:
    """open / won / lost: the pipeline stage's metadata (closed; probability 1 = won), else
    the deal's own hs_is_closed / hs_is_closed_won."""
    if stage is not None:
        md = stage.get("metadata") or {}
        if str(md.get("isClosed")).lower() == "true":
            try:
                return "won" if float(md.get("probability")) >= 1 else "lost"
            except (TypeError, ValueError):
                pass
        else:
            return "open"
    closed, won = props.get("hs_is_closed"), props.get("hs_is_closed_won")
    if closed is None:
        return None
    return "won" if str(won).lower() == "true" else "lost" if str(closed).lower() == "true" else "open"


class HubSpot(Puller):
    crm = "hubspot"
    default_base_url = "https://api.hubapi.com"

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def fetch(self, st: Staging, client: Client, cursors: dict[str, str]) -> dict[str, list]:
        def call(req: dict):
            return client.request(req.get("method", "GET"), req["path"], params=req.get("params"),
                                  json=req.get("json"))

        def listing(name: str, path: str, params: dict) -> list:
            first = {"path": path, "params": params}
            pages = st.stream(name, first, call, _after_next(first))
            return [r for b in pages for r in ((b or {}).get("results") or [])]

        def search(name: str, obj: str, props: list[str], cursor: str) -> list:
            first = {"method": "POST", "path": f"/crm/v3/objects/{obj}/search", "json": {
                "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate",
                                               "operator": "GT", "value": _ms(cursor)}]}],
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                "properties": props, "limit": 200, "after": "0"}}
            pages = st.stream(name, first, call, _after_next(first))
            total = max([(b or {}).get("total") or 0 for b in pages] or [0])
            if total > SEARCH_LIMIT:
                raise PullError(f"hubspot: {total:,} {obj} changed since the last pull; HubSpot's "
                                f"search stops at {SEARCH_LIMIT:,}: run `crm-report pull hubspot "
                                "--full`")
            return [r for b in pages for r in ((b or {}).get("results") or [])]

        out: dict[str, list] = {}
        out["pipelines"] = listing("pipelines", "/crm/v3/pipelines/deals", {})
        out["owners"] = listing("owners", "/crm/v3/owners/", {"limit": 100, "archived": "false"})
        deal_params = {"properties": ",".join(DEAL_PROPS),
                       "propertiesWithHistory": ",".join(HISTORY_PROPS),
                       "associations": "companies", "archived": "false"}
        if cursors.get("deals"):
            ids = [r["id"] for r in search("deals-search", "deals", ["hs_object_id",
                                           "hs_lastmodifieddate"], cursors["deals"])]
            deals = []
            for i in ids:
                deals += st.stream(f"deal-{int(i)}", {"path": f"/crm/v3/objects/deals/{int(i)}",
                                                      "params": deal_params}, call, lambda b: None)
            out["deals"] = deals
        else:
            out["deals"] = listing("deals", "/crm/v3/objects/deals", {"limit": 50, **deal_params})
        archived = listing("archived", "/crm/v3/objects/deals",
                           {"limit": 100, "archived": "true", "properties": "hs_lastmodifieddate"})
        since = utc(cursors["archived"]) if cursors.get("archived") else None
        out["archived"] = [r for r in archived if since is None
                           or (utc(r.get("archivedAt") or r.get("updatedAt")) or since) > since]
        if cursors.get("companies"):
            out["companies"] = search("companies-search", "companies", COMPANY_PROPS,
                                      cursors["companies"])
        else:
            out["companies"] = listing("companies", "/crm/v3/objects/companies", {
                "limit": 100, "archived": "false", "properties": ",".join(COMPANY_PROPS)})
        return out

    def flatten(self, fetched: dict[str, list]) -> Flat:
        flat = Flat()
        for obj, recs in fetched.items():
            flat.records[obj] = len(recs)
        for obj in ("deals", "companies"):
            c = max_cursor(((r.get("properties") or {}).get("hs_lastmodifieddate")
                            for r in fetched.get(obj, [])), None)
            if c:
                flat.cursors[obj] = c
        c = max_cursor((r.get("archivedAt") or r.get("updatedAt") for r in fetched.get("archived", [])),
                       None)
        if c:
            flat.cursors["archived"] = c
        stages: dict[str, dict] = {}
        pipelines: dict[str, str] = {}
        srows = []
        for p in fetched.get("pipelines", []):
            pipelines[p.get("id")] = p.get("label")
            for s in p.get("stages") or []:
                stages[s.get("id")] = s
                md = s.get("metadata") or {}
                srows.append({"id": s.get("id"), "label": s.get("label"), "pipeline": p.get("label"),
                              "displayOrder": s.get("displayOrder"),
                              "position": (s["displayOrder"] + 1
                                           if isinstance(s.get("displayOrder"), int) else None),
                              "probability": md.get("probability"),
                              "stage_status": _status(s, {}), "archived": s.get("archived")})

        def label(sid):
            s = stages.get(sid)
            return s.get("label") if s else sid

        opps, snaps = [], []
        for d in fetched.get("deals", []):
            props = d.get("properties") or {}
            did = str(d.get("id") or props.get("hs_object_id"))
            comps = (((d.get("associations") or {}).get("companies") or {}).get("results") or [])
            row = {"hs_object_id": did, **{p: props.get(p) for p in DEAL_PROPS if p != "hs_object_id"}}
            row.update(stage_label=label(props.get("dealstage")),
                       pipeline_label=pipelines.get(props.get("pipeline"), props.get("pipeline")),
                       stage_status=_status(stages.get(props.get("dealstage")), props),
                       company_id=str(comps[0]["id"]) if comps else None)
            opps.append(row)
            by_time: dict[str, dict] = {}
            for prop, entries in (d.get("propertiesWithHistory") or {}).items():
                for e in entries or []:
                    ts = utc(e.get("timestamp"))
                    if ts is None:
                        continue
                    snap = by_time.setdefault(ts.isoformat(), {"hs_object_id": did,
                                                               "timestamp": e.get("timestamp")})
                    v = e.get("value")
                    if prop == "dealstage":
                        snap["stage_label"] = label(v)
                        snap["stage_status"] = _status(stages.get(v), {})
                    elif prop == "closedate":
                        snap["closedate"] = v[:10] if isinstance(v, str) and v else None
                    else:
                        snap[prop] = v if v != "" else None
            snaps += [{c: s.get(c) for c in SNAP_COLUMNS} for _, s in sorted(by_time.items())]
        flat.tables["opportunities"] = frame(opps, OPP_COLUMNS)
        flat.tables["opportunity_snapshots"] = frame(snaps, SNAP_COLUMNS)
        flat.tables["opportunity_changes"] = frame(
            [{"hs_object_id": str(r.get("id")), "archivedAt": r.get("archivedAt") or r.get("updatedAt"),
              "field": "deleted", "new_value": "true"} for r in fetched.get("archived", [])],
            ["hs_object_id", "archivedAt", "field", "new_value"])
        flat.tables["stages"] = frame(srows, ["id", "label", "pipeline", "displayOrder", "position",
                                              "probability", "stage_status", "archived"])
        flat.whole.add("stages")
        reps = []
        for o in fetched.get("owners", []):
            team = next((t.get("name") for t in o.get("teams") or [] if t.get("primary")), None)
            name = " ".join(x for x in (o.get("firstName"), o.get("lastName")) if x) or None
            reps.append({"id": str(o.get("id")), "name": name, "email": o.get("email"), "team": team,
                         "type": o.get("type")})
        flat.tables["reps"] = frame(reps, ["id", "name", "email", "team", "type"])
        flat.whole.add("reps")
        flat.tables["accounts"] = frame(
            [{"hs_object_id": str(c.get("id")), **{p: (c.get("properties") or {}).get(p)
                                                   for p in COMPANY_PROPS if p != "hs_object_id"}}
             for c in fetched.get("companies", [])], COMPANY_PROPS[-1:] + COMPANY_PROPS[:-1])
        return flat
