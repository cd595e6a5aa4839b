"""Deal history: versions of each opportunity, derived from the evidence in the store.

The store keeps two kinds of *evidence* about how a deal changed (see
``docs/data-model.md``):

- ``opportunity_snapshots``: the tracked fields as recorded at one time (a CRM history row,
  a full export's state at its as-of time, a pulled record, a deal's creation); an empty
  field there means "not recorded", never "empty";
- ``opportunity_changes``: one field's old and new value at one time (Salesforce field
  history, Pipedrive's deal flow, HubSpot property history), including ``deleted``;
- ``stage_history``: the time a deal entered a stage.

:func:`rebuild` derives ``opportunity_history`` from them: one row per version, valid from
``valid_from`` up to (not including) ``valid_to``. A field's value at a time is the latest
value recorded at or before it; before the first record of a field, the ``old_value`` of
its first change (what it was before, back to the deal's creation); with neither, it is
unknown (NULL). Consecutive identical states collapse into one version, so re-recording
the same evidence (re-ingesting an export) adds nothing. A deal's first version starts at
its creation when the evidence reaches back to it (a change's old value, a stage entry, a
creation or CRM record), else at its first record: before that its state is not known.
A ``deleted`` change ends the deal's versions (the last one gets ``valid_to``).

Status follows the stage when the stage was recorded after the status and the stage's
status is unambiguous (from the ``stages`` table, else from the stages the current
``opportunities`` rows are in), so a stage history alone still tells open from won.

The state at an instant ``when`` (:func:`state_at`, :func:`as_of_sql`) is the version in
force just *before* ``when``, the same convention as :func:`reporting.metrics.filters.open_at`
(a deal closed exactly at ``when`` was still open at ``when``).

Everything runs in DuckDB (ASOF joins over the evidence), so a rebuild of a million deals'
history and an as-of read of a region stay fast; :func:`state_at` is the pandas twin for
frames already in memory, and a test checks that both agree.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .engine.sql import ALL_OPPORTUNITIES, as_of_sql  # noqa: F401 - defined there (no pandas)
from .schema import TRACKED_FIELDS

#: the SQL type each tracked field is cast back to after the text-valued evidence
_TYPES = {
    "stage": "VARCHAR", "status": "VARCHAR", "amount": "DOUBLE", "currency": "VARCHAR",
    "close_date": "TIMESTAMP", "probability": "DOUBLE", "forecast_category": "VARCHAR",
    "owner": "VARCHAR",
}
_FIELDS = (*TRACKED_FIELDS, "deleted")
#: fields a version may not record (Salesforce's OpportunityHistory has no owner): taken
#: from the current row; every other unrecorded field is unknown then
CURRENT_FALLBACK = ("owner", "currency")
#: which evidence wins when two record the same field at the same time
_PRIORITY = {"changes": 1, "stage_history": 2, "snapshot": 3}


def _ids_filter(ids_table: str | None, col: str = "opportunity_id") -> str:
    return f"{col} IN (SELECT opportunity_id FROM {ids_table})" if ids_table else "TRUE"


def _text(col: str, table: str = "") -> str:
    """A snapshot column as canonical text (numbers without a trailing .0, dates ISO);
    ``table``: the alias to qualify it with."""
    ref = f"{table}.{col}" if table else col
    if col in ("amount", "probability"):
        return f"CAST({ref} AS VARCHAR)"
    if col == "close_date":
        return f"strftime({ref}, '%Y-%m-%d %H:%M:%S')"
    return ref


def rebuild(con: duckdb.DuckDBPyConnection, ids: pd.Series | list[str] | None = None, *,
            ids_from: str | None = None) -> int:
    """Re-derive ``opportunity_history`` for the deals ``ids`` (all deals: None) from the
    evidence tables; returns the number of versions written. ``ids_from``: a table (or
    view) whose ``opportunity_id`` column holds the deals instead, so a million ids never
    travel through Python. Runs inside the caller's transaction when there is one."""
    ids_table = None
    if ids_from is not None:
        con.execute("CREATE OR REPLACE TEMP TABLE _hist_ids AS SELECT DISTINCT opportunity_id "
                    f"FROM {ids_from}")
        ids_table = "_hist_ids"
    elif ids is not None:
        frame = pd.DataFrame({"opportunity_id": pd.Series(list(ids), dtype=object)}
                             ).drop_duplicates()
        if frame.empty:
            return 0
        con.register("_hist_ids_df", frame)
        con.execute("CREATE OR REPLACE TEMP TABLE _hist_ids AS SELECT * FROM _hist_ids_df")
        con.unregister("_hist_ids_df")
        ids_table = "_hist_ids"
    f_snap = _ids_filter(ids_table)
    # status from the stage when the stage is the newer record and means one status
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _stage_status AS
        WITH pairs AS (
            SELECT stage, status FROM stages WHERE stage IS NOT NULL AND status IS NOT NULL
            UNION ALL
            SELECT stage, status FROM opportunities
            WHERE stage IS NOT NULL AND status IS NOT NULL)
        SELECT stage, MIN(status) AS status FROM pairs GROUP BY stage
        HAVING COUNT(DISTINCT status) = 1""")
    if _first_exports_only(con, f_snap):
        return _rebuild_first_exports(con, ids_table)
    # the evidence, wide: one row per record, a struct per field it records (recorded,
    # possibly as empty: a change to an empty value), with the record's priority
    snap = ", ".join(f"CASE WHEN {c} IS NOT NULL THEN {{'v': {_text(c)}}} END AS \"{c}_r\""
                     for c in TRACKED_FIELDS)
    chg = ", ".join(f"any_value({{'v': new_value}}) FILTER (WHERE field = '{f}') AS \"{f}_r\""
                    for f in _FIELDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ev AS
        SELECT opportunity_id, observed_at AS t, COALESCE(origin, 'crm') AS origin,
               {_PRIORITY['snapshot']} AS prio, {snap}
        FROM opportunity_snapshots WHERE {f_snap}
        UNION ALL BY NAME
        SELECT opportunity_id, changed_at AS t, 'crm' AS origin, {_PRIORITY['changes']} AS prio,
               {chg}
        FROM opportunity_changes WHERE {f_snap} GROUP BY opportunity_id, changed_at
        UNION ALL BY NAME
        SELECT opportunity_id, entered_at AS t, 'crm' AS origin,
               {_PRIORITY['stage_history']} AS prio, any_value({{'v': stage}}) AS stage_r
        FROM stage_history WHERE {f_snap} GROUP BY opportunity_id, entered_at""")
    # the value of each field before its first change: back to the deal's creation
    before = ", ".join(
        f"arg_min(old_value, changed_at) FILTER (WHERE field = '{f}') AS \"{f}_b\""
        for f in _FIELDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _before AS
        SELECT opportunity_id, {before} FROM opportunity_changes WHERE {f_snap} GROUP BY ALL""")
    # deals known from one exported record only (a first full export): one version each,
    # written directly; the windows below run over the other deals
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _simple AS
        SELECT e.* FROM _ev e
        WHERE e.origin = 'export'
          AND e.opportunity_id IN (SELECT opportunity_id FROM _ev GROUP BY ALL
                                   HAVING COUNT(*) = 1)
          AND e.opportunity_id NOT IN (SELECT opportunity_id FROM _before)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _ev AS SELECT * FROM _ev "
                "ANTI JOIN _simple USING (opportunity_id)")
    # one row per deal and time something was recorded (a struct per field: recorded,
    # possibly as empty), plus the creation when the evidence reaches back to it
    recorded = ", ".join(
        f'arg_min("{f}_r", prio) FILTER (WHERE "{f}_r" IS NOT NULL) AS "{f}_r"'
        for f in _FIELDS)
    blanks = ", ".join(f'NULL AS "{f}_r"' for f in _FIELDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _bp AS
        WITH rec AS (
            SELECT opportunity_id, t, arg_min(origin, CASE origin WHEN 'crm' THEN 1
                   WHEN 'created' THEN 2 ELSE 3 END) AS origin, {recorded}
            FROM _ev GROUP BY ALL),
        reach AS (
            SELECT opportunity_id FROM _before
            UNION SELECT DISTINCT opportunity_id FROM _ev WHERE origin IN ('crm', 'created')),
        firsts AS (SELECT opportunity_id, MIN(t) AS first_t FROM rec GROUP BY ALL),
        created AS (
            SELECT o.opportunity_id, o.created_at AS t, 'created' AS origin, {blanks}
            FROM {ALL_OPPORTUNITIES} o JOIN firsts f USING (opportunity_id)
            SEMI JOIN reach USING (opportunity_id)
            WHERE o.created_at < f.first_t)
        SELECT * FROM rec UNION ALL BY NAME SELECT * FROM created""")
    # each field at each breakpoint: the latest record at or before it, else the value
    # before the field's first change
    cols = []
    for f in _FIELDS:
        carried = f'last_value(bp."{f}_r" IGNORE NULLS) OVER w'
        cols.append(f'CASE WHEN {carried} IS NOT NULL THEN ({carried}).v ELSE b."{f}_b" END '
                    f'AS "{f}"')
    cols.append('last_value(CASE WHEN bp."stage_r" IS NOT NULL THEN bp.t END IGNORE NULLS) '
                'OVER w AS stage_t')
    cols.append('last_value(CASE WHEN bp."status_r" IS NOT NULL THEN bp.t END IGNORE NULLS) '
                'OVER w AS status_t')
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _states AS
        SELECT bp.opportunity_id, bp.t, bp.origin, {', '.join(cols)}
        FROM _bp bp LEFT JOIN _before b USING (opportunity_id)
        WINDOW w AS (PARTITION BY bp.opportunity_id ORDER BY bp.t
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""")
    typed = ", ".join(
        f"TRY_CAST(s.\"{f}\" AS {_TYPES[f]}) AS \"{f}\"" if f not in ("status",)
        else ("CASE WHEN ss.status IS NOT NULL AND (s.status IS NULL OR "
              "s.stage_t > s.status_t) THEN ss.status ELSE s.status END AS status")
        for f in TRACKED_FIELDS)
    same = " AND ".join(f'"{f}" IS NOT DISTINCT FROM LAG("{f}") OVER w' for f in
                        (*TRACKED_FIELDS, "deleted"))
    cols_out = ", ".join(f'"{f}"' for f in TRACKED_FIELDS)
    if ids_table:
        con.execute(f"DELETE FROM opportunity_history WHERE {_ids_filter(ids_table)}")
    else:
        con.execute("DELETE FROM opportunity_history")
    # a one-record deal's record is its only snapshot (only snapshots carry 'export')
    _insert_snapshot_versions(con, "s.opportunity_id IN (SELECT opportunity_id FROM _simple)")
    con.execute(f"""
        INSERT INTO opportunity_history (opportunity_id, valid_from, valid_to, {cols_out},
                                         origin, stage_since)
        WITH typed AS (
            SELECT s.opportunity_id, s.t, s.origin, {typed},
                   COALESCE(lower(s.deleted) = 'true', FALSE) AS deleted
            FROM _states s LEFT JOIN _stage_status ss ON ss.stage = s.stage),
        marked AS (
            SELECT *, COALESCE({same}, FALSE) AS same_as_before FROM typed
            WINDOW w AS (PARTITION BY opportunity_id ORDER BY t)),
        kept AS (
            SELECT *, LEAD(t) OVER v AS next_t,
                   stage IS NOT DISTINCT FROM LAG(stage) OVER v AND NOT COALESCE(
                       LAG(deleted) OVER v, FALSE) AS same_stage
            FROM marked WHERE NOT same_as_before
            WINDOW v AS (PARTITION BY opportunity_id ORDER BY t)),
        runs AS (
            SELECT *, SUM(CASE WHEN same_stage THEN 0 ELSE 1 END) OVER (
                PARTITION BY opportunity_id ORDER BY t ROWS UNBOUNDED PRECEDING) AS run
            FROM kept)
        SELECT opportunity_id, t, next_t, {cols_out}, origin,
               MIN(t) OVER (PARTITION BY opportunity_id, run) AS stage_since
        FROM runs WHERE NOT deleted""")
    return _count_and_clean_up(con, ids_table)


def _count_and_clean_up(con: duckdb.DuckDBPyConnection, ids_table: str | None) -> int:
    """The versions of the rebuilt deals; the rebuild's temporary tables dropped."""
    n = con.execute(
        f"SELECT COUNT(*) FROM opportunity_history WHERE {_ids_filter(ids_table)}").fetchone()[0]
    for tmp in ("_ev", "_simple", "_before", "_bp", "_states", "_stage_status", "_hist_ids"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    return int(n)


def _first_exports_only(con: duckdb.DuckDBPyConnection, f_snap: str) -> bool:
    """Whether every deal of the rebuild is known from one exported record and nothing
    else (a first full export into a store without CRM history): then each has one
    version, the record's state, and the windows of the general path are not needed."""
    if con.execute("SELECT EXISTS (SELECT 1 FROM opportunity_changes) "
                   "OR EXISTS (SELECT 1 FROM stage_history)").fetchone()[0]:
        return False
    n, ids, exported = con.execute(f"""
        SELECT COUNT(*), COUNT(DISTINCT opportunity_id),
               COALESCE(bool_and(COALESCE(origin, 'crm') = 'export'), FALSE)
        FROM opportunity_snapshots WHERE {f_snap}""").fetchone()
    return bool(n) and n == ids and bool(exported)


def _rebuild_first_exports(con: duckdb.DuckDBPyConnection, ids_table: str | None) -> int:
    """:func:`rebuild` when :func:`_first_exports_only` holds: one open-ended version per
    deal from its snapshot, written as the general path writes its one-record deals
    (``tests/test_history.py`` compares the two paths), without building the evidence."""
    con.execute(f"DELETE FROM opportunity_history WHERE {_ids_filter(ids_table)}")
    _insert_snapshot_versions(con, _ids_filter(ids_table, "s.opportunity_id"))
    return _count_and_clean_up(con, ids_table)


def _insert_snapshot_versions(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """One open-ended version per deal of ``opportunity_snapshots s`` rows matching
    ``where`` (each must be its deal's only record): the snapshot's values through the
    same canonical-text round trip as the evidence (:func:`_text`), the status from the
    stage when the snapshot has none and the stage means one status (``_stage_status``)."""
    cols_out = ", ".join(f'"{f}"' for f in TRACKED_FIELDS)
    typed = ", ".join(
        f"TRY_CAST({_text(f, 's')} AS {_TYPES[f]}) AS \"{f}\"" if f != "status"
        else "COALESCE(s.status, ss.status) AS status" for f in TRACKED_FIELDS)
    con.execute(f"""
        INSERT INTO opportunity_history (opportunity_id, valid_from, valid_to, {cols_out},
                                         origin, stage_since)
        SELECT s.opportunity_id, s.observed_at, NULL, {typed}, COALESCE(s.origin, 'crm'),
               s.observed_at
        FROM opportunity_snapshots s LEFT JOIN _stage_status ss ON ss.stage = s.stage
        WHERE {where}""")


def apply_deletions(con: duckdb.DuckDBPyConnection, ids: list[str] | pd.Series | None = None,
                    *, ids_from: str | None = None) -> int:
    """Move the deals of ``ids`` (or of the ``opportunity_id`` column of table
    ``ids_from``) whose latest ``deleted`` change is ``true`` from ``opportunities`` to
    ``opportunities_deleted`` (with ``deleted_at``); a deal restored since (latest change
    ``false``, or loaded again after its deletion) leaves ``opportunities_deleted``.
    Returns the number of deals moved."""
    if ids_from is None:
        frame = pd.DataFrame({"opportunity_id": pd.Series(list(ids if ids is not None else []),
                                                          dtype=object)}).drop_duplicates()
        con.register("_del_ids_df", frame)
        source = "_del_ids_df"
    else:
        source = ids_from
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _del AS
        SELECT c.opportunity_id, MAX(c.changed_at) AS deleted_at,
               lower(arg_max(c.new_value, c.changed_at)) = 'true' AS is_deleted
        FROM opportunity_changes c SEMI JOIN {source} d USING (opportunity_id)
        WHERE c.field = 'deleted' GROUP BY ALL""")
    if ids_from is None:
        con.unregister("_del_ids_df")
    moved = con.execute("""
        SELECT COUNT(*) FROM opportunities o JOIN _del d USING (opportunity_id)
        WHERE d.is_deleted""").fetchone()[0]
    con.execute("""
        DELETE FROM opportunities_deleted x USING _del d
        WHERE x.opportunity_id = d.opportunity_id
          AND (NOT d.is_deleted OR x.opportunity_id IN (SELECT opportunity_id FROM opportunities))""")
    con.execute("""
        INSERT INTO opportunities_deleted BY NAME
        SELECT o.*, d.deleted_at FROM opportunities o JOIN _del d USING (opportunity_id)
        WHERE d.is_deleted""")
    con.execute("""
        DELETE FROM opportunities o USING _del d
        WHERE o.opportunity_id = d.opportunity_id AND d.is_deleted""")
    con.execute("DROP TABLE _del")
    return int(moved)


# --------------------------------------------------------------------------- reading

#: the as-of columns :func:`state_at` and :func:`as_of_sql` add
AS_OF_COLUMNS = ("history_known", "stage_since")


def state_at(opps: pd.DataFrame, versions: pd.DataFrame | None,
             when: pd.Timestamp) -> pd.DataFrame:
    """The deals of ``opps`` created before ``when``, as they were just before it: the
    pandas twin of :func:`as_of_sql` (same rules; a test checks they agree) for frames
    already in memory. ``versions``: ``opportunity_history`` rows (None or empty: no
    history, every deal under the current-row rules). Adds ``history_known`` and
    ``stage_since``."""
    o = opps[opps["created_at"] < when].copy()
    still_open = (o["closed_at"].isna() | (o["closed_at"] >= when)).to_numpy()
    now_open = o["status"].eq("open").to_numpy()
    out = o.copy()
    n = len(o)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    known = np.zeros(n, dtype=bool)
    since = nat.copy()
    v = pd.DataFrame(index=range(n), columns=list(TRACKED_FIELDS))
    if versions is not None and len(versions) and n:
        h = versions[(versions["valid_from"] < when)
                     & (versions["valid_to"].isna() | (versions["valid_to"] >= when))]
        if len(h):
            last = h.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")
            ids = o["opportunity_id"]
            known = ids.isin(last.index).to_numpy()
            v = last.reindex(ids.to_numpy()).reset_index(drop=True)
            since = np.where(known, v["stage_since"].to_numpy(dtype="datetime64[us]"), nat)

    def col(name: str) -> np.ndarray:
        return o[name].to_numpy(dtype=object) if name in o else np.full(n, None, dtype=object)

    def vcol(name: str) -> np.ndarray:
        return np.where(known, v[name].to_numpy(dtype=object), None)

    def first(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(pd.notna(a), a, b)

    vstatus = vcol("status")
    vclose = np.where(known, pd.to_datetime(v["close_date"]).to_numpy(dtype="datetime64[us]"),
                      nat)
    cur_closed = o["closed_at"].to_numpy(dtype="datetime64[us]")
    status = first(vstatus, np.where(still_open, "open", col("status")))
    closed_v = np.isin(vstatus, ["won", "lost"])
    closed_then = np.where(closed_v & ~np.isnat(vclose), vclose,
                           np.where(~still_open, cur_closed, nat))
    out["status"] = status
    out["closed_at"] = np.where(np.isin(status, ["won", "lost"]), closed_then, nat)
    out["stage"] = first(vcol("stage"), np.where(~still_open | now_open, col("stage"), None))
    vamount = np.where(known, v["amount"].to_numpy(dtype=float), np.nan)
    out["amount"] = np.where(np.isnan(vamount), np.where(
        now_open, o["amount"].to_numpy(dtype=float), np.nan), vamount)
    for c in CURRENT_FALLBACK:
        if c in o:
            out[c] = first(vcol(c), col(c))
    if "expected_close_date" in o:
        v_exp = np.where(pd.isna(vstatus) | (vstatus == "open"), vclose, nat)
        cur_exp = np.where(now_open, o["expected_close_date"].to_numpy(dtype="datetime64[us]"),
                           nat)
        exp = np.where(np.isnat(v_exp), cur_exp, v_exp)
        out["expected_close_date"] = np.where(status == "open", exp, nat)
    if "probability" in o:
        vp = np.where(known, v["probability"].to_numpy(dtype=float), np.nan)
        out["probability"] = np.where(np.isnan(vp), np.where(
            now_open, o["probability"].to_numpy(dtype=float), np.nan), vp)
    if "forecast_category" in o:
        out["forecast_category"] = first(vcol("forecast_category"),
                                         np.where(now_open, col("forecast_category"), None))
    if "last_activity_at" in o:
        out["last_activity_at"] = o["last_activity_at"].where(o["last_activity_at"] < when)
    out["history_known"] = known
    out["stage_since"] = since
    for c in ("stage", "status", "owner", "currency", "forecast_category"):
        if c in out:
            out[c] = out[c].astype(object).where(pd.notna(out[c]), None)
    return out.reset_index(drop=True)
