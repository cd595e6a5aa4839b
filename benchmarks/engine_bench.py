"""In-process figures of the metrics engine and of the report analysis, at several sizes.

Run in a child process by ``python -m benchmarks`` (``python -m benchmarks.engine_bench
metrics 10k 100k`` prints JSON), so the harness itself never loads pandas or DuckDB. Stores
are generated once per size into ``data/bench/`` (git-ignored) and reused.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.floor_sql import FLOOR_SQL
from reporting import demo
from reporting.engine.duckdb_summary import rep_summary_sql
from reporting.metrics import rep_summary
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.store import load, replace_all, replace_all_chunks

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "bench"
END = date(2026, 10, 31)
PERIOD = parse_period("2026-09")
SIZES = {"10k": 0.5, "100k": 5.0, "1M": 50.0, "10M": 500.0}


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches (file pages, DuckDB catalogue) so runs compare like with like
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def store_for(scale: float) -> Path:
    path = DATA / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        if scale <= demo.CHUNK_SCALE:
            replace_all(path, demo.generate(seed=7, scale=scale, end=END))
        else:  # what `crm-report demo-data --scale` writes: in chunks, bounded memory
            t = time.perf_counter()
            replace_all_chunks(path, demo.generate_chunks(seed=7, scale=scale, end=END))
            # the build's cost, for results.md (the 10M store's "under 4 GB" target)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            path.with_name(path.name + ".json").write_text(json.dumps({
                "seconds": time.perf_counter() - t, "peak_mib": peak,
                "how": "ru_maxrss of the building process, `engine_bench.store_for`"}))
    return path




def plain_pandas(path: Path, region: str) -> pd.DataFrame:
    """What an analyst writes by hand: read the table, filter and group in pandas."""
    con = duckdb.connect(str(path), read_only=True)
    df = con.execute("SELECT * FROM opportunities").df()
    con.close()
    d = df[df["region"] == region]
    closed = d[d["closed_at"].ge(PERIOD.start) & d["closed_at"].lt(PERIOD.end)]
    won = closed[closed["status"] == "won"]
    out = pd.DataFrame({
        "won": won.groupby("owner").size(),
        "lost": closed[closed["status"] == "lost"].groupby("owner").size(),
        "med": ((won["closed_at"] - won["created_at"]).dt.days).groupby(won["owner"]).median(),
        "avg_amount": won.groupby("owner")["amount"].mean(),
    })
    open_ = d[(d["created_at"] < PERIOD.end) & (d["closed_at"].isna() | (d["closed_at"] >= PERIOD.end))]
    out["open"] = open_.groupby("owner").size()
    return out


def bench_metrics(label: str, scale: float, repeat: int) -> list[dict]:
    path = store_for(scale)
    region = "EMEA"
    con = duckdb.connect(str(path), read_only=True)
    n = con.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0]
    settings = load_settings()
    args = {"region": region, "start": PERIOD.start.to_pydatetime(),
            "end": PERIOD.end.to_pydatetime()}
    floor = median_time(lambda: con.execute(FLOOR_SQL, args).fetchall(), repeat)
    engine = median_time(lambda: rep_summary_sql(con, PERIOD, "owner", region), repeat)
    con.close()
    hand = median_time(lambda: plain_pandas(path, region), max(1, repeat // 2))

    def report_path():
        d = load(path, region=region, since=PERIOD.start, until=PERIOD.end)
        return rep_summary(d.opportunities, PERIOD, d.reps)

    via_frames = median_time(report_path, max(1, repeat // 2))

    def full():
        d = load(path, region=region, since=PERIOD.start - pd.DateOffset(months=13),
                 until=PERIOD.end)
        return analyse(d.opportunities, PERIOD, settings, d.reps, d.stage_history, d.leads,
                       d.revenue, d.accounts, d.available())

    suite = median_time(full, max(1, repeat // 3))
    rows = [
        {"size": label, "opportunities": n, "what": "the same aggregates as one hand-written DuckDB query (floor)",
         "seconds": floor, "vs": "-", "ratio": 1.0},
        {"size": label, "opportunities": n, "what": "metrics engine in DuckDB (crm-report metrics)",
         "seconds": engine, "vs": "floor", "ratio": engine / floor},
        {"size": label, "opportunities": n, "what": "plain pandas by hand (read table, groupby)",
         "seconds": hand, "vs": "engine", "ratio": hand / engine},
        {"size": label, "opportunities": n, "what": "load region-month + pandas rep_summary",
         "seconds": via_frames, "vs": "engine", "ratio": via_frames / engine},
        {"size": label, "opportunities": n,
         "what": "load 13 months + full report analysis (all sections)",
         "seconds": suite, "vs": "engine", "ratio": suite / engine},
    ]
    return rows


GROWTH_CODE = """
import json, sys, time
import pandas as pd
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.store import load
p = parse_period("2026-09")
t = time.perf_counter()
d = load(sys.argv[1], region="EMEA", since=p.start - pd.DateOffset(months=13), until=p.end)
t1 = time.perf_counter()
analyse(d.opportunities, p, load_settings(), d.reps, d.stage_history, d.leads, d.revenue,
        d.accounts, d.available())
t2 = time.perf_counter()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"load": t1 - t, "analyse": t2 - t1, "rows": len(d.opportunities),
                  "peak_mib": hwm / 1024}))
"""


def growth(scale: float) -> dict:
    """Time and peak memory of loading and analysing one region, in a fresh process."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", GROWTH_CODE, str(store_for(scale))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """``engine_bench metrics|growth SIZE...``: print one JSON list of result rows."""
    import sys

    what, sizes, repeat = sys.argv[1], sys.argv[2:], 7
    out: list = []
    for label in sizes:
        if what == "metrics":
            out += bench_metrics(label, SIZES[label], repeat)
        elif what == "growth":
            out.append({"size": label, **growth(SIZES[label])})
        elif what == "store":
            out.append({"size": label, "path": str(store_for(SIZES[label]))})
    print(json.dumps(out))


if __name__ == "__main__":
    main()


