"""Mapping and validation: every row read is loaded or quarantined with a reason."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reporting.exceptions import DataValidationError, MappingError
from reporting.ingest import ingest_paths, map_file
from reporting.sources import available_sources, load_mapping

from ..conftest import shared

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"


def write(tmp_path: Path, text: str, name: str = "sales_pipeline.csv", encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_shipped_mappings_load():
    assert {"maven", "salesforce", "hubspot", "pipedrive"} <= set(available_sources())
    for name in available_sources():
        assert load_mapping(name).name == name


def test_each_bad_row_gets_its_reason(tmp_path):
    p = write(tmp_path, HEADER + "\n".join([
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000",   # row 2: fine
        "A2,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,",       # row 3: won, no amount
        "A3,Bob,GTX Basic,Acme,Lost,2017-03-02,2017-02-01,0",     # row 4: closed before created
        "A4,Bob,GTX Basic,Acme,Maybe,2017-01-02,,",               # row 5: unknown stage
        "A5,Bob,GTX Basic,Acme,Won,2017-02-31,2017-03-01,10",     # row 6: unparseable date
        "A6,Bob,GTX Basic,Acme,Won,2017-01-02,2017-03-01,-5",     # row 7: negative amount
        "A7,Bob,GTX Basic,Acme,Won,2017-01-02,2017-03-01,abc",    # row 8: non-numeric amount
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000",   # row 9: identical duplicate
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,2000",   # row 10: conflicting dup
        ",Bob,GTX Basic,Acme,Engaging,2017-01-02,,",              # row 11: no id
        "A8,Bob,GTX Basic,Acme,Won,2017-01-02,,500",              # row 12: won, no close date
    ]) + "\n")
    m = map_file(p, "opportunities", load_mapping("maven"))
    assert m.result.read == 11
    # A1 has a conflicting copy (row 10): which is right is unknown, so both are out
    assert m.result.loaded == 0
    got = dict(zip(m.quarantine["row"], m.quarantine["reason"], strict=True))
    assert got == {
        2: "duplicate id with conflicting values (conflicts with row 10)",
        3: "won deal without amount",
        4: "closed before created",
        5: "unknown stage",
        6: "unparseable date",
        7: "amount is negative",
        8: "non-numeric amount",
        9: "duplicate id (identical to row 2)",
        10: "duplicate id with conflicting values (first seen at row 2)",
        11: "missing required field opportunity_id",
        12: "closed deal without closed_at",
    }
    cols = dict(zip(m.quarantine["row"], m.quarantine["column"], strict=True))
    assert cols[6] == "created_at" and cols[7] == "amount" and cols[4] == "closed_at"
    assert set(m.quarantine["file"]) == {str(p)}
    # the raw record travels with the reason
    assert '"deal_stage": "Maybe"' in m.quarantine.set_index("row").loc[5, "record"]


def test_missing_column_names_column_and_mapping(tmp_path):
    p = write(tmp_path, "opportunity_id,sales_agent\nA1,Ann\n")
    with pytest.raises(MappingError) as e:
        map_file(p, "opportunities", load_mapping("maven"))
    assert "'deal_stage'" in str(e.value) and "maven.yaml" in str(e.value)
    assert str(p) in str(e.value)


@pytest.mark.parametrize(
    "content, message",
    [(b"", "empty"), (b"\x00\x01\x02PK\x03\x04" * 20, "binary")],
)
def test_unreadable_files_are_clear(tmp_path, content, message):
    p = tmp_path / "sales_pipeline.csv"
    p.write_bytes(content)
    with pytest.raises(DataValidationError, match=message):
        map_file(p, "opportunities", load_mapping("maven"))


def test_encodings_and_delimiters(tmp_path):
    row = "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n"
    for enc in ("utf-8-sig", "utf-16"):
        p = write(tmp_path, HEADER + row, f"sales_pipeline_{enc}.csv", enc)
        assert map_file(p, "opportunities", load_mapping("maven")).result.loaded == 1
    p = write(tmp_path, (HEADER + row).replace(",", ";"), "sales_pipeline_semi.csv")
    assert map_file(p, "opportunities", load_mapping("maven")).result.loaded == 1
    p = write(tmp_path, HEADER + row.replace("Ann", "Ann\xe9"), "latin.csv", "latin-1")
    with pytest.raises(DataValidationError, match="encoding"):
        map_file(p, "opportunities", load_mapping("maven"))


def test_reingest_does_not_duplicate(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n"
              "A2,Ann,GTX Basic,Acme,Maybe,2017-01-02,,\n")
    store = tmp_path / "s.duckdb"
    for _ in range(2):
        rep = ingest_paths([p], "maven", store)
        assert (rep.read, rep.loaded, rep.quarantined) == (2, 1, 1)
    con = duckdb.connect(str(store))
    assert con.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 1


def test_maven_every_row_accounted_for(tmp_path):
    folder = shared("maven_crm")
    rep = ingest_paths([folder], "maven", tmp_path / "m.duckdb")
    by_file = {Path(r.file).name: r for r in rep.results}
    assert by_file["sales_pipeline.csv"].read == 8800
    assert by_file["sales_pipeline.csv"].loaded + by_file["sales_pipeline.csv"].quarantined == 8800
    assert by_file["sales_teams.csv"].loaded == 35
    assert by_file["accounts.csv"].loaded == 85
    # the 500 Prospecting deals have no engage date: valid open deals, kept and flagged
    # (issue 11 item 8; they were quarantined as "missing required field created_at")
    assert by_file["sales_pipeline.csv"].reasons == {}
    assert by_file["sales_pipeline.csv"].notes == {"created_at_estimated": 500}
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    # team and region come from the sales_teams file
    assert con.execute("SELECT COUNT(*) FROM opportunities WHERE region IS NULL").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM opportunities WHERE product = 'GTXPro'").fetchone()[0] == 0


def test_salesforce_sample_every_row_accounted_for(tmp_path):
    f = shared("salesforce_sample") / "salesforce_data.csv"
    rep = ingest_paths([f], "salesforce", tmp_path / "s.duckdb")
    (r,) = rep.results
    assert r.read == 3215 and r.loaded + r.quarantined == 3215
    assert r.quarantined > 0 and r.loaded > 0


def test_hubspot_deals_export(tmp_path):
    p = write(tmp_path, "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date,"
              "Last Activity Date\n"
              "101,Big one,Closed won,2024-03-05 14:22,Ann Lee,\"12,500.00\",2024-01-10 09:00,\n"
              "102,<b>x</b>,Contract sent,2024-06-30,Bob Roy,800,2024-02-01 10:00,2024-02-20\n"
              "103,Lost,Closed lost,2024-03-01,Bob Roy,300,2024-02-01,\n", "deals.csv")
    m = map_file(p, "opportunities", load_mapping("hubspot"))
    assert m.result.loaded == 3
    f = m.frame.set_index("opportunity_id")
    assert f.loc["101", "amount"] == 12500.0 and f.loc["101", "status"] == "won"
    assert f.loc["101", "closed_at"] == pd.Timestamp("2024-03-05 14:22")
    # an open deal's "Close Date" is only the expected date: not a close
    assert f.loc["102", "status"] == "open" and pd.isna(f.loc["102", "closed_at"])
    assert f.loc["102", "name"] == "<b>x</b>"  # kept as text; escaped when rendered


def test_pipedrive_deals_export(tmp_path):
    p = write(tmp_path, "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Owner,"
              "Deal - Stage,Deal - Status,Deal - Deal created,Deal - Won time,Deal - Lost time\n"
              "1,A,1000,USD,Ann,Negotiation,Won,2024-01-01 10:00:00,2024-02-01 10:00:00,\n"
              "2,B,500,USD,Ann,Proposal,Lost,2024-01-01 10:00:00,,2024-01-15 10:00:00\n"
              "3,C,700,EUR,Ann,Proposal,Open,2024-01-01 10:00:00,,\n", "deals.csv")
    m = map_file(p, "opportunities", load_mapping("pipedrive"))
    f = m.frame.set_index("opportunity_id")
    assert f.loc["1", "status"] == "won" and f.loc["2", "closed_at"] == pd.Timestamp("2024-01-15 10:00")
    assert f.loc["1", "stage"] == "Negotiation"
    # EUR has no rate in the shipped mapping: quarantined, not silently summed as USD
    assert m.quarantine.set_index("row").loc[4, "reason"] == "unknown currency without a rate"


def test_amount_formats_and_persian_digits(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,GTX,Acme,Won,۲۰۱۷-۰۱-۰۲,2017-02-01,\"$1,234.50\"\n"
              "A2,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,۱۲۳۴\n")
    m = map_file(p, "opportunities", load_mapping("maven"))
    assert m.frame["amount"].tolist() == [1234.5, 1234.0]
    assert m.frame["created_at"].iloc[0] == pd.Timestamp("2017-01-02")
