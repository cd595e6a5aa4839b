"""Conversion cohorts, leads, stage funnel, censored cycle, deal mix, pipeline health and
customer value: hand-built fixtures with answers worked out in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.metrics import clv, conversion, cycle, deal_mix, pipeline
from reporting.models import DealSizeBander
from reporting.periods import parse_period

from ..conftest import shared

T = pd.Timestamp


def frame(rows, columns, dates=()):
    df = pd.DataFrame(rows, columns=columns)
    for c in dates:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    return df


OPP_COLS = ["opportunity_id", "owner", "created_at", "closed_at", "status", "stage", "amount",
            "last_activity_at"]
OPP_DATES = ("created_at", "closed_at", "last_activity_at")


def test_cohort_win_rate_by_hand():
    o = frame([
        ("a", "x", "2017-01-05", "2017-01-20", "won", "W", 1, None),    # won in 15 days
        ("b", "x", "2017-01-10", "2017-03-01", "won", "W", 1, None),    # won in 50 days
        ("c", "x", "2017-01-31", "2017-02-10", "lost", "L", 1, None),
        ("d", "x", "2017-01-31", None, "open", "P", 1, None),
        ("e", "x", "2017-03-01", "2017-03-05", "won", "W", 1, None),    # March cohort
    ], OPP_COLS, OPP_DATES)
    c = conversion.cohort_win_rate(o, T("2017-03-20"), horizons=(30, 60))
    jan = c[c["cohort"] == T("2017-01-01")].iloc[0]
    assert (jan["created"], jan["won_so_far"]) == (4, 2)
    assert jan["win_rate_by_30d"] == pytest.approx(1 / 4)   # Feb 1 + 30 days <= Mar 20
    assert np.isnan(jan["win_rate_by_60d"])                 # Feb 1 + 60 days > Mar 20
    mar = c[c["cohort"] == T("2017-03-01")].iloc[0]
    assert mar["won_so_far"] == 1 and np.isnan(mar["win_rate_by_30d"])


def test_lead_conversion_by_hand():
    leads = frame([
        ("l1", "2017-06-01", "web", "o1", "2017-06-04", False),
        ("l2", "2017-06-02", "web", None, None, True),
        ("l3", "2017-06-03", "web", None, None, False),
        ("l4", "2017-06-03", "event", "o2", "2017-06-13", False),
        ("l5", "2017-05-30", "event", "o3", "2017-06-01", False),   # created before June
    ], ["lead_id", "created_at", "source", "converted_opportunity_id", "converted_at",
        "disqualified"], ("created_at", "converted_at"))
    r = conversion.lead_conversion(leads, parse_period("2017-06"), "source").set_index("group")
    assert r.loc["web", ["leads", "converted", "disqualified", "open"]].tolist() == [3, 1, 1, 1]
    assert r.loc["web", "conversion_rate"] == pytest.approx(1 / 3)
    assert r.loc["event", "median_days_to_convert"] == 10
    assert r["leads"].sum() == 4


def test_lead_conversion_on_olist():
    """Olist's marketing funnel: 8,000 MQLs, 842 closed deals (won_date)."""
    d = shared("olist_funnel")
    mql = pd.read_csv(d / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(d / "olist_closed_deals_dataset.csv")
    leads = mql.merge(deals[["mql_id", "seller_id", "won_date"]], on="mql_id", how="left")
    leads = pd.DataFrame({
        "lead_id": leads["mql_id"], "created_at": pd.to_datetime(leads["first_contact_date"]),
        "source": leads["origin"], "converted_opportunity_id": leads["seller_id"],
        "converted_at": pd.to_datetime(leads["won_date"]), "disqualified": False,
    })
    r = conversion.lead_conversion(leads, parse_period("2017-06-01..2018-05-31"))
    oracle = leads[(leads["created_at"] >= "2017-06-01") & (leads["created_at"] < "2018-06-01")]
    assert r.iloc[0]["leads"] == len(oracle) == 8000
    assert r.iloc[0]["converted"] == oracle["converted_at"].notna().sum() == 842
    by = conversion.lead_conversion(leads, parse_period("2017-06-01..2018-05-31"), "source")
    assert by["leads"].sum() == 8000 and by["converted"].sum() == 842


def test_stage_funnel_by_hand():
    o = frame([
        ("a", "x", "2017-06-01", "2017-06-20", "won", "Closed Won", 1, None),
        ("b", "x", "2017-06-01", "2017-06-20", "lost", "Closed Lost", 1, None),
        ("c", "x", "2017-06-01", "2017-06-20", "lost", "Closed Lost", 1, None),
        ("d", "x", "2017-06-01", None, "open", "S2", 1, None),   # open: not in the funnel
    ], OPP_COLS, OPP_DATES)
    h = frame([
        ("a", "S1", "2017-06-01"), ("a", "S3", "2017-06-10"), ("a", "Closed Won", "2017-06-20"),
        ("b", "S1", "2017-06-01"), ("b", "S2", "2017-06-05"), ("b", "Closed Lost", "2017-06-20"),
        ("c", "S1", "2017-06-01"), ("c", "Closed Lost", "2017-06-20"),
        ("d", "S1", "2017-06-01"), ("d", "S2", "2017-06-03"),
    ], ["opportunity_id", "stage", "entered_at"], ("entered_at",))
    assert conversion.stage_order(h, o) == ["S1", "S2", "S3"]
    f = conversion.stage_funnel(h, o, parse_period("2017-06")).set_index("stage")
    # reached: S1 3, S2 2 (b, and a which skipped it), S3 1, Won 1
    assert f["reached"].tolist() == [3, 2, 1, 1]
    assert f.loc["S1", "conversion_to_next"] == pytest.approx(2 / 3)
    assert f.loc["S2", "conversion_to_next"] == pytest.approx(1 / 2)
    assert f["lost_here"].tolist() == [1, 1, 0, 0]


def test_kaplan_meier_by_hand():
    # durations 2, 3(open), 4, 5 -> S(2) = 3/4, S(4) = 3/4 * 1/2 = 3/8, S(5) = 0
    km = cycle.kaplan_meier([2, 3, 4, 5], [True, False, True, True])
    assert km["days"].tolist() == [2, 4, 5]
    assert km["open_share"].tolist() == pytest.approx([0.75, 0.375, 0.0])
    assert cycle.km_median(km) == 4


def test_time_to_close_counts_open_deals():
    """A rep whose slow deals are still open: closed-only median 10, censored median 30."""
    as_of = T("2017-07-01")
    rows = [(f"c{i}", "slow", "2017-05-01", "2017-05-11", "won", "W", 1, None) for i in range(3)]
    rows += [(f"o{i}", "slow", "2017-05-31", None, "open", "P", 1, None) for i in range(4)]
    o = frame(rows, OPP_COLS, OPP_DATES)
    r = cycle.time_to_close(o, as_of).set_index("group").loc["slow"]
    assert r["closed_only_median_days"] == 10
    # 3 of 7 close at day 10 (S = 4/7 > 0.5); the rest are censored at day 31: no median yet
    assert np.isnan(r["km_median_days"])
    assert (r["closed"], r["still_open"]) == (3, 4)


def test_band_mix_by_hand():
    o = frame([
        ("a", "ann", "2017-06-01", "2017-06-02", "won", "W", 100, None),
        ("b", "ann", "2017-06-01", "2017-06-02", "won", "W", 100, None),
        ("c", "ann", "2017-06-01", "2017-06-02", "won", "W", 5000, None),
        ("d", "bob", "2017-06-01", "2017-06-02", "won", "W", 5000, None),
        ("e", "bob", "2017-06-01", "2017-06-02", "lost", "L", 100, None),  # lost: no band mix
    ], OPP_COLS, OPP_DATES)
    bands = pd.Series(["small", "small", "large", "large", "small"], index=o.index)
    m = deal_mix.band_mix(o, parse_period("2017-06"), bands,
                          target={"small": 0.5, "large": 0.5}).set_index(["group", "band"])
    assert m.loc[("ann", "small"), "share"] == pytest.approx(2 / 3)
    assert m.loc[("ann", "small"), "team_share"] == pytest.approx(2 / 4)
    assert m.loc[("ann", "small"), "gap"] == pytest.approx(2 / 3 - 0.5)
    assert m.loc[("bob", "large"), "share"] == 1


def test_bander_edges_and_outlier():
    amounts = np.array([100, 120, 150, 1000, 1200, 1500, 10000, 12000, 15000] * 5, float)
    b = DealSizeBander().fit(amounts)
    assert list(b.labels_) == ["small", "medium", "large"]
    # centres are the geometric means of each group; edges lie between the groups
    assert 150 < b.edges_[0] < 1000 and 1500 < b.edges_[1] < 10000
    out = b.transform([110, 1100, 11000, 0, -5, np.nan]).ravel().tolist()
    assert out == ["small", "medium", "large", None, None, None]
    assert DealSizeBander().fit(np.r_[amounts, [0, -1]]).n_ignored_ == 2
    few = DealSizeBander().fit([10, 20, 30])
    assert few.fallback_ and "quantiles" in few.fallback_


def test_too_few_different_amounts_is_said_plainly_in_both_languages():
    """The report's note when a profile's won deals have too few different amounts to
    learn bands from: a message with its figure (so a Persian report says it in Persian),
    no model name."""
    from reporting.i18n import tr
    from reporting.metrics.suite import learn_band_edges

    p = parse_period("2026-10")
    opps = pd.DataFrame({"status": ["won"] * 4, "amount": [100.0, 100.0, 200.0, 300.0],
                         "closed_at": pd.to_datetime(["2026-06-01"] * 4)})
    edges, notes = learn_band_edges(opps, p, pd.Series(["default"] * 4))
    note = notes["default"]
    assert note == ("only 3 different amounts among the won deals: the bands are "
                    "equal-count groups, not learned from the amounts")
    assert "kmeans" not in note.lower() and len(edges["default"]) == 2
    fa = tr(note.template, "fa").format(**note.params)
    assert fa.startswith("تنها") and not any("a" <= c.lower() <= "z" for c in fa)


def test_open_deals_and_pipeline_health_by_hand():
    p = parse_period("2017-06")
    o = frame([
        ("a", "ann", "2017-06-20", None, "open", "S2", 10, "2017-06-25"),   # fresh
        ("b", "ann", "2017-04-01", None, "open", "S1", 20, "2017-04-02"),   # inactive 89 days
        ("c", "ann", "2017-01-01", "2017-06-10", "lost", "L", 5, "2017-03-01"),  # tired
        ("d", "ann", "2017-05-01", "2017-06-15", "lost", "L", 5, "2017-06-14"),
        ("e", "ann", "2017-05-01", "2017-05-20", "won", "W", 5, None),
    ], OPP_COLS, OPP_DATES)
    h = frame([("a", "S1", "2017-06-20"), ("a", "S2", "2017-06-22"), ("b", "S1", "2017-04-01")],
              ["opportunity_id", "stage", "entered_at"], ("entered_at",))
    deals = pipeline.open_deals(o, p.end, h, stale_days=45).set_index("opportunity_id")
    assert deals.loc["a", "days_in_stage"] == 9 and deals.loc["a", "stage"] == "S2"
    assert deals.loc["b", "age_days"] == 91 and deals.loc["b", "age_bucket"] == "91-180"
    assert not deals.loc["a", "stale"] and deals.loc["b", "stale"]
    ph = pipeline.pipeline_health(o, p, deals.reset_index(), months=3).set_index("group")
    r = ph.loc["ann"]
    # closed in Apr-Jun: c, d, e = 3 -> 1 a month; 2 open -> 2 months of pipeline
    assert (r["open"], r["stale"], r["closed_per_month"], r["bloat_months"]) == (2, 1, 1.0, 2.0)
    # lost in June: c (last activity 101 days before close) and d (1 day)
    assert (r["lost"], r["lost_when_tired"], r["lost_when_tired_share"]) == (2, 1, 0.5)


def test_customer_value_by_hand():
    until = T("2018-01-01")
    rev = frame([
        ("A", "2016-01-10", 100.0, "new"), ("A", "2016-06-10", 50.0, "expansion"),  # churned
        ("B", "2017-02-01", 200.0, "new"), ("B", "2017-11-01", 300.0, "renewal"),   # active
        ("C", "2017-09-01", 80.0, "new"),                                           # young
    ], ["account_id", "date", "amount", "kind"], ("date",))
    acc = pd.DataFrame({"account_id": ["A", "B", "C"], "acquired_by": ["ann", "ann", "bob"],
                        "account_manager": ["kim", "lee", "lee"], "industry": "x"})
    hist = clv.account_history(rev, acc, until).set_index("account_id")
    assert hist.loc["A", "total"] == 150 and hist.loc["A", "churned"]
    assert hist.loc["B", "active"] and not hist.loc["C", "churned"]
    acq = clv.value_by_person(hist.reset_index(), "acquired_by").set_index("person")
    # ann: A (721 days old, churned) and B (334 days: not a year old, not counted) -> 1/1
    assert acq.loc["ann", "avg_value"] == 325 and acq.loc["ann", "churn_rate"] == 1.0
    assert np.isnan(acq.loc["bob", "churn_rate"])  # no account a year old yet
    am = clv.value_by_person(hist.reset_index(), "account_manager").set_index("person")
    assert am.loc["kim", "expansion_per_account"] == 50


@st.composite
def leads_frames(draw):
    n = draw(st.integers(0, 30))
    rows = []
    for i in range(n):
        created = T("2017-01-01") + pd.Timedelta(days=draw(st.integers(0, 200)))
        conv = draw(st.booleans())
        rows.append((f"l{i}", created, draw(st.sampled_from(["a", "b"])),
                     f"o{i}" if conv else None,
                     created + pd.Timedelta(days=draw(st.integers(0, 20))) if conv else pd.NaT,
                     draw(st.booleans()) and not conv))
    return pd.DataFrame(rows, columns=["lead_id", "created_at", "source",
                                       "converted_opportunity_id", "converted_at",
                                       "disqualified"])


@settings(max_examples=40, deadline=None)
@given(leads_frames())
def test_lead_conversion_invariants(leads):
    p = parse_period("2017-Q2")
    total = conversion.lead_conversion(leads, p)
    by = conversion.lead_conversion(leads, p, "source")
    assert by["leads"].sum() == (total["leads"].sum() if len(total) else 0)
    assert (by["converted"] + by["disqualified"] + by["open"] == by["leads"]).all()
    assert by["conversion_rate"].between(0, 1).all()
    # rows outside the period change nothing
    extra = leads.assign(created_at=leads["created_at"] + pd.Timedelta(days=400))
    both = conversion.lead_conversion(pd.concat([leads, extra]), p, "source")
    pd.testing.assert_frame_equal(by.reset_index(drop=True), both.reset_index(drop=True))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 20), st.booleans()),
                min_size=1, max_size=40))
def test_vectorised_km_median_matches_the_curve(obs):
    """km_medians (all groups at once) agrees with kaplan_meier + km_median per group."""
    g = pd.Series([o[0] for o in obs])
    days = np.array([o[1] for o in obs], float)
    ev = np.array([o[2] for o in obs])
    fast = cycle.km_medians(g, days, ev)
    for name in g.unique():
        m = (g == name).to_numpy()
        slow = cycle.km_median(cycle.kaplan_meier(days[m], ev[m]))
        got = fast.get(name, np.nan)
        assert (np.isnan(slow) and np.isnan(got)) or slow == got
