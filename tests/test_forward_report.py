"""Issue 15, item 8: the forward look in the report (targets, forecast, movement), wired
from the metrics into the report's context, tiles, findings and payload.

Expected values come from the store by independent SQL or are worked out by hand."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from reporting.batch import forecast_backtest
from reporting.context import build
from reporting.metrics.movement import residual_cents
from reporting.periods import parse_period
from reporting.presentation import forecast_figures, kpis, metrics_payload

P = "2026-09"


@pytest.fixture(scope="module")
def latam(demo_store):
    return build(region="LATAM", period=P, store=str(demo_store))


def test_forecast_figures_use_the_chosen_methods_columns():
    row = {"expected_won_count": 4.0, "expected_won_amount": 1000.0, "low_total": 3.0,
           "high_total": 9.0, "low_amount": 600.0, "high_amount": 1500.0,
           "expected_new_won_count": 2.0, "expected_new_won_amount": 100.0,
           "naive_won_count": 8.0, "naive_won_amount": 2400.0, "weighted_won_count": 5.0,
           "weighted_pipeline": 1300.0, "commit_count": 1, "commit": 700.0, "quota": 2200.0}
    model = forecast_figures({"method": "model", "total": row})
    # open deals' 1,000 + new deals' 100; range 600..1,500 + 100; 1,100 / 2,200 of quota
    assert (model["value"], model["count"]) == (1100.0, 6.0)
    assert (model["low_value"], model["high_value"]) == (700.0, 1600.0)
    assert (model["low"], model["high"]) == (3.0, 9.0)
    assert model["vs_quota"] == 0.5 and model["naive_value"] == 2500.0
    weighted = forecast_figures({"method": "weighted", "total": row})
    # 1,300 + 100 new; no range: only the model has one
    assert weighted["value"] == 1400.0 and weighted["low_value"] is None
    assert forecast_figures({"method": "category", "total": row})["value"] == 800.0
    assert forecast_figures(None) == {}


def test_attainment_per_rep_is_the_won_value_in_the_store(latam, demo_store):
    con = duckdb.connect(str(demo_store), read_only=True)
    won = con.execute(
        "SELECT owner, SUM(amount) FROM opportunities WHERE status = 'won' AND region = "
        "'LATAM' AND closed_at >= '2026-09-01' AND closed_at < '2026-10-01' GROUP BY owner"
    ).fetchall()
    quota = dict(con.execute(
        "SELECT scope, amount FROM quotas WHERE scope_type = 'rep' AND period = '2026-09'"
    ).fetchall())
    con.close()
    t = latam.a.targets.set_index("group")
    for owner, value in won:
        assert t.loc[owner, "won_value"] == pytest.approx(value)
        if owner in quota:
            assert t.loc[owner, "attainment"] == pytest.approx(value / quota[owner])
    assert latam.a.headline["current"]["quota"] == pytest.approx(
        float(latam.a.targets_scope["quota"].iloc[0]))


def test_movement_reconciles_per_rep_and_for_the_scope(latam):
    mv, rep = latam.a.movement, latam.a.movement_by_rep
    assert len(mv) == 1 and residual_cents(mv.iloc[0]) == 0
    assert all(residual_cents(r) == 0 for _, r in rep.iterrows())
    # handovers move deals between reps only: the reps add up to the scope
    for col in ("start_value", "end_value", "won", "lost", "created"):
        assert rep[col].sum() == pytest.approx(mv[col].iloc[0])
    # September ends Q3: the pipeline followed is the one due by 1 October
    assert latam.a.movement_close_by == pd.Timestamp("2026-10-01")


def test_the_forecast_uses_the_method_the_backtest_chose_on_what_was_known(latam,
                                                                           demo_store):
    fc = latam.a.forecast
    bt = fc["backtest"]
    assert fc["method"] == bt["chosen"] and fc["period"].label == "2026-10"
    # every backtest origin's 30-day horizon (October has 31 days) ended by the period end
    end = parse_period(P).end
    assert bt["origins"] and all(pd.Timestamp(o) + pd.Timedelta(days=bt["horizon_days"]) <= end
                                 for o in bt["origins"])
    # a report of an earlier month chooses on earlier origins only
    earlier = forecast_backtest(str(demo_store), parse_period("2026-06"))
    assert max(earlier["origins"]) < max(bt["origins"])
    names = {r["method"] for r in bt["table"]}
    assert {"model", "naive", "weighted"} <= names


def test_the_summary_opens_with_bookings_against_quota_and_the_forecast(latam):
    tiles = kpis(latam)
    assert tiles[0]["label"] == "Bookings" and "quota" in tiles[0]["note"]
    assert tiles[1]["label"] == "Forecast, October 2026"
    assert tiles[1]["value"].startswith("$")  # the currency on every amount
    payload = json.loads(json.dumps(metrics_payload(latam)))
    assert payload["forecast"]["method"] == latam.a.forecast["method"]
    assert payload["headline"]["quota"]["unit"] == "USD"
    assert len(payload["movement"]) == 1 and payload["targets"]


def test_a_store_without_quotas_or_history_says_so(maven_forecast_store):
    ctx = build(region="Central", period="2017-06", store=str(maven_forecast_store))
    f = ctx.a.headline["current"]
    assert f["quota"] is None and f["attainment"] is None
    assert kpis(ctx)[0]["note"].endswith("no quota set for the period")
    assert ctx.a.targets["quota"].isna().all()
    mv = ctx.a.movement.iloc[0]
    assert not bool(mv["history_known"]) and residual_cents(mv) in (0, None)
    assert ctx.a.forecast is not None and ctx.a.forecast["backtest"]["chosen"]
