"""The DuckDB-native fast path of the ingest: a plain CSV export of deals mapped in SQL.

:func:`stage_csv` reads a file with DuckDB's own CSV reader (every column as text), casts
and checks the values in SQL and writes the same staging tables as the chunked pandas
steps (:mod:`.steps` through :func:`.load._stage_file`): the canonical rows, the
quarantine (file, line, column, reason code, reason, value, raw record), the keys of the
quarantined rows and the row flags, with the same counts. It only takes the files where
it gives exactly what the pandas steps give, and returns ``None`` (nothing staged) for
every other file, which then goes the pandas way:

- the file: a ``.csv`` of UTF-8 text without a byte-order mark, with no quote character,
  no control byte (a tab only as the delimiter), no blank line and one kind of line end (LF, or CR LF throughout), so that
  each record is one physical line (the header is line 1) and a record with too many or
  too few fields makes DuckDB's strict reader fail (the pandas reader quarantines it);
  a header of distinct, non-empty names;
- the mapping: the ``opportunities`` table, one export column per canonical column, one
  ``status_from`` column, statuses among open / won / lost, date formats of ``%Y``,
  ``%m`` and ``%d`` only, no unpivot, row filters, constants, scales, yes/no, probability
  or category columns, no currency column and amounts already in the reporting currency;
- the values of the mapped columns: printable ASCII (so cleaning is stripping spaces),
  dates written with two-digit days and months in one of the formats (years 1900-2199),
  plain numbers (``-12``, ``1234.5``; not ``-0``), and no record without any value.

Decimal numbers are converted by pandas (``pd.to_numeric``, once per distinct text),
because its float parser rounds differently from DuckDB's in the last bit and the fast
path must give the same values. ``tests/ingest/test_fast_path.py`` ingests the same
exports, hostile ones included, through both paths and compares every table.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import duckdb
import pandas as pd

from ..schema import STATUSES, TABLES
from ..sources import MAX_ABS_NUMBER, SourceMapping, is_date_only
from .parsing import _clean_columns
from .read import ExportFile, _sniff_delimiter
from .reasons import conflict_reason, reason_label
from .results import QUARANTINE_COLUMNS, FileResult
from .steps import FUTURE_CHECKED, FUTURE_TOLERANCE

#: the fast path is tried (tests and benchmarks switch it off to compare)
ENABLED = True
#: labels of the files the fast path staged in this process (for tests)
STAGED: list[str] = []

_BLOCK = 1 << 24
_DIRECTIVES = {"Y": "[0-9]{4}", "m": "[0-9]{2}", "d": "[0-9]{2}"}
#: canonical kinds the fast path maps (others: the pandas way)
_KINDS = ("str", "datetime", "float", "int")
#: canonical columns with checks or derivations the fast path does not replicate
_UNSUPPORTED = ("probability", "forecast_category", "deal_type", "currency", "status")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date_format(fmt: str) -> tuple[str, str] | None:
    """(regex, DuckDB strptime format) of a date-only format of %Y, %m, %d and plain
    separators; None for any other."""
    if not is_date_only(fmt):
        return None
    rx, i = [], 0
    seen = []
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            d = fmt[i + 1: i + 2]
            if d not in _DIRECTIVES:
                return None
            rx.append(_DIRECTIVES[d])
            seen.append(d)
            i += 2
        elif ch in "-/. ":
            rx.append(re.escape(ch))
            i += 1
        else:
            return None
    if sorted(seen) != ["Y", "d", "m"]:
        return None
    return "".join(rx), fmt


def _plan(table: str, mapping: SourceMapping, header: list[str]) -> dict | None:
    """What the SQL needs (source column per canonical column, kinds, formats), or None
    when the mapping uses something the fast path does not replicate."""
    if table != "opportunities" or table not in mapping.tables:
        return None
    tm = mapping.tables[table]
    spec = TABLES[table]
    if (tm.unpivot is not None or tm.keep_rows or tm.skip_rows or tm.constants or tm.scale
            or not tm.status_from or not tm.statuses):
        return None
    if any(s not in STATUSES for s in tm.statuses.values()):
        return None
    if mapping.currency.default.upper().strip() != mapping.currency.reporting.upper():
        return None
    formats = [_date_format(f) for f in mapping.date_formats]
    if not formats or any(f is None for f in formats):
        return None
    pos = {name: j for j, name in enumerate(header)}
    cols: dict[str, int] = {}
    for col, src in [*tm.columns.items(), *tm.optional_columns.items()]:
        if col in cols:
            continue
        alts = [src] if isinstance(src, str) else list(src)
        found = [a for a in alts if a in pos]
        if not found and col in tm.columns:
            return None  # a missing column: the pandas way names it
        if len(found) > 1:
            return None
        if found:
            cols[col] = pos[found[0]]
    status_cols = [c for c in tm.status_columns() if c in pos]
    if len(status_cols) != 1:
        return None
    for col in cols:
        if col in _UNSUPPORTED or spec.field(col).kind not in _KINDS:
            return None
    renames: dict[str, dict[str, str]] = {}
    for col, ren in tm.values.items():
        if col not in cols or spec.field(col).kind != "str":
            continue
        for k, v in ren.items():
            if not isinstance(k, str) or not isinstance(v, str):
                return None
            if not re.fullmatch("[ -~]*", v) or v != v.strip() or v in ren:
                return None
        renames[col] = dict(ren)
    return {"cols": cols, "status": pos[status_cols[0]], "formats": formats,
            "renames": renames, "tokens": sorted({t.strip().lower() for t in mapping.null_tokens})}


def _prepass(path: Path, delimiter: str) -> int | None:
    """The number of data records of a file fit for the fast path (see the module
    docstring), else None. Reads the bytes once, in blocks."""
    allowed = "\n\r" + ("\t" if delimiter == "\t" else "")
    # any control byte: deleting them changes the block's length (bytes.translate is
    # ~4x faster than a regex search for a character class)
    control = bytes(c for c in [*range(32), 127] if chr(c) not in allowed)
    n_lf = n_cr = n_crlf = 0
    prev = b""
    size = 0
    last = b""
    with path.open("rb") as fh:
        first = True
        while block := fh.read(_BLOCK):
            if first:
                if block.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\n", b"\r")):
                    return None
                first = False
            if b'"' in block or len(block.translate(None, control)) != len(block):
                return None
            joined = prev + block
            if b"\n\n" in joined or b"\n\r\n" in joined:
                return None
            n_lf += block.count(b"\n")
            n_cr += block.count(b"\r")
            n_crlf += joined.count(b"\r\n") - prev.count(b"\r\n")
            prev = block[-2:]
            last = block[-1:]
            size += len(block)
    if not size or (n_cr and (n_cr != n_crlf or n_crlf != n_lf)):
        return None
    lines = n_lf + (0 if last == b"\n" else 1)
    return lines - 1


def _header(path: Path) -> str | None:
    with path.open("rb") as fh:
        line = fh.readline(1 << 20)
    try:
        return line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None


def stage_csv(con: duckdb.DuckDBPyConnection, st, i: int, src: ExportFile,
              mapping: SourceMapping, *, encoding: str | None, now: pd.Timestamp
              ) -> FileResult | None:
    """Stage one file through the fast path (see the module docstring): the same staging
    tables ``{prefix}{i}``, ``_q``, ``_k``, ``_f`` as the pandas steps, and the file's
    counts; None (nothing staged) when the fast path cannot decide the file."""
    if not ENABLED or src.sheet is not None or src.path.suffix.lower() != ".csv":
        return None
    enc = encoding or mapping.encoding or "utf-8"
    try:
        if codecs.lookup(enc).name != "utf-8":
            return None
    except LookupError:
        return None
    head = _header(src.path)
    if head is None or not head.strip():
        return None
    delimiter = mapping.delimiter or _sniff_delimiter(head, mapping, src.table)
    raw_names = head.split(delimiter)
    names = _clean_columns(raw_names)
    if (len(set(raw_names)) != len(raw_names) or any(not n for n in names)
            or len(set(names)) != len(names)):
        return None
    plan = _plan(src.table, mapping, names)
    if plan is None:
        return None
    expected = _prepass(src.path, delimiter)
    if not expected:
        return None
    pre = f"{st.prefix}{i}"
    raw_t, typed_t, num_t = f"{pre}_raw", f"{pre}_typed", f"{pre}_num"
    ncols = len(names)
    columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(ncols)) + "}"
    try:
        con.execute(
            f"CREATE TEMP TABLE {_q(raw_t)} AS SELECT * FROM read_csv(?, delim=?, quote='', "
            f"escape='', header=false, skip=1, columns={columns}, auto_detect=false, "
            "strict_mode=true, null_padding=false, max_line_size=16777216)",
            [str(src.path), delimiter])
    except duckdb.Error:
        _drop(con, raw_t)
        return None
    staged = (pre, pre + "_q", pre + "_k", pre + "_f")
    try:
        out = _stage(con, st, i, src, mapping, plan, names, expected, now)
    except duckdb.Error:  # e.g. text that is not UTF-8: the pandas way says where
        out = None
    except BaseException:
        _drop(con, *staged)
        raise
    finally:
        _drop(con, raw_t, typed_t, num_t)
    if out is None:
        _drop(con, *staged)
        st.results.pop(i, None)
    return out


def _drop(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for n in names:
        con.execute(f"DROP TABLE IF EXISTS {_q(n)}")


def _stage(con, st, i, src, mapping, plan, names, expected, now) -> FileResult | None:
    table = src.table
    spec = TABLES[table]
    tm = mapping.tables[table]
    pre = f"{st.prefix}{i}"
    raw_t, typed_t, num_t = f"{pre}_raw", f"{pre}_typed", f"{pre}_num"
    n = con.execute(f"SELECT COUNT(*) FROM {_q(raw_t)}").fetchone()[0]
    if n != expected:
        return None
    cols: dict[str, int] = plan["cols"]
    if "opportunity_id" not in cols or "created_at" not in cols:
        return None
    tokens = plan["tokens"]
    decimal_ok = mapping.decimal in (".", "")
    limit = (now + FUTURE_TOLERANCE).to_pydatetime()
    reporting = mapping.currency.reporting.upper()
    days = int(mapping.created_after_close_days)

    def raw(j: int) -> str:
        return f"COALESCE(r.c{j}, '')"

    def trimmed(j: int) -> str:  # computed once, in layer 0
        return f"r.t{j}"

    def is_null(expr: str) -> str:
        cond = f"({expr}) = ''"
        if tokens:
            cond += f" OR lower({expr}) IN ({', '.join(_lit(t) for t in tokens)})"
        return f"({cond})"

    number_cols = [c for c in cols if spec.field(c).kind in ("float", "int")]
    # decimal texts: pandas' float parser, once per distinct text (see the module docstring)
    texts = [con.execute(f"SELECT DISTINCT trim({raw(cols[c])}, ' ') AS t FROM {_q(raw_t)} r "
                         f"WHERE r.c{cols[c]} LIKE '%.%'").df()["t"] for c in number_cols]
    texts = (pd.concat(texts, ignore_index=True).drop_duplicates() if texts
             else pd.Series([], dtype=object))
    con.register("_fast_num", pd.DataFrame({
        "t": texts.astype(object).to_numpy(),
        "v": pd.to_numeric(texts, errors="coerce").astype("float64").to_numpy()}))
    con.execute(f"CREATE TEMP TABLE {_q(num_t)} AS SELECT t::VARCHAR AS t, v::DOUBLE AS v "
                "FROM _fast_num")
    con.unregister("_fast_num")

    # layer 1: each mapped value typed, and whether the row is in the fast path's domain
    l1 = ["r.rid + 2 AS line"]
    ok = []
    for j in sorted({*cols.values(), plan["status"]}):
        ok.append(f"strlen({raw(j)}) = length({raw(j)})")  # ASCII (no control: prepass)
        l1.append(f"{raw(j)} AS r{j}")
    ok.append("NOT (" + " AND ".join(f"{raw(j)} = ''" for j in range(len(names))) + ")")
    joins, ok_dates, later = [], [], []
    for col, j in cols.items():
        kind = spec.field(col).kind
        t = trimmed(j)
        if kind == "str":
            ren = plan["renames"].get(col)
            v = t
            if ren:
                v = "CASE " + t + " " + " ".join(
                    f"WHEN {_lit(k)} THEN {_lit(w)}" for k, w in ren.items()) + f" ELSE {t} END"
                l1.append(f"{v} AS {_q('t_' + col)}")  # the text the quarantine shows
            l1.append(f"CASE WHEN {is_null(v)} THEN NULL ELSE {v} END AS {_q('v_' + col)}")
        elif kind == "datetime":
            parts, match = [], []
            for rx, fmt in plan["formats"]:
                parts.append(f"CASE WHEN regexp_full_match({t}, {_lit(rx)}) THEN "
                             f"try_strptime({t}, {_lit(fmt)}) END")
                match.append(f"regexp_full_match({t}, {_lit(rx)})")
            d = f"COALESCE({', '.join(parts)})"
            pc, y, m = _q("p_" + col), _q("y_" + col), _q("m_" + col)
            l1.append(f"{is_null(t)} AS {_q('n_' + col)}")
            l1.append(f"CASE WHEN {is_null(t)} THEN NULL ELSE {d} END AS {pc}")
            l1.append(f"{t} AS {_q('t_' + col)}")
            # from the parsed date (computed once, in layer 1)
            tq = _q("t_" + col)
            year = f"TRY_CAST(regexp_extract({tq}, '([0-9]{{4}})', 1) AS INTEGER)"
            match_t = [x.replace(t, tq) for x in match]
            later.append(f"CASE WHEN {_q('n_' + col)} THEN NULL WHEN {pc} IS NOT NULL THEN "
                         f"year({pc}) ELSE {year} END AS {y}")
            later.append(f"CASE WHEN {pc} IS NULL THEN {' OR '.join(match_t)} END AS {m}")
            # in the domain: a value of one of the formats' shapes, of a year pandas reads
            ok_dates.append(f"({_q('n_' + col)} OR ({pc} IS NOT NULL OR {m}) AND {y} "
                            "BETWEEN 1900 AND 2199)")
        else:  # float / int
            k = len(joins)
            plain = "-?[0-9]{1,15}(\\.[0-9]*)?" if decimal_ok else "-?[0-9]{1,15}"
            ok.append(f"({is_null(t)} OR (regexp_full_match({t}, {_lit(plain)}) AND NOT "
                      f"regexp_full_match({t}, '-0*(\\.0*)?')))")
            joins.append(f"LEFT JOIN {_q(num_t)} n{k} ON n{k}.t = {t}")
            l1.append(f"CASE WHEN {is_null(t)} THEN NULL WHEN r.c{j} LIKE '%.%' THEN n{k}.v "
                      f"ELSE TRY_CAST({t} AS DOUBLE) END AS {_q('v_' + col)}")
    st_text = trimmed(plan["status"])
    l1.append(f"{st_text} AS stage_text")
    l1.append(f"CASE {st_text} " + " ".join(
        f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in tm.statuses.items()) + " END AS status")
    l1.append(f"({' AND '.join(ok)}) AS fast_ok")
    trims = ", ".join(f"trim(COALESCE(c{j}, ''), ' ') AS t{j}"
                      for j in sorted({*cols.values(), plan["status"]}))
    layer1 = (f"SELECT {', '.join(l1)} FROM (SELECT rowid AS rid, *, {trims} FROM "
              f"{_q(raw_t)}) r " + " ".join(joins))
    if ok_dates:  # the date checks read the typed dates of layer 1
        layer1 = f"SELECT *, {', '.join(later)} FROM ({layer1})"
        layer1 = (f"SELECT * REPLACE (fast_ok AND {' AND '.join(ok_dates)} AS fast_ok) "
                  f"FROM ({layer1})")

    # layer 2: the canonical values as the pandas steps have them before validation
    is_open = "COALESCE(status = 'open', FALSE)"
    l2 = ["*"]
    val: dict[str, str] = {}
    for col in cols:
        val[col] = _q(("p_" if spec.field(col).kind == "datetime" else "v_") + col)
    if "stage" not in cols:
        val["stage"] = "NULLIF(stage_text, '')"
    val["status"] = "status"
    if "closed_at" in cols:
        if "expected_close_date" not in cols:
            l2.append(f"CASE WHEN {is_open} THEN p_closed_at END AS e_expected")
            val["expected_close_date"] = "e_expected"
        l2.append(f"CASE WHEN {is_open} THEN NULL ELSE p_closed_at END AS e_closed")
        val["closed_at"] = "e_closed"
        l2.append(f"(NOT {is_open} AND p_created_at > p_closed_at AND "
                  f"p_created_at - p_closed_at <= INTERVAL {days} DAY) AS late")
    else:
        l2.append("FALSE AS late")
    l2.append(f"({is_open} AND n_created_at) AS estimated")
    val["currency"] = _lit(reporting)
    layer2 = f"SELECT {', '.join(l2)} FROM ({layer1})"
    closed = val.get("closed_at", "NULL")
    layer3 = (f"SELECT *, CASE WHEN estimated THEN $now WHEN late THEN {closed} "
              f"ELSE p_created_at END AS created_final FROM ({layer2})")

    def rawv(col: str) -> str:
        return f"r{cols[col]}"

    def text(col: str) -> str:  # the value the quarantine shows for a mapped column
        if col not in cols:
            return "''"
        return _q("t_" + col) if col in plan["renames"] else rawv(col)

    # problems in the order the pandas steps keep them: the first by column name, then
    # by the order they were found (parse, stage, future dates; the schema rules after)
    found: list[tuple[str, str, str, str, str]] = []  # column, condition, code, reason, value
    for col in cols:
        kind = spec.field(col).kind
        if kind == "datetime":
            d, y, nn = (_q(p + col) for p in ("p_", "y_", "n_"))
            failed = f"({d} IS NULL AND NOT {nn})"
            found.append((col, f"{failed} AND {y} < 1970", "date_before_1970",
                          _lit("date before 1970"), rawv(col)))
            found.append((col, failed, "bad_date", _lit("unparseable date"), rawv(col)))
            found.append((col, f"{d} < TIMESTAMP '1970-01-01'", "date_before_1970",
                          _lit("date before 1970"), rawv(col)))
        elif kind in ("float", "int"):
            found.append((col, f"abs({val[col]}) > {MAX_ABS_NUMBER!r}", "out_of_range",
                          _lit(f"{col} out of range (beyond ±1e13)"), rawv(col)))
    found.append(("stage", "status IS NULL", "unknown_stage", _lit("unknown stage"),
                  "stage_text"))
    for col in FUTURE_CHECKED.get(table, ()):
        if col in cols:
            found.append((col, f"{val[col]} > $limit", "date_in_future",
                          _lit(f"date in the future (after {now.date()})"), rawv(col)))
    coerce_found = [p for _, p in sorted(enumerate(found), key=lambda e: (e[1][0], e[0]))]
    schema_found = [
        ("amount", f"status = 'won' AND {val.get('amount', 'NULL')} IS NULL",
         "won_without_amount", _lit("won deal without amount"), text("amount")),
        ("closed_at", f"{closed} < created_final", "closed_before_created",
         _lit("closed before created"), text("closed_at")),
        ("closed_at", f"status IN ('won', 'lost') AND {closed} IS NULL", "closed_without_date",
         _lit("closed deal without closed_at"), text("closed_at")),
    ]
    if "amount" in cols:
        schema_found.append(("amount", f"{val['amount']} < 0", "negative_value",
                             _lit("amount is negative"), text("amount")))
    for col in spec.required:
        if col != "status":
            v = "created_final" if col == "created_at" else val.get(col, "NULL")
            schema_found.append((col, f"{v} IS NULL", "missing_required",
                                 _lit(f"missing required field {col}"), text(col)))
    schema_found.sort(key=lambda p: p[0])  # stable: the order above within a column
    order = coerce_found + schema_found

    # the first problem's number, found once; its column, code, reason and value by number
    pid = "CASE " + " ".join(f"WHEN {p[1]} THEN {n}" for n, p in enumerate(order)) + " END"

    def case(k: int) -> str:
        return "CASE pid " + " ".join(f"WHEN {n} THEN {p[k] if k >= 3 else _lit(p[k])}"
                                      for n, p in enumerate(order)) + " END"

    canon = []
    for c in spec.columns:
        if c == "created_at":
            canon.append(f"CASE WHEN estimated THEN NULL ELSE created_final END AS {_q(c)}")
        else:
            canon.append(f"{val.get(c, 'NULL')} AS {_q(c)}")
    con.execute(f"""
        CREATE TEMP TABLE {_q(typed_t)} AS
        SELECT line, fast_ok, {val['opportunity_id']} AS k, estimated, late,
               {case(0)} AS p_col, {case(2)} AS p_code, {case(3)} AS p_reason,
               {case(4)} AS p_value, {', '.join(canon)}
        FROM (SELECT *, {pid} AS pid FROM ({layer3}))""",
                {"limit": limit, "now": now.to_pydatetime()})
    if not con.execute(f"SELECT bool_and(fast_ok) FROM {_q(typed_t)}").fetchone()[0]:
        return None
    return _dedup_and_stage(con, st, i, src, mapping, names, typed_t)


def _dedup_and_stage(con, st, i, src, mapping, names, typed_t) -> FileResult:
    table = src.table
    spec = TABLES[table]
    pre = f"{st.prefix}{i}"
    dup_t = f"{pre}_dup"
    out_cols = spec.columns
    # 3. duplicates among the rows without a problem: the first keeps the key; only the
    #    keys met more than once are looked at row by row
    same = " AND ".join(f"a.{_q(c)} IS NOT DISTINCT FROM f.{_q(c)}" for c in out_cols)
    con.execute(f"""
        CREATE TEMP TABLE {_q(dup_t)} AS
        WITH keys AS (SELECT k FROM {_q(typed_t)} WHERE p_code IS NULL GROUP BY k
                      HAVING COUNT(*) > 1),
        ok AS (SELECT t.*, MIN(t.line) OVER (PARTITION BY t.k) AS first_line
               FROM {_q(typed_t)} t SEMI JOIN keys USING (k) WHERE t.p_code IS NULL)
        SELECT a.line, a.k, a.first_line, ({same}) AS same
        FROM ok a JOIN ok f ON f.k = a.k AND f.line = a.first_line
        WHERE a.line <> a.first_line""")
    try:
        return _write_staging(con, st, i, src, mapping, names, typed_t, dup_t)
    finally:
        _drop(con, dup_t)


def _write_staging(con, st, i, src, mapping, names, typed_t, dup_t) -> FileResult:
    from .load import _QCOLS, _insert  # noqa: PLC0415 - load imports this module

    table = src.table
    spec = TABLES[table]
    pre = f"{st.prefix}{i}"
    raw_t = f"{pre}_raw"
    keys = ", ".join(_q(c) for c in spec.key)
    cl = ", ".join(_q(c) for c in spec.columns)
    n_dup = con.execute(f"SELECT COUNT(*) FROM {_q(dup_t)}").fetchone()[0]
    not_dup = f"AND line NOT IN (SELECT line FROM {_q(dup_t)})" if n_dup else ""
    con.execute(f'CREATE TEMP TABLE {_q(pre)} AS SELECT {cl} FROM {_q(table)} LIMIT 0')
    con.execute(f'CREATE TABLE {_q(pre + "_q")} AS SELECT {_QCOLS} FROM quarantine LIMIT 0')
    con.execute(f'CREATE TABLE {_q(pre + "_k")} AS SELECT {keys} FROM {_q(table)} LIMIT 0')
    con.execute(f'CREATE TABLE {_q(pre + "_f")} (key VARCHAR, code VARCHAR)')
    con.execute(f"INSERT INTO {_q(pre)} ({cl}) SELECT {cl} FROM {_q(typed_t)} "
                f"WHERE p_code IS NULL {not_dup} ORDER BY line")
    con.execute(f"""INSERT INTO {_q(pre + '_f')} SELECT key, code FROM (
        SELECT k AS key, 'created_at_estimated' AS code, 1 AS o, line FROM {_q(typed_t)}
        WHERE p_code IS NULL AND estimated {not_dup}
        UNION ALL SELECT k, 'created_after_close', 2, line FROM {_q(typed_t)}
        WHERE p_code IS NULL AND late {not_dup}) ORDER BY o, line""")
    q = con.execute(f"""
        SELECT line AS "row", p_col AS "column", p_code AS reason_code, p_reason AS reason,
               p_value AS value, k
        FROM {_q(typed_t)} WHERE p_code IS NOT NULL
        UNION ALL
        SELECT line, 'opportunity_id',
               CASE WHEN same THEN 'duplicate_key' ELSE 'conflicting_duplicate' END,
               CASE WHEN same THEN 'duplicate id (identical to row ' || first_line || ')'
                    ELSE 'duplicate id with conflicting values (first seen at row '
                         || first_line || ')' END, k, k
        FROM {_q(dup_t)} ORDER BY "row" """).df()
    records = _records(con, raw_t, names, q["row"].to_numpy())
    q = pd.DataFrame({
        "file": src.label, "table": table, "row": q["row"].astype("int64"),
        "column": q["column"].astype(object), "reason_code": q["reason_code"].astype(object),
        "reason": q["reason"].astype(object),
        "value": q["value"].astype(object).fillna("").astype(str).str.slice(0, 200),
        "record": pd.Series(records, dtype=object), "k": q["k"].astype(object),
    })
    if len(q):
        _insert(con, pre + "_q", q.assign(batch_id=st.batch, source=mapping.name), _QCOLS)
        qk = q.loc[q["k"].notna(), ["k"]].rename(columns={"k": spec.key[0]})
        if len(qk):
            _insert(con, pre + "_k", qk, list(spec.key))
        st.keep(q[QUARANTINE_COLUMNS])
    loaded = con.execute(f"SELECT COUNT(*) FROM {_q(pre)}").fetchone()[0]
    labels = [reason_label(c, r) for c, r in zip(q["reason_code"], q["reason"], strict=True)]
    reasons = pd.Series(labels, dtype=object).value_counts().to_dict() if labels else {}
    codes = dict(zip(labels, q["reason_code"], strict=True))
    notes = dict(con.execute(f"SELECT code, COUNT(*) FROM {_q(pre + '_f')} GROUP BY code"
                             ).fetchall())
    st.results[i] = FileResult(src.label, table, int(len(q) + loaded), int(loaded), int(len(q)),
                               {k: int(v) for k, v in reasons.items()},
                               {k: int(v) for k, v in notes.items() if v}, codes)
    if n_dup:
        _conflict_firsts(con, st, i, src, dup_t)
    STAGED.append(src.label)
    return st.results[i]


def _records(con, raw_t: str, names: list[str], lines) -> list[str]:
    """The raw records of the given lines as the pandas path writes them (JSON of the
    row as read, by cleaned column name)."""
    if not len(lines):
        return []
    con.register("_fast_lines", pd.DataFrame({"line": pd.Series(lines, dtype="int64")}))
    try:
        sel = ", ".join(f"COALESCE(c{j}, '')" for j in range(len(names)))
        rows = con.execute(f"SELECT rowid + 2 AS line, {sel} FROM {_q(raw_t)} "
                           "WHERE rowid + 2 IN (SELECT line FROM _fast_lines) "
                           "ORDER BY line").fetchall()
    finally:
        con.unregister("_fast_lines")
    by_line = {r[0]: json.dumps(dict(zip(names, r[1:], strict=True)), ensure_ascii=False)
               for r in rows}
    return [by_line[int(x)] for x in lines]


def _conflict_firsts(con, st, i: int, src: ExportFile, c_t: str) -> None:
    """The first rows of keys met again with other values leave the staged rows for the
    quarantine, as :func:`.load._stage_conflicts` does for the pandas path."""
    from .load import _QCOLS, _insert  # noqa: PLC0415

    pre = f"{st.prefix}{i}"
    firsts = con.execute(f"""
        SELECT k, first_line, MIN(line) AS other_line FROM {_q(c_t)}
        WHERE NOT same GROUP BY k, first_line ORDER BY first_line""").df()
    if firsts.empty:
        return
    keycol = TABLES[src.table].key[0]
    con.register("_fast_firsts", firsts)
    try:
        rows = con.execute(
            f"SELECT p.first_line, p.other_line, to_json(s) AS record, s.{_q(keycol)} "
            f"FROM {_q(pre)} s JOIN _fast_firsts p ON s.{_q(keycol)} = p.k "
            "ORDER BY p.first_line").df()
        con.execute(f"DELETE FROM {_q(pre)} WHERE {_q(keycol)} IN (SELECT k FROM _fast_firsts)")
        con.execute(f"DELETE FROM {_q(pre + '_f')} WHERE key IN (SELECT k FROM _fast_firsts)")
    finally:
        con.unregister("_fast_firsts")
    q = pd.DataFrame({
        "batch_id": st.batch, "source": st.mapping.name, "file": src.label,
        "table": src.table, "row": rows["first_line"].to_numpy(), "column": keycol,
        "reason_code": "conflicting_duplicate",
        "reason": [conflict_reason(int(r), src.label, src.label) for r in rows["other_line"]],
        "value": rows[keycol].astype(str).to_numpy(), "record": rows["record"].to_numpy(),
    })
    _insert(con, pre + "_q", q, _QCOLS)
    _insert(con, pre + "_k", rows[[keycol]], [keycol])
    from .load import conflicts_recorded  # noqa: PLC0415

    conflicts_recorded(con, st, i, q, _q(pre + "_f"))
