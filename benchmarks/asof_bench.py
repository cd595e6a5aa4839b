"""As-of reconstruction at scale (issue 14, requirement 7): a 1M-opportunity store with
deal history, and the time of ``reporting.store.opportunities_as_of`` for one region and
one past moment against a floor.

``python -m benchmarks.asof_bench store [--quick]`` builds the store once into
``data/bench/`` (git-ignored; reused when present) and prints one JSON object: its path,
row counts and how long it took. ``python -m benchmarks.asof_bench time PATH [--runs N]``
prints the timings as JSON. ``python -m benchmarks`` (section ``asof``, part of ``make
bench``) runs both in child processes and writes the section of ``results.md``.

The store: the demo generator in chunks (``CHUNKS`` x ``generate(scale=CHUNK_SCALE)``, a
different seed per chunk, the ids of chunk ``i`` renumbered ``OPP-ii......``), each chunk
written before the next is generated, so the build's peak memory is one chunk's (about
1 GB) instead of a scale-50 ``generate()``'s (see NOTES.md). Only what the as-of view reads
is written: opportunities, reps, stages and the history evidence (stage_history,
opportunity_snapshots, opportunity_changes); then ``reporting.history.rebuild`` derives
``opportunity_history`` from the evidence, as the demo store gets it.

The figure: ``opportunities_as_of(path, WHEN, region=REGION)`` (a fresh connection each
call, as a report makes it) against the floor, a plain ``SELECT * FROM opportunities WHERE
region = ?`` into pandas through a fresh read-only DuckDB connection: what reading one
region's *current* state costs at least. Runs alternate (floor, as-of, floor, ...) after
one warm-up of each, so both see the same load; medians.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "bench"
END = date(2026, 10, 31)
CHUNKS, CHUNK_SCALE = 10, 5.0  # 10 x ~100k opportunities
QUICK = (1, 1.0)  # --quick: one chunk of ~20k
WHEN = datetime(2025, 6, 30, 12, 0)  # a past moment: deals in every state, 16 months back
REGION = "EMEA"
# tables written per chunk, and the id columns renumbered per chunk
ID_COLUMNS = {
    "opportunities": ("opportunity_id", "account_id"),
    "stage_history": ("opportunity_id",),
    "opportunity_snapshots": ("opportunity_id",),
    "opportunity_changes": ("opportunity_id",),
}
FLOOR_SQL = "SELECT * FROM opportunities WHERE region = ?"
#: DuckDB's memory cap while building (its default, 80% of RAM, let ``history.rebuild``
#: of the 1M store reach 20 GB resident on a shared 24 GB machine); it spills beyond it
BUILD_MEMORY = "3GB"


def store_path(chunks: int, chunk_scale: float) -> Path:
    return DATA / f"history-{chunks}x{chunk_scale:g}.duckdb"


def _renumber(frame, columns: tuple[str, ...], chunk: int):
    """``OPP-000123`` -> ``OPP-07000123`` for chunk 7 (the prefix stays, ids stay unique)."""
    frame = frame.copy()
    for c in columns:
        s = frame[c]
        frame[c] = s.str.slice(0, 4) + f"{chunk:02d}" + s.str.slice(4)
    return frame


def _insert(con, table: str, frame) -> None:
    from reporting.schema import TABLES

    cols = TABLES[table].columns
    con.register("_chunk", frame[cols])
    names = ", ".join(f'"{c}"' for c in cols)
    con.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM _chunk')
    con.unregister("_chunk")


def build_store(path: Path, chunks: int, chunk_scale: float, seed: int = 7) -> dict:
    """Write the store chunk by chunk, then rebuild the history; row counts and seconds."""
    from reporting import demo
    from reporting.store import connect

    tmp = path.with_suffix(".tmp.duckdb")
    for p in (tmp, Path(f"{tmp}.wal")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with connect(tmp) as con:
        con.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
        con.execute(f"SET temp_directory = '{DATA / 'duckdb-tmp'}'")
        seen: set[str] = set()
        for i in range(chunks):
            tables = demo.generate(seed=seed + i, scale=chunk_scale, end=END)
            for name, cols in ID_COLUMNS.items():
                _insert(con, name, _renumber(tables[name], cols, i))
            reps = tables["reps"][~tables["reps"]["rep_id"].isin(seen)]
            seen |= set(reps["rep_id"])
            _insert(con, "reps", reps)
            if i == 0:
                _insert(con, "stages", tables["stages"])
            del tables, reps
            gc.collect()
        t1 = time.perf_counter()
        from reporting.history import rebuild  # the core's (issue 14)

        rebuild(con)
        t2 = time.perf_counter()
        con.execute("CHECKPOINT")
        counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                  for t in ("opportunities", "stage_history", "opportunity_snapshots",
                            "opportunity_changes", "opportunity_history", "reps")}
    os.replace(tmp, path)
    return {"path": str(path), "counts": counts, "generate_and_write_s": t1 - t0,
            "rebuild_s": t2 - t1, "bytes": path.stat().st_size}


def time_asof(path: Path, when: datetime, region: str, runs: int) -> dict:
    """Median seconds of the as-of view and of the floor, interleaved, after a warm-up."""
    import duckdb

    from reporting.store import opportunities_as_of

    def floor():
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute(FLOOR_SQL, [region]).df()
        finally:
            con.close()

    def asof():
        return opportunities_as_of(path, when, region=region)

    sizes = {"floor": len(floor()), "asof": len(asof())}  # the warm-up
    times: dict[str, list[float]] = {"floor": [], "asof": []}
    for i in range(runs):
        for name, fn in ((("floor", floor), ("asof", asof)) if i % 2 == 0
                         else (("asof", asof), ("floor", floor))):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"when": when.isoformat(), "region": region, "runs": runs, "rows": sizes,
            "floor_s": med["floor"], "asof_s": med["asof"],
            "floor_runs": times["floor"], "asof_runs": times["asof"],
            "ratio": med["asof"] / med["floor"]}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.asof_bench")
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("store", help="build the history store (reused when present)")
    s.add_argument("--quick", action="store_true", help="one chunk of ~20k opportunities")
    t = sub.add_parser("time", help="time opportunities_as_of against the floor")
    t.add_argument("path", type=Path)
    t.add_argument("--runs", type=int, default=5)
    t.add_argument("--when", default=WHEN.isoformat())
    t.add_argument("--region", default=REGION)
    args = ap.parse_args()
    if args.what == "store":
        chunks, scale = QUICK if args.quick else (CHUNKS, CHUNK_SCALE)
        path = store_path(chunks, scale)
        if path.exists():
            import duckdb

            con = duckdb.connect(str(path), read_only=True)
            counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                      for t in ("opportunities", "stage_history", "opportunity_snapshots",
                                "opportunity_changes", "opportunity_history", "reps")}
            con.close()
            out = {"path": str(path), "reused": True, "counts": counts,
                   "bytes": path.stat().st_size}
        else:
            DATA.mkdir(parents=True, exist_ok=True)
            out = build_store(path, chunks, scale)
        print(json.dumps(out))
    else:
        print(json.dumps(time_asof(args.path, datetime.fromisoformat(args.when), args.region,
                                   args.runs)))


if __name__ == "__main__":
    main()
