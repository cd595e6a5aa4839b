"""crm-report pull salesforce against a fake Salesforce REST API on loopback.

The data set is tests/pull/fixtures/salesforce.json (built in the shapes of
../shared/data/crm_api/salesforce); expected values are read off it by hand:
T1 amount 30000 -> 36000 (2024-03-18), close date 2024-05-31 -> 2024-06-28 (2024-04-02);
T2 stage Proposal/Price Quote -> Qualification (backwards, 2024-03-28); T3 no amount;
T4 deleted (IsDeleted, SystemModstamp 2024-03-30T12:00:00); T5 won; T6 lost.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from reporting.pull import CredentialsError, PullError, RateLimitError, pull
from reporting.schedule import data_fingerprint

from .conftest import TOKEN
from .fakes import FakeSalesforce, salesforce_fixture, serve

ENV = {"CRM_REPORT_SALESFORCE_TOKEN": TOKEN}


@pytest.fixture
def sf(httpserver):
    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=2)
    return fake, serve(httpserver, fake)


def _pull(url, store, **kw):
    return pull("salesforce", store, base_url=url, environ=kw.pop("environ", ENV), **kw)


def q(store, sql):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def fingerprint(store) -> str:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return data_fingerprint(con)
    finally:
        con.close()


def opp_queries(fake) -> list[str]:
    return [x for x in fake.queries if "FROM Opportunity " in x or x.endswith("FROM Opportunity")]


def test_full_pull_loads_every_table_and_accounts_for_every_row(sf, store):
    fake, url = sf
    rep = _pull(url, store)
    # 6 opportunities at 2 a page: 3 pages; every pulled row is loaded or quarantined
    assert len(fake.requests_to("/query/")) >= 2
    assert rep.records["Opportunity"] == 6 and rep.records["OpportunityFieldHistory"] == 9
    assert rep.skipped == {"OpportunityFieldHistory": {"field Description not tracked": 1}}
    by_table = {r.table: r for r in rep.ingest.results}
    for r in rep.ingest.results:
        assert r.read == r.loaded + r.quarantined
    # the deleted deal is loaded with its last state and a deleted change, then moved to
    # opportunities_deleted by the history core
    assert by_table["opportunities"].read == 6
    # 8 tracked field-history rows + 2 derived status rows (T5 won, T6 lost) + 1 deletion
    assert by_table["opportunity_changes"].read == 11
    assert by_table["opportunity_snapshots"].read == 12
    assert rep.quarantined == 0
    o = q(store, "SELECT * FROM opportunities ORDER BY opportunity_id").set_index("opportunity_id")
    assert list(o.index) == ["006T1", "006T2", "006T3", "006T5", "006T6"]
    t1 = o.loc["006T1"]
    assert t1["amount"] == 36000 and t1["stage"] == "Proposal/Price Quote"
    assert t1["status"] == "open" and pd.isna(t1["closed_at"])
    assert t1["expected_close_date"] == pd.Timestamp("2024-06-28")
    assert t1["probability"] == pytest.approx(0.75) and t1["forecast_category"] == "pipeline"
    assert t1["deal_type"] == "renewal" and t1["modified_at"] == pd.Timestamp("2024-04-02 16:05:09")
    assert t1["name"] == '=HYPERLINK("http://evil.example","click")'  # text, as given
    assert o.loc["006T2", "name"] == "<b>Umbrella</b> <script>alert(1)</script>"
    assert o.loc["006T3", "name"] == "هولی - گسترش" and pd.isna(o.loc["006T3", "amount"])
    assert o.loc["006T5", "status"] == "won" and o.loc["006T5", "closed_at"] == pd.Timestamp("2024-02-09")
    assert o.loc["006T5", "deal_type"] == "expansion"
    assert o.loc["006T6", "status"] == "lost" and o.loc["006T6", "forecast_category"] == "omitted"
    c = q(store, "SELECT * FROM opportunity_changes")
    key = {(r.opportunity_id, r.field): (r.old_value, r.new_value, r.changed_at) for r in c.itertuples()}
    assert key[("006T4", "deleted")] == (None, "true", pd.Timestamp("2024-03-30 12:00:00"))
    assert key[("006T1", "amount")][:2] == ("30000", "36000")
    assert key[("006T1", "close_date")][:2] == ("2024-05-31", "2024-06-28")
    assert key[("006T6", "probability")][:2] == ("0.1", "0")
    t2 = c[(c.opportunity_id == "006T2") & (c.field == "stage")].sort_values("changed_at")
    assert list(t2.new_value) == ["Proposal/Price Quote", "Qualification"]  # moved backwards
    s = q(store, "SELECT * FROM opportunity_snapshots WHERE opportunity_id = '006T1' AND origin = 'crm' "
          "ORDER BY observed_at")
    assert list(s.amount) == [30000, 30000, 36000, 36000]
    assert list(s.close_date.dt.strftime("%Y-%m-%d")) == ["2024-05-31"] * 3 + ["2024-06-28"]
    assert list(s.probability) == pytest.approx([0.1, 0.75, 0.75, 0.75])
    assert set(s.origin) == {"crm"} and set(s.status) == {"open"}
    reps = q(store, "SELECT * FROM reps ORDER BY rep_id")
    assert list(reps.name) == ["=cmd|' /C calc'!A0", "בן אוקפור \u202e", "<img src=x onerror=alert(1)>"]
    st = q(store, "SELECT * FROM stages ORDER BY position")
    assert list(st.stage)[:2] == ["Prospecting", "Qualification"]
    assert list(st.status) == ["open"] * 4 + ["won", "lost"]
    assert list(st.probability) == pytest.approx([0.1, 0.1, 0.75, 0.9, 1.0, 0.0])
    state = q(store, "SELECT object, cursor FROM pull_state").set_index("object")["cursor"]
    assert state["Opportunity"] == "2024-04-10T17:45:00.000Z"
    assert state["OpportunityFieldHistory"] == "2024-04-10T17:45:00.000Z"
    # the staging folder is removed (the lock file stays)
    assert [p.name for p in (store.parent / "pulls" / "salesforce").iterdir()] == [".lock"]


def test_incremental_pull_asks_since_the_cursor_and_gets_only_changes(sf, store):
    fake, url = sf
    _pull(url, store)
    first = len(fake.queries)
    t1 = next(r for r in fake.records["Opportunity"] if r["Id"] == "006T1")
    t1.update(Amount=40000.0, SystemModstamp="2024-05-02T09:00:00.000+0000")
    fake.records["OpportunityFieldHistory"].append({
        "Id": "017T100", "OpportunityId": "006T1", "CreatedById": "005U1",
        "CreatedDate": "2024-05-02T09:00:00.000+0000", "Field": "Amount", "OldValue": 36000.0,
        "NewValue": 40000.0, "IsDeleted": False})
    rep = _pull(url, store)
    new = fake.queries[first:]
    opp = next(x for x in new if "FROM Opportunity " in x)
    assert "WHERE SystemModstamp > 2024-04-10T17:45:00Z" in opp
    assert any("WHERE CreatedDate > 2024-04-10T17:45:00Z" in x for x in new)
    assert rep.records["Opportunity"] == 1 and rep.records["OpportunityFieldHistory"] == 1
    assert rep.records["OpportunityHistory"] == 0
    assert {r.table: r.read for r in rep.ingest.results} == {"opportunities": 1,
                                                             "opportunity_changes": 1}
    assert q(store, "SELECT amount FROM opportunities WHERE opportunity_id = '006T1'").iloc[0, 0] == 40000
    assert len(q(store, "SELECT * FROM opportunities")) == 5
    assert q(store, "SELECT cursor FROM pull_state WHERE object = 'Opportunity'").iloc[0, 0] \
        == "2024-05-02T09:00:00.000Z"
    # nothing changed since: nothing loaded, the store (and its fingerprint) as it was
    before = fingerprint(store)
    rep = _pull(url, store)
    assert rep.ingest is None and sum(rep.records.values()) == 6  # only the 6 stage rows
    assert fingerprint(store) == before
    # --full ignores the cursor
    n = len(fake.queries)
    rep = _pull(url, store, full=True)
    assert "WHERE" not in next(x for x in fake.queries[n:] if "FROM Opportunity " in x)
    assert rep.records["Opportunity"] == 6


def test_429_then_success_waits_retry_after(sf, store, waits):
    fake, url = sf
    fake.fail("queryAll", 429, {"status": "error", "message": "You have reached your secondly limit.",
                                "errorType": "RATE_LIMIT"}, {"Retry-After": "7"})
    fake.fail("OpportunityHistory", 429, {"errorType": "RATE_LIMIT"}, {"Retry-After": "3600"})
    rep = _pull(url, store)
    assert rep.ingest.loaded > 0
    assert 7 in waits
    assert 60 in waits and 3600 not in waits  # Retry-After is capped at 60 s


def test_500_then_success_with_bounded_backoff(sf, store, waits):
    fake, url = sf
    fake.fail("queryAll", 500, [{"errorCode": "UNKNOWN_EXCEPTION"}], times=3)
    rep = _pull(url, store)
    assert rep.ingest.loaded > 0
    # urllib3: the first retry at once, then exponential (0.5 s x 2^n), capped at 30 s
    assert waits == [1.0, 2.0]


def test_server_failing_for_good_is_a_clear_error_and_the_store_is_unchanged(sf, store, waits):
    fake, url = sf
    _pull(url, store)
    before = fingerprint(store)
    fake.fail("queryAll", 503, {}, times=99)
    fake.records["Opportunity"][0]["SystemModstamp"] = "2024-06-01T00:00:00.000+0000"
    with pytest.raises(PullError, match=r"salesforce: the server kept failing \(HTTP 503\)"):
        _pull(url, store, retries=2)
    assert fingerprint(store) == before


def test_expired_token_is_a_clear_error_and_the_store_is_unchanged(sf, store):
    fake, url = sf
    _pull(url, store)
    before = fingerprint(store)
    fake.records["Opportunity"][0]["SystemModstamp"] = "2024-06-01T00:00:00.000+0000"
    with pytest.raises(CredentialsError) as e:
        _pull(url, store, environ={"CRM_REPORT_SALESFORCE_TOKEN": "expired-0000"})
    msg = str(e.value)
    assert "salesforce" in msg and "INVALID_SESSION_ID" in msg
    assert "CRM_REPORT_SALESFORCE_TOKEN" in msg and "expired-0000" not in msg
    assert fingerprint(store) == before


def test_request_limit_exceeded_is_a_clear_error(sf, store):
    fake, url = sf
    fake.fail("queryAll", 403, [{"message": "TotalRequests Limit exceeded.",
                                 "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    with pytest.raises(RateLimitError, match="REQUEST_LIMIT_EXCEEDED.*resets"):
        _pull(url, store)
    assert not store.exists()


def test_pull_killed_between_pages_leaves_the_store_and_resumes(sf, store):
    fake, url = sf
    # the second page of opportunities fails (a kill after page 1, as far as the store sees)
    fake.fail("/query/01gFAKE0000-2", 400, [{"errorCode": "INVALID_QUERY_LOCATOR"}])
    with pytest.raises(PullError, match="INVALID_QUERY_LOCATOR"):
        _pull(url, store)
    assert not store.exists() or "pull_state" not in set(q(store, "SHOW TABLES").name)
    staged = list((store.parent / "pulls" / "salesforce").glob("*/pages/Opportunity.*.json"))
    assert len(staged) == 1
    rep = _pull(url, store)
    assert rep.resumed and rep.pages_reused == 2  # describe + Opportunity page 1
    assert len(opp_queries(fake)) == 1  # page 1 was not asked for again
    assert [e["path"] for e in fake.requests_to("/query/01gFAKE0000")] == [
        "/services/data/v62.0/query/01gFAKE0000-2"] * 2 + ["/services/data/v62.0/query/01gFAKE0000-4"]
    assert len(q(store, "SELECT * FROM opportunities")) == 5


def test_stale_staging_of_another_cursor_is_discarded(sf, store):
    fake, url = sf
    fake.fail("/query/01gFAKE0000-2", 400, [{"errorCode": "X_FAIL"}])
    with pytest.raises(PullError):
        _pull(url, store)
    rep = _pull(url, store, full=True)  # asks for something else: starts afresh
    assert not rep.resumed and rep.ingest.loaded > 0


def test_instance_url_from_the_environment_and_plain_http_only_on_loopback(sf, store):
    fake, url = sf
    rep = pull("salesforce", store, environ={**ENV, "CRM_REPORT_SALESFORCE_INSTANCE_URL": url})
    assert rep.ingest.loaded > 0
    with pytest.raises(PullError, match="unencrypted"):
        pull("salesforce", store, base_url="http://crm.example.com", environ=ENV)
    with pytest.raises(CredentialsError, match="CRM_REPORT_SALESFORCE_INSTANCE_URL|instance URL"):
        pull("salesforce", store, environ=ENV)


def test_org_without_multi_currency_is_asked_only_fields_it_has(sf, store):
    fake, url = sf
    for r in fake.records["Opportunity"]:
        r.pop("CurrencyIsoCode")
    rep = _pull(url, store)
    assert "CurrencyIsoCode" not in opp_queries(fake)[0]
    assert rep.ingest.quarantined == 0
    assert set(q(store, "SELECT currency FROM opportunities").currency) == {"USD"}


def test_a_killed_pull_process_leaves_the_store_and_the_next_pull_resumes(httpserver, tmp_path):
    """SIGKILL while the second page is being fetched: the store is as it was; the next pull
    reads page 1 back from the staging folder and asks only for the rest."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=2)
    url = serve(httpserver, fake)
    release = threading.Event()
    fake.hold = ("/query/01gFAKE0000-2", release)
    store = tmp_path / "data" / "crm.duckdb"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from reporting.cli import main; main()", "pull", "salesforce",
         "--store", str(store), "--base-url", url],
        env={**os.environ, "PYTHONPATH": str(root), "CRM_REPORT_SALESFORCE_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not fake.requests_to("/query/01gFAKE0000-2") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.requests_to("/query/01gFAKE0000-2"), "the pull never reached page 2"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert not store.exists() or "opportunities" not in set(q(store, "SHOW TABLES").name) \
        or len(q(store, "SELECT * FROM opportunities")) == 0
    fake.hold = None
    rep = _pull(url, store)
    assert rep.resumed and rep.pages_reused == 2
    assert len(opp_queries(fake)) == 1
    assert len(q(store, "SELECT * FROM opportunities")) == 5


def test_two_pulls_of_one_crm_into_one_store_do_not_run_at_once(sf, store):
    from reporting.pull.staging import Staging

    fake, url = sf
    with Staging.lock(store, "salesforce"), pytest.raises(PullError, match="another pull"):
        _pull(url, store)
    assert _pull(url, store).ingest.loaded > 0


def test_a_symlinked_staging_folder_is_refused(sf, store, tmp_path):
    fake, url = sf
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store.parent.mkdir(parents=True)
    (store.parent / "pulls").symlink_to(elsewhere)
    with pytest.raises(PullError, match="symbolic link"):
        _pull(url, store)
    assert list(elsewhere.iterdir()) == []


def test_as_of_view_follows_the_pulled_history(sf, store):
    """By hand from the fixture: T1 in Proposal/Price Quote from 2024-03-04, amount 30000
    until 2024-03-18, close date 2024-05-31 until 2024-04-02; T2 back in Qualification from
    2024-03-28; T4 deleted 2024-03-30 (in the pipeline before, gone after)."""
    from reporting.store import opportunities_as_of

    fake, url = sf
    _pull(url, store)
    assert "006T4" in set(q(store, "SELECT opportunity_id FROM opportunities_deleted").opportunity_id)

    def at(when):
        return opportunities_as_of(store, when).set_index("opportunity_id")

    a = at("2024-03-10")
    assert (a.loc["006T1", "stage"], a.loc["006T1", "amount"]) == ("Proposal/Price Quote", 30000)
    assert a.loc["006T1", "expected_close_date"] == pd.Timestamp("2024-05-31")
    assert a.loc["006T2", "stage"] == "Proposal/Price Quote" and "006T4" in a.index
    b = at("2024-04-05")
    assert (b.loc["006T1", "amount"], b.loc["006T1", "expected_close_date"]) == (
        36000, pd.Timestamp("2024-06-28"))
    assert b.loc["006T2", "stage"] == "Qualification" and "006T4" not in b.index
    assert b.loc["006T6", "status"] == "open" and at("2024-04-11").loc["006T6", "status"] == "lost"
