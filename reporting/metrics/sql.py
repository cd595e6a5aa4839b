"""The per-group figures of :func:`reporting.metrics.rep_summary` computed inside DuckDB.

Same definitions, same columns, same answers (an oracle test checks it against the pandas
version), but the filtering and aggregation run in the store's engine, so
``crm-report metrics`` never loads rows into Python. Pure in the sense that matters: it
reads, it does not write.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ..periods import Period

GROUPS = {"owner", "team", "region", "source", "product"}

_SQL = """
WITH g AS (
    SELECT COALESCE(CAST({col} AS VARCHAR), '(none)') AS grp, status, amount,
        status IN ('won', 'lost') AND closed_at >= $start AND closed_at < $end AS closed_in,
        epoch(closed_at - created_at) / 86400.0 AS days,
        created_at >= $start AS created_in,
        closed_at IS NULL OR closed_at >= $end AS open_at_end,
        epoch($end - LEAST(COALESCE(last_activity_at, created_at), $end)) / 86400.0 AS idle
    FROM opportunities WHERE created_at < $end AND {scope}
),
a AS (
    SELECT grp,
        COUNT(*) FILTER (WHERE closed_in AND status = 'won') AS won,
        COUNT(*) FILTER (WHERE closed_in AND status = 'lost') AS lost,
        COUNT(*) FILTER (WHERE created_in) AS created,
        MEDIAN(days) FILTER (WHERE closed_in AND status = 'won') AS median_cycle_days_won,
        AVG(days) FILTER (WHERE closed_in AND status = 'won') AS mean_cycle_days_won,
        MEDIAN(days) FILTER (WHERE closed_in AND status = 'lost') AS median_cycle_days_lost,
        AVG(amount) FILTER (WHERE closed_in AND status = 'won') AS avg_won_amount,
        MEDIAN(amount) FILTER (WHERE closed_in AND status = 'won') AS median_won_amount,
        COUNT(*) FILTER (WHERE open_at_end) AS open_count,
        COALESCE(SUM(amount) FILTER (WHERE open_at_end), 0.0) AS open_amount,
        COUNT(*) FILTER (WHERE open_at_end AND idle > $stale) AS stale_open_count
    FROM g GROUP BY grp
)
SELECT grp AS "group", won, lost,
    CASE WHEN won + lost > 0 THEN won / (won + lost) END AS win_rate, created,
    median_cycle_days_won, mean_cycle_days_won, median_cycle_days_lost,
    avg_won_amount, median_won_amount, open_count, open_amount, stale_open_count
FROM a WHERE won + lost + created + open_count > 0
ORDER BY "group"
"""


def rep_summary_sql(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    by: str = "owner",
    region: str | None = None,
    team: str | None = None,
    stale_days: int = 45,
) -> pd.DataFrame:
    """Per-group won, lost, win rate, created, cycle, deal size and open pipeline of one
    period, computed in DuckDB. Columns as :func:`reporting.metrics.rep_summary` without
    ``team`` and ``capacity``."""
    if by not in GROUPS:
        raise ValueError(f"by must be one of {sorted(GROUPS)}, not {by!r}")
    scope, params = ["TRUE"], {}
    if region and region.lower() != "all":
        scope.append("region = $region")
        params["region"] = region
    if team and team.lower() != "all":
        scope.append("team = $team")
        params["team"] = team
    sql = _SQL.format(scope=" AND ".join(scope), col=f'"{by}"')
    params.update(start=period.start.to_pydatetime(), end=period.end.to_pydatetime(),
                  stale=float(stale_days))
    out = con.execute(sql, params).df()
    for c in ("won", "lost", "created", "open_count", "stale_open_count"):
        out[c] = out[c].astype(int)
    return out
