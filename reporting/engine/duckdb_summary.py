"""An engine: the per-group figures of :func:`reporting.metrics.rep_summary` computed in SQL
inside DuckDB.

Same definitions, same columns, same answers (an oracle test checks it against the pandas
version), but the filtering and aggregation run in the store's engine, so
``crm-report metrics`` never loads rows into Python. It queries the connection it is given
(reads only, never writes); the shared filters (closed in period, open at the period end,
created counted) are the SQL builders of :mod:`reporting.metrics.filters`, the same
definitions the pandas metrics use.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd

from ..metrics.filters import closed_in_period_sql, created_counted_sql, open_at_sql
from ..metrics.pipeline import MAX_UNKNOWN_SHARE, StaleDays
from ..periods import Period
from ..store import ESTIMATED_CREATED_IDS_SQL

GROUPS = {"owner", "team", "region", "source", "product"}

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
hist AS (
    SELECT opportunity_id, MAX(entered_at) AS last_change, arg_max(stage, entered_at) AS stage_then
    FROM stage_history SEMI JOIN scope USING (opportunity_id)
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


def rep_summary_sql(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    by: str = "owner",
    region: str | None = None,
    team: str | None = None,
    stale_days: StaleDays = 45,
) -> pd.DataFrame:
    """Per-group won, lost, win rate, created, cycle, deal size and open pipeline of one
    period, computed in DuckDB with the store's stage history. Columns as
    :func:`reporting.metrics.rep_summary` without ``team`` and ``capacity``; open_amount is
    null (not 0) when more than half of a group's open deals have no amount known at the
    period end."""
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
    from ..history import as_of_sql
    from ..store import has_history

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
    params.update(start=period.start.to_pydatetime(), end=period.end.to_pydatetime(),
                  stale=float(default), max_unknown=MAX_UNKNOWN_SHARE,
                  stale_stages=["\x00", *per_stage], stale_days=[float(default),
                                                                 *map(float, per_stage.values())])
    out = con.execute(sql, params).df()
    for c in ("won", "lost", "created", "open_count", "open_amount_unknown", "stale_open_count",
              "stale_unknown_count"):
        out[c] = out[c].astype(int)
    return out
