"""Run the benchmark suite and write ``benchmarks/results.md``.

``python -m benchmarks --quick`` (10k opportunities) or ``python -m benchmarks``
(10k, 100k, 1M). Every figure is the median of repeated runs and is shown next to what it
is measured against in the same run, as a ratio. Stores are generated once per size into
``data/bench/`` (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from reporting import demo
from reporting.engine.duckdb_summary import rep_summary_sql
from reporting.metrics import rep_summary
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


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def write(rows: list[dict], quick: bool, extra: list[str] | None = None) -> Path:
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
    lines += extra or []
    lines += ["", "Causes of the misses, profiles and before / after figures: "
              "[NOTES.md](NOTES.md)."]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    from . import models_bench, report_bench

    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="10k opportunities only")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    sizes = {"10k": SIZES["10k"]} if args.quick else SIZES
    rows = []
    for label, scale in sizes.items():
        rows += bench_metrics(label, scale, args.repeat)
        print(f"metrics {label}: done", flush=True)
    extra: list[str] = []
    biggest = list(sizes)[-1]
    by = {(r["size"], r["what"].split(" (")[0]): r for r in rows}
    eng = next(r for r in rows if r["size"] == biggest and r["what"].startswith("metrics engine"))
    hand = next(r for r in rows if r["size"] == biggest and r["what"].startswith("plain pandas"))
    _ = by
    extra += ["", "### Targets", "",
              f"- metrics engine within 2x of the DuckDB floor at {biggest}: "
              f"{eng['ratio']:.2f}x, {verdict(eng['ratio'] <= 2)}",
              f"- metrics engine at least 3x faster than plain pandas at {biggest}: "
              f"{hand['ratio']:.1f}x, {verdict(hand['ratio'] >= 3)}"]

    extra += ["", "## Growth: one region (EMEA), load 13 months + full analysis, fresh process",
              "", "| size | EMEA opportunities loaded | load s | analysis s | peak MiB |",
              "|---|---:|---:|---:|---:|"]
    for label, scale in sizes.items():
        g = growth(scale)
        extra.append(f"| {label} | {g['rows']:,} | {g['load']:.2f} | {g['analyse']:.2f} | "
                     f"{g['peak_mib']:.0f} |")
        print(f"growth {label}: done", flush=True)

    write(rows, args.quick, extra)  # partial results survive a failing section
    try:
        extra += _report_section(report_bench, sizes, args)
    except Exception as exc:  # noqa: BLE001 - record and go on
        extra += ["", f"## One report end to end: failed ({type(exc).__name__}: {exc})"]
    write(rows, args.quick, extra)
    try:
        extra += _batch_section(report_bench, sizes)
    except Exception as exc:  # noqa: BLE001
        extra += ["", f"## Batch: failed ({type(exc).__name__}: {exc})"]
    write(rows, args.quick, extra)
    if not args.quick:
        try:
            extra += _memory_and_models_section(report_bench, models_bench)
        except Exception as exc:  # noqa: BLE001
            extra += ["", f"## Memory and models: failed ({type(exc).__name__}: {exc})"]
    print(write(rows, args.quick, extra).read_text())


def _report_section(report_bench, sizes, args) -> list[str]:
    extra: list[str] = []
    store = store_for(1.0)  # the demo data of `make demo` (about 20k opportunities)
    one = report_bench.bench_one_report(store, repeat=2 if args.quick else 3)
    f, r = one["floor"], one["report"]
    extra += ["", f"## One report end to end (EMEA, demo store: scale 1, {one['pages']} pages)",
              "",
              "| step | seconds | against |", "|---|---:|---|",
              f"| floor: papermill, imports-only notebook | {f['execute']:.2f} | - |",
              f"| floor: WeasyPrint one-page PDF | {f['pdf']:.2f} | - |",
              f"| report: execute notebook | {r['execute']:.2f} | "
              f"{r['execute'] / f['execute']:.2f}x floor execute |",
              f"| report: HTML (nbconvert) | {r['html']:.2f} | - |",
              f"| report: PDF (WeasyPrint) | {r['pdf']:.2f} | {r['pdf'] / f['pdf']:.1f}x one page |",
              f"| report: total | {r['total']:.2f} | {r['total'] / f['total']:.2f}x floor total |",
              "", "In-process breakdown of the notebook's own work:", "",
              "| step | seconds |", "|---|---:|"]
    extra += [f"| {k} | {v:.2f} |" for k, v in one["breakdown"].items()]
    extra += ["", f"- one report within 2x of the floor: {r['total'] / f['total']:.2f}x, "
              f"{verdict(r['total'] / f['total'] <= 2)}",
              f"- one report under 10 s: {r['total']:.1f} s, {verdict(r['total'] < 10)}"]
    print("report: done", flush=True)
    return extra


def _batch_section(report_bench, sizes) -> list[str]:
    extra: list[str] = []
    b = report_bench.bench_batch(store_for(sizes["10k"]))
    t1 = b["1 worker, shared artifacts"]["seconds"]
    t2 = b["2 workers, shared artifacts"]["seconds"]
    t2n = b["2 workers, no shared artifacts"]["seconds"]
    singles = b["8 single crm-report run commands"]["seconds"]
    extra += ["", "## Batch: 8 region reports (4 regions x 2 months, 10k store)", "",
              "| run | seconds | against |", "|---|---:|---|",
              f"| 1 worker, shared artifacts | {t1:.1f} | - |",
              f"| 2 workers, shared artifacts | {t2:.1f} | {t2 / t1:.2f}x of 1 worker |",
              f"| 2 workers, no shared artifacts | {t2n:.1f} | {t2n / t2:.2f}x of shared |",
              f"| shared artifacts (computed once per period) | {b['artifacts_seconds']:.1f} | "
              "included above |",
              f"| 8 single `crm-report run` commands, one after another | {singles:.1f} | "
              f"batch (1 worker) is {t1 / singles:.2f}x of it |",
              "", f"- 2 workers reach >= 1.8x the throughput of 1: {t1 / t2:.2f}x, "
              f"{verdict(t1 / t2 >= 1.8)}",
              f"- 2 workers take at most 0.55x the time of 1: {t2 / t1:.2f}x, "
              f"{verdict(t2 / t1 <= 0.55)}",
              f"- a batch of N costs clearly less than N single runs: 1 worker "
              f"{t1 / singles:.2f}x, 2 workers {t2 / singles:.2f}x of N single runs "
              f"(shared artifacts alone: {t2 / t2n:.2f}x), see NOTES.md"]
    print("batch: done", flush=True)
    return extra


def _memory_and_models_section(report_bench, models_bench) -> list[str]:
    extra: list[str] = []
    mem = report_bench.worker_peak_memory(store_for(SIZES["1M"]))
    extra += ["", "## Peak memory of one report at 1M opportunities", "",
              f"- runner process {mem['runner']:.0f} MiB, kernel {mem['kernel']:.0f} MiB: "
              f"{verdict(max(mem.values()) < 1024)} (< 1 GiB each)"]
    m = models_bench.bench_models()
    extra += ["", "## Models", "",
              "| fit | seconds |", "|---|---:|"]
    extra += [f"| DealSizeBander, {k.split('_')[-1]} amounts | {v:.2f} |"
              for k, v in m.items() if k.startswith("bander_fit_")]
    extra += [f"| BG/NBD, CDNOW master ({m['customers']:,} customers) | {m['bgnbd_seconds']:.3f} |",
              f"| Gamma-Gamma, CDNOW master | {m['gg_seconds']:.3f} |"]
    ref = m["reference"]
    if isinstance(ref, dict):
        same = all(f"{m['bgnbd'][k]:.3g}" == f"{ref['bgnbd'][k]:.3g}" for k in ref["bgnbd"])
        same_gg = all(f"{m['gg'][k]:.3g}" == f"{ref['gg'][k]:.3g}" for k in ref["gg"])
        speed = ref["bgnbd_seconds"] / m["bgnbd_seconds"]
        ours = ", ".join(f"{k} {v:.3g}" for k, v in m["bgnbd"].items())
        theirs = ", ".join(f"{k} {v:.3g}" for k, v in ref["bgnbd"].items())
        extra += [f"| lifetimes 0.11.3 BG/NBD, same data | {ref['bgnbd_seconds']:.3f} |",
                  f"| lifetimes 0.11.3 Gamma-Gamma, same data | {ref['gg_seconds']:.3f} |",
                  "", f"- estimates equal to 3 significant figures: BG/NBD {same} "
                  f"(ours {ours}; lifetimes {theirs}), Gamma-Gamma {same_gg}",
                  f"- BG/NBD at least 5x faster than lifetimes: {speed:.1f}x, "
                  f"{verdict(speed >= 5 and same)}"]
    else:
        extra += ["", f"- reference library: {ref}"]
    print("models: done", flush=True)
    return extra


if __name__ == "__main__":
    main()
