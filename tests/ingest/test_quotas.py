"""Quotas through `crm-report ingest --source quotas` and params/quotas.yaml: formats,
hostile values, conversions, and where the quotas end up (store, Dataset)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reporting import store
from reporting.exceptions import MappingError, ParamsError
from reporting.ingest import ingest_paths
from reporting.params import load_quotas_file

from ..conftest import PARAMS_DIR

HEADER = "scope_type,scope,period,amount,currency\n"


def _csv(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _quotas(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM quotas ORDER BY scope_type, scope, period").df()


def test_a_quotas_csv_loads_with_normalised_periods(tmp_path):
    f = _csv(tmp_path / "quotas.csv",
             "rep,Tomás Aguirre,2026-Q4,300000,USD\n"
             "Team,LATAM Enterprise,2026-11,900000,\n"
             "region,EMEA,Q4 2026,\"2,500,000\",USD\n"
             "rep,Ann Lee,2026-q1,1000,usd\n")
    db = tmp_path / "crm.duckdb"
    rep = ingest_paths([f], "quotas", db)
    assert (rep.read, rep.loaded, rep.quarantined) == (4, 4, 0)
    assert rep.results[0].table == "quotas"
    q = _quotas(db)
    assert q.to_dict("records") == [
        {"scope_type": "region", "scope": "EMEA", "period": "2026-Q4", "amount": 2_500_000.0,
         "currency": "USD"},
        {"scope_type": "rep", "scope": "Ann Lee", "period": "2026-Q1", "amount": 1000.0,
         "currency": "USD"},
        {"scope_type": "rep", "scope": "Tomás Aguirre", "period": "2026-Q4",
         "amount": 300_000.0, "currency": "USD"},
        {"scope_type": "team", "scope": "LATAM Enterprise", "period": "2026-11",
         "amount": 900_000.0, "currency": "USD"},
    ]
    # re-ingesting replaces, never duplicates
    ingest_paths([f], "quotas", db)
    assert len(_quotas(db)) == 4


def test_bad_rows_are_quarantined_with_row_column_and_reason(tmp_path):
    f = _csv(tmp_path / "quotas.csv",
             "rep,=HYPERLINK(\"http://x\"),2026-11,100,USD\n"  # line 2: a name, kept as text
             "team,<b>Team</b>,2026-11,-5,USD\n"              # 3: negative
             "rep,Bob,2026-11,abc,USD\n"                        # 4: non-numeric
             "rep,Cy,2026,100,USD\n"                            # 5: a year
             "rep,Dee,Nov 2026,100,USD\n"                       # 6: not a label
             "manager,Eve,2026-11,100,USD\n"                    # 7: unknown scope type
             "rep,Fay,2026-11,100,EUR\n"                        # 8: no EUR rate
             "rep,Gus,2026-11,,USD\n")                          # 9: no amount
    db = tmp_path / "crm.duckdb"
    rep = ingest_paths([f], "quotas", db)
    q = rep.quarantine.set_index("row")
    assert rep.loaded == 1 and rep.quarantined == 7
    expect = {3: ("amount", "negative_value"), 4: ("amount", "bad_number"),
              5: ("period", "bad_period"), 6: ("period", "bad_period"),
              7: ("scope_type", "invalid_value"), 8: ("currency", "unknown_currency"),
              9: ("amount", "missing_required")}
    for row, (column, code) in expect.items():
        assert (q.loc[row, "column"], q.loc[row, "reason_code"]) == (column, code), row
    assert q.loc[3, "reason"] == "quota is negative"
    assert (q["file"] == str(f)).all()
    assert _quotas(db)["scope"].tolist() == ['=HYPERLINK("http://x")']


def test_other_currencies_convert_like_deal_amounts(tmp_path):
    m = tmp_path / "q.yaml"
    text = (PARAMS_DIR / "sources" / "quotas.yaml").read_text(encoding="utf-8")
    m.write_text(text.replace("currency: {default: USD, reporting: USD}",
                              "currency: {default: USD, reporting: USD, rates: {EUR: 1.1},\n"
                              "           rates_file: rates.csv}"), encoding="utf-8")
    (tmp_path / "rates.csv").write_text("date,currency,rate\n2026-10-01,EUR,1.2\n"
                                        "2026-11-01,EUR,1.25\n", encoding="utf-8")
    f = _csv(tmp_path / "quotas.csv", "region,EMEA,2026-11,1000,EUR\n"
                                      "region,EMEA,2026-10,1000,EUR\n"
                                      "region,EMEA,2026-09,1000,EUR\n")
    db = tmp_path / "crm.duckdb"
    rep = ingest_paths([f], m, db)
    assert rep.loaded == 3
    got = dict(zip(_quotas(db)["period"], _quotas(db)["amount"], strict=True))
    # the dated rate of the period's first day; before the file's first date: the static one
    assert got == pytest.approx({"2026-11": 1250.0, "2026-10": 1200.0, "2026-09": 1100.0})
    assert set(_quotas(db)["currency"]) == {"USD"}


def test_a_quotas_file_is_not_mistaken_for_deals(tmp_path):
    f = _csv(tmp_path / "targets.csv", "rep,Ann,2026-11,100,USD\n")
    with pytest.raises(MappingError, match=r"looks like a quotas file.*--source quotas"):
        ingest_paths([f], "salesforce", tmp_path / "crm.duckdb")
    with pytest.raises(MappingError, match="--source quotas"):
        ingest_paths([f], "maven", tmp_path / "crm2.duckdb")


def test_a_workbook_of_quotas(tmp_path):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    p = tmp_path / "quotas.xlsx"
    wb = xlsxwriter.Workbook(str(p), {"strings_to_formulas": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("Quotas")
    fmt = wb.add_format({"num_format": "yyyy-mm"})
    for j, h in enumerate(["Scope type", "Scope", "Period", "Quota"]):
        ws.write_string(0, j, h)
    ws.write_string(1, 0, "rep")
    ws.write_string(1, 1, "Ann")
    ws.write_datetime(1, 2, datetime(2026, 11, 1), fmt)  # a month typed as a date cell
    ws.write_number(1, 3, 12_000)
    ws.write_string(2, 0, "team")
    ws.write_string(2, 1, "T1")
    ws.write_string(2, 2, "2026-Q4")
    ws.write_number(2, 3, 50_000.5)
    wb.close()
    db = tmp_path / "crm.duckdb"
    rep = ingest_paths([p], "quotas", db)
    assert rep.loaded == 2, rep.quarantine
    assert _quotas(db)[["scope", "period", "amount"]].values.tolist() == [
        ["Ann", "2026-11", 12_000.0], ["T1", "2026-Q4", 50_000.5]]


def test_load_quotas_by_region_and_team_and_the_dataset(tmp_path):
    db = tmp_path / "crm.duckdb"
    with store.connect(db) as con:
        con.execute("INSERT INTO reps (rep_id, team, region) VALUES ('Ann', 'T1', 'R1'), "
                    "('Bob', 'T2', 'R1'), ('Cy', 'T3', 'R2')")
        con.execute("INSERT INTO opportunities (opportunity_id, owner, team, region, "
                    "created_at, status) VALUES ('D1', 'Dee', 'T1', 'R1', '2026-01-01', 'open')")
        con.execute("INSERT INTO quotas VALUES ('rep', 'Ann', '2026-11', 1, 'USD'), "
                    "('rep', 'Cy', '2026-11', 2, 'USD'), ('rep', 'Dee', '2026-11', 3, 'USD'), "
                    "('team', 'T1', '2026-Q4', 4, 'USD'), ('team', 'T3', '2026-Q4', 5, 'USD'), "
                    "('region', 'R1', '2026-Q4', 6, 'USD'), ('region', 'R2', '2026-Q4', 7, 'USD')")
    assert len(store.load_quotas(db)) == 7
    r1 = store.load_quotas(db, region="R1")
    assert sorted(zip(r1["scope_type"], r1["scope"], strict=True)) == [
        ("region", "R1"), ("rep", "Ann"), ("rep", "Dee"), ("team", "T1")]
    t1 = store.load_quotas(db, region="R1", team="T1")
    assert sorted(t1["scope"]) == ["Ann", "Dee", "T1"]  # no region quota for a team's view
    d = store.load(db, region="R1")
    assert sorted(d.quotas["scope"]) == ["Ann", "Dee", "R1", "T1"]
    assert store.Dataset(opportunities=d.opportunities).quotas.empty


def test_a_store_made_before_quotas_gains_the_table(tmp_path):
    db = tmp_path / "old.duckdb"
    with store.connect(db):
        pass
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE quotas")
    q = store.load_quotas(db)  # read-only: upgraded in place, then read
    assert q.empty and list(q.columns) == ["scope_type", "scope", "period", "amount", "currency"]


# --------------------------------------------------------------------------- quotas.yaml


def _params(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "params"
    d.mkdir()
    for f in ("report.yaml", "baselines.yaml"):
        shutil.copy(PARAMS_DIR / f, d / f)
    (d / "quotas.yaml").write_text(text, encoding="utf-8")
    return d


def test_quotas_yaml_shape_and_conversion(tmp_path):
    d = _params(tmp_path, """\
currency: USD
rates: {EUR: 1.1}
quotas:
  - {rep: "Tomás Aguirre", period: 2026-Q4, amount: 300000}
  - {team: "LATAM Enterprise", period: 2026-11, amount: 900000}
  - {region: EMEA, period: 2026-11, amount: 2500000, currency: EUR}
""")
    q = load_quotas_file(d).frame("USD")
    assert q.values.tolist() == [
        ["rep", "Tomás Aguirre", "2026-Q4", 300_000.0, "USD"],
        ["team", "LATAM Enterprise", "2026-11", 900_000.0, "USD"],
        ["region", "EMEA", "2026-11", pytest.approx(2_750_000.0), "USD"],
    ]


def test_quotas_yaml_errors_name_the_line(tmp_path):
    d = _params(tmp_path, """\
quotas:
  - {rep: A, period: 2026, amount: 1}
  - {rep: B, period: 2026-11, amount: -1}
  - {rep: C, period: 2026-11, amount: "1,000"}
  - {rep: D, team: X, period: 2026-11, amount: 1}
""")
    with pytest.raises(ParamsError) as e:
        load_quotas_file(d)
    msg = str(e.value)
    assert "quotas.yaml" in msg
    assert "line 2, quotas[0].period: period is not a month" in msg
    assert "line 3, quotas[1].amount" in msg and "between 0 and 1e13" in msg
    assert "line 4, quotas[2].amount: amount must be a number" in msg
    assert "line 5, quotas[3]: give exactly one of rep, team or region" in msg


def test_quotas_yaml_currency_without_rate_and_duplicates(tmp_path):
    d = _params(tmp_path, """\
quotas:
  - {rep: A, period: 2026-11, amount: 1, currency: GBP}
  - {rep: B, period: 2026-11, amount: 1}
  - {rep: B, period: 2026-11, amount: 2}
""")
    qf = load_quotas_file(d)
    with pytest.raises(ParamsError) as e:
        qf.frame("USD")
    msg = str(e.value)
    assert "line 2 (quotas[0])" in msg and "no GBP rate" in msg
    assert "line 4 (quotas[2])" in msg and "given twice" in msg and "line 3" in msg


def test_no_quotas_yaml_means_no_quotas(tmp_path):
    d = _params(tmp_path, "")
    assert load_quotas_file(d).frame("USD").empty
    (d / "quotas.yaml").unlink()
    assert load_quotas_file(d).quotas == []
    assert load_quotas_file(PARAMS_DIR).frame("USD").empty  # the shipped params have none


def test_the_cli_ingests_quotas_and_params_check_judges_quotas_yaml(tmp_path):
    from typer.testing import CliRunner

    from reporting.cli import app

    f = _csv(tmp_path / "quotas.csv", "rep,Ann,2026-11,100,USD\nrep,Bob,2026-11,-1,USD\n")
    db = tmp_path / "crm.duckdb"
    r = CliRunner().invoke(app, ["ingest", str(f), "--source", "quotas", "--store", str(db)],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "quotas" in r.output and "quota is negative" in r.output
    bad = CliRunner().invoke(app, ["ingest", str(f), "--source", "salesforce", "--store",
                                   str(tmp_path / "x.duckdb")], env={"COLUMNS": "300"})
    assert bad.exit_code == 2 and "--source quotas" in bad.output
    d = _params(tmp_path, "quotas:\n  - {rep: A, period: 2026-13, amount: 1}\n")
    r = CliRunner().invoke(app, ["params", "check", "--params", str(d)],
                           env={"COLUMNS": "300"})
    assert r.exit_code == 2 and "line 2, quotas[0].period" in r.output
