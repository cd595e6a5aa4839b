"""The mapping steps one by one (parse, coerce, validate, deduplicate, quarantine) and the
quarantine reason codes."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from reporting.exceptions import MappingError
from reporting.ingest import (
    REASON_CODES,
    Problems,
    SeenKeys,
    coerce,
    deduplicate,
    ingest_paths,
    map_file,
    parse,
    quarantine,
    reason_label,
    validate,
)
from reporting.sources import SourceMapping, load_mapping

NOW = pd.Timestamp("2026-12-01")
HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"


def mapping() -> SourceMapping:
    return SourceMapping.model_validate({
        "name": "t",
        "tables": {"opportunities": {
            "columns": {"opportunity_id": "Id", "owner": ["Owner", "Creator"],
                        "created_at": "Created", "closed_at": "Closed", "amount": "Amount",
                        "product": "Product"},
            "values": {"product": {"GTXPro": "GTX Pro"}},
            "status_from": "Stage",
            "statuses": {"Won": "won", "Open": "open", "Lost": "lost"},
        }},
    })


def raw(*rows: tuple[str, ...]) -> pd.DataFrame:
    cols = ["Id", "Owner", "Creator", "Created", "Closed", "Amount", "Product", "Stage"]
    return pd.DataFrame(list(rows), columns=cols, dtype=object)


def test_parse_picks_alternatives_renames_values_and_numbers_rows():
    p = parse(raw(("1", "", "Cy", "2017-01-02", "2017-02-01", "5", "GTXPro", "Won"),
                  ("2", "Ann", "Cy", "2017-01-02", "", "", "GTX Basic", "Open")),
              "opportunities", mapping(), "f.csv")
    assert p.columns["owner"].tolist() == ["Cy", "Ann"]  # first non-empty alternative
    assert p.columns["product"].tolist() == ["GTX Pro", "GTX Basic"]
    assert p.stage.tolist() == ["Won", "Open"]
    assert p.lines.tolist() == [2, 3]  # header is row 1
    with pytest.raises(MappingError, match=r"column\(s\) 'Amount' named in mapping"):
        parse(raw().drop(columns="Amount"), "opportunities", mapping(), "f.csv")


def test_coerce_flags_each_value_with_its_code():
    p = parse(raw(
        ("1", "Ann", "", "2017-01-02", "2017-02-01", "1,234.50", "X", "Won"),   # fine
        ("2", "Ann", "", "2017-02-31", "2017-03-01", "10", "X", "Won"),          # bad date
        ("3", "Ann", "", "1969-12-31", "2017-03-01", "10", "X", "Won"),          # < 1970
        ("4", "Ann", "", "2017-01-02", "2017-03-01", "ten", "X", "Won"),         # bad number
        ("5", "Ann", "", "2017-01-02", "2017-03-01", "2e13", "X", "Won"),        # too big
        ("6", "Ann", "", "2017-01-02", "", "", "X", "Maybe"),                    # stage
        ("7", "Ann", "", "2027-01-02", "", "", "X", "Open"),                     # future
    ), "opportunities", mapping(), "f.csv")
    problems = Problems()
    co = coerce(p, "opportunities", mapping(), problems, now=NOW)
    got = problems.frame().sort_values("idx", kind="stable")[["idx", "column", "code", "reason"]]
    # (2e13 is out of range as read and again after currency conversion: one row each)
    assert got.drop_duplicates().values.tolist() == [
        [1, "created_at", "bad_date", "unparseable date"],
        [2, "created_at", "date_before_1970", "date before 1970"],
        [3, "amount", "bad_number", "non-numeric amount"],
        [4, "amount", "out_of_range", "amount out of range (beyond ±1e13)"],
        [5, "stage", "unknown_stage", "unknown stage"],
        [6, "created_at", "date_in_future", "date in the future (after 2026-12-01)"],
    ]
    assert co.frame.loc[0, "amount"] == 1234.5
    assert co.frame.loc[0, "created_at"] == pd.Timestamp("2017-01-02")
    assert co.frame.loc[0, "status"] == "won"
    assert set(problems.frame()["code"]) <= set(REASON_CODES)


def test_validate_checks_only_rows_that_parsed():
    p = parse(raw(
        ("1", "", "", "2017-01-02", "2017-02-01", "5", "X", "Won"),      # no owner
        ("2", "Ann", "", "2017-03-02", "2017-02-01", "5", "X", "Lost"),  # closed < created
        ("3", "Ann", "", "2017-01-02", "2017-02-01", "", "X", "Won"),    # won, no amount
        ("4", "Ann", "", "2017-01-02", "2017-02-01", "-1", "X", "Won"),  # negative
        ("5", "", "", "bad", "2017-02-01", "5", "X", "Won"),             # bad date first
    ), "opportunities", mapping(), "f.csv")
    problems = Problems()
    co = coerce(p, "opportunities", mapping(), problems, now=NOW)
    validate(co.frame, "opportunities", co.texts, problems)
    got = sorted(map(tuple, problems.frame()[["idx", "column", "code"]].values.tolist()))
    assert got == [
        (0, "owner", "missing_required"),
        (1, "closed_at", "closed_before_created"),
        (2, "amount", "won_without_amount"),
        (3, "amount", "negative_value"),
        (4, "created_at", "bad_date"),  # its missing owner is not checked: it failed parsing
    ]


def test_deduplicate_names_the_first_row_and_keeps_it():
    p = parse(raw(
        ("1", "Ann", "", "2017-01-02", "2017-02-01", "5", "X", "Won"),
        ("1", "Ann", "", "2017-01-02", "2017-02-01", "5", "X", "Won"),   # identical
        ("1", "Ann", "", "2017-01-02", "2017-02-01", "6", "X", "Won"),   # conflicting
        ("2", "Ann", "", "2017-01-02", "2017-02-01", "5", "X", "Won"),
    ), "opportunities", mapping(), "f.csv")
    problems = Problems()
    co = coerce(p, "opportunities", mapping(), problems, now=NOW)
    with SeenKeys() as seen:
        deduplicate(co.frame, "opportunities", "f.csv", p.lines, problems, seen)
        assert len(seen.conflicted_firsts()) == 1  # the first row of key 1 is in conflict
    got = problems.frame()[["idx", "code", "reason"]].values.tolist()
    assert got == [
        [1, "duplicate_key", "duplicate id (identical to row 2)"],
        [2, "conflicting_duplicate", "duplicate id with conflicting values (first seen at row 2)"],
    ]


def test_quarantine_keeps_one_reason_per_row_damage_first():
    p = parse(raw(("1", "", "", "bad", "2017-02-01", "x", "X", "Won"),
                  ("2", "Ann", "", "2017-01-02", "2017-02-01", "5", "X", "Won")),
              "opportunities", mapping(), "f.csv")
    problems = Problems()
    problems.add_rows(np.array([0]), "Owner", "unbalanced_quote", "unbalanced quote: lines 2-4",
                      np.array(["..."]), prio=0)
    co = coerce(p, "opportunities", mapping(), problems, now=NOW)
    loaded, q, qkeys = quarantine(p, co.frame, "opportunities", "f.csv", problems)
    assert loaded["opportunity_id"].tolist() == ["2"]
    assert q[["row", "reason_code", "reason"]].values.tolist() == [
        [2, "unbalanced_quote", "unbalanced quote: lines 2-4"]]
    assert qkeys["opportunity_id"].tolist() == ["1"]


@pytest.mark.parametrize("chunksize", [None, 2, 4])
def test_a_record_with_extra_fields_is_quarantined_wherever_a_chunk_starts(tmp_path, chunksize):
    """pandas' C tokenizer does not look for extra fields in the first record of a block
    it tokenizes (it drops the values silently): found by the fuzz test with a quoted
    pipe-delimited export read in chunks of 4, where the last record (the first of its
    chunk) had one field too many and was taken as a duplicate of row 2."""
    p = tmp_path / "sales_pipeline.csv"
    row = '"D1"|"Ann"|"p"|"a"|"Won"|"2020-01-01"|"2020-02-01"|"5280"'
    lines = [row] * 6
    lines[2] = row + '|x'  # line 4: the first record of chunk 2 in chunks of 2
    lines[5] = row + '|x|"y"'  # line 7 (10 fields): the first of chunk 2 in chunks of 4
    p.write_text(HEADER.replace(",", "|") + "\n".join(lines) + "\n", encoding="utf-8")
    m = map_file(p, "opportunities", load_mapping("maven"), as_of="2026-11-28",
                 chunksize=chunksize)
    q = m.quarantine
    extra = q[q["reason_code"] == "extra_fields"]
    assert extra["row"].tolist() == [4, 7]
    assert extra["reason"].str.extract(r"\((\d+) fields")[0].tolist() == ["9", "10"]
    assert extra["value"].tolist() == [lines[2], lines[5]]
    assert q["row"].dtype == "int64"
    assert m.result.read == 6 and len(m.frame) == 1 and m.result.quarantined == 5


@pytest.mark.parametrize("bad", [(65_536,), (65_535, 65_537)])
def test_a_record_with_extra_fields_is_quarantined_at_the_parsers_block_edge(tmp_path, bad):
    """Read at once with its low-memory setting, pandas tokenizes an 8-column file in
    blocks of 65,536 records (the largest power of two below 2**20 // 8) and misses extra
    fields in the first record of each block; the reader tokenizes a chunk as one block."""
    p = tmp_path / "sales_pipeline.csv"
    n = 65_540
    body = [f"A{i},Ann,GTX Basic,Acme,Lost,2017-01-02,2017-02-01,0" for i in range(n)]
    for i in bad:  # (with pandas 2.3 both lost their extra field)
        body[i] += ",x"
    p.write_text(HEADER + "\n".join(body) + "\n", encoding="utf-8")
    m = map_file(p, "opportunities", load_mapping("maven"), as_of="2026-11-28", chunksize=None)
    extra = m.quarantine[m.quarantine["reason_code"] == "extra_fields"]
    assert extra["row"].tolist() == [i + 2 for i in bad]
    assert len(m.frame) == n - len(bad)


def test_every_quarantined_row_has_a_code(tmp_path):
    p = tmp_path / "sales_pipeline.csv"
    p.write_text(HEADER + "\n".join([
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000",   # 2: fine
        "A2,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,",       # 3
        "A3,Bob,GTX Basic,Acme,Lost,2017-03-02,2017-02-01,0",     # 4
        "A4,Bob,GTX Basic,Acme,Maybe,2017-01-02,,",               # 5
        "A5,Bob,GTX Basic,Acme,Won,2017-02-31,2017-03-01,10",     # 6
        "A6,Bob,GTX Basic,Acme,Won,2017-01-02,2017-03-01,-5",     # 7
        "A7,Bob,GTX Basic,Acme,Won,2017-01-02,2017-03-01,abc",    # 8
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000",   # 9
        "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,2000",   # 10
        ",Bob,GTX Basic,Acme,Engaging,2017-01-02,,",              # 11
        "A8,Bob,GTX Basic,Acme,Won,2017-01-02,,500",              # 12
        "A9,Bob,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1,2",    # 13: one field too many
    ]) + "\n", encoding="utf-8")
    m = map_file(p, "opportunities", load_mapping("maven"))
    got = dict(zip(m.quarantine["row"], m.quarantine["reason_code"], strict=True))
    assert got == {
        2: "conflicting_duplicate", 3: "won_without_amount", 4: "closed_before_created",
        5: "unknown_stage", 6: "bad_date", 7: "negative_value", 8: "bad_number",
        9: "duplicate_key", 10: "conflicting_duplicate", 11: "missing_required",
        12: "closed_without_date", 13: "extra_fields",
    }
    # counted by code and a label without row numbers: the two conflicting rows are one line
    assert m.result.reasons["duplicate id with conflicting values"] == 2
    assert m.result.reason_codes["duplicate id with conflicting values"] == "conflicting_duplicate"
    assert m.result.reasons["more fields than the header"] == 1


def test_reason_label_uses_the_code_not_the_text():
    assert reason_label("duplicate_key", "duplicate id (identical to row 7 of a.csv)") == (
        "duplicate id (identical)")
    assert reason_label("bad_number", "non-numeric amount") == "non-numeric amount"
    assert reason_label(None, "an old reason") == "an old reason"


def test_report_groups_by_code_and_old_stores_gain_the_column(tmp_path):
    p = tmp_path / "sales_pipeline.csv"
    p.write_text(HEADER + "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n"
                 "A1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n"
                 "A2,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n"
                 "A2,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,1000\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    rep = ingest_paths([p], "maven", store, as_of=NOW)
    assert rep.reasons().values.tolist() == [
        ["opportunities", "duplicate_key", "duplicate id (identical)", 2]]
    # a store made before the codes: its quarantine has no reason_code column
    con = duckdb.connect(str(store))
    con.execute("ALTER TABLE quarantine DROP COLUMN reason_code")
    con.execute("INSERT INTO quarantine VALUES ('old', 'maven', 'old.csv', 'opportunities', 2, "
                "'amount', 'non-numeric amount', 'x', '{}')")
    con.close()
    q2 = tmp_path / "sales_pipeline_2.csv"
    q2.write_text(HEADER + "B1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,abc\n",
                  encoding="utf-8")
    ingest_paths([q2], "maven", store, as_of=NOW)
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute('SELECT file, reason_code FROM quarantine ORDER BY file, "row"').fetchall()
    con.close()
    # rows quarantined before the column existed keep NULL; new rows have their code
    assert sorted(rows, key=str) == sorted([(str(p), None), (str(p), None), ("old.csv", None),
                                            (str(q2), "bad_number")], key=str)


def test_the_quality_appendix_counts_duplicates_as_one_reason(tmp_path):
    """Each duplicate's text names the row it repeats; the report's quarantine summary
    counts them under one label (by reason code), not one line per row."""
    import duckdb

    from reporting.store import _quarantine_summary

    raw = duckdb.sql("""SELECT * FROM (VALUES
        ('a.csv', 'opportunities', 'duplicate_key', 'duplicate id (identical to row 7)', 1),
        ('a.csv', 'opportunities', 'duplicate_key', 'duplicate id (identical to row 9)', 2),
        ('a.csv', 'opportunities', 'bad_date', 'created_at: not a date', 4),
        ('a.csv', 'opportunities', NULL, 'an old reason', 1))
        t(file, "table", reason_code, reason, rows)""").df()
    out = _quarantine_summary(raw)
    assert out.to_dict("records") == [
        {"file": "a.csv", "table": "opportunities", "reason": "created_at: not a date", "rows": 4},
        {"file": "a.csv", "table": "opportunities", "reason": "duplicate id (identical)", "rows": 3},
        {"file": "a.csv", "table": "opportunities", "reason": "an old reason", "rows": 1},
    ]
