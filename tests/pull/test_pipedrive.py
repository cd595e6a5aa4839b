"""crm-report pull pipedrive against a fake Pipedrive API on loopback.

Data: tests/pull/fixtures/pipedrive.json (shapes of ../shared/data/crm_api/pipedrive).
By hand: 201 amount 30000 -> 36000 (2024-03-18 09:21:44), expected close 2024-05-31 ->
2024-06-28; 202 stage Proposal Made -> Contact Made (backwards, 2024-03-28 10:10:10);
203 value 0 (no amount); 204 deleted (update_time 2024-03-30T12:00:00Z); 205 won in stage
2 (Contact Made); 206 lost (Budget cut); 207 deal probability 75 (stage 4 says 80).
"""

from __future__ import annotations

import pandas as pd
import pytest

from reporting.pull import CredentialsError, PullError, pull

from .conftest import TOKEN
from .fakes import FakePipedrive, pipedrive_fixture, serve
from .test_salesforce import fingerprint, q

ENV = {"CRM_REPORT_PIPEDRIVE_TOKEN": TOKEN}


@pytest.fixture
def pd_api(httpserver):
    fake = FakePipedrive(TOKEN, pipedrive_fixture(), page_size=3)
    return fake, serve(httpserver, fake)


def _pull(url, store, **kw):
    return pull("pipedrive", store, base_url=url, environ=kw.pop("environ", ENV), **kw)


def deal_requests(fake):
    return [e["args"] for e in fake.log if e["path"] == "/api/v2/deals"]


def test_full_pull(pd_api, store):
    fake, url = pd_api
    rep = _pull(url, store)
    assert len(deal_requests(fake)) == 3  # 7 deals, 3 a page
    assert all(e["headers"].get("X-Api-Token") == TOKEN for e in fake.log)
    assert rep.skipped == {"flow": {"add_time not tracked": 4, "lost_reason not tracked": 1}}
    for r in rep.ingest.results:
        assert r.read == r.loaded + r.quarantined
    assert {r.table: r.read for r in rep.ingest.results} == {
        "opportunities": 6, "opportunity_changes": 12, "opportunity_snapshots": 6, "stages": 4,
        "reps": 3, "accounts": 7}
    assert rep.quarantined == 0
    o = q(store, "SELECT * FROM opportunities").set_index("opportunity_id")
    assert sorted(o.index) == ["201", "202", "203", "205", "206", "207"]
    assert o.loc["201", "amount"] == 36000 and o.loc["201", "stage"] == "Proposal Made"
    assert o.loc["201", "expected_close_date"] == pd.Timestamp("2024-06-28")
    assert pd.isna(o.loc["201", "closed_at"]) and o.loc["201", "probability"] == pytest.approx(0.6)
    assert o.loc["201", "name"] == '=HYPERLINK("http://evil.example","click")'
    assert o.loc["202", "stage"] == "Contact Made" and o.loc["202", "owner"] == "2"
    assert pd.isna(o.loc["203", "amount"])  # value 0 = no amount
    assert o.loc["205", "status"] == "won" and o.loc["205", "stage"] == "Contact Made"
    assert o.loc["205", "closed_at"] == pd.Timestamp("2024-02-09 16:20:00")
    assert o.loc["206", "status"] == "lost" and o.loc["206", "lost_reason"] == "Budget cut"
    assert o.loc["207", "probability"] == pytest.approx(0.75)  # the deal's own beats 0.8
    c = q(store, "SELECT * FROM opportunity_changes")
    got = {(r.opportunity_id, r.field, r.changed_at): (r.old_value, r.new_value) for r in c.itertuples()}
    assert got[("204", "deleted", pd.Timestamp("2024-03-30 12:00:00"))] == (None, "true")
    assert got[("201", "amount", pd.Timestamp("2024-03-18 09:21:44"))] == ("30000", "36000")
    assert got[("201", "close_date", pd.Timestamp("2024-04-02 16:05:09"))] == ("2024-05-31", "2024-06-28")
    assert got[("202", "stage", pd.Timestamp("2024-03-28 10:10:10"))] == ("Proposal Made", "Contact Made")
    assert got[("205", "status", pd.Timestamp("2024-02-09 16:20:00"))] == ("open", "won")
    assert got[("207", "probability", pd.Timestamp("2024-04-15 11:00:00"))] == (None, "0.75")
    # each deal as created: a field's first change's old value, else its current value
    cr = q(store, "SELECT * FROM opportunity_snapshots WHERE origin = 'created'").set_index("opportunity_id")
    assert (cr.loc["201", "stage"], cr.loc["201", "amount"]) == ("Qualified", 30000)
    assert cr.loc["201", "close_date"] == pd.Timestamp("2024-05-31")
    assert cr.loc["201", "observed_at"] == pd.Timestamp("2024-02-01 08:30:00")
    assert (cr.loc["205", "stage"], cr.loc["205", "status"]) == ("Qualified", "open")
    assert pd.isna(cr.loc["203", "amount"]) and pd.isna(cr.loc["207", "probability"])
    s = q(store, "SELECT * FROM stages ORDER BY position")
    assert list(s.rotting_days.fillna(-1)) == [-1, -1, 14, 7]
    assert list(s.probability) == pytest.approx([0.1, 0.3, 0.6, 0.8]) and set(s.pipeline) == {"1"}
    assert q(store, "SELECT cursor FROM pull_state WHERE object = 'deals'").iloc[0, 0] == "2024-04-15T11:00:00.000Z"


def test_incremental_pull(pd_api, store):
    fake, url = pd_api
    _pull(url, store)
    n = len(fake.log)
    d = next(x for x in fake.records["deals"] if x["id"] == 202)
    d.update(value=17000, update_time="2024-05-01T08:00:00Z")
    fake.records["flows"]["202"].insert(0, {"object": "dealChange", "timestamp": "2024-05-01 08:00:00", "data": {
        "id": 49999, "item_id": 202, "user_id": 2, "field_key": "value", "old_value": "15000",
        "new_value": "17000", "log_time": "2024-05-01 08:00:00", "additional_data": []}})
    rep = _pull(url, store)
    new = fake.log[n:]
    args = next(e["args"] for e in new if e["path"] == "/api/v2/deals")
    assert args["updated_since"] == "2024-04-15T11:00:01Z"  # one second after the cursor
    assert {e["path"] for e in new if "/flow" in e["path"]} == {"/api/v1/deals/202/flow"}
    assert rep.records["deals"] == 1
    assert q(store, "SELECT amount FROM opportunities WHERE opportunity_id = '202'").iloc[0, 0] == 17000
    before = fingerprint(store)
    rep = _pull(url, store)
    assert rep.ingest is None and fingerprint(store) == before


def test_429_with_retry_after_then_success(pd_api, store, waits):
    fake, url = pd_api
    fake.fail("/api/v2/deals", 429, {"success": False, "error": "Request over limit", "errorCode": 429,
                                     "data": None, "additional_data": None},
              {"Retry-After": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"})
    rep = _pull(url, store)
    assert waits[0] == 2 and rep.ingest.loaded > 0


def test_500_then_success(pd_api, store, waits):
    fake, url = pd_api
    fake.fail("/flow", 500, {"success": False, "error": "internal"}, times=2)
    assert _pull(url, store).ingest.loaded > 0 and waits == [1.0]


def test_bad_token(pd_api, store):
    fake, url = pd_api
    with pytest.raises(CredentialsError, match=r"pipedrive: .*HTTP 401.*CRM_REPORT_PIPEDRIVE_TOKEN"):
        _pull(url, store, environ={"CRM_REPORT_PIPEDRIVE_TOKEN": "nope"})
    assert not store.exists()


def test_kill_between_pages_then_resume(pd_api, store):
    fake, url = pd_api
    fake.fail("cursor=", 404, {"success": False, "error": "gone"})  # the 2nd page of deals
    with pytest.raises(PullError):
        _pull(url, store)
    assert not store.exists()
    rep = _pull(url, store)
    assert rep.resumed and rep.pages_reused == 1
    reqs = deal_requests(fake)
    assert len(reqs) == 4 and "cursor" not in reqs[0] and all("cursor" in r for r in reqs[1:])
    assert rep.ingest.loaded > 0


def test_a_deal_deleted_after_a_pull_leaves_opportunities_and_keeps_its_past(pd_api, store):
    from reporting.store import opportunities_as_of

    fake, url = pd_api
    _pull(url, store)
    d = next(x for x in fake.records["deals"] if x["id"] == 203)
    d.update(status="deleted", is_deleted=True, update_time="2024-05-01T08:00:00Z")
    rep = _pull(url, store)
    assert rep.records["deals"] == 1
    assert "203" not in set(q(store, "SELECT opportunity_id FROM opportunities").opportunity_id)
    assert "203" in set(q(store, "SELECT opportunity_id FROM opportunities_deleted").opportunity_id)
    assert "203" in set(opportunities_as_of(store, "2024-04-01").opportunity_id)
    assert "203" not in set(opportunities_as_of(store, "2024-05-02").opportunity_id)
