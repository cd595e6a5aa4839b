"""Run the benchmark suite and write ``benchmarks/results.md``.

``python -m benchmarks`` (``make bench``) or ``python -m benchmarks --quick``
(``make bench-quick``: fewer runs, small sizes, same table). What is measured is what a user
waits for: whole ``crm-report`` processes of the virtualenv this Python belongs to, each
the median of several runs after a warm-up, each shown as a ratio against a floor measured
in the same run (times on a shared machine are noisy; ratios much less so):

- one report command against papermill executing a notebook that only imports what the
  report notebook imports (the floor of any notebook report);
- a batch of every region with 2 workers and with 1: CPU-seconds per report against the
  floor's, and the throughput of 2 workers against 1;
- a second ``run`` of the same period with the store and params unchanged: the time of the
  shared-artifact step in both runs (``benchmarks/timed_cli.py`` times it from outside);
- ingest of a generated Maven-shaped export against DuckDB's own ``read_csv`` of the file;
- ``crm-report metrics`` against one hand-written DuckDB query over the same store;
- the as-of view of one region at a past moment on a 1M-opportunity store with deal
  history (``benchmarks/asof_bench.py``, issue 14) against a plain region query;
- the forecast (training the win-probability model and forecasting every region) and a
  12-origin backtest on that store (``benchmarks/forecast_bench.py``, issue 15), in seconds.

Stores and exports are generated once into ``data/bench/`` (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .growth_bench import MEM_CAP_MIB
from .proc import BIN, ROOT, Series, child_env, crm_report, fresh_dir, machine, repeat, run

HERE = Path(__file__).resolve().parent
DATA = ROOT / "data" / "bench"
WORK = DATA / "work"

FLOOR_IMPORTS = ("import pandas, numpy, seaborn, matplotlib, sklearn, scipy, duckdb\n"
                 "import reporting.context, reporting.presentation, reporting.plots, reporting.metrics.suite")

# the issue's targets (issue 17), as (key, text, test on the measured ratio)
TARGETS = {
    "report": ("one region's report command within 2x the imports-only notebook floor",
               lambda r: r <= 2.0),
    "batch_cpu": ("batch: CPU-seconds per report within 1.5x the floor's CPU-seconds",
                  lambda r: r <= 1.5),
    "batch_scaling": ("batch: 2 workers at least 1.8x the throughput of 1",
                      lambda r: r >= 1.8),
    "reuse": ("second run of the same period reuses the shared artifacts "
              "(artifact step at most 0.25x of the first run's)", lambda r: r <= 0.25),
    "ingest_ratio": ("ingest within 3x DuckDB's own read_csv of the same file",
                     lambda r: r <= 3.0),
    "ingest_rate": ("ingest at least 250k rows/s", lambda r: r >= 250_000),
    "ingest_peak": ("ingest peak memory under 1.5 GB for a 2 GB export",
                    lambda r: r < 1500),
    "metrics_cmd": ("`crm-report metrics` process within 2x a DuckDB-query process",
                    lambda r: r <= 2.0),
    "metrics_engine": ("metrics engine (in-process) within 2x the hand-written query",
                       lambda r: r <= 2.0),
    # the 10M store (growth section; values are ratios, MiB, MiB)
    "growth_report_10m": ("10M store: one region's report within 2x of its time on the 1M "
                          "store", lambda r: r <= 2.0),
    "growth_kernel_10m": ("10M store: the notebook kernel under 1 GiB", lambda m: m < 1024),
    "growth_metrics_10m": ("10M store: `crm-report metrics` within 2x the SQL floor",
                           lambda r: r <= 2.0),
    "demo_10m_memory": ("10M store: the demo generator in bounded memory, under 4 GB",
                        lambda m: m < 4000 / 1.048576),
    # issue 14, requirement 7 (the value is seconds, not a ratio)
    "asof": ("issue 14: as-of view of one region at a past date, 1M opportunities with "
             "~5M history rows, well under a second (here: under 1 s)", lambda s: s < 1.0),
    # issue 15, requirement 9 (seconds)
    "forecast": ("issue 15: train the win-probability model on a 1M-opportunity store's "
                 "history and forecast every region in under 30 s", lambda s: s < 30.0),
    "forecast_backtest": ("issue 15: a 12-origin forecast backtest of the 1M store in under "
                          "2 minutes", lambda s: s < 120.0),
}


def last_complete_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


class Results:
    """Sections of ``results.md``, rewritten after each one so a failure keeps the rest."""

    def __init__(self, path: Path, quick: bool, info: dict, args: argparse.Namespace):
        self.path, self.quick, self.info, self.args = path, quick, info, args
        self.started = datetime.now(UTC)
        self.targets: list[tuple[str, str, str, str]] = []  # text, measured, ratio, verdict
        self.sections: list[list[str]] = []

    def target(self, key: str, measured: str, value: float | None, shown: str | None = None,
               note: str = "") -> None:
        text, ok = TARGETS[key]
        if value is None:
            verdict = f"not measured{': ' + note if note else ''}"
        else:
            verdict = "**met**" if ok(value) else "**missed**"
            if note:
                verdict += f" ({note})"
        self.targets.append((text, measured, shown if shown is not None else fmt_ratio(value),
                             verdict))

    def section(self, lines: list[str]) -> None:
        la = os.getloadavg()
        self.sections.append(lines + ["", f"(load average when this section ended: {la[0]:.2f} "
                                      f"{la[1]:.2f} {la[2]:.2f})"])
        self.write()

    def write(self) -> None:
        i = self.info
        mode = ("**quick** (`make bench-quick`: fewer runs, small sizes; figures are rough)"
                if self.quick else "full (`make bench`)")
        lines = [
            "# Benchmark results", "",
            f"Run {self.started:%Y-%m-%d %H:%M} UTC, {mode}; {self.args.runs} runs per "
            "figure after one warm-up, medians (exceptions are named in their section). Every figure is a whole process of "
            f"`{BIN}/crm-report` (or its floor) measured in this run.", "",
            "## Machine", "",
            f"- CPU: {i['cpu']}, {i['cores']} cores; RAM {i['ram']}; {i['os']}",
            f"- Python {i['python']}",
            f"- packages: {i['packages']}",
            f"- load average at start: {i['load']}; at end: {i.get('load_end', '-')} "
            "(the machine is shared: absolute times are noisy, ratios less so)", "",
            "## Targets (issue 17, and issue 14's as-of view)", "",
            "| target | measured | ratio | verdict |", "|---|---|---:|---|",
        ]
        lines += [f"| {t} | {m} | {r} | {v} |" for t, m, r, v in self.targets]
        for s in self.sections:
            lines += [""] + s
        lines += ["", "Where the time of one report goes, and what each optimisation "
                  "direction would save: [NOTES.md](NOTES.md)."]
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- set-up


def demo_store(today: date) -> Path:
    """The demo store (scale 1, ends today), generated by ``crm-report demo-data``."""
    path = DATA / f"demo-{today.isoformat()}.duckdb"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.duckdb")
        tmp.unlink(missing_ok=True)
        run([crm_report(), "demo-data", "--store", str(tmp), "--end", today.isoformat()])
        os.replace(tmp, path)
    return path


def floor_notebook(folder: Path) -> Path:
    """A notebook with the report's parameters cell and one cell that imports the libraries
    the report notebook uses: what any notebook report costs at least."""
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None,
         "outputs": [], "source": 'region = "EMEA"'},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": FLOOR_IMPORTS}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}
    path = folder / "floor.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- sections


def bench_floor(res: Results, runs: int) -> Series:
    folder = fresh_dir(WORK / "floor")
    nb = floor_notebook(folder)
    s = repeat(lambda i: [sys.executable, "-m", "papermill", str(nb), str(folder / "out.ipynb"),
                          "-k", "python3", "-p", "region", "EMEA", "--no-progress-bar"],
               runs, cwd=folder)
    print(f"floor: {s.wall:.2f} s wall, {s.cpu:.2f} CPU-s", flush=True)
    return s


def _cells(nb_path: Path) -> list[tuple[str, float]]:
    """(first line of the cell, papermill's duration) for each code cell."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    out = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        first = next((ln for ln in src.splitlines() if ln.strip()), "")
        d = c.get("metadata", {}).get("papermill", {}).get("duration")
        out.append((first[:60], float(d or 0.0)))
    return out


def bench_report(res: Results, runs: int, store: Path, period: str, floor: Series) -> None:
    out = WORK / "report"
    manifests, cells = [], []

    def before(i):
        fresh_dir(out)

    def cmd(i):
        return [crm_report(), "run", "--region", "EMEA", "--period", period,
                "--store", str(store), "--reports", str(out)]

    s = Series()
    for i in range(-1, runs):
        before(i)
        r = run(cmd(i), cwd=WORK)
        if i < 0:
            continue
        s.runs.append(r)
        m = next(out.glob(f"{period}/*/manifest.json"))
        manifests.append(json.loads(m.read_text()))
        cells.append(_cells(m.with_name("report.ipynb")))
    ratio = s.wall / floor.wall
    res.target("report", f"{s.wall:.2f} s vs {floor.wall:.2f} s", ratio)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    timing = {k: med([m["timings"].get(k, 0.0) for m in manifests])
              for k in manifests[0]["timings"]}
    n_cells = len(cells[0])
    cell_med = [(cells[0][j][0], med([c[j][1] for c in cells if len(c) == n_cells]))
                for j in range(n_cells)]
    in_cells = sum(d for _, d in cell_med)
    execute, render = timing.get("execute", 0.0), timing.get("render", 0.0)
    lines = [f"## One report: `crm-report run --region EMEA --period {period} --store demo`",
             "",
             f"{manifests[0].get('pages', '?')} pages; a fresh reports folder each run (so "
             "the shared artifacts and band reference are computed as on a first run).", "",
             "| what | wall s | CPU s | peak MiB | runs (wall) |", "|---|---:|---:|---:|---|",
             f"| floor: `python -m papermill` of the imports-only notebook | {floor.wall:.2f} | "
             f"{floor.cpu:.2f} | {floor.peak_mib:.0f} | {floor.spread} |",
             f"| `crm-report run`, one region | {s.wall:.2f} | {s.cpu:.2f} | "
             f"{s.peak_mib:.0f} | {s.spread} |",
             f"| ratio | {ratio:.2f}x | {s.cpu / floor.cpu:.2f}x | | |", "",
             "Where the command's wall time goes (medians; `execute`, `html`, `pdf` from the "
             "manifest's timings, cells from the executed notebook's `papermill.duration`):",
             "", "| step | seconds |", "|---|---:|",
             f"| outside the notebook: CLI start-up, scopes, shared artifacts, index | "
             f"{s.wall - execute - render:.2f} |",
             f"| papermill execute, total | {execute:.2f} |",
             f"| of which kernel start, papermill and nbclient overhead | "
             f"{execute - in_cells:.2f} |"]
    lines += [f"| of which cell `{name.replace('|', '/')}` | {d:.2f} |" for name, d in cell_med]
    lines += [f"| HTML export (nbconvert) | {timing.get('html', 0.0):.2f} |",
              f"| PDF layout (WeasyPrint) | {timing.get('pdf', 0.0):.2f} |",
              f"| render child overhead | {render - timing.get('html', 0) - timing.get('pdf', 0):.2f} |"]
    res.section(lines)
    print(f"report: {s.wall:.2f} s ({ratio:.2f}x floor)", flush=True)


def _timed(args: list[str], timings: Path, cwd: Path):
    r = run([sys.executable, "-m", "benchmarks.timed_cli", *args], cwd=cwd,
            env=child_env(CRM_BENCH_TIMINGS=str(timings)))
    return r, json.loads(timings.read_text())


def bench_second_run(res: Results, pairs: int, store: Path, period: str) -> None:
    """A first and a second ``run`` of one period into the same reports folder."""
    out = WORK / "second"
    args = ["run", "--region", "EMEA", "--period", period, "--store", str(store),
            "--reports", str(out)]
    rows = []
    for _ in range(pairs):
        fresh_dir(out)
        r1, t1 = _timed(args, WORK / "t1.json", WORK)
        art = out / period / "_run" / "artifacts.json"
        stamp1 = art.stat().st_mtime_ns if art.exists() else None
        r2, t2 = _timed(args, WORK / "t2.json", WORK)
        stamp2 = art.stat().st_mtime_ns if art.exists() else None
        rows.append((r1, t1, r2, t2, stamp1 != stamp2))
    med = statistics.median

    def step(t, name):
        return t["steps"].get(name, {}).get("seconds")

    def work(t):
        """The artifact step's work: since session 7 ``run`` starts it
        (``start_shared_artifacts``: fingerprint, band reference) and computes the rest in
        a thread while the kernel starts (``_compute_artifacts``); before, one call."""
        if step(t, "start_shared_artifacts") is None:
            return step(t, "shared_artifacts")
        return step(t, "start_shared_artifacts") + (step(t, "_compute_artifacts") or 0.0)

    a1 = [work(t1) for _, t1, _, _, _ in rows]
    a2 = [work(t2) for _, _, _, t2, _ in rows]
    missing = rows[0][1]["missing"]
    lines = [f"## Second run of the same period (EMEA, {period}; store and params unchanged)",
             "", f"{pairs} pair(s) of runs (medians), each pair into a fresh reports folder; steps timed "
             "from outside by `benchmarks/timed_cli.py` (the same CLI with stopwatches around "
             "library functions).", "",
             "| step | first run s | second run s |", "|---|---:|---:|",
             f"| whole process (wall) | {med(r[0].wall for r in rows):.2f} | "
             f"{med(r[2].wall for r in rows):.2f} |",
             f"| imports (CLI and the modules `run` uses) | "
             f"{med(r[1]['imports'] for r in rows):.2f} | {med(r[3]['imports'] for r in rows):.2f} |"]
    for name in ("known_scopes", "shared_artifacts", "start_shared_artifacts",
                 "_compute_artifacts", "band_reference",
                 "band_drift", "clv_reference", "forecast_backtest", "run_batch",
                 "write_indexes"):
        v1 = [step(r[1], name) or 0.0 for r in rows]
        v2 = [step(r[3], name) or 0.0 for r in rows]  # a step a reusing run skips: 0
        if any(step(r[1], name) is not None or step(r[3], name) is not None for r in rows):
            label = {"shared_artifacts": "shared artifacts (`shared_artifacts`), total",
                     "start_shared_artifacts": "shared artifacts: fingerprint, reuse check, "
                                               "band reference (before the kernel starts)",
                     "_compute_artifacts": "computing them (skipped when reused; since "
                                           "session 7 in a thread, beside the kernel)",
                     "band_reference": "of which band reference",
                     "band_drift": "of which band drift (PSI)",
                     "clv_reference": "of which CLV model choice by backtest + refit",
                     "forecast_backtest": "of which forecast backtest (company-wide)",
                     "run_batch": "the report itself (`run_batch`: kernel, notebook, render)",
                     "known_scopes": "scopes of the store",
                     "write_indexes": "index writing"}[name]
            lines.append(f"| {label} | {med(v1):.2f} | {med(v2):.2f} |")
    rewritten = sum(r[4] for r in rows)
    lines += ["", f"- `_run/artifacts.json` rewritten by the second run: {rewritten} of "
              f"{pairs} pairs"]
    if missing:
        lines.append(f"- steps the code no longer has (not timed): {', '.join(missing)}")
    if None in a1 or None in a2:
        res.target("reuse", "artifact step not found", None,
                   note="the artifact step was not found; update benchmarks/timed_cli.py")
    else:
        ratio = med(a2) / med(a1) if med(a1) else None
        res.target("reuse", f"{med(a1):.2f} s first, {med(a2):.2f} s second", ratio,
                   note="recomputed" if ratio and ratio > 0.25 else "reused")
    res.section(lines)
    print(f"second run: artifacts {med(a1):.2f} s -> {med(a2):.2f} s", flush=True)


def bench_batch(res: Results, runs: int, store: Path, period: str, floor: Series) -> None:
    out = WORK / "batch"
    series, counts = {1: Series(), 2: Series()}, {}
    # interleaved (2, 1, 1, 2, 2, 1, ...) so that both see the same load from the rest of a
    # shared machine; no warm-up of their own: the report and second-run sections before
    # ran the same command on the same store (caches warm), and a batch is the longest figure
    for i in range(runs):
        for workers in ((2, 1) if i % 2 == 0 else (1, 2)):
            fresh_dir(out)
            series[workers].runs.append(run(
                [crm_report(), "run", "--region", "all", "--period", period, "--store",
                 str(store), "--reports", str(out), "--workers", str(workers)], cwd=WORK))
            counts[workers] = len(list(out.glob(f"{period}/*/manifest.json")))
            print(f"batch {workers} workers, run {i + 1}: {series[workers].runs[-1].wall:.1f} s",
                  flush=True)
    n = counts[2]
    s1, s2 = series[1], series[2]
    per = {w: series[w].cpu / counts[w] for w in series}
    cpu_ratio = per[2] / floor.cpu
    scaling = s1.wall / s2.wall
    res.target("batch_cpu", f"{per[2]:.2f} CPU-s a report (2 workers) vs {floor.cpu:.2f}",
               cpu_ratio)
    res.target("batch_scaling", f"{s1.wall:.1f} s with 1 worker, {s2.wall:.1f} s with 2",
               scaling)
    lines = [f"## Batch: `crm-report run --region all --period {period}` ({n} reports)", "",
             f"{runs} runs each, interleaved (2 workers, 1, 1, 2, ...) so both see the same "
             "load; no warm-up of their own (the sections before ran the same command on "
             "the same store); a fresh reports folder each run. CPU is user + "
             "system of the whole process tree (workers, kernels, render children).", "",
             "| run | wall s | CPU s | CPU s a report | vs floor CPU | peak MiB | runs (wall) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for w in (1, 2):
        s = series[w]
        lines.append(f"| `--workers {w}` | {s.wall:.1f} | {s.cpu:.1f} | {per[w]:.2f} | "
                     f"{per[w] / floor.cpu:.2f}x | {s.peak_mib:.0f} | {s.spread} |")
    lines += [f"| floor (one imports-only notebook) | {floor.wall:.2f} | {floor.cpu:.2f} | "
              f"{floor.cpu:.2f} | 1.00x | {floor.peak_mib:.0f} | {floor.spread} |", "",
              f"- throughput of 2 workers against 1: {scaling:.2f}x "
              f"(a perfect 2-core machine gives 2x; the machine is shared)"]
    res.section(lines)


COUNT_CODE = r"""
import sys, duckdb
c = duckdb.connect(sys.argv[1], read_only=True)
print(c.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0],
      c.execute("SELECT COUNT(*) FROM quarantine WHERE \"table\" = 'opportunities'").fetchone()[0])
"""


def bench_ingest(res: Results, runs: int, mb: float) -> None:
    from .ingest_bench import FLOOR_CODE, make_export

    folder = DATA / f"export-{mb:g}mb"
    t = time.perf_counter()
    meta = make_export(folder, mb)
    gen = time.perf_counter() - t
    rows, size = meta["rows"], meta["bytes"]
    store = WORK / "ingest.duckdb"
    floor_db = WORK / "floor.duckdb"

    def clear(i):
        for p in (store, floor_db):
            p.unlink(missing_ok=True)
            Path(f"{p}.wal").unlink(missing_ok=True)

    WORK.mkdir(parents=True, exist_ok=True)
    floor = repeat(lambda i: [sys.executable, "-c", FLOOR_CODE,
                              str(folder / "sales_pipeline.csv"), str(floor_db)],
                   runs, before=clear, cwd=WORK)
    s = repeat(lambda i: [crm_report(), "ingest", str(folder), "--source", "maven",
                          "--store", str(store)], runs, before=clear, cwd=WORK)
    # what the last run loaded: a fast ingest that quarantined the rows would not count
    got = run([sys.executable, "-c", COUNT_CODE, str(store)], check=False).out.split()
    clear(0)
    ratio = s.wall / floor.wall
    rate = rows / s.wall
    res.target("ingest_ratio", f"{s.wall:.1f} s vs {floor.wall:.2f} s ({size / 1e6:,.0f} MB)",
               ratio)
    res.target("ingest_rate", f"{rate:,.0f} rows/s", rate, shown=f"{rate / 250_000:.2f}x of 250k")
    big = size >= 1.9e9
    res.target("ingest_peak", f"{s.peak_mib:,.0f} MiB peak for {size / 1e9:.2f} GB",
               s.peak_mib * 1.048576 if big else None,  # MiB -> MB
               shown=f"{s.peak_mib * 1.048576 / 1500:.2f}x of 1.5 GB" if big else "-",
               note=None if big else (f"this export is {size / 1e9:.2f} GB; "
                                      "`make bench BENCH_INGEST_GB=2` measures the 2 GB case"))
    lines = [f"## Ingest: a {size / 1e6:,.0f} MB Maven-shaped export ({rows:,} opportunities)",
             "", f"Generated by `benchmarks/ingest_bench.py` in {gen:.0f} s (reused when "
             "present); `crm-report ingest FOLDER --source maven` into a new store each run, "
             "against DuckDB's `CREATE TABLE ... AS SELECT * FROM read_csv(file)` into a new "
             "database file in a fresh Python process.", "",
             "| what | wall s | CPU s | rows/s | peak MiB | runs (wall) |",
             "|---|---:|---:|---:|---:|---|",
             f"| floor: DuckDB `read_csv` | {floor.wall:.2f} | {floor.cpu:.2f} | "
             f"{rows / floor.wall:,.0f} | {floor.peak_mib:,.0f} | {floor.spread} |",
             f"| `crm-report ingest` | {s.wall:.2f} | {s.cpu:.2f} | {rate:,.0f} | "
             f"{s.peak_mib:,.0f} | {s.spread} |",
             f"| ratio | {ratio:.2f}x | {s.cpu / floor.cpu:.2f}x | | | |", "",
             f"- opportunities in the store after ingest: {got[0] if got else '?'} loaded, "
             f"{got[1] if len(got) > 1 else '?'} quarantined, of {rows:,} in the file"]
    res.section(lines)
    print(f"ingest: {s.wall:.1f} s vs {floor.wall:.2f} s, {rate:,.0f} rows/s", flush=True)


METRICS_FLOOR = r"""
import sys, duckdb
from benchmarks.floor_sql import FLOOR_SQL
from datetime import datetime
y, m = map(int, sys.argv[2].split("-"))
start = datetime(y, m, 1)
end = datetime(y + (m == 12), m % 12 + 1, 1)
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(FLOOR_SQL, {"region": "EMEA", "start": start, "end": end}).fetchall()
print("\n".join(",".join(map(str, r)) for r in rows))
"""


def bench_metrics(res: Results, runs: int, stores: list[tuple[str, Path, str]],
                  inproc_sizes: list[str]) -> None:
    lines = ["## Metrics: `crm-report metrics --period P --region EMEA --by rep --format csv`",
             "", "As whole processes, against a Python process that runs the one hand-written "
             "DuckDB query of the same aggregates (`benchmarks/floor_sql.py`) "
             "on the same store and prints it:", "",
             "| store | floor s | `crm-report metrics` s | ratio | floor peak MiB | peak MiB |",
             "|---|---:|---:|---:|---:|---:|"]
    last = None
    for label, store, period in stores:
        floor_cmd = [sys.executable, "-c", METRICS_FLOOR, str(store), period]
        cmd = [crm_report(), "metrics", "--period", period, "--region", "EMEA", "--by", "rep",
               "--format", "csv", "--store", str(store)]
        floor = repeat(lambda i, c=floor_cmd: c, runs, cwd=ROOT)
        s = repeat(lambda i, c=cmd: c, runs, cwd=WORK)
        last = (label, s.wall / floor.wall, s.wall, floor.wall)
        lines.append(f"| {label} | {floor.wall:.2f} | {s.wall:.2f} | "
                     f"{s.wall / floor.wall:.2f}x | {floor.peak_mib:.0f} | {s.peak_mib:.0f} |")
        print(f"metrics {label}: {s.wall / floor.wall:.2f}x", flush=True)
    label, ratio, w, f = last
    res.target("metrics_cmd", f"{w:.2f} s vs {f:.2f} s ({label} store)", ratio)
    # the in-process figures of the existing benchmark: engine against the same query
    out = run([sys.executable, "-m", "benchmarks.engine_bench", "metrics", *inproc_sizes],
              cwd=ROOT)
    rows = json.loads(out.out.strip().splitlines()[-1])
    lines += ["", "In process (the engine's query alone, without the process around it; "
              "medians of 7 after a warm-up):", "",
              "| size | opportunities | what | seconds | against | ratio |",
              "|---|---:|---|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['opportunities']:,} | {r['what']} | "
                     f"{r['seconds']:.3f} | {r['vs']} | {r['ratio']:.2f}x |")
    eng = [r for r in rows if r["what"].startswith("metrics engine")][-1]
    res.target("metrics_engine", f"{eng['seconds'] * 1000:.0f} ms ({eng['size']} store)",
               eng["ratio"])
    res.section(lines)


def bench_growth(res: Results, sizes: list[str]) -> None:
    out = run([sys.executable, "-m", "benchmarks.engine_bench", "growth", *sizes], cwd=ROOT)
    rows = json.loads(out.out.strip().splitlines()[-1])
    lines = ["## Growth: one region (EMEA), load 13 months + full analysis, fresh process", "",
             "| size | EMEA opportunities loaded | load s | analysis s | peak MiB |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {g['size']} | {g['rows']:,} | {g['load']:.2f} | {g['analyse']:.2f} | "
              f"{g['peak_mib']:.0f} |" for g in rows]
    # ingest and `crm-report metrics` at each size, against their floors (growth_bench)
    big = [s for s in ("10M",) if (DATA / "demo-s500.duckdb").exists()]
    out = run([sys.executable, "-m", "benchmarks.growth_bench", *sizes, *big], cwd=ROOT,
              timeout=4 * 3600)
    grow = json.loads(out.out.strip().splitlines()[-1])
    lines += ["", "Ingest (a Maven-shaped export of that many opportunities, against DuckDB's "
              "`read_csv` of it) and `crm-report metrics --by rep --region EMEA` (the demo "
              "store of that size, against the hand-written query's process), whole processes "
              "(`benchmarks/growth_bench.py`; 3 runs, 1 for ingest at 1M and more):", "",
              "| size | export MB | ingest s | floor s | ratio | rows/s | ingest peak MiB | "
              "store opps | metrics s | floor s | ratio | metrics peak MiB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for g in grow:
        m = (f"{g['store_opportunities']:,} | {g['metrics_s']:.2f} | {g['metrics_floor_s']:.2f} "
             f"| {g['metrics_ratio']:.2f}x | {g['metrics_peak_mib']:.0f}"
             if "metrics_s" in g else "not built | - | - | - | -")
        lines.append(f"| {g['size']} | {g['mb']:.0f} | {g['ingest_s']:.2f} | {g['floor_s']:.2f} "
                     f"| {g['ratio']:.2f}x | {g['rows_per_s']:,.0f} | {g['peak_mib']:.0f} | {m} |")
    lines += ["", "One report (`run --region EMEA --period 2026-09`) and the batch (`--region all "
              "--workers 2`, 4 reports) on the demo store of each size, one run each on a fresh "
              "reports folder (a first run: the shared artifacts are computed). Peaks polled "
              "from /proc every 0.1 s: the kernel's VmHWM and the whole process tree's resident "
              f"sum; a tree past {MEM_CAP_MIB / 1024:.0f} GiB is killed (the machine has 24).",
              "", "| size | report wall s | report CPU s | kernel peak MiB | report tree peak "
              "MiB | batch wall s | batch CPU s | CPU s a report | batch tree peak MiB | "
              "notes |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for g in grow:
        r, b = g.get("report"), g.get("batch") or {}
        if r is None:
            continue
        cells = [f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['kernel_mib']:.0f}",
                 f"{r['tree_mib']:.0f}"]
        if "wall_s" in b:
            cells += [f"{b['wall_s']:.1f}", f"{b['cpu_s']:.1f}",
                      f"{b['cpu_s'] / max(b['reports'], 1):.1f}", f"{b['tree_mib']:.0f}"]
        else:
            cells += ["-"] * 4
        notes = "; ".join(f"{k}: {x['problem']}" for k, x in (("report", r), ("batch", b))
                          if x.get("problem"))
        lines.append(f"| {g['size']} | {' | '.join(cells)} | {notes or '-'} |")
    _growth_targets(res, grow)
    res.section(lines)


def _growth_targets(res: Results, grow: list[dict]) -> None:
    """The 10M store's targets, from the growth rows (not measured without the store)."""
    by = {g["size"]: g for g in grow}
    ten, one = by.get("10M"), by.get("1M")
    meta = DATA / "demo-s500.duckdb.json"
    if meta.exists():
        m = json.loads(meta.read_text())
        res.target("demo_10m_memory", f"{m['peak_mib']:,.0f} MiB peak, {m['seconds'] / 60:.0f} "
                   f"min ({m.get('how', 'measured when the store was built')})", m["peak_mib"],
                   shown=f"{m['peak_mib'] / 1024:.2f} GiB")
    else:
        res.target("demo_10m_memory", "-", None, note="the 10M store was not built by this "
                   "harness (no data/bench/demo-s500.duckdb.json)")
    if not ten or "metrics_s" not in ten:
        why = "no 10M store (data/bench/demo-s500.duckdb: `python -m benchmarks.engine_bench store 10M`)"
        for key in ("growth_report_10m", "growth_kernel_10m", "growth_metrics_10m"):
            res.target(key, "-", None, note=why)
        return
    res.target("growth_metrics_10m", f"{ten['metrics_s']:.2f} s vs {ten['metrics_floor_s']:.2f} s",
               ten["metrics_ratio"])
    r10, r1 = ten.get("report") or {}, (one or {}).get("report") or {}
    if r10.get("problem"):
        res.target("growth_report_10m", r10["problem"], float("inf"), shown="-",
                   note="did not finish")
    elif r1.get("wall_s") and r10.get("wall_s"):
        res.target("growth_report_10m", f"{r10['wall_s']:.0f} s vs {r1['wall_s']:.0f} s at 1M",
                   r10["wall_s"] / r1["wall_s"])
    else:
        res.target("growth_report_10m", "-", None, note="no 1M report in this run")
    if r10.get("kernel_mib") is not None:
        res.target("growth_kernel_10m", f"{r10['kernel_mib']:,.0f} MiB"
                   + (" when the tree was killed" if r10.get("problem") else ""),
                   r10["kernel_mib"], shown=f"{r10['kernel_mib'] / 1024:.2f} GiB")


def bench_memory_and_models(res: Results) -> None:
    from .report_bench import worker_peak_memory

    big = json.loads(run([sys.executable, "-m", "benchmarks.engine_bench", "store", "1M"],
                         cwd=ROOT).out.strip().splitlines()[-1])[0]["path"]
    mem = worker_peak_memory(Path(big), "2026-09", env=child_env())
    ok = "**met**" if max(mem.values()) < 1024 else "**missed**"
    lines = ["## Peak memory of one report at 1M opportunities", "",
             f"- runner process {mem['runner']:.0f} MiB, kernel {mem['kernel']:.0f} MiB: "
             f"{ok} (< 1 GiB each)"]
    code = ("import json; from benchmarks.models_bench import bench_models; "
            "print(json.dumps(bench_models(), default=float))")
    m = json.loads(run([sys.executable, "-c", code], cwd=ROOT).out.strip().splitlines()[-1])
    lines += ["", "## Models (in process)", "", "| fit | seconds |", "|---|---:|"]
    lines += [f"| DealSizeBander, {k.split('_')[-1]} amounts | {v:.2f} |"
              for k, v in m.items() if k.startswith("bander_fit_")]
    lines += [f"| BG/NBD, CDNOW master ({m['customers']:,} customers) | {m['bgnbd_seconds']:.3f} |",
              f"| Gamma-Gamma, CDNOW master | {m['gg_seconds']:.3f} |"]
    ref = m["reference"]
    if isinstance(ref, dict):
        same = all(f"{m['bgnbd'][k]:.3g}" == f"{ref['bgnbd'][k]:.3g}" for k in ref["bgnbd"])
        same_gg = all(f"{m['gg'][k]:.3g}" == f"{ref['gg'][k]:.3g}" for k in ref["gg"])
        speed = ref["bgnbd_seconds"] / m["bgnbd_seconds"]
        lines += [f"| lifetimes 0.11.3 BG/NBD, same data | {ref['bgnbd_seconds']:.3f} |",
                  f"| lifetimes 0.11.3 Gamma-Gamma, same data | {ref['gg_seconds']:.3f} |",
                  "", f"- estimates equal to 3 significant figures: BG/NBD {same}, "
                  f"Gamma-Gamma {same_gg}",
                  f"- BG/NBD at least 5x faster than lifetimes: {speed:.1f}x, "
                  f"{'**met**' if speed >= 5 and same else '**missed**'}"]
    else:
        lines += ["", f"- reference library: {ref}"]
    res.section(lines)


def bench_asof(res: Results, runs: int, quick: bool) -> None:
    """The history store (built once, in a child process) and the as-of timing."""
    build = run([sys.executable, "-m", "benchmarks.asof_bench", "store",
                 *(["--quick"] if quick else [])], cwd=ROOT)
    info = json.loads(build.out.strip().splitlines()[-1])
    out = run([sys.executable, "-m", "benchmarks.asof_bench", "time", info["path"],
               "--runs", str(runs)], cwd=ROOT)
    t = json.loads(out.out.strip().splitlines()[-1])
    c = info.get("counts", {})
    n, hist = c.get("opportunities", 0), c.get("opportunity_history", 0)
    res.target("asof", f"{t['asof_s'] * 1000:.0f} ms vs {t['floor_s'] * 1000:.0f} ms floor "
               f"({n:,} opportunities, {hist:,} history rows)", t["asof_s"],
               shown=f"{t['ratio']:.2f}x floor")
    made = ("reused (built by an earlier run)" if info.get("reused") else
            f"built in {build.wall:.0f} s ({info['generate_and_write_s']:.0f} s generating and "
            f"writing, {info['rebuild_s']:.0f} s `history.rebuild`), peak {build.peak_mib:,.0f} MiB")
    spread = lambda xs: f"{min(xs) * 1000:.0f}-{max(xs) * 1000:.0f}"  # noqa: E731
    lines = [f"## As-of view: `opportunities_as_of(store, {t['when']}, region={t['region']!r})`",
             "", f"Store `{Path(info['path']).name}` ({info.get('bytes', 0) / 2**20:,.0f} MiB): "
             + ", ".join(f"{k} {v:,}" for k, v in c.items()) + f"; {made}. "
             "Floor: `" + "SELECT * FROM opportunities WHERE region = ?" + "` into pandas, "
             f"fresh read-only connection each call; {t['runs']} runs each, alternating, after "
             "one warm-up of each (`benchmarks/asof_bench.py`).", "",
             "| what | rows | median ms | runs (ms) |", "|---|---:|---:|---|",
             f"| floor: the region's current rows | {t['rows']['floor']:,} | "
             f"{t['floor_s'] * 1000:.0f} | {spread(t['floor_runs'])} |",
             f"| `opportunities_as_of` | {t['rows']['asof']:,} | {t['asof_s'] * 1000:.0f} | "
             f"{spread(t['asof_runs'])} |",
             f"| ratio | | {t['ratio']:.2f}x | |"]
    res.section(lines)
    print(f"asof: {t['asof_s'] * 1000:.0f} ms vs floor {t['floor_s'] * 1000:.0f} ms", flush=True)


def bench_forecast(res: Results, runs: int, quick: bool) -> None:
    """Forecast and backtest on the history store of the as-of section (built once)."""
    build = run([sys.executable, "-m", "benchmarks.asof_bench", "store",
                 *(["--quick"] if quick else [])], cwd=ROOT)
    info = json.loads(build.out.strip().splitlines()[-1])
    out = run([sys.executable, "-m", "benchmarks.forecast_bench", "time", info["path"],
               "--runs", str(min(runs, 3)), "--backtest-runs", "1" if quick else "2"],
              cwd=ROOT)
    t = json.loads(out.out.strip().splitlines()[-1])
    n = info.get("counts", {}).get("opportunities", 0)
    note = "" if n >= 900_000 else f"measured on {n:,} opportunities (--quick)"
    res.target("forecast", f"{t['forecast_s']:.1f} s ({n:,} opportunities, {t['regions']} "
               f"regions, {t['training_rows']:,} training rows)", t["forecast_s"],
               shown=f"{t['forecast_s']:.1f} s", note=note)
    res.target("forecast_backtest", f"{t['backtest_s']:.1f} s ({t['backtest_origins']} "
               "origins)", t["backtest_s"], shown=f"{t['backtest_s']:.1f} s", note=note)
    runs_txt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
    lines = [f"## Forecast: `forecast(store, {t['as_of']}, {t['horizon_days']}, by='region')` "
             "and `backtest(store)`", "",
             f"Store `{Path(info['path']).name}` ({n:,} opportunities with deal history, the "
             "as-of section's); whole-function wall times in one process, each call opening "
             "its own read-only connection (`benchmarks/forecast_bench.py`).", "",
             "| what | median s | runs (s) |", "|---|---:|---|",
             f"| train on {t['training_origins']} month-ends ({t['training_rows']:,} rows) "
             f"and forecast {t['regions']} regions ({t['open_deals']:,} open deals) | "
             f"{t['forecast_s']:.1f} | {runs_txt(t['forecast_runs'])} |",
             f"| of which the DuckDB pass over every origin and the features (last run) | "
             f"{t['seconds_rows']:.1f} | |",
             f"| backtest, {t['backtest_origins']} origins, a model each | "
             f"{t['backtest_s']:.1f} | {runs_txt(t['backtest_runs'])} |", "",
             "Backtest errors on this store (chosen: " + t["backtest_chosen"] + "):", "",
             "| method | mape_count | mape_value | interval coverage | brier |",
             "|---|---:|---:|---:|---:|"]
    f = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    for r in t["backtest_table"]:
        lines.append(f"| {r['method']} | {f(r['mape_count'])} | {f(r['mape_value'])} | "
                     f"{f(r['interval_coverage'])} | {f(r['brier'])} |")
    res.section(lines)
    print(f"forecast: {t['forecast_s']:.1f} s, backtest {t['backtest_s']:.1f} s", flush=True)


# --------------------------------------------------------------------------- main

SECTIONS = ("report", "second", "batch", "ingest", "metrics", "growth", "models", "asof",
            "forecast")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true",
                    help="2 runs (1 for batches), a 10 MB export, the demo store only "
                    "(a few minutes on an idle machine)")
    ap.add_argument("--runs", type=int, help="runs per figure after the warm-up "
                    "(default 5; 2 with --quick)")
    ap.add_argument("--ingest-mb", type=float, help="size of the generated export in MB "
                    "(default 50; 10 with --quick)")
    ap.add_argument("--ingest-gb", type=float, help="size of the export in GB (make bench "
                    "BENCH_INGEST_GB=2 for the issue's 2 GB case; 3 runs unless --ingest-runs)")
    ap.add_argument("--ingest-runs", type=int, help="runs of the ingest figure")
    ap.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    args = ap.parse_args()
    args.runs = args.runs or (2 if args.quick else 5)
    mb = (args.ingest_gb * 1000 if args.ingest_gb else args.ingest_mb) or \
        (10 if args.quick else 50)
    ingest_runs = args.ingest_runs or (3 if mb >= 1000 else args.runs)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if args.quick:
        only -= {"growth", "models"}
    crm_report()  # fail early when the venv has no crm-report

    info = machine()
    res = Results(args.out, args.quick, info, args)
    today = date.today()
    period = last_complete_month(today)
    WORK.mkdir(parents=True, exist_ok=True)
    store = demo_store(today)
    print(f"demo store {store}, period {period}, load {info['load']}", flush=True)

    def guarded(name, fn, *a):
        if name not in only:
            return
        try:
            fn(*a)
        except Exception as exc:  # noqa: BLE001 - record it, go on with the other sections
            res.section([f"## {name}: failed", "", f"{type(exc).__name__}: {exc}"[:2000]])
            print(f"{name}: failed: {exc}", flush=True)

    floor = None
    if only & {"report", "batch"}:
        floor = bench_floor(res, args.runs)
    guarded("report", bench_report, res, args.runs, store, period, floor)
    guarded("second", bench_second_run, res, 1 if args.quick else 2, store, period)
    guarded("batch", bench_batch, res, 1 if args.quick else args.runs, store, period, floor)
    guarded("ingest", bench_ingest, res, ingest_runs, mb)
    metric_stores = [("demo (scale 1)", store, period)]
    if not args.quick and "metrics" in only:  # the 1M store only when a section uses it
        big = json.loads(run([sys.executable, "-m", "benchmarks.engine_bench", "store", "1M"],
                             cwd=ROOT).out.strip().splitlines()[-1])[0]["path"]
        metric_stores.append(("1M", Path(big), "2026-09"))
    guarded("metrics", bench_metrics, res, args.runs, metric_stores,
            ["10k"] if args.quick else ["10k", "100k", "1M"])
    guarded("growth", bench_growth, res, ["10k", "100k", "1M"])
    guarded("models", bench_memory_and_models, res)
    guarded("asof", bench_asof, res, args.runs, args.quick)
    guarded("forecast", bench_forecast, res, args.runs, args.quick)
    la = os.getloadavg()
    info["load_end"] = f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f}"
    res.write()
    print(args.out.read_text())


if __name__ == "__main__":
    main()
