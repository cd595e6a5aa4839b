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
