"""Red-team cases for ingest and the store (issue 12 items 3, 4, 6; issue 11 items 6, 8, 9).

Each test holds the reproduction of a way the ingest broke (a traceback, a lost or
silently loaded row, mixed time zones or currencies) and the answer, computed by hand.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from reporting.exceptions import DataValidationError, MappingError, ReportingError, StoreError
from reporting.ingest import ingest_paths, map_file
from reporting.sources import SOURCES_DIR, load_mapping

from ..conftest import shared

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
AS_OF = "2026-11-28"


def write(tmp_path: Path, text: str, name: str = "sales_pipeline.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def mapping_file(tmp_path: Path, name: str = "custom", **changes) -> Path:
    """The maven mapping with top-level keys changed, written as a file."""
    raw = yaml.safe_load((SOURCES_DIR / "maven.yaml").read_text())
    raw.update(changes, name=name)
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return p


def rows(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def reasons(m) -> dict[int, str]:
    return dict(zip(m.quarantine["row"], m.quarantine["reason"], strict=True))


# --------------------------------------------------------------------------- 12.3 dates, numbers


@pytest.mark.filterwarnings("error::FutureWarning")
def test_iso_timestamps_with_different_utc_offsets_parse(tmp_path):
    """A daylight-saving change puts -08:00 and -07:00 in one column: a traceback before
    (pandas raises "Mixed timezones detected"; this pandas still only warns that it will)."""
    p = write(tmp_path, HEADER
              + "A1,Ann,P,Acme,Won,2017-03-11T10:00:00-08:00,2017-03-13T10:00:00-07:00,10\n"
              + "A2,Ann,P,Acme,Won,2017-03-12T09:30:00-07:00,2017-03-14T00:00:00Z,20\n")
    m = map_file(p, "opportunities", load_mapping(mapping_file(tmp_path, date_formats=["ISO8601"])),
                 as_of=AS_OF)
    assert m.result.loaded == 2
    got = m.frame.set_index("opportunity_id")
    # by hand: 10:00 at -08:00 is 18:00 UTC; 10:00 at -07:00 is 17:00 UTC
    assert got.loc["A1", "created_at"] == pd.Timestamp("2017-03-11 18:00")
    assert got.loc["A1", "closed_at"] == pd.Timestamp("2017-03-13 17:00")
    assert got.loc["A2", "created_at"] == pd.Timestamp("2017-03-12 16:30")
    assert got.loc["A2", "closed_at"] == pd.Timestamp("2017-03-14 00:00")


@pytest.mark.parametrize("value, reason", [
    ("1e308", "amount out of range (beyond ±1e13)"),
    ("20000000000000", "amount out of range (beyond ±1e13)"),
    ("1e400", "non-numeric amount"),
    ("inf", "non-numeric amount"),
    ("NaN", "non-numeric amount"),
])
def test_absurd_amounts_are_quarantined(tmp_path, value, reason):
    p = write(tmp_path, HEADER + f"A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,{value}\n"
              + "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,9999999999999\n")
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert reasons(m) == {2: reason}
    assert m.frame["amount"].tolist() == [9999999999999.0]  # just below the bound: kept


def test_parquet_infinities_and_nan_are_quarantined_but_null_is_missing(tmp_path):
    frame = pd.DataFrame({
        "opportunity_id": ["A1", "A2", "A3", "A4", "A5"],
        "sales_agent": ["Ann"] * 5, "product": ["P"] * 5, "account": ["Acme"] * 5,
        "deal_stage": ["Won", "Won", "Won", "Engaging", "Won"],
        "engage_date": ["2017-01-01"] * 5,
        "close_date": ["2017-02-01"] * 5,
        "close_value": [np.inf, -np.inf, np.nan, None, 5.0],
    })
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: frame[c] for c in frame.columns if c != "close_value"})
    # A4's amount is a Parquet null (missing), A3's a real NaN
    values = pa.array([np.inf, -np.inf, np.nan, None, 5.0], type=pa.float64(), from_pandas=False)
    table = table.append_column("close_value", values)
    p = tmp_path / "sales_pipeline.parquet"
    pq.write_table(table, p)
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert reasons(m) == {2: "amount is not a finite number", 3: "amount is not a finite number",
                          4: "amount is not a finite number"}
    assert sorted(m.frame["opportunity_id"]) == ["A4", "A5"]
    assert np.isfinite(m.frame["amount"].dropna()).all()


@pytest.mark.parametrize("rate", [".inf", "0", "-1.5", ".nan"])
def test_mapping_rate_must_be_finite_and_positive(tmp_path, rate):
    p = mapping_file(tmp_path, currency={"default": "USD", "reporting": "USD", "rates": {"EUR": 1}})
    p.write_text(p.read_text().replace("EUR: 1", f"EUR: {rate}"))
    with pytest.raises(MappingError, match="finite number > 0") as e:
        load_mapping(p)
    assert str(p) in str(e.value) and "EUR" in str(e.value)


def test_dates_before_1970_are_quarantined(tmp_path):
    """Year 1 loaded before and gave a 736,000-day cycle."""
    p = write(tmp_path, HEADER
              + "A1,Ann,P,Acme,Won,0001-01-01,2017-02-01,10\n"
              + "A2,Ann,P,Acme,Won,1969-12-31,2017-02-01,10\n"
              + "A3,Ann,P,Acme,Won,1970-01-01,2017-02-01,10\n"
              + "A4,Ann,P,Acme,Won,2017-01-01,2026-12-30,10\n")
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert reasons(m) == {2: "date before 1970", 3: "date before 1970",
                          5: "date in the future (after 2026-11-28)"}
    assert m.frame["opportunity_id"].tolist() == ["A3"]


# --------------------------------------------------------------------------- 12.4 no row lost


def test_stray_quote_that_swallows_rows_is_quarantined_with_its_lines(tmp_path):
    """20 lines read as 15 with nothing quarantined before."""
    body = [f"A{i},Ann,P,Acme,Won,2017-01-0{1 + i % 9},2017-02-01,{i}" for i in range(20)]
    body[5] = body[5].replace("Ann", '"Ann', 1)  # opens a quote on line 7 ...
    body[9] = body[9].replace("Acme", 'Acme"')  # ... that closes on line 11
    p = write(tmp_path, HEADER + "\n".join(body) + "\n")
    store = tmp_path / "s.duckdb"
    rep = ingest_paths([p], "maven", store, as_of=AS_OF)
    (r,) = rep.results
    assert r.read == 16 and r.loaded == 15 and r.quarantined == 1  # 20 lines, 16 records
    ((row, reason),) = rows(store, 'SELECT "row", reason FROM quarantine')
    assert row == 7
    assert reason.startswith("unbalanced quote") and "lines 7-11" in reason
    # the rows after it keep their physical line numbers
    assert rows(store, "SELECT opportunity_id FROM opportunities WHERE opportunity_id = 'A10'")


def test_row_with_more_fields_than_the_header_is_quarantined_not_the_file(tmp_path):
    ok = "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n"
    p = write(tmp_path, HEADER + ok + "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,1,000\n"
              + ok.replace("A1", "A3"))
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert m.result.read == 3 and m.result.loaded == 2
    assert list(reasons(m)) == [3]
    assert "more fields than the header (9 fields, the header has 8)" in reasons(m)[3]
    assert "1,000" in m.quarantine["record"].iloc[0]


def test_quarantine_rows_are_physical_line_numbers(tmp_path):
    p = write(tmp_path, HEADER
              + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n"   # line 2
              + "\n\n"                                           # lines 3, 4 blank
              + 'A2,Ann,"two\nline product",Acme,Won,2017-01-01,2017-02-01,10\n'  # lines 5-6
              + ",,,,,,,\n"                                       # line 7: no values
              + "A3,Ann,P,Acme,Won,2017-02-31,2017-02-01,10\n")  # line 8
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert reasons(m) == {8: "unparseable date"}
    assert m.result.read == 3  # blank and value-less lines are not rows
    for cs in (1, 2):  # the same in chunks
        assert reasons(map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF,
                                chunksize=cs)) == {8: "unparseable date"}


def test_duplicate_ids_across_files_of_one_export(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    write(export, HEADER + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n"
          "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,20\n", "sales_pipeline_1.csv")
    write(export, HEADER + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n"   # identical
          "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,99\n", "sales_pipeline_2.csv")  # conflicts
    store = tmp_path / "s.duckdb"
    rep = ingest_paths([export], "maven", store, as_of=AS_OF)
    assert rep.read == 4 and rep.loaded == 1 and rep.quarantined == 3
    assert rows(store, "SELECT opportunity_id, amount FROM opportunities") == [("A1", 10.0)]
    q = {(Path(f).name, r): reason for f, r, reason in
         rows(store, 'SELECT file, "row", reason FROM quarantine')}
    f1 = str(export / "sales_pipeline_1.csv")
    f2 = str(export / "sales_pipeline_2.csv")
    assert q == {
        ("sales_pipeline_2.csv", 2): f"duplicate id (identical to row 2 of {f1})",
        ("sales_pipeline_2.csv", 3): "duplicate id with conflicting values (first seen at "
                                     f"row 3 of {f1})",
        ("sales_pipeline_1.csv", 3): "duplicate id with conflicting values (conflicts with "
                                     f"row 3 of {f2})",
    }
    by_file = {Path(r.file).name: r for r in rep.results}
    assert by_file["sales_pipeline_1.csv"].reasons == {"duplicate id with conflicting values": 1}
    assert by_file["sales_pipeline_1.csv"].loaded == 1


def test_only_an_empty_field_is_null_unless_the_mapping_says_so(tmp_path):
    text = (HEADER + "A1,NA,None,-,Won,2017-01-01,2017-02-01,10\n"
            "A2,NULL,P,Acme,Engaging,2017-01-01,,\n")
    p = write(tmp_path, text)
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    got = m.frame.set_index("opportunity_id")
    assert got.loc["A1", "owner"] == "NA"  # North America, or a rep called NA
    assert got.loc["A1", "product"] == "None" and got.loc["A1", "account_id"] == "-"
    assert got.loc["A2", "owner"] == "NULL"
    custom = load_mapping(mapping_file(tmp_path, null_tokens=["NULL", "-"]))
    m = map_file(p, "opportunities", custom, as_of=AS_OF)
    assert reasons(m) == {3: "missing required field owner"}
    assert m.frame["account_id"].isna().all() and m.frame["owner"].tolist() == ["NA"]


def test_reingest_by_another_path_does_not_duplicate_the_quarantine(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-02-31,2017-02-01,10\n"
              "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n")
    link = tmp_path / "link.csv"
    os.symlink(p, link)
    store = tmp_path / "s.duckdb"
    for path in (p, sub / ".." / p.name, link):
        ingest_paths([path], "maven", store, as_of=AS_OF)
        assert rows(store, "SELECT COUNT(*) FROM quarantine") == [(1,)]
        assert rows(store, "SELECT COUNT(*) FROM opportunities") == [(1,)]
    # a copy with the same bytes is the same file too
    copy = sub / "sales_pipeline.csv"
    shutil.copy(p, copy)
    ingest_paths([copy], "maven", store, as_of=AS_OF)
    assert rows(store, "SELECT COUNT(*) FROM quarantine") == [(1,)]
    # and the data-quality appendix lists the file once
    from reporting import store as _store

    assert len(_store.load(store).ingest_log) == 1


def test_a_row_that_turns_invalid_on_reingest_leaves_the_store(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n"
              "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,20\n")
    store = tmp_path / "s.duckdb"
    ingest_paths([p], "maven", store, as_of=AS_OF)
    assert rows(store, "SELECT COUNT(*) FROM opportunities") == [(2,)]
    write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,-10\n"
          "A2,Ann,P,Acme,Won,2017-01-01,2017-02-01,25\n")
    ingest_paths([p], "maven", store, as_of=AS_OF)
    assert rows(store, "SELECT opportunity_id, amount FROM opportunities") == [("A2", 25.0)]
    assert rows(store, 'SELECT "row", reason FROM quarantine') == [(2, "amount is negative")]


# --------------------------------------------------------------------------- 12.6 operator errors


@pytest.mark.parametrize("change, message", [
    ({"date_formats": ["%Q-%d"]}, "invalid date format"),
    ({"date_formats": ["YYYY-MM-DD"]}, "invalid date format"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"encoding": "utf-9"}, "unknown encoding 'utf-9'"),
])
def test_bad_mapping_settings_fail_when_the_mapping_loads(tmp_path, change, message):
    p = mapping_file(tmp_path, **change)
    with pytest.raises(MappingError, match=message) as e:
        load_mapping(p)
    assert str(p) in str(e.value)


def test_params_check_reports_a_bad_mapping(tmp_path):
    from reporting.cli import app
    from reporting.params import PARAMS_DIR

    params = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, params)
    mapping_file(params / "sources", name="broken", timezone="Mars/Olympus")
    res = CliRunner().invoke(app, ["params", "check", "--params", str(params)])
    assert res.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in res.output
    assert "Traceback" not in res.output


def test_unknown_encoding_option_is_a_clear_error(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-01-01,2017-02-01,10\n")
    with pytest.raises(MappingError, match="--encoding 'klingon' is not a known encoding"):
        ingest_paths([p], "maven", tmp_path / "s.duckdb", encoding="klingon")
    pq_path = tmp_path / "sales_pipeline.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(pq_path)
    with pytest.raises(MappingError, match="not a known encoding"):
        ingest_paths([pq_path], "maven", tmp_path / "s.duckdb", encoding="klingon")
    assert not (tmp_path / "s.duckdb").exists()


def test_a_duckdb_file_without_the_tables_is_a_clear_store_error(tmp_path):
    from reporting import store

    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INT)")
    con.close()
    for call in (lambda: store.load(foreign), lambda: store.regions(foreign)):
        with pytest.raises(StoreError, match="without the project's tables") as e:
            call()
        assert str(foreign) in str(e.value) and "opportunities" in str(e.value)
    text = tmp_path / "text.duckdb"
    text.write_text("not a database\n" * 100)
    with pytest.raises(StoreError, match="not a DuckDB database"):
        store.load(text)


# --------------------------------------------------------------------------- 11.8 good rows kept


def test_open_deal_without_creation_date_is_kept_and_flagged(tmp_path):
    p = write(tmp_path, HEADER
              + "A1,Ann,P,Acme,Won,2017-01-01,2017-03-05,10\n"
              + "A2,Ann,P,Acme,Prospecting,,,\n"
              + "A3,Ann,P,Acme,Engaging,2017-02-10,,\n"
              + "A4,Ann,P,Acme,Won,,2017-03-01,10\n")  # closed without a start: still bad
    store = tmp_path / "s.duckdb"
    rep = ingest_paths([p], "maven", store, as_of=AS_OF)
    (r,) = rep.results
    assert r.loaded == 3 and r.reasons == {"missing required field created_at": 1}
    assert r.notes == {"created_at_estimated": 1}
    # by hand: the latest date of the file is A1's close, 2017-03-05
    assert rows(store, "SELECT created_at FROM opportunities WHERE opportunity_id = 'A2'") == [
        (pd.Timestamp("2017-03-05").to_pydatetime(),)]
    assert rows(store, "SELECT key, code FROM row_flags") == [("A2", "created_at_estimated")]
    ((code, text, n),) = rows(store, 'SELECT code, text, "rows" FROM data_notes')
    assert code == "created_at_estimated" and n == 1 and "2017-03-05" in text


def test_deal_created_a_day_or_two_after_it_closed_is_kept_with_cycle_zero(tmp_path):
    p = write(tmp_path, HEADER
              + "A1,Ann,P,Acme,Won,2017-03-03,2017-03-01,10\n"   # 2 days: kept
              + "A2,Ann,P,Acme,Lost,2017-03-04,2017-03-01,0\n"   # 3 days: kept
              + "A3,Ann,P,Acme,Won,2017-03-05,2017-03-01,10\n")  # 4 days: quarantined
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert reasons(m) == {4: "closed before created"}
    got = m.frame.set_index("opportunity_id")
    assert (got["created_at"] == got["closed_at"]).all()
    assert got.loc["A1", "created_at"] == pd.Timestamp("2017-03-01")
    assert m.result.notes == {"created_after_close": 2}


def test_public_maven_and_salesforce_keep_their_good_rows(tmp_path):
    maven = ingest_paths([shared("maven_crm")], "maven", tmp_path / "m.duckdb", as_of=AS_OF)
    pipe = next(r for r in maven.results if r.table == "opportunities")
    assert (pipe.read, pipe.loaded, pipe.quarantined) == (8800, 8800, 0)  # was 8300 + 500
    assert pipe.notes == {"created_at_estimated": 500}
    sf_store = tmp_path / "s.duckdb"
    sf = ingest_paths([shared("salesforce_sample") / "salesforce_data.csv"], "salesforce",
                      sf_store, as_of=AS_OF)
    (r,) = sf.results
    assert (r.read, r.loaded, r.quarantined) == (3215, 3203, 12)  # was 2577 + 638
    ((won,),) = rows(sf_store, "SELECT SUM(amount) FROM opportunities WHERE status = 'won'")
    assert won == pytest.approx(44_307_090.6)  # was 33,843,464.3: a quarter of it dropped
    assert rows(sf_store, 'SELECT code, "rows" FROM data_notes') == [("created_after_close", 626)]


def test_data_notes_reach_the_dataset(tmp_path):
    from reporting import store

    ingest_paths([shared("maven_crm")], "maven", tmp_path / "m.duckdb", as_of=AS_OF)
    notes = store.load(tmp_path / "m.duckdb").data_notes
    assert notes[["code", "rows"]].values.tolist() == [["created_at_estimated", 500]]


# --------------------------------------------------------------------------- 11.6 time zones


def test_date_only_values_stay_calendar_dates_in_any_zone(tmp_path):
    """With timezone Asia/Tehran a deal closed 2017-07-01 was stored as 2017-06-30 19:30."""
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-06-20,2017-07-01,10\n")
    tehran = load_mapping(mapping_file(tmp_path, timezone="Asia/Tehran"))
    for report_tz in ("UTC", "America/Los_Angeles", "Asia/Tehran"):
        m = map_file(p, "opportunities", tehran, as_of=AS_OF, timezone=report_tz)
        assert m.frame["closed_at"].iloc[0] == pd.Timestamp("2017-07-01")


def test_timestamps_are_converted_to_the_reporting_zone(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-06-20 02:00,2017-07-01 02:00,10\n"
              "A2,Ann,P,Acme,Won,2017-06-20T10:00:00Z,2017-06-30T22:00:00Z,10\n")
    tehran = load_mapping(mapping_file(tmp_path, timezone="Asia/Tehran",
                                       date_formats=["ISO8601"]))
    m = map_file(p, "opportunities", tehran, as_of=AS_OF, timezone="UTC")
    got = m.frame.set_index("opportunity_id")["closed_at"]
    # by hand: Tehran kept +04:30 all year in 2017 (daylight saving: +04:30 from March 22)
    assert got["A1"] == pd.Timestamp("2017-06-30 21:30")
    assert got["A2"] == pd.Timestamp("2017-06-30 22:00")
    m = map_file(p, "opportunities", tehran, as_of=AS_OF, timezone="Asia/Tehran")
    got = m.frame.set_index("opportunity_id")["closed_at"]
    assert got["A1"] == pd.Timestamp("2017-07-01 02:00")  # July in Tehran
    assert got["A2"] == pd.Timestamp("2017-07-01 02:30")


def test_reporting_time_zone_is_validated_and_kept_per_store(tmp_path):
    from reporting.params import ReportSettings

    assert ReportSettings().timezone == "UTC"
    with pytest.raises(ValueError, match="unknown time zone"):
        ReportSettings(timezone="Europe/Atlantis")
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-06-20,2017-07-01,10\n")
    store = tmp_path / "s.duckdb"
    ingest_paths([p], "maven", store, as_of=AS_OF, timezone="Asia/Tehran")
    with pytest.raises(MappingError, match="time zone is Asia/Tehran .* uses UTC"):
        ingest_paths([p], "maven", store, as_of=AS_OF, timezone="UTC")


# --------------------------------------------------------------------------- 11.9 currencies


def test_amounts_are_converted_with_dated_rates_then_static(tmp_path):
    (tmp_path / "fx.csv").write_text(
        "date,currency,rate\n2017-01-01,EUR,1.05\n2017-06-01,EUR,1.12\n")
    m_path = mapping_file(tmp_path, currency={
        "default": "USD", "reporting": "USD", "rates": {"GBP": 1.25, "EUR": 1.0},
        "rates_file": "fx.csv"})
    raw = yaml.safe_load(m_path.read_text())
    raw["tables"]["opportunities"]["optional_columns"] = {"currency": "currency"}
    m_path.write_text(yaml.safe_dump(raw))
    p = write(tmp_path, HEADER.rstrip("\n") + ",currency\n"
              + "A1,Ann,P,Acme,Won,2017-01-01,2017-03-01,100,EUR\n"   # 1.05 (March)
              + "A2,Ann,P,Acme,Won,2017-01-01,2017-07-01,100,EUR\n"   # 1.12 (July)
              + "A3,Ann,P,Acme,Won,2016-01-01,2016-12-31,100,EUR\n"   # before: static 1.0
              + "A4,Ann,P,Acme,Won,2017-01-01,2017-03-01,100,GBP\n"   # static 1.25
              + "A5,Ann,P,Acme,Won,2017-01-01,2017-03-01,100,USD\n"
              + "A6,Ann,P,Acme,Won,2017-01-01,2017-03-01,100,JPY\n")  # no rate at all
    store = tmp_path / "s.duckdb"
    rep = ingest_paths([p], m_path, store, as_of=AS_OF)
    got = dict(rows(store, "SELECT opportunity_id, amount FROM opportunities"))
    assert got == pytest.approx({"A1": 105.0, "A2": 112.0, "A3": 100.0, "A4": 125.0,
                                 "A5": 100.0})
    assert rep.reasons()["reason"].tolist() == ["unknown currency without a rate"]
    notes = dict(rows(store, 'SELECT code, "rows" FROM data_notes'))
    assert notes == {"fx_dated": 2, "fx_static": 2}
    texts = dict(rows(store, "SELECT code, text FROM data_notes"))
    assert "dated rates from fx.csv" in texts["fx_dated"]


def test_bad_rates_file_is_a_mapping_error(tmp_path):
    (tmp_path / "fx.csv").write_text("date,currency,rate\n2017-01-01,EUR,inf\n")
    p = mapping_file(tmp_path, currency={"reporting": "USD", "rates_file": "fx.csv"})
    with pytest.raises(MappingError, match="line\\(s\\) 2"):
        load_mapping(p)


def test_store_with_two_reporting_currencies_is_an_error_naming_both(tmp_path):
    p = write(tmp_path, HEADER + "A1,Ann,P,Acme,Won,2017-06-20,2017-07-01,10\n")
    store = tmp_path / "s.duckdb"
    ingest_paths([p], "maven", store, as_of=AS_OF)
    eur = mapping_file(tmp_path, name="maven_eur",
                       currency={"default": "EUR", "reporting": "EUR"})
    with pytest.raises(MappingError) as e:
        ingest_paths([p], eur, store, as_of=AS_OF)
    msg = str(e.value)
    assert "USD" in msg and "EUR" in msg and "'maven'" in msg and "'maven_eur'" in msg
    assert rows(store, "SELECT COUNT(*) FROM ingest_log") == [(1,)]


def test_every_new_error_is_a_reporting_error():
    for cls in (DataValidationError, MappingError, StoreError):
        assert issubclass(cls, ReportingError)


def test_quality_appendix_lists_the_data_notes(tmp_path, monkeypatch):
    """The report's data-quality appendix lists each ingest decision with its count."""
    from types import SimpleNamespace

    from reporting import presentation, store
    from reporting.i18n import tr
    from reporting.presentation import fragments

    ingest_paths([shared("maven_crm")], "maven", tmp_path / "m.duckdb", as_of=AS_OF)
    data = store.load(tmp_path / "m.duckdb")
    shown = []
    monkeypatch.setattr(fragments, "display", lambda h: shown.append(h.data))
    for language in ("en", "fa"):
        presentation.show_quality(SimpleNamespace(
            data=data, missing={}, language=language,
            t=lambda text, language=language: tr(text, language)))
    html = shown[0]
    assert "Rows kept with a data-quality note" in html
    assert "Prospecting" in html and ">500<" in html
    assert "ردیف‌های نگه‌داشته با یادداشت کیفیت داده" in shown[1]
