"""The CLI passes arguments on and turns ReportingErrors into clear messages."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reporting.cli import app

from .conftest import shared

runner = CliRunner()


def test_ingest_prints_summary_and_metrics_reads_it(tmp_path):
    store = tmp_path / "m.duckdb"
    res = runner.invoke(app, ["ingest", str(shared("maven_crm")), "--source", "maven",
                              "--store", str(store)])
    assert res.exit_code == 0, res.output
    # every Maven row is valid: the 500 Prospecting deals without an engage date are kept,
    # with a data-quality note (they used to be quarantined as "missing created_at")
    assert "8,800" in res.output and "8,920" in res.output
    assert "created_at_estimated" in res.output and "500" in res.output
    assert "quarantined rows by reason" not in res.output
    res = runner.invoke(app, ["metrics", "--period", "2017-Q2", "--by", "region",
                              "--store", str(store)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {r["group"] for r in rows} == {"Central", "East", "West"}
    for key in ("won", "lost", "win_rate", "created", "median_cycle_days_won",
                "mean_cycle_days_won", "median_cycle_days_lost", "avg_won_amount",
                "median_won_amount", "open_count", "open_amount", "stale_open_count"):
        assert key in rows[0]
    res = runner.invoke(app, ["metrics", "--period", "2017-06", "--by", "rep", "--format",
                              "csv", "--store", str(store)])
    assert res.exit_code == 0 and res.output.startswith("group,won,lost,win_rate")


def test_errors_are_messages_not_tracebacks(tmp_path):
    res = runner.invoke(app, ["ingest", str(tmp_path), "--source", "nosuch",
                              "--store", str(tmp_path / "x.duckdb")])
    assert res.exit_code == 2 and "unknown source 'nosuch'" in res.output
    res = runner.invoke(app, ["metrics", "--period", "2017-13", "--store",
                              str(tmp_path / "x.duckdb")])
    assert res.exit_code == 2 and "period" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["run", "--period", "2017-06", "--store",
                              str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2 and "does not exist" in res.output
