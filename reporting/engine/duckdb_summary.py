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

import duckdb
import pandas as pd

from ..periods import Period
from .sql import COUNT_COLUMNS, GROUPS, StaleDays, summary_query  # noqa: F401 - GROUPS re-exported


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
    sql, params = summary_query(con, period.start.to_pydatetime(), period.end.to_pydatetime(),
                                by, region, team, stale_days)
    out = con.execute(sql, params).df()
    for c in COUNT_COLUMNS:
        out[c] = out[c].astype(int)
    return out
