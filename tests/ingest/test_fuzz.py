"""Fuzzing the ingest with malformed exports.

Hypothesis writes exports mixing valid rows with every kind of defect the ingest knows
(missing fields, bad and future dates, bad amounts, unknown stages, duplicates, ...),
hostile text (bidi overrides, zero-width characters, HTML, ``javascript:`` and ``file://``
strings, very long strings), random delimiters, encodings, byte-order marks, garbage and
truncation, and feeds them through :func:`ingest_paths` into a temporary store.

Whatever the input: either a ``ReportingError`` whose message names the file, or every row
accounted for (read = loaded + quarantined per file), the store holding exactly what the
report says, quarantine rows that are physical lines of the file, and nothing written
outside the test's folder (the store and its reports). The counts are printed at the end
of the module.

``CRM_FUZZ_EXAMPLES`` sets the number of exports (default 200, inside the normal
``pytest`` run); ``make fuzz`` runs 2,000.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reporting.exceptions import ReportingError
from reporting.ingest import REASON_CODES, ingest_paths, map_file, reason_label
from reporting.sources import SOURCES_DIR, load_mapping

ROOT = Path(__file__).resolve().parents[2]
#: exports per run of the main fuzz test (make fuzz: 2000)
EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "200"))
AS_OF = "2026-11-28"
COLUMNS = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
           "close_date", "close_value"]
STATS = {"chunked-vs-whole comparisons": 0, "inputs tried": 0, "loaded (all rows accounted for)": 0,
         "rejected with a clear message": 0, "crashes": 0, "unaccounted rows": 0,
         "multi-file exports": 0, "parquet exports": 0,
         "rows read": 0, "rows loaded": 0, "rows quarantined": 0,
         "report runs finished": 0, "report runs with a clear error": 0}
REASONS: dict[str, int] = {}
ERRORS: dict[str, int] = {}

HOSTILE = [
    "<script>alert(1)</script>", "javascript:alert(document.cookie)", "file:///etc/passwd",
    "=HYPERLINK(\"http://x\")", "\u202eevil.exe\u202c", "a\u200bb\u200cc\u200dd", "\ufeffBOM",
    "رضا", "شرکت فروش", "Ann \"The\" Lee", "x,y;z\t|w", "two\nlines", "cr\ronly", "NULL",
    "-", "nan", "N/A", "   ", "\u00a0", "'; DROP TABLE opportunities; --", "../../etc",
    "x" * 20_000, "\U0001f600" * 50,
]
text = st.one_of(
    # NUL: see "nul" damage; no lone surrogates: no file of any encoding holds one (the
    # parquet writer refuses them; the CSV path replaced them), so they are not an export
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
            max_size=25),
    st.sampled_from(HOSTILE),
    st.text(alphabet="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200e\u200fab ",
            max_size=12),
)
good_date = st.dates(min_value=pd.Timestamp("2012-01-01").date(),
                     max_value=pd.Timestamp("2026-11-01").date())
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@st.composite
def row(draw, ids: list[str]) -> dict[str, str]:
    created = draw(good_date)
    closed = created + pd.Timedelta(days=draw(st.integers(0, 400)))
    r = {
        "opportunity_id": f"D{draw(st.integers(0, 10_000))}",
        "sales_agent": draw(st.sampled_from(["Ann", "Bob", "رضا"])),
        "product": draw(text),
        "account": draw(text),
        "deal_stage": draw(st.sampled_from(["Won", "Lost", "Engaging", "Prospecting"])),
        "engage_date": created.isoformat(),
        "close_date": closed.isoformat(),
        "close_value": str(draw(st.integers(0, 10**7))),
    }
    defect = draw(st.sampled_from([
        "none", "none", "none", "missing id", "missing owner", "bad date", "us date",
        "closed before created", "negative", "parens", "non-numeric", "unknown stage",
        "dup same", "dup conflict", "won no amount", "future created", "future closed",
        "persian", "dollar", "empty cells", "garbage cell", "thousands",
        "absurd amount", "before 1970", "dst offsets", "names like nulls", "created after close",
        "prospecting without dates",
    ]))
    if defect == "missing id":
        r["opportunity_id"] = draw(st.sampled_from(["", " ", "null"]))
    elif defect == "missing owner":
        r["sales_agent"] = ""
    elif defect == "bad date":
        r["engage_date"] = draw(st.sampled_from(["2017-02-31", "yesterday", "0000-00-00", "2017-13-01",
                                                 "99999-01-01"]))
    elif defect == "us date":
        r["engage_date"] = created.strftime("%m/%d/%Y")
    elif defect == "closed before created":
        r["close_date"] = (created - pd.Timedelta(days=3)).isoformat()
        r["deal_stage"] = "Lost"
    elif defect == "negative":
        r["close_value"] = "-" + r["close_value"]
    elif defect == "parens":
        r["close_value"] = f"({r['close_value']})"
    elif defect == "non-numeric":
        r["close_value"] = draw(st.sampled_from(["abc", "12 apples", "1,5", "1e400", "inf", "--3"]))
    elif defect == "unknown stage":
        r["deal_stage"] = draw(st.sampled_from(["Maybe", "won", "", "Won\u200b"]))
    elif defect in ("dup same", "dup conflict") and ids:
        r["opportunity_id"] = draw(st.sampled_from(ids))
    elif defect == "won no amount":
        r["deal_stage"], r["close_value"] = "Won", ""
    elif defect == "future created":
        r["engage_date"] = "2031-05-01"
    elif defect == "future closed":
        r["close_date"], r["deal_stage"] = "2030-01-01", "Won"
    elif defect == "persian":
        r["engage_date"] = r["engage_date"].translate(PERSIAN)
        r["close_value"] = r["close_value"].translate(PERSIAN)
    elif defect == "dollar":
        r["close_value"] = f"${int(r['close_value']):,}.50"
    elif defect == "thousands":
        r["close_value"] = f"{int(r['close_value']):,}"
    elif defect == "empty cells":
        for c in draw(st.lists(st.sampled_from(COLUMNS), max_size=4)):
            r[c] = ""
    elif defect == "garbage cell":
        r[draw(st.sampled_from(COLUMNS))] = draw(text)
    elif defect == "absurd amount":
        r["close_value"] = draw(st.sampled_from(["1e308", "-1e308", "2e13", "99999999999999999999",
                                                 "1e13", "Infinity", "NaN"]))
    elif defect == "before 1970":
        r["engage_date"] = draw(st.sampled_from(["0001-01-01", "1969-12-31", "1900-02-28"]))
    elif defect == "dst offsets":  # a daylight-saving change inside one column
        r["engage_date"] = draw(st.sampled_from(["2017-03-11T10:00:00-08:00",
                                                 "2017-03-12T10:00:00-07:00"]))
        r["close_date"] = draw(st.sampled_from(["2017-11-04T23:30:00-07:00",
                                                "2017-11-06T01:30:00-08:00", "2017-11-05"]))
    elif defect == "names like nulls":
        r["sales_agent"] = draw(st.sampled_from(["NA", "None", "-", "null", "N/A"]))
    elif defect == "created after close":
        r["close_date"] = (created - pd.Timedelta(days=draw(st.integers(1, 5)))).isoformat()
    elif defect == "prospecting without dates":
        r["deal_stage"], r["engage_date"], r["close_date"] = "Prospecting", "", ""
    return r


def _csv_bytes(draw, rows, header, delimiter, encoding, terminator, quoting) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    w.writerow(header)
    for r in rows:
        w.writerow([r[c] for c in header])
    return buf.getvalue().encode(encoding, errors="replace")


@st.composite
def export(draw) -> dict:
    rows: list[dict[str, str]] = []
    for _ in range(draw(st.integers(0, 20))):
        r = draw(row([x["opportunity_id"] for x in rows]))
        if rows and draw(st.integers(0, 9)) == 0:
            r = dict(draw(st.sampled_from(rows)))  # an identical duplicate
        rows.append(r)
    kind = draw(st.sampled_from(["csv"] * 8 + ["two files"] + ["parquet"]))
    header = list(COLUMNS)
    if draw(st.integers(0, 15)) == 0:
        header.remove(draw(st.sampled_from(COLUMNS)))  # a column missing
    if kind == "parquet":
        frame = pd.DataFrame([{c: r[c] for c in header} for r in rows], columns=header)
        if "close_value" in header:
            frame["close_value"] = pd.to_numeric(frame["close_value"], errors="coerce").astype(
                "float64")
            specials = draw(st.lists(st.sampled_from([np.inf, -np.inf, np.nan, 1e308, None]),
                                     max_size=3))
            for i, v in enumerate(specials[: len(frame)]):
                frame.loc[i, "close_value"] = v
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return {"files": {"sales_pipeline.parquet": buf.getvalue()}, "rows": len(rows),
                "intact": header == COLUMNS, "encoding": None,
                "chunksize": draw(st.sampled_from([None, 5])), "folder": False}
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1256", "latin-1"]))
    declare = draw(st.booleans())
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    names = (["sales_pipeline_1.csv", "sales_pipeline_2.csv"] if kind == "two files" else
             [draw(st.sampled_from(["sales_pipeline.csv", "sales pipeline (1).csv",
                                    "sales_pipeline_رضا.csv"]))])
    cut = draw(st.integers(0, len(rows))) if kind == "two files" else len(rows)
    parts = [rows[:cut], rows[cut:]] if kind == "two files" else [rows]
    files = {}
    intact = header == COLUMNS
    for name, part in zip(names, parts, strict=True):
        data = _csv_bytes(draw, part, header, delimiter, encoding, terminator, quoting)
        damage = draw(st.sampled_from(["none"] * 10 + ["truncate", "prefix", "random bytes", "nul",
                                                       "stray quote", "extra field",
                                                       "blank lines"]))
        lines = data.split(b"\n")
        if damage == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif damage == "prefix":
            data = draw(st.binary(min_size=1, max_size=16)) + data
        elif damage == "random bytes":
            data = draw(st.binary(max_size=400))
        elif damage == "nul":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\x00" + data[at:]
        elif damage in ("stray quote", "extra field", "blank lines") and encoding == "utf-8" \
                and len(lines) > 2:
            at = draw(st.integers(1, len(lines) - 2))
            if damage == "stray quote":  # an unbalanced quote opening a field
                lines[at] = b'"' + lines[at]
            elif damage == "extra field":  # one more value than the header
                lines[at] = lines[at].rstrip(b"\r") + delimiter.encode() + b"x" + (
                    b"\r" if terminator == "\r\n" else b"")
            else:
                lines[at:at] = [b"\r" if terminator == "\r\n" else b""] * draw(st.integers(1, 3))
            data = b"\n".join(lines)
        else:
            damage = "none" if damage in ("stray quote", "extra field", "blank lines") else damage
        # a stray quote merges records; other damage can make a file unreadable
        intact = intact and damage in ("none", "extra field", "blank lines")
        files[name] = data
    # a bare CR in an unquoted field is a line break to every CSV reader: more records
    bare_cr = quoting == csv.QUOTE_MINIMAL and terminator == "\n" and any(
        "\r" in v for r in rows for v in r.values()
    )
    return {
        "files": files,
        "rows": len(rows),
        "intact": intact and not bare_cr,
        "encoding": encoding if declare and encoding not in ("utf-8-sig", "utf-16") else None,
        "chunksize": draw(st.sampled_from([None, None, 5, 1000])),
        "folder": kind == "two files",
    }


DATA_SUFFIXES = (".duckdb", ".wal", ".tmp", ".csv", ".parquet", ".json")


def _snapshot() -> dict[str, float]:
    """Data-like files of the project tree and the working folder, with their mtimes.

    (Only data-like names: another engineer may be editing code while the suite runs.)
    """
    skip = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache",
            "node_modules"}
    out: dict[str, float] = {}
    for top in {ROOT, Path.cwd()}:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in skip]
            for f in filenames:
                if f.endswith(DATA_SUFFIXES) or ".duckdb" in f:
                    p = os.path.join(dirpath, f)
                    try:
                        out[p] = os.stat(p).st_mtime
                    except OSError:
                        pass
    return out


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary(request):
    before = _snapshot()
    yield
    after = _snapshot()
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert not changed, f"the ingest wrote outside its temporary folder: {changed}"
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    lines = ["", "ingest fuzz summary: " + ", ".join(f"{k}: {v}" for k, v in STATS.items())]
    lines.append("  quarantine reasons seen: " + ", ".join(
        f"{k} ({v})" for k, v in sorted(REASONS.items(), key=lambda kv: -kv[1])))
    lines.append("  errors seen: " + ", ".join(
        f"{k} ({v})" for k, v in sorted(ERRORS.items(), key=lambda kv: -kv[1])))
    if tr is not None and capman is not None:
        with capman.global_and_fixture_disabled():
            for line in lines:
                tr.write_line(line)
    else:  # pragma: no cover
        print("\n".join(lines))


def _error_kind(msg: str) -> str:
    for key in ("not valid", "more fields", "truncated", "well-formed", "binary", "empty",
                "no header", "not in the file", "ZIP", "PDF", "gzip", "Parquet", "cannot be read"):
        if key in msg:
            return key
    return msg[:60]


# no shrinking: each example is a whole ingest, and shrinking one can take minutes
NO_SHRINK = [Phase.explicit, Phase.generate]


LOADED_EXPORTS: list[dict] = []  # a few fuzzed exports that loaded rows, for a report run
RAN_FUZZ: list[bool] = []  # the fuzz test ran in this session


@pytest.fixture(scope="module")
def fuzz_mapping(tmp_path_factory) -> Path:
    """Maven's mapping reading ISO timestamps too (so offsets are parsed, not rejected)."""
    raw = yaml.safe_load((SOURCES_DIR / "maven.yaml").read_text())
    raw.update(name="maven_fuzz", date_formats=["%Y-%m-%d", "ISO8601"])
    p = tmp_path_factory.mktemp("fuzz-mapping") / "maven_fuzz.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return p


def _physical_lines(data: bytes) -> int:
    """Lines of a file as an editor counts them (CR LF, LF or CR end a line)."""
    return max(1, data.replace(b"\r\n", b"\n").count(b"\n") + data.replace(
        b"\r\n", b"\n").count(b"\r") + 1)


@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=NO_SHRINK,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(ex=export())
def test_fuzzed_exports_are_loaded_or_rejected_clearly(ex, fuzz_mapping):
    RAN_FUZZ.append(True)
    try:
        _check_export(ex, fuzz_mapping)
    finally:
        if os.environ.get("CRM_FUZZ_PROGRESS"):  # counts so far, for long runs (make fuzz)
            Path(os.environ["CRM_FUZZ_PROGRESS"]).write_text(json.dumps(STATS))


def _check_export(ex: dict, fuzz_mapping: Path) -> None:
    STATS["inputs tried"] += 1
    STATS["multi-file exports"] += ex["folder"]
    STATS["parquet exports"] += any(n.endswith(".parquet") for n in ex["files"])
    with tempfile.TemporaryDirectory(prefix="ingest-fuzz-") as tmp:
        tmp = Path(tmp)
        export_dir = tmp / "export"
        export_dir.mkdir()
        for name, data in ex["files"].items():
            (export_dir / name).write_bytes(data)
        target = [export_dir] if ex["folder"] else [export_dir / n for n in ex["files"]]
        store_dir = tmp / "store"
        store = store_dir / "store.duckdb"
        before = {p for p in tmp.rglob("*")}
        try:
            rep = ingest_paths(target, fuzz_mapping, store, encoding=ex["encoding"],
                               as_of=AS_OF, chunksize=ex["chunksize"])
        except ReportingError as exc:
            msg = str(exc)
            if not any(str(t) in msg for t in [*target, *(export_dir / n for n in ex["files"])]):
                STATS["crashes"] += 1
                raise AssertionError(f"error does not name the file: {msg}") from exc
            STATS["rejected with a clear message"] += 1
            ERRORS[_error_kind(msg)] = ERRORS.get(_error_kind(msg), 0) + 1
            return
        except Exception:
            STATS["crashes"] += 1
            raise
        STATS["loaded (all rows accounted for)"] += 1
        read = sum(r.read for r in rep.results)
        for r in rep.results:
            assert r.read == r.loaded + r.quarantined
            assert sum(r.reasons.values()) == r.quarantined
        if ex["intact"] and read != ex["rows"]:
            STATS["unaccounted rows"] += abs(read - ex["rows"])
            raise AssertionError(f"{ex['rows']} rows written, {read} read: rows lost or invented")
        con = duckdb.connect(str(store), read_only=True)
        try:
            n_opps = con.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0]
            q = con.execute('SELECT file, "row", reason_code, reason FROM quarantine').df()
            log = con.execute("SELECT file, rows_read, rows_loaded, rows_quarantined "
                              "FROM ingest_log ORDER BY file").fetchall()
            tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            bad_amounts = con.execute(
                "SELECT COUNT(*) FROM opportunities WHERE NOT isfinite(amount) OR abs(amount) > 1e13"
            ).fetchone()[0]
            early = con.execute(
                "SELECT COUNT(*) FROM opportunities WHERE created_at < TIMESTAMP '1970-01-01' "
                "OR closed_at < TIMESTAMP '1970-01-01'").fetchone()[0]
        finally:
            con.close()
        assert n_opps == sum(r.loaded for r in rep.results)
        assert len(q) == sum(r.quarantined for r in rep.results)
        assert not q.duplicated(["file", "row"]).any(), "two quarantine rows for one line"
        assert q["reason_code"].isin(list(REASON_CODES)).all(), set(q["reason_code"])
        groups = pd.Series([reason_label(c, r) for c, r in zip(
            q["reason_code"], q["reason"], strict=True)], dtype=object).value_counts().to_dict()
        want: dict[str, int] = {}
        for r in rep.results:
            for k, v in r.reasons.items():
                want[k] = want.get(k, 0) + v
        assert groups == want
        assert not [t for t in tables if t.startswith("_")], f"staging tables left: {tables}"
        assert log == sorted((r.file, r.read, r.loaded, r.quarantined) for r in rep.results)
        assert bad_amounts == 0 and early == 0
        for f, grp in q.groupby("file"):
            data = Path(f).read_bytes()
            top = _physical_lines(data) if not f.endswith(".parquet") else read + 1
            assert grp["row"].min() >= 2 and grp["row"].max() <= top, (f, grp["row"].max(), top)
        if rep.loaded and len(LOADED_EXPORTS) < 4 and not ex["folder"] and len(ex["files"]) == 1:
            LOADED_EXPORTS.append(ex)
        STATS["rows read"] += read
        STATS["rows loaded"] += rep.loaded
        STATS["rows quarantined"] += rep.quarantined
        for r in rep.results:
            for k, v in r.reasons.items():
                key = k.split(" (after")[0]
                REASONS[key] = REASONS.get(key, 0) + v
        new = {p for p in tmp.rglob("*")} - before
        outside = [p for p in new if not p.is_relative_to(store_dir)]
        assert not outside, f"written outside the store folder: {outside}"


@settings(max_examples=max(25, EXAMPLES // 8), deadline=None, database=None, phases=NO_SHRINK,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(export(), st.integers(2, 6))
def test_fuzzed_chunking_changes_nothing(ex, chunksize):
    """Whatever the file, reading it in chunks gives what reading it at once gives."""
    STATS["chunked-vs-whole comparisons"] += 1
    mapping = load_mapping("maven")
    with tempfile.TemporaryDirectory(prefix="ingest-fuzz-") as tmp:
        name, data = next(iter(ex["files"].items()))
        path = Path(tmp) / name
        path.write_bytes(data)
        outcomes = []
        for cs in (None, chunksize):
            try:
                m = map_file(path, "opportunities", mapping, encoding=ex["encoding"],
                             as_of=AS_OF, chunksize=cs)
                outcomes.append(m)
            except ReportingError as exc:
                outcomes.append(type(exc))
        whole, chunked = outcomes
        if isinstance(whole, type) or isinstance(chunked, type):
            assert whole == chunked, f"one-shot: {whole}, chunked: {chunked}"
            return
        pd.testing.assert_frame_equal(whole.frame, chunked.frame)
        pd.testing.assert_frame_equal(whole.quarantine, chunked.quarantine)
        assert whole.result == chunked.result


@pytest.mark.slow
def test_reports_run_on_fuzzed_stores(tmp_path):
    """The fuzzed exports that loaded go on through a report run: a finished report or a
    clear error, nothing written outside the reports folder."""
    from reporting.runner import run_report

    if not RAN_FUZZ:  # selected alone (-k, a node id): the exports come from the fuzz test
        pytest.skip("runs after test_fuzzed_exports_are_loaded_or_rejected_clearly in the "
                    "same session (it collects the exports that loaded)")
    assert LOADED_EXPORTS, "the fuzz test above loaded no export"
    store = tmp_path / "store.duckdb"
    for i, ex in enumerate(LOADED_EXPORTS):
        name, data = next(iter(ex["files"].items()))
        path = tmp_path / f"{i}-{name}"
        path.write_bytes(data)
        ingest_paths([path], "maven", store, encoding=ex["encoding"], as_of=AS_OF)
    con = duckdb.connect(str(store), read_only=True)
    last = con.execute("SELECT MAX(created_at) FROM opportunities").fetchone()[0]
    con.close()
    out = tmp_path / "reports"
    before = {p for p in tmp_path.rglob("*")}
    try:
        res = run_report("all", f"{last:%Y-%m}", store=store, reports_dir=out)
    except ReportingError as exc:
        STATS["report runs with a clear error"] += 1
        assert str(exc)
    else:
        STATS["report runs finished"] += 1
        assert res.pdf.exists() and res.pages >= 5
    new = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(out) for p in new), new
