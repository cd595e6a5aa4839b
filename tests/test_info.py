"""reporting.info: what a store holds and which metrics it supports (``crm-report info``).

Every figure is checked against a value worked out by hand (a small store written with SQL
here), against direct SQL on the store, or against the export's own files (Maven)."""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime

import duckdb
import pandas as pd
import pytest

from reporting.exceptions import StoreError
from reporting.info import (
    LIMITED,
    MIN_BAND_WON_DEALS,
    NOT_SUPPORTED,
    SUPPORTED,
    Names,
    assess,
    format_info,
    store_info,
)
from reporting.store import connect

from .conftest import shared

HOSTILE = "[bold]x\x1b[31m"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """Four deals, two reps, two ingests of one source, quarantined rows; values chosen so
    that every figure below can be worked out by hand."""
    path = tmp_path_factory.mktemp("info") / "small.duckdb"
    with connect(path) as con:
        con.executemany(
            "INSERT INTO opportunities (opportunity_id, owner, team, region, created_at, "
            "status, closed_at, amount, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [("o1", "ann", "T1", "R1", "2026-01-01", "won", "2026-02-01", 100.0, "2026-01-30"),
             ("o2", "bob", "T1", "R1", "2026-01-10", "lost", "2026-03-01", None, None),
             ("o3", "ann", "T2", "R2", "2026-03-01", "open", None, None, None),
             ("o4", HOSTILE, None, None, "2025-06-01", "open", None, 50.0, "2025-07-01")])
        con.executemany("INSERT INTO reps (rep_id, team, region, capacity) VALUES (?, ?, ?, ?)",
                        [("ann", "T1", "R1", 10.0), ("carl", "T3", "R3", None)])
        con.executemany(
            'INSERT INTO ingest_log (batch_id, source, file, "table", rows_read, rows_loaded, '
            "rows_quarantined, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [("b1", "crm", "f.csv", "opportunities", 6, 5, 1, "2026-03-02 08:00"),
             ("b1", "crm", "r.csv", "reps", 2, 2, 0, "2026-03-02 08:00"),
             ("b2", "crm", "f.csv", "opportunities", 6, 4, 2, "2026-03-05 09:30"),
             ("b3", "other\nsrc", "g.csv", "reps", 1, 1, 0, "2026-03-01 10:00")])
        con.executemany(
            'INSERT INTO quarantine (batch_id, source, file, "table", "row", "column", reason) '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [("b2", "crm", "f.csv", "opportunities", 3, "amount", "not a number"),
             ("b2", "crm", "f.csv", "opportunities", 3, "closed_at", "not a date"),
             ("b2", "crm", "f.csv", "opportunities", 7, "status", "unknown stage"),
             ("b1", "crm", "r.csv", "reps", 2, "rep_id", "missing")])
    return path


def test_small_store_by_hand(small_store):
    info = store_info(small_store)
    assert info.tables["opportunities"] == 4 and info.tables["reps"] == 2
    assert info.tables["quarantine"] == 4 and info.tables["ingest_log"] == 4
    assert info.tables["leads"] == info.tables["revenue"] == info.tables["stage_history"] == 0
    assert info.regions == Names(3, ("R1", "R2", "R3"))  # R3 only in the reps table
    assert info.teams == Names(3, ("T1", "T2", "T3"))
    assert info.reps == Names(4, tuple(sorted(["ann", "bob", "carl", HOSTILE])))
    assert info.created == (datetime(2025, 6, 1), datetime(2026, 3, 1))
    assert info.closed == (datetime(2026, 2, 1), datetime(2026, 3, 1))
    assert info.data_end == datetime(2026, 3, 1)
    # the latest batch of each source: crm's b2 (not b1), one file, 4 loaded, 2 quarantined
    got = [(i.source, i.ingested_at, i.files, i.rows_loaded, i.rows_quarantined)
           for i in info.ingests]
    assert got == [("crm", datetime(2026, 3, 5, 9, 30), 1, 4, 2),
                   ("other\nsrc", datetime(2026, 3, 1, 10), 1, 1, 0)]
    # rows, not reasons: row 3 of f.csv failed twice and counts once
    assert info.quarantined == {"opportunities": 2, "reps": 1}
    s = info.support
    assert {m: a.status for m, a in s.items()} == {
        "conversion": LIMITED, "cycle": LIMITED, "deal_size": LIMITED,
        "customer_value": NOT_SUPPORTED, "open_pipeline": SUPPORTED,
        "deal_history": NOT_SUPPORTED, "forecast": NOT_SUPPORTED}
    assert s["conversion"].reasons == (
        "2 deals closed in the last 12 months (< 10): no trailing win-rate baseline",
        "no leads table rows: lead conversion not computable",
        "no stage_history: stage funnel not computable")
    assert s["cycle"].reasons == (
        "1 deals won in the last 12 months (< 10): no trailing cycle baseline",
        "no stage_history: time in stage unknown")
    assert s["deal_size"].reasons == (
        "1 won deals with an amount in the last 12 months (< 3): deal-size bands not learned",
        "1 deals won in the last 12 months (< 30): band drift not judged")
    assert s["customer_value"].reasons == (
        "no revenue or accounts table rows: account value and churn not computable",)
    # open at the end: o3 (no amount) and o4 (50): 1 of 2 unknown is not more than half
    assert s["open_pipeline"].reasons == ()
    assert s["forecast"].reasons == ("no revenue lines: no CLV model",)


def test_text_is_plain_and_terminal_safe(small_store):
    text = format_info(store_info(small_store))
    assert "\x1b" not in text and "[bold]x\\x1b[31m" in text  # shown, not obeyed
    assert "other\\nsrc: 2026-03-01 10:00 UTC" in text  # a newline cannot break the layout
    assert "crm: 2026-03-05 09:30 UTC, 1 file(s), 4 rows loaded, 2 quarantined" in text
    assert "opportunities created: 2025-06-01 .. 2026-03-01" in text
    assert "regions: 3 (R1, R2, R3)" in text
    assert "  Open pipeline and workload: supported\n" in text
    assert "  Customer value (account value, churn): not supported\n    - no revenue" in text
    assert "quarantined rows:\n  opportunities: 2\n  reps: 1\n" in text


def test_empty_store(tmp_path):
    path = tmp_path / "empty.duckdb"
    with connect(path):
        pass
    info = store_info(path)
    assert set(info.tables.values()) == {0}
    assert info.regions == info.teams == info.reps == Names(0, ())
    assert info.created is None and info.closed is None and info.data_end is None
    assert info.ingests == [] and info.quarantined == {}
    assert {a.status for a in info.support.values()} == {NOT_SUPPORTED}
    assert info.support["conversion"].reasons[0] == "no opportunities rows"
    text = format_info(info)
    assert "regions: 0\n" in text and "opportunities created: none" in text
    assert "last ingest per source:\n  none" in text and "quarantined rows:\n  none" in text


def test_store_is_opened_read_only_and_must_exist(small_store, tmp_path):
    before = hashlib.sha256(small_store.read_bytes()).hexdigest()
    with duckdb.connect(str(small_store), read_only=True):  # another reader at the same time
        store_info(small_store)
    assert hashlib.sha256(small_store.read_bytes()).hexdigest() == before
    with pytest.raises(StoreError, match="does not exist"):
        store_info(tmp_path / "missing.duckdb")


def test_names_are_capped_but_counted(tmp_path):
    path = tmp_path / "many.duckdb"
    with connect(path) as con:
        con.executemany("INSERT INTO reps (rep_id) VALUES (?)", [(f"r{i:02d}",) for i in range(25)])
    info = store_info(path)
    assert info.reps.count == 25 and info.reps.names == tuple(f"r{i:02d}" for i in range(20))
    assert info.reps.more == 5 and "r19, ... (5 more))" in format_info(info)


def test_demo_store_against_sql(demo_store):
    info = store_info(demo_store)
    with duckdb.connect(str(demo_store), read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        for table in ("opportunities", "stage_history", "leads", "accounts", "reps", "revenue"):
            assert info.tables[table] == q(f"SELECT count(*) FROM {table}")[0][0] > 0, table
        regions = [r for (r,) in q("SELECT DISTINCT region FROM reps ORDER BY 1")]
        (c0, c1, d0, d1), = q("SELECT min(created_at), max(created_at), min(closed_at), "
                              "max(closed_at) FROM opportunities")
        (n_reps,), = q("SELECT count(DISTINCT rep_id) FROM reps")
    assert info.regions == Names(4, tuple(regions)) and info.teams.count == 12
    assert info.reps.count == n_reps == 36  # every owner has a rep record
    assert info.created == (c0, c1) and info.closed == (d0, d1)
    assert [i.source for i in info.ingests] == ["demo"] and info.quarantined == {}
    # the demo has every table, deal history included
    assert {m: a.status for m, a in info.support.items()} == dict.fromkeys(
        info.support, SUPPORTED)


@pytest.fixture(scope="module")
def maven_store(tmp_path_factory):
    from reporting.ingest import ingest_paths

    path = tmp_path_factory.mktemp("maven") / "crm.duckdb"
    ingest_paths([shared("maven_crm")], "maven", path)
    return path


def _csv_rows(name: str) -> list[dict]:
    with open(shared("maven_crm") / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_maven_store_against_the_export(maven_store):
    info = store_info(maven_store)
    pipeline, teams, accounts = (_csv_rows(f"{n}.csv") for n in
                                 ("sales_pipeline", "sales_teams", "accounts"))
    assert info.tables["opportunities"] == len(pipeline) == 8800
    assert info.tables["reps"] == len(teams) == 35
    assert info.tables["accounts"] == len(accounts) == 85
    assert info.regions.names == tuple(sorted({r["regional_office"] for r in teams}))
    assert info.reps.count == len({r["sales_agent"] for r in teams})
    engaged = [pd.Timestamp(r["engage_date"]) for r in pipeline if r["engage_date"]]
    closed = [pd.Timestamp(r["close_date"]) for r in pipeline if r["close_date"]]
    assert info.closed == (min(closed), max(closed))
    # deals without an engage date get the export's last date as created_at (estimated)
    no_engage = sum(not r["engage_date"] for r in pipeline)
    assert no_engage > 0 and info.created == (min(engaged), max(closed))
    assert info.data_end == max(closed)
    open_deals = sum(r["deal_stage"] in ("Prospecting", "Engaging") for r in pipeline)
    (ing,) = info.ingests
    assert (ing.source, ing.files, ing.rows_loaded) == ("maven", 3, 8800 + 35 + 85)
    s = info.support
    assert {m: a.status for m, a in s.items()} == {
        "conversion": LIMITED, "cycle": LIMITED, "deal_size": SUPPORTED,
        "customer_value": NOT_SUPPORTED, "open_pipeline": LIMITED,
        "deal_history": NOT_SUPPORTED, "forecast": NOT_SUPPORTED}
    assert (f"{no_engage} open deals have no creation date (created_at estimated at ingest): "
            "their age is unknown") in s["open_pipeline"].reasons
    assert s["cycle"].reasons == ("no stage_history: time in stage unknown",)
    # Maven fills close_value only at the close: no open deal has an amount
    assert (f"{open_deals} of {open_deals} open deals have no amount (more than half): open "
            "value not computable") in s["open_pipeline"].reasons
    assert "no reps with a capacity: load not computable" in s["open_pipeline"].reasons
    assert s["customer_value"].reasons == (
        "no revenue table rows: account value and churn not computable",)


# --------------------------------------------------------------------------- thresholds


def _facts(**over):
    """The counts of a store that supports everything; ``over`` changes some."""
    f = dict(opportunities=500, closed=400, won=150, won_with_amount=150, closed_12m=200,
             won_12m=60, won_positive_12m=60, won_distinct_amounts_12m=50, open_now=40,
             open_without_amount=0, with_last_activity=500, reps_with_capacity=5,
             stage_history=2000, leads=900, leads_converted=300, accounts=100, revenue=800,
             revenue_positive=800, revenue_span_days=900, revenue_before_holdout=600,
             repeat_accounts=70, created_at_estimated=0, created_after_close=0,
             amount_history=1)
    return {**f, **over}


def test_a_complete_store_supports_everything():
    assert {a.status for a in assess(_facts()).values()} == {SUPPORTED}


@pytest.mark.parametrize("over, metric, status, reason", [
    ({"closed_12m": 9}, "conversion", LIMITED, "9 deals closed in the last 12 months (< 10)"),
    ({"closed_12m": 10}, "conversion", SUPPORTED, None),
    ({"closed": 0, "won": 0, "closed_12m": 0}, "conversion", NOT_SUPPORTED, "no closed"),
    ({"leads_converted": 0}, "conversion", LIMITED, "no converted leads"),
    ({"won_12m": 9}, "cycle", LIMITED, "9 deals won in the last 12 months (< 10)"),
    ({"won_12m": 10}, "cycle", SUPPORTED, None),
    ({"created_after_close": 4}, "cycle", LIMITED, "4 closed deals were entered after"),
    ({"created_at_estimated": 4}, "open_pipeline", LIMITED, "4 open deals have no creation"),
    ({"won_positive_12m": 2}, "deal_size", LIMITED, "(< 3): deal-size bands not learned"),
    ({"won_distinct_amounts_12m": 5}, "deal_size", LIMITED, "(< 6): bands are equal-count"),
    ({"won_distinct_amounts_12m": 6}, "deal_size", SUPPORTED, None),
    ({"won_12m": 29}, "deal_size", LIMITED, "29 deals won in the last 12 months (< 30)"),
    ({"won_with_amount": 0}, "deal_size", NOT_SUPPORTED, "no won deal has an amount"),
    ({"revenue_span_days": 364}, "customer_value", LIMITED, "364 days (< 365)"),
    ({"revenue_span_days": 365}, "customer_value", SUPPORTED, None),
    ({"accounts": 0}, "customer_value", NOT_SUPPORTED, "no accounts table rows"),
    ({"open_without_amount": 20}, "open_pipeline", SUPPORTED, None),  # half is not more
    ({"open_without_amount": 21}, "open_pipeline", LIMITED, "21 of 40 open deals"),
    ({"with_last_activity": 0}, "open_pipeline", LIMITED, "deals closed when tired"),
    ({"with_last_activity": 0, "stage_history": 0}, "open_pipeline", LIMITED,
     "stale deals not rated"),
    ({"amount_history": 0}, "deal_history", LIMITED, "no opportunity_history"),
    ({"stage_history": 0}, "deal_history", NOT_SUPPORTED, "time in stage"),
    ({"revenue_before_holdout": 0}, "forecast", NOT_SUPPORTED, "less than 6 months"),
    ({"repeat_accounts": 0}, "forecast", NOT_SUPPORTED, "BG/NBD cannot be fitted"),
])
def test_thresholds(over, metric, status, reason):
    a = assess(_facts(**over))[metric]
    assert a.status == status
    if reason is None:
        assert a.reasons == ()
    else:
        assert any(reason in r for r in a.reasons), a.reasons


def _won(n, amounts):
    return pd.DataFrame({
        "opportunity_id": [f"w{i}" for i in range(n)], "status": "won",
        "created_at": pd.Timestamp("2026-01-01"), "closed_at": pd.Timestamp("2026-06-01"),
        "amount": amounts[:n], "team": "T"})


@pytest.mark.parametrize("n", [MIN_BAND_WON_DEALS - 1, MIN_BAND_WON_DEALS])
def test_band_threshold_is_the_one_learn_band_edges_applies(n):
    from reporting.metrics.suite import learn_band_edges
    from reporting.periods import parse_period

    opps = _won(n, [100.0, 1000.0, 10000.0])
    edges, _ = learn_band_edges(opps, parse_period("2026-06"), pd.Series("p", index=opps.index))
    assert ("p" in edges) == (n >= MIN_BAND_WON_DEALS)


def test_holdout_is_the_one_the_clv_reference_uses():
    """Revenue only inside the last 6 months: clv_reference has nothing to calibrate on,
    which is what info reports as not supported."""
    from reporting.models.reference import clv_reference

    rev = pd.DataFrame({"account_id": ["a", "a", "b", "b"], "amount": [10.0, 12.0, 5.0, 6.0],
                        "date": pd.to_datetime(["2026-02-01", "2026-03-01", "2026-02-10",
                                                "2026-04-01"])})
    pred, summary = clv_reference(rev, pd.Timestamp("2026-07-01"))
    assert pred is None and summary["error"] == "no revenue before the backtest window"


def test_salesforce_sample_quarantine_and_flags(tmp_path):
    from reporting.ingest import ingest_paths

    path = tmp_path / "sf.duckdb"
    rep = ingest_paths([shared("salesforce_sample") / "salesforce_data.csv"], "salesforce", path)
    info = store_info(path)
    (result,) = rep.results  # the ingest's own account of the file
    assert info.quarantined == {"opportunities": result.quarantined} and result.quarantined > 0
    assert info.tables["opportunities"] == result.loaded
    with duckdb.connect(str(path), read_only=True) as con:
        (floored,), = con.execute("SELECT count(*) FROM row_flags WHERE code = "
                                  "'created_after_close'").fetchall()
    assert floored == result.notes["created_after_close"] > 0
    assert (f"{floored} closed deals were entered after their close: created_at floored to "
            "the close date (0-day cycles)") in info.support["cycle"].reasons
    assert info.teams == Names(0, ()) and info.reps.count > 0  # the export has no teams
