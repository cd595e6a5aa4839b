"""Pulls from fake servers serving ../shared/data/crm_api (the 8 deals D1..D8 of its
ids.json in each CRM). Expected values are read by hand off ids.json and the README:
D2 EUR and D4 GBP (quarantined without a conversion rate), D3 amount 30000 -> 36000 on
2024-03-18 and close date 2024-05-31 -> 2024-06-28 on 2024-04-02, D4 moved back to S2 on
2024-03-28, D5 without an amount, D6's SystemModstamp later than its last edit, D8 forecast
"Commit" (Salesforce) and deal probability 75 (Pipedrive)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from reporting.pull import pull
from reporting.sources import SOURCES_DIR

from ..conftest import shared
from .conftest import TOKEN
from .fakes import (
    FakeHubSpot,
    FakePipedrive,
    FakeSalesforce,
    hubspot_shared,
    pipedrive_shared,
    salesforce_shared,
    serve,
)
from .test_salesforce import q

RATES = {"EUR": 1.1, "GBP": 1.25}


@pytest.fixture(scope="module")
def api():
    return shared("crm_api")


@pytest.fixture(scope="module")
def ids(api):
    return json.loads((api / "ids.json").read_text(encoding="utf-8"))


def with_rates(tmp_path, crm: str):
    """The shipped mapping with conversion rates, as a project would copy it."""
    m = yaml.safe_load((SOURCES_DIR / f"{crm}_api.yaml").read_text(encoding="utf-8"))
    m["currency"]["rates"] = RATES
    p = tmp_path / f"{crm}_api.yaml"
    p.write_text(yaml.safe_dump(m), encoding="utf-8")
    return p


def deal_ids(ids, key: str) -> dict[str, str]:
    return {str(d[key]): d["key"] for d in ids["deals"]}


def opps_by_key(store, ids, key):
    o = q(store, "SELECT * FROM opportunities")
    o["key"] = o.opportunity_id.map(deal_ids(ids, key))
    return o.set_index("key")


def test_salesforce_shared(httpserver, tmp_path, api, ids):
    fake = FakeSalesforce(TOKEN, salesforce_shared(api / "salesforce"), page_size=5)
    url = serve(httpserver, fake)
    env = {"CRM_REPORT_SALESFORCE_TOKEN": TOKEN}
    store = tmp_path / "a" / "crm.duckdb"
    rep = pull("salesforce", store, base_url=url, environ=env)
    by = {r.table: r for r in rep.ingest.results}
    for r in rep.ingest.results:
        assert r.read == r.loaded + r.quarantined
    # without rates, D2 (EUR) and D4 (GBP) and their 3 + 4 history rows are quarantined
    assert (by["opportunities"].read, by["opportunities"].quarantined) == (8, 2)
    assert (by["opportunity_snapshots"].read, by["opportunity_snapshots"].quarantined) == (30, 7)
    assert set(rep.ingest.quarantine.reason_code) == {"unknown_currency"}
    store = tmp_path / "b" / "crm.duckdb"
    rep = pull("salesforce", store, base_url=url, environ=env, source=with_rates(tmp_path, "salesforce"))
    assert rep.quarantined == 0 and rep.read == rep.loaded
    o = opps_by_key(store, ids, "salesforce_opportunity_id")
    assert list(o.loc[["D1", "D2", "D6", "D7"], "status"]) == ["won", "lost", "won", "lost"]
    assert o.loc["D1", "closed_at"] == pd.Timestamp("2024-03-15")
    assert o.loc["D2", "amount"] == pytest.approx(22000 * 1.1)
    assert o.loc["D3", "amount"] == 36000 and o.loc["D3", "expected_close_date"] == pd.Timestamp("2024-06-28")
    assert o.loc["D4", "stage"] == "Qualification" and o.loc["D4", "amount"] == 15000 * 1.25
    assert pd.isna(o.loc["D5", "amount"]) and o.loc["D5", "expected_close_date"] == pd.Timestamp("2024-07-31")
    assert o.loc["D6", "modified_at"] == pd.Timestamp("2024-04-01 02:14:07")
    assert o.loc["D8", "forecast_category"] == "commit" and o.loc["D8", "probability"] == pytest.approx(0.9)
    c = q(store, "SELECT * FROM opportunity_changes WHERE opportunity_id IN ('006Hp00000Xb003IAB', '006Hp00000Xb004IAB')")
    got = {(r.opportunity_id[-6:-3], r.field, str(r.changed_at)): (r.old_value, r.new_value) for r in c.itertuples()}
    assert got[("003", "amount", "2024-03-18 09:21:44")] == ("30000", "36000")
    assert got[("003", "close_date", "2024-04-02 16:05:09")] == ("2024-05-31", "2024-06-28")
    assert got[("004", "stage", "2024-03-28 10:10:10")] == ("Proposal/Price Quote", "Qualification")
    s = q(store, "SELECT forecast_category FROM opportunity_snapshots WHERE opportunity_id = "
                 "'006Hp00000Xb008IAB' ORDER BY observed_at")
    assert s.forecast_category.iloc[-1] == "commit"  # OpportunityHistory's API value Forecast


def test_pipedrive_shared(httpserver, tmp_path, api, ids):
    fake = FakePipedrive(TOKEN, pipedrive_shared(api / "pipedrive", ids), page_size=5)
    url = serve(httpserver, fake)
    store = tmp_path / "crm.duckdb"
    rep = pull("pipedrive", store, base_url=url, environ={"CRM_REPORT_PIPEDRIVE_TOKEN": TOKEN},
               source=with_rates(tmp_path, "pipedrive"))
    assert rep.quarantined == 0 and rep.read == rep.loaded
    # flow: 32 items; add_time (8) and lost_reason (2) are not tracked fields
    assert rep.records["flow"] == 32
    assert rep.skipped["flow"] == {"add_time not tracked": 8, "lost_reason not tracked": 2}
    o = opps_by_key(store, ids, "pipedrive_deal_id")
    assert (o.loc["D1", "status"], o.loc["D1", "stage"]) == ("won", "Negotiations Started")
    assert (o.loc["D6", "status"], o.loc["D6", "stage"]) == ("won", "Contact Made")
    assert o.loc["D2", "lost_reason"] == "Went with competitor"
    assert o.loc["D3", "amount"] == 36000 and o.loc["D3", "expected_close_date"] == pd.Timestamp("2024-06-28")
    assert o.loc["D4", "stage"] == "Contact Made"
    assert pd.isna(o.loc["D5", "amount"])  # value 0 = no amount
    assert o.loc["D8", "probability"] == pytest.approx(0.75)
    c = q(store, "SELECT * FROM opportunity_changes")
    got = {(r.opportunity_id, r.field, str(r.changed_at)): (r.old_value, r.new_value) for r in c.itertuples()}
    assert got[("103", "amount", "2024-03-18 09:21:44")] == ("30000", "36000")
    assert got[("103", "close_date", "2024-04-02 16:05:09")] == ("2024-05-31", "2024-06-28")
    assert got[("104", "stage", "2024-03-28 10:10:10")] == ("Proposal Made", "Contact Made")
    st = q(store, "SELECT stage, rotting_days FROM stages ORDER BY position")
    assert list(st.rotting_days.fillna(-1)) == [-1, -1, 14, 7]


def test_hubspot_shared(httpserver, tmp_path, api, ids):
    fake = FakeHubSpot(TOKEN, hubspot_shared(api / "hubspot"), page_size=5)
    url = serve(httpserver, fake)
    store = tmp_path / "crm.duckdb"
    rep = pull("hubspot", store, base_url=url, environ={"CRM_REPORT_HUBSPOT_TOKEN": TOKEN})
    assert rep.quarantined == 0 and rep.read == rep.loaded  # one currency: no rates needed
    o = opps_by_key(store, ids, "hubspot_deal_id")
    assert o.loc["D1", "status"] == "won" and o.loc["D2", "lost_reason"] == "Went with competitor"
    assert o.loc["D3", "amount"] == 36000 and o.loc["D3", "expected_close_date"] == pd.Timestamp("2024-06-28")
    assert o.loc["D4", "stage"] == "Qualified to buy" and pd.isna(o.loc["D5", "amount"])
    assert o.loc["D1", "account_id"] == "21093847561" and o.loc["D8", "stage"] == "Contract sent"
    s = q(store, "SELECT observed_at, amount, close_date, stage FROM opportunity_snapshots "
                 "WHERE opportunity_id = '17593029675' AND origin = 'crm' ORDER BY observed_at")
    assert s.amount.dropna().tolist() == [30000, 36000]
    assert s.close_date.dropna().dt.strftime("%Y-%m-%d").tolist() == ["2024-05-31", "2024-06-28"]
    s4 = q(store, "SELECT stage FROM opportunity_snapshots WHERE opportunity_id = '17593029812' "
                  "AND stage IS NOT NULL AND origin = 'crm' ORDER BY observed_at")
    assert s4.stage.tolist() == ["Appointment scheduled", "Qualified to buy", "Presentation scheduled",
                                 "Qualified to buy"]


# ----------------------------------------------------------------- the as-of view (history)

#: ids.json's stage keys per CRM (README: "Canonical stages S1..S4 map to ...")
STAGES = {
    "salesforce": {"S1": "Prospecting", "S2": "Qualification", "S3": "Proposal/Price Quote",
                   "S4": "Negotiation/Review", "WON": "Closed Won", "LOST": "Closed Lost"},
    "hubspot": {"S1": "Appointment scheduled", "S2": "Qualified to buy",
                "S3": "Presentation scheduled", "S4": "Contract sent", "WON": "Closed won",
                "LOST": "Closed lost"},
    # won / lost are statuses in Pipedrive: the deal keeps its last stage
    "pipedrive": {"S1": "Qualified", "S2": "Contact Made", "S3": "Proposal Made",
                  "S4": "Negotiations Started"},
}
PIPEDRIVE_LAST_STAGE = {"D1": "S4", "D2": "S2", "D6": "S2", "D7": "S4"}

#: the known state of each deal just before each date, written by hand from ids.json's
#: events: (stage key, amount in the deal's currency, expected close date of an open deal)
KNOWN = {
    "2024-03-01": {  # D5 not created yet (2024-03-11); D8 still in S1 (S2 on 03-01 09:15)
        "D1": ("S4", 48000, "2024-03-15"), "D2": ("LOST", 22000, None),
        "D3": ("S2", 30000, "2024-05-31"), "D4": ("S2", 15000, "2024-06-14"),
        "D6": ("WON", 8500, None), "D7": ("S3", 120000, "2024-04-30"),
        "D8": ("S1", 64000, "2024-05-31")},
    "2024-03-25": {  # D3's amount is 36000 (03-18), its close date not yet pushed (04-02);
        # D4 in S3 before moving back (03-28)
        "D1": ("WON", 48000, None), "D2": ("LOST", 22000, None),
        "D3": ("S3", 36000, "2024-05-31"), "D4": ("S3", 15000, "2024-06-14"),
        "D5": ("S1", None, "2024-07-31"), "D6": ("WON", 8500, None),
        "D7": ("S4", 120000, "2024-04-30"), "D8": ("S3", 64000, "2024-05-31")},
    "2024-04-05": {  # D3 pushed to 06-28; D4 back in S2; D7 not lost yet (04-10)
        "D1": ("WON", 48000, None), "D2": ("LOST", 22000, None),
        "D3": ("S3", 36000, "2024-06-28"), "D4": ("S2", 15000, "2024-06-14"),
        "D5": ("S1", None, "2024-07-31"), "D6": ("WON", 8500, None),
        "D7": ("S4", 120000, "2024-04-30"), "D8": ("S3", 64000, "2024-05-31")},
}
RATE_1 = {"EUR": 1.0, "GBP": 1.0}  # amounts compared in the deal's own currency


@pytest.mark.parametrize("crm", ["salesforce", "hubspot", "pipedrive"])
def test_as_of_view_at_past_dates_equals_the_known_state(httpserver, tmp_path, api, ids, crm):
    from reporting.store import opportunities_as_of

    fake, key = {
        "salesforce": (lambda: FakeSalesforce(TOKEN, salesforce_shared(api / "salesforce")),
                       "salesforce_opportunity_id"),
        "hubspot": (lambda: FakeHubSpot(TOKEN, hubspot_shared(api / "hubspot")), "hubspot_deal_id"),
        "pipedrive": (lambda: FakePipedrive(TOKEN, pipedrive_shared(api / "pipedrive", ids)),
                      "pipedrive_deal_id"),
    }[crm]
    url = serve(httpserver, fake())
    m = yaml.safe_load((SOURCES_DIR / f"{crm}_api.yaml").read_text(encoding="utf-8"))
    m["currency"]["rates"] = RATE_1
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump(m), encoding="utf-8")
    store = tmp_path / "crm.duckdb"
    rep = pull(crm, store, base_url=url, environ={f"CRM_REPORT_{crm.upper()}_TOKEN": TOKEN},
               source=mapping)
    assert rep.quarantined == 0
    kmap = deal_ids(ids, key)
    for when, known in KNOWN.items():
        f = opportunities_as_of(store, when)
        f["key"] = f.opportunity_id.map(kmap)
        f = f.set_index("key")
        assert sorted(f.index) == sorted(known), when
        for deal, (stage, amount, expected) in known.items():
            row = f.loc[deal]
            status = {"WON": "won", "LOST": "lost"}.get(stage, "open")
            if crm == "pipedrive" and status != "open":
                stage = PIPEDRIVE_LAST_STAGE[deal]
            got = (row["stage"], row["status"], None if pd.isna(row["amount"]) else row["amount"],
                   None if pd.isna(row["expected_close_date"]) else
                   row["expected_close_date"].strftime("%Y-%m-%d"))
            assert got == (STAGES[crm][stage], status, amount, expected), (crm, when, deal)
            assert row["history_known"], (crm, when, deal)
