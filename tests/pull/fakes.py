"""Fake CRM APIs on loopback (pytest-httpserver), built on the request / response shapes of
``../shared/data/crm_api`` (see its README and manifests).

Each fake holds records per API object, answers the endpoints a puller calls with the
documented envelopes and paging keys, applies the incremental filters itself, records
every request (``log``), and can be told to fail: ``fail(match, status, body, headers,
times)`` answers the next ``times`` requests whose path (and query) contains ``match``
with that error instead.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"


def _ts(v) -> pd.Timestamp:
    t = pd.Timestamp(str(v).replace(" ", "T"))
    return (t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")).tz_localize(None)


@dataclass
class Fault:
    match: str
    status: int
    body: object
    headers: dict
    times: int


@dataclass
class Fake:
    token: str
    records: dict[str, list]
    page_size: int = 5
    log: list[dict] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        pass

    #: (match, event): a request matching waits until the event is set (a pull to kill)
    hold: tuple | None = None

    def fail(self, match: str, status: int, body: object = None, headers: dict | None = None,
             times: int = 1) -> None:
        self.faults.append(Fault(match, status, body, headers or {}, times))

    def handle(self, request: Request) -> Response:
        where = request.path + ("?" + request.query_string.decode() if request.query_string else "")
        entry = {"method": request.method, "path": request.path, "args": dict(request.args),
                 "headers": dict(request.headers), "body": request.get_data(as_text=True)}
        self.log.append(entry)
        if self.hold and self.hold[0] in where:
            self.hold[1].wait(60)
        for f in self.faults:
            if f.times > 0 and f.match in where:
                f.times -= 1
                return _json(f.body, f.status, f.headers)
        if not self.authorized(request):
            return self.unauthorized()
        return self.route(request)

    def requests_to(self, needle: str) -> list[dict]:
        return [e for e in self.log if needle in e["path"]]

    # overridden
    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def unauthorized(self) -> Response:  # pragma: no cover - overridden
        return _json({"message": "unauthorized"}, 401)

    def route(self, request: Request) -> Response:  # pragma: no cover - overridden
        return _json({}, 404)


def _json(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json;charset=UTF-8")


def serve(httpserver, fake: Fake) -> str:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    return httpserver.url_for("/").rstrip("/")


# --------------------------------------------------------------------------- Salesforce

_SOQL = re.compile(r"^SELECT (?P<fields>.+?) FROM (?P<obj>\w+)"
                   r"(?: WHERE (?P<wf>\w+) > (?P<wv>\S+))?(?: ORDER BY (?P<order>\w+) ASC, Id ASC)?$")


class FakeSalesforce(Fake):
    """``/services/data/v62.0/query`` and ``queryAll`` (SOQL with an optional ``WHERE f > t``
    and ``ORDER BY f ASC, Id ASC``), ``nextRecordsUrl`` paging, ``sobjects/Opportunity/describe``;
    401 ``INVALID_SESSION_ID`` for a wrong token."""

    locators: dict

    def __post_init__(self) -> None:
        self.locators = {}
        self.queries: list[str] = []

    def unauthorized(self) -> Response:
        return _json([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                     401)

    def route(self, request: Request) -> Response:
        p = request.path
        base = "/services/data/v62.0/"
        if p == base + "sobjects/Opportunity/describe":
            names = sorted({k for r in self.records["Opportunity"] for k in r if k != "attributes"})
            return _json({"name": "Opportunity", "fields": [{"name": n} for n in names]})
        if p in (base + "query", base + "queryAll"):
            q = request.args["q"]
            self.queries.append(q)
            m = _SOQL.match(q)
            assert m, q
            fields = [f.strip() for f in m["fields"].split(",")]
            recs = [r for r in self.records.get(m["obj"], [])
                    if p.endswith("queryAll") or not r.get("IsDeleted")]
            if m["wf"]:
                since = _ts(m["wv"])
                recs = [r for r in recs if _ts(r[m["wf"]]) > since]
            if m["order"]:
                recs = sorted(recs, key=lambda r: (_ts(r[m["order"]]), r.get("Id", "")))
            out = [{"attributes": r.get("attributes", {}), **{f: r.get(f) for f in fields}}
                   for r in recs]
            loc = f"01gFAKE{len(self.locators):04d}"
            self.locators[loc] = out
            return self._page(loc, 0)
        m = re.match(r"^/services/data/v62\.0/query(?:All)?/(01gFAKE\d+)-(\d+)$", p)
        if m:
            return self._page(m[1], int(m[2]))
        return _json([{"message": "not found", "errorCode": "NOT_FOUND"}], 404)

    def _page(self, loc: str, start: int) -> Response:
        recs = self.locators[loc]
        chunk = recs[start:start + self.page_size]
        done = start + self.page_size >= len(recs)
        body = {"totalSize": len(recs), "done": done, "records": chunk}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v62.0/query/{loc}-{start + self.page_size}"
        return _json(body, headers={"Sforce-Limit-Info": "api-usage=1/100000"})


def salesforce_fixture() -> dict[str, list]:
    """The small self-contained Salesforce data set (tests/pull/fixtures/salesforce.json)."""
    data = json.loads((FIXTURES / "salesforce.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k != "note"}


#: stage definitions for the shared data set (its README lists them as a typical org setup)
SHARED_SF_STAGES = [("Prospecting", False, False, 10.0, "Pipeline"),
                    ("Qualification", False, False, 10.0, "Pipeline"),
                    ("Proposal/Price Quote", False, False, 75.0, "Pipeline"),
                    ("Negotiation/Review", False, False, 90.0, "Pipeline"),
                    ("Closed Won", True, True, 100.0, "Closed"),
                    ("Closed Lost", True, False, 0.0, "Omitted")]


def salesforce_shared(folder: Path) -> dict[str, list]:
    """The shared data set's Salesforce records (the query_*.json bodies) by object; the
    OpportunityStage records are made from the stage table of its README."""
    def recs(name: str) -> list:
        return json.loads((folder / name).read_text(encoding="utf-8"))["records"]

    opps = recs("query_opportunity_page1.json") + recs("query_opportunity_page2.json")
    for r in opps:
        r.setdefault("IsDeleted", False)
    stages = [{"attributes": {"type": "OpportunityStage"}, "ApiName": a, "MasterLabel": a,
               "IsActive": True, "IsClosed": c, "IsWon": w, "DefaultProbability": p,
               "ForecastCategoryName": fc, "SortOrder": i + 1}
              for i, (a, c, w, p, fc) in enumerate(SHARED_SF_STAGES)]
    return copy.deepcopy({
        "Opportunity": opps,
        "OpportunityHistory": recs("query_opportunityhistory.json"),
        "OpportunityFieldHistory": recs("query_opportunityfieldhistory.json"),
        "User": recs("query_user.json"),
        "Account": recs("query_account.json"),
        "OpportunityStage": stages,
    })


# --------------------------------------------------------------------------- Pipedrive


def _b64(n: int) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps({"offset": n}).encode()).decode().rstrip("=")


def _unb64(s: str) -> int:
    import base64

    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))["offset"]


class FakePipedrive(Fake):
    """``/api/v2/deals`` (``updated_since``, ``status``, sort by update_time, ``cursor``),
    ``/api/v2/stages``, ``/api/v2/organizations``, ``/api/v1/users``,
    ``/api/v1/deals/{id}/flow`` (``start`` / ``limit``); 401 for a wrong ``x-api-token``."""

    def authorized(self, request: Request) -> bool:
        return request.headers.get("x-api-token") == self.token

    def unauthorized(self) -> Response:
        return _json({"success": False, "error": "unauthorized access", "errorCode": 401,
                      "error_info": "Please check developers.pipedrive.com"}, 401)

    def route(self, request: Request) -> Response:
        p, a = request.path, request.args
        if p in ("/api/v2/deals", "/api/v2/organizations", "/api/v2/stages"):
            recs = list(self.records[p.rsplit("/", 1)[1]])
            if "updated_since" in a:
                since = _ts(a["updated_since"])
                recs = [r for r in recs if _ts(r["update_time"]) >= since]
            if "status" in a:
                recs = [r for r in recs if r["status"] in a["status"].split(",")]
            if a.get("sort_by") == "update_time":
                recs.sort(key=lambda r: (_ts(r["update_time"]), r["id"]))
            start = _unb64(a["cursor"]) if a.get("cursor") else 0
            size = min(int(a.get("limit", 100)), self.page_size)
            chunk = recs[start:start + size]
            nxt = _b64(start + size) if start + size < len(recs) else None
            return _json({"success": True, "data": chunk, "additional_data": {"next_cursor": nxt}})
        if p == "/api/v1/users":
            return _json({"success": True, "data": self.records["users"]})
        m = re.match(r"^/api/v1/deals/(\d+)/flow$", p)
        if m:
            items = self.records["flows"].get(m[1], [])
            start, size = int(a.get("start", 0)), min(int(a.get("limit", 100)), self.page_size)
            more = start + size < len(items)
            pag = {"start": start, "limit": size, "more_items_in_collection": more}
            if more:
                pag["next_start"] = start + size
            return _json({"success": True, "data": items[start:start + size],
                          "additional_data": {"pagination": pag}})
        return _json({"success": False, "error": "not found", "errorCode": 404}, 404)


def pipedrive_fixture() -> dict:
    data = json.loads((FIXTURES / "pipedrive.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k != "note"}


def pipedrive_shared(folder: Path, ids: dict) -> dict:
    """The shared data set's Pipedrive records; organizations (not in the fixtures) are made
    from ids.json's accounts."""
    def body(name: str):
        return json.loads((folder / name).read_text(encoding="utf-8"))

    deals = body("v2_deals_page1.json")["data"] + body("v2_deals_page2.json")["data"]
    flows = {str(d["id"]): body(f"v1_deals_{d['id']}_flow.json")["data"] for d in deals}
    orgs = [{"id": a["pipedrive_org_id"], "name": a["name"], "owner_id": None,
             "add_time": "2023-11-02T10:00:00Z", "update_time": "2023-11-02T10:00:00Z"}
            for a in ids["accounts"]]
    return copy.deepcopy({"deals": deals, "flows": flows, "stages": body("v2_stages.json")["data"],
                          "users": body("v1_users.json")["data"], "organizations": orgs})


# --------------------------------------------------------------------------- HubSpot


class FakeHubSpot(Fake):
    """``/crm/v3/objects/deals`` (list with ``properties`` / ``propertiesWithHistory`` /
    ``associations`` / ``archived``, ``after`` paging), ``/crm/v3/objects/deals/{id}``,
    ``POST /crm/v3/objects/{deals,companies}/search`` (``hs_lastmodifieddate`` GT / GTE in epoch
    ms, ``total``), ``/crm/v3/pipelines/deals``, ``/crm/v3/owners/``, ``/crm/v3/objects/companies``;
    401 for a wrong bearer token."""

    def unauthorized(self) -> Response:
        return _json({"status": "error", "message": "Authentication credentials not found.",
                      "category": "INVALID_AUTHENTICATION"}, 401)

    @staticmethod
    def _shape(r: dict, args) -> dict:
        out = {k: v for k, v in r.items() if k not in ("properties", "propertiesWithHistory",
                                                       "associations")}
        props = args.get("properties")
        names = props.split(",") if isinstance(props, str) else (props or [])
        out["properties"] = {p: r.get("properties", {}).get(p) for p in names} if names \
            else dict(r.get("properties", {}))
        hist = args.get("propertiesWithHistory")
        if hist:
            out["propertiesWithHistory"] = {p: r.get("propertiesWithHistory", {}).get(p, [])
                                            for p in hist.split(",")}
        if args.get("associations") and "associations" in r:
            out["associations"] = r["associations"]
        return out

    def _paged(self, recs: list, after: str | None, limit: int, extra: dict | None = None):
        start = int(after or 0)
        size = min(limit, self.page_size)
        body = {**(extra or {}), "results": recs[start:start + size]}
        if start + size < len(recs):
            body["paging"] = {"next": {"after": str(start + size)}}
        return _json(body)

    def route(self, request: Request) -> Response:
        p, a = request.path, request.args
        if p == "/crm/v3/pipelines/deals":
            return _json({"results": self.records["pipelines"]})
        if p == "/crm/v3/owners/":
            return self._paged(self.records["owners"], a.get("after"), int(a.get("limit", 100)))
        if p in ("/crm/v3/objects/deals", "/crm/v3/objects/companies"):
            obj = p.rsplit("/", 1)[1]
            recs = self.records["archived"] if obj == "deals" and a.get("archived") == "true" \
                else self.records[obj]
            return self._paged([self._shape(r, a) for r in recs], a.get("after"),
                               int(a.get("limit", 10)))
        m = re.match(r"^/crm/v3/objects/deals/(\d+)$", p)
        if m:
            r = next((d for d in self.records["deals"] if d["id"] == m[1]), None)
            return _json(self._shape(r, a)) if r else _json({"status": "error",
                                                             "category": "OBJECT_NOT_FOUND"}, 404)
        m = re.match(r"^/crm/v3/objects/(deals|companies)/search$", p)
        if m and request.method == "POST":
            body = json.loads(request.get_data(as_text=True))
            recs = list(self.records[m[1]])
            for f in body["filterGroups"][0]["filters"]:
                assert f["propertyName"] == "hs_lastmodifieddate"
                since = pd.Timestamp(int(f["value"]), unit="ms")
                gt = f["operator"] == "GT"
                stamp = [_ts(r["properties"]["hs_lastmodifieddate"]) for r in recs]
                recs = [r for r, t in zip(recs, stamp, strict=True)
                        if (t > since if gt else t >= since)]
            recs.sort(key=lambda r: _ts(r["properties"]["hs_lastmodifieddate"]))
            shaped = [self._shape(r, {"properties": body.get("properties")}) for r in recs]
            return self._paged(shaped, body.get("after"), int(body.get("limit", 10)),
                               {"total": len(recs)})
        return _json({"status": "error", "category": "OBJECT_NOT_FOUND"}, 404)


def hubspot_fixture() -> dict:
    data = json.loads((FIXTURES / "hubspot.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k != "note"}


def hubspot_shared(folder: Path) -> dict:
    """The shared data set's HubSpot records: the deals list pages merged with the
    ``propertiesWithHistory`` of crm_v3_objects_deals_with_history.json."""
    def body(name: str):
        return json.loads((folder / name).read_text(encoding="utf-8"))

    deals = body("crm_v3_objects_deals_page1.json")["results"] + \
        body("crm_v3_objects_deals_page2.json")["results"]
    hist = {d["id"]: d.get("propertiesWithHistory", {})
            for d in body("crm_v3_objects_deals_with_history.json")["results"]}
    for d in deals:
        d["propertiesWithHistory"] = hist.get(d["id"], {})
    return copy.deepcopy({"deals": deals, "archived": [],
                          "pipelines": body("crm_v3_pipelines_deals.json")["results"],
                          "owners": body("crm_v3_owners.json")["results"],
                          "companies": body("crm_v3_objects_companies.json")["results"]})
