"""Deal history (issue 14, item 1): versions derived from the evidence, the as-of reader,
and full exports building history by themselves (item 2's core).

Every expected state is worked out by hand in the comments, from the timeline of the
deals in ``../shared/data/crm_api/ids.json`` (D3: amount 30000 -> 36000 on 2024-03-18,
close date 2024-05-31 -> 2024-06-28 on 2024-04-02; D4: proposal -> qualification on
2024-03-28; D5: no amount; a deal deleted; a deal won, reopened and lost)."""

from __future__ import annotations

import os
import time

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from reporting import history, store
from reporting.ingest import ingest_paths
from reporting.schema import TABLES

T = pd.Timestamp


def _store(tmp_path, opps, changes=(), stages=(), snapshots=()):
    p = tmp_path / "crm.duckdb"
    with store.connect(p) as con:
        for table, rows in (("opportunities", opps), ("opportunity_changes", changes),
                            ("stage_history", stages), ("opportunity_snapshots", snapshots)):
            if len(rows):
                frame = pd.DataFrame(rows)
                store._insert(con, table, frame)
        history.apply_deletions(con, [r["opportunity_id"] for r in opps]
                                + [r["opportunity_id"] for r in changes])
        history.rebuild(con)
    return p


def _opp(i, owner, created, stage, status, amount, closed=None, region="EMEA", **kw):
    return {"opportunity_id": i, "owner": owner, "created_at": T(created), "stage": stage,
            "status": status, "amount": amount, "closed_at": T(closed) if closed else None,
            "currency": "USD", "region": region, **kw}


def _chg(i, when, field, old, new):
    return {"opportunity_id": i, "changed_at": T(when), "field": field, "old_value": old,
            "new_value": new}


OPPS = [
    _opp("D3", "ava", "2024-01-10", "Proposal", "open", 36000.0,
         expected_close_date=T("2024-06-28")),
    _opp("D4", "ben", "2024-01-12", "Qualification", "open", 20000.0),
    _opp("D5", "ava", "2024-02-01", "Prospecting", "open", None),
    _opp("D9", "ben", "2024-01-05", "Closed Lost", "lost", 5000.0, closed="2024-04-20"),
    _opp("DX", "ava", "2024-01-15", "Prospecting", "open", 1000.0),
]
CHANGES = [
    _chg("D3", "2024-03-18", "amount", "30000", "36000"),
    _chg("D3", "2024-04-02", "close_date", "2024-05-31", "2024-06-28"),
    _chg("D4", "2024-02-20", "stage", "Qualification", "Proposal"),
    _chg("D4", "2024-03-28", "stage", "Proposal", "Qualification"),
    # D9: won on 2024-02-10, reopened on 2024-03-01, lost on 2024-04-20
    _chg("D9", "2024-02-10", "stage", "Negotiation", "Closed Won"),
    _chg("D9", "2024-02-10", "status", "open", "won"),
    _chg("D9", "2024-02-10", "close_date", "2024-03-31", "2024-02-10"),
    _chg("D9", "2024-03-01", "stage", "Closed Won", "Negotiation"),
    _chg("D9", "2024-03-01", "status", "won", "open"),
    _chg("D9", "2024-03-01", "close_date", "2024-02-10", "2024-04-30"),
    _chg("D9", "2024-04-20", "stage", "Negotiation", "Closed Lost"),
    _chg("D9", "2024-04-20", "status", "open", "lost"),
    _chg("D9", "2024-04-20", "close_date", "2024-04-30", "2024-04-20"),
    # DX: deleted in the CRM on 2024-03-05
    _chg("DX", "2024-02-01", "amount", "800", "1000"),
    _chg("DX", "2024-03-05", "deleted", "false", "true"),
]


@pytest.fixture()
def hist_store(tmp_path):
    return _store(tmp_path, OPPS, CHANGES)


def _at(p, when, **kw):
    return store.opportunities_as_of(p, when, **kw).set_index("opportunity_id")


def test_versions_follow_the_changes(hist_store):
    with store.connect(hist_store, read_only=True) as con:
        v = con.execute("SELECT * FROM opportunity_history ORDER BY opportunity_id, "
                        "valid_from").df()
    d3 = v[v["opportunity_id"] == "D3"]
    # creation (30000, closing 2024-05-31), the amount change, the close-date push
    assert d3["valid_from"].tolist() == [T("2024-01-10"), T("2024-03-18"), T("2024-04-02")]
    assert d3["amount"].tolist() == [30000, 36000, 36000]
    assert d3["close_date"].tolist() == [T("2024-05-31"), T("2024-05-31"), T("2024-06-28")]
    assert d3["valid_to"].tolist()[:2] == [T("2024-03-18"), T("2024-04-02")]
    assert pd.isna(d3["valid_to"].iloc[-1])
    assert d3["origin"].tolist() == ["created", "crm", "crm"]
    # D5 has no evidence: no versions (its past is the current-row rules)
    assert "D5" not in set(v["opportunity_id"])
    # DX: created 2024-01-15 at 800, 1000 from 2024-02-01, deleted 2024-03-05
    dx = v[v["opportunity_id"] == "DX"]
    assert dx["amount"].tolist() == [800, 1000]
    assert dx["valid_to"].tolist() == [T("2024-02-01"), T("2024-03-05")]


def test_as_of_a_past_date_is_the_state_then(hist_store):
    # 2024-03-01: D3 at 30000 closing May 31; D4 back... no, still in Proposal (moved
    # back on 03-28); D9 won (since 02-10, reopened exactly on 03-01: the state just
    # before 03-01 is won); DX open at 1000
    a = _at(hist_store, "2024-03-01")
    assert a.loc["D3", "amount"] == 30000
    assert a.loc["D3", "expected_close_date"] == T("2024-05-31")
    assert a.loc["D4", "stage"] == "Proposal" and a.loc["D4", "status"] == "open"
    assert a.loc["D4", "stage_since"] == T("2024-02-20")
    assert a.loc["D9", "status"] == "won" and a.loc["D9", "closed_at"] == T("2024-02-10")
    assert a.loc["DX", "amount"] == 1000
    # 2024-04-10: D3 at 36000 closing June 28; D4 back in Qualification since 03-28;
    # D9 reopened (open, expected 04-30); DX deleted on 03-05: gone
    b = _at(hist_store, "2024-04-10")
    assert b.loc["D3", "amount"] == 36000
    assert b.loc["D3", "expected_close_date"] == T("2024-06-28")
    assert b.loc["D4", "stage"] == "Qualification"
    assert b.loc["D4", "stage_since"] == T("2024-03-28")
    assert b.loc["D9", "status"] == "open" and pd.isna(b.loc["D9", "closed_at"])
    assert b.loc["D9", "expected_close_date"] == T("2024-04-30")
    assert "DX" not in b.index
    # D5: no history; open now, so what is known is its current row (no amount: unknown)
    assert not b.loc["D5", "history_known"] and np.isnan(b.loc["D5", "amount"])
    assert b.loc["D3", "history_known"]
    # before D4 existed it is not there; D9 existed
    c = _at(hist_store, "2024-01-11")
    assert set(c.index) == {"D3", "D9"}


def test_a_deleted_deal_leaves_the_current_table_but_not_the_past(hist_store):
    with store.connect(hist_store, read_only=True) as con:
        current = {r[0] for r in con.execute("SELECT opportunity_id FROM opportunities").fetchall()}
        gone = con.execute("SELECT opportunity_id, deleted_at FROM opportunities_deleted").fetchall()
    assert "DX" not in current and gone == [("DX", T("2024-03-05").to_pydatetime())]
    assert "DX" in _at(hist_store, "2024-02-15").index


def test_rebuild_is_idempotent_and_order_free(tmp_path, hist_store):
    with store.connect(hist_store) as con:
        before = con.execute("SELECT * FROM opportunity_history ORDER BY ALL").df()
        history.rebuild(con)
        history.rebuild(con, ["D3"])
        again = con.execute("SELECT * FROM opportunity_history ORDER BY ALL").df()
    pd.testing.assert_frame_equal(before, again)
    shuffled = _store(tmp_path / "b", OPPS[::-1], CHANGES[::-1]) if (tmp_path / "b").mkdir() \
        is None else None
    with store.connect(shuffled, read_only=True) as con:
        other = con.execute("SELECT * FROM opportunity_history ORDER BY ALL").df()
    pd.testing.assert_frame_equal(before, other)


def test_status_follows_a_stage_history_alone(tmp_path):
    """Only stage entries: the status of each version follows the stage where the stage
    means one status in the store (Closed Won is only ever won)."""
    opps = [_opp("A", "ava", "2024-01-01", "Closed Won", "won", 100.0, closed="2024-02-01"),
            _opp("B", "ava", "2024-01-01", "Prospecting", "open", 50.0)]
    stages = [{"opportunity_id": "A", "stage": "Prospecting", "entered_at": T("2024-01-01")},
              {"opportunity_id": "A", "stage": "Closed Won", "entered_at": T("2024-02-01")}]
    p = _store(tmp_path, opps, stages=stages)
    a = _at(p, "2024-01-15")
    # Prospecting is only ever open; A was open in Prospecting, its amount then unknown
    # (no history records it and it has closed since)
    assert a.loc["A", "status"] == "open" and a.loc["A", "stage"] == "Prospecting"
    assert np.isnan(a.loc["A", "amount"])
    assert _at(p, "2024-03-01").loc["A", "status"] == "won"


# ------------------------------------------------------------------ full exports over time

CSV_HEAD = ("Opportunity ID,Opportunity Name,Opportunity Owner,Created Date,Close Date,"
            "Amount,Stage,Region\n")


def _export(path, rows, mtime):
    path.write_text(CSV_HEAD + "".join(",".join(r) + "\n" for r in rows))
    os.utime(path, (mtime, mtime))
    return path


def _versions(p):
    with store.connect(p, read_only=True) as con:
        return con.execute("SELECT * FROM opportunity_history ORDER BY opportunity_id, "
                           "valid_from").df()


def test_monthly_exports_build_history_by_themselves(tmp_path):
    """Three monthly Salesforce exports: each records what changed since the store's state
    at its as-of time; re-ingesting one adds no versions."""
    p = tmp_path / "crm.duckdb"
    jan = _export(tmp_path / "jan.csv", [
        ("006A", "Acme", "ava", "01/05/2024", "03/31/2024", "30000", "Qualification", "EMEA"),
        ("006B", "Globex", "ben", "01/08/2024", "02/28/2024", "8000", "Prospecting", "EMEA"),
    ], time.mktime((2024, 1, 31, 12, 0, 0, 0, 0, 0)))
    r = ingest_paths([jan], "salesforce", p)
    # the as-of time is the file's modification time (local time of this machine -> the
    # reporting zone, UTC): 2024-01-31 12:00 here
    assert r.as_of_source == "file modification time"
    assert r.history_snapshots == 2
    feb = _export(tmp_path / "feb.csv", [
        ("006A", "Acme", "ava", "01/05/2024", "04/30/2024", "36000", "Proposal/Price Quote", "EMEA"),
        ("006B", "Globex", "ben", "01/08/2024", "02/28/2024", "8000", "Prospecting", "EMEA"),
    ], time.mktime((2024, 2, 29, 12, 0, 0, 0, 0, 0)))
    r = ingest_paths([feb], "salesforce", p)
    assert r.history_snapshots == 1  # only 006A changed
    mar = _export(tmp_path / "mar.csv", [
        ("006A", "Acme", "ava", "01/05/2024", "03/20/2024", "36000", "Closed Won", "EMEA"),
        ("006B", "Globex", "ben", "01/08/2024", "03/10/2024", "8000", "Closed Lost", "EMEA"),
    ], time.mktime((2024, 3, 31, 12, 0, 0, 0, 0, 0)))
    ingest_paths([mar], "salesforce", p, as_of="2024-03-31")
    v = _versions(p)
    a = v[v["opportunity_id"] == "006A"]
    assert a["amount"].tolist() == [30000, 36000, 36000]
    assert a["stage"].tolist() == ["Qualification", "Proposal/Price Quote", "Closed Won"]
    assert a["origin"].unique().tolist() == ["export"]
    n = len(v)
    again = ingest_paths([feb], "salesforce", p)  # the same file again: nothing new
    assert again.history_snapshots == 0 and len(_versions(p)) == n
    # mid-February: 006A in Qualification at 30000, expected to close March 31
    s = _at(p, "2024-02-15")
    assert s.loc["006A", "stage"] == "Qualification" and s.loc["006A", "amount"] == 30000
    assert s.loc["006A", "expected_close_date"] == T("2024-03-31")
    # before the first export the history says nothing: the current-row rules (006A has
    # been won since: open then, amount and stage unknown)
    e = _at(p, "2024-01-20")
    assert not e.loc["006A", "history_known"] and e.loc["006A", "status"] == "open"
    assert np.isnan(e.loc["006A", "amount"])


def test_an_old_store_without_history_tables_reads_as_of(tmp_path):
    import duckdb

    p = tmp_path / "old.duckdb"
    con = duckdb.connect(str(p))
    old_cols = [f for f in TABLES["opportunities"].fields if f.name not in (
        "expected_close_date", "probability", "forecast_category", "lost_reason",
        "deal_type", "modified_at")]
    for t in TABLES.values():
        fields = old_cols if t.name == "opportunities" else t.fields
        if t.name in ("opportunity_history", "opportunity_snapshots", "opportunity_changes",
                      "stages"):
            continue
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(
            f'"{f.name}" {store._SQL_TYPES[f.kind]}' for f in fields) + ")")
    con.execute("CREATE TABLE quarantine (x INT)")
    con.execute("CREATE TABLE ingest_log (x INT)")
    con.close()
    # read as it is, it gains the new (empty) tables and columns first
    assert store.opportunities_as_of(p, "2024-01-01").empty
    with store.connect(p, read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM opportunity_history").fetchone()[0] == 0


# ------------------------------------------------------------------ pandas twin == SQL

FIELDS = st.sampled_from(["stage", "amount", "close_date", "status"])


@st.composite
def evidence(draw):
    n = draw(st.integers(1, 4))
    opps, changes = [], []
    for i in range(n):
        created = T("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 30)))
        status = draw(st.sampled_from(["open", "won", "lost"]))
        closed = created + pd.Timedelta(days=draw(st.integers(1, 90))) if status != "open" \
            else None
        opps.append(_opp(f"O{i}", draw(st.sampled_from(["a", "b"])), str(created),
                         draw(st.sampled_from(["S1", "S2", "S3"])), status,
                         draw(st.one_of(st.none(), st.floats(0, 1e6))),
                         closed=str(closed) if closed is not None else None))
        for _ in range(draw(st.integers(0, 4))):
            f = draw(FIELDS)
            when = created + pd.Timedelta(hours=draw(st.integers(1, 2400)))
            val = {"stage": st.sampled_from(["S1", "S2", "S3"]),
                   "amount": st.integers(0, 1000).map(str),
                   "close_date": st.dates(pd.Timestamp("2024-01-01").date(),
                                          pd.Timestamp("2024-12-31").date()).map(str),
                   "status": st.sampled_from(["open", "won", "lost"])}[f]
            changes.append(_chg(f"O{i}", str(when), f, draw(val), draw(val)))
    # one change per (deal, time, field): the table's key
    seen, uniq = set(), []
    for c in changes:
        k = (c["opportunity_id"], c["changed_at"], c["field"])
        if k not in seen:
            seen.add(k)
            uniq.append(c)
    return opps, uniq, T("2024-01-01") + pd.Timedelta(hours=draw(st.integers(0, 4000)))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evidence())
def test_pandas_state_at_equals_the_sql_reader(tmp_path_factory, ev):
    opps, changes, when = ev
    p = _store(tmp_path_factory.mktemp("h"), opps, changes)
    sql = store.opportunities_as_of(p, when)
    with store.connect(p, read_only=True) as con:
        versions = store._coerce(con.execute("SELECT * FROM opportunity_history").df(),
                                 "opportunity_history")
        cur = store._coerce(con.execute("SELECT * FROM opportunities").df(), "opportunities")
    mine = history.state_at(cur, versions, when).sort_values("opportunity_id",
                                                             ignore_index=True)
    cols = ["opportunity_id", "stage", "status", "closed_at", "amount", "owner",
            "expected_close_date", "history_known", "stage_since"]
    pd.testing.assert_frame_equal(mine[cols], sql[cols], check_dtype=False)
    # invariants: versions of a deal do not overlap and follow each other
    for _, g in versions.sort_values("valid_from").groupby("opportunity_id"):
        nxt = g["valid_from"].shift(-1).dropna()
        assert (g["valid_to"].iloc[:-1].reset_index(drop=True)
                == nxt.reset_index(drop=True)).all()


def test_the_data_model_documents_every_column():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-model.md").read_text()
    for t in TABLES.values():
        assert f"## `{t.name}`" in doc, t.name
        section = doc.split(f"## `{t.name}`", 1)[1].split("\n## ", 1)[0]
        for f in t.fields:
            assert f"| `{f.name}` |" in section, (t.name, f.name)


def test_the_history_command_shows_a_deals_versions(hist_store):
    from typer.testing import CliRunner

    from reporting.cli import app

    r = CliRunner().invoke(app, ["history", "D3", "--store", str(hist_store),
                                 "--as-of", "2024-03-20"], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    assert "deal D3: 3 versions" in r.output
    assert "30,000" in r.output and "36,000" in r.output and "2024-06-28" in r.output
    assert "as of 2024-03-20: open" in r.output and "amount 36,000.00" in r.output
    r = CliRunner().invoke(app, ["history", "NOPE", "--store", str(hist_store)])
    assert r.exit_code == 2 and "no deal 'NOPE'" in r.output


def test_amount_changes_in_another_currency_are_converted(tmp_path):
    """A EUR deal's amount change (Salesforce field history pulled with the deal's
    currency) is stored in the reporting currency, like the deal itself: with EUR at 1.1
    USD, 30000 -> 33000 EUR becomes 33000 -> 36300 USD."""
    import yaml

    from reporting.sources import load_mapping

    m = load_mapping("salesforce_field_history").model_dump(exclude={"path"})
    m["name"] = "fh_eur"
    m["currency"] = {"default": "EUR", "reporting": "USD", "rates": {"EUR": 1.1}}
    mp = tmp_path / "fh_eur.yaml"
    mp.write_text(yaml.safe_dump(m))
    f = tmp_path / "field_history.csv"
    f.write_text("Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                 "006EUR,3/18/2024 10:00 AM,Amount,30000,33000\n")
    p = tmp_path / "crm.duckdb"
    r = ingest_paths([f], mp, p)
    assert r.loaded == 1, r.reasons()
    with store.connect(p, read_only=True) as con:
        row = con.execute("SELECT old_value, new_value, currency FROM opportunity_changes"
                          ).fetchone()
    assert row == ("33000", "36300", "USD")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(
    st.sampled_from(["Prospecting", "Won", "Lost", "Engaging", None, "Mystery"]),
    st.sampled_from(["open", "won", "lost", None]),
    st.one_of(st.none(), st.floats(-1e6, 1e12, allow_nan=False), st.sampled_from([0.1, 1e-7, 2.5])),
    st.one_of(st.none(), st.datetimes(min_value=pd.Timestamp("2019-01-01").to_pydatetime(),
                                      max_value=pd.Timestamp("2025-01-01").to_pydatetime())),
    st.sampled_from(["export", None, "crm"]),
), min_size=1, max_size=12))
def test_a_first_export_takes_the_one_version_shortcut_with_the_same_versions(
        tmp_path_factory, monkeypatch, rows):
    """Deals known from one exported record only get their version straight from the
    snapshot (``_rebuild_first_exports``); it must equal the general path's versions for
    the same evidence (fractional amounts and close dates with microseconds through the
    text round trip, stages with and without one status, a missing status or origin)."""
    tmp = tmp_path_factory.mktemp("first")
    opps = [_opp(f"F{i}", "ava", "2018-06-01", stage, status or "open", amount)
            for i, (stage, status, amount, _, _) in enumerate(rows)]
    snaps = [{"opportunity_id": f"F{i}", "observed_at": T("2025-02-01") + pd.Timedelta(hours=i),
              "stage": stage, "status": status, "amount": amount, "close_date": close,
              "owner": "ava", "origin": origin}
             for i, (stage, status, amount, close, origin) in enumerate(rows)]
    got = {}
    for shortcut in (True, False):
        p = tmp / f"s{shortcut}.duckdb"
        with store.connect(p) as con:
            store._insert(con, "opportunities", pd.DataFrame(opps))
            store._insert(con, "opportunity_snapshots", pd.DataFrame(snaps))
            with monkeypatch.context() as m:
                if not shortcut:
                    m.setattr(history, "_first_exports_only", lambda *a: False)
                taken = history._first_exports_only(con, "TRUE")
                n = history.rebuild(con)
            got[shortcut] = (n, con.execute(
                "SELECT * FROM opportunity_history ORDER BY opportunity_id, valid_from").df())
        if shortcut:
            assert taken == all(origin == "export" for *_, origin in rows)
    assert got[True][0] == got[False][0]
    pd.testing.assert_frame_equal(got[True][1], got[False][1])
