"""The figures that moved out of the report module: changes against other periods
(reporting.metrics.deltas), a rep's scorecard (reporting.metrics.scorecard) and the
zero-amount wins of the band note (reporting.metrics.deal_mix). Expected values are worked
out by hand from the small frames below."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reporting.metrics.deal_mix import zero_amount_wins
from reporting.metrics.deltas import change, changes
from reporting.metrics.scorecard import rep_scorecard
from reporting.params import load_settings
from reporting.periods import parse_period


def test_change_in_points_and_relative():
    assert change(0.30, 0.25, "pp") == pytest.approx(0.05)
    assert change(0.30, 0.0, "pp") == pytest.approx(0.30)  # a ratio from 0 is still a change
    assert change(120.0, 100.0, "rel") == pytest.approx(0.20)
    assert change(5.0, 0.0, "rel") is None  # relative to nothing: no change
    assert change(None, 1.0, "rel") is None and change(1.0, None, "pp") is None
    with pytest.raises(ValueError, match="kind"):
        change(1.0, 2.0, "abs")


def test_changes_against_previous_and_last_year():
    h = {"current": {"win_rate": 0.4, "avg": 90.0}, "previous": {"win_rate": 0.5, "avg": 60.0},
         "last_year": {"win_rate": None, "avg": 100.0}}
    prev, ly = changes(h, "win_rate", "pp")
    assert prev == pytest.approx(-0.1) and ly is None
    prev, ly = changes(h, "avg", "rel")
    assert prev == pytest.approx(0.5) and ly == pytest.approx(-0.1)


def test_zero_amount_wins_counts_only_wins_of_the_period():
    p = parse_period("2026-10")
    opps = pd.DataFrame({
        "status": ["won", "won", "lost", "won", "won"],
        "amount": [0.0, 10.0, 0.0, 0.0, None],
        "closed_at": pd.to_datetime(["2026-10-03", "2026-10-04", "2026-10-05",
                                     "2026-11-01", "2026-10-06"]),
    })
    # the first only: the second has an amount, the third is lost, the fourth closed in
    # November, the fifth has no amount
    assert zero_amount_wins(opps, p) == 1


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["a1", "a2", "a3", "b1"],
        "team": ["A", "A", "A", "B"],
        "profile": ["default"] * 4,
        "won": [5, 3, 9, 40],
        "lost": [5, 1, 1, 0],
        "win_rate": [0.5, 0.75, 0.9, 1.0],
        "rating": ["watch", None, None, None],
        "open_count": [12, 4, 6, 100],
        "capacity": [10.0, 8.0, float("nan"), 10.0],
        "load": [1.2, 0.5, float("nan"), 10.0],
        "stale_share": [0.5, 0.1, 0.2, 0.0],
    })


def test_rep_scorecard_against_the_team_median(summary):
    band_mix = pd.DataFrame({"group": ["a1", "a1"], "band": ["small", "large"],
                             "share": [0.6, 0.4], "team_share": [0.5, 0.3],
                             "target_share": [0.5, float("nan")]})
    acquirers = pd.DataFrame({"person": ["a1", "a2", "b1"],
                              "churn_rate": [0.2, 0.4, 0.9]})
    rows = {r.label: r for r in rep_scorecard(summary, band_mix, acquirers, pd.DataFrame(),
                                              load_settings(), "a1")}
    # team A is a1, a2, a3: medians of (5, 3, 9) and (5, 1, 1); b1 is another team
    assert (rows["Deals won"].rep, rows["Deals won"].team) == (5, 5)
    assert (rows["Deals lost"].rep, rows["Deals lost"].team) == (5, 1)
    assert rows["Win rate"].team == pytest.approx(0.75) and rows["Win rate"].rating == "watch"
    assert rows["Win rate"].kind == "pct" and rows["Deals won"].kind == "num"
    # columns the summary lacks give no row
    assert "Average won deal" not in rows and "Months of pipeline" not in rows
    # band rows: the rep's share, the team's, the target where there is one
    small, large = rows["Share of small deals"], rows["Share of large deals"]
    assert (small.rep, small.team, small.target) == (0.6, 0.5, 0.5)
    assert large.target is None and "Share of medium deals" not in rows
    # default baselines: stale share bad above 0.30; load 12 / 10 = 1.2 is watch (bad > 1.2)
    assert rows["Share of open deals stale"].rating == "bad"
    load = rows["Open deals / capacity"]
    assert load.rep == pytest.approx(1.2) and load.rating == "watch"
    assert load.team == pytest.approx(0.85)  # median of 1.2, 0.5 (a3 has no load)
    # churn of the accounts a1 won against the team's acquirers (a1, a2; not b1)
    churn = rows["Churn of accounts won"]
    assert churn.rep == pytest.approx(0.2) and churn.team == pytest.approx(0.3)
    assert "Expansion per account managed" not in rows  # no managers frame


def test_rep_scorecard_without_capacity_or_team(summary):
    s = summary.drop(columns="team")
    s.loc[s["group"] == "a3", "capacity"] = float("nan")
    rows = {r.label: r for r in rep_scorecard(s, pd.DataFrame(), pd.DataFrame(),
                                              pd.DataFrame(), load_settings(), "a3")}
    assert rows["Deals won"].team == 7  # median of every rep: 3, 5, 9, 40
    assert "Open deals / capacity" not in rows  # a3 has no capacity
    assert not {"Share of small deals", "Share of medium deals",
                "Share of large deals"} & set(rows)  # no band mix
    assert math.isclose(rows["Share of open deals stale"].rep, 0.2)
    assert rows["Share of open deals stale"].rating == "watch"  # 0.15 < 0.2 <= 0.30


def test_team_overview_puts_the_rep_to_look_at_first(summary):
    from reporting.metrics.scorecard import OVERVIEW_COLUMNS, team_overview

    empty = pd.DataFrame()
    o = team_overview(summary, empty, empty, empty, load_settings())
    assert list(o.columns) == list(OVERVIEW_COLUMNS)
    # by hand, default baselines (stale share bad above 0.30, watch above 0.15; load bad
    # above 1.2, watch above 1.0; over capacity counts as a bad figure):
    # a1: win rate watch, stale 0.5 bad, load 1.2 watch, 12 open > capacity 10 -> 2 bad, 2 watch
    # a2: stale 0.1 and load 0.5 fine -> none; a3: stale 0.2 watch, no capacity -> 1 watch
    # b1: load 10 bad and over capacity -> 2 bad
    assert o[["group", "bad", "watch"]].values.tolist() == [
        ["a1", 2, 2], ["a3", 0, 1], ["a2", 0, 0], ["b1", 2, 0]]
    assert o["over_capacity"].tolist() == [True, False, False, True]
    assert o.loc[0, "load"] == pytest.approx(1.2) and math.isnan(o.loc[1, "load"])
    assert o.loc[0, "win_rate_rating"] == "watch"
    assert len(team_overview(summary.iloc[:0], empty, empty, empty, load_settings())) == 0
