"""One report end to end, broken down, against the floor; a batch with 1 and 2 workers,
with and without the shared run artifacts; peak memory of a worker."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from reporting import plots
from reporting import store as _store
from reporting.batch import Job, build_artifacts, run_batch
from reporting.metrics.suite import analyse
from reporting.models.reference import clv_reference
from reporting.params import load_settings
from reporting.periods import parse_period
from reporting.render import html_to_pdf
from reporting.runner import run_report

PERIOD = parse_period("2026-09")
FLOOR_IMPORTS = ("import pandas, numpy, seaborn, matplotlib, sklearn, scipy, duckdb\n"
                 "import reporting.context, reporting.presentation, reporting.plots, reporting.metrics.suite")


def _floor_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('region = "EMEA"')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbformat.v4.new_code_cell(FLOOR_IMPORTS)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


def floor_seconds(folder: Path) -> dict[str, float]:
    """Executing with papermill a notebook that only imports the same libraries, plus
    rendering a one-page PDF with WeasyPrint: what any report costs at least."""
    import papermill as pm

    nb = _floor_notebook(folder)
    t = time.perf_counter()
    pm.execute_notebook(str(nb), str(folder / "floor-out.ipynb"), kernel_name="python3",
                        progress_bar=False, parameters={"region": "EMEA"})
    execute = time.perf_counter() - t
    t = time.perf_counter()
    html_to_pdf("<html><body><h1>One page</h1><p>text</p></body></html>", folder / "one.pdf")
    pdf = time.perf_counter() - t
    return {"execute": execute, "pdf": pdf, "total": execute + pdf}


def in_process_breakdown(store: Path, region: str = "EMEA") -> dict[str, float]:
    """What the report notebook's own work costs, step by step, in this process."""
    s = load_settings()
    out = {}
    t = time.perf_counter()
    d = _store.load(store, region=region, since=PERIOD.start - pd.DateOffset(months=13),
                    until=PERIOD.end)
    out["data load (SQL-filtered slice)"] = time.perf_counter() - t
    t = time.perf_counter()
    pred, clv = clv_reference(d.revenue, PERIOD.end)
    out["models (CLV choice by backtest + refit)"] = time.perf_counter() - t
    t = time.perf_counter()
    a = analyse(d.opportunities, PERIOD, s, d.reps, d.stage_history, d.leads, d.revenue,
                d.accounts, d.available(), predicted_value=pred, clv_model=clv)
    out["metrics (full analysis)"] = time.perf_counter() - t
    t = time.perf_counter()
    plots.set_theme()
    for ax in (plots.win_rate_trend(a.win_rate_trend), plots.funnel(a.funnel),
               plots.win_rate_by_rep(a.win_rates), plots.cycle_quadrant(a.summary),
               plots.open_vs_capacity(a.summary, "stale_or_old"),
               plots.aging_heatmap(a.aging),
               plots.person_bars(a.acquirers, "churn_rate", "t", "x", percent=True),
               plots.person_bars(a.managers, "expansion_per_account", "t", "x"),
               plots.deal_size_histogram(d.opportunities["amount"].dropna())):
        plots.figure_png(ax)
    out["charts (9 PNGs at 200 dpi)"] = time.perf_counter() - t
    return out


def bench_one_report(store: Path, repeat: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        floors = [floor_seconds(tmp) for _ in range(repeat)]
        art = build_artifacts(store, PERIOD, None, tmp / "run" / "artifacts.json")
        runs = [run_report("EMEA", PERIOD.label, store=store, reports_dir=tmp / f"r{i}",
                           artifacts=art) for i in range(repeat)]
    med = lambda xs: float(pd.Series(xs).median())  # noqa: E731
    return {
        "floor": {k: med([f[k] for f in floors]) for k in floors[0]},
        "report": {"total": med([r.seconds for r in runs]),
                   **{k: med([r.timings[k] for r in runs]) for k in runs[0].timings}},
        "pages": runs[0].pages,
        "breakdown": in_process_breakdown(store),
    }


def bench_batch(store: Path, periods=("2026-08", "2026-09")) -> dict:
    """8 region reports (4 regions x 2 months) with 1 and 2 workers, and the same batch
    without shared artifacts (each notebook learns bands and fits CLV itself)."""
    regions = [r for r in _store.regions(store)][:4]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        arts = {}
        t = time.perf_counter()
        for p in periods:
            arts[p] = build_artifacts(store, parse_period(p), None, tmp / p / "artifacts.json")
        out["artifacts_seconds"] = time.perf_counter() - t
        for label, workers, shared in (("1 worker, shared artifacts", 1, True),
                                       ("2 workers, shared artifacts", 2, True),
                                       ("2 workers, no shared artifacts", 2, False)):
            jobs = [Job(region=r, period=p, store=str(store),
                        reports_dir=str(tmp / label.replace(" ", "_")),
                        artifacts=str(arts[p]) if shared else None)
                    for p in periods for r in regions]
            t = time.perf_counter()
            res = run_batch(jobs, workers=workers)
            secs = time.perf_counter() - t + (out["artifacts_seconds"] if shared else 0.0)
            assert all(r.status == "ok" for r in res), [r.error for r in res]
            out[label] = {"seconds": secs, "reports": len(jobs)}
        # what a cron line per report would cost: a fresh `crm-report run` for each report
        t = time.perf_counter()
        for p in periods:
            for r in regions:
                subprocess.run([sys.executable, "-m", "reporting.cli", "run", "--period", p,
                                "--region", r, "--store", str(store), "--reports",
                                str(tmp / "singles"), "--workers", "1"],
                               check=True, capture_output=True)
        out["8 single crm-report run commands"] = {"seconds": time.perf_counter() - t,
                                                   "reports": len(periods) * len(regions)}
    return out


PEAK_CODE = r"""
import json, os, sys, tempfile, threading, time

def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM"))
    except (OSError, StopIteration):
        return 0

peak = {"kernel": 0}
stop = threading.Event()

def watch():  # the kernel is a child of this process; its VmHWM is lost when it exits
    me = str(os.getpid())
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        ppid = fh.read().rsplit(")", 1)[1].split()[1]
                except OSError:
                    continue
                if ppid == me:
                    peak["kernel"] = max(peak["kernel"], hwm(pid))
        time.sleep(0.05)

threading.Thread(target=watch, daemon=True).start()
from reporting.runner import run_report
run_report("EMEA", "2026-09", store=sys.argv[1], reports_dir=tempfile.mkdtemp())
stop.set()
print(json.dumps({"runner": hwm("self") / 1024, "kernel": peak["kernel"] / 1024}))
"""


def worker_peak_memory(store: Path) -> dict[str, float]:
    """Peak resident memory (VmHWM, MiB) of the process running one report and of its
    kernel. (ru_maxrss would carry the forking parent's peak over exec on Linux.)"""
    out = subprocess.run([sys.executable, "-c", PEAK_CODE, str(store)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
