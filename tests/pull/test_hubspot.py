"""crm-report pull hubspot against a fake HubSpot CRM API on loopback.

Data: tests/pull/fixtures/hubspot.json (shapes of ../shared/data/crm_api/hubspot). By
hand: 501 amount 30000 -> 36000 (2024-03-18T09:21:44.886Z), close date 2024-05-31 ->
2024-06-28 (2024-04-02T16:05:09.436Z); 502 stage Presentation scheduled -> Qualified to buy
(backwards, 2024-03-28T10:10:10.100Z); 503 no amount; 504 archived 2024-03-30T12:00:00Z;
505 won; 506 lost (Budget cut).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reporting.pull import CredentialsError, PullError, pull

from .conftest import TOKEN
from .fakes import FakeHubSpot, hubspot_fixture, serve
from .test_salesforce import fingerprint, q

ENV = {"CRM_REPORT_HUBSPOT_TOKEN": TOKEN}


@pytest.fixture
def hs(httpserver):
    fake = FakeHubSpot(TOKEN, hubspot_fixture(), page_size=2)
    return fake, serve(httpserver, fake)


def _pull(url, store, **kw):
    return pull("hubspot", store, base_url=url, environ=kw.pop("environ", ENV), **kw)


def test_full_pull(hs, store):
    fake, url = hs
    rep = _pull(url, store)
    lists = [e for e in fake.log if e["path"] == "/crm/v3/objects/deals"
             and e["args"].get("archived") == "false"]
    assert len(lists) == 3  # 5 deals, 2 a page
    assert "dealstage" in lists[0]["args"]["propertiesWithHistory"]
    for r in rep.ingest.results:
        assert r.read == r.loaded + r.quarantined
    assert {r.table: r.read for r in rep.ingest.results} == {
        "opportunities": 5, "opportunity_snapshots": 12, "opportunity_changes": 1, "stages": 6,
        "reps": 3, "accounts": 6}
    assert rep.quarantined == 0
    o = q(store, "SELECT * FROM opportunities").set_index("opportunity_id")
    assert sorted(o.index) == ["501", "502", "503", "505", "506"]
    assert o.loc["501", "amount"] == 36000 and o.loc["501", "stage"] == "Presentation scheduled"
    assert o.loc["501", "expected_close_date"] == pd.Timestamp("2024-06-28")
    assert o.loc["501", "account_id"] == "901" and pd.isna(o.loc["501", "deal_type"])
    assert o.loc["501", "name"] == '=HYPERLINK("http://evil.example","click")'
    assert o.loc["502", "stage"] == "Qualified to buy" and o.loc["502", "deal_type"] == "new business"
    assert pd.isna(o.loc["503", "amount"])
    assert o.loc["505", "status"] == "won" and o.loc["506", "status"] == "lost"
    assert o.loc["506", "lost_reason"] == "Budget cut"
    assert o.loc["505", "probability"] == 1.0
    s = q(store, "SELECT * FROM opportunity_snapshots WHERE opportunity_id = '501' AND origin = 'crm' "
          "ORDER BY observed_at")
    assert list(s.amount.fillna(-1)) == [30000, -1, 36000, -1]  # NULL: not recorded then
    assert list(s.close_date.dt.strftime("%Y-%m-%d").fillna("")) == ["2024-05-31", "", "", "2024-06-28"]
    assert list(s.stage.fillna("")) == ["Appointment scheduled", "Presentation scheduled", "", ""]
    s2 = q(store, "SELECT stage FROM opportunity_snapshots WHERE opportunity_id = '502' AND origin = 'crm' "
           "ORDER BY observed_at")
    assert list(s2.stage) == ["Appointment scheduled", "Presentation scheduled", "Qualified to buy"]
    c = q(store, "SELECT * FROM opportunity_changes")
    assert c.iloc[0][["opportunity_id", "field", "new_value"]].tolist() == ["504", "deleted", "true"]
    assert c.iloc[0]["changed_at"] == pd.Timestamp("2024-03-30 12:00:00")
    st = q(store, "SELECT * FROM stages ORDER BY position")
    assert list(st.status) == ["open"] * 4 + ["won", "lost"]
    assert list(st.probability) == pytest.approx([0.2, 0.4, 0.6, 0.9, 1.0, 0.0])
    reps = q(store, "SELECT * FROM reps ORDER BY rep_id")
    assert list(reps.name) == ["=cmd|' /C calc'!A0", "בן אוקפור \u202e", "<img src=x onerror=alert(1)>"]
    assert list(reps.team) == ["Sales - Americas", "Sales - EMEA", "Sales - EMEA"]


def test_incremental_pull_searches_since_the_cursor(hs, store):
    fake, url = hs
    _pull(url, store)
    n = len(fake.log)
    d = next(x for x in fake.records["deals"] if x["id"] == "502")
    d["properties"].update(amount="17000", hs_lastmodifieddate="2024-05-01T08:00:00.000Z")
    d["propertiesWithHistory"]["amount"].insert(0, {"value": "17000", "timestamp": "2024-05-01T08:00:00.000Z"})
    rep = _pull(url, store)
    new = fake.log[n:]
    search = json.loads(next(e["body"] for e in new if e["path"] == "/crm/v3/objects/deals/search"))
    f = search["filterGroups"][0]["filters"][0]
    # cursor 2024-04-10T17:45:00.000Z in epoch ms
    assert (f["propertyName"], f["operator"], f["value"]) == ("hs_lastmodifieddate", "GT", "1712771100000")
    assert [e["path"] for e in new if e["path"].startswith("/crm/v3/objects/deals/5")] == [
        "/crm/v3/objects/deals/502"]
    assert rep.records["deals"] == 1
    assert q(store, "SELECT amount FROM opportunities WHERE opportunity_id = '502'").iloc[0, 0] == 17000
    before = fingerprint(store)
    assert _pull(url, store).ingest is None and fingerprint(store) == before


def test_429_then_success(hs, store, waits):
    fake, url = hs
    fake.fail("/crm/v3/objects/deals", 429, {"status": "error", "message": "You have reached your secondly limit.",
                                             "errorType": "RATE_LIMIT", "policyName": "SECONDLY"},
              {"Retry-After": "1"}, times=2)
    assert _pull(url, store).ingest.loaded > 0 and waits == [1, 1]


def test_500_then_success(hs, store, waits):
    fake, url = hs
    fake.fail("/crm/v3/pipelines", 502, {"status": "error"})
    assert _pull(url, store).ingest.loaded > 0 and waits == []  # the first retry is at once


def test_bad_token(hs, store):
    fake, url = hs
    with pytest.raises(CredentialsError, match=r"hubspot: .*HTTP 401 INVALID_AUTHENTICATION.*CRM_REPORT_HUBSPOT_TOKEN"):
        _pull(url, store, environ={"CRM_REPORT_HUBSPOT_TOKEN": "nope"})


def test_kill_between_pages_then_resume(hs, store):
    fake, url = hs
    fake.fail("after=4", 400, {"status": "error", "category": "VALIDATION_ERROR"})
    with pytest.raises(PullError, match="VALIDATION_ERROR"):
        _pull(url, store)
    assert not store.exists()
    rep = _pull(url, store)
    assert rep.resumed
    firsts = [e for e in fake.log if e["path"] == "/crm/v3/objects/deals"
              and e["args"].get("archived") == "false" and "after" not in e["args"]]
    assert len(firsts) == 1 and rep.ingest.loaded > 0


def test_search_beyond_10000_asks_for_full(hs, store, monkeypatch):
    fake, url = hs
    _pull(url, store)
    from reporting.pull import hubspot

    monkeypatch.setattr(hubspot, "SEARCH_LIMIT", 0)
    fake.records["deals"][0]["properties"]["hs_lastmodifieddate"] = "2024-06-01T00:00:00.000Z"
    with pytest.raises(PullError, match="--full"):
        _pull(url, store)
