"""`crm-report forecast` and `--backtest` through typer's CliRunner: on a small store
(hostile group names in csv / json / table), on the Maven export, on a store pulled from
the fake Pipedrive API (tests/pull), and its one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from reporting.cli import FORECAST_COLUMNS, app

from .test_forecast import R2, write_store

runner = CliRunner()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("fcli") / "small.duckdb")


def _run(*args):
    return runner.invoke(app, ["forecast", *args])


def test_json_has_the_issue_columns_and_the_outcome(small):
    r = _run("--as-of", "2026-07-01", "--horizon-days", "30", "--store", str(small))
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["group"] for x in rows] == [R2, "R1"]
    assert list(rows[0]) == list(FORECAST_COLUMNS)
    r1 = rows[1]
    assert r1["open_count"] == 2 and r1["naive_won_count"] == pytest.approx(1.0)
    assert r1["weighted_pipeline"] == 800 and r1["actual_won_count"] == 1
    assert r1["quota"] is None and r1["attainment"] is None  # no quotas: null, not 0
    assert "note: method: model" in r.stderr or "note: method: naive" in r.stderr


def test_csv_neutralises_hostile_group_names(small):
    r = _run("--as-of", "2026-07-01", "--horizon-days", "30", "--format", "csv",
             "--store", str(small))
    assert r.exit_code == 0, r.output
    got = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [g["group"] for g in got] == ["'" + R2, "R1"]
    assert got[1]["open_count"] == "2"


def test_table_prints_names_literally(small, monkeypatch):
    import reporting.cli as cli

    # wide enough for every column: the CLI's console reads COLUMNS once, when it is made
    monkeypatch.setattr(cli.console, "_width", 200)
    r = _run("--as-of", "2026-07-01", "--horizon-days", "30", "--format", "table",
             "--by", "rep", "--store", str(small))
    assert r.exit_code == 0, r.output
    assert "ann" in r.stdout and "bob" in r.stdout and "forecast as of 2026-07-01" in r.stdout
    r = _run("--as-of", "2026-07-01", "--horizon-days", "30", "--format", "table",
             "--store", str(small))
    assert "[bold]x" in r.stdout  # markup shown as text, not applied


def test_errors_are_one_line_exit_2(small, tmp_path):
    for args, msg in ((["--as-of", "soon"], "not a date"),
                      (["--by", "planet"], "--by 'planet'"),
                      (["--format", "xml"], "--format 'xml'"),
                      (["--horizon-days", "0"], "horizon_days"),
                      (["--backtest", "--origins", "0"], "--origins 0")):
        r = _run(*args, "--store", str(small))
        assert r.exit_code == 2, (args, r.output)
        assert msg in r.stderr and "Traceback" not in r.output
        assert len(r.stderr.strip().splitlines()) <= 2  # the project line + the error
    r = _run("--store", str(tmp_path / "missing.duckdb"))
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_maven_forecast_and_backtest(maven_forecast_store):
    maven = maven_forecast_store
    # default as-of: the day after the store's latest event (2017-12-31)
    r = _run("--store", str(maven), "--by", "team")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) >= 3 and sum(x["open_count"] for x in rows) == 2089  # Maven's open deals
    assert "actual_won_count" not in rows[0]  # the horizon is after the data end
    assert "as of 2018-01-01" in r.stderr
    r = _run("--store", str(maven), "--backtest", "--origins", "2", "--format", "csv")
    assert r.exit_code == 0, r.output
    got = {g["method"]: g for g in csv.DictReader(io.StringIO(r.stdout))}
    assert set(got) == {"model", "weighted", "category", "naive"}
    assert got["model"]["chosen"] == "True" and got["model"]["origins"] == "2"
    assert got["weighted"]["mape_count"] == ""  # Maven has no CRM probabilities
    assert "chosen method: model" in r.stderr


def test_pulled_store(httpserver, tmp_path, monkeypatch):
    """A store pulled from the fake Pipedrive API (6 deals): the forecast works (naive: too
    little history to train on, said so); the backtest says why it cannot score."""
    from .pull.conftest import TOKEN
    from .pull.fakes import FakePipedrive, pipedrive_fixture, serve

    store = tmp_path / "pulled.duckdb"
    url = serve(httpserver, FakePipedrive(TOKEN, pipedrive_fixture(), page_size=50))
    monkeypatch.setenv("CRM_REPORT_PIPEDRIVE_TOKEN", TOKEN)
    r = runner.invoke(app, ["pull", "pipedrive", "--store", str(store), "--base-url", url])
    assert r.exit_code == 0, r.output
    r = _run("--store", str(store), "--as-of", "2024-04-16")
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    # open then: 201, 202, 203, 207 (206 lost on Apr 10, 205 won in February)
    assert row["group"] == "(none)" and row["open_count"] == 4
    assert row["naive_won_count"] == pytest.approx(4 * 1 / 2)  # 205 won, 206 lost
    assert row["expected_won_count"] is None
    assert "naive forecast is used" in r.stderr
    r = _run("--store", str(store), "--backtest", "--horizon-days", "30")
    assert r.exit_code == 2 and "no backtest origin could be scored" in r.stderr
