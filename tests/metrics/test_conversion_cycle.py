"""Issue 11, items 3 and 5: lead conversion rated only on mature cohorts at a horizon
learned from the data, and a time to win that counts open deals (Aalen-Johansen, losing as
a competing outcome) beside the median cycle of won deals.

Expected values are worked out by hand in the comments; lifelines is the oracle for the
estimator itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.metrics import conversion, cycle
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.schema import empty_frame

from ..conftest import shared

T = pd.Timestamp
JUNE = parse_period("2017-06")
S = load_settings()


def leads_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["lead_id", "created_at", "converted_at", "disqualified"])
    df["created_at"] = pd.to_datetime(df["created_at"]).astype("datetime64[us]")
    df["converted_at"] = pd.to_datetime(df["converted_at"]).astype("datetime64[us]")
    df["converted_opportunity_id"] = df["lead_id"].where(df["converted_at"].notna())
    df["source"] = "web"
    return df


# ------------------------------------------------------------------ item 3: mature cohorts

def test_horizon_is_the_p90_of_days_to_convert():
    rows = [(f"l{d}", "2017-01-01", T("2017-01-01") + pd.Timedelta(days=d), False)
            for d in range(1, 11)]
    rows.append(("late", "2017-01-01", "2017-03-01", False))  # converted after as_of: unseen
    # days 1..10: p90 (linear) at position 0.9 * 9 = 8.1 -> 9.1, rounded up to 10
    assert conversion.conversion_horizon(leads_frame(rows), T("2017-02-01")) == 10


JUNE_LEADS = [
    ("l1", "2017-06-01", "2017-06-05", False),   # 4 days: within 10
    ("l2", "2017-06-10", "2017-06-25", False),   # 15 days: beyond the horizon
    ("l3", "2017-06-28", "2017-07-05", False),   # 7 days: within
    ("l4", "2017-06-29", None, False),
    ("l5", "2017-06-30", None, True),
]


def test_rate_at_a_fixed_horizon_and_maturity():
    leads = leads_frame(JUNE_LEADS)
    so_far = conversion.lead_conversion(leads, JUNE).iloc[0]
    assert so_far["conversion_rate"] == pytest.approx(3 / 5)  # l2 counts "so far"
    # July 8: June 30's leads have had 8 days of 10 -> immature (mature on July 11), not rated
    young = conversion.lead_conversion(leads, JUNE, None, 10, T("2017-07-08")).iloc[0]
    assert not young["mature"] and young["mature_on"] == T("2017-07-11")
    assert np.isnan(young["conversion_rate"]) and young["converted"] == 2
    # July 15: mature; converted within 10 days: l1, l3 -> 2 / 5
    ripe = conversion.lead_conversion(leads, JUNE, None, 10, T("2017-07-15")).iloc[0]
    assert ripe["mature"] and ripe["conversion_rate"] == pytest.approx(2 / 5)


def test_report_rates_only_mature_periods_with_one_horizon():
    leads = leads_frame(JUNE_LEADS + [
        ("m1", "2017-05-02", "2017-05-04", False),   # 2 days
        ("m2", "2017-05-10", "2017-05-13", False),   # 3 days
        ("m3", "2017-05-20", "2017-05-26", False),   # 6 days
        ("m4", "2017-05-25", None, False),
    ])
    # conversions seen by July 8: 4, 15, 7, 2, 3, 6 days -> sorted 2 3 4 6 7 15; p90 at
    # position 4.5 -> 7 + 0.5 * 8 = 11 -> horizon 11 days
    a = analyse(empty_frame("opportunities"), JUNE, S, leads=leads,
                available={"leads": True}, as_of=T("2017-07-08"))
    cur, prev = a.headline["current"], a.headline["previous"]
    assert a.lead_horizon_days == 11
    # June: mature on July 12 > July 8 -> not rated, not a rate
    assert cur["lead_conversion"] is None and cur["lead_conversion_mature"] is False
    assert a.ratings.get("lead_conversion") is None
    assert "mature on 2017-07-12" in a.missing["lead_conversion"]
    # May, at the same 11 days: m1, m2, m3 of 4
    assert prev["lead_conversion"] == pytest.approx(3 / 4)


def olist_leads() -> pd.DataFrame:
    d = shared("olist_funnel")
    mql = pd.read_csv(d / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(d / "olist_closed_deals_dataset.csv")
    leads = mql.merge(deals[["mql_id", "seller_id", "won_date"]], on="mql_id", how="left")
    return pd.DataFrame({
        "lead_id": leads["mql_id"], "created_at": pd.to_datetime(leads["first_contact_date"]),
        "source": leads["origin"], "converted_opportunity_id": leads["seller_id"],
        "converted_at": pd.to_datetime(leads["won_date"]), "disqualified": False,
    })


def test_olist_young_cohorts_are_not_rated_and_mature_ones_do_not_move():
    """Olist's MQLs (2017-06 to 2018-05) as a report on 2018-07-01 would have seen them:
    conversions after that date not yet in the data."""
    full = olist_leads()
    as_of = T("2018-07-01")
    cut = full.assign(converted_at=full["converted_at"].where(full["converted_at"] < as_of),
                      converted_opportunity_id=full["converted_opportunity_id"].where(
                          full["converted_at"] < as_of))
    h = conversion.conversion_horizon(cut, as_of)
    days = ((cut["converted_at"] - cut["created_at"]).dt.total_seconds() / 86400).dropna()
    assert h == np.ceil(days.clip(lower=0).quantile(0.9))  # learned from the data
    may = parse_period("2018-05")
    # "so far" reads May's young cohort low against what it became
    so_far = conversion.lead_conversion(cut, may).iloc[0]["conversion_rate"]
    later = conversion.lead_conversion(full, may).iloc[0]["conversion_rate"]
    assert so_far < later
    at_h = conversion.lead_conversion(cut, may, None, h, as_of).iloc[0]
    assert not at_h["mature"] and np.isnan(at_h["conversion_rate"])
    # a mature month's rate at the horizon is final: more data does not change it
    jan = parse_period("2018-01")
    then = conversion.lead_conversion(cut, jan, None, h, as_of).iloc[0]
    assert then["mature"]
    now = conversion.lead_conversion(full, jan, None, h, T("2018-11-15")).iloc[0]
    assert then["conversion_rate"] == now["conversion_rate"]
    assert then["leads"] == 1141


# ------------------------------------------------------------- item 5: time to win (AJ)

def test_aalen_johansen_by_hand():
    g = pd.Series(["a"] * 5)
    aj = cycle.aalen_johansen(g, np.array([1, 2, 3, 4, 5.0]),
                              np.array([cycle.WON, cycle.LOST, cycle.CENSORED, cycle.WON,
                                        cycle.LOST]))
    # t=1: 5 at risk, a win -> CIF_won 1/5, S 4/5; t=2: 4 at risk, a loss -> CIF_lost
    # 4/5 * 1/4 = 1/5, S 3/5; t=3 censored; t=4: 2 at risk, a win -> CIF_won 1/5 + 3/5 *
    # 1/2 = 1/2, S 3/10; t=5: 1 at risk, a loss -> CIF_lost 1/5 + 3/10 = 1/2, S 0
    assert aj["at_risk"].tolist() == [5, 4, 3, 2, 1]
    assert aj["cif_won"].tolist() == pytest.approx([0.2, 0.2, 0.2, 0.5, 0.5])
    assert aj["cif_lost"].tolist() == pytest.approx([0, 0.2, 0.2, 0.2, 0.5])
    assert aj["open_share"].tolist() == pytest.approx([0.8, 0.6, 0.6, 0.3, 0.0])


def test_aalen_johansen_with_ties_by_hand():
    # t=2: 4 at risk, one win, one loss, one censored -> CIF_won 1/4, S 1/2; t=5: 1 at
    # risk, a win -> CIF_won 1/4 + 1/2 = 3/4
    aj = cycle.aalen_johansen(pd.Series(["a"] * 4), np.array([2, 2, 2, 5.0]),
                              np.array([cycle.WON, cycle.LOST, cycle.CENSORED, cycle.WON]))
    assert aj["days"].tolist() == [2, 5] and aj["at_risk"].tolist() == [4, 1]
    assert aj["cif_won"].tolist() == pytest.approx([0.25, 0.75])


def test_aalen_johansen_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(11)
    n = 600
    days = rng.exponential(40.0, n)  # continuous: no ties, which lifelines would jitter
    outcome = rng.choice([cycle.CENSORED, cycle.WON, cycle.LOST], n, p=[0.3, 0.3, 0.4])
    groups = pd.Series(rng.choice(["x", "y", "z"], n))
    aj = cycle.aalen_johansen(groups, days, outcome)
    for name in ("x", "y", "z"):
        mine = aj[aj["group"] == name].set_index("days")
        m = (groups == name).to_numpy()
        for code, col in ((cycle.WON, "cif_won"), (cycle.LOST, "cif_lost")):
            f = lifelines.AalenJohansenFitter(calculate_variance=False).fit(
                days[m], outcome[m], event_of_interest=code)
            oracle = f.cumulative_density_.iloc[:, 0].reindex(mine.index)
            np.testing.assert_allclose(mine[col].to_numpy(), oracle.to_numpy(), atol=1e-12)


def test_time_to_win_counts_young_open_deals():
    """Three old wins (2, 4, 20 days), three young deals still open after 5 days and one
    old deal still open: the won-only median is 4 days, the time to win is 20."""
    rows = [("w1", "2017-06-01", "2017-06-03", "won"), ("w2", "2017-06-01", "2017-06-05", "won"),
            ("w3", "2017-06-01", "2017-06-21", "won"), ("o1", "2017-06-26", None, "open"),
            ("o2", "2017-06-26", None, "open"), ("o3", "2017-06-26", None, "open"),
            ("o4", "2017-05-01", None, "open")]
    o = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "status"])
    o["owner"] = "ann"
    for c in ("created_at", "closed_at"):
        o[c] = pd.to_datetime(o[c]).astype("datetime64[us]")
    r = cycle.time_to_win(o, T("2017-07-01"), 25, "owner").iloc[0]
    # t=2: 7 at risk -> CIF 1/7, S 6/7; t=4: 6 -> CIF 2/7, S 5/7; t=5: three censored;
    # t=20: 2 at risk -> CIF 2/7 + 5/7 * 1/2 = 9/14. Half of 9/14 is 9/28 = 0.32: reached
    # at day 20 (day 4 has 2/7 = 0.29)
    assert r["won_by_horizon"] == pytest.approx(9 / 14)
    assert r["median_days_to_win"] == 20
    assert (r["deals"], r["won"], r["lost"], r["still_open"]) == (7, 3, 0, 4)
    # not known when every deal followed less than the horizon was censored before it
    assert np.isnan(cycle.time_to_win(o[o["opportunity_id"] != "o4"], T("2017-07-01"), 25,
                                      "owner").iloc[0]["median_days_to_win"])


def test_tile_shows_time_to_win_not_time_to_any_close(demo_store):
    from reporting import presentation as rp
    from reporting.context import build

    ctx = build(region="EMEA", period="2026-09", store=str(demo_store))
    f = ctx.a.headline["current"]
    tile = {t["label"]: t for t in rp.kpis(ctx)}["Median cycle (won)"]
    # plain words on the tile (issue 16); the method is in the methodology appendix
    assert "time to win counting the deals still open" in tile["note"]
    assert "Aalen-Johansen" not in tile["note"]
    assert f"{f['median_days_to_win']:,.0f} days" in tile["note"]
    assert "km_median_days" not in f
    # every rating sits on the tile of the figure it rates
    tiles = {t["label"]: t for t in rp.kpis(ctx)}
    assert tiles["Open deals per rep"]["rating"] == ctx.a.ratings.get("load")
    assert tiles["Stale open deals"]["rating"] == ctx.a.ratings.get("stale_share")
    assert tiles["Lead conversion"]["rating"] == ctx.a.ratings.get("lead_conversion")
    assert tiles["Win rate"]["rating"] == ctx.a.ratings.get("win_rate")
    assert tiles["Median cycle (won)"]["rating"] == ctx.a.ratings.get("median_cycle_days_won")
    assert tiles["Average won deal"]["rating"] == ctx.a.ratings.get("avg_won_amount")


def test_maven_time_to_win_against_lifelines(tmp_path):
    """Maven's Central deals created in the 12 months to 2017-09-30 (whole days, so ties:
    lifelines jitters them, hence the tolerance)."""
    lifelines = pytest.importorskip("lifelines")
    from reporting.ingest import ingest_paths
    from reporting.store import load

    store = tmp_path / "crm.duckdb"
    ingest_paths([shared("maven_crm")], "maven", store)
    p = parse_period("2017-09")
    o = load(store, region="Central", until=p.end).opportunities
    r = cycle.time_to_win(o, p.end, 107, None).iloc[0]
    mine = o[o["created_at"] >= p.end - pd.DateOffset(months=12)]
    closed = mine["closed_at"].notna() & (mine["closed_at"] < p.end)
    days = ((mine["closed_at"].where(closed, p.end) - mine["created_at"]).dt.days).to_numpy()
    code = np.where(~closed, 0, np.where(mine["status"] == "won", 1, 2))
    f = lifelines.AalenJohansenFitter(calculate_variance=False, seed=1).fit(
        days, code, event_of_interest=1)
    cif = f.cumulative_density_.iloc[:, 0]
    assert r["won_by_horizon"] == pytest.approx(cif[cif.index <= 107].iloc[-1], abs=0.01)
    assert r["median_days_to_win"] == 70  # measured; the won-only median is 70 too
