"""Report kinds (reporting.kinds): the scorecard, roll-up and trend reports each go to their
own folder and never replace another kind's; the month split of a range; the roll-up's
rows and the trend's series worked out by hand."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from reporting import kinds
from reporting.exceptions import ParamsError
from reporting.metrics.rollup import TOTAL, region_rollup
from reporting.metrics.scorecard import OVER_CAPACITY, capacity_flag
from reporting.metrics.trend import monthly_series
from reporting.params import load_settings
from reporting.periods import parse_period, split_months, trend_months
from reporting.presentation import METRICS_MIME
from reporting.runner import output_dir_for

# --------------------------------------------------------------------------- periods


def test_a_range_of_months_is_read_as_whole_months():
    p = parse_period("2025-01..2026-11")
    assert (p.kind, p.start, p.end) == ("range", pd.Timestamp("2025-01-01"),
                                        pd.Timestamp("2026-12-01"))
    assert p.label == "2025-01-01..2026-11-30"  # the same label (and folder) as the days
    with pytest.raises(ParamsError, match="ends before it starts"):
        parse_period("2026-03..2026-01")


def test_split_months_of_a_range():
    months = split_months(parse_period("2025-11..2026-02"))
    assert [m.label for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert all(m.kind == "month" for m in months)
    assert months[0].start == pd.Timestamp("2025-11-01")
    assert months[-1].end == pd.Timestamp("2026-03-01")
    # a quarter, a year, a range of days on month boundaries: their months
    assert [m.label for m in split_months(parse_period("2026-Q2"))] == [
        "2026-04", "2026-05", "2026-06"]
    assert len(split_months(parse_period("2025"))) == 12
    assert len(split_months(parse_period("2025-01-01..2025-06-30"))) == 6
    with pytest.raises(ParamsError, match="not whole months"):
        split_months(parse_period("2025-01-15..2025-06-30"))


def test_trend_months():
    one = trend_months(parse_period("2026-11"))  # one month: the 12 ending with it
    assert [one[0].label, one[-1].label, len(one)] == ["2025-12", "2026-11", 12]
    assert len(trend_months(parse_period("2025-01..2026-11"))) == 23
    with pytest.raises(ParamsError, match="2 to 36 months"):
        trend_months(parse_period("2020-01..2026-11"))
    with pytest.raises(ParamsError, match="2 to 36 months"):
        trend_months(parse_period("2026-11"), months=1)


# --------------------------------------------------------------------------- folders


def test_each_kind_has_its_own_folder(tmp_path):
    p = "2026-10"
    monthly = output_dir_for(tmp_path, p, "EMEA", "EMEA Inside")
    card = output_dir_for(tmp_path, p, "EMEA", "EMEA Inside", kind="scorecard")
    trend = output_dir_for(tmp_path, p, "EMEA", kind="trend")
    rollup = output_dir_for(tmp_path, p, "all", kind="rollup")
    base = tmp_path.resolve() / p
    assert monthly == base / "emea--emea-inside"
    assert card == base / "scorecards" / "emea--emea-inside"
    assert trend == base / "trend" / "emea"
    assert rollup == base / "rollup"
    assert output_dir_for(tmp_path, p, "EMEA", kind="monthly") == base / "emea"
    with pytest.raises(ParamsError, match="report kind 'weekly'"):
        output_dir_for(tmp_path, p, "EMEA", kind="weekly")


@pytest.mark.parametrize("region", ["Scorecards", "TREND", "Rollup", "All Regions"])
def test_a_region_never_takes_a_kind_folder(tmp_path, region):
    from reporting.scope import Scopes

    d = output_dir_for(tmp_path, "2026-10", region)
    plain = region.lower().replace(" ", "-")
    assert d.name != plain and d.name.startswith(plain + "-")
    s = Scopes({region: [], "EMEA": []})
    assert s.folder(region) == d.name and s.folder("EMEA") == "emea"


def test_kind_folders_stay_inside_the_reports_folder(tmp_path):
    """A kind folder planted as a link out of reports/ is refused like any other."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    reports = tmp_path / "reports"
    (reports / "2026-10").mkdir(parents=True)
    (reports / "2026-10" / "scorecards").symlink_to(outside)
    with pytest.raises(ParamsError, match="leads outside the reports folder"):
        output_dir_for(reports, "2026-10", "EMEA", kind="scorecard")


def test_kind_of_a_notebook():
    assert kinds.resolve(None, None) == ("monthly", "monthly_sales_report")
    assert kinds.resolve(None, "rep_scorecard") == ("scorecard", "rep_scorecard")
    assert kinds.resolve("trend", None) == ("trend", "trend_report")
    assert kinds.resolve(None, "/x/my_report.ipynb") == ("monthly", "/x/my_report.ipynb")
    assert kinds.resolve("scorecard", "/x/cards.ipynb") == ("scorecard", "/x/cards.ipynb")


def test_run_request_and_plan_by_kind(demo_store, tmp_path):
    from reporting.cli import run_request
    from reporting.runs import plan

    for kind, where in (("scorecard", "scorecards/emea--emea-inside"),
                        ("trend", "trend/emea--emea-inside")):
        req = run_request("2026-09", "EMEA", "EMEA Inside", store=demo_store,
                          reports=tmp_path, kind=kind)
        (spec,) = req.reports
        assert spec.kind == kind and spec.notebook == kinds.get(kind).notebook
        (job,) = plan(req)[0]
        assert job.kind == kind
        assert job.output_dir() == tmp_path.resolve() / "2026-09" / where
        assert job.manifest["parameters_all"]["kind"] == kind
    # the roll-up: one report for the company whatever the regions
    req = run_request("2026-09", store=demo_store, reports=tmp_path, kind="rollup")
    (job,) = plan(req)[0]
    assert (job.region, job.label, job.output_dir()) == (
        "all", "rollup", tmp_path.resolve() / "2026-09" / "rollup")
    # a trend of every region comes with the company's
    jobs = plan(run_request("2026-09", store=demo_store, reports=tmp_path, kind="trend"))[0]
    assert jobs[0].label == "all regions (trend)"
    assert jobs[0].output_dir() == tmp_path.resolve() / "2026-09" / "trend" / "all-regions"
    assert len(jobs) == 1 + len({j.region for j in jobs[1:]}) > 2
    # the monthly report's inputs (and so its fingerprint) are as before
    (job,) = plan(run_request("2026-09", "EMEA", store=demo_store, reports=tmp_path))[0]
    assert "kind" not in job.manifest["parameters_all"] and job.label == "EMEA"
    with pytest.raises(ParamsError, match="report kind 'weekly'"):
        run_request("2026-09", store=demo_store, reports=tmp_path, kind="weekly")
    with pytest.raises(ParamsError, match="trend report covers 2 to 36"):
        run_request("2020-01-01..2026-09-30", store=demo_store, reports=tmp_path,
                    kind="trend")


def _stub_notebook(tmp_path: Path, marker: str) -> str:
    """A report notebook that only emits what the runner needs and a marker."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('region = "x"\nteam = "all"\nperiod = ""\nstore = ""\n'
                                       'params_dir = ""\nartifacts = ""\nlanguage = "en"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(textwrap.dedent(f"""
        from IPython.display import HTML, display
        display({{{METRICS_MIME!r}: {{'region': region, 'team': team, 'language': 'en',
                 'headline': {{}}}}}}, raw=True)
        display(HTML('<p>{marker}</p>'))"""))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / f"{marker}.ipynb"
    nbformat.write(nb, path)
    return str(path)


def test_scorecard_and_monthly_report_never_overwrite_each_other(demo_store, tmp_path):
    from reporting.batch import write_indexes
    from reporting.runner import read_manifest, run_report

    reports = tmp_path / "reports"
    common = {"store": demo_store, "reports_dir": reports, "render_timeout": None}
    month = run_report("EMEA", "2026-09", "EMEA Inside",
                       notebook=_stub_notebook(tmp_path, "monthly-marker"), **common)
    card = run_report("EMEA", "2026-09", "EMEA Inside", kind="scorecard",
                      notebook=_stub_notebook(tmp_path, "scorecard-marker"), **common)
    assert month.output_dir != card.output_dir
    assert card.output_dir.parent.name == "scorecards"
    assert "monthly-marker" in month.html.read_text()
    assert "scorecard-marker" in card.html.read_text()
    assert read_manifest(card.output_dir)["kind"] == "scorecard"
    assert "<title>Rep scorecards — EMEA / EMEA Inside, September 2026" in card.html.read_text()
    before = card.pdf.read_bytes()
    again = run_report("EMEA", "2026-09", "EMEA Inside",
                       notebook=_stub_notebook(tmp_path, "monthly-again"), **common)
    assert "monthly-again" in again.html.read_text()
    assert card.pdf.read_bytes() == before and "scorecard-marker" in card.html.read_text()
    (index,) = write_indexes(reports, ["2026-09"])
    html = index.read_text()
    assert "<h2>Rep scorecards</h2>" in html
    assert 'href="scorecards/emea--emea-inside/report.pdf"' in html
    assert 'href="emea--emea-inside/report.pdf"' in html


# --------------------------------------------------------------------------- scorecard


def test_capacity_flag_is_a_word():
    assert capacity_flag(34, 25) == OVER_CAPACITY == "over capacity"
    assert capacity_flag(25, 25) is None  # at capacity is not over it
    assert capacity_flag(3, None) is None and capacity_flag(3, 0) is None
    assert capacity_flag(np.nan, 10) is None


# --------------------------------------------------------------------------- roll-up

OCT = parse_period("2026-10")


def _deal(i, region, status, amount, created, closed=None, team=None, owner=None):
    return {"opportunity_id": f"D{i}", "owner": owner or f"rep-{region}", "region": region,
            "team": team or f"{region} team", "status": status, "amount": float(amount),
            "stage": "Negotiation" if status == "open" else status,
            "created_at": pd.Timestamp(created),
            "closed_at": pd.Timestamp(closed) if closed else pd.NaT,
            "last_activity_at": pd.NaT, "expected_close_date": pd.NaT}


def _frame(rows):
    return pd.DataFrame(rows).astype({"created_at": "datetime64[us]",
                                      "closed_at": "datetime64[us]",
                                      "last_activity_at": "datetime64[us]",
                                      "expected_close_date": "datetime64[us]"})


def _rollup_opps():
    return _frame([
        # North: 1 won of 1 closed (100%), 10 days to win, 1,000
        _deal(1, "North", "won", 1000, "2026-10-01", "2026-10-11"),
        # South: 1 won of 3 closed (33%), 30 days to win, 3,000; two lost
        _deal(2, "South", "won", 3000, "2026-09-15", "2026-10-15"),
        _deal(3, "South", "lost", 500, "2026-09-01", "2026-10-05"),
        _deal(4, "South", "lost", 700, "2026-09-01", "2026-10-20"),
        # open at the end of October: North one of 2,000, South one of 5,000
        _deal(5, "North", "open", 2000, "2026-09-20"),
        _deal(6, "South", "open", 5000, "2026-10-25"),
        # closed before October and created after it: in no figure of the month
        _deal(7, "North", "won", 9999, "2026-08-01", "2026-09-10"),
        _deal(8, "South", "open", 8888, "2026-11-03"),
    ])


def test_rollup_rows_and_a_total_over_all_deals():
    quotas = pd.DataFrame([("region", "North", "2026-10", 2000.0, "USD"),
                           ("region", "South", "2026-10", 6000.0, "USD")],
                          columns=["scope_type", "scope", "period", "amount", "currency"])
    r = region_rollup(_rollup_opps(), OCT, load_settings(None), quotas).set_index("region")
    assert list(r.index) == ["North", "South", TOTAL]
    assert r["is_total"].tolist() == [False, False, True]
    north, south, total = r.loc["North"], r.loc["South"], r.loc[TOTAL]
    assert (north["won_count"], north["closed"], north["win_rate"]) == (1, 1, 1.0)
    assert (south["won_count"], south["closed"]) == (1, 3)
    assert south["win_rate"] == pytest.approx(1 / 3)
    # the company: 2 won of 4 closed = 50%, not the mean of the regions' rates (66.7%)
    assert (total["won_count"], total["closed"], total["win_rate"]) == (2, 4, 0.5)
    assert total["win_rate"] != pytest.approx((1.0 + 1 / 3) / 2)
    assert (north["won_value"], south["won_value"], total["won_value"]) == (1000, 3000, 4000)
    assert total["avg_won_amount"] == 2000  # 4,000 / 2 deals, not the mean of 1,000 and 3,000
    assert north["median_cycle_days_won"] == 10 and south["median_cycle_days_won"] == 30
    assert total["median_cycle_days_won"] == 20  # median of 10 and 30 days
    assert (north["open_count"], north["open_value"]) == (1, 2000)
    assert (south["open_count"], south["open_value"]) == (1, 5000)
    assert (total["open_count"], total["open_value"]) == (2, 7000)
    # quotas: 1,000 / 2,000 and 3,000 / 6,000 is 50% each; the company 4,000 / 8,000
    assert north["attainment"] == 0.5 and south["attainment"] == 0.5
    assert (total["quota"], total["attainment"]) == (8000, 0.5)
    # ratings are words: a win rate on 1 or 3 closed deals is too uncertain to judge
    assert north["win_rate_rating"] == "too few deals to judge"
    assert total["attainment_rating"] == "bad"  # 50% < the 85% bad line


def test_rollup_without_quotas_or_settings():
    r = region_rollup(_rollup_opps(), OCT).set_index("region")
    assert r["quota"].isna().all() and r["attainment"].isna().all()
    assert (r["coverage_note"] == "no quota").all()
    assert r["win_rate_rating"].isna().all()
    assert r["forecast_value"].isna().all()


def test_rollup_takes_the_forecast_as_given():
    fc = pd.DataFrame({"value": [10.0, 20.0, 30.0], "low": [1.0, 2.0, 3.0],
                       "high": [100.0, 200.0, 300.0]}, index=["North", "South", TOTAL])
    r = region_rollup(_rollup_opps(), OCT, forecast=fc).set_index("region")
    assert r.loc[TOTAL, ["forecast_value", "forecast_low", "forecast_high"]].tolist() == [
        30.0, 3.0, 300.0]


# --------------------------------------------------------------------------- trend


def test_trend_series_by_hand():
    opps = _frame([
        # August: one won (1,000 in 10 days), one lost
        _deal(1, "N", "won", 1000, "2026-07-25", "2026-08-04"),
        _deal(2, "N", "lost", 400, "2026-07-01", "2026-08-20"),
        # September: nothing closes; October: two won (2,000 and 4,000 in 20 and 40 days)
        _deal(3, "N", "won", 2000, "2026-09-21", "2026-10-11"),
        _deal(4, "N", "won", 4000, "2026-09-01", "2026-10-11"),
        # open throughout: 500
        _deal(5, "N", "open", 500, "2026-07-15"),
    ])
    months = split_months(parse_period("2026-08..2026-10"))
    s = monthly_series(opps, months).set_index("month")
    assert list(s.index) == ["2026-08", "2026-09", "2026-10"]
    assert s["won_count"].tolist() == [1, 0, 2]
    assert s["won_value"].tolist() == [1000, 0, 6000]
    assert s["closed"].tolist() == [2, 0, 2]
    assert s.loc["2026-08", "win_rate"] == 0.5 and math.isnan(s.loc["2026-09", "win_rate"])
    assert s.loc["2026-10", "win_rate"] == 1.0
    assert s.loc["2026-08", "median_cycle_days_won"] == 10
    assert s.loc["2026-10", "median_cycle_days_won"] == 30
    assert s.loc["2026-10", "avg_won_amount"] == 3000
    assert s["created"].tolist() == [0, 2, 0]
    # open at each month end: end of August, deals 3 and 4 are not created yet, deal 5 is
    # open; end of September, 3, 4 and 5 (their amounts then are unknown: 3 and 4 closed
    # since, so 2 of 3 unknown is not computable); end of October, only 5
    assert s["open_count"].tolist() == [1, 3, 1]
    assert s.loc["2026-08", "open_value"] == 500
    assert math.isnan(s.loc["2026-09", "open_value"])
    assert s.loc["2026-10", "open_value"] == 500


def test_trend_open_pipeline_as_known_at_each_month_end():
    """With a deal history, the open value at a month end is the amount recorded then."""
    opps = _frame([_deal(1, "N", "won", 9000, "2026-08-10", "2026-10-05")])
    from reporting.schema import empty_frame

    hist = pd.DataFrame({
        "opportunity_id": ["D1", "D1", "D1"],
        "valid_from": pd.to_datetime(["2026-08-10", "2026-09-15", "2026-10-05"]),
        "valid_to": pd.to_datetime(["2026-09-15", "2026-10-05", None]),
        "status": ["open", "open", "won"], "stage": ["Qualify", "Negotiation", "won"],
        "amount": [1000.0, 3000.0, 9000.0], "owner": ["rep-N"] * 3,
        "stage_since": pd.to_datetime(["2026-08-10", "2026-09-15", "2026-10-05"])})
    versions = pd.concat([empty_frame("opportunity_history"), hist], ignore_index=True).astype(
        {"valid_from": "datetime64[us]", "valid_to": "datetime64[us]",
         "stage_since": "datetime64[us]"})
    months = split_months(parse_period("2026-08..2026-10"))
    s = monthly_series(opps, months, deal_history=versions).set_index("month")
    assert s["open_count"].tolist() == [1, 1, 0]
    assert s["open_value"].tolist() == [1000, 3000, 0]


@pytest.mark.slow  # executes the scorecard notebook (one team of the small demo store)
def test_scorecard_report_has_one_page_per_rep(demo_store, tmp_path):
    from pypdf import PdfReader

    from reporting.runner import NOTEBOOKS, run_report

    res = run_report("EMEA", "2026-09", "EMEA Inside", store=demo_store,
                     reports_dir=tmp_path, kind="scorecard",
                     notebook=NOTEBOOKS / "rep_scorecard.ipynb")
    assert res.output_dir == tmp_path.resolve() / "2026-09" / "scorecards" / "emea--emea-inside"
    texts = [p.extract_text() for p in PdfReader(res.pdf).pages]
    appendix = next(i for i, t in enumerate(texts) if "Appendix B" in t)
    reps = {r["group"] for r in res.metrics["by_rep"]}
    # the overview, then exactly one page per rep (its name heads the page), then the appendix
    assert sorted(t.split("\n")[0].strip() for t in texts[1:appendix]) == sorted(reps)
    assert res.pages == len(texts) == 1 + len(reps) + (len(texts) - appendix)
    # page one: the header and the team at a glance, a row per rep linking to the rep's page
    assert "Rep scorecards" in texts[0] and "The team at a glance" in texts[0]
    assert all(rep in texts[0] for rep in reps)
    html = res.html.read_text()
    from reporting.presentation.scorecards import rep_anchor

    for rep in reps:
        assert f'href="#{rep_anchor(rep)}"' in html and f'id="{rep_anchor(rep)}"' in html
    from openpyxl import load_workbook

    assert "Reps at a glance" in load_workbook(res.output_dir / "report.xlsx").sheetnames
    assert "<title>Rep scorecards — EMEA / EMEA Inside, September 2026" in res.html.read_text()


def test_scheduled_kinds_take_the_same_run_path(tmp_path, demo_store):
    """schedule.yaml entries name a kind; run-due builds the same specs as `run --kind`."""
    from datetime import date

    from reporting.runs import plan
    from reporting.schedule import Schedule
    from reporting.scheduler import request_for

    schedule = Schedule.model_validate({"reports": [
        {"name": "cards", "kind": "scorecard", "regions": ["EMEA"],
         "teams": ["EMEA/EMEA Inside"], "catch_up": 1},
        {"name": "company", "kind": "rollup", "catch_up": 1},
        {"name": "trend", "kind": "trend", "regions": ["EMEA"], "catch_up": 1}]})
    req = request_for(schedule, date(2026, 10, 15), demo_store, tmp_path, None)
    assert [(s.kind, s.notebook, s.periods) for s in req.reports] == [
        ("scorecard", "rep_scorecard", ("2026-09",)), ("rollup", "company_rollup", ("2026-09",)),
        ("trend", "trend_report", ("2026-09",))]
    jobs = plan(req)[0]
    base = tmp_path.resolve() / "2026-09"
    assert sorted(str(j.output_dir().relative_to(base)) for j in jobs) == [
        "rollup", "scorecards/emea", "scorecards/emea--emea-inside", "trend/emea"]


def test_trend_charts_read_right():
    import matplotlib

    matplotlib.use("Agg")
    from reporting import plots_trend

    f = pd.DataFrame({"start": pd.date_range("2025-12-01", periods=12, freq="MS"),
                      "won_value": np.arange(12) * 1500.0, "won_count": np.arange(12),
                      "win_rate": np.linspace(0.2, 0.3, 12),
                      "median_cycle_days_won": np.arange(12) + 20.0,
                      "avg_won_amount": np.arange(12) * 100.0, "open_value": np.nan})
    fig = plots_trend.trend_panels(f, "EUR")
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in axes] == [p[1] for p in plots_trend.PANELS]
    fig.canvas.draw()
    money = [t.get_text() for t in axes[0].get_yticklabels()]
    # amounts as the tables write them (one format per unit): '€0', '€5K'
    assert money[0] == "€0" and all(t.startswith("€") for t in money)
    assert "€15K" in money
    assert all(t.get_text().endswith("%") for t in axes[2].get_yticklabels())
    counts = [t.get_text() for t in axes[1].get_yticklabels()]
    assert all("." not in t for t in counts)  # integer ticks for counts
    assert axes[0].get_xticklabels()[0].get_text() == "Dec 25"
    # no month has an open value: the panel says so instead of an axis of zeros
    assert [t.get_text() for t in axes[5].texts] == ["not computable"]
    assert plots_trend.month_label(pd.Timestamp("2026-11-01"), "fa") == "نوامبر ۲۶"
    # Jalali: the day the month starts, as the table's row says it (1 Nov 2026 = 10 Aban 1405)
    assert plots_trend.month_label(pd.Timestamp("2026-11-01"), "fa", "jalali") == "۱۰ آبان\n۱۴۰۵"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_rollup_counts_and_values_add_up_and_rates_come_from_the_totals():
    """Property: over any deals, the company row's counts and values are the sums of the
    regions', and its rates are computed from those sums (never averaged)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    deal = st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["won", "lost", "open"]),
                     st.integers(0, 5000), st.integers(0, 90), st.integers(1, 60))

    @settings(max_examples=10, deadline=None)
    @given(st.lists(deal, min_size=1, max_size=25))
    def check(rows):
        opps = _frame([
            _deal(i, region, status, amount,
                  OCT.start - pd.Timedelta(days=age), None if status == "open" else
                  OCT.start + pd.Timedelta(days=min(closed, 30)))
            for i, (region, status, amount, age, closed) in enumerate(rows)])
        r = region_rollup(opps, OCT)
        regions, total = r[~r["is_total"]], r[r["is_total"]].iloc[0]
        for col in ("won_count", "lost", "closed", "open_count"):
            assert total[col] == regions[col].sum()
        assert total["won_value"] == pytest.approx(regions["won_value"].sum())
        if total["closed"]:
            assert total["win_rate"] == pytest.approx(total["won_count"] / total["closed"])
        if total["won_count"]:
            assert total["avg_won_amount"] == pytest.approx(
                total["won_value"] / total["won_count"])

    check()


def test_rollup_tables_show_ratings_as_words_and_the_total_last():
    from reporting.kind_context import KindContext
    from reporting.presentation.rollup import rollup_notes, rollup_tables
    from reporting.store import Dataset

    quotas = pd.DataFrame([("region", "North", "2026-10", 2000.0, "USD"),
                           ("region", "South", "2026-10", 6000.0, "USD")],
                          columns=["scope_type", "scope", "period", "amount", "currency"])
    s = load_settings(None)
    frame = region_rollup(_rollup_opps(), OCT, s, quotas)
    for lang, total_name, caption in (("en", "Company total", "Bookings and targets"),
                                      ("fa", "جمع شرکت", "فروش ثبت‌شده و اهداف")):
        ctx = KindContext("rollup", "all", "all", OCT, s, Dataset(_rollup_opps()), frame, lang,
                          forecast_period=OCT.next())
        bookings, conversion = rollup_tables(ctx)
        assert bookings["caption"] == caption
        last = bookings["rows"][-1]
        assert last["total"] and last["cells"][0]["text"] == total_name
        attainment = [c["label"] for c in bookings["columns"]].index(ctx.t("Attainment"))
        assert last["cells"][attainment]["rating"] == "bad"  # the word is in the template
        assert conversion["rows"][0]["cells"][1]["rating"] == "too few deals to judge"
        assert len(rollup_notes(ctx)) >= 2


# ---------------------------------------------------------------- bookings resting on one deal


def test_largest_won_deal_and_its_share_by_hand():
    from reporting.metrics.core import largest_won

    opps = _frame([
        # North: one deal won: its share is 100%, but one deal is not "resting on one"
        _deal(1, "North", "won", 1000, "2026-09-01", "2026-10-05"),
        # South: 3,000 + 500 + 500 won in October: the largest is 75% -> concentrated
        _deal(2, "South", "won", 3000, "2026-09-01", "2026-10-05"),
        _deal(3, "South", "won", 500, "2026-09-01", "2026-10-06"),
        _deal(4, "South", "won", 500, "2026-09-01", "2026-10-07"),
        # not in October's bookings: won in September, lost in October, open
        _deal(5, "South", "won", 90000, "2026-08-01", "2026-09-30"),
        _deal(6, "South", "lost", 80000, "2026-09-01", "2026-10-08"),
        _deal(7, "South", "open", 70000, "2026-09-01"),
        # East: 2,000 + 1,000 + 1,000 (50%: at the line) and a win without an amount, which
        # counts as a deal won but cannot be the largest
        _deal(8, "East", "won", 2000, "2026-09-01", "2026-10-05"),
        _deal(9, "East", "won", 1000, "2026-09-01", "2026-10-05"),
        _deal(10, "East", "won", 1000, "2026-09-01", "2026-10-05"),
        _deal(11, "East", "won", 0, "2026-09-01", "2026-10-05"),
    ])
    opps.loc[opps["opportunity_id"] == "D11", "amount"] = float("nan")
    r = largest_won(opps, OCT, "region").set_index("group")
    assert r.loc["North", ["opportunity_id", "amount", "share", "won_count"]].tolist() == [
        "D1", 1000, 1.0, 1]
    assert not r.loc["North", "concentrated"]
    assert r.loc["South", ["opportunity_id", "amount", "won_count"]].tolist() == ["D2", 3000, 3]
    assert r.loc["South", "share"] == pytest.approx(0.75) and r.loc["South", "concentrated"]
    assert r.loc["East", "share"] == pytest.approx(0.5) and r.loc["East", "won_count"] == 4
    assert r.loc["East", "concentrated"]  # at least half is "rests on one deal"
    total = largest_won(opps, OCT, None).set_index("group").loc["all"]
    assert total["opportunity_id"] == "D2" and total["share"] == pytest.approx(3000 / 9000)
    assert len(largest_won(opps.iloc[:0], OCT)) == 0


def test_largest_won_is_the_largest_and_its_share_a_share():
    """Property: over any deals, the largest won deal of a group is at least every other
    deal the group won in the period, its share is in (0, 1], and a group is concentrated
    exactly when the share is at least half with three or more deals won."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from reporting.metrics.core import CONCENTRATION_MIN_WON, CONCENTRATION_SHARE, largest_won
    from reporting.metrics.filters import won_in_period

    deal = st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["won", "lost", "open"]),
                     st.integers(1, 5000), st.integers(-20, 40))

    @settings(max_examples=30, deadline=None)
    @given(st.lists(deal, min_size=1, max_size=20))
    def check(rows):
        opps = _frame([_deal(i, g, status, amount, OCT.start - pd.Timedelta(days=60),
                             None if status == "open" else OCT.start + pd.Timedelta(days=day))
                       for i, (g, status, amount, day) in enumerate(rows)])
        won = opps[won_in_period(opps, OCT)]
        r = largest_won(opps, OCT, "region").set_index("group")
        assert set(r.index) == set(won["region"])
        for g, row in r.iterrows():
            mine = won[won["region"] == g]
            assert row["amount"] == mine["amount"].max()
            assert 0 < row["share"] <= 1
            assert row["share"] == pytest.approx(row["amount"] / mine["amount"].sum())
            assert row["concentrated"] == (row["share"] >= CONCENTRATION_SHARE
                                           and len(mine) >= CONCENTRATION_MIN_WON)

    check()


def test_rollup_and_trend_say_when_bookings_rest_on_one_deal():
    from reporting.kind_context import KindContext
    from reporting.presentation.rollup import rollup_notes, rollup_tables
    from reporting.presentation.trend import best_month_note
    from reporting.store import Dataset

    opps = pd.concat([_rollup_opps(), _frame([
        _deal(20, "South", "won", 40000, "2026-09-01", "2026-10-21"),
        _deal(21, "South", "won", 2000, "2026-09-01", "2026-10-22")])], ignore_index=True)
    s = load_settings(None)
    frame = region_rollup(opps, OCT, s).set_index("region", drop=False)
    # South won 3,000 + 40,000 + 2,000 = 45,000: the 40,000 deal is 89%; North one deal
    assert frame.loc["South", "concentrated"] and not frame.loc["North", "concentrated"]
    assert frame.loc["South", "largest_won_share"] == pytest.approx(40000 / 45000)
    assert frame.loc[TOTAL, "concentrated"]  # 40,000 of 46,000, the same deal
    ctx = KindContext("rollup", "all", "all", OCT, s, Dataset(opps),
                      frame.reset_index(drop=True), "en")
    bookings = rollup_tables(ctx)[0]
    south = next(r for r in bookings["rows"] if r["cells"][0]["text"] == "South")
    assert south["cells"][1] == {"text": "$45K", "rating": None, "note": "one deal is 89%"}
    notes = [n for n in rollup_notes(ctx) if "one deal" in n]
    # the company's total rests on the same deal: said once, for the region
    assert notes == ["South: one deal of $40K is 89% of the bookings of $45K; without it $5K."]
    fa = KindContext("rollup", "all", "all", OCT, s, Dataset(opps),
                     frame.reset_index(drop=True), "fa")
    (note,) = [n for n in rollup_notes(fa) if "یک معامله" in n]
    assert "۴۰\xa0هزار\xa0دلار" in note and "۸۹٪" in note  # Babel's no-break spaces
    # the trend: the sentence for the best month only when it rests on one deal
    months = split_months(parse_period("2026-09..2026-10"))
    series = monthly_series(opps, months)
    tctx = KindContext("trend", "South", "all", parse_period("2026-09..2026-10"), s,
                       Dataset(opps), series, "en", months=months)
    assert best_month_note(tctx) == (
        "October 2026: one deal of $40K is 87% of the bookings of $46K; without it $6K.")
    calm = monthly_series(_rollup_opps(), months)
    assert best_month_note(KindContext("trend", "all", "all", parse_period(
        "2026-09..2026-10"), s, Dataset(_rollup_opps()), calm, "en", months=months)) is None
