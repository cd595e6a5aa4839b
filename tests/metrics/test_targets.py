"""Targets: attainment, pacing and coverage against quotas, each expectation worked out by
hand in the test (see reporting/metrics/targets.py for the definitions)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.insights import target_findings
from reporting.metrics.targets import (
    attainment,
    combine_quotas,
    linear_share,
    quota_for,
    seasonal_share,
)
from reporting.periods import parse_period

NOV = parse_period("2026-11")  # 30 days
HALF = pd.Timestamp("2026-11-16")  # 15 of its 30 days elapsed


def _deal(i, owner, status, amount, closed=None, ecd=None, created="2026-06-01",
          team="T1", region="R1"):
    return {"opportunity_id": f"D{i}", "owner": owner, "team": team, "region": region,
            "status": status, "amount": amount, "created_at": pd.Timestamp(created),
            "closed_at": pd.Timestamp(closed) if closed else pd.NaT,
            "expected_close_date": pd.Timestamp(ecd) if ecd else pd.NaT}


def _opps(rows):
    return pd.DataFrame(rows).astype({"closed_at": "datetime64[us]",
                                      "expected_close_date": "datetime64[us]",
                                      "created_at": "datetime64[us]"})


def _quotas(rows):
    return pd.DataFrame(rows, columns=["scope_type", "scope", "period", "amount", "currency"])


def _base_opps(extra=()):
    rows = [
        # Ann: 3,000 + 2,000 won in the first half of November
        _deal(1, "Ann", "won", 3000, "2026-11-03"),
        _deal(2, "Ann", "won", 2000, "2026-11-10"),
        # a win after the as-of time does not count yet
        _deal(3, "Ann", "won", 9000, "2026-11-20"),
        # her open pipeline: due 25 Nov (in), overdue since October (in: before the end),
        # due in December (out)
        _deal(4, "Ann", "open", 4000, ecd="2026-11-25"),
        _deal(5, "Ann", "open", 500, ecd="2026-10-20"),
        _deal(6, "Ann", "open", 1000, ecd="2026-12-05"),
        # Bob beat his quota; Cy has none
        _deal(7, "Bob", "won", 1200, "2026-11-02"),
        _deal(8, "Cy", "won", 800, "2026-11-04", team="T2"),
        *extra,
    ]
    return _opps(rows)


QUOTAS = _quotas([
    ("rep", "Ann", "2026-11", 10_000.0, "USD"),
    ("rep", "Bob", "2026-11", 1_000.0, "USD"),
])


def _row(frame, group):
    return frame.set_index("group").loc[group]


def test_rep_at_half_of_quota_halfway_through_the_month_is_on_pace_linearly():
    a = attainment(_base_opps(), QUOTAS, NOV, by="rep", as_of=HALF)
    ann = _row(a, "Ann")
    assert ann["won_value"] == 5000 and ann["won_count"] == 2
    assert ann["quota"] == 10_000 and ann["attainment"] == pytest.approx(0.5)
    assert ann["pacing_method"] == "linear"
    assert ann["expected_share"] == pytest.approx(15 / 30)
    assert ann["expected_to_date"] == pytest.approx(5000)
    assert ann["pace"] == pytest.approx(1.0)  # on pace
    # coverage: (4,000 + 500) of pipeline due before 1 Dec / 5,000 still to go
    assert ann["remaining"] == 5000 and ann["pipeline"] == 4500 and ann["pipeline_count"] == 2
    assert ann["coverage"] == pytest.approx(0.9)
    assert ann["coverage_basis"] == "expected close date"


def test_seventy_percent_in_the_last_week_makes_the_same_rep_ahead_of_pace():
    past = []
    for k, month in enumerate(["2026-08", "2026-09", "2026-10"]):
        # each past month: 300 booked on day 5, 700 in its last week
        past.append(_deal(100 + 2 * k, "Zed", "won", 300, f"{month}-05"))
        past.append(_deal(101 + 2 * k, "Zed", "won", 700, f"{month}-27"))
    opps = _base_opps(past)
    share, used = seasonal_share(opps, NOV, HALF)
    assert used == 3 and share == pytest.approx(0.3)  # 900 of 3,000 by day 15
    a = attainment(opps, QUOTAS, NOV, by="rep", as_of=HALF, shape="seasonal")
    ann = _row(a, "Ann")
    assert ann["pacing_method"] == "seasonal"
    assert ann["expected_to_date"] == pytest.approx(3000)  # 30% of 10,000
    assert ann["pace"] == pytest.approx(5000 / 3000)  # ahead of pace
    # two past months are too few: linear, and said so
    few = _base_opps(past[2:])
    assert seasonal_share(few, NOV, HALF) == (None, 2)
    b = attainment(few, QUOTAS, NOV, by="rep", as_of=HALF, shape="seasonal")
    assert _row(b, "Ann")["pacing_method"] == "linear"
    assert _row(b, "Ann")["pace"] == pytest.approx(1.0)


def test_quota_met_has_no_coverage_and_missing_quota_is_not_zero():
    a = attainment(_base_opps(), QUOTAS, NOV, by="rep", as_of=HALF)
    bob = _row(a, "Bob")
    assert bob["attainment"] == pytest.approx(1.2) and bob["remaining"] == pytest.approx(-200)
    assert np.isnan(bob["coverage"]) and bob["coverage_note"] == "quota met"
    cy = _row(a, "Cy")
    assert cy["won_value"] == 800
    for col in ("quota", "attainment", "expected_to_date", "pace", "remaining", "coverage"):
        assert np.isnan(cy[col]), col
    assert cy["coverage_note"] == "no quota" and cy["quota_source"] is None


def test_a_complete_period_is_judged_on_all_of_it():
    a = attainment(_base_opps(), QUOTAS, NOV, by="rep")  # as_of: the period's end
    ann = _row(a, "Ann")
    assert ann["won_value"] == 14_000 and ann["expected_share"] == 1.0
    assert ann["pace"] == pytest.approx(1.4) and ann["attainment"] == pytest.approx(1.4)


def test_a_quarterly_quota_is_not_split_silently_and_a_quarter_sums_its_months():
    q = _quotas([
        ("rep", "Dee", "2026-Q4", 30_000.0, "USD"),
        ("rep", "Eve", "2026-10", 1_000.0, "USD"),
        ("rep", "Eve", "2026-11", 2_000.0, "USD"),
        ("rep", "Eve", "2026-12", 3_000.0, "USD"),
        ("rep", "Fay", "2026-10", 1_000.0, "USD"),
        ("rep", "Fay", "2026-11", 2_000.0, "USD"),
    ])
    assert quota_for(q, "rep", "Dee", "2026-11") is None
    assert quota_for(q, "rep", "Dee", "2026-11", split="even") == pytest.approx(10_000)
    shape = {"2026-10": 0.2, "2026-11": 0.3, "2026-12": 0.5}
    assert quota_for(q, "rep", "Dee", "2026-12", split=shape) == pytest.approx(15_000)
    assert quota_for(q, "rep", "Dee", "2026-Q4") == 30_000
    assert quota_for(q, "rep", "Eve", "2026-Q4") == 6_000  # 1,000 + 2,000 + 3,000
    assert quota_for(q, "rep", "Fay", "2026-Q4") is None  # December missing
    assert quota_for(q, "rep", "Eve", "2026-11") == 2_000
    opps = _opps([_deal(1, "Dee", "won", 4000, "2026-11-05")])
    a = attainment(opps, q, NOV, by="rep")
    assert np.isnan(_row(a, "Dee")["quota"])
    b = attainment(opps, q, NOV, by="rep", split="even")
    assert _row(b, "Dee")["attainment"] == pytest.approx(0.4)


def test_team_quota_from_its_reps_or_given_separately():
    # Old left T1 long ago: no quota, no deals in the period: he does not make T1's unknown
    reps = pd.DataFrame({"rep_id": ["Ann", "Bob", "Cy", "Old"], "team": ["T1", "T1", "T2", "T1"],
                         "region": ["R1", "R1", "R1", "R1"]})
    a = attainment(_base_opps(), QUOTAS, NOV, by="team", as_of=HALF, reps=reps)
    t1 = _row(a, "T1")
    assert t1["quota"] == 11_000 and t1["quota_source"] == "sum of rep quotas"
    assert t1["won_value"] == 6200  # Ann 5,000 + Bob 1,200
    assert t1["attainment"] == pytest.approx(6200 / 11_000)
    assert np.isnan(_row(a, "T2")["quota"])  # Cy booked but has no quota: T2's is unknown
    given = pd.concat([QUOTAS, _quotas([("team", "T1", "2026-11", 12_000.0, "USD")])])
    b = attainment(_base_opps(), given, NOV, by="team", as_of=HALF, reps=reps)
    assert _row(b, "T1")["quota"] == 12_000 and _row(b, "T1")["quota_source"] == "team quota"
    # the region: no own quota, T2 unknown -> unknown; with T2's quota: the sum
    r = attainment(_base_opps(), given, NOV, by="region", as_of=HALF, reps=reps)
    assert np.isnan(_row(r, "R1")["quota"])
    both = pd.concat([given, _quotas([("team", "T2", "2026-11", 500.0, "USD")])])
    r = attainment(_base_opps(), both, NOV, by="region", as_of=HALF, reps=reps)
    assert _row(r, "R1")["quota"] == 12_500
    assert _row(r, "R1")["quota_source"] == "sum of team quotas"


def test_yaml_wins_over_the_ingested_table_with_a_note():
    table = _quotas([("rep", "Ann", "2026-11", 9_000.0, "USD"),
                     ("rep", "Bob", "2026-11", 1_000.0, "USD")])
    yaml_q = _quotas([("rep", "Ann", "2026-11", 10_000.0, "USD")])
    q, notes = combine_quotas(yaml_q, table)
    assert dict(zip(q["scope"], q["amount"], strict=True)) == {"Ann": 10_000, "Bob": 1_000}
    assert len(notes) == 1 and "overrides 1 ingested quota" in notes[0] and "Ann" in notes[0]
    assert combine_quotas(None, table)[1] == []
    assert combine_quotas(None, None)[0].empty


def test_no_expected_close_dates_uses_the_forecast_expected_value():
    opps = _base_opps().assign(expected_close_date=pd.NaT).astype(
        {"expected_close_date": "datetime64[us]"})
    a = attainment(opps, QUOTAS, NOV, by="rep", as_of=HALF)
    assert np.isnan(_row(a, "Ann")["coverage"])
    assert _row(a, "Ann")["coverage_basis"] == "no expected close dates"
    b = attainment(opps, QUOTAS, NOV, by="rep", as_of=HALF,
                   expected_pipeline=pd.Series({"Ann": 2500.0}))
    assert _row(b, "Ann")["coverage"] == pytest.approx(0.5)  # 2,500 / 5,000 to go
    assert _row(b, "Ann")["coverage_basis"] == "forecast expected value"


def test_unknown_won_amount_is_not_computable():
    opps = _base_opps([_deal(9, "Bob", "won", np.nan, "2026-11-05")])
    bob = _row(attainment(opps, QUOTAS, NOV, by="rep", as_of=HALF), "Bob")
    assert np.isnan(bob["won_value"]) and np.isnan(bob["attainment"]) and bob["won_count"] == 2


def test_hostile_scope_names_stay_text():
    evil = '=HYPERLINK("http://x","y")'
    markup = "<script>alert(1)</script>"
    q = _quotas([("rep", evil, "2026-11", 10_000.0, "USD"),
                 ("rep", markup, "2026-11", 10_000.0, "USD")])
    opps = _opps([_deal(1, evil, "won", 100, "2026-11-02"),
                  _deal(2, markup, "open", 50, ecd="2026-11-20")])
    a = attainment(opps, q, NOV, by="rep", as_of=HALF)
    assert set(a["group"]) == {evil, markup}
    assert _row(a, evil)["attainment"] == pytest.approx(0.01)
    fs = target_findings(a)
    assert {f.subject for f in fs} == {evil, markup}  # named as they are; escaping is the renderer's
    assert all(f.subject in f.text for f in fs)


def test_target_findings_name_a_rep_behind_pace_with_too_little_coverage():
    opps = _opps([
        # Gus: 1,000 of 10,000 halfway (pace 0.2), 500 of pipeline for 9,000 to go
        _deal(1, "Gus", "won", 1000, "2026-11-05"),
        _deal(2, "Gus", "open", 500, ecd="2026-11-28"),
        # Hal: just as far behind but 20,000 of pipeline due: covered, not a finding
        _deal(3, "Hal", "won", 1000, "2026-11-05"),
        _deal(4, "Hal", "open", 20_000, ecd="2026-11-28"),
        # Ida: on pace
        _deal(5, "Ida", "won", 5000, "2026-11-05"),
        # earlier wins: typical deals of 1,000 (Gus is 9 deals short)
        *[_deal(10 + i, who, "won", 1000, "2026-08-10") for i, who in
          enumerate(["Gus", "Hal", "Ida"])],
    ])
    q = _quotas([(("rep", who, "2026-11", 10_000.0, "USD")) for who in ("Gus", "Hal", "Ida")])
    a = attainment(opps, q, NOV, by="rep", as_of=HALF)
    assert _row(a, "Gus")["pace"] == pytest.approx(0.2)
    assert _row(a, "Gus")["coverage"] == pytest.approx(500 / 9000)
    assert _row(a, "Gus")["deals_short"] == pytest.approx(9.0)
    fs = target_findings(a)
    assert [f.subject for f in fs] == ["Gus"]
    assert "1,000 of a 10,000 quota" in fs[0].text and "20% of the linear pace" in fs[0].text
    assert "0.1x of the 9,000 still to go" in fs[0].text
    # one deal short of a lumpy quota is not judged
    assert target_findings(attainment(opps, q, NOV, by="rep", as_of=HALF),
                           min_deals_short=10) == []


def test_linear_share_is_clamped_to_the_period():
    assert linear_share(NOV, pd.Timestamp("2026-10-01")) == 0
    assert linear_share(NOV, pd.Timestamp("2027-01-01")) == 1
    assert linear_share(NOV, pd.Timestamp("2026-11-07")) == pytest.approx(6 / 30)


# --------------------------------------------------------------------------- invariants
amounts = st.lists(st.floats(1, 1e6, allow_nan=False), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(won=amounts, quota=st.floats(100, 1e7), k=st.floats(0.01, 100))
def test_attainment_scales_inversely_with_quota(won, quota, k):
    opps = _opps([_deal(i, "Ann", "won", w, "2026-11-10") for i, w in enumerate(won)])
    a1 = _row(attainment(opps, _quotas([("rep", "Ann", "2026-11", quota, "USD")]), NOV), "Ann")
    a2 = _row(attainment(opps, _quotas([("rep", "Ann", "2026-11", quota * k, "USD")]), NOV),
              "Ann")
    assert a2["attainment"] == pytest.approx(a1["attainment"] / k, rel=1e-9)
    assert a1["attainment"] == pytest.approx(math.fsum(won) / quota, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(days=st.lists(st.floats(0, 30), min_size=2, max_size=2),
       past=st.lists(st.tuples(st.integers(0, 2), st.floats(0, 29.9), st.floats(1, 1e5)),
                     min_size=3, max_size=20),
       shape=st.sampled_from(["linear", "seasonal"]))
def test_expected_to_date_is_monotone_in_as_of(days, past, shape):
    months = ["2026-08", "2026-09", "2026-10"]
    rows = [_deal(i, "Zed", "won", amt, pd.Timestamp(months[m]) + pd.Timedelta(days=d))
            for i, (m, d, amt) in enumerate(past)]
    opps = _opps(rows)
    q = _quotas([("rep", "Zed", "2026-11", 10_000.0, "USD")])
    t1, t2 = sorted(NOV.start + pd.Timedelta(days=d) for d in days)
    e1 = _row(attainment(opps, q, NOV, as_of=t1, shape=shape, min_periods=1),
              "Zed")["expected_to_date"]
    e2 = _row(attainment(opps, q, NOV, as_of=t2, shape=shape, min_periods=1),
              "Zed")["expected_to_date"]
    assert e1 <= e2 + 1e-9
    assert 0 <= e1 and e2 <= 10_000 + 1e-9


# --------------------------------------------------------------------------- public data
def test_attainment_on_the_maven_export(tmp_path):
    """The Maven export ingested with a quotas file: won value per agent equals the sum of
    the export's June 2017 wins read straight from the CSV; its open deals carry no expected
    close date, so coverage is not computable and says why (unless a forecast is passed)."""
    from reporting import store
    from reporting.ingest import ingest_paths

    from ..conftest import shared

    folder = shared("maven_crm")
    raw = pd.read_csv(folder / "sales_pipeline.csv")
    june = raw[(raw["deal_stage"] == "Won") & raw["close_date"].str.startswith("2017-06")]
    by_agent = june.groupby("sales_agent")["close_value"].sum()
    db = tmp_path / "crm.duckdb"
    ingest_paths([folder], "maven", db)
    agents = sorted(pd.read_csv(folder / "sales_teams.csv")["sales_agent"])
    qf = tmp_path / "quotas.csv"
    qf.write_text("scope_type,scope,period,amount\n"
                  + "".join(f"rep,{a},2017-06,40000\n" for a in agents), encoding="utf-8")
    ingest_paths([qf], "quotas", db)
    d = store.load(db, since=pd.Timestamp("2016-01-01"), until=pd.Timestamp("2017-07-01"))
    assert len(d.quotas) == len(agents) == 35
    a = attainment(d.opportunities, d.quotas, "2017-06", by="rep", reps=d.reps).set_index("group")
    won = a["won_value"][a["won_count"] > 0]
    assert won.to_dict() == pytest.approx(by_agent.to_dict())
    assert a.loc[won.index, "attainment"].to_dict() == pytest.approx((won / 40_000).to_dict())
    assert set(a["coverage_basis"]) == {"no expected close dates"}
    behind = a[a["remaining"] > 0]
    assert len(behind) and behind["coverage"].isna().all()
    assert (a.loc[a["remaining"] <= 0, "coverage_note"] == "quota met").all()
    # Maven's teams are its managers: a team's quota is the sum of its agents'
    t = attainment(d.opportunities, d.quotas, "2017-06", by="team", reps=d.reps)
    sizes = pd.read_csv(folder / "sales_teams.csv").groupby("manager").size()
    assert t.set_index("group")["quota"].to_dict() == (sizes * 40_000).astype(float).to_dict()


def test_quotas_of_groups_outside_the_scope_are_left_out():
    """A region's report with company-wide quotas (quotas.yaml is not cut by region) lists
    only the region's reps: another region's rep is not 0% of quota here."""
    q = pd.concat([QUOTAS, _quotas([("rep", "Far", "2026-11", 5_000.0, "USD"),
                                    ("team", "T9", "2026-11", 5_000.0, "USD")])])
    reps = pd.DataFrame({"rep_id": ["Ann", "Bob", "Cy", "Quiet"], "team": ["T1", "T1", "T2", "T1"],
                         "region": ["R1"] * 4})
    q = pd.concat([q, _quotas([("rep", "Quiet", "2026-11", 2_000.0, "USD")])])
    a = attainment(_base_opps(), q, NOV, by="rep", as_of=HALF, reps=reps)
    assert "Far" not in set(a["group"])
    quiet = _row(a, "Quiet")  # in scope, with a quota and nothing booked: 0%, not left out
    assert quiet["won_value"] == 0 and quiet["attainment"] == 0
    t = attainment(_base_opps(), q, NOV, by="team", as_of=HALF, reps=reps)
    assert "T9" not in set(t["group"])


def test_early_in_the_period_nothing_booked_is_not_yet_a_finding():
    """On 3 November the linear pace expects 2/30 of 10,000 (667), under one typical deal of
    1,000: a rep with nothing booked yet is not behind by two deals."""
    opps = _opps([_deal(1, "Gus", "won", 1000, "2026-08-10"),
                  _deal(2, "Gus", "open", 100, ecd="2026-11-28")])
    q = _quotas([("rep", "Gus", "2026-11", 10_000.0, "USD")])
    early = attainment(opps, q, NOV, by="rep", as_of=pd.Timestamp("2026-11-03"))
    assert _row(early, "Gus")["pace"] == 0
    assert target_findings(early) == []
    late = attainment(opps, q, NOV, by="rep", as_of=pd.Timestamp("2026-11-21"))
    assert [f.subject for f in target_findings(late)] == ["Gus"]  # 6,667 expected: 6.7 short
    assert target_findings(late)[0].score == 10
