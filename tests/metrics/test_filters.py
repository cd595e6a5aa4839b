"""The shared filters (reporting.metrics.filters): the pandas mask and the SQL fragment of
each select the same rows, and those are the rows worked out by hand below."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from reporting.metrics import filters
from reporting.periods import parse_period
from reporting.store import ESTIMATED_CREATED_IDS_SQL

T = pd.Timestamp
P = parse_period("2026-10")  # [2026-10-01, 2026-11-01)
END = T("2026-11-01")

# id, status, created_at, closed_at, created_at_estimated
ROWS = [
    ("won_mid", "won", "2026-09-01", "2026-10-15", False),
    ("lost_at_end", "lost", "2026-09-01", "2026-11-01 00:00:00", False),  # closed exactly at end
    ("won_at_start", "won", "2026-08-01", "2026-10-01 00:00:00", False),  # closed exactly at start
    ("won_before", "won", "2026-08-01", "2026-09-30 23:59:59", False),
    ("open_estimated", "open", "2026-10-05", None, True),  # created_at estimated by ingest
    ("open_created", "open", "2026-10-05", None, None),  # flag missing: not estimated
    ("created_at_end", "open", "2026-11-01 00:00:00", None, False),  # created exactly at end
    ("created_lost_last_day", "lost", "2026-10-31 23:59:00", "2026-10-31 23:59:30", False),
    ("won_after", "won", "2026-10-20", "2026-11-03", False),
    ("created_at_start", "open", "2026-10-01 00:00:00", None, False),
]

# worked out by hand from the definitions in the module docstring
CLOSED_IN = {"won_mid", "won_at_start", "created_lost_last_day"}
WON_IN = {"won_mid", "won_at_start"}
OPEN_AT_END = {"lost_at_end", "open_estimated", "open_created", "won_after",
               "created_at_start"}
CREATED = {"open_created", "created_lost_last_day", "won_after", "created_at_start"}


@pytest.fixture(scope="module")
def opps() -> pd.DataFrame:
    f = pd.DataFrame(ROWS, columns=["opportunity_id", "status", "created_at", "closed_at",
                                    "created_at_estimated"])
    for c in ("created_at", "closed_at"):
        f[c] = pd.to_datetime(f[c], format="ISO8601").astype("datetime64[us]")
    f["created_at_estimated"] = f["created_at_estimated"].astype(object)
    return f


@pytest.fixture(scope="module")
def con(opps):
    c = duckdb.connect()
    c.register("_o", opps.drop(columns="created_at_estimated"))
    c.execute("CREATE TABLE opportunities AS SELECT * FROM _o")
    c.execute('CREATE TABLE row_flags ("table" VARCHAR, key VARCHAR, code VARCHAR)')
    c.execute("INSERT INTO row_flags VALUES ('opportunities', 'open_estimated', "
              "'created_at_estimated'), ('opportunities', 'won_mid', 'amount_corrected'), "
              "('leads', 'open_created', 'created_at_estimated')")
    yield c
    c.close()


def _sql_ids(con, condition: str) -> set[str]:
    params = {"start": P.start.to_pydatetime(), "end": P.end.to_pydatetime()}
    used = {k: v for k, v in params.items() if f"${k}" in condition}
    rows = con.execute(f"SELECT opportunity_id FROM opportunities o WHERE {condition}",
                       used).fetchall()
    return {r[0] for r in rows}


def _ids(opps, mask) -> set[str]:
    return set(opps.loc[mask, "opportunity_id"])


def test_period_end_is_the_next_period_start():
    assert P.end == END


def test_closed_in_period(opps, con):
    assert _ids(opps, filters.closed_in_period(opps, P)) == CLOSED_IN
    assert _sql_ids(con, filters.closed_in_period_sql(alias="o")) == CLOSED_IN
    assert _sql_ids(con, filters.closed_in_period_sql()) == CLOSED_IN


def test_won_in_period(opps):
    assert _ids(opps, filters.won_in_period(opps, P)) == WON_IN


def test_open_at_period_end(opps, con):
    assert _ids(opps, filters.open_at(opps, END)) == OPEN_AT_END
    assert _sql_ids(con, filters.open_at_sql("$end", "o")) == OPEN_AT_END


def test_open_at_as_of_counts_a_deal_closed_at_that_instant(opps, con):
    when = T("2026-10-15")  # won_mid closed exactly then: still open at that instant
    expected = {"won_mid", "lost_at_end", "open_estimated", "open_created", "created_at_start"}
    assert _ids(opps, filters.open_at(opps, when)) == expected
    got = con.execute("SELECT opportunity_id FROM opportunities o WHERE "
                      + filters.open_at_sql("$when", "o"), {"when": when.to_pydatetime()})
    assert {r[0] for r in got.fetchall()} == expected


def test_created_counted_leaves_out_estimated_creation_dates(opps, con):
    assert _ids(opps, filters.created_counted(opps, P)) == CREATED
    assert _sql_ids(con, filters.created_counted_sql(ESTIMATED_CREATED_IDS_SQL,
                                                     alias="o")) == CREATED


def test_estimated_created_without_the_column_is_false(opps):
    assert not filters.estimated_created(opps.drop(columns="created_at_estimated")).any()
