"""``crm-report`` with stopwatches: ``python -m benchmarks.timed_cli run ...``.

Runs the same entry point as ``crm-report`` (``reporting.cli:main``) after wrapping a few
library functions with timers, and writes what they took to the JSON file named by
``$CRM_BENCH_TIMINGS`` when the process exits. Nothing in ``reporting/`` changes: the
wrappers are installed on the modules before the CLI imports them, so both attribute
look-ups and ``from .batch import shared_artifacts`` inside the commands find them.

A step that the code no longer has (renamed, moved) is listed under ``missing`` rather than
failing the run, so the benchmark says what it could not see.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import sys
import time

T0 = time.perf_counter()

# module:function, in the order a `run` meets them
STEPS = [
    "reporting.scope:known_scopes",
    "reporting.scope:has_data",
    "reporting.batch:shared_artifacts",
    "reporting.batch:start_shared_artifacts",
    "reporting.batch:_compute_artifacts",
    "reporting.batch:band_reference",
    "reporting.batch:band_drift",
    "reporting.models.reference:clv_reference",
    "reporting.batch:forecast_backtest",
    "reporting.batch:run_batch",
    "reporting.runner:run_report",
    "reporting.batch:write_indexes",
]

timings: dict[str, dict[str, float]] = {}
missing: list[str] = []


def _wrap(spec: str) -> None:
    mod_name, attr = spec.split(":")
    try:
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, attr)
    except (ImportError, AttributeError):
        missing.append(spec)
        return

    @functools.wraps(fn)
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            end = time.perf_counter()
            rec = timings.setdefault(attr, {"seconds": 0.0, "calls": 0,
                                            "first_start": t - T0})
            rec["seconds"] += end - t
            rec["calls"] += 1
            rec["last_end"] = end - T0  # with first_start: when, in the process's life

    setattr(mod, attr, timed)


def _write() -> None:
    path = os.environ.get("CRM_BENCH_TIMINGS")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"imports": T_IMPORT, "total": time.perf_counter() - T0,
                   "steps": timings, "missing": missing}, fh, indent=2)


for _spec in STEPS:
    _wrap(_spec)
from reporting import cli  # noqa: E402 - after the wrappers, on purpose

T_IMPORT = time.perf_counter() - T0  # the CLI's own start-up: reporting + typer + rich, wrappers
atexit.register(_write)

if __name__ == "__main__":
    sys.argv[0] = "crm-report"
    cli.main()
