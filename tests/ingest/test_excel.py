"""Excel workbooks: one sheet per table (or the sheet the mapping names), validated and
quarantined as CSV files are, with the sheet's row numbers."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

xlsxwriter = pytest.importorskip("xlsxwriter")

from reporting.exceptions import DataValidationError, MappingError  # noqa: E402
from reporting.ingest import files_for_tables, ingest_paths, map_file  # noqa: E402
from reporting.sources import load_mapping  # noqa: E402

from ..conftest import shared  # noqa: E402

AS_OF = "2026-12-01"
HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
          "close_date", "close_value"]


def workbook(path: Path, sheets: dict[str, list[list[object]]], *, dates: bool = True) -> Path:
    """Write ``sheets`` (name -> rows, first row the header); datetime/date cells get a
    date format (Excel's date cells), ``("=formula", cached)`` a formula with its cached
    value, and strings are always text (never formulas)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                         "strings_to_numbers": False})
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, tuple):
                    ws.write_formula(i, j, v[0], None, v[1])
                elif isinstance(v, datetime | date):
                    ws.write_datetime(i, j, v, fmt)
                elif isinstance(v, str):
                    ws.write_string(i, j, v)
                else:
                    ws.write_number(i, j, v)
    wb.close()
    return path


def test_excel_cells_map_like_csv_text(tmp_path):
    p = workbook(tmp_path / "crm.xlsx", {"sales_pipeline": [
        HEADER,
        # row 2: datetime cells, an amount stored as a float
        ["A1", "Ann", "GTX Basic", "Acme", "Won", datetime(2017, 1, 2), datetime(2017, 2, 1),
         1000.0],
        # row 3: a number id (1001.0 -> "1001"), dates as Excel serial numbers
        # (42737 = 2017-01-02, 42767 = 2017-02-01: days since 1899-12-30), a formula's
        # cached value as the amount
        [1001.0, "Bob", "GTX Pro", "Acme", "Won", 42737, 42767, ("=1000+200", 1200)],
        # row 4: formula-like text stays text (loaded as the product name, not evaluated)
        ["A3", "Bob", "=HYPERLINK(\"http://x\")", "Acme", "Lost", "2017-01-05", "2017-01-09",
         0],
        # row 5: a text date that does not parse: quarantined with the sheet's row number
        ["A4", "Bob", "GTX Basic", "Acme", "Won", "2017-02-31", "2017-03-01", 10],
        [None] * 8,  # trailing empty rows are not rows
        [None] * 8,
    ]})
    m = map_file(p, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert (m.result.read, m.result.loaded, m.result.quarantined) == (4, 3, 1)
    f = m.frame.set_index("opportunity_id")
    assert list(f.index) == ["A1", "1001", "A3"]
    assert f.loc["A1", "created_at"] == pd.Timestamp("2017-01-02")
    assert f.loc["1001", "created_at"] == pd.Timestamp("2017-01-02")
    assert f.loc["1001", "closed_at"] == pd.Timestamp("2017-02-01")
    assert f.loc["1001", "amount"] == 1200.0
    assert f.loc["A3", "product"] == '=HYPERLINK("http://x")'
    q = m.quarantine.iloc[0]
    assert (q["file"], q["row"], q["column"]) == (f"{p}[sales_pipeline]", 5, "created_at")
    assert (q["reason_code"], q["reason"], q["value"]) == ("bad_date", "unparseable date",
                                                          "2017-02-31")
    assert json.loads(q["record"])["opportunity_id"] == "A4"


def test_header_below_blank_rows_blank_and_merged_header_cells(tmp_path):
    """Row numbers are the sheet's: a header in row 3 puts the first record in row 4;
    a blank header cell over values (the tail of a merged cell) names its column by its
    letter; empty trailing columns are dropped."""
    path = tmp_path / "crm.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("sales_pipeline")
    ws.merge_range(2, 8, 2, 9, "notes")  # I3:J3 merged, J holds values below
    for j, h in enumerate(HEADER):
        ws.write_string(2, j, h)
    ws.write_row(3, 0, ["A1", "Ann", "GTX Basic", "Acme", "Won", "2017-01-02", "2017-02-01"])
    ws.write_number(3, 7, 5)
    ws.write_string(3, 9, "kept aside")
    ws.write_row(4, 0, ["A2", "Ann", "GTX Basic", "Acme", "Won", "2017-01-02", "2017-02-01"])
    ws.write_number(4, 7, -5)
    ws.write_string(9, 12, "")  # an empty cell far right and below
    wb.close()
    from reporting.ingest import read_export

    raw = read_export(path, load_mapping("maven"), table="opportunities")
    assert list(raw.columns) == [*HEADER, "notes", "(column J)"]
    assert raw.attrs["lines"].tolist() == [4, 5]
    m = map_file(path, "opportunities", load_mapping("maven"), as_of=AS_OF)
    assert m.quarantine[["row", "reason_code"]].values.tolist() == [[5, "negative_value"]]


def test_sheet_named_in_the_mapping_and_number_cells_ignore_the_decimal_mark(tmp_path):
    mapping = tmp_path / "eu.yaml"
    mapping.write_text(
        "name: eu\n"
        "date_formats: ['%d.%m.%Y']\n"
        "decimal: ','\n"
        "thousands: '.'\n"
        "tables:\n"
        "  opportunities:\n"
        "    sheet: Deals 2017\n"
        "    columns: {opportunity_id: Id, owner: Owner, created_at: Created, closed_at: Closed,\n"
        "              amount: Amount}\n"
        "    status_from: Stage\n"
        "    statuses: {Won: won, Open: open}\n",
        encoding="utf-8",
    )
    p = workbook(tmp_path / "eu.xlsx", {
        "Notes": [["nothing here"]],
        "Deals 2017": [
            ["Id", "Owner", "Stage", "Created", "Closed", "Amount"],
            [7, "Eva", "Won", "02.01.2017", "01.02.2017", "1.234,50"],  # text, EU style
            [8, "Eva", "Won", 42737, datetime(2017, 2, 1), 1234.5],      # typed cells
        ],
    })
    pairs = files_for_tables([p], load_mapping(mapping))
    assert [(e.table, e.sheet, e.label) for e in pairs] == [
        ("opportunities", "Deals 2017", f"{p}[Deals 2017]")]
    m = map_file(p, "opportunities", load_mapping(mapping), as_of=AS_OF)
    assert m.result.quarantined == 0
    assert m.frame["amount"].tolist() == [1234.5, 1234.5]
    assert m.frame["created_at"].tolist() == [pd.Timestamp("2017-01-02")] * 2
    assert m.frame["opportunity_id"].tolist() == ["7", "8"]


def test_missing_sheet_names_the_workbook_and_its_sheets(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: m\ntables:\n  opportunities:\n    sheet: Deals\n"
        "    columns: {opportunity_id: Id, owner: Owner, created_at: Created}\n"
        "    status_from: Stage\n    statuses: {Open: open}\n", encoding="utf-8")
    p = workbook(tmp_path / "book.xlsx", {"Pipeline": [["Id"]], "Teams": [["x"]]})
    with pytest.raises(DataValidationError) as e:
        ingest_paths([p], mapping, tmp_path / "s.duckdb", as_of=AS_OF)
    msg = str(e.value)
    assert str(p) in msg and "no sheet 'Deals'" in msg and "'Pipeline', 'Teams'" in msg
    assert not (tmp_path / "s.duckdb").exists()  # failed before the store was opened


def test_workbook_without_any_table_sheet(tmp_path):
    p = workbook(tmp_path / "book.xlsx", {"Sheet1": [["a"]], "Sheet2": [["b"]]})
    with pytest.raises(DataValidationError, match=r"no sheet of this workbook holds a table"
                                                  r".*'Sheet1', 'Sheet2'.*sales_pipeline"):
        files_for_tables([p], load_mapping("maven"))


def test_one_sheet_workbook_is_read_like_one_csv_file(tmp_path):
    """A CRM's one-sheet export (HubSpot's "Export" to XLSX) holds the opportunities,
    whatever the sheet is called, as a single CSV file given directly does."""
    p = workbook(tmp_path / "export.xlsx", {"Export": [
        HEADER, ["A1", "Ann", "GTX Basic", "Acme", "Won", "2017-01-02", "2017-02-01", 10]]})
    assert [(e.table, e.sheet) for e in files_for_tables([p], load_mapping("maven"))] == [
        ("opportunities", "Export")]
    rep = ingest_paths([p], "maven", tmp_path / "s.duckdb", as_of=AS_OF)
    assert [(r.file, r.table, r.loaded) for r in rep.results] == [
        (f"{p}[Export]", "opportunities", 1)]


def test_sheet_key_is_validated(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: m\ntables:\n  opportunities:\n    sheet: 'Q1/Q2'\n"
        "    columns: {opportunity_id: Id, owner: Owner, created_at: Created}\n"
        "    status_from: Stage\n    statuses: {Open: open}\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"tables\.opportunities\.sheet.*'Q1/Q2' is not a "
                                           r"workbook sheet name"):
        load_mapping(mapping)


def test_not_a_workbook_is_a_clear_error(tmp_path):
    p = tmp_path / "fake.xlsx"
    p.write_text("id,owner\n1,Ann\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"fake\.xlsx: not a readable workbook"):
        files_for_tables([p], load_mapping("maven"))


def _csv_to_workbook(folder: Path, out: Path) -> Path:
    """The Maven CSVs as one workbook, one sheet per file, typed as Excel would hold
    them: numbers as numbers, dates as date cells, empty fields as empty cells."""
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False})
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for f in sorted(folder.glob("*.csv")):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        ws = wb.add_worksheet(f.stem)
        ws.write_row(0, 0, list(df.columns))
        for j, c in enumerate(df.columns):
            col = df[c]
            num = pd.to_numeric(col, errors="coerce")
            day = pd.to_datetime(col, format="%Y-%m-%d", errors="coerce")
            for i, v in enumerate(col):
                if v == "":
                    continue
                if pd.notna(day.iloc[i]):
                    ws.write_datetime(i + 1, j, day.iloc[i].to_pydatetime(), fmt)
                elif pd.notna(num.iloc[i]):
                    ws.write_number(i + 1, j, float(num.iloc[i]))
                else:
                    ws.write_string(i + 1, j, v)
    wb.close()
    return out


def test_maven_as_one_workbook_loads_like_the_csvs(tmp_path):
    folder = shared("maven_crm")
    book = _csv_to_workbook(folder, tmp_path / "maven.xlsx")
    csv_rep = ingest_paths([folder], "maven", tmp_path / "csv.duckdb", as_of=AS_OF)
    xl_rep = ingest_paths([book], "maven", tmp_path / "xl.duckdb", as_of=AS_OF)

    def counts(rep):
        return sorted((r.table, r.read, r.loaded, r.quarantined, tuple(sorted(r.notes.items())))
                      for r in rep.results)

    assert counts(xl_rep) == counts(csv_rep)
    assert {r.file for r in xl_rep.results} == {
        f"{book}[sales_pipeline]", f"{book}[sales_teams]", f"{book}[accounts]"}
    assert sum(r.read for r in xl_rep.results if r.table == "opportunities") == 8800
    tables = {}
    for name in ("csv", "xl"):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        tables[name] = {t: con.execute(f"SELECT * FROM {t}").df() for t in
                        ("opportunities", "reps", "accounts")}
        con.close()
    for t, key in (("opportunities", "opportunity_id"), ("reps", "rep_id"),
                   ("accounts", "account_id")):
        a = tables["csv"][t].sort_values(key).reset_index(drop=True)
        b = tables["xl"][t].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
