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


# --------------------------------------------------------------------------- issue 16: page one


def _contract_findings(ctx, evil: str = "<b>x</b>") -> list[dict]:
    """Page one's findings as the deal lists will give them: three findings, each with
    three deals of long names (the most page one has to hold)."""
    from reporting.presentation.deals import page_one_findings

    out = page_one_findings(ctx)
    while len(out) < 3:
        out.append({"text": "A finding without its figures.", "rating": None, "anchor": None,
                    "deals": []})
    for i, f in enumerate(out):
        f.update(rating=("bad", "watch", "good")[i], anchor=f"deals-finding-{i + 1}", deals=[
            {"id": f"OPP-{i}{j:05d}", "account": f"{evil} Industrias Metalúrgicas del Sur S.A.",
             "owner": "Gustavo Cardoso", "stage": "Negotiation", "amount": "USD 1,234,567",
             "age_days": "412", "last_activity": "2026-08-31"} for j in range(3)])
    return out


def test_page_one_tiles_are_the_month_and_rated_where_a_baseline_exists(latam):
    from reporting.presentation.deals import page_one_findings
    from reporting.presentation.summary import (
        PAGE_ONE_TILES,
        page_one_tiles,
        pipeline_coverage,
        verdicts,
    )

    f, r = latam.a.headline["current"], latam.a.ratings
    tiles = {t["id"]: t for t in page_one_tiles(latam)}
    assert list(tiles) == list(PAGE_ONE_TILES)
    # bookings: the value won and the count, against the quota, rated on attainment
    assert tiles["bookings"]["value"] == f"${f['won_amount'] / 1000:.1f}K"
    assert tiles["bookings"]["sub"] == f"{f['won']:,} deals won"
    assert tiles["bookings"]["rating"] == r["attainment"]
    fig = forecast_figures(latam.a.forecast)
    if fig["low_value"] is not None:  # the model's forecast has its 80% range
        assert tiles["forecast"]["note"].startswith("8 in 10: $")
    assert tiles["forecast"]["value"] == f"${fig['value'] / 1000:.1f}K"
    rated = {"win_rate": "win_rate", "cycle": "median_cycle_days_won", "open_per_rep": "load"}
    for tile, name in rated.items():
        want = r.get(name) if r.get(name) in ("good", "watch", "bad") else None
        assert tiles[tile]["rating"] == want, tile
    # coverage: September ends a quarter, so the open pipeline over October's quota
    cov, text = pipeline_coverage(latam)
    fc = latam.a.forecast
    quota = forecast_figures(fc)["quota"]
    if quota:
        assert cov == pytest.approx(fc["total"]["pipeline"] / quota)
        assert text.endswith("coverage of the October 2026 quota")
    else:
        assert cov is None and text == "no quota to cover"
    v = verdicts(latam)
    assert [x["label"] for x in v] == ["Conversion", "Sales cycle", "Deal size",
                                      "Customer value", "Open opportunities"]
    worst = [r[k] for k in ("load", "stale_share") if r.get(k) in ("good", "watch", "bad")]
    order = ["bad", "watch", "good"]
    assert v[-1]["rating"] == (min(worst, key=order.index) if worst else None)
    th = latam.a.thresholds["median_cycle_days_won"]
    assert v[1]["text"].endswith(f"good up to {th.good:,.0f} days, bad above {th.bad:,.0f} days")
    # deal size against its own last 12 months; customer value has no baseline
    size = r.get("avg_won_amount")
    assert v[2]["rating"] == (size if size in order else None)
    assert tiles["deal_size"]["rating"] == v[2]["rating"]
    if size in order:
        th = latam.a.thresholds["avg_won_amount"]
        from reporting.presentation import fmt_money

        assert v[2]["text"].endswith(f"good from {fmt_money(th.good, 'USD')}, bad below "
                                     f"{fmt_money(th.bad, 'USD')}")
    assert v[3]["rating"] is None and v[3]["text"].endswith("no baseline set")
    found = page_one_findings(latam)
    assert 1 <= len(found) <= 3
    top = latam.a.findings[0]
    assert found[0]["text"] == top.render("en") and found[0]["rating"] == top.rating
    assert found[0]["anchor"] == (top.key if top.deal_ids else None)
    assert [d["id"] for d in found[0]["deals"]] == list(top.deal_ids[:3])


@pytest.mark.parametrize("language", ["en", "fa"])
def test_page_one_fits_one_a4_page(latam, language, tmp_path):
    """The header, eight tiles, five verdicts and three findings with three deals each
    lay out on one A4 page in English and in Persian; CRM text in a deal stays text; the
    finding links to its deal list."""
    import dataclasses

    import nbformat

    from reporting.presentation.fragments import render_fragment
    from reporting.presentation.sections import masthead
    from reporting.presentation.summary import page_one_tiles, verdicts
    from reporting.render import html_to_pdf, notebook_to_html

    ctx = dataclasses.replace(latam, language=language)
    html = render_fragment("summary.html.j2", language, head=masthead(ctx),
                           tiles=page_one_tiles(ctx), verdicts=verdicts(ctx),
                           findings=_contract_findings(ctx))
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html
    assert 'href="#deals-finding-1"' in html
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html}),
                    nbformat.v4.new_output("display_data", data={"text/html": "<p>next</p>"})]
    nb.cells = [cell]
    pages = html_to_pdf(notebook_to_html(nb, "t", None, language), tmp_path / "one.pdf")
    assert pages == 2  # page one, then the page the body starts on


def test_bookings_tile_says_when_the_month_rests_on_one_deal(latam, monkeypatch):
    """The bookings tile adds the largest deal's share when the scope's bookings rest on
    one deal (reporting.metrics.core.largest_won on the report's own deals), and only
    then."""
    from reporting.metrics.core import largest_won
    from reporting.presentation import summary

    def tile(ctx):
        return next(t for t in summary.page_one_tiles(ctx) if t["label"] == ctx.t("Bookings"))

    real = largest_won(latam.opps, latam.period, None)
    assert set(latam.opps["region"].dropna()) == {"LATAM"}  # the report's own deals
    said = "one deal is" in tile(latam)["note"]
    assert said == bool(len(real) and real["concentrated"].iloc[0])
    one = pd.DataFrame({"group": ["all"], "opportunity_id": ["D1"], "amount": [900.0],
                        "share": [0.9], "won_count": [5], "concentrated": [True]})
    monkeypatch.setattr(summary, "largest_won", lambda *a, **k: one)
    assert tile(latam)["note"].endswith("; one deal is 90%")
