"""The embedded DuckDB store.

One file (default ``data/crm.duckdb``, or ``$CRM_REPORT_STORE``) holds the canonical
tables, the quarantine table and the ingest log. Readers filter by region, team and
period in SQL, so a region's report never loads the whole company.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .engine.sql import ESTIMATED_CREATED_IDS_SQL, has_history  # noqa: F401 - defined there
from .exceptions import StoreError
from .schema import TABLES, empty_frame

DEFAULT_STORE = Path("data/crm.duckdb")
#: DuckDB's memory limit while the demo store's history is rebuilt (ingest has its own)
REBUILD_MEMORY_LIMIT = "2GB"
_SQL_TYPES = {
    "str": "VARCHAR",
    "float": "DOUBLE",
    "int": "DOUBLE",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
}
_META_DDL = [
    """CREATE TABLE IF NOT EXISTS ingest_log (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, file_sha256 VARCHAR,
        "table" VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        ingested_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, "table" VARCHAR, "row" BIGINT,
        "column" VARCHAR, reason VARCHAR, value VARCHAR, record VARCHAR)""",
    # data-quality decisions taken at ingest, with the rows they apply to (the report's
    # data-quality appendix lists them)
    """CREATE TABLE IF NOT EXISTS data_notes (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, "table" VARCHAR, code VARCHAR,
        text VARCHAR, "rows" BIGINT)""",
    # loaded rows with an estimated or corrected value (key: the table's first key column)
    """CREATE TABLE IF NOT EXISTS row_flags (
        batch_id VARCHAR, source VARCHAR, file VARCHAR, "table" VARCHAR, key VARCHAR,
        code VARCHAR)""",
    # facts every ingest into the store must agree on (reporting currency, time zone)
    """CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR, value VARCHAR, source VARCHAR)""",
    "ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS file_resolved VARCHAR",
    # the stable code of each quarantine reason (reporting.ingest.reasons); NULL in rows
    # quarantined before the codes existed
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS reason_code VARCHAR",
]


def default_store_path() -> Path:
    """``$CRM_REPORT_STORE``, else the current project's store (crm-report.yaml), else
    ``data/crm.duckdb`` under the working folder."""
    from .project import default_store

    return default_store()


#: DuckDB threads per connection when set (a batch's pool workers and their kernels set
#: it to 1: two reports at once on two cores, each DuckDB using both, oversubscribe them)
THREADS_ENV = "CRM_DUCKDB_THREADS"


def _engine_config() -> dict:
    value = os.environ.get(THREADS_ENV, "").strip()
    return {"threads": int(value)} if value.isdigit() and int(value) > 0 else {}


@contextmanager
def connect(path: str | Path | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store, creating its tables when writing.

    Raises
    ------
    StoreError
        When the file is missing (for reading) or locked by another process.
    """
    p = Path(path) if path else default_store_path()
    if read_only and not p.exists():
        raise StoreError(
            f"store {p} does not exist; create it with `crm-report demo-data` or "
            "`crm-report ingest PATH --source NAME` (or pass --store / set CRM_REPORT_STORE)"
        )
    if p.exists() and p.is_dir():
        raise StoreError(f"store {p} is a folder; give the path of a DuckDB file (--store)")
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(p), read_only=read_only, config=_engine_config())
    except duckdb.IOException as exc:
        msg = str(exc)
        if "not a valid DuckDB" in msg or "database file" in msg.lower() and "lock" not in msg.lower():
            raise StoreError(
                f"store {p} is not a DuckDB database ({msg.splitlines()[0]}); give the path "
                "of a store made by `crm-report ingest` or `crm-report demo-data`"
            ) from None
        raise StoreError(f"store {p} cannot be opened: {exc}. Is another process writing it?") from None
    except duckdb.Error as exc:
        raise StoreError(f"store {p} cannot be opened: {exc}") from None
    try:
        if not read_only:
            try:
                _create_tables(con)
            except duckdb.Error as exc:
                raise StoreError(
                    f"store {p}: its tables do not have the project's columns ({exc}); it "
                    "was not made by crm-report (or by an incompatible version): use "
                    "another --store"
                ) from None
        else:
            if _needs_upgrade(con):
                # a store made by an earlier version: add the new tables and columns
                # (empty; nothing else changes), then read it
                con.close()
                with connect(p, read_only=False):
                    pass
                con = duckdb.connect(str(p), read_only=True)
            _check_tables(con, p)
        yield con
    finally:
        con.close()


def _needs_upgrade(con: duckdb.DuckDBPyConnection) -> bool:
    """A crm-report store (it has opportunities, quarantine and ingest_log) made before
    some of today's tables or columns existed: opening it upgrades it in place (the new
    tables and columns are added empty; nothing else changes)."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    if not {"opportunities", "quarantine", "ingest_log"} <= have:
        return False
    if any(t not in have for t in (*TABLES, "opportunities_deleted")):
        return True
    cols = {(r[0], r[1]) for r in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'"
    ).fetchall()}
    return any((t.name, f.name) not in cols for t in TABLES.values() for f in t.fields)


def _check_tables(con: duckdb.DuckDBPyConnection, p: Path) -> None:
    """A store opened for reading must hold the project's tables: a DuckDB file made by
    something else is a clear error, not a catalog error deep in a query."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    missing = [t for t in [*TABLES, "quarantine", "ingest_log"] if t not in have]
    if missing:
        raise StoreError(
            f"store {p} is a DuckDB file without the project's tables (missing: "
            f"{', '.join(missing)}); it is not a crm-report store: load an export into it "
            "with `crm-report ingest PATH --source NAME --store ...`, or give the right --store"
        )
    cols = {(r[0], r[1]) for r in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'"
    ).fetchall()}
    bad = [f"{t.name}.{f.name}" for t in TABLES.values() for f in t.fields
           if (t.name, f.name) not in cols]
    if bad:
        raise StoreError(
            f"store {p}: table columns missing ({', '.join(bad[:8])}); it was made by an "
            "earlier crm-report (any `crm-report ingest` into it adds them) or not by "
            "crm-report at all (then re-create it with `crm-report ingest`)"
        )


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """The store's agreed facts: key -> (value, source that set it)."""
    try:
        rows = con.execute("SELECT key, value, source FROM store_meta").fetchall()
    except duckdb.CatalogException:
        return {}
    return {k: (v, s) for k, v, s in rows}


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the canonical and meta tables; a store made by an earlier version gains the
    columns added since (empty), so opening it for writing upgrades it in place."""
    for t in TABLES.values():
        cols = ", ".join(f'"{f.name}" {_SQL_TYPES[f.kind]}' for f in t.fields)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{t.name}" ({cols})')
        for f in t.fields:
            con.execute(f'ALTER TABLE "{t.name}" ADD COLUMN IF NOT EXISTS "{f.name}" '
                        f"{_SQL_TYPES[f.kind]}")
    for ddl in _META_DDL:
        con.execute(ddl)
    # deals deleted in the CRM, with their last state (reporting.history: the past still
    # shows them); the opportunities columns plus deleted_at
    con.execute("CREATE TABLE IF NOT EXISTS opportunities_deleted AS "
                "SELECT *, NULL::TIMESTAMP AS deleted_at FROM opportunities LIMIT 0")
    for f in TABLES["opportunities"].fields:
        con.execute(f'ALTER TABLE opportunities_deleted ADD COLUMN IF NOT EXISTS "{f.name}" '
                    f"{_SQL_TYPES[f.kind]}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    cols = TABLES[table].columns
    missing = [c for c in cols if c not in frame.columns]
    if missing:  # a frame made before a column existed: the column is empty
        frame = frame.assign(**{c: None for c in missing})
    con.register("_incoming", frame[cols])
    collist = ", ".join(f'"{c}"' for c in cols)
    con.execute(f'INSERT INTO "{table}" ({collist}) SELECT {collist} FROM _incoming')
    con.unregister("_incoming")


def upsert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert rows, replacing rows with the same key: re-ingesting never duplicates."""
    if frame.empty:
        return
    key = TABLES[table].key
    con.register("_keys", frame[list(key)].drop_duplicates())
    cond = " AND ".join(f't."{k}" IS NOT DISTINCT FROM k."{k}"' for k in key)
    con.execute(f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM _keys k WHERE {cond})')
    con.unregister("_keys")
    _insert(con, table, frame)


def fill_from_reps(con: duckdb.DuckDBPyConnection) -> None:
    """Fill opportunities' missing team / region from the owner's rep record."""
    con.execute(
        """UPDATE opportunities o SET
             team = COALESCE(o.team, r.team), region = COALESCE(o.region, r.region)
           FROM reps r WHERE o.owner = r.rep_id AND (o.team IS NULL OR o.region IS NULL)"""
    )


def replace_all(path: str | Path | None, tables: dict[str, pd.DataFrame]) -> None:
    """Replace the store's contents with ``tables`` (used by the demo data)."""
    with connect(path) as con:
        con.execute("BEGIN")
        for name in TABLES:
            con.execute(f'DELETE FROM "{name}"')
            if name in tables:
                _insert(con, name, tables[name])
        for meta in ("quarantine", "ingest_log", "data_notes", "row_flags", "store_meta"):
            con.execute(f"DELETE FROM {meta}")
        _log_generated(con, {name: len(frame) for name, frame in tables.items()})
        fill_from_reps(con)
        from .history import apply_deletions, rebuild

        con.execute("DELETE FROM opportunities_deleted")
        # the rebuild of a large store's history spills to disk instead of taking most of
        # the machine (1M deals: 20 GB under DuckDB's default limit, 3.3 GB capped)
        con.execute(f"SET memory_limit = '{REBUILD_MEMORY_LIMIT}'")
        apply_deletions(con, tables["opportunities"]["opportunity_id"]
                        if "opportunities" in tables else [])
        rebuild(con)
        con.execute("COMMIT")


def _log_generated(con, counts: dict[str, int]) -> None:
    """One ingest_log row per table of generated (demo) data, all in one batch."""
    batch = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    for name, n in counts.items():
        con.execute(
            "INSERT INTO ingest_log (batch_id, source, file, file_sha256, \"table\", "
            "rows_read, rows_loaded, rows_quarantined, ingested_at) "
            "VALUES (?, 'demo', 'generated', NULL, ?, ?, ?, 0, ?)",
            [batch, name, n, n, now],
        )


def replace_all_chunks(path: str | Path | None, chunks) -> dict[str, int]:
    """:func:`replace_all` for tables that come in chunks (an iterable of table dicts, such
    as :func:`reporting.demo.generate_chunks`): each chunk is written (and committed)
    before the next is made, so memory stays one chunk's (one transaction over every chunk
    keeps all of them in memory); the history is rebuilt once at the end (under
    :data:`REBUILD_MEMORY_LIMIT`, spilling to disk). The store is built in a new file next
    to ``path`` and moved over it at the end: until then ``path`` is as it was. Returns
    rows per table."""
    import os

    target = Path(path) if path else default_store_path()
    tmp = target.with_name(target.name + ".building")
    for p in (tmp, Path(f"{tmp}.wal")):
        p.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with connect(tmp) as con:
            con.execute(f"SET memory_limit = '{REBUILD_MEMORY_LIMIT}'")
            for tables in chunks:
                for name, frame in tables.items():
                    if name in TABLES and len(frame):
                        _insert(con, name, frame)
                    counts[name] = counts.get(name, 0) + len(frame)
                del tables
            _log_generated(con, counts)
            fill_from_reps(con)
            from .history import apply_deletions, rebuild

            deleted = [r[0] for r in con.execute(
                "SELECT DISTINCT opportunity_id FROM opportunity_changes "
                "WHERE field = 'deleted'").fetchall()]
            con.execute("BEGIN")
            apply_deletions(con, deleted)
            rebuild(con)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{target}.wal").unlink(missing_ok=True)  # the old store's, never the new one's
        os.replace(tmp, target)
    finally:
        for p in (tmp, Path(f"{tmp}.wal")):
            p.unlink(missing_ok=True)
    return counts


# --------------------------------------------------------------------------- reading


def _quarantine_summary(raw: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per file, table and reason, counted under the reason's label (a
    duplicate's text names the row it repeats; all duplicates count as one reason)."""
    from .ingest.reasons import reason_label

    if raw.empty:
        return pd.DataFrame(columns=["file", "table", "reason", "rows"])
    raw = raw.assign(reason=[reason_label(c, r) for c, r in
                             zip(raw["reason_code"], raw["reason"], strict=True)])
    out = raw.groupby(["file", "table", "reason"], as_index=False, sort=False)["rows"].sum()
    return out.sort_values(["rows", "file", "reason"], ascending=[False, True, True],
                           ignore_index=True)


@dataclass
class Dataset:
    """The canonical tables for one slice (region / team / time window) of the store."""

    opportunities: pd.DataFrame
    stage_history: pd.DataFrame = field(default_factory=lambda: empty_frame("stage_history"))
    leads: pd.DataFrame = field(default_factory=lambda: empty_frame("leads"))
    accounts: pd.DataFrame = field(default_factory=lambda: empty_frame("accounts"))
    reps: pd.DataFrame = field(default_factory=lambda: empty_frame("reps"))
    revenue: pd.DataFrame = field(default_factory=lambda: empty_frame("revenue"))
    #: the versions of the slice's deals that overlap the slice's window (empty: the
    #: store has no deal history, see ``reporting.history``)
    opportunity_history: pd.DataFrame = field(
        default_factory=lambda: empty_frame("opportunity_history"))
    stages: pd.DataFrame = field(default_factory=lambda: empty_frame("stages"))
    as_of: pd.Timestamp | None = None
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    ingest_log: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: data-quality decisions taken at ingest: file, table, code, text, rows
    data_notes: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the ingested quotas of the slice's reps, teams and region (see :func:`load_quotas`;
    #: ``params/quotas.yaml`` is combined with them by ``metrics.targets.combine_quotas``)
    quotas: pd.DataFrame = field(default_factory=lambda: empty_frame("quotas"))

    def available(self) -> dict[str, bool]:
        """Which tables hold any rows (the evidence tables are not loaded)."""
        return {t: not getattr(self, t).empty for t in TABLES if hasattr(self, t)}


def _where(region: str | None, team: str | None, alias: str = "") -> tuple[str, list]:
    a = f"{alias}." if alias else ""
    clauses, args = [], []
    if region and region.lower() != "all":
        clauses.append(f"{a}region = ?")
        args.append(region)
    if team and team.lower() != "all":
        clauses.append(f"{a}team = ?")
        args.append(team)
    return (" AND ".join(clauses) or "TRUE"), args


def _coerce(frame: pd.DataFrame, table: str, pools: dict | None = None) -> pd.DataFrame:
    """The canonical dtypes: timestamps as datetime64[us], text as object with None for
    missing (DuckDB's ``.df()`` mostly gives both already: those columns are left as they
    are, which keeps a large read fast). ``pools`` (see :func:`_shared_text`) holds one
    dict per text column, so the chunks of one read share their strings too."""
    for f in TABLES[table].fields:
        col = frame[f.name]
        if f.kind == "datetime":
            if col.dtype != "datetime64[us]":
                frame[f.name] = col.astype("datetime64[us]")
        elif f.kind == "str":
            if col.dtype != object:  # DuckDB gives text as object with None already
                col = col.astype(object).where(col.notna(), None)
            frame[f.name] = _shared_text(
                col, None if pools is None else pools.setdefault(f.name, {}))
    return frame


#: DuckDB vectors (2,048 rows each) a read turns into pandas at a time (:func:`_frame`)
FETCH_VECTORS = 32


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params, table: str | None
           ) -> pd.DataFrame:
    """The rows of ``sql`` as a frame of ``table``'s canonical dtypes (:func:`_coerce`; with
    ``table=None`` DuckDB's own, text shared as :func:`_shared_text` does), converted ~65k
    rows at a time. ``.df()`` of a whole result first makes a Python string
    for every text value of every row and only then can :func:`_shared_text` drop the
    copies: a region's 1.2M deal versions at 1M opportunities peaked at 1,530 MiB for a
    607 MiB frame (the freed strings stay with the allocator); a chunk at a time, 938 MiB
    and 0.8 s less. Same rows, order, values and dtypes (a test compares the two)."""
    cur = con.execute(sql, params)
    pools: dict = {}
    parts = []
    while True:
        chunk = cur.fetch_df_chunk(FETCH_VECTORS)
        if not len(chunk):
            break
        parts.append(_coerce(chunk, table, pools) if table else _share_objects(chunk, pools))
    if not parts:
        return _coerce(chunk, table) if table else chunk
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _share_objects(frame: pd.DataFrame, pools: dict) -> pd.DataFrame:
    """:func:`_shared_text` on every object column of a chunk of a read."""
    for name in [c for c, dt in frame.dtypes.items() if dt == np.dtype(object)]:
        frame[name] = _shared_text(frame[name], pools.setdefault(name, {}))
    return frame


def _order(table: str, alias: str) -> str:
    """``ORDER BY`` the table's key: a parallel scan returns a filtered table's rows in a
    different order from one read to the next, and sums over them then differ in their
    last digit between two runs of the same report."""
    return " ORDER BY " + ", ".join(f'{alias}."{k}"' for k in TABLES[table].key)


def _shared_text(col: pd.Series, pool: dict | None = None) -> pd.Series:
    """A text column whose equal values are one Python object each (DuckDB's ``.df()``
    makes a new string for every row: a region's 522k deal versions held 522k copies of
    six stage names). Same values, same dtype, same missing values; about 50 bytes a row
    less for each repeated value, and comparisons of equal strings stop at their
    identity. A column of mostly distinct values (names, ids of one row each) is left
    as it is. ``pool`` (value -> its object) carries the objects from one chunk of a read
    to the next: once a chunk shared its values, every later chunk does."""
    values = col.to_numpy(dtype=object)
    if len(values) < 1000 and not pool:  # a read's short last chunk still shares
        return col
    codes, uniques = pd.factorize(values)
    if not len(uniques) or (len(uniques) * 2 > len(values) and not pool):
        return col
    if pool is not None:
        uniques = [pool.setdefault(u, u) for u in uniques]
    out = np.asarray(uniques, dtype=object)[codes]
    missing = codes < 0
    if missing.any():
        out[missing] = values[missing]  # None stays None
    return pd.Series(out, index=col.index, name=col.name)


def load(
    path: str | Path | None = None,
    region: str | None = None,
    team: str | None = None,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    quotas: pd.DataFrame | None = None,
) -> Dataset:
    """Read one slice of the store.

    Opportunities of the region / team that existed before ``until`` and were not closed
    before ``since``; their stage history; leads created in the window; the accounts of
    those opportunities and their revenue up to ``until``; the region's / team's reps.
    ``quotas``: the scope's :func:`load_quotas`, when the caller read them already.
    """
    where, args = _where(region, team, "o")
    time = []
    targs: list = []
    if until is not None:
        time.append("o.created_at < ?")
        targs.append(until.to_pydatetime())
    if since is not None:
        time.append("(o.closed_at IS NULL OR o.closed_at >= ?)")
        targs.append(since.to_pydatetime())
    opp_filter = " AND ".join([where, *time]) if time else where
    opp_args = args + targs
    with connect(path, read_only=True) as con:
        def q(sql: str, params: list, table: str) -> pd.DataFrame:
            return _frame(con, sql, params, table)

        cols = ", ".join(f'o."{c}"' for c in TABLES["opportunities"].columns)
        con.execute(
            f"CREATE TEMP TABLE _opps AS SELECT {cols} FROM opportunities o WHERE {opp_filter}",
            opp_args,
        )
        opps = q("SELECT * FROM _opps", [], "opportunities")
        opps = opps.assign(created_at_estimated=opps["opportunity_id"].isin(
            estimated_created(con)))
        hist = q(
            "SELECT h.* FROM stage_history h SEMI JOIN _opps USING (opportunity_id)"
            f"{_order('stage_history', 'h')}", [], "stage_history",
        )
        vt, vta = [], []
        if until is not None:
            vt.append("h.valid_from < ?")
            vta.append(until.to_pydatetime())
        if since is not None:
            vt.append("(h.valid_to IS NULL OR h.valid_to >= ?)")
            vta.append(since.to_pydatetime())
        versions = q(
            "SELECT h.* FROM opportunity_history h SEMI JOIN _opps USING (opportunity_id) "
            f"WHERE {' AND '.join(vt) or 'TRUE'}{_order('opportunity_history', 'h')}", vta,
            "opportunity_history",
        ) if has_history(con) else empty_frame("opportunity_history")
        stage_defs = q("SELECT * FROM stages", [], "stages")
        lwhere, largs = _where(region, team, "l")
        lt, lta = [], []
        if until is not None:
            lt.append("l.created_at < ?")
            lta.append(until.to_pydatetime())
        if since is not None:
            lt.append("l.created_at >= ?")
            lta.append(since.to_pydatetime())
        leads = q(
            f"SELECT l.* FROM leads l WHERE {' AND '.join([lwhere, *lt])}", largs + lta, "leads"
        )
        acc = q(
            "SELECT a.* FROM accounts a WHERE a.account_id IN (SELECT account_id FROM _opps)"
            f"{_order('accounts', 'a')}", [], "accounts",
        )
        rev_until = "AND r.date < ?" if until is not None else ""
        rev = q(
            f"SELECT r.* FROM revenue r WHERE r.account_id IN (SELECT account_id FROM _opps) "
            f"{rev_until}{_order('revenue', 'r')}",
            [until.to_pydatetime()] if until is not None else [], "revenue",
        )
        rwhere, rargs = _where(region, team, "r")
        reps = q(
            f"SELECT r.* FROM reps r WHERE {rwhere} OR r.rep_id IN (SELECT DISTINCT owner FROM opportunities o WHERE {where})",
            rargs + args, "reps",
        )
        as_of = con.execute(
            "SELECT GREATEST(MAX(created_at), MAX(closed_at), MAX(last_activity_at)) FROM opportunities"
        ).fetchone()[0]
        quarantine = _quarantine_summary(con.execute(
            'SELECT file, "table", reason_code, reason, COUNT(*) AS rows FROM quarantine '
            "GROUP BY ALL").df())
        log = con.execute(
            'SELECT source, file, "table", SUM(rows_read) AS rows_read, SUM(rows_loaded) AS rows_loaded, '
            "SUM(rows_quarantined) AS rows_quarantined, MAX(ingested_at) AS ingested_at "
            "FROM (SELECT * FROM ingest_log QUALIFY ROW_NUMBER() OVER (PARTITION BY file, \"table\" ORDER BY ingested_at DESC) = 1) "
            "GROUP BY ALL ORDER BY file"
        ).df()
        notes = _data_notes(con)
        if quotas is None:
            quotas = _quotas(con, region, team)
    return Dataset(
        opportunities=opps,
        stage_history=hist,
        leads=leads,
        accounts=acc,
        reps=reps,
        revenue=rev,
        opportunity_history=versions,
        stages=stage_defs,
        as_of=pd.Timestamp(as_of) if as_of is not None else None,
        quarantine=quarantine,
        ingest_log=log,
        data_notes=notes,
        quotas=quotas,
    )


def _quotas(con: duckdb.DuckDBPyConnection, region: str | None, team: str | None
            ) -> pd.DataFrame:
    """The quotas of a region / team: its reps' (reps of the scope and owners of its
    deals), its teams' and, without a team filter, the region's own; every quota when
    neither is given."""
    where, args = _where(region, team)
    if where == "TRUE":
        sql, params = "SELECT * FROM quotas", []
    else:
        members = (f"SELECT rep_id FROM reps WHERE {where} UNION "
                   f"SELECT DISTINCT owner FROM opportunities WHERE {where}")
        teams = (f"SELECT team FROM reps WHERE {where} UNION "
                 f"SELECT DISTINCT team FROM opportunities WHERE {where}")
        parts = [f"(scope_type = 'rep' AND scope IN ({members}))",
                 f"(scope_type = 'team' AND scope IN ({teams}))"]
        params = args * 4
        if region and region.lower() != "all" and not (team and team.lower() != "all"):
            parts.append("(scope_type = 'region' AND scope = ?)")
            params.append(region)
        sql = f"SELECT * FROM quotas WHERE {' OR '.join(parts)}"
    frame = con.execute(sql + " ORDER BY scope_type, scope, period", params).df()
    return _coerce(frame, "quotas") if len(frame) else empty_frame("quotas")


def load_quotas(path: str | Path | None = None, region: str | None = None,
                team: str | None = None) -> pd.DataFrame:
    """The ingested quotas (table ``quotas``) of a region / team (see :func:`_quotas`);
    an empty frame with the table's columns when there are none."""
    with connect(path, read_only=True) as con:
        return _quotas(con, region, team)


def _data_notes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The data notes of the latest ingest of each file (a store written before notes
    existed has none)."""
    try:
        return con.execute(
            'SELECT file, "table", code, text, SUM("rows") AS rows FROM data_notes n WHERE '
            'batch_id = (SELECT arg_max(l.batch_id, l.ingested_at) FROM ingest_log l '
            'WHERE l.file = n.file AND l."table" = n."table") '
            'GROUP BY ALL ORDER BY file, "table", code'
        ).df()
    except duckdb.CatalogException:
        return pd.DataFrame(columns=["file", "table", "code", "text", "rows"])


def opportunities_as_of(
    path: str | Path | None,
    when: pd.Timestamp | datetime | str,
    region: str | None = None,
    team: str | None = None,
) -> pd.DataFrame:
    """The opportunities of the region / team as they were just before ``when`` (see
    :func:`reporting.history.as_of_sql`): every deal created before then and not deleted
    before then, with stage, status, closed_at, amount, currency, owner, expected close
    date, probability and forecast category as they were, ``history_known`` (the deal
    history covers that time) and ``stage_since``. Without history, every deal follows the
    current-row rules (``history_known`` false)."""
    from .history import ALL_OPPORTUNITIES, as_of_sql

    ts = pd.Timestamp(when).to_pydatetime()
    where, args = _where(region, team)
    # connect() upgrades a store made before the history tables existed
    sql = as_of_sql("$when", f"(SELECT * FROM {ALL_OPPORTUNITIES} WHERE {_numbered(where)})")
    params = {"when": ts, **{f"p{i}": a for i, a in enumerate(args)}}
    with connect(path, read_only=True) as con:
        frame = _frame(con, sql, params, "opportunities")
    if frame["stage_since"].dtype != "datetime64[us]":
        frame["stage_since"] = frame["stage_since"].astype("datetime64[us]")
    frame["history_known"] = frame["history_known"].fillna(False).astype(bool)
    return frame


def _numbered(where: str) -> str:
    """A ``_where`` condition with its ``?`` placeholders as ``$p0``, ``$p1``, ..."""
    parts = where.split("?")
    return "".join(p + (f"$p{i}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def regions(path: str | Path | None = None) -> list[str]:
    """The regions present in the store's opportunities."""
    with connect(path, read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT region FROM opportunities WHERE region IS NOT NULL ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]



def load_customers(
    path: str | Path | None = None,
    region: str | None = None,
    team: str | None = None,
    until: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every account in scope and its revenue before ``until``: accounts with an
    opportunity of the region / team created before ``until``, at any time (not only in
    the report's recent window, which would leave out exactly the churned customers).
    Returns ``(accounts, revenue)``."""
    where, args = _where(region, team, "o")
    if until is not None:
        where += " AND o.created_at < ?"
        args = [*args, until.to_pydatetime()]
    scope = f"SELECT DISTINCT o.account_id FROM opportunities o WHERE {where}"
    with connect(path, read_only=True) as con:
        acc = _frame(con, f"SELECT a.* FROM accounts a WHERE a.account_id IN ({scope})"
                     f"{_order('accounts', 'a')}", args, "accounts")
        rev_until = " AND r.date < ?" if until is not None else ""
        rev = _frame(con, f"SELECT r.* FROM revenue r WHERE r.account_id IN ({scope})"
                     f"{rev_until}{_order('revenue', 'r')}",
                     args + ([until.to_pydatetime()] if until is not None else []), "revenue")
    return acc, rev


def estimated_created(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the opportunities whose ``created_at`` ingest had to estimate (an open deal
    the export gives no creation date for, see ``reporting.ingest.NOTE_TEXT``); empty for a
    store made before row flags existed."""
    try:
        rows = con.execute(f"SELECT DISTINCT key FROM ({ESTIMATED_CREATED_IDS_SQL})").fetchall()
    except duckdb.CatalogException:
        return set()
    return {r[0] for r in rows}
