"""`crm-report metrics` answers without pandas, and prints exactly what the pandas path
printed: the same period bounds, the same CSV and JSON text."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting import cli
from reporting.engine.duckdb_summary import rep_summary_sql
from reporting.engine.sql import summary_rows
from reporting.exceptions import ParamsError
from reporting.periods import parse_period
from reporting.textsafe import neutralise_cells

LABELS = ["2026-09", "2026-Q2", "2025", "2026-01-15..2026-03-03", " 2026-12 ", "2026-q4",
          "last-complete-month", "last-month", "1999-02", "2026-13", "2026-00", "2026-02-30..2026-03-01",
          "2026-03-01..2026-02-01", "1500", "2262-01", "9999", "2026-6", "junk", ""]


@pytest.mark.parametrize("label", LABELS)
def test_period_bounds_agree_with_parse_period(label):
    got = cli._period_bounds(label)
    try:
        p = parse_period(label)
    except ParamsError:
        assert got is None  # the full parser then gives its error
        return
    if got is not None:
        assert got == (p.start.to_pydatetime(), p.end.to_pydatetime())


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1678, 1, 1), max_value=date(2261, 1, 1)),
       st.integers(min_value=0, max_value=400), st.sampled_from(["month", "quarter", "year", "range"]))
def test_period_bounds_property(day, length, kind):
    label = {"month": f"{day:%Y-%m}", "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
             "year": f"{day.year}",
             "range": f"{day.isoformat()}..{(day + timedelta(days=length)).isoformat()}"}[kind]
    p = parse_period(label)
    assert cli._period_bounds(label) == (p.start.to_pydatetime(), p.end.to_pydatetime())


@given(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False))
def test_json_number_is_what_pandas_writes(x):
    import pandas as pd

    if 0 < abs(x) < 1e-4:  # _print_rows leaves these to pandas
        x = 0.0

    expected = json.loads(pd.DataFrame({"x": [x]}).to_json(orient="records"))[0]["x"]
    assert cli._json_number(x) == expected


def _pandas_text(con, period, by, region, fmt):
    table = rep_summary_sql(con, parse_period(period), by, region)
    if fmt == "csv":
        return neutralise_cells(table).to_csv(index=False)
    return json.dumps(json.loads(table.to_json(orient="records")), indent=2) + "\n"


@pytest.mark.parametrize("period", ["2026-09", "2026-Q2", "2025"])
@pytest.mark.parametrize("by", ["owner", "team", "region", "source", "product"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_rows_print_as_the_pandas_frame(demo_store, monkeypatch, period, by, fmt):
    region = "EMEA" if by in ("owner", "source") else None
    con = duckdb.connect(str(demo_store), read_only=True)
    con.execute("SET threads = 1")  # DuckDB's parallel AVG differs in the last bit run to run
    try:
        expected = _pandas_text(con, period, by, region, fmt)
        p = parse_period(period)
        columns, rows = summary_rows(con, p.start.to_pydatetime(), p.end.to_pydatetime(), by,
                                     region)
    finally:
        con.close()
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli._print_rows(columns, rows, fmt)
    assert out.getvalue() == expected


def test_formula_like_group_names_are_neutralised(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli._print_rows(["group", "won"], [("=cmd|' /C calc'!A0", 1), ("a,b", 2)], "csv")
    assert out.getvalue() == "group,won\n'=cmd|' /C calc'!A0,1\n\"a,b\",2\n"


def test_unusual_numbers_take_the_pandas_path(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not cli._print_rows(["group", "open_amount"], [("a", float("inf"))], "json")
    assert not cli._print_rows(["group", "open_amount"], [("a", 2e16)], "csv")
    assert not cli._print_rows(["group", "open_amount"], [("a", 1e-12)], "json")


def test_metrics_process_does_not_import_pandas(demo_store):
    code = ("import sys\nfrom reporting.cli import app\n"
            "try:\n    app(['metrics', '--period', '2026-09', '--by', 'rep', '--region', 'EMEA', "
            f"'--format', 'csv', '--store', {str(demo_store)!r}])\n"
            "except SystemExit:\n    pass\n"
            "print('PANDAS' if 'pandas' in sys.modules else 'NO-PANDAS')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.stdout.strip().splitlines()[-1] == "NO-PANDAS", res.stderr[-2000:]
    assert res.stdout.startswith("group,won,lost")


def test_a_missing_store_still_gets_the_store_error(tmp_path):
    from typer.testing import CliRunner

    res = CliRunner().invoke(cli.app, ["metrics", "--period", "2026-09", "--store",
                                       str(tmp_path / "nope.duckdb")])
    assert res.exit_code == 2
    assert "does not exist" in res.output
