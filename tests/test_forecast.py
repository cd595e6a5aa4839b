"""reporting.forecast: the forecast's figures on a small store worked out by hand, the
open deals at each origin against the as-of view, no look-ahead (a store whose current
records encode the future gives the same forecasts), and the backtest on the demo store
and on the public Maven export (the issue's target)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from reporting.exceptions import ReportingError
from reporting.forecast import BY, DEFINITIONS, METHODS, backtest, forecast, origin_rows
from reporting.store import connect, opportunities_as_of

AS_OF = pd.Timestamp("2026-07-01")
R2 = "=SUM(1) [bold]x"  # a hostile region name: formula start and rich markup

OPPS = [  # id, owner, region, product, created, status, closed, amount, probability, stage
    ("c1", "ann", "R1", "A", "2026-01-05", "won", "2026-02-01", 100.0, None, None),
    ("c2", "ann", "R1", "A", "2026-01-10", "lost", "2026-03-01", 80.0, None, None),
    ("c3", "bob", R2, "B", "2026-02-01", "won", "2026-04-01", 300.0, None, None),
    ("c4", "bob", R2, "B", "2026-02-10", "lost", "2026-05-01", 90.0, None, None),
    ("c5", "bob", R2, "B", "2026-05-01", "won", "2026-05-15", 200.0, None, None),
    # open at AS_OF (o1-o3 with versions; o4 without: its current record must not be read)
    ("o1", "ann", "R1", "A", "2026-06-01", "won", "2026-07-10", 900.0, 1.0, "Closed Won"),
    ("o2", "ann", "R1", "A", "2026-06-10", "open", None, 500.0, 0.2, "Discovery"),
    ("o3", "bob", R2, "B", "2026-05-20", "lost", "2026-07-25", 2000.0, 0.0, "Closed Lost"),
    ("o4", "bob", R2, "B", "2026-06-15", "won", "2026-07-05", 700.0, 0.9, "Closed Won"),
    # created and won within the horizon; a late deal that sets the data end
    ("n1", "ann", "R1", "A", "2026-07-02", "won", "2026-07-20", 50.0, None, None),
    ("z1", "ann", "R1", "A", "2026-08-01", "lost", "2026-08-15", 10.0, None, None),
]
VERSIONS = [  # id, from, to, stage, status, amount, close_date, probability, category
    ("o1", "2026-06-01", "2026-07-10", "Negotiation", "open", 1000.0, "2026-07-15", 0.8,
     "commit"),
    ("o1", "2026-07-10", None, "Closed Won", "won", 900.0, "2026-07-10", 1.0, "closed"),
    ("o2", "2026-06-10", None, "Discovery", "open", 500.0, "2026-09-30", 0.2, "pipeline"),
    ("o3", "2026-05-20", "2026-06-15", "Proposal", "open", 2000.0, "2026-07-10", 0.5,
     "best case"),
    ("o3", "2026-06-15", "2026-07-25", "Proposal", "open", 2000.0, "2026-07-20", 0.5,
     "best case"),
    ("o3", "2026-07-25", None, "Closed Lost", "lost", 2000.0, "2026-07-25", 0.0, "omitted"),
]
STAGE_SINCE = {("o3", "2026-06-15"): "2026-05-20"}


def write_store(path, opps=OPPS, versions=VERSIONS, activity=None):
    with connect(path) as con:
        for (oid, owner, region, product, created, status, closed, amount, prob,
             stage) in opps:
            con.execute(
                "INSERT INTO opportunities (opportunity_id, owner, team, region, product, "
                "created_at, status, closed_at, amount, probability, stage, currency, "
                "last_activity_at) VALUES (?, ?, 'T', ?, ?, ?, ?, ?, ?, ?, ?, 'USD', ?)",
                [oid, owner, region, product, created, status, closed, amount, prob, stage,
                 (activity or {}).get(oid)])
        for oid, vf, vt, stage, status, amount, close, prob, cat in versions:
            con.execute(
                "INSERT INTO opportunity_history (opportunity_id, valid_from, valid_to, "
                "stage, status, amount, currency, close_date, probability, "
                "forecast_category, owner, origin, stage_since) "
                "VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, NULL, 'crm', ?)",
                [oid, vf, vt, stage, status, amount, close, prob, cat,
                 STAGE_SINCE.get((oid, vf), vf)])
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("fc") / "small.duckdb")


def test_small_store_by_hand(small):
    res = forecast(small, AS_OF, 30, by="region", evaluate=False)
    g = res.groups.set_index("group")
    assert list(g.index) == ["=SUM(1) [bold]x", "R1"]
    r1, r2 = g.loc["R1"], g.loc[R2]
    assert (r1["open_count"], r2["open_count"]) == (2, 2)
    # naive: open x trailing win rate (R1: c1 won, c2 lost -> 1/2; R2: c3, c5 won, c4 lost)
    assert r1["naive_won_count"] == pytest.approx(2 * 0.5)
    assert r2["naive_won_count"] == pytest.approx(2 * 2 / 3)
    # value: R1 1000 + 500; R2 2000 + o4's unknown amount -> product B's trailing mean
    # won amount (300 + 200) / 2 = 250
    assert r1["naive_won_amount"] == pytest.approx(1500 * 0.5)
    assert r2["naive_won_amount"] == pytest.approx(2250 * 2 / 3)
    assert r2["amount_imputed"] == 1 and r1["amount_imputed"] == 0
    # weighted: o1 (0.8, closes Jul 15, in the horizon), o2 closes Sep 30: out; R2: o3
    # 0.5 (o4's probability unknown then: left out, one of two deals)
    assert (r1["weighted_won_count"], r1["weighted_pipeline"]) == (pytest.approx(0.8), 800)
    assert (r2["weighted_won_count"], r2["weighted_pipeline"]) == (pytest.approx(0.5), 1000)
    # categories within the horizon: R1 commit o1; R2 best case o3
    assert (r1["commit_count"], r1["commit"], r1["best_case"], r1["pipeline"]) == (
        1, 1000, 1000, 1000)
    assert (r2["commit_count"], r2["commit"], r2["best_case"], r2["pipeline"]) == (
        0, 0, 2000, 2000)
    # new deals: created in [Jun 1, Jul 1) x mean max(0, 1 - days to win / 30) over the
    # deals created in [Jul 1 2025, Jun 1): R1 2 x (1 - 27/30 + 0) / 2; R2 1 x (1 - 14/30)
    # / 4 (c3 won after 59 days, c4 and o3 lost)
    assert r1["expected_new_won_count"] == pytest.approx(2 * 0.1 / 2)
    assert r1["expected_new_won_amount"] == pytest.approx(2 * 0.1 * 100 / 2)
    assert r2["expected_new_won_count"] == pytest.approx((1 - 14 / 30) / 4)
    assert r2["expected_new_won_amount"] == pytest.approx((1 - 14 / 30) * 200 / 4)
    # the horizon ended before the data end (Aug 15): the actual outcome
    assert (r1["actual_won_count"], r1["actual_won_amount"]) == (1, 900)
    assert (r2["actual_won_count"], r2["actual_won_amount"]) == (1, 700)
    assert (r1["actual_new_won_count"], r1["actual_new_won_amount"]) == (1, 50)
    # the model's figures hang together
    d = res.deals.set_index("opportunity_id")
    for name, row in g.iterrows():
        ids = {"R1": ["o1", "o2"], R2: ["o3", "o4"]}[name]
        assert row["expected_won_count"] == pytest.approx(d.loc[ids, "p_win"].sum())
        assert row["low"] <= row["expected_won_count"] <= row["high"]
        assert row["low_amount"] <= row["expected_won_amount"] <= row["high_amount"]
        assert np.isnan(row["quota"]) and np.isnan(row["attainment"])
    # the deals as known then: o3 pushed once (Jul 10 -> Jul 20), in Proposal since May 20;
    # o4 has no history: stage, amount unknown (not its current 'Closed Won', 700)
    assert d.loc["o3", "pushes"] == 1 and d.loc["o3", "stage"] == "Proposal"
    assert d.loc["o4", "stage"] is None and np.isnan(d.loc["o4", "amount"])
    assert np.isnan(d.loc["o4", "pushes"]) and d.loc["o4", "amount_basis"] == 250
    assert d.loc["o1", "expected_value"] == pytest.approx(d.loc["o1", "p_win"] * 1000)
    assert any("no deal history covers 1 of the 4" in n for n in res.notes)
    assert res.total.loc[0, "open_count"] == 4
    assert res.total.loc[0, "naive_won_count"] == pytest.approx(4 * 3 / 5)


def test_quotas_give_attainment_and_coverage(small):
    res = forecast(small, AS_OF, 30, by="region", quotas={"R1": 2000.0}, evaluate=False)
    r1 = res.groups.set_index("group").loc["R1"]
    assert r1["quota"] == 2000
    assert r1["attainment"] == pytest.approx(
        (r1["expected_won_amount"] + r1["expected_new_won_amount"]) / 2000)
    assert r1["coverage"] == pytest.approx(1000 / 2000)  # o1 only closes in the horizon
    table = pd.DataFrame({"scope_type": ["region", "region", "region"],
                          "scope": ["R1", "R1", R2], "period": ["2026-07", "2026-Q3", "2026-07"],
                          "amount": [3000.0, 9000.0, 100.0], "currency": "USD"})
    g = forecast(small, AS_OF, 30, by="region", quotas=table, evaluate=False).groups
    assert g.set_index("group")["quota"].to_dict() == {"R1": 3000.0, R2: 100.0}


def test_by_rep_and_team_and_scope(small):
    g = forecast(small, AS_OF, 30, by="rep", evaluate=False).groups
    assert g["group"].tolist() == ["ann", "bob"] and g["open_count"].tolist() == [2, 2]
    one = forecast(small, AS_OF, 30, by=None, region="R1", evaluate=False).groups
    assert one["group"].tolist() == ["all"] and one["open_count"].tolist() == [2]
    assert set(BY) >= {"rep", "team", "region"}


def test_errors_name_the_parameter(small, tmp_path):
    with pytest.raises(ReportingError, match="horizon_days"):
        forecast(small, AS_OF, 0)
    with pytest.raises(ReportingError, match="by="):
        forecast(small, AS_OF, 30, by="galaxy")
    with pytest.raises(ReportingError, match="not a date"):
        forecast(small, "yesterday-ish", 30)
    with pytest.raises(ReportingError, match="horizon"):
        backtest(small, horizon_days=400)
    empty = tmp_path / "empty.duckdb"
    with connect(empty):
        pass
    with pytest.raises(ReportingError, match="no opportunities"):
        forecast(empty, AS_OF, 30)


def test_open_deals_at_each_origin_are_the_as_of_views(demo_store):
    """The one-pass SQL over many origins gives, at each origin, the open deals of
    store.opportunities_as_of and their fields (for deals the history covers)."""
    origins = [pd.Timestamp("2025-03-01"), pd.Timestamp("2026-01-01"),
               pd.Timestamp("2026-10-15 12:00")]
    with connect(demo_store, read_only=True) as con:
        rows, _, _ = origin_rows(con, origins, 90)
    for t in origins:
        want = opportunities_as_of(demo_store, t)
        want = want[want["status"] == "open"].set_index("opportunity_id").sort_index()
        got = rows[rows["origin"] == t].set_index("opportunity_id").sort_index()
        assert list(got.index) == list(want.index) and len(got) > 50
        known = want["history_known"]
        assert known.all()  # the demo has the whole history
        for c in ("stage", "owner", "forecast_category"):
            assert got[c].tolist() == want[c].tolist(), c
        for c in ("amount", "probability"):
            np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float))
        assert (got["expected_close_date"] == want["expected_close_date"]).all()
        assert (got["stage_since"] == want["stage_since"]).all()


def test_a_scope_reads_its_own_deals_as_the_whole_store_does(demo_store):
    """A region's or team's origin rows read the versions of its own deals only (the
    booked amounts, the close-date pushes): each deal's own fields are those of the whole
    store's rows, and a won deal's booked amount and pushes are found in both."""
    origins = [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-06-01"),
               pd.Timestamp("2026-09-01")]
    own = ["origin", "opportunity_id", "owner", "team", "region", "stage", "amount",
           "probability", "expected_close_date", "stage_since", "won", "won_amount",
           "pushes", "history_known"]
    with connect(demo_store, read_only=True) as con:
        whole, _, _ = origin_rows(con, origins, 90)
        scopes = [("EMEA", None), (None, con.execute(
            "SELECT team FROM opportunities WHERE region = 'APAC' GROUP BY team "
            "ORDER BY count(*) DESC, team LIMIT 1").fetchone()[0])]
        for region, team in scopes:
            part, _, _ = origin_rows(con, origins, 90, region=region, team=team)
            mask = whole["region"].eq(region) if region else whole["team"].eq(team)
            want = whole.loc[mask, own].reset_index(drop=True)
            pd.testing.assert_frame_equal(part[own].reset_index(drop=True), want)
            assert len(want) >= 20 and want["pushes"].sum() > 0
            assert want["won_amount"].notna().sum() > 0


def _tamper(src, dst, drop_history: bool):
    """A copy of the store whose *current* records tell the future: probability 1 and a
    huge amount for every deal won, 0 for every deal lost, the last activity at the close,
    the stage the outcome's; optionally without any deal history."""
    import shutil

    shutil.copy(src, dst)
    with connect(dst) as con:
        if drop_history:
            con.execute("DELETE FROM opportunity_history")
        con.execute("""UPDATE opportunities SET
            probability = CASE status WHEN 'won' THEN 1 WHEN 'lost' THEN 0 ELSE 0.5 END,
            amount = CASE status WHEN 'won' THEN 1e9 ELSE amount END,
            stage = CASE status WHEN 'won' THEN 'WILL WIN' ELSE stage END,
            forecast_category = CASE status WHEN 'won' THEN 'commit' ELSE 'omitted' END,
            expected_close_date = closed_at,
            last_activity_at = COALESCE(closed_at, last_activity_at),
            modified_at = closed_at""")
    return dst


def test_no_look_ahead_through_current_records(demo_store, tmp_path):
    """Without deal history the current record of a deal closed since an origin is the
    future: a store whose current records encode every outcome must give exactly the
    same backtest forecasts as the plain one (both without history)."""
    import shutil

    plain = tmp_path / "plain.duckdb"
    shutil.copy(demo_store, plain)
    with connect(plain) as con:
        con.execute("DELETE FROM opportunity_history")
    leaky = _tamper(demo_store, tmp_path / "leaky.duckdb", drop_history=True)
    a = backtest(plain, origins=3, horizon_days=60)
    b = backtest(leaky, origins=3, horizon_days=60)
    cols = ["origin", "method", "predicted_count", "brier", "low", "high"]
    pd.testing.assert_frame_equal(a.per_origin[cols], b.per_origin[cols])
    assert a.per_origin["open_count"].gt(20).all()
    # the leak, had it been read, would have been perfect
    assert b.calibration["brier"] > 0.05


def test_no_look_ahead_with_history(demo_store, tmp_path):
    """With deal history, changing the current records (not the versions) changes
    nothing either: every field at a past origin comes from the version then."""
    leaky = _tamper(demo_store, tmp_path / "leaky.duckdb", drop_history=False)
    t = pd.Timestamp("2026-06-01")
    a = forecast(demo_store, t, 60, by="region", evaluate=False)
    b = forecast(leaky, t, 60, by="region", evaluate=False)
    cols = ["opportunity_id", "stage", "amount", "pushes", "p_win"]
    pd.testing.assert_frame_equal(a.deals[cols], b.deals[cols])
    drop = ["actual_won_amount", "actual_new_won_amount"]  # the outcome's amounts differ
    pd.testing.assert_frame_equal(a.groups.drop(columns=drop), b.groups.drop(columns=drop))


def test_backtest_on_the_demo_store(demo_store):
    res = backtest(demo_store, origins=4, horizon_days=60)
    t = res.table.set_index("method")
    assert list(t.index) == list(METHODS)
    assert list(res.table.columns[:6]) == ["method", "mape_count", "mape_value",
                                           "interval_coverage", "interval_coverage_value",
                                           "interval_coverage_pb"]
    assert (t["origins"] == 4).all()
    assert np.isnan(t.loc["naive", "interval_coverage"]) and np.isnan(t.loc["category",
                                                                            "brier"])
    # the chosen method: the lowest value error (then count error)
    best = t.sort_values(["mape_value", "mape_count"]).index[0]
    assert res.chosen == best
    po = res.per_origin
    assert set(po["origin"]) == {pd.Timestamp(f"2026-0{m}-01") for m in (5, 6, 7, 8)}
    # actuals: independent SQL on the current records (won in [t, t + 60 d) among the
    # deals open just before t)
    t0 = pd.Timestamp("2026-06-01")
    with connect(demo_store, read_only=True) as con:
        n, v = con.execute(
            "SELECT COUNT(*), SUM(amount) FROM opportunities WHERE created_at < ? AND "
            "status = 'won' AND closed_at >= ? AND closed_at < ?",
            [t0, t0, t0 + pd.Timedelta(days=60)]).fetchall()[0]
    row = po[(po["origin"] == t0) & (po["method"] == "model")].iloc[0]
    assert (row["actual_count"], row["actual_value"]) == (n, pytest.approx(v))
    cal = res.calibration
    assert cal["brier"] < cal["base_rate_brier"]
    assert sum(r["deals"] for r in cal["reliability"]) == cal["calibration_deals"]


def test_maven_target_and_no_history_notes(maven_forecast_store):
    """The issue's target on the public Maven export: the chosen method's error at most
    half the naive one's (measured 0.42 vs 1.02 in count; see docs/forecast.md)."""
    maven_store = maven_forecast_store
    res = backtest(maven_store)
    t = res.table.set_index("method")
    assert res.chosen == "model"
    assert t.loc["model", "mape_count"] <= 0.5 * t.loc["naive", "mape_count"]
    assert t.loc["model", "mape_value"] <= 0.5 * t.loc["naive", "mape_value"]
    # Maven has no probabilities nor categories: those methods are not computable
    assert np.isnan(t.loc["weighted", "mape_count"]) and t.loc["weighted", "origins"] == 0
    assert any("origins left out" in n for n in res.notes)
    f = forecast(maven_store, "2017-07-01", 90, evaluate=False)
    assert any("no deal history covers" in n for n in f.notes)
    assert f.groups["open_count"].sum() == f.deals.shape[0]
    assert "actual_won_count" in f.groups


def test_definitions_for_the_methodology_appendix():
    assert {"forecast", "win_probability", "forecast_backtest"} <= set(DEFINITIONS)
    assert all(len(v) > 100 for v in DEFINITIONS.values())


def test_timestamps_are_naive(small):
    res = forecast(small, datetime(2026, 7, 1), 30, evaluate=False)
    assert res.as_of == AS_OF
