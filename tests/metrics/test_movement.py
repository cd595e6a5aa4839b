"""Issue 15, requirement 5: pipeline movement (the waterfall reconciles to the cent) and
close-date slippage.

The fixture deals below are small stories whose waterfall is worked out by hand in the
comments; a hypothesis test checks the identity, the group sums and the end points against
``history.state_at`` on random histories; the demo store checks it against the store's own
SQL as-of view and finds the planted slipping rep."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.exceptions import ParamsError
from reporting.history import state_at
from reporting.metrics.movement import (
    COMPONENTS,
    EXTRAS,
    NO_HISTORY_NOTE,
    SIGN,
    movement_deals,
    pipeline_movement,
    residual_cents,
    residual_count,
    slippage,
    slipped_deals,
)

T = pd.Timestamp
NaT = pd.NaT
START, END = "2026-10-01", "2026-11-01"
CLOSE_BY = "2026-11-01"  # the October pipeline: expected to close before November


def opp(i, created, status, amount, closed=None, exp=None, owner="A", team="T1",
        deleted=None):
    return dict(opportunity_id=i, owner=owner, team=team, region="R", created_at=T(created),
                status=status, amount=amount, closed_at=T(closed) if closed else NaT,
                expected_close_date=T(exp) if exp else NaT,
                deleted_at=T(deleted) if deleted else NaT)


def ver(i, f, t, status, amount, close, owner="A"):
    return dict(opportunity_id=i, valid_from=T(f), valid_to=T(t) if t else NaT, status=status,
                amount=amount, close_date=T(close), owner=owner, stage=None, currency="USD",
                probability=np.nan, forecast_category=None, origin="crm", stage_since=T(f))


def frames(opp_rows, ver_rows):
    o = pd.DataFrame(opp_rows)
    for c in ("created_at", "closed_at", "expected_close_date", "deleted_at"):
        o[c] = o[c].astype("datetime64[us]")
    v = pd.DataFrame(ver_rows) if ver_rows else None
    if v is not None:
        for c in ("valid_from", "valid_to", "close_date", "stage_since"):
            v[c] = v[c].astype("datetime64[us]")
    return o, v


# The stories (owner A, team T1 unless said):
# D1 pushed out then pulled back: 1,000 in at start; 10-05 close 10-20 -> 12-15 (pushed out
#    1,000); 10-15 back to 10-28 (pulled in 1,000); in at end.
# D2 amount up then won: 500.10 at start; 10-10 -> 800.35 (increased 300.25); won 10-20 (800.35).
# D3 reopened: lost on 09-15; reopened 10-12 at 200, close 10-25: reopened 200, in at end.
# D4 owner handover A -> B on 10-08 with an amount change 300 -> 350: overall increased 50;
#    per rep: A transferred out 300, B transferred in 300 and increased 50; B's at end.
# D5 deleted on 10-18 at 400 (its last version ends there; the row has deleted_at).
# D6 created 10-03 at 600 and lost 10-22: created 600, lost 600.
# D7 created 10-05 with an unknown amount (and won since, so the current amount does not
#    say what it was): created, worth nothing known; 10-09 amount 700 (amount set 700); won
#    10-25 at 900: leaves at its pipeline amount, won 700.
# D8 no history: created 10-07, open, 250, expected 10-20: created 250, in at end.
# D9 expected to close 12-31 all along: never in the October pipeline.
OPPS = [
    opp("D1", "2026-08-01", "open", 1000, exp="2026-10-28"),
    opp("D2", "2026-09-01", "won", 800.35, closed="2026-10-20"),
    opp("D3", "2026-07-01", "open", 200, exp="2026-10-25"),
    opp("D4", "2026-09-10", "open", 350, exp="2026-10-31", owner="B", team="T2"),
    opp("D5", "2026-09-01", "open", 400, exp="2026-10-30", deleted="2026-10-18"),
    opp("D6", "2026-10-03", "lost", 600, closed="2026-10-22"),
    opp("D7", "2026-10-05", "won", 900, closed="2026-10-25"),
    opp("D8", "2026-10-07", "open", 250, exp="2026-10-20"),
    opp("D9", "2026-09-01", "open", 5000, exp="2026-12-31"),
]
VERS = [
    ver("D1", "2026-08-01", "2026-10-05", "open", 1000, "2026-10-20"),
    ver("D1", "2026-10-05", "2026-10-15", "open", 1000, "2026-12-15"),
    ver("D1", "2026-10-15", None, "open", 1000, "2026-10-28"),
    ver("D2", "2026-09-01", "2026-10-10", "open", 500.10, "2026-10-30"),
    ver("D2", "2026-10-10", "2026-10-20", "open", 800.35, "2026-10-30"),
    ver("D2", "2026-10-20", None, "won", 800.35, "2026-10-20"),
    ver("D3", "2026-07-01", "2026-09-15", "open", 200, "2026-09-10"),
    ver("D3", "2026-09-15", "2026-10-12", "lost", 200, "2026-09-15"),
    ver("D3", "2026-10-12", None, "open", 200, "2026-10-25"),
    ver("D4", "2026-09-10", "2026-10-08", "open", 300, "2026-10-31"),
    ver("D4", "2026-10-08", None, "open", 350, "2026-10-31", owner="B"),
    ver("D5", "2026-09-01", "2026-10-18", "open", 400, "2026-10-30"),
    ver("D6", "2026-10-03", "2026-10-22", "open", 600, "2026-10-29"),
    ver("D6", "2026-10-22", None, "lost", 600, "2026-10-22"),
    ver("D7", "2026-10-05", "2026-10-09", "open", np.nan, "2026-10-30"),
    ver("D7", "2026-10-09", "2026-10-25", "open", 700, "2026-10-30"),
    ver("D7", "2026-10-25", None, "won", 900, "2026-10-25"),
    ver("D9", "2026-09-01", None, "open", 5000, "2026-12-31"),
]


@pytest.fixture(scope="module")
def stories():
    return frames(OPPS, VERS)


def test_hand_computed_waterfall(stories):
    o, v = stories
    m = pipeline_movement(o, v, START, END, close_by=CLOSE_BY)
    assert list(m.columns[:10]) == ["group", "start_value", *COMPONENTS, "end_value"]
    r = m.iloc[0]
    assert r["group"] == "all"
    # start: D1 1,000 + D2 500.10 + D4 300 + D5 400 (D3 lost then, D9 out of the horizon)
    want = {"start_value": 2200.10, "created": 850.0, "pulled_in": 1000.0,
            "increased": 350.25, "decreased": 0.0, "pushed_out": 1000.0, "won": 1500.35,
            "lost": 600.0, "reopened": 200.0, "restored": 0.0, "deleted": 400.0,
            "transferred_in": 0.0, "transferred_out": 0.0, "amount_set": 700.0,
            "amount_cleared": 0.0, "end_value": 1800.0}
    for k, x in want.items():
        assert r[k] == pytest.approx(x, abs=1e-9), k
    # 2200.10 + 850 + 1000 + 350.25 - 1000 - 1500.35 - 600 + 200 - 400 + 700 = 1800
    assert residual_cents(r) == 0
    counts = {"start_count": 4, "created_count": 3, "pulled_in_count": 1, "increased_count": 2,
              "pushed_out_count": 1, "won_count": 2, "lost_count": 1, "reopened_count": 1,
              "deleted_count": 1, "amount_set_count": 1, "end_count": 4}
    for k, x in counts.items():
        assert r[k] == x, k
    assert residual_count(r) == 0
    assert r["unknown_moves"] == 1  # D7 created with an unknown amount
    assert r["deals"] == 9 and r["history_deals"] == 8 and not r["history_known"]
    assert "8 of 9" in m.attrs["notes"][0]


def test_per_rep_handover(stories):
    o, v = stories
    m = pipeline_movement(o, v, START, END, close_by=CLOSE_BY, by="rep").set_index("group")
    assert list(m.index) == ["A", "B"]
    a, b = m.loc["A"], m.loc["B"]
    assert a["transferred_out"] == 300 and a["transferred_in"] == 0
    assert a["increased"] == pytest.approx(300.25)  # D2 only
    assert a["end_value"] == 1450  # D1 1,000 + D3 200 + D8 250
    assert b["start_value"] == 0 and b["transferred_in"] == 300 and b["increased"] == 50
    assert b["end_value"] == 350 and b["end_count"] == 1
    for _, r in m.reset_index().iterrows():
        assert residual_cents(r) == 0 and residual_count(r) == 0
    # by team the group is the deal's team: no transfer, D4's whole story is T2's
    t = pipeline_movement(o, v, START, END, close_by=CLOSE_BY, by="team").set_index("group")
    assert t.loc["T2", "start_value"] == 300 and t.loc["T2", "increased"] == 50
    assert t["transferred_in"].sum() == 0


def test_deals_behind_the_bars(stories):
    o, v = stories
    d = movement_deals(o, v, START, END, close_by=CLOSE_BY)
    key = {(r.opportunity_id, r.component): r for r in d.itertuples()}
    assert key[("D1", "pushed_out")].amount == 1000 and key[("D1", "pulled_in")].amount == 1000
    assert key[("D4", "increased")].owner == "B"  # the owner when it moved
    assert np.isnan(key[("D7", "created")].amount) and not key[("D7", "created")].amount_known
    assert key[("D7", "won")].amount == 700
    assert sorted(d.loc[d["component"] == "end", "opportunity_id"]) == ["D1", "D3", "D4", "D8"]
    # the bars are the sums of their deals
    m = pipeline_movement(o, v, START, END, close_by=CLOSE_BY).iloc[0]
    for comp, amount in d.groupby("component")["amount"].sum().items():
        col = {"start": "start_value", "end": "end_value"}.get(comp, comp)
        assert m[col] == pytest.approx(amount)


def test_without_history_what_dates_tell(stories):
    """No versions: the current rows only. At the start D1 1,000, D2 (won since: amount
    unknown), D3 200 (open now, its loss and reopening unknown), D4 350 and D5 400 (open,
    deleted 10-18): 1,950, 5 deals, 1 unknown. D6, D7 (closed since: unknown) and D8 250
    created; D2, D7 won and D6 lost with unknown amounts; D5 deleted 400. End: 1,800."""
    o, _ = stories
    m = pipeline_movement(o, None, START, END, close_by=CLOSE_BY)
    r = m.iloc[0]
    assert (r["start_value"], r["start_count"], r["start_unknown_count"]) == (1950, 5, 1)
    assert (r["created"], r["created_count"]) == (250, 3)
    assert (r["won"], r["won_count"], r["lost"], r["lost_count"]) == (0, 2, 0, 1)
    assert (r["deleted"], r["end_value"], r["end_count"]) == (400, 1800, 4)
    for k in ("pulled_in", "pushed_out", "increased", "decreased"):
        assert r[k] == 0
    assert residual_cents(r) == 0 and residual_count(r) == 0
    assert not r["history_known"] and m.attrs["notes"] == [NO_HISTORY_NOTE]
    assert not m.attrs["history_known"]


def test_no_horizon_means_every_open_deal(stories):
    """close_by None: D9 (5,000) is in all along and nothing is pushed or pulled."""
    o, v = stories
    r = pipeline_movement(o, v, START, END).iloc[0]
    assert r["start_value"] == pytest.approx(7200.10) and r["end_value"] == 6800
    assert r["pushed_out"] == 0 and r["pulled_in"] == 0
    assert residual_cents(r) == 0


def test_restored_after_a_gap_and_amount_cleared():
    """E1: deleted 10-10 (versions stop), restored 10-20 (versions resume): deleted 100,
    restored 100. E2: amount 80 then unknown on 10-05 (a deal closed since, so no current
    amount to fall back on) then lost on 10-25: amount cleared 80, lost with unknown amount."""
    o, v = frames(
        [opp("E1", "2026-09-01", "open", 100, exp="2026-10-30"),
         opp("E2", "2026-09-01", "lost", 80, closed="2026-10-25")],
        [ver("E1", "2026-09-01", "2026-10-10", "open", 100, "2026-10-30"),
         ver("E1", "2026-10-20", None, "open", 100, "2026-10-30"),
         ver("E2", "2026-09-01", "2026-10-05", "open", 80, "2026-10-30"),
         ver("E2", "2026-10-05", "2026-10-25", "open", np.nan, "2026-10-30"),
         ver("E2", "2026-10-25", None, "lost", np.nan, "2026-10-25")])
    r = pipeline_movement(o, v, START, END, close_by=CLOSE_BY).iloc[0]
    assert (r["deleted"], r["restored"], r["amount_cleared"]) == (100, 100, 80)
    assert (r["lost"], r["lost_count"], r["unknown_moves"]) == (0, 1, 1)
    assert (r["start_value"], r["end_value"]) == (180, 100)
    assert residual_cents(r) == 0 and residual_count(r) == 0


def test_bad_parameters(stories):
    o, v = stories
    with pytest.raises(ParamsError, match="by='product'"):
        pipeline_movement(o, v, START, END, by="product")
    with pytest.raises(ParamsError, match="before start"):
        pipeline_movement(o, v, END, START)


# --------------------------------------------------------------------------- hypothesis
BASE = T("2026-01-01")
AMOUNTS = st.sampled_from([np.nan, 0.0, 0.01, 99.99, 250.0, 1234.56, 5000.0])


@st.composite
def histories(draw):
    n = draw(st.integers(1, 8))
    opp_rows, ver_rows = [], []
    for i in range(n):
        oid = f"H{i}"
        t = BASE + pd.Timedelta(hours=draw(st.integers(0, 24 * 60)))
        created = t
        versions = []
        for _ in range(draw(st.integers(0, 5))):
            status = draw(st.sampled_from(["open", "open", "open", "won", "lost"]))
            close = (BASE + pd.Timedelta(days=draw(st.integers(0, 120)))).normalize()
            versions.append([t, None, status, draw(AMOUNTS), close,
                             draw(st.sampled_from(["A", "B", "C", None]))])
            t = t + pd.Timedelta(hours=draw(st.integers(1, 24 * 30)))
        deleted = None
        if versions and draw(st.booleans()) and draw(st.booleans()):
            deleted = t  # the last version ends at the deletion
        for k, vv in enumerate(versions):
            vv[1] = versions[k + 1][0] if k + 1 < len(versions) else deleted
            ver_rows.append(ver(oid, vv[0], vv[1], vv[2], vv[3], vv[4], owner=vv[5]))
        last = versions[-1] if versions else None
        status = last[2] if last else draw(st.sampled_from(["open", "won", "lost"]))
        amount = last[3] if last else draw(AMOUNTS)
        if status != "open" and np.isnan(amount):
            amount = 10.0
        if last and status != "open":
            k = len(versions) - 1
            while k > 0 and versions[k - 1][2] == status:
                k -= 1
            closed = versions[k][0]
        elif status != "open":
            closed = created + pd.Timedelta(days=draw(st.integers(0, 90)))
        else:
            closed = None
        exp = (last[4] if last else (BASE + pd.Timedelta(days=draw(st.integers(0, 120))))
               ) if status == "open" else None
        owner = (last[5] if last and last[5] else draw(st.sampled_from(["A", "B"])))
        opp_rows.append(opp(oid, created, status, amount, closed=closed, exp=exp, owner=owner,
                            team=draw(st.sampled_from(["T1", "T2"])), deleted=deleted))
    start = BASE + pd.Timedelta(days=draw(st.integers(0, 90)))
    end = start + pd.Timedelta(days=draw(st.integers(0, 60)))
    close_by = draw(st.one_of(st.none(), st.just(end),
                              st.just(end + pd.Timedelta(days=30))))
    return opp_rows, ver_rows, start, end, close_by


def _pipeline_at(o, v, when, close_by):
    """The pipeline at ``when`` from ``history.state_at``: count, cents, unknown count."""
    s = state_at(o, v, when)
    inp = s["status"].eq("open")
    if close_by is not None:
        inp &= s["expected_close_date"].isna() | (s["expected_close_date"] < close_by)
    a = s.loc[inp, "amount"]
    return int(inp.sum()), int(np.round(a.dropna() * 100).sum()), int(a.isna().sum())


@settings(max_examples=25, deadline=None)
@given(histories())
def test_random_histories_reconcile(h):
    opp_rows, ver_rows, start, end, close_by = h
    o, v = frames(opp_rows, ver_rows)
    whole = pipeline_movement(o, v, start, end, close_by=close_by).iloc[0]
    assert residual_count(whole) == 0
    assert residual_cents(whole) == (0 if whole["value_computable"] else None)
    # the known amounts reconcile whether or not the value is computable
    d = movement_deals(o, v, start, end, close_by=close_by)
    bar = d.groupby("component")["amount"].sum().map(lambda x: round(x * 100))
    net = sum(SIGN[c] * bar.get(c, 0) for c in SIGN) + bar.get("start", 0) - bar.get("end", 0)
    assert net == 0
    for by in ("rep", "team"):
        g = pipeline_movement(o, v, start, end, close_by=close_by, by=by)
        for _, r in g.iterrows():
            assert residual_count(r) == 0
            assert residual_cents(r) == (0 if r["value_computable"] else None)
        # the groups add up to the whole; handovers net out
        for c in ("start", "end", *COMPONENTS, *EXTRAS):
            if not c.startswith("transferred"):
                assert g[f"{c}_count"].sum() == whole[f"{c}_count"], (by, c)
        assert g["transferred_in_count"].sum() == g["transferred_out_count"].sum()
        if g["value_computable"].all() and whole["value_computable"]:
            for c in ("start_value", "end_value", *COMPONENTS, *EXTRAS):
                if not c.startswith("transferred"):
                    assert round(g[c].sum() * 100) == round(whole[c] * 100), (by, c)
            assert round(g["transferred_in"].sum() * 100) == round(
                g["transferred_out"].sum() * 100)
    # the end points are the pipeline state_at gives (deleted deals aside: state_at does not
    # read deleted_at)
    if o["deleted_at"].isna().all():
        for when, k in ((start, "start"), (end, "end")):
            n, cents, unknown = _pipeline_at(o, v, when, close_by)
            assert whole[f"{k}_count"] == n
            assert bar.get(k, 0) == cents
            assert whole[f"{k}_unknown_count"] == unknown
    nohist = pipeline_movement(o, None, start, end, close_by=close_by).iloc[0]
    assert residual_count(nohist) == 0
    assert residual_cents(nohist) == (0 if nohist["value_computable"] else None)


# --------------------------------------------------------------------------- demo store
@pytest.fixture(scope="module")
def demo_data(demo_store):
    from reporting.store import load

    return load(demo_store)


@pytest.mark.parametrize("month", ["2026-03", "2026-09"])
def test_demo_store_reconciles_and_matches_the_sql_view(demo_store, demo_data, month):
    """Every region and rep reconciles to the cent; the start and end values are the open
    pipeline the store's SQL as-of view gives (an independent implementation)."""
    from reporting.periods import parse_period
    from reporting.store import opportunities_as_of

    p = parse_period(month)
    o, v = demo_data.opportunities, demo_data.opportunity_history
    for close_by in (p.end, None):
        reg = pipeline_movement(o, v, p.start, p.end, close_by=close_by, by="region")
        assert len(reg) == 4 and reg["history_known"].all()
        for _, r in reg.iterrows():
            assert residual_cents(r) == 0 and residual_count(r) == 0
        rep = pipeline_movement(o, v, p.start, p.end, close_by=close_by, by="rep")
        for _, r in rep.iterrows():
            assert residual_cents(r) == 0 and residual_count(r) == 0
        for when, k in ((p.start, "start"), (p.end, "end")):
            s = opportunities_as_of(demo_store, when)
            inp = s["status"].eq("open")
            if close_by is not None:
                inp &= s["expected_close_date"].isna() | (s["expected_close_date"] < close_by)
            want = (np.round(s.loc[inp, "amount"] * 100)).groupby(s.loc[inp, "region"]).sum()
            got = reg.set_index("group")[f"{k}_value"]
            assert (np.round(got * 100) == want.reindex(got.index).fillna(0)).all()
            assert reg[f"{k}_count"].sum() == inp.sum()
    # there is movement to reconcile: pushes, wins, losses, creations
    r = pipeline_movement(o, v, p.start, p.end, close_by=p.end).iloc[0]
    assert min(r["created_count"], r["won_count"], r["lost_count"], r["pushed_out_count"]) > 0


@pytest.fixture(scope="module")
def demo_mid(tmp_path_factory):
    """Seed 7, scale 0.5 (the scale tests/test_demo_history.py uses for the planted reps:
    the slipping rep has 78 deals)."""
    from reporting import demo
    from reporting.store import load, replace_all

    path = tmp_path_factory.mktemp("mid") / "crm.duckdb"
    replace_all(path, demo.generate(seed=7, scale=0.5, end=dt.date(2026, 10, 31)))
    return load(path)


def test_demo_slipping_rep_tops_slippage(demo_mid):
    """Measured (seed 7, scale 0.5, the 12 months to the end of 2026-Q3): Tomás Aguirre 24
    pushes on 30 deals (0.80 a deal, every one past a quarter end), next 0.56, median rep
    0.25; 727,500 pushed out of the window."""
    from reporting.demo import PLANTED

    slipper = PLANTED["deals_slip_quarter_after_quarter"]
    s = slippage(demo_mid.opportunities, demo_mid.opportunity_history, "2025-10-01",
                 "2026-10-01")
    top = s.iloc[0]
    assert top["group"] == slipper
    assert top["pushes_per_deal"] >= 1.3 * s.iloc[1]["pushes_per_deal"]
    assert top["quarter_pushes"] == top["pushes"]  # every push crosses a quarter end
    assert top["value_pushed_out"] > 0 and s["history_known"].eq(1).all()
    assert s["pushes_per_deal"].is_monotonic_decreasing


def test_slippage_hand_computed(stories):
    """D1 pushed once in October (10-20 -> 12-15, out of the window: 1,000 pushed out) and
    pulled back; D9's and the others' close dates never move later; pushes since creation
    count D1's one. D8 has no history: not known."""
    o, v = stories
    d = slipped_deals(o, v, START, END).set_index("opportunity_id")
    assert d.loc["D1", "pushes"] == 1 and d.loc["D1", "value_pushed_out"] == 1000
    assert d.loc["D1", "pushed_out_of_period"]
    assert d.loc["D1", "first_close_date"] == T("2026-10-20")
    assert d.loc["D1", "last_close_date"] == T("2026-10-28") and d.loc["D1", "days_slipped"] == 8
    assert np.isnan(d.loc["D8", "pushes"]) and not d.loc["D8", "history_known"]
    assert d.drop(index=["D1", "D8"])["pushes"].eq(0).all()
    s = slippage(o, v, START, END).set_index("group")
    # the report hands slippage the deals it already has: the same table
    pd.testing.assert_frame_equal(
        slippage(o, v, START, END, deals=slipped_deals(o, v, START, END)).set_index("group"), s)
    # A: D1, D2, D3, D5, D6, D7 with history (D4 is B's at the end), D8 without
    assert s.loc["A", "deals"] == 8 and s.loc["A", "pushes"] == 1
    assert s.loc["A", "pushes_per_deal"] == pytest.approx(1 / 7)
    assert s.loc["A", "value_pushed_out"] == 1000 and s.loc["A", "share_pushed_twice"] == 0
    assert s.loc["A", "history_known"] == pytest.approx(7 / 8)
    none = slippage(o, None, START, END)
    assert none["pushes_per_deal"].isna().all() and none["history_known"].eq(0).all()


# --------------------------------------------------------------------------- charts
def _outside(ax) -> bool:
    """The legend does not overlap the axes' plotting area."""
    fig = ax.figure
    fig.canvas.draw()
    leg = ax.get_legend().get_window_extent()
    box = ax.get_window_extent()
    return not leg.overlaps(box)


def test_charts_render(stories):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from reporting import plots
    from reporting.metrics.velocity import velocity_change
    from reporting.periods import parse_period

    o, v = stories
    row = pipeline_movement(o, v, START, END, close_by=CLOSE_BY).iloc[0]
    ax = plots.movement_waterfall(row, "EUR")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    # the extras that moved something are drawn, the others not
    assert labels[0] == "start" and labels[-1] == "end"
    assert {"reopened", "deleted", "amount set"} <= set(labels) and "restored" not in labels
    assert ax.get_ylabel() == "pipeline value (EUR)" and _outside(ax)
    assert plots.figure_png(ax, dpi=50)[:4] == b"\x89PNG"
    nohist = pipeline_movement(o.assign(amount=np.nan, status="open", closed_at=pd.NaT),
                               None, START, END).iloc[0]
    assert not nohist["value_computable"]
    ax = plots.movement_waterfall(nohist, "EUR")
    assert ax.get_ylabel() == "deals (amounts unknown)"
    assert "pushed out" not in [t.get_text() for t in ax.get_xticklabels()]
    assert plots.figure_png(ax, dpi=50)[:4] == b"\x89PNG"
    slip = pd.DataFrame({"group": list("abcdef"), "deals": [10, 12, 9, 30, 5, 2],
                         "pushes": [8, 3, 2, 6, 1, 4], "pushes_per_deal": [
                             0.8, 0.25, 2 / 9, 0.2, 0.2, 2.0],
                         "share_pushed_twice": [0.3, 0.1, 0, 0, 0, 1.0]})
    ax = plots.slippage_by_rep(slip)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "a"  # f has 2 deals: left out
    assert plots.figure_png(ax, dpi=50)[:4] == b"\x89PNG"
    opps = pd.DataFrame({
        "opportunity_id": [f"x{i}" for i in range(6)], "owner": list("aabbab"),
        "created_at": pd.to_datetime(["2026-08-01", "2026-08-05", "2026-08-01", "2026-09-01",
                                      "2026-08-20", "2026-09-03"]),
        "closed_at": pd.to_datetime(["2026-09-10", "2026-10-10", "2026-09-15", "2026-10-12",
                                     "2026-10-02", "2026-10-20"]),
        "status": ["won", "won", "won", "won", "lost", "lost"],
        "amount": [100.0, 300.0, 50.0, 80.0, 10.0, 10.0]})
    vc = velocity_change(opps, parse_period("2026-10"))
    ax = plots.velocity_effects(vc, "EUR")
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "previous"
    assert plots.figure_png(ax, dpi=50)[:4] == b"\x89PNG"
    vc2 = pd.concat([vc, vc.assign(group="other", change=-1.0)], ignore_index=True)
    ax = plots.velocity_effects(vc2, "EUR")
    assert _outside(ax) and plots.figure_png(ax, dpi=50)[:4] == b"\x89PNG"
