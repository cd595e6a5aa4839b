"""First metrics: hand-computed answers on a tiny fixture, plus invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting import metrics as m
from reporting.periods import parse_period

T = pd.Timestamp


def opps_fixture() -> pd.DataFrame:
    rows = [
        # id, owner, team, created, closed, status, amount, last_activity
        ("o1", "ann", "t1", "2017-05-01", "2017-06-10", "won", 100.0, None),   # 40 days
        ("o2", "ann", "t1", "2017-06-01", "2017-06-11", "won", 300.0, None),   # 10 days
        ("o3", "ann", "t1", "2017-04-01", "2017-06-20", "lost", 50.0, None),   # 80 days
        ("o4", "bob", "t1", "2017-06-05", "2017-06-25", "lost", 70.0, None),   # 20 days
        ("o5", "bob", "t1", "2017-03-01", None, "open", 500.0, "2017-06-25"),  # active
        ("o6", "bob", "t1", "2017-01-01", None, "open", 200.0, "2017-04-01"),  # stale
        ("o7", "bob", "t1", "2017-06-15", "2017-07-15", "won", 900.0, None),   # open at 06-30
        ("o8", "ann", "t1", "2017-07-02", None, "open", 10.0, None),           # after period
        ("o9", "ann", "t1", "2016-01-01", "2017-05-31", "won", 1000.0, None),  # closed before
    ]
    df = pd.DataFrame(rows, columns=["opportunity_id", "owner", "team", "created_at",
                                     "closed_at", "status", "amount", "last_activity_at"])
    for c in ("created_at", "closed_at", "last_activity_at"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


P = parse_period("2017-06")


def test_win_rate_by_hand():
    wr = m.win_rate(opps_fixture(), P, "owner").set_index("group")
    # ann: o1, o2 won, o3 lost -> 2/3; bob: o4 lost -> 0/1; o7 closes in July
    assert wr.loc["ann", ["won", "lost", "closed"]].tolist() == [2, 1, 3]
    assert wr.loc["ann", "win_rate"] == pytest.approx(2 / 3)
    assert wr.loc["bob", "win_rate"] == 0
    # Wilson 95% for 2/3 (z = 1.96): centre 0.5715, half-width 0.3699 (computed by hand)
    assert wr.loc["ann", "ci_low"] == pytest.approx(0.2077, abs=1e-3)
    assert wr.loc["ann", "ci_high"] == pytest.approx(0.9385, abs=1e-3)


def test_cycle_length_by_hand():
    c = m.cycle_length(opps_fixture(), P, "owner").set_index(["group", "status"])
    assert c.loc[("ann", "won"), "median"] == 25  # 40 and 10 days
    assert c.loc[("ann", "won"), "mean"] == 25
    assert c.loc[("ann", "lost"), "median"] == 80
    assert c.loc[("bob", "lost"), "count"] == 1


def test_deal_size_by_hand():
    d = m.deal_size(opps_fixture(), P).iloc[0]
    assert d["won_count"] == 2 and d["avg_won_amount"] == 200 and d["median_won_amount"] == 200


def test_open_pipeline_as_of_period_end():
    reps = pd.DataFrame({"rep_id": ["ann", "bob"], "capacity": [10.0, 2.0]})
    op = m.open_pipeline(opps_fixture(), P.end, "owner", 45, reps).set_index("group")
    # bob: o5 (active), o6 (no activity since April 1 -> stale), o7 (won later: open then)
    assert op.loc["bob", "open_count"] == 3
    # o7's 900 was set by its July win, unknown on June 30: 500 + 200, one amount unknown
    assert op.loc["bob", "open_amount"] == 700
    assert op.loc["bob", "open_amount_unknown"] == 1
    # o7: no activity logged, created June 15 -> 15 days idle, fresh
    assert op.loc["bob", "stale_open_count"] == 1
    assert op.loc["bob", "load"] == 1.5
    assert "ann" not in op.index  # o8 was created after the period


def test_rep_summary_keys_and_edge_cases():
    s = m.rep_summary(opps_fixture(), P)
    for k in ("group", "won", "lost", "win_rate", "created", "median_cycle_days_won",
              "mean_cycle_days_won", "median_cycle_days_lost", "avg_won_amount",
              "median_won_amount", "open_count", "open_amount", "stale_open_count"):
        assert k in s.columns
    empty = m.rep_summary(opps_fixture().iloc[0:0], P)
    assert empty.empty
    h = m.headline(opps_fixture().iloc[0:0], P)
    assert h["win_rate"] is None and h["open_count"] == 0


def test_wilson_zero_trials_is_nan():
    lo, hi = m.wilson_interval([0], [0])
    assert math.isnan(lo[0]) and math.isnan(hi[0])


@st.composite
def opportunity_frames(draw):
    n = draw(st.integers(0, 40))
    base = T("2017-01-01")
    rows = []
    for i in range(n):
        created = base + pd.Timedelta(days=draw(st.integers(0, 300)))
        status = draw(st.sampled_from(["open", "won", "lost"]))
        closed = None if status == "open" else created + pd.Timedelta(days=draw(st.integers(0, 120)))
        rows.append((f"o{i}", draw(st.sampled_from(["a", "b", "c"])), draw(st.sampled_from(["x", "y"])),
                     created, closed, status, float(draw(st.integers(0, 10_000))), None))
    df = pd.DataFrame(rows, columns=["opportunity_id", "owner", "team", "created_at",
                                     "closed_at", "status", "amount", "last_activity_at"])
    for c in ("created_at", "closed_at", "last_activity_at"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


@settings(max_examples=60, deadline=None)
@given(opportunity_frames(), st.sampled_from(["2017-03", "2017-Q2", "2017"]))
def test_invariants(df, period):
    p = parse_period(period)
    s = m.rep_summary(df, p)
    total = m.rep_summary(df, p, by="team")
    assert s["win_rate"].dropna().between(0, 1).all()
    for col in ("won", "lost", "created", "open_count", "open_amount_unknown",
                "stale_open_count", "stale_unknown_count"):
        assert s[col].sum() == total[col].sum()
    if s["open_amount"].notna().all() and total["open_amount"].notna().all():
        assert np.isclose(s["open_amount"].sum(), total["open_amount"].sum())
    # row order does not matter
    shuffled = m.rep_summary(df.sample(frac=1, random_state=1), p)
    pd.testing.assert_frame_equal(s.reset_index(drop=True), shuffled.reset_index(drop=True))


def test_too_few_deals_to_judge():
    wr = pd.DataFrame({"group": ["two_of_three", "many", "none", "low"],
                       "won": [2, 60, 0, 20], "closed": [3, 150, 0, 200]})
    wr["win_rate"] = wr["won"] / wr["closed"]
    wr["ci_low"], wr["ci_high"] = m.wilson_interval(wr["won"], wr["closed"])
    r = m.rate_win_rates(wr, good=0.30, bad=0.20, max_width=0.3).tolist()
    # 2/3: interval 0.21-0.94 (width 0.73) -> not judged; 60/150 = 40% (width 0.16) -> good;
    # 20/200 = 10% -> bad
    assert r == [m.TOO_FEW, "good", m.TOO_FEW, "bad"]
