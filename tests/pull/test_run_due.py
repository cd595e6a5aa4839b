"""run-due pulls the CRMs its schedule names first (once each), does not run an entry on
stale data when its pull failed, and the pulled data changes the report fingerprint."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest
import yaml

from reporting import scheduler
from reporting.pull import CredentialsError
from reporting.runs import RunOutcome
from reporting.schedule import data_fingerprint

from ..conftest import PARAMS_DIR
from .conftest import TOKEN
from .fakes import FakeSalesforce, salesforce_fixture, serve

TODAY = date(2026, 10, 5)


@pytest.fixture
def params_dir(tmp_path):
    d = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, d)
    (d / "schedule.yaml").write_text(yaml.safe_dump({"reports": [
        {"name": "monthly-regional", "cadence": "monthly", "catch_up": 1, "pull": "salesforce"},
        {"name": "quarterly", "cadence": "quarterly", "catch_up": 1, "pull": "salesforce"},
        {"name": "hubspot-monthly", "cadence": "monthly", "catch_up": 2, "pull": "hubspot"},
        {"name": "no-pull", "cadence": "monthly", "catch_up": 1}]}))
    return d


@pytest.fixture
def executed(monkeypatch):
    """execute() replaced: records the request it was given (the reports themselves are
    tested elsewhere; this is about what runs and on which data)."""
    seen = []

    def fake_execute(request, on_done=None, on_plan=None):
        seen.append(request)
        return RunOutcome()

    monkeypatch.setattr(scheduler, "execute", fake_execute)
    return seen


def test_each_named_source_is_pulled_once_before_the_reports(httpserver, tmp_path, params_dir,
                                                              executed, monkeypatch):
    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=50)
    monkeypatch.setenv("CRM_REPORT_SALESFORCE_TOKEN", TOKEN)
    monkeypatch.setenv("CRM_REPORT_SALESFORCE_INSTANCE_URL", serve(httpserver, fake))
    monkeypatch.setenv("CRM_REPORT_HUBSPOT_TOKEN", TOKEN)
    store = tmp_path / "data" / "crm.duckdb"
    calls = []
    real = scheduler_pull()

    def pull(crm, store_path):
        calls.append(crm)
        if crm == "hubspot":
            raise CredentialsError("hubspot: the credentials were refused (HTTP 401); renew them")
        return real(crm, store_path)

    out = scheduler.run_due(TODAY, store, tmp_path / "reports", params_dir, pull=pull)
    assert calls == ["salesforce", "hubspot"]  # salesforce once for its two entries
    assert [p["crm"] for p in out.pulls] == ["salesforce", "hubspot"]
    assert out.pulls[0]["ok"] and out.pulls[0]["loaded"] > 0 and not out.pulls[1]["ok"]
    (request,) = executed
    # the store held the pulled deals when the reports were planned
    con = duckdb.connect(str(request.store), read_only=True)
    assert con.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0] == 5
    con.close()
    assert [s.name for s in request.reports] == ["monthly-regional", "quarterly", "no-pull"]
    failed = [r for r in out.results if r.label == "hubspot-monthly"]
    assert [r.period for r in failed] == ["2026-08", "2026-09"]
    assert all(r.status == "failed" and "pull hubspot failed" in r.error and "HTTP 401" in r.error
               for r in failed)


def scheduler_pull():
    from reporting.pull import pull

    return pull


def test_a_schedule_naming_an_unknown_source_is_refused(tmp_path, params_dir):
    from reporting.exceptions import ParamsError
    from reporting.schedule import load_schedule

    (params_dir / "schedule.yaml").write_text(yaml.safe_dump({"reports": [
        {"name": "x", "pull": "zoho"}]}))
    with pytest.raises(ParamsError, match="pull"):
        load_schedule(params_dir)


def test_pulled_data_changes_the_report_fingerprint(httpserver, tmp_path, demo_store):
    """The run's data fingerprint (which the report fingerprint includes) covers what a
    pull loads: after a pull of changed deals it differs; after a pull of nothing it is the
    same."""
    from reporting.pull import pull

    store = tmp_path / "crm.duckdb"
    shutil.copy(demo_store, store)

    def fp():
        con = duckdb.connect(str(store), read_only=True)
        try:
            return data_fingerprint(con)
        finally:
            con.close()

    fake = FakeSalesforce(TOKEN, salesforce_fixture(), page_size=50)
    url = serve(httpserver, fake)
    env = {"CRM_REPORT_SALESFORCE_TOKEN": TOKEN}
    before = fp()
    pull("salesforce", store, base_url=url, environ=env)
    after_first = fp()
    assert after_first != before
    pull("salesforce", store, base_url=url, environ=env)  # nothing changed in the CRM
    assert fp() == after_first
    t1 = next(r for r in fake.records["Opportunity"] if r["Id"] == "006T1")
    t1.update(Amount=50000.0, SystemModstamp="2024-05-05T00:00:00.000+0000")
    pull("salesforce", store, base_url=url, environ=env)
    assert fp() != after_first
