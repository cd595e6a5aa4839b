"""The row filters every figure shares, each written once per engine.

For each filter there is one pandas function (a boolean mask over a canonical
opportunities frame) and one SQL fragment builder (a ``WHERE``/``FILTER`` condition for
DuckDB over the ``opportunities`` table). The pandas metrics and the SQL engine
(:mod:`reporting.engine.duckdb_summary`) both use these, and a test checks that the two
select the same rows on hand-made edge cases. Periods are ``[start, end)``:

- **closed in period**: status won or lost and ``start <= closed_at < end`` (a deal closed
  exactly at ``end`` belongs to the next period);
- **open at an instant** ``when``: ``created_at < when`` and not closed before ``when``
  (``closed_at`` missing or ``>= when``: a deal closed exactly at ``when`` was still open);
- **created counted** in a period: ``start <= created_at < end``, except deals whose
  creation date ingest had to estimate (row flag ``created_at_estimated``), which count as
  open deals but never as created.

Pure: the SQL builders return text and open no connection.
"""

from __future__ import annotations

import pandas as pd

from ..engine.sql import (  # noqa: F401 - the SQL builders are defined there (no pandas)
    CLOSED_STATUSES,
    closed_in_period_sql,
    created_counted_sql,
    open_at_sql,
)
from ..periods import Period

# --------------------------------------------------------------------------- pandas


def closed_in_period(opps: pd.DataFrame, period: Period) -> pd.Series:
    """True for the deals won or lost with ``closed_at`` in ``[period.start, period.end)``."""
    return opps["status"].isin(CLOSED_STATUSES) & period.contains(opps["closed_at"])


def won_in_period(opps: pd.DataFrame, period: Period) -> pd.Series:
    """True for the deals won in the period (closed in the period with status won)."""
    return closed_in_period(opps, period) & (opps["status"] == "won")


def open_at(opps: pd.DataFrame, when: pd.Timestamp) -> pd.Series:
    """True for the deals open at instant ``when``: created before it and not closed
    before it (a deal closed exactly at ``when`` is still open at ``when``)."""
    return (opps["created_at"] < when) & (opps["closed_at"].isna() | (opps["closed_at"] >= when))


def estimated_created(opps: pd.DataFrame) -> pd.Series:
    """True for deals whose creation date ingest estimated (no creation date in the export,
    column ``created_at_estimated``): they count as open deals but never as created in a
    period or in a cohort."""
    if "created_at_estimated" in opps:
        return opps["created_at_estimated"].fillna(False).astype(bool)
    return pd.Series(False, index=opps.index)


def created_counted(opps: pd.DataFrame, period: Period) -> pd.Series:
    """True for the deals counted as created in the period: ``created_at`` in the period
    and not estimated by ingest."""
    return period.contains(opps["created_at"]) & ~estimated_created(opps)


# --------------------------------------------------------------------------- SQL (DuckDB)
