"""Growth table (issue 17, requirement 4): how ingest and ``crm-report metrics`` grow with
the store, as whole processes, each next to its floor measured in the same minutes.

``python -m benchmarks.growth_bench 10k 100k 1M`` prints one JSON list (a row per size);
``python -m benchmarks --only growth`` adds the table to ``results.md``. For each size:

- ingest of a Maven-shaped export with that many opportunities (``ingest_bench``) against
  DuckDB's ``read_csv`` of the same file (wall, rows/s, peak resident memory);
- ``crm-report metrics --by rep --region EMEA`` on the demo store of that size
  (``engine_bench.store_for``: scale 0.5, 5, 50, 500; above scale 5 written in chunks as
  ``crm-report demo-data`` does) against the one hand-written query's process;
- one report (``run --region EMEA``) and the batch (``--region all --workers 2``) on
  that store, once each on a fresh reports folder, with the kernel's and the whole
  tree's peak memory (``--no-reports`` leaves them out).

The harness stays on the standard library (``proc``); stores and exports are made once in
``data/bench/`` and reused. Sizes whose store or export does not exist yet are built,
except 10M (``demo-data --scale 500`` takes long): it is measured only when
``data/bench/demo-s500.duckdb`` exists.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from .proc import ROOT, crm_report, run

DATA = ROOT / "data" / "bench"
WORK = DATA / "work"
ROWS = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
SCALES = {"10k": 0.5, "100k": 5.0, "1M": 50.0, "10M": 500.0}
PERIOD = "2026-09"


def _median(runs, key):
    return statistics.median(getattr(r, key) for r in runs)


def ingest_row(label: str, runs: int) -> dict:
    from .ingest_bench import BYTES_PER_ROW, FLOOR_CODE, make_export

    folder = DATA / f"export-{label}"
    meta = make_export(folder, ROWS[label] * BYTES_PER_ROW / 1e6)
    store, floor_db = WORK / "growth-ingest.duckdb", WORK / "growth-floor.duckdb"
    WORK.mkdir(parents=True, exist_ok=True)

    def clear():
        for p in (store, floor_db):
            p.unlink(missing_ok=True)
            Path(f"{p}.wal").unlink(missing_ok=True)

    fl, ing = [], []
    for _ in range(runs):  # alternating, so both see the same load
        clear()
        fl.append(run([sys.executable, "-c", FLOOR_CODE, str(folder / "sales_pipeline.csv"),
                       str(floor_db)], cwd=WORK))
        clear()
        ing.append(run([crm_report(), "ingest", str(folder), "--source", "maven", "--store",
                        str(store)], cwd=WORK))
    clear()
    w, f = _median(ing, "wall"), _median(fl, "wall")
    return {"rows": meta["rows"], "mb": meta["bytes"] / 1e6, "ingest_s": w, "floor_s": f,
            "ratio": w / f, "rows_per_s": meta["rows"] / w,
            "peak_mib": _median(ing, "peak_mib"), "floor_peak_mib": _median(fl, "peak_mib")}


METRICS_FLOOR = r"""
import sys, duckdb
from benchmarks.floor_sql import FLOOR_SQL
from datetime import datetime
y, m = map(int, sys.argv[2].split("-"))
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(FLOOR_SQL, {"region": "EMEA", "start": datetime(y, m, 1),
                               "end": datetime(y + (m == 12), m % 12 + 1, 1)}).fetchall()
print("\n".join(",".join(map(str, r)) for r in rows))
"""


def metrics_row(label: str, runs: int) -> dict | None:
    path = DATA / f"demo-s{SCALES[label]:g}.duckdb"
    if not path.exists():
        if label == "10M":
            return None
        run([sys.executable, "-m", "benchmarks.engine_bench", "store", label], cwd=ROOT)
    count = run([sys.executable, "-c", "import sys, duckdb; print(duckdb.connect(sys.argv[1], "
                 "read_only=True).execute('SELECT COUNT(*) FROM opportunities').fetchone()[0])",
                 str(path)]).out.strip()
    fl, m = [], []
    for i in range(runs + 1):  # the first pair warms the file cache
        a = run([sys.executable, "-c", METRICS_FLOOR, str(path), PERIOD], cwd=ROOT)
        b = run([crm_report(), "metrics", "--period", PERIOD, "--region", "EMEA", "--by", "rep",
                 "--format", "csv", "--store", str(path)], cwd=WORK)
        if i:
            fl.append(a)
            m.append(b)
    w, f = _median(m, "wall"), _median(fl, "wall")
    return {"store_opportunities": int(count), "metrics_s": w, "metrics_floor_s": f,
            "metrics_ratio": w / f, "metrics_cpu_s": _median(m, "cpu"),
            "metrics_floor_cpu_s": _median(fl, "cpu"), "metrics_peak_mib": _median(m, "peak_mib")}


#: the whole process tree of one report or batch is killed past this resident size (the
#: machine has 24 GiB; a 10M-store report must not take it down)
MEM_CAP_MIB = 16 * 1024


def report_rows(label: str) -> dict:
    """One ``run --region EMEA`` and one batch of every region with 2 workers, each once
    on a fresh reports folder (a first run: the shared artifacts are computed), watched for
    memory (the kernel's peak, the tree's peak) and killed past :data:`MEM_CAP_MIB`. The
    batch is not run when the one report was killed or failed."""
    from .proc import fresh_dir

    path = DATA / f"demo-s{SCALES[label]:g}.duckdb"
    out: dict = {}
    for kind, region, workers in (("report", "EMEA", 1), ("batch", "all", 2)):
        folder = fresh_dir(WORK / f"growth-{kind}")
        r = run([crm_report(), "run", "--region", region, "--period", PERIOD, "--store",
                 str(path), "--reports", str(folder), "--workers", str(workers)], cwd=WORK,
                check=False, watch=True, mem_cap_mib=MEM_CAP_MIB, timeout=3 * 3600)
        n = len(list(folder.glob(f"{PERIOD}/*/manifest.json")))
        if r.rc != 0:  # the whole output, for the reason (results.md keeps its tail)
            log = WORK / f"growth-{label}-{kind}-failed.log"
            log.write_text(f"rc {r.rc}\n--- stdout\n{r.out}\n--- stderr\n{r.err}\n",
                           encoding="utf-8")
            print(f"growth {label} {kind}: output in {log}", file=sys.stderr, flush=True)
        out[kind] = {"wall_s": r.wall, "cpu_s": r.cpu, "kernel_mib": r.kernel_mib,
                     "tree_mib": r.tree_mib, "reports": n, "rc": r.rc,
                     "problem": r.killed or ("" if r.rc == 0 else
                                             f"exited with {r.rc}: {(r.err.strip() or r.out.strip())[-300:]}")}
        print(f"growth {label} {kind}: {r.wall:.1f} s, kernel {r.kernel_mib:.0f} MiB, tree "
              f"{r.tree_mib:.0f} MiB {out[kind]['problem']}", file=sys.stderr, flush=True)
        if kind == "report" and out[kind]["problem"]:
            out["batch"] = {"problem": f"not run: the one report {out[kind]['problem']}"}
            break
    return out


def main() -> None:
    sizes = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = 3
    out = []
    for label in sizes:
        row = {"size": label, **ingest_row(label, 1 if label in ("1M", "10M") else runs)}
        met = metrics_row(label, runs)
        if met:
            row.update(met)
            if "--no-reports" not in sys.argv:
                row.update(report_rows(label))
        out.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
