"""Peak resident memory of one report's runner process and of its kernel (1M store).

The in-process timings this module used to hold (``bench_one_report``: floor and report
steps timed inside the harness; ``bench_batch``: ``run_batch`` called in-process;
``in_process_breakdown``: the notebook's work re-done outside the kernel) are superseded by
the whole-process figures of ``python -m benchmarks`` (one ``crm-report run`` against the
papermill floor, batches with 1 and 2 workers, the second run) and by the per-cell
profile in ``NOTES.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
run_report("EMEA", sys.argv[2], store=sys.argv[1], reports_dir=tempfile.mkdtemp())
stop.set()
print(json.dumps({"runner": hwm("self") / 1024, "kernel": peak["kernel"] / 1024}))
"""


def worker_peak_memory(store: Path, period: str = "2026-09", env: dict | None = None) -> dict[str, float]:
    """Peak resident memory (VmHWM, MiB) of the process running one report and of its
    kernel. (ru_maxrss would carry the forking parent's peak over exec on Linux.)"""
    out = subprocess.run([sys.executable, "-c", PEAK_CODE, str(store), period],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])
