"""Loading an export into the store: each file streamed in chunks through the mapping
steps (:mod:`.steps`) into staging tables, then one transaction that replaces the rows
with the same keys, writes the quarantine (with ``reason_code``), the data notes and the
ingest log.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from ..exceptions import MappingError
from ..schema import TABLES
from ..sources import SourceMapping, load_mapping
from . import fast
from .keys import SeenKeys
from .parsing import _as_of
from .read import (
    DEFAULT_CHUNKSIZE,
    ExportFile,
    export_file,
    files_for_tables,
    iter_export,
    read_export,
)
from .reasons import conflict_reason, reason_label
from .results import QUARANTINE_COLUMNS, FileResult, MappedTable
from .steps import NOTE_TEXT, _fill_estimated, map_table

#: quarantined rows kept in memory in :class:`IngestReport` (all of them are in the store)
REPORT_QUARANTINE_LIMIT = 10_000
#: DuckDB's memory limit while ingesting (the uncommitted rows of a big file spill to disk
#: beyond it); None: DuckDB's default (80% of RAM). The process peaks at about this plus
#: ~0.4 GB of Python: a 2 GB export (27M rows) peaked at 1,501 MiB with "1GB" and 1,291 MiB
#: with "768MB", in the same time (238 s, 244 s; benchmarks/NOTES.md, session 10)
INGEST_MEMORY_LIMIT: str | None = "768MB"
_CONFLICT = "conflicting_duplicate"


def map_chunks(
    path: Path,
    table: str,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
    seen: SeenKeys | None = None,
    timezone: str = "UTC",
    defer_estimates: bool = False,
    sheet: str | None = None,
) -> Iterator[MappedTable]:
    """Read and map one file (one ``sheet`` of a workbook: default the table's) chunk by
    chunk (see :func:`iter_export`, :func:`map_table`).

    Duplicates are found across chunks through ``seen`` (default: a private
    :class:`SeenKeys`, closed when the iteration ends).
    """
    now = _as_of(as_of)
    src = export_file(path, table, mapping, sheet)
    own = seen is None
    seen = seen or SeenKeys()
    try:
        offset = 0
        for raw in iter_export(path, mapping, encoding=encoding, chunksize=chunksize,
                               table=table, sheet=src.sheet):
            n = len(raw)
            yield map_table(raw, table, mapping, src.label, as_of=now, row_offset=offset,
                            seen=seen, timezone=timezone, defer_estimates=defer_estimates)
            offset += n
    finally:
        if own:
            seen.close()


def _sum_counts(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _combine(parts: list[MappedTable], table: str, file: str) -> MappedTable:
    frame = pd.concat([m.frame for m in parts], ignore_index=True)
    qs = [m.quarantine for m in parts if len(m.quarantine)]
    quarantine = pd.concat(qs, ignore_index=True) if qs else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    codes = {k: v for m in parts for k, v in m.result.reason_codes.items()}
    result = FileResult(
        file, table, sum(m.result.read for m in parts), len(frame), len(quarantine),
        _sum_counts([m.result.reasons for m in parts]),
        _sum_counts([m.result.notes for m in parts]), codes,
    )
    qkeys = pd.concat([m.qkeys for m in parts], ignore_index=True)
    flags = pd.concat([m.flags for m in parts], ignore_index=True)
    return MappedTable(table, file, frame, quarantine, result, qkeys, flags)


def _with_conflicts(r: FileResult, n: int, notes: dict[str, int]) -> FileResult:
    """``r`` with ``n`` more rows quarantined as conflicting duplicates (the first rows of
    their keys) and the notes recounted."""
    label = reason_label(_CONFLICT, "")
    reasons = dict(r.reasons)
    reasons[label] = reasons.get(label, 0) + n
    return FileResult(r.file, r.table, r.read, r.loaded - n, r.quarantined + n, reasons,
                      {k: v for k, v in notes.items() if v},
                      {**r.reason_codes, label: _CONFLICT})


def _quarantine_conflict_firsts(m: MappedTable, seen: SeenKeys) -> MappedTable:
    """Move the first rows of keys met again with other values from the loaded rows to the
    quarantine: which of the conflicting rows is right is not known."""
    firsts = seen.conflicted_firsts()
    firsts = firsts[firsts["file"] == m.file]
    if firsts.empty:
        return m
    pos = firsts["pos"].to_numpy().astype("int64")
    rows = m.frame.iloc[pos]
    keycols = list(TABLES[m.table].key)
    q = pd.DataFrame({
        "file": m.file, "table": m.table, "row": firsts["first_row"].to_numpy(),
        "column": ",".join(keycols), "reason_code": _CONFLICT,
        "reason": [conflict_reason(r, f, m.file)
                   for r, f in zip(firsts["other_row"], firsts["other_file"], strict=True)],
        "value": rows[keycols[0]].astype(str).to_numpy(),
        "record": [json.dumps(r, ensure_ascii=False, default=str)
                   for r in rows.to_dict("records")],
    })
    quarantine = pd.concat([m.quarantine, q], ignore_index=True).sort_values(
        "row", kind="stable").reset_index(drop=True)
    frame = m.frame.drop(index=m.frame.index[pos]).reset_index(drop=True)
    flags = m.flags[~m.flags["key"].isin(rows[keycols[0]].astype(str))] if len(m.flags) else m.flags
    notes = dict(m.result.notes)
    for code in ("created_at_estimated", "created_after_close"):
        if code in notes:
            notes[code] = int((flags["code"] == code).sum())
    result = _with_conflicts(m.result, len(q), notes)
    qkeys = pd.concat([m.qkeys, rows[keycols]], ignore_index=True)
    return MappedTable(m.table, m.file, frame, quarantine, result, qkeys, flags)


def map_file(
    path: Path,
    table: str,
    mapping: SourceMapping,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = None,
    timezone: str = "UTC",
    sheet: str | None = None,
) -> MappedTable:
    """Read and map one file (one ``sheet`` of a workbook: default the table's) into
    memory (``chunksize``: read it in chunks, same result).

    Unlike :func:`map_table` on its own, both rows of a key with conflicting values are
    quarantined, and open deals without a creation date get the file's last date."""
    now = _as_of(as_of)
    src = export_file(path, table, mapping, sheet)
    with SeenKeys() as seen:
        if chunksize is None:
            raw = read_export(path, mapping, encoding=encoding, table=table, sheet=src.sheet)
            m = map_table(raw, table, mapping, src.label, as_of=now, seen=seen,
                          timezone=timezone, defer_estimates=True)
        else:
            parts = list(map_chunks(path, table, mapping, encoding=encoding, as_of=now,
                                    chunksize=chunksize, seen=seen, timezone=timezone,
                                    defer_estimates=True, sheet=src.sheet))
            m = _combine(parts, table, src.label)
        m = _quarantine_conflict_firsts(m, seen)
    if "created_at" in m.frame and m.frame["created_at"].isna().any():
        _fill_estimated(m.frame, now)
    return m


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- to the store


@dataclass
class IngestReport:
    """The outcome of one ``crm-report ingest``: per-file counts and the quarantine.

    ``quarantine`` holds at most :data:`REPORT_QUARANTINE_LIMIT` rows
    (``quarantine_truncated`` says when there were more); the store's quarantine table
    holds every one, and :meth:`reasons` counts all of them.
    """

    batch_id: str
    source: str
    results: list[FileResult]
    quarantine: pd.DataFrame
    quarantine_truncated: bool = False
    #: the export's as-of time its changes are recorded at (``--as-of``, else the newest
    #: file's modification time) and where it came from
    as_of: pd.Timestamp | None = None
    as_of_source: str = ""
    #: deal history: snapshots recorded (deals new or changed since the store's state at
    #: ``as_of``), versions of the deals with new evidence after their rebuild, deals
    #: deleted
    history_snapshots: int = 0
    history_versions: int = 0
    deleted: int = 0
    #: deals of the export whose stored state is newer than its as-of time: recorded in
    #: the history at that time, but their current row was left as it was
    older: int = 0

    @property
    def read(self) -> int:
        return sum(r.read for r in self.results)

    @property
    def loaded(self) -> int:
        return sum(r.loaded for r in self.results)

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.results)

    def reasons(self) -> pd.DataFrame:
        """Quarantined rows per table and reason: ``table, code, reason, rows`` (grouped by
        the reason code and its label, most rows first)."""
        rows = [(r.table, r.reason_codes.get(label, ""), label, n)
                for r in self.results for label, n in r.reasons.items()]
        cols = ["table", "code", "reason", "rows"]
        if not rows:
            return pd.DataFrame(columns=cols)
        return (
            pd.DataFrame(rows, columns=cols)
            .groupby(["table", "code", "reason"], sort=True)["rows"].sum().reset_index()
            .sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)
        )


def _check_file(src: ExportFile, mapping: SourceMapping, encoding: str | None) -> None:
    """Fail early (before the store is opened) on an unreadable file or missing columns."""
    chunks = iter_export(src.path, mapping, encoding=encoding, chunksize=1, table=src.table,
                         sheet=src.sheet)
    try:
        first = next(chunks)
    finally:
        chunks.close()
    empty = first.iloc[:0].copy()
    empty.attrs = {}
    map_table(empty, src.table, mapping, src.label)


_STAGING = "_ingest_staging_"


def _drop_staging(con: duckdb.DuckDBPyConnection, prefix: str = _STAGING) -> None:
    """Drop the staging tables of this ingest (or leftovers of an interrupted one)."""
    names = [
        r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)", [prefix]
        ).fetchall()
    ]
    for name in names:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _reporting_timezone() -> str:
    """The project's ``timezone`` (crm-report.yaml), else that of params/report.yaml
    (validated with the other settings by ``params check``; here only this key is read,
    cached while the file is unchanged)."""
    from ..params import params_folder
    from ..project import current

    proj = current()
    if proj is not None and proj.config.timezone:  # the project's identity wins
        return proj.config.timezone
    p = params_folder() / "report.yaml"
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "UTC"
    return _timezone_of(str(p), text)


@functools.lru_cache(maxsize=4)
def _timezone_of(path: str, text: str) -> str:
    from ..params import read_yaml

    return str(read_yaml(Path(path)).get("timezone") or "UTC")


def _check_store_meta(
    con: duckdb.DuckDBPyConnection, mapping: SourceMapping, timezone: str
) -> list[tuple[str, str]]:
    """The reporting currency and time zone of the store must be those of this ingest:
    amounts in two currencies, or times in two zones, would mix silently."""
    from .. import store as _store

    meta = _store.read_meta(con)
    want = {"reporting_currency": mapping.currency.reporting.upper(), "timezone": timezone}
    for key, value in want.items():
        have = meta.get(key)
        if have and have[0] != value:
            what = "reporting currency" if key == "reporting_currency" else "reporting time zone"
            fix = (
                "convert to the same reporting currency (`currency: {reporting: ...}` in the "
                "mapping) or use another --store"
                if key == "reporting_currency"
                else "set the same `timezone:` in params/report.yaml or use another --store"
            )
            raise MappingError(
                f"the store's {what} is {have[0]} (set by source {have[1]!r}) but source "
                f"{mapping.name!r} ({mapping.path or mapping.name}) uses {value}: {fix}"
            )
    return [(k, v) for k, v in want.items() if k not in meta]


def ingest_paths(
    paths: list[Path],
    source: str | Path,
    store_path: str | Path | None = None,
    *,
    encoding: str | None = None,
    as_of: datetime | date | str | pd.Timestamp | None = None,
    chunksize: int | None = DEFAULT_CHUNKSIZE,
    timezone: str | None = None,
    on_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> IngestReport:
    """Map, validate and load one export (files or a folder) into the store.

    Each file is streamed in chunks of ``chunksize`` rows (None: at once): each chunk is
    mapped, validated and written to staging tables in the store (on disk, so memory stays
    flat however big the file) before the next is read. Then one transaction moves the
    staged rows into the canonical tables (replacing rows with the same keys, so
    re-ingesting the same file never duplicates rows; a key whose row is now quarantined
    loses its old version) with the quarantine, the data notes and the ingest log: either
    every table of the export is written, or nothing is. A file is identified by its
    resolved path and its content hash: re-ingesting it by another path replaces its
    quarantine instead of adding a second copy.

    Duplicate keys are found across all files of one table in the export, as within one
    file: an identical copy is quarantined as such; conflicting copies are all quarantined.

    ``encoding`` overrides the mapping's ``encoding`` for every file (e.g. ``cp1256``,
    ``latin-1``); ``as_of`` (default: now) is the time after which, plus a day, a date is
    quarantined as "in the future"; ``timezone`` (default: ``timezone`` of
    params/report.yaml) is the reporting time zone timestamps are converted to.
    ``on_commit(con)`` runs inside the ingest's transaction, just before it commits (a pull
    records its new cursor there, so the cursor moves only with the data).

    Raises
    ------
    DataValidationError, MappingError
        Naming the file and what to change; the store is left as it was.
    """
    from .. import store as _store  # the store imports nothing from here; keeps import light
    from ..sources import check_timezone

    mapping = load_mapping(source)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise MappingError(
                f"--encoding {encoding!r} is not a known encoding; use a Python codec name "
                "such as utf-8, utf-16, cp1256 (Persian / Arabic Windows) or latin-1"
            ) from None
    tz = timezone or _reporting_timezone()
    try:
        check_timezone(tz)
    except ValueError as exc:
        raise MappingError(f"reporting time zone: {exc}") from None
    now = _as_of(as_of)
    pairs = files_for_tables([Path(p) for p in paths], mapping)
    for src in pairs:
        _check_file(src, mapping, encoding)
    history_at, history_src = _history_as_of(as_of, pairs, timezone=tz)
    order = list(TABLES)
    ordered = sorted(range(len(pairs)), key=lambda i: order.index(pairs[i].table))
    st = _Staging(uuid.uuid4().hex[:12], mapping)
    with _store.connect(store_path) as con:
        if INGEST_MEMORY_LIMIT:
            con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        _drop_staging(con)  # leftovers of an interrupted ingest
        new_meta = _check_store_meta(con, mapping, tz)
        seens: dict[str, SeenKeys] = {}
        try:
            # 1. stream every file into staging tables, chunk by chunk (each insert commits)
            for i in ordered:
                src = pairs[i]
                if src.table not in seens:
                    seens[src.table] = SeenKeys(con, name=f"{st.prefix}seen_{src.table}")
                # a plain CSV of deals, the only file of its table: mapped in DuckDB
                # (None: the fast path cannot decide this file; the pandas steps do)
                if sum(p.table == src.table for p in pairs) == 1:
                    res = fast.stage_csv(con, st, i, src, mapping, encoding=encoding, now=now)
                    if res is not None:
                        st.results[i] = res
                        continue
                chunks = map_chunks(src.path, src.table, mapping, encoding=encoding, as_of=now,
                                    chunksize=chunksize, seen=seens[src.table], timezone=tz,
                                    defer_estimates=True, sheet=src.sheet)
                st.results[i] = _stage_file(con, st, i, src, chunks)
            # 2. conflicting duplicates (within a file or across the files of a table):
            #    the first rows leave the staged rows for the quarantine too
            for i in ordered:
                _stage_conflicts(con, st, i, pairs[i], seens[pairs[i].table])
            # 3. open deals without a creation date get their file's last date
            for i in ordered:
                _fill_staged_estimates(con, st, i, pairs[i], now)
            # 4. one transaction: staged rows replace rows with the same keys
            con.execute("BEGIN")
            held = _hold_back_older(con, st, pairs, ordered, history_at)
            _commit(con, st, pairs, ordered)
            hist = _record_history(con, st, pairs, ordered, history_at)
            hist["older"] = held
            for key, value in new_meta:
                con.execute("INSERT INTO store_meta VALUES (?, ?, ?)", [key, value, mapping.name])
            _store.fill_from_reps(con)
            if on_commit is not None:
                on_commit(con)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # no transaction open (failed while staging)
                pass
            raise
        finally:
            for seen in seens.values():
                seen.close()
            _drop_staging(con, st.prefix)
    quarantine = (
        pd.concat(st.kept, ignore_index=True) if st.kept
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    truncated = st.truncated
    if len(quarantine) > REPORT_QUARANTINE_LIMIT:
        quarantine, truncated = quarantine.iloc[:REPORT_QUARANTINE_LIMIT], True
    return IngestReport(
        st.batch, mapping.name, [st.results[i] for i in range(len(pairs))], quarantine, truncated,
        as_of=history_at, as_of_source=history_src, **hist,
    )


#: the tables whose rows are evidence of a deal's history (reporting.history)
_HISTORY_TABLES = ("opportunities", "opportunity_snapshots", "opportunity_changes",
                   "stage_history")


def _history_as_of(as_of: datetime | date | str | pd.Timestamp | None,
                   pairs: list[ExportFile], timezone: str = "UTC",
                   ) -> tuple[pd.Timestamp, str]:
    """The time an export's state is recorded at: ``as_of`` when given, else the newest
    file's modification time (in the reporting time zone, like every stored time)."""
    if as_of is not None:
        return _as_of(as_of), "--as-of"
    newest = max(src.path.stat().st_mtime for src in pairs) if pairs else None
    if newest is None:
        return _as_of(None), "now"
    ts = pd.Timestamp(newest, unit="s", tz="UTC").tz_convert(timezone).tz_localize(None)
    return ts.floor("s"), "file modification time"


def _hold_back_older(con: duckdb.DuckDBPyConnection, st: _Staging, pairs: list[ExportFile],
                     ordered: list[int], when: pd.Timestamp) -> int:
    """Staged deals whose history in the store already goes past ``when`` (a newer export
    or pull came first) must not overwrite their newer current row: they move to a side
    table, recorded in the history only (at ``when``). Returns how many."""
    n = 0
    for i in ordered:
        if pairs[i].table != "opportunities" or not st.results[i].loaded:
            continue
        pre = f"{st.prefix}{i}"
        con.execute(f"""CREATE TABLE "{pre}_older" AS SELECT s.* FROM "{pre}" s WHERE EXISTS (
            SELECT 1 FROM opportunity_history h WHERE h.opportunity_id = s.opportunity_id
            AND h.valid_from > $w)""", {"w": when.to_pydatetime()})
        k = con.execute(f'SELECT COUNT(*) FROM "{pre}_older"').fetchone()[0]
        if k:
            con.execute(f'DELETE FROM "{pre}" WHERE opportunity_id IN '
                        f'(SELECT opportunity_id FROM "{pre}_older")')
        n += k
    return int(n)


def _record_history(con: duckdb.DuckDBPyConnection, st: _Staging, pairs: list[ExportFile],
                    ordered: list[int], when: pd.Timestamp) -> dict[str, int]:
    """Inside the transaction, after the rows are in: a snapshot at ``when`` (origin
    ``export``) of every loaded deal that is new or differs from its state in the store at
    that time; deals whose latest ``deleted`` change says so moved to
    ``opportunities_deleted``; the history of every touched deal rebuilt."""
    from .. import history as _history

    # the deals with new evidence, in a temporary table (a million ids never go through
    # Python)
    con.execute("CREATE OR REPLACE TEMP TABLE _touched (opportunity_id VARCHAR)")
    snaps = 0
    w = when.to_pydatetime()
    tracked = ("stage", "status", "amount", "currency", "probability", "forecast_category",
               "owner")
    for i in ordered:
        table, pre = pairs[i].table, f"{st.prefix}{i}"
        if table not in _HISTORY_TABLES or not st.results[i].loaded:
            continue
        if table != "opportunities":  # new evidence: its deals' versions are rebuilt
            con.execute(f'INSERT INTO _touched SELECT DISTINCT opportunity_id FROM "{pre}"')
            continue
        older = con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = ?",
                            [f"{pre}_older"]).fetchone()[0]
        if older:
            pre_src = f'(SELECT * FROM "{pre}" UNION ALL SELECT * FROM "{pre}_older")'
        else:
            pre_src = f'"{pre}"'
        close = "CASE WHEN s.status = 'open' THEN s.expected_close_date ELSE s.closed_at END"
        same = " AND ".join([f"(s.{c} IS NULL OR s.{c} IS NOT DISTINCT FROM v.{c})"
                             for c in tracked]
                            + [f"({close} IS NULL OR {close} IS NOT DISTINCT FROM v.close_date)"])
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _snap AS
            SELECT s.opportunity_id, GREATEST($w, s.created_at) AS observed_at,
                   {', '.join(f's.{c}' for c in tracked)}, {close} AS close_date
            FROM {pre_src} s
            LEFT JOIN (SELECT * FROM opportunity_history WHERE valid_from <= $w
                       QUALIFY ROW_NUMBER() OVER (PARTITION BY opportunity_id
                                                  ORDER BY valid_from DESC) = 1) v
              ON v.opportunity_id = s.opportunity_id
            WHERE v.opportunity_id IS NULL OR (v.valid_to IS NOT NULL AND v.valid_to <= $w)
               OR NOT ({same})""", {"w": w})
        con.execute("DELETE FROM opportunity_snapshots t USING _snap n WHERE "
                    "t.opportunity_id = n.opportunity_id AND t.observed_at = n.observed_at")
        cols = ", ".join([*tracked, "close_date"])
        con.execute(f"INSERT INTO opportunity_snapshots (opportunity_id, observed_at, {cols}, "
                    f"origin) SELECT opportunity_id, observed_at, {cols}, 'export' FROM _snap")
        # only deals with a new snapshot change: the others' versions stay as they are
        con.execute("INSERT INTO _touched SELECT DISTINCT opportunity_id FROM _snap")
        snaps += con.execute("SELECT COUNT(*) FROM _snap").fetchone()[0]
        con.execute("DROP TABLE _snap")
    try:
        if not con.execute("SELECT COUNT(*) FROM _touched").fetchone()[0]:
            return {"history_snapshots": 0, "history_versions": 0, "deleted": 0}
        con.execute("CREATE OR REPLACE TEMP TABLE _touched_ids AS "
                    "SELECT DISTINCT opportunity_id FROM _touched")
        deleted = _history.apply_deletions(con, ids_from="_touched_ids")
        versions = _history.rebuild(con, ids_from="_touched_ids")
    finally:
        con.execute("DROP TABLE IF EXISTS _touched")
        con.execute("DROP TABLE IF EXISTS _touched_ids")
    return {"history_snapshots": int(snaps), "history_versions": versions,
            "deleted": deleted}


_QCOLS = ('batch_id, source, file, "table", "row", "column", reason, value, record, '
          "reason_code")


@dataclass
class _Staging:
    """One ingest's staging state: table names, per-file results, kept quarantine."""

    batch: str
    mapping: SourceMapping
    results: dict[int, FileResult] = field(default_factory=dict)
    ends: dict[int, object] = field(default_factory=dict)
    kept: list[pd.DataFrame] = field(default_factory=list)
    n_kept: int = 0
    truncated: bool = False

    @property
    def prefix(self) -> str:
        return f"{_STAGING}{self.batch}_"

    def keep(self, q: pd.DataFrame) -> None:
        """Keep quarantined rows for the report, up to :data:`REPORT_QUARANTINE_LIMIT`."""
        room = REPORT_QUARANTINE_LIMIT - self.n_kept
        if room > 0:
            self.kept.append(q[QUARANTINE_COLUMNS].iloc[:room])
            self.n_kept += min(room, len(q))
        self.truncated = self.truncated or len(q) > room


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame,
            columns: list[str] | str) -> None:
    collist = columns if isinstance(columns, str) else ", ".join(f'"{c}"' for c in columns)
    con.register("_chunk", frame)
    try:
        con.execute(f'INSERT INTO "{name}" ({collist}) SELECT {collist} FROM _chunk')
    finally:
        con.unregister("_chunk")


def _stage_file(con: duckdb.DuckDBPyConnection, st: _Staging, i: int, src: ExportFile,
                chunks: Iterator[MappedTable]) -> FileResult:
    """Write the mapped chunks of one file to its staging tables; its counts."""
    spec = TABLES[src.table]
    pre = f"{st.prefix}{i}"
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    keys = ", ".join(f'"{c}"' for c in spec.key)
    con.execute(f'CREATE TABLE "{pre}" AS SELECT {cols} FROM "{src.table}" LIMIT 0')
    con.execute(f'CREATE TABLE "{pre}_q" AS SELECT {_QCOLS} FROM quarantine LIMIT 0')
    con.execute(f'CREATE TABLE "{pre}_k" AS SELECT {keys} FROM "{src.table}" LIMIT 0')
    con.execute(f'CREATE TABLE "{pre}_f" (key VARCHAR, code VARCHAR)')
    parts: list[FileResult] = []
    for m in chunks:
        for frame, name, columns in ((m.frame, pre, spec.columns),
                                     (m.qkeys, f"{pre}_k", list(spec.key)),
                                     (m.flags, f"{pre}_f", ["key", "code"])):
            if len(frame):
                _insert(con, name, frame[columns], columns)
        if not m.quarantine.empty:
            _insert(con, f"{pre}_q", m.quarantine.assign(batch_id=st.batch,
                                                         source=st.mapping.name), _QCOLS)
            st.keep(m.quarantine)
        parts.append(m.result)
    return FileResult(src.label, src.table, sum(r.read for r in parts),
                      sum(r.loaded for r in parts), sum(r.quarantined for r in parts),
                      _sum_counts([r.reasons for r in parts]),
                      _sum_counts([r.notes for r in parts]),
                      {k: v for r in parts for k, v in r.reason_codes.items()})


def _stage_conflicts(con: duckdb.DuckDBPyConnection, st: _Staging, i: int, src: ExportFile,
                     seen: SeenKeys) -> None:
    """Move the staged first rows of keys met again with other values to the staged
    quarantine (which of the conflicting rows is right is not known)."""
    firsts = seen.conflicted_firsts()
    firsts = firsts[firsts["file"] == src.label]
    if firsts.empty:
        return
    pre = f"{st.prefix}{i}"
    keycols = list(TABLES[src.table].key)
    con.register("_pos", firsts[["pos", "first_row", "other_row", "other_file"]])
    rows = con.execute(
        'SELECT p.first_row, p.other_row, p.other_file, to_json(s) AS record, '
        + ", ".join(f's."{k}"' for k in keycols)
        + f' FROM "{pre}" s JOIN _pos p ON s.rowid = p.pos ORDER BY p.first_row'
    ).df()
    con.execute(f'DELETE FROM "{pre}" WHERE rowid IN (SELECT pos FROM _pos)')
    con.unregister("_pos")
    q = pd.DataFrame({
        "batch_id": st.batch, "source": st.mapping.name, "file": src.label,
        "table": src.table, "row": rows["first_row"].to_numpy(), "column": ",".join(keycols),
        "reason_code": _CONFLICT,
        "reason": [conflict_reason(r, f, src.label)
                   for r, f in zip(rows["other_row"], rows["other_file"], strict=True)],
        "value": rows[keycols[0]].astype(str).to_numpy(),
        "record": rows["record"].to_numpy(),
    })
    _insert(con, f"{pre}_q", q, _QCOLS)
    _insert(con, f"{pre}_k", rows[keycols], keycols)
    con.register("_k", rows[keycols[:1]].astype(str).set_axis(["key"], axis=1))
    con.execute(f'DELETE FROM "{pre}_f" WHERE key IN (SELECT key FROM _k)')
    con.unregister("_k")
    conflicts_recorded(con, st, i, q, f'"{pre}_f"')


def conflicts_recorded(con: duckdb.DuckDBPyConnection, st: _Staging, i: int,
                       q: pd.DataFrame, staged: str) -> None:
    """After file ``i``'s conflicting duplicates ``q`` went to quarantine: keep them for
    the ingest report (up to its limit) and recount the file's row notes in the staged
    table ``staged`` (a quoted name), which no longer holds the conflicting rows."""
    if st.n_kept < REPORT_QUARANTINE_LIMIT:
        st.kept.append(q[QUARANTINE_COLUMNS])
        st.n_kept += len(q)
    r = st.results[i]
    notes = dict(r.notes)
    for code in ("created_at_estimated", "created_after_close"):
        if code in notes:
            notes[code] = con.execute(
                f"SELECT COUNT(*) FROM {staged} WHERE code = ?", [code]).fetchone()[0]
    st.results[i] = _with_conflicts(r, len(q), notes)


def _fill_staged_estimates(con: duckdb.DuckDBPyConnection, st: _Staging, i: int,
                           src: ExportFile, now: pd.Timestamp) -> None:
    """Open deals without a creation date get their file's last date."""
    if src.table != "opportunities" or not st.results[i].notes.get("created_at_estimated"):
        return
    pre = f"{st.prefix}{i}"
    end = con.execute(
        f'SELECT GREATEST(MAX(created_at), MAX(closed_at), MAX(last_activity_at)) FROM "{pre}"'
    ).fetchone()[0]
    end = end or now.normalize().to_pydatetime()
    st.ends[i] = end
    con.execute(f'UPDATE "{pre}" SET created_at = ? WHERE created_at IS NULL', [end])


def _commit(con: duckdb.DuckDBPyConnection, st: _Staging, pairs: list[ExportFile],
            ordered: list[int]) -> None:
    """Inside the transaction: replace earlier ingests of the same files, then move the
    staged rows, quarantine, flags, notes and log entries into the store."""
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    mapping = st.mapping
    identities = {i: (_resolved_label(pairs[i]), file_fingerprint(pairs[i].path))
                  for i in ordered}
    for i in ordered:
        table, label = pairs[i].table, pairs[i].label
        resolved, sha = identities[i]
        # earlier ingests of this file (by any path, or the same bytes elsewhere)
        old = con.execute(
            'SELECT DISTINCT batch_id, file FROM ingest_log WHERE "table" = ? AND '
            "(file = ? OR file_resolved = ? OR file_sha256 = ?)",
            [table, label, resolved, sha],
        ).fetchall()
        for b, f in old:
            for meta in ("quarantine", "data_notes", "row_flags"):
                con.execute(f'DELETE FROM {meta} WHERE batch_id = ? AND file = ? '
                            'AND "table" = ?', [b, f, table])
            if f != label:  # the same file by another path: one entry in the log
                con.execute('DELETE FROM ingest_log WHERE batch_id = ? AND file = ? '
                            'AND "table" = ?', [b, f, table])
        con.execute('DELETE FROM quarantine WHERE file = ? AND "table" = ?', [label, table])
    for i in ordered:
        # rows now quarantined lose their old versions (first, for every file of the
        # export: a later file's identical copy must not delete a loaded row)
        table = pairs[i].table
        cond = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in TABLES[table].key)
        con.execute(
            f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM "{st.prefix}{i}_k" s '
            f"WHERE {cond})"
        )
    for i in ordered:
        table = pairs[i].table
        pre = f"{st.prefix}{i}"
        r = st.results[i]
        cols = ", ".join(f'"{c}"' for c in TABLES[table].columns)
        cond = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in TABLES[table].key)
        if r.loaded:
            con.execute(
                f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM "{pre}" s WHERE {cond})'
            )
            con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{pre}"')
        con.execute(f'INSERT INTO quarantine ({_QCOLS}) SELECT {_QCOLS} FROM "{pre}_q"')
        con.execute(
            f'INSERT INTO row_flags SELECT ?, ?, ?, ?, key, code FROM "{pre}_f"',
            [st.batch, mapping.name, r.file, table],
        )
        for code, rows_n in r.notes.items():
            con.execute(
                "INSERT INTO data_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
                [st.batch, mapping.name, r.file, table, code,
                 _note_text(code, mapping, st.ends.get(i)), rows_n],
            )
        con.execute(
            "INSERT INTO ingest_log (batch_id, source, file, file_sha256, \"table\", "
            "rows_read, rows_loaded, rows_quarantined, ingested_at, file_resolved) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [st.batch, mapping.name, r.file, identities[i][1], table,
             r.read, r.loaded, r.quarantined, ingested_at, identities[i][0]],
        )


def _resolved_label(src: ExportFile) -> str:
    """The resolved path (with the sheet of a workbook): one file by any path."""
    return ExportFile(src.table, src.path.resolve(), src.sheet).label


def _note_text(code: str, mapping: SourceMapping, end: object = None) -> str:
    rates = mapping.currency.rates_file or ""
    return NOTE_TEXT.get(code, code).format(
        end=f"{pd.Timestamp(end):%Y-%m-%d}" if end is not None else "unknown",
        days=mapping.created_after_close_days,
        reporting=mapping.currency.reporting,
        file=Path(rates).name,
    )
