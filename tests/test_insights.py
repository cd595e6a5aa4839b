"""The demo's planted rep behaviours are each surfaced by name, with their figures."""

from __future__ import annotations

import pandas as pd
import pytest

from reporting import demo
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.store import load, replace_all

from .conftest import DEMO_END


@pytest.fixture(scope="module")
def full_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("full") / "crm.duckdb"
    replace_all(path, demo.generate(seed=7, scale=1.0, end=DEMO_END))
    return path


@pytest.fixture(scope="module")
def findings_by_region(full_store):
    p = parse_period("2026-10")
    s = load_settings()
    out = {}
    for region in demo.REGIONS:
        d = load(full_store, region=region, since=p.start - pd.DateOffset(months=25), until=p.end)
        a = analyse(d.opportunities, p, s, d.reps, d.stage_history, d.leads, d.revenue,
                    d.accounts, d.available())
        out[region] = a.findings
    return out


@pytest.mark.parametrize("behaviour, metric", [
    ("many_deals_long_cycles", "median_cycle_days_won"),
    ("bloated_stale_pipeline", "open_count"),
    ("mostly_small_deals", "median_won_amount"),
    ("won_customers_churn_fast", "churn_rate"),
    ("expanding_account_manager", "expansion_per_account"),
])
def test_planted_behaviour_is_a_finding(findings_by_region, behaviour, metric):
    name = demo.PLANTED[behaviour]
    hits = [f for fs in findings_by_region.values() for f in fs
            if f.subject == name and f.metric == metric]
    assert hits, f"{name} ({behaviour}) not surfaced"
    f = hits[0]
    assert name in f.text and f.value != f.reference
    # the finding's text carries its figure
    assert any(ch.isdigit() for ch in f.text)


def test_findings_are_ranked_and_few(findings_by_region):
    for fs in findings_by_region.values():
        assert [f.score for f in fs] == sorted((f.score for f in fs), reverse=True)
        assert len(fs) <= 12  # a manager reads them all


# --- issue 15: pipeline movement findings -------------------------------------------------
def test_slipping_rep_is_a_movement_finding(full_store):
    """The demo's slipping rep, from LATAM's slice as a report loads it, over the 12 months
    to the period end (measured, seed 7 scale 1: 42 pushes on 63 deals, every one past a
    quarter end, 0.67 a deal against a median rep's 0.08)."""
    from reporting.insights import movement_findings
    from reporting.metrics.movement import slippage
    from reporting.metrics.velocity import velocity_change

    p = parse_period("2026-10")
    d = load(full_store, region="LATAM", since=p.start - pd.DateOffset(months=25), until=p.end)
    slip = slippage(d.opportunities, d.opportunity_history, p.end - pd.DateOffset(months=12),
                    p.end)
    name = demo.PLANTED["deals_slip_quarter_after_quarter"]
    assert slip.iloc[0]["group"] == name
    fs = movement_findings(slip, velocity_change(d.opportunities, p, by="team"))
    hits = [f for f in fs if f.subject == name]
    assert len(hits) == 1 and hits[0].metric == "quarter_pushes_per_deal"
    assert name in hits[0].text and "past a quarter end" in hits[0].text
    assert hits[0].value >= 4 * hits[0].reference
    assert any(f.metric == "velocity_change" for f in fs)


def _slip(rows):
    return pd.DataFrame(rows, columns=["group", "deals", "pushes", "pushes_per_deal",
                                       "quarter_pushes", "quarter_pushes_per_deal",
                                       "share_pushed_twice", "value_pushed_out"])


def test_movement_findings_thresholds():
    """Quarter pushes per deal 0.5 against a median of 0.1 (5x): a finding; at 0.15 (1.5x
    the median) none; a rep with 8 deals is not judged."""
    from reporting.insights import movement_findings

    base = [("b", 20, 4, 0.2, 2, 0.1, 0.0, 0.0), ("c", 20, 2, 0.1, 2, 0.1, 0.0, 0.0),
            ("d", 30, 3, 0.1, 3, 0.1, 0.0, 0.0), ("tiny", 8, 8, 1.0, 8, 1.0, 0.5, 10.0)]
    fs = movement_findings(_slip(base + [("a", 20, 12, 0.6, 10, 0.5, 0.25, 1234.0)]))
    assert [f.subject for f in fs] == ["a"]
    assert fs[0].text == ("a's deals slip: 10 of 12 close-date pushes on 20 open deals moved "
                          "a deal past a quarter end (0.50 a deal, 5.0x the median rep's "
                          "0.10); 25% of the deals were pushed twice or more and 1,234 was "
                          "pushed out of the period.")
    assert movement_findings(_slip(base + [("a", 20, 3, 0.15, 3, 0.15, 0.0, 0.0)])) == []


def test_velocity_finding_names_the_main_factor():
    from reporting.insights import movement_findings

    vc = pd.DataFrame([{"group": "all", "velocity_prev": 20.0, "velocity": 45.0,
                        "change": 25.0, "open_deals_effect": 6.88, "win_rate_effect": 12.5,
                        "avg_won_effect": 12.0, "cycle_effect": -6.38,
                        "main_factor": "win rate", "note": None}])
    (f,) = movement_findings(_slip([]), vc)
    assert f.text == ("Sales velocity rose from 20 to 45 a day; win rate moved it most "
                      "(+12 a day, 33% of the factors' combined effect).")
    nodec = vc.assign(open_deals_effect=float("nan"), main_factor=None,
                      note="not decomposable: win rate is 0 in 2026-09")
    assert movement_findings(_slip([]), nodec) == []


@pytest.mark.parametrize("behaviour, metric", [
    ("many_deals_long_cycles", "median_cycle_days_won"),
    ("bloated_stale_pipeline", "open_count"),
    ("mostly_small_deals", "median_won_amount"),
])
def test_planted_rep_findings_name_the_reps_deals(full_store, findings_by_region, behaviour,
                                                  metric):
    """Each rep finding leads to its deals: the rep's own, of the kind the finding is
    about (stale and open at the period end, won slowly, won small)."""
    name = demo.PLANTED[behaviour]
    p = parse_period("2026-10")
    for region, fs in findings_by_region.items():
        hits = [f for f in fs if f.subject == name and f.metric == metric]
        if not hits:
            continue
        f = hits[0]
        assert f.deal_ids and f.deals_label
        d = load(full_store, region=region, since=p.start - pd.DateOffset(months=25),
                 until=p.end).opportunities.set_index("opportunity_id").loc[list(f.deal_ids)]
        assert (d["owner"] == name).all()
        if metric == "open_count":
            assert ((d["created_at"] < p.end) & (d["closed_at"].isna() | (d["closed_at"] >= p.end))).all()
        else:
            assert ((d["status"] == "won") & (d["closed_at"] >= p.start)
                    & (d["closed_at"] < p.end)).all()
        if metric == "median_won_amount":
            assert (d["amount"] < f.reference).all()
        amounts = d["amount"].fillna(-1).tolist()
        assert amounts == sorted(amounts, reverse=True)  # largest first
        return
    pytest.fail(f"{name} not surfaced")
