"""Before / after in the same minutes: ``python -m benchmarks.ab BEFORE_TREE AFTER_TREE STORE
[--runs N] [--only import,help,floor,run1,run2,batch1,batch2]``.

Runs the same whole processes with ``PYTHONPATH`` set to each checkout in turn,
interleaved (before, after, after, before, ...) so both see the same load on a shared
machine, and prints wall and CPU medians (CPU of the whole process tree, ``os.wait4``).
``run2`` is a second ``run`` of the period (its reports folder warmed once first: the
shared artifacts reused); ``run1`` and the batches start from a fresh reports folder."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .__main__ import floor_notebook
from .proc import run


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab")
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("store", type=Path)
    ap.add_argument("--period", default="2026-11")
    ap.add_argument("--region", default="EMEA")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="import,help,floor,run2")
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    work = Path(tempfile.mkdtemp(prefix="crm-ab-"))
    floor = floor_notebook(work)
    py = sys.executable

    def env(tree: str) -> dict:
        return {**os.environ, "PYTHONPATH": str(trees[tree]),
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"}

    def cmd(kind: str, tree: str) -> list[str]:
        run_cmd = [py, "-m", "reporting.cli", "run", "--period", args.period, "--store",
                   str(args.store), "--reports", str(work / f"{kind}-{tree}")]
        return {"floor": [py, "-m", "papermill", str(floor), str(work / f"out-{tree}.ipynb"),
                          "-k", "python3", "-p", "region", "EMEA", "--no-progress-bar"],
                "import": [py, "-c", "import reporting.cli"],
                "help": [py, "-m", "reporting.cli", "--help"],
                "run1": [*run_cmd, "--region", args.region],
                "run2": [*run_cmd, "--region", args.region],
                "batch1": [*run_cmd, "--region", "all", "--workers", "1"],
                "batch2": [*run_cmd, "--region", "all", "--workers", "2"]}[kind]

    res: dict[tuple[str, str], list] = {}
    for kind in args.only.split(","):
        if kind == "run2":
            for t in trees:
                run(cmd(kind, t), cwd=work, env=env(t))
        for i in range(args.runs):
            for t in (list(trees) if i % 2 == 0 else list(trees)[::-1]):
                if kind in ("run1", "batch1", "batch2"):
                    shutil.rmtree(work / f"{kind}-{t}", ignore_errors=True)
                r = run(cmd(kind, t), cwd=work, env=env(t))
                res.setdefault((kind, t), []).append((r.wall, r.cpu))
                print(f"{kind} {t}: {r.wall:.2f} s, {r.cpu:.2f} CPU-s, load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
    out = {f"{k} {t}": {"wall": statistics.median(w for w, _ in v),
                        "cpu": statistics.median(c for _, c in v), "runs": len(v)}
           for (k, t), v in res.items()}
    print(json.dumps(out, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
