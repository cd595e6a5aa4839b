"""The pull cursors, kept in the store table ``pull_state``.

One row per CRM and object: the largest modification stamp seen (Salesforce
``SystemModstamp``, or ``CreatedDate`` for OpportunityFieldHistory; HubSpot
``hs_lastmodifieddate``; Pipedrive ``update_time``) as the API wrote it, the pull that
saw it and when. Written by :func:`save` inside the ingest's transaction (through
``ingest_paths(on_commit=...)``), so a cursor moves only together with the data it covers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

DDL = """CREATE TABLE IF NOT EXISTS pull_state (
    crm VARCHAR NOT NULL,
    object VARCHAR NOT NULL,
    cursor VARCHAR NOT NULL,
    pull_id VARCHAR NOT NULL,
    pulled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (crm, object)
)"""


def load(store_path: Path, crm: str) -> dict[str, str]:
    """The cursors of ``crm`` (object -> cursor); empty for a new store."""
    if not Path(store_path).exists():
        return {}
    from .. import store as _store

    with _store.connect(store_path, read_only=True) as con:
        have = con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = "
                           "'pull_state'").fetchone()[0]
        if not have:
            return {}
        rows = con.execute("SELECT object, cursor FROM pull_state WHERE crm = ?",
                           [crm]).fetchall()
    return dict(rows)


def save(con: duckdb.DuckDBPyConnection, crm: str, cursors: dict[str, str], pull_id: str,
         pulled_at: datetime) -> None:
    """Record ``cursors`` (inside the caller's transaction)."""
    con.execute(DDL)
    for obj, cur in sorted(cursors.items()):
        con.execute("INSERT OR REPLACE INTO pull_state VALUES (?, ?, ?, ?, ?)",
                    [crm, obj, cur, pull_id, pulled_at])
