"""The DuckDB fast path of the ingest (reporting.ingest.fast) against the pandas steps.

The pandas steps are the oracle: the same export is ingested twice, once with the fast
path switched off, and every table the ingest writes (deals, quarantine, flags, notes,
log counts, deal history) and the report must be the same. Hypothesis writes the exports:
plain CSVs the fast path takes (with every defect it decides itself: bad, early and
future dates, negative and absurd amounts, unknown stages, missing fields, identical and
conflicting duplicates, deals created after they closed, null tokens, renamed values) and,
mixed in, files it must leave to the pandas steps (quotes, Persian digits, currency
symbols, blank lines, ragged records, other encodings).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.exceptions import ReportingError
from reporting.ingest import fast, ingest_paths
from reporting.sources import SOURCES_DIR

AS_OF = "2026-11-28"
COLUMNS = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
           "close_date", "close_value"]
# 20 in make test; make fuzz runs 300 (CRM_FAST_EXAMPLES)
EXAMPLES = int(os.environ.get("CRM_FAST_EXAMPLES", "20"))


def _dump(store: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        out = {
            "opportunities": con.execute(
                "SELECT * FROM opportunities ORDER BY opportunity_id").df(),
            "quarantine": con.execute(
                'SELECT file, "table", "row", "column", reason_code, reason, value, record '
                'FROM quarantine ORDER BY file, "table", "row", "column", reason_code').df(),
            "row_flags": con.execute(
                'SELECT file, "table", key, code FROM row_flags ORDER BY ALL').df(),
            "data_notes": con.execute(
                'SELECT * EXCLUDE (batch_id) FROM data_notes ORDER BY ALL').df(),
            "ingest_log": con.execute(
                'SELECT file, "table", rows_read, rows_loaded, rows_quarantined FROM ingest_log '
                "ORDER BY ALL").df(),
            "history": con.execute(
                "SELECT * FROM opportunity_history ORDER BY opportunity_id, valid_from").df(),
            "snapshots": con.execute(
                "SELECT * FROM opportunity_snapshots ORDER BY opportunity_id, observed_at").df(),
        }
    finally:
        con.close()
    return out


def _ingest(paths: list[Path], source, store: Path, enabled: bool):
    fast.ENABLED = enabled
    fast.STAGED.clear()
    try:
        rep = ingest_paths(paths, source, store, as_of=AS_OF, timezone="UTC")
        return rep, list(fast.STAGED)
    finally:
        fast.ENABLED = True


def both(tmp: Path, paths: list[Path], source="maven") -> list[str]:
    """Ingest ``paths`` through both paths into two new stores, assert that they agree and
    return the files the fast path staged."""
    try:
        old_rep, old_staged = _ingest(paths, source, tmp / "old.duckdb", enabled=False)
    except ReportingError as exc:  # the same clear error both ways
        with pytest.raises(type(exc)) as got:
            _ingest(paths, source, tmp / "new.duckdb", enabled=True)
        assert str(got.value) == str(exc)
        return []
    new_rep, staged = _ingest(paths, source, tmp / "new.duckdb", enabled=True)
    assert old_staged == []
    a, b = _dump(tmp / "old.duckdb"), _dump(tmp / "new.duckdb")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)
    ra = [(r.file, r.table, r.read, r.loaded, r.quarantined, r.reasons, r.notes, r.reason_codes)
          for r in old_rep.results]
    rb = [(r.file, r.table, r.read, r.loaded, r.quarantined, r.reasons, r.notes, r.reason_codes)
          for r in new_rep.results]
    assert ra == rb
    pd.testing.assert_frame_equal(old_rep.quarantine.reset_index(drop=True),
                                  new_rep.quarantine.reset_index(drop=True), check_dtype=False)
    assert (old_rep.history_snapshots, old_rep.history_versions) == (
        new_rep.history_snapshots, new_rep.history_versions)
    return staged


def _write(folder: Path, text: str, name: str = "sales_pipeline.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(text.encode("utf-8"))
    return p


# --------------------------------------------------------------------------- by hand

HAND = """opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
D1,Ann,GTXPro,Acme,Won,2017-01-02,2017-02-01,100
D2,Bob, MG Special ,Acme,Lost,2017-02-30,2017-03-01,0
D3,Ann,GTX Basic,Beta,Maybe,2017-01-02,2017-02-01,5
D4,,GTX Basic,Beta,Engaging,2017-01-02,2017-06-01,
D5,Ann,GTX Basic,Beta,Prospecting,,,
D1,Ann,GTXPro,Acme,Won,2017-01-02,2017-02-01,100
D6,Bob,GTX Basic,Beta,Won,2017-03-05,2017-03-03,12.5
D7,Bob,GTX Basic,Beta,Won,2017-03-01,2017-03-02,-3
D8,Bob,GTX Basic,Beta,Won,2017-03-01,2017-03-02,
D6,Bob,GTX Basic,Beta,Won,2017-03-05,2017-03-03,13
"""


def test_fast_path_by_hand(tmp_path):
    """Ten lines the fast path takes, every answer worked out by hand: D1 twice (the copy,
    line 7, is an identical duplicate), D2's 30 February is unparseable, D3's stage is
    unknown, D4 has no owner, D5 is open without dates (created_at estimated), D6 was
    created two days after it closed (floored, flagged) and conflicts with its copy on
    line 11 (both quarantined), D7's amount is negative, D8 is won without amount."""
    p = _write(tmp_path / "x", HAND)
    staged = both(tmp_path, [p])
    assert staged == [str(p)]
    con = duckdb.connect(str(tmp_path / "new.duckdb"), read_only=True)
    q = con.execute('SELECT "row", "column", reason_code, reason, value FROM quarantine '
                    'ORDER BY "row"').fetchall()
    opps = con.execute("SELECT opportunity_id, owner, product, status, created_at, closed_at, "
                       "expected_close_date, amount FROM opportunities ORDER BY 1").df()
    flags = con.execute("SELECT key, code FROM row_flags ORDER BY 1").fetchall()
    con.close()
    assert q == [
        (3, "created_at", "bad_date", "unparseable date", "2017-02-30"),
        (4, "stage", "unknown_stage", "unknown stage", "Maybe"),
        (5, "owner", "missing_required", "missing required field owner", ""),
        (7, "opportunity_id", "duplicate_key", "duplicate id (identical to row 2)", "D1"),
        (8, "opportunity_id", "conflicting_duplicate",
         "duplicate id with conflicting values (conflicts with row 11)", "D6"),
        (9, "amount", "negative_value", "amount is negative", "-3"),
        (10, "amount", "won_without_amount", "won deal without amount", ""),
        (11, "opportunity_id", "conflicting_duplicate",
         "duplicate id with conflicting values (first seen at row 8)", "D6"),
    ]
    assert opps["opportunity_id"].tolist() == ["D1", "D5"]
    assert opps["product"].tolist() == ["GTX Pro", "GTX Basic"]
    assert opps["amount"].iloc[0] == 100.0 and pd.isna(opps["amount"].iloc[1])
    # D5: open, no dates: created_at is the export's last date (D1's close, 2017-02-01)
    assert opps["created_at"].tolist() == [pd.Timestamp("2017-01-02"), pd.Timestamp("2017-02-01")]
    assert flags == [("D5", "created_at_estimated")]


def test_decimal_amounts_as_pandas_reads_them(tmp_path):
    """0.1 + 0.2-like decimals: the fast path's amounts are pandas' floats, to the bit."""
    lines = [",".join(COLUMNS)] + [
        f"D{i},Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,{v}"
        for i, v in enumerate(["0.1", "1234.5678901234", "99.99", "12.", "7", "3.14159265358979"])
    ]
    p = _write(tmp_path / "x", "\n".join(lines) + "\n")
    assert both(tmp_path, [p]) == [str(p)]


@pytest.mark.parametrize("text, why", [
    ('opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n'
     'D1,Ann,"GTX, Basic",Acme,Won,2017-01-02,2017-02-01,100\n', "a quoted field"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D1,Ann,GTX,Acme,Won,۲۰۱۷-۰۱-۰۲,2017-02-01,100\n", "Persian digits"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D0,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,100\n"
     "D1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,$1,200\n", "a currency symbol (extra field)"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "\nD1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,100\n", "a blank line"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01\n", "a short record"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D1,Ann,GTX,Acme,Won,2017-1-2,2017-02-01,100\n", "a one-digit month"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,1.5k\n", "a human number"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     ",,,,,,,\nD1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,100\n", "an empty record"),
    ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
     "D1,Ann,GTX,Acme,Won,2017-01-02,2017-02-01,-0\n", "minus zero"),
])
def test_files_left_to_the_pandas_steps(tmp_path, text, why):
    p = _write(tmp_path / "x", text)
    assert both(tmp_path, [p]) == [], why


# --------------------------------------------------------------------------- fuzzed

ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                   exclude_characters='",;|'), max_size=12)
good_date = st.dates(min_value=pd.Timestamp("2012-01-01").date(),
                     max_value=pd.Timestamp("2026-11-01").date())


@st.composite
def fast_row(draw, ids: list[str], pandas_way: bool, tokens: bool) -> dict[str, str]:
    """One record; ``tokens``: the mapping reads NULL and n/a as missing (else they are
    text, and a date or number of that text leaves the fast path's domain)."""
    created = draw(good_date)
    closed = created + pd.Timedelta(days=draw(st.integers(0, 400)))
    r = {
        "opportunity_id": f"D{draw(st.integers(0, 60))}",
        "sales_agent": draw(st.sampled_from(["Ann", "Bob", " Cy ", "NULL"])),
        "product": draw(st.sampled_from(["GTX Basic", "GTXPro", "GTX Pro", " GTXPro", "n/a"])),
        "account": draw(ascii_text),
        "deal_stage": draw(st.sampled_from(["Won", "Lost", "Engaging", "Prospecting", " Won "])),
        "engage_date": created.isoformat(),
        "close_date": closed.isoformat(),
        "close_value": draw(st.sampled_from([str(draw(st.integers(0, 10**7))),
                                             f"{draw(st.integers(0, 10**5))}.{draw(st.integers(0, 999))}"])),
    }
    defect = draw(st.sampled_from([
        "none", "none", "none", "missing id", "missing owner", "bad date", "closed before created",
        "negative", "unknown stage", "dup same", "dup conflict", "won no amount",
        "future created", "future closed", "empty cells", "absurd amount", "before 1970",
        "created after close", "prospecting without dates", "null token", "spaces",
        # the pandas steps' domain: the file goes their way
        *(["persian", "dollar", "quote", "us date", "tab"] if pandas_way else []),
    ]))
    if defect == "missing id":
        r["opportunity_id"] = draw(st.sampled_from(["", " ", "null"]))
    elif defect == "missing owner":
        r["sales_agent"] = ""
    elif defect == "bad date":
        r[draw(st.sampled_from(["engage_date", "close_date"]))] = draw(st.sampled_from(
            ["2017-02-31", "2017-13-01", "1950-02-30", "2017-00-10"]))
    elif defect == "closed before created":
        r["close_date"] = (created - pd.Timedelta(days=draw(st.integers(1, 40)))).isoformat()
        r["deal_stage"] = draw(st.sampled_from(["Lost", "Won", "Engaging"]))
    elif defect == "negative":
        r["close_value"] = "-" + draw(st.sampled_from(["5", "12.5", "0.01"]))
    elif defect == "unknown stage":
        r["deal_stage"] = draw(st.sampled_from(["Maybe", "won", "", "NULL"]))
    elif defect in ("dup same", "dup conflict") and ids:
        r["opportunity_id"] = draw(st.sampled_from(ids))
    elif defect == "won no amount":
        r["deal_stage"], r["close_value"] = "Won", draw(st.sampled_from(
            ["", " ", "null"] if tokens else ["", " "]))
    elif defect == "future created":
        r["engage_date"] = draw(st.sampled_from(["2031-05-01", "2026-11-29", "2026-11-30"]))
    elif defect == "future closed":
        r["close_date"] = "2030-01-01"
        r["deal_stage"] = draw(st.sampled_from(["Won", "Engaging"]))
    elif defect == "empty cells":
        for c in draw(st.lists(st.sampled_from(COLUMNS), max_size=4)):
            r[c] = ""
    elif defect == "absurd amount":
        r["close_value"] = draw(st.sampled_from(["20000000000000", "-99999999999999",
                                                 "10000000000000", "10000000000000.5"]))
    elif defect == "before 1970":
        r[draw(st.sampled_from(["engage_date", "close_date"]))] = draw(st.sampled_from(
            ["1969-12-31", "1900-02-28", "1960-02-30"]))
    elif defect == "created after close":
        r["close_date"] = (created - pd.Timedelta(days=draw(st.integers(1, 5)))).isoformat()
        r["deal_stage"] = draw(st.sampled_from(["Won", "Lost"]))
    elif defect == "prospecting without dates":
        r["deal_stage"], r["engage_date"], r["close_date"] = "Prospecting", "", ""
    elif defect == "null token":
        r[draw(st.sampled_from(COLUMNS if tokens else COLUMNS[:5]))] = draw(
            st.sampled_from(["NULL", " n/a ", "null"]))
    elif defect == "spaces":
        c = draw(st.sampled_from(COLUMNS))
        r[c] = f"  {r[c]} "
    elif defect == "persian":
        r["close_value"] = r["close_value"].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    elif defect == "dollar":
        r["close_value"] = f"${r['close_value']}"
    elif defect == "quote":
        r["account"] = 'Ann "The" Lee'
    elif defect == "us date":
        r["engage_date"] = created.strftime("%m/%d/%Y")
    elif defect == "tab":
        r["account"] = "a\tb"
    return r


@st.composite
def fast_export(draw) -> dict:
    rows: list[dict[str, str]] = []
    pandas_way = draw(st.integers(0, 3)) == 0  # a quarter of the exports may leave the domain
    tokens = draw(st.booleans())
    for _ in range(draw(st.integers(1, 25))):
        r = draw(fast_row([x["opportunity_id"] for x in rows], pandas_way, tokens))
        if rows and draw(st.integers(0, 9)) == 0:
            r = dict(draw(st.sampled_from(rows)))
        rows.append(r)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=",", lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                   quoting=csv.QUOTE_MINIMAL)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    text = buf.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last record
    return {"text": text, "tokens": tokens, "days": draw(st.sampled_from([0, 3])),
            "pandas_way": pandas_way}


def _mapping(tmp: Path, tokens: bool, days: int) -> Path:
    m = yaml.safe_load((SOURCES_DIR / "maven.yaml").read_text(encoding="utf-8"))
    if tokens:
        m["null_tokens"] = ["NULL", "n/a"]
    m["created_after_close_days"] = days
    m["tables"] = {"opportunities": m["tables"]["opportunities"]}
    p = tmp / "mapping.yaml"
    p.write_text(yaml.safe_dump(m), encoding="utf-8")
    return p


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ex=fast_export())
def test_fuzzed_exports_agree(tmp_path_factory, ex):
    tmp = tmp_path_factory.mktemp("fast")
    p = _write(tmp / "export", ex["text"])
    staged = both(tmp, [p], source=_mapping(tmp, ex["tokens"], ex["days"]))
    if not ex["pandas_way"]:
        assert staged == [str(p)]
    STATS["fast"] += bool(staged)
    STATS["pandas"] += not staged


STATS = {"fast": 0, "pandas": 0}


def teardown_module(module):
    print(f"\nfast path: {STATS['fast']} exports, pandas steps: {STATS['pandas']}")
