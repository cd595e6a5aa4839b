"""Keys met so far while ingesting, for the deduplicate step (kept in DuckDB)."""

from __future__ import annotations

import tempfile
import uuid

import duckdb
import numpy as np
import pandas as pd


class SeenKeys:
    """The keys met so far in one file (or all files of one table of an export), with
    each key's file, first row, a hash of its values and its position among the loaded
    rows of its file; and the keys met again with conflicting values.

    Kept in DuckDB tables, so duplicates are found across chunks and files without
    holding the keys in Python: temporary tables of a private in-memory database by
    default, or tables ``name`` of the store's connection ``con`` (on disk: a file of
    tens of millions of rows does not fill the memory). Also counts derived revenue ids
    so they do not depend on chunking.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection | None = None, name: str | None = None
    ) -> None:
        self._own = con is None
        if con is None:
            con = duckdb.connect(":memory:", config={"temp_directory": tempfile.gettempdir()})
        self.con = con
        self.name = name or f"_seen_keys_{uuid.uuid4().hex[:12]}"
        self.count = 0
        self.revenue_counts: dict[str, int] = {}
        self.loaded: dict[str, int] = {}  # rows loaded so far per file
        kind = "TABLE" if name else "TEMP TABLE"
        con.execute(
            f'CREATE {kind} "{self.name}" (k VARCHAR, first_row BIGINT, h UBIGINT, '
            "file VARCHAR, pos BIGINT)"
        )
        con.execute(f'CREATE {kind} "{self.name}_c" (k VARCHAR, "row" BIGINT, file VARCHAR)')

    def lookup(self, keys: pd.Series) -> pd.DataFrame:
        """``first_row``, ``h`` and ``file`` of the given keys already seen, by key."""
        if self.count == 0 or keys.empty:
            return pd.DataFrame({"first_row": [], "h": [], "file": []},
                                index=pd.Index([], name="k"))
        probe = pd.DataFrame({"k": keys.astype(object).to_numpy()})
        self.con.register("_probe_keys", probe)
        try:
            found = self.con.execute(
                f'SELECT s.k, s.first_row, s.h, s.file FROM "{self.name}" s '
                "JOIN (SELECT DISTINCT k FROM _probe_keys) p ON s.k = p.k"
            ).df()
        finally:
            self.con.unregister("_probe_keys")
        return found.set_index("k")

    def add(self, keys: pd.Series, rows: np.ndarray, hashes: np.ndarray,
            file: str = "", pos: np.ndarray | None = None) -> None:
        if keys.empty:
            return
        new = pd.DataFrame({
            "k": keys.astype(object).to_numpy(),
            "first_row": rows.astype("int64"),
            "h": hashes.astype("uint64"),
            "file": file,
            "pos": (pos if pos is not None else np.full(len(keys), -1)).astype("int64"),
        })
        self.con.register("_new_keys", new)
        try:
            self.con.execute(f'INSERT INTO "{self.name}" SELECT * FROM _new_keys')
        finally:
            self.con.unregister("_new_keys")
        self.count += len(new)

    def add_conflicts(self, keys: pd.Series, rows: np.ndarray, file: str) -> None:
        new = pd.DataFrame({"k": keys.astype(object).to_numpy(),
                            "row": rows.astype("int64"), "file": file})
        self.con.register("_conflict_keys", new)
        try:
            self.con.execute(f'INSERT INTO "{self.name}_c" SELECT * FROM _conflict_keys')
        finally:
            self.con.unregister("_conflict_keys")

    def conflicted_firsts(self) -> pd.DataFrame:
        """The first rows (file, row, pos) of keys met again with other values, with the
        first conflicting row (``other_file``, ``other_row``)."""
        return self.con.execute(
            f'SELECT s.k, s.file, s.first_row, s.pos, arg_min(c.file, c."row") AS other_file, '
            f'min(c."row") AS other_row FROM "{self.name}" s JOIN "{self.name}_c" c USING (k) '
            "WHERE s.pos >= 0 GROUP BY ALL ORDER BY s.file, s.pos"
        ).df()

    def close(self) -> None:
        try:
            self.con.execute(f'DROP TABLE IF EXISTS "{self.name}"')
            self.con.execute(f'DROP TABLE IF EXISTS "{self.name}_c"')
        finally:
            if self._own:
                self.con.close()

    def __enter__(self) -> SeenKeys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def key_strings(frame: pd.DataFrame) -> pd.Series:
    """One string per row joining the key columns (a missing part: NUL), for lookups."""
    parts = [frame[c].astype(object).where(frame[c].notna(), "\x00").astype(str) for c in frame]
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key
