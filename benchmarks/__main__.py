"""Run the benchmark suite and write ``benchmarks/results.md``.

``python -m benchmarks --quick`` (10k opportunities) or ``python -m benchmarks``
(10k, 100k, 1M). Every figure is the median of repeated runs and is shown next to what it
is measured against in the same run, as a ratio. Stores are generated once per size into
``data/bench/`` (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from reporting import demo
from reporting.metrics import rep_summary
from reporting.metrics.sql import rep_summary_sql
from reporting.metrics.suite import analyse
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.store import load, replace_all

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "bench"
END = date(2026, 10, 31)
PERIOD = parse_period("2026-09")
SIZES = {"10k": 0.5, "100k": 5.0, "1M": 50.0}


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
        replace_all(path, demo.generate(seed=7, scale=scale, end=END))
    return path


FLOOR_SQL = """
SELECT owner,
    COUNT(*) FILTER (WHERE status = 'won' AND closed_at >= $start AND closed_at < $end) AS won,
    COUNT(*) FILTER (WHERE status = 'lost' AND closed_at >= $start AND closed_at < $end) AS lost,
    COUNT(*) FILTER (WHERE created_at >= $start) AS created,
    MEDIAN(epoch(closed_at - created_at)) FILTER (WHERE status = 'won' AND closed_at >= $start
                                                   AND closed_at < $end) AS med_won,
    AVG(amount) FILTER (WHERE status = 'won' AND closed_at >= $start AND closed_at < $end) AS avg_won,
    COUNT(*) FILTER (WHERE closed_at IS NULL OR closed_at >= $end) AS open,
    SUM(amount) FILTER (WHERE closed_at IS NULL OR closed_at >= $end) AS open_amount
FROM opportunities
WHERE region = $region AND created_at < $end
GROUP BY owner
"""


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


def write(rows: list[dict], quick: bool) -> Path:
    out = HERE / "results.md"
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {platform.machine()}, "
        f"Python {platform.python_version()}, {'quick (10k only)' if quick else 'full'}; "
        "medians of repeated runs; one region (EMEA, about a quarter of the store) and one "
        f"month ({PERIOD.label}).",
        "",
        "## Metrics engine: one region-month",
        "",
        "| size | opportunities | what | seconds | against | ratio |",
        "|---|---:|---|---:|---|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['size']} | {r['opportunities']:,} | {r['what']} | "
                     f"{r['seconds']:.3f} | {r['vs']} | {r['ratio']:.2f}x |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="10k opportunities only")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    sizes = {"10k": SIZES["10k"]} if args.quick else SIZES
    rows = []
    for label, scale in sizes.items():
        rows += bench_metrics(label, scale, args.repeat)
        print(f"{label}: done", flush=True)
    print(write(rows, args.quick).read_text())


if __name__ == "__main__":
    main()
