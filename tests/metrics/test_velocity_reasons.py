"""Issue 15, requirements 6 and 7: sales velocity with its exact LMDI decomposition, and
win / loss reasons; plus the public Maven export (no deal history) through movement,
velocity and reasons. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.exceptions import ParamsError
from reporting.metrics.movement import (
    NO_HISTORY_NOTE,
    pipeline_movement,
    residual_count,
    slippage,
)
from reporting.metrics.reasons import loss_reasons, win_reasons
from reporting.metrics.velocity import FACTORS, lmdi, log_mean, velocity, velocity_change
from reporting.periods import parse_period

from ..conftest import shared

OCT = parse_period("2026-10")  # previous: 2026-09
T = pd.Timestamp


def deal(i, owner, created, closed, status, amount=None, reason=None, team="T1"):
    return dict(opportunity_id=i, owner=owner, team=team, region="R", created_at=T(created),
                closed_at=T(closed) if closed else pd.NaT, status=status, amount=amount,
                lost_reason=reason)


# Rep A. September: open at 09-01 W1, W2, L1, L2 (4); W1 won 100 after 10 days, W2 300
# after 30 days, L1 and L2 lost: win rate 0.5, average won 200, cycle 20 days:
# V0 = 4 x 0.5 x 200 / 20 = 20 a day. October: open at 10-01 W3, W4, W5, L3, O1 (5; W5 was
# created at 09-01 00:00, so not open at 09-01); W3, W4, W5 won 200, 200, 500 after 15, 25,
# 35 days, L3 lost: win rate 0.75, average 300, cycle 25: V1 = 5 x 0.75 x 300 / 25 = 45.
# Rep B: September only a loss (win rate 0: velocity 0), October WB won 400 after 20 days
# with 1 open deal: V1 = 1 x 1 x 400 / 20 = 20.
DEALS = [
    deal("W1", "A", "2026-08-25", "2026-09-04", "won", 100),
    deal("W2", "A", "2026-08-20", "2026-09-19", "won", 300),
    deal("L1", "A", "2026-08-01", "2026-09-10", "lost", 50, "Price"),
    deal("L2", "A", "2026-08-01", "2026-09-12", "lost", 70, "Price"),
    deal("W3", "A", "2026-09-20", "2026-10-05", "won", 200),
    deal("W4", "A", "2026-09-10", "2026-10-05", "won", 200),
    deal("W5", "A", "2026-09-01", "2026-10-06", "won", 500),
    deal("L3", "A", "2026-09-15", "2026-10-20", "lost", 90, "Timing"),
    deal("O1", "A", "2026-09-05", None, "open", 1000),
    deal("LB", "B", "2026-08-01", "2026-09-15", "lost", 10, None, team="T2"),
    deal("WB", "B", "2026-09-20", "2026-10-10", "won", 400, team="T2"),
]


@pytest.fixture(scope="module")
def opps():
    o = pd.DataFrame(DEALS)
    for c in ("created_at", "closed_at"):
        o[c] = o[c].astype("datetime64[us]")
    return o


def test_velocity_hand_computed(opps):
    v = velocity(opps[opps["owner"] == "A"], OCT).iloc[0]
    assert (v["open_deals"], v["won"], v["closed"]) == (5, 3, 4)
    assert v["win_rate"] == 0.75 and v["avg_won"] == 300 and v["cycle_days"] == 25
    assert v["velocity"] == pytest.approx(45)


def test_lmdi_hand_computed(opps):
    """L(45, 20) = 25 / ln 2.25 and ln 2.25 = 2 ln 1.5, so the win-rate and deal-size
    effects are 25 ln 1.5 / (2 ln 1.5) = 12.5 each; open deals 25 ln 1.25 / ln 2.25 =
    6.8792 and the cycle (20 -> 25 days, slower) -6.8792: 6.8792 + 12.5 + 12.5 - 6.8792 = 25."""
    c = velocity_change(opps, OCT, by="rep").set_index("group")
    a = c.loc["A"]
    assert a["velocity_prev"] == pytest.approx(20) and a["velocity"] == pytest.approx(45)
    assert a["change"] == pytest.approx(25)
    assert a["win_rate_effect"] == pytest.approx(12.5, rel=1e-12)
    assert a["avg_won_effect"] == pytest.approx(12.5, rel=1e-12)
    assert a["open_deals_effect"] == pytest.approx(6.87925, abs=1e-5)
    assert a["cycle_effect"] == pytest.approx(-6.87925, abs=1e-5)
    assert a["main_factor"] in ("win rate", "average won deal") and a["note"] is None
    assert list(c.columns[:10]) == ["velocity_prev", "velocity", "change", "open_deals_effect",
                                    "win_rate_effect", "avg_won_effect", "cycle_effect",
                                    "main_factor", "note", "open_deals_prev"]
    # B won nothing in September: velocity 0 then, a change of 20, not decomposable
    b = c.loc["B"]
    assert b["velocity_prev"] == 0 and b["velocity"] == pytest.approx(20)
    assert b["change"] == pytest.approx(20)
    assert b["note"] == "not decomposable: win rate is 0 in 2026-09"
    assert np.isnan(b[["open_deals_effect", "win_rate_effect", "avg_won_effect",
                       "cycle_effect"]].astype(float)).all() and b["main_factor"] is None


def test_not_computable_factor_is_said(opps):
    """Only O1 (created 09-05, open): nothing open at 09-01 (open deals 0 in September);
    in November nothing closed in either month: win rate not computable, velocity NaN."""
    only_open = opps[opps["opportunity_id"] == "O1"]
    c = velocity_change(only_open, OCT).iloc[0]
    assert np.isnan(c["velocity"]) and np.isnan(c["change"])
    assert c["note"] == "not decomposable: open deals is 0 in 2026-09"
    c = velocity_change(only_open, parse_period("2026-11")).iloc[0]
    assert c["open_deals_prev"] == 1 and c["open_deals"] == 1
    assert c["note"] == "not decomposable: win rate not computable in 2026-10"
    with pytest.raises(ParamsError, match="no column 'segment'"):
        velocity(opps, OCT, by="segment")


POS = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.tuples(POS, POS, POS, POS), st.tuples(POS, POS, POS, POS))
def test_lmdi_effects_sum_to_the_change(x0, x1):
    prev, cur = dict(zip(FACTORS, x0, strict=True)), dict(zip(FACTORS, x1, strict=True))
    v0 = prev["open_deals"] * prev["win_rate"] * prev["avg_won"] / prev["cycle_days"]
    v1 = cur["open_deals"] * cur["win_rate"] * cur["avg_won"] / cur["cycle_days"]
    e = lmdi(prev, cur)
    assert math.fsum(e.values()) == pytest.approx(v1 - v0, rel=1e-9, abs=1e-9 * max(v0, v1))


def test_log_mean():
    assert log_mean(5.0, 5.0) == 5.0
    assert log_mean(math.e, 1.0) == pytest.approx(math.e - 1)
    # found by hypothesis: two values one bit apart (ln a - ln b rounds to 0)
    assert log_mean(8.99991, 8.999910000000002) == pytest.approx(8.99991, rel=1e-15)
    assert log_mean(1.0 + 1e-12, 1.0) == pytest.approx(1.0, rel=1e-11)


def test_reasons_hand_computed():
    """Lost in October: Price x3 (100, 200, unknown), Timing 500, "<b>Budget</b>" 50, and
    three without a reason (None, "", "  "): 8 lost, 3 without a reason = 0.375. Price's
    value 300 of 850 known."""
    rows = [deal(f"x{i}", "A", "2026-09-01", "2026-10-10", "lost", a, r) for i, (a, r) in
            enumerate([(100, "Price"), (200, " Price"), (None, "Price"), (500, "Timing"),
                       (50, "<b>Budget</b>"), (0, None), (0, ""), (0, "  ")])]
    rows.append(deal("y", "A", "2026-09-01", "2026-09-10", "lost", 10, "Price"))  # September
    o = pd.DataFrame(rows)
    r = loss_reasons(o, OCT, top=2)
    assert list(r["reason"]) == ["Price", "Timing"]
    price = r.iloc[0]
    assert (price["rank"], price["count"], price["value"]) == (1, 3, 300)
    assert price["share"] == pytest.approx(3 / 8)
    assert price["value_share"] == pytest.approx(300 / 850)
    assert (price["closed"], price["without_reason"]) == (8, 3)
    assert price["share_without_reason"] == pytest.approx(0.375)
    top = loss_reasons(o, OCT, top=5)
    assert "<b>Budget</b>" in set(top["reason"])  # plain text, never markup or escaped here
    # by rep; a source without the column: empty; win reasons need a won_reason column
    assert loss_reasons(o.drop(columns="lost_reason"), OCT).empty
    assert win_reasons(o, OCT).empty
    w = o.assign(status="won", won_reason="Best fit")
    assert win_reasons(w, OCT).iloc[0]["reason"] == "Best fit"


def test_reasons_per_team(opps):
    r = loss_reasons(opps, parse_period("2026-09"), by="team").set_index("group")
    # T1: L1, L2 Price (50 + 70); T2: LB without a reason: one row, no reason
    assert r.loc["T1", "reason"] == "Price" and r.loc["T1", "value"] == 120
    assert r.loc["T2", "count"] == 0 and r.loc["T2", "share_without_reason"] == 1.0
    assert pd.isna(r.loc["T2", "reason"])


# --------------------------------------------------------------------------- public data
@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    from reporting.ingest import ingest_paths
    from reporting.store import load

    path = tmp_path_factory.mktemp("maven") / "crm.duckdb"
    ingest_paths([shared("maven_crm")], "maven", path)
    return load(path)


def test_maven_without_history(maven):
    """Maven is one export: its versions start at the export, so June 2017 has no deal
    history. Measured: Central holds 371 open deals at 2017-06-01, 281 created, 216 won, 32
    lost, 404 at the end (371 + 281 - 216 - 32 = 404); every amount is unknown then (open
    deals carry no close_value), so the value is not computable, not 0."""
    p = parse_period("2017-06")
    o, v = maven.opportunities, maven.opportunity_history
    m = pipeline_movement(o, v, p.start, p.end, by="region").set_index("group")
    c = m.loc["Central"]
    assert (c["start_count"], c["created_count"], c["won_count"], c["lost_count"],
            c["end_count"]) == (371, 281, 216, 32, 404)
    for _, r in m.reset_index().iterrows():
        assert residual_count(r) == 0
    assert not m["value_computable"].any() and m["start_value"].isna().all()
    assert (m["pushed_out_count"] == 0).all() and not m["history_known"].any()
    assert m.attrs["notes"] == [NO_HISTORY_NOTE]
    assert slippage(o, v, p.start, p.end)["pushes_per_deal"].isna().all()
    # velocity decomposes exactly; Maven records no loss reasons
    vc = velocity_change(o, p, by="region")
    assert vc["note"].isna().all()
    eff = vc[["open_deals_effect", "win_rate_effect", "avg_won_effect", "cycle_effect"]]
    assert np.allclose(eff.sum(axis=1), vc["change"], rtol=1e-9, atol=0)
    r = loss_reasons(o, p, by="region")
    assert (r["share_without_reason"] == 1.0).all() and r["reason"].isna().all()


def test_demo_velocity_decomposes_exactly(demo_tables):
    o = demo_tables["opportunities"]
    vc = velocity_change(o, parse_period("2026-Q3"), by="rep")
    ok = vc[vc["note"].isna()]
    assert len(ok) >= 10
    eff = ok[["open_deals_effect", "win_rate_effect", "avg_won_effect", "cycle_effect"]]
    assert np.allclose(eff.sum(axis=1), ok["change"], rtol=1e-9, atol=0)
    bad = vc[vc["note"].notna()]
    assert bad["open_deals_effect"].isna().all()
    assert bad["note"].str.startswith("not decomposable").all()
