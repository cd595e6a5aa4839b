"""SQL text shared by the metrics, the store and the engines, without pandas.

Everything here builds query text or runs one query on a connection it is given and
returns plain Python values, so ``crm-report metrics`` can answer without importing
pandas (most of a short command's start-up). The definitions live here once; the
modules that use them re-export them under their old names
(:mod:`reporting.metrics.filters`, :mod:`reporting.history`, :mod:`reporting.store`,
:mod:`reporting.metrics.pipeline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import duckdb

CLOSED_STATUSES = ("won", "lost")
MAX_UNKNOWN_SHARE = 0.5  # more unknown than this: the figure is not computable
#: ids of the deals whose creation date ingest estimated (``row_flags``)
ESTIMATED_CREATED_IDS_SQL = ("SELECT key FROM row_flags WHERE \"table\" = 'opportunities' "
                             "AND code = 'created_at_estimated'")
#: every deal the store knows: the current ones and those deleted in the CRM (kept, with
#: their last state, in ``opportunities_deleted`` so the past still shows them)
ALL_OPPORTUNITIES = ("(SELECT *, NULL::TIMESTAMP AS deleted_at FROM opportunities "
                     "UNION ALL BY NAME SELECT * FROM opportunities_deleted)")
StaleDays = int | float | Mapping[str, int]
GROUPS = {"owner", "team", "region", "source", "product"}
#: the columns of the per-group summary whose values are counts (integers)
COUNT_COLUMNS = ("won", "lost", "created", "open_count", "open_amount_unknown",
                 "stale_open_count", "stale_unknown_count")


# --------------------------------------------------------------------------- row filters


def _col(alias: str, name: str) -> str:
    return f"{alias}.{name}" if alias else name


def closed_in_period_sql(start: str = "$start", end: str = "$end", alias: str = "") -> str:
    """SQL condition of :func:`closed_in_period`; ``start`` / ``end`` are placeholders or
    expressions (e.g. ``$start``), ``alias`` qualifies the columns."""
    status, closed = _col(alias, "status"), _col(alias, "closed_at")
    statuses = ", ".join(f"'{s}'" for s in CLOSED_STATUSES)
    return f"({status} IN ({statuses}) AND {closed} >= {start} AND {closed} < {end})"


def open_at_sql(when: str = "$end", alias: str = "") -> str:
    """SQL condition of :func:`open_at` at the instant ``when`` (a placeholder or an
    expression)."""
    created, closed = _col(alias, "created_at"), _col(alias, "closed_at")
    return f"({created} < {when} AND ({closed} IS NULL OR {closed} >= {when}))"


def created_counted_sql(estimated_ids: str, start: str = "$start", end: str = "$end",
                        alias: str = "") -> str:
    """SQL condition of :func:`created_counted`; ``estimated_ids`` is a query giving the
    ids of the deals whose creation date was estimated (in a store:
    :data:`reporting.store.ESTIMATED_CREATED_IDS_SQL`, from ``row_flags``)."""
    created, oid = _col(alias, "created_at"), _col(alias, "opportunity_id")
    return (f"({created} >= {start} AND {created} < {end} "
            f"AND {oid} NOT IN ({estimated_ids}))")


# --------------------------------------------------------------------------- deal history


def has_history(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds any deal history (a store made before history existed,
    opened read-only, has no such table: no history)."""
    try:
        return con.execute("SELECT EXISTS (SELECT 1 FROM opportunity_history)").fetchone()[0]
    except duckdb.CatalogException:
        return False


def as_of_sql(when_param: str = "$when", opps: str = ALL_OPPORTUNITIES) -> str:
    """SQL of the opportunities as they were just before ``when``: the current row's
    descriptive columns; the tracked fields from the version in force where the history
    covers that time (``history_known``; owner and currency from the current row when the
    version does not record them); ``stage_since`` (when the deal entered the stage it was
    in then, from its versions); for a deal the history does not cover, the current fields
    under the rules of :func:`reporting.metrics.pipeline.amount_as_of` (amount, stage,
    probability known only while the deal is still open). Deals deleted before ``when``
    are left out; deals deleted since are in (they were in the pipeline then)."""
    w = when_param
    return f"""
    WITH o AS (SELECT *, closed_at IS NULL OR closed_at >= {w} AS still_open FROM {opps}),
    v AS (  -- versions are contiguous: the one in force just before w
        SELECT h.* FROM opportunity_history h SEMI JOIN o USING (opportunity_id)
        WHERE h.valid_from < {w} AND (h.valid_to IS NULL OR h.valid_to >= {w})),
    t AS (  -- each field then: the version's, else what the current row can tell
        SELECT o.*, v.valid_from AS v_from, v.valid_to AS v_to, v.stage_since,
            COALESCE(v.status, CASE WHEN o.still_open THEN 'open' ELSE o.status END)
                AS status_then,
            COALESCE(v.stage, CASE WHEN NOT o.still_open OR o.status = 'open'
                                   THEN o.stage END) AS stage_then,
            COALESCE(v.amount, CASE WHEN o.status = 'open' THEN o.amount END) AS amount_then,
            COALESCE(v.currency, o.currency) AS currency_then,
            COALESCE(v.owner, o.owner) AS owner_then,
            COALESCE(CASE WHEN v.status IN ('won', 'lost') THEN v.close_date END,
                     CASE WHEN NOT o.still_open THEN o.closed_at END) AS closed_then,
            COALESCE(CASE WHEN v.status IS NULL OR v.status = 'open' THEN v.close_date END,
                     CASE WHEN o.status = 'open' THEN o.expected_close_date END)
                AS expected_then,
            COALESCE(v.probability, CASE WHEN o.status = 'open' THEN o.probability END)
                AS probability_then,
            COALESCE(v.forecast_category, CASE WHEN o.status = 'open'
                                               THEN o.forecast_category END) AS category_then
        FROM o
        LEFT JOIN v ON v.opportunity_id = o.opportunity_id
        WHERE o.created_at < {w} AND (o.deleted_at IS NULL OR o.deleted_at >= {w}))
    SELECT t.* EXCLUDE (still_open, deleted_at, v_from, v_to, stage_since, status_then,
                        stage_then, amount_then, currency_then, owner_then, closed_then,
                        expected_then, probability_then, category_then) REPLACE (
            stage_then AS stage, status_then AS status,
            CASE WHEN status_then IN ('won', 'lost') THEN closed_then END AS closed_at,
            amount_then AS amount, currency_then AS currency, owner_then AS owner,
            CASE WHEN status_then = 'open' THEN expected_then END AS expected_close_date,
            probability_then AS probability, category_then AS forecast_category,
            CASE WHEN last_activity_at < {w} THEN last_activity_at END AS last_activity_at),
        v_from IS NOT NULL AS history_known, stage_since
    FROM t"""


# --------------------------------------------------------------------------- per-group summary

_SQL = """
WITH _estimated AS ({estimated}),
scope AS (
    SELECT * FROM opportunities WHERE created_at < $end AND {scope}
),
evidence AS (
    SELECT COUNT(last_activity_at) > 0 AS activity,
        EXISTS (SELECT 1 FROM stage_history h SEMI JOIN scope USING (opportunity_id)) AS history
    FROM scope
),
as_of_v AS ({asof}),
known AS (SELECT COUNT(*) FILTER (WHERE v_status = 'open') > 0 AS covered FROM as_of_v),
hist AS (  -- read only where no version covers the deal at the period end (g uses it so)
    SELECT opportunity_id, MAX(entered_at) AS last_change, arg_max(stage, entered_at) AS stage_then
    FROM stage_history SEMI JOIN (SELECT opportunity_id FROM scope
                                  ANTI JOIN as_of_v USING (opportunity_id)) USING (opportunity_id)
    WHERE entered_at < $end GROUP BY opportunity_id
),
g AS (
    SELECT COALESCE(CAST(o.{col} AS VARCHAR), '(none)') AS grp,
        -- the open pipeline is grouped as it was at the period end (the owner then)
        COALESCE(CAST({open_col} AS VARCHAR), '(none)') AS grp_open, o.status, o.amount,
        {closed_in} AS closed_in,
        epoch(closed_at - created_at) / 86400.0 AS days,
        {created_in} AS created_in,
        -- a deal the deal history covers at the period end: as its version then says
        CASE WHEN v.opportunity_id IS NOT NULL THEN v.v_status = 'open'
             ELSE {open_at_end} END AS open_at_end,
        -- the amount known at the period end: the version's, else the current one only
        -- while still open
        CASE WHEN v.opportunity_id IS NOT NULL THEN v.v_amount
             WHEN status = 'open' THEN amount END AS amount_then,
        epoch($end - GREATEST(created_at,
            CASE WHEN v.opportunity_id IS NOT NULL THEN v.v_stage_since ELSE h.last_change END,
            CASE WHEN last_activity_at < $end THEN last_activity_at END)) / 86400.0 AS idle,
        COALESCE(last_activity_at >= $end, FALSE) AS touched_later,
        COALESCE(list_extract($stale_days,
            list_position($stale_stages, CASE WHEN v.opportunity_id IS NOT NULL THEN v.v_stage
                ELSE COALESCE(h.stage_then, CASE WHEN status = 'open' THEN o.stage END) END)),
            $stale) AS threshold
    FROM scope o LEFT JOIN hist h USING (opportunity_id)
    LEFT JOIN as_of_v v USING (opportunity_id)
),
c AS (
    SELECT grp,
        COUNT(*) FILTER (WHERE closed_in AND status = 'won') AS won,
        COUNT(*) FILTER (WHERE closed_in AND status = 'lost') AS lost,
        COUNT(*) FILTER (WHERE created_in) AS created,
        MEDIAN(days) FILTER (WHERE closed_in AND status = 'won') AS median_cycle_days_won,
        AVG(days) FILTER (WHERE closed_in AND status = 'won') AS mean_cycle_days_won,
        MEDIAN(days) FILTER (WHERE closed_in AND status = 'lost') AS median_cycle_days_lost,
        AVG(amount) FILTER (WHERE closed_in AND status = 'won') AS avg_won_amount,
        MEDIAN(amount) FILTER (WHERE closed_in AND status = 'won') AS median_won_amount
    FROM g GROUP BY grp
),
op AS (
    SELECT grp_open AS grp,
        COUNT(*) FILTER (WHERE open_at_end) AS open_count,
        COALESCE(SUM(amount_then) FILTER (WHERE open_at_end), 0.0) AS known_amount,
        COUNT(*) FILTER (WHERE open_at_end AND amount_then IS NULL) AS open_amount_unknown,
        COUNT(*) FILTER (WHERE open_at_end AND idle > threshold AND NOT touched_later
                         AND ((SELECT activity OR history FROM evidence)
                              OR (SELECT covered FROM known))) AS stale_open_count,
        COUNT(*) FILTER (WHERE open_at_end AND ((idle > threshold AND touched_later)
                         OR NOT ((SELECT activity OR history FROM evidence)
                                 OR (SELECT covered FROM known)))) AS stale_unknown_count
    FROM g GROUP BY grp_open
),
a AS (
    SELECT COALESCE(c.grp, op.grp) AS grp,
        COALESCE(won, 0) AS won, COALESCE(lost, 0) AS lost, COALESCE(created, 0) AS created,
        median_cycle_days_won, mean_cycle_days_won, median_cycle_days_lost, avg_won_amount,
        median_won_amount, COALESCE(open_count, 0) AS open_count,
        COALESCE(known_amount, 0.0) AS known_amount,
        COALESCE(open_amount_unknown, 0) AS open_amount_unknown,
        COALESCE(stale_open_count, 0) AS stale_open_count,
        COALESCE(stale_unknown_count, 0) AS stale_unknown_count
    FROM c FULL OUTER JOIN op ON c.grp = op.grp
)
SELECT grp AS "group", won, lost,
    CASE WHEN won + lost > 0 THEN won / (won + lost) END AS win_rate, created,
    median_cycle_days_won, mean_cycle_days_won, median_cycle_days_lost,
    avg_won_amount, median_won_amount, open_count,
    -- null, not 0, when most open deals have no amount known then
    CASE WHEN open_amount_unknown > $max_unknown * open_count THEN NULL ELSE known_amount END
        AS open_amount,
    open_amount_unknown, stale_open_count, stale_unknown_count
FROM a WHERE won + lost + created + open_count > 0
ORDER BY "group"
"""


def summary_query(
    con: duckdb.DuckDBPyConnection,
    start: datetime,
    end: datetime,
    by: str = "owner",
    region: str | None = None,
    team: str | None = None,
    stale_days: StaleDays = 45,
) -> tuple[str, dict]:
    """The SQL and parameters of the per-group summary of ``[start, end)``
    (:func:`reporting.engine.duckdb_summary.rep_summary_sql` runs it into pandas,
    :func:`summary_rows` into tuples). Looks at which tables the store has."""
    if by not in GROUPS:
        raise ValueError(f"by must be one of {sorted(GROUPS)}, not {by!r}")
    scope, params = ["TRUE"], {}
    if region and region.lower() != "all":
        scope.append("region = $region")
        params["region"] = region
    if team and team.lower() != "all":
        scope.append("team = $team")
        params["team"] = team
    has_flags = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = 'row_flags'").fetchone()[0]
    # deals whose creation date ingest estimated count as open, never as created
    estimated = (ESTIMATED_CREATED_IDS_SQL if has_flags
                 else "SELECT NULL::VARCHAR AS key WHERE FALSE")
    if has_history(con):  # the versions in force at the period end, of the deals covered
        asof = (f"SELECT opportunity_id, status AS v_status, amount AS v_amount, "
                f"stage AS v_stage, stage_since AS v_stage_since, owner AS v_owner FROM ("
                f"{as_of_sql('$end', '(SELECT *, NULL::TIMESTAMP AS deleted_at FROM scope)')}"
                ") WHERE history_known")
    else:
        asof = ("SELECT NULL::VARCHAR AS opportunity_id, NULL::VARCHAR AS v_status, "
                "NULL::DOUBLE AS v_amount, NULL::VARCHAR AS v_stage, "
                "NULL::TIMESTAMP AS v_stage_since, NULL::VARCHAR AS v_owner WHERE FALSE")
    open_col = ('CASE WHEN v.opportunity_id IS NOT NULL THEN v.v_owner ELSE o."owner" END'
                if by == "owner" else f'o."{by}"')
    sql = _SQL.format(scope=" AND ".join(scope), col=f'"{by}"', estimated=estimated, asof=asof,
                      open_col=open_col,
                      closed_in=closed_in_period_sql("$start", "$end", "o"),
                      created_in=created_counted_sql("SELECT key FROM _estimated",
                                                     "$start", "$end", "o"),
                      open_at_end=open_at_sql("$end", "o"))
    per_stage = ({k: v for k, v in stale_days.items() if k != "default"}
                 if isinstance(stale_days, Mapping) else {})
    default = stale_days["default"] if isinstance(stale_days, Mapping) else stale_days
    params.update(start=start, end=end, stale=float(default), max_unknown=MAX_UNKNOWN_SHARE,
                  stale_stages=["\x00", *per_stage],
                  stale_days=[float(default), *map(float, per_stage.values())])
    return sql, params


def summary_rows(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime,
                 by: str = "owner", region: str | None = None, team: str | None = None,
                 stale_days: StaleDays = 45,
                 ) -> tuple[list[str], list[tuple]]:
    """The per-group summary as (column names, rows of Python values): what
    ``crm-report metrics`` prints, without pandas."""
    sql, params = summary_query(con, start, end, by, region, team, stale_days)
    cur = con.execute(sql, params)
    columns = [d[0] for d in cur.description]
    return columns, cur.fetchall()
