"""Measuring whole processes: wall seconds, CPU seconds and peak resident memory.

Standard library only, so that the harness process stays small: on Linux a child's
``ru_maxrss`` starts from the forking parent's resident size, so a harness that had loaded
pandas would inflate every peak it measures.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent  # the venv the harness was started from


def crm_report() -> str:
    """The ``crm-report`` of the virtualenv the harness runs in."""
    exe = BIN / "crm-report"
    if not exe.exists():
        raise SystemExit(f"{exe} not found: install the project into {BIN.parent} "
                         "(pip install -e .) or start the benchmarks with its python")
    return str(exe)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: the checkout the benchmarks live in comes
    first on ``PYTHONPATH`` (so a worktree measures its own code), nothing else changes."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.update(extra)
    return env


@dataclass
class Run:
    wall: float  # seconds, time.perf_counter around the process
    cpu: float  # user + system seconds of the process and every descendant it waited for
    peak_mib: float  # largest resident set of any one process in the tree (ru_maxrss)
    rc: int
    out: str = ""
    err: str = ""
    # with ``run(..., watch=True)``, polled from /proc every 0.1 s (so a short peak between
    # two polls can be missed): the largest VmHWM of a notebook kernel (ipykernel) in the
    # tree, the largest sum of VmRSS over the whole tree, and whether the tree was killed
    # for passing ``mem_cap_mib``
    kernel_mib: float | None = None
    tree_mib: float | None = None
    killed: str = ""


def _tree(root: int) -> list[int]:
    """``root`` and every descendant alive now (from /proc/*/stat)."""
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def _status_kib(pid: int) -> tuple[int, int, bool]:
    """(VmHWM, VmRSS) in KiB of ``pid`` and whether it is a notebook kernel."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            st = {ln.split(":")[0]: ln.split()[1] for ln in fh if ln.startswith(("VmHWM", "VmRSS"))}
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            kernel = b"ipykernel" in fh.read()
        return int(st.get("VmHWM", 0)), int(st.get("VmRSS", 0)), kernel
    except (OSError, ValueError):
        return 0, 0, False


def run(cmd: list[str], cwd: str | Path | None = None, env: dict | None = None,
        check: bool = True, timeout: float = 3600, watch: bool = False,
        mem_cap_mib: float | None = None) -> Run:
    """Run ``cmd`` to completion; its rusage comes from ``wait4`` on that one child, so
    other processes on the machine (or earlier runs) never leak into the figure.
    ``watch``: also poll the process tree's memory (see :class:`Run`); ``mem_cap_mib``: kill
    every process of the tree when its resident memory passes this (a 10M-store report
    must not take the machine down; the run then counts as killed, not failed)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env or child_env(), stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        deadline = t + timeout
        kernel = tree = 0
        killed = ""
        next_poll = t
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            if (watch or mem_cap_mib) and now >= next_poll:
                next_poll = now + 0.1
                total = 0
                for q in _tree(p.pid):
                    hwm, rss, is_kernel = _status_kib(q)
                    total += rss
                    if is_kernel:
                        kernel = max(kernel, hwm)
                tree = max(tree, total)
                if mem_cap_mib and total / 1024 > mem_cap_mib:
                    killed = (f"killed after {now - t:.0f} s: the process tree passed "
                              f"{mem_cap_mib:.0f} MiB resident")
                    for q in _tree(p.pid):  # kernels may run in sessions of their own
                        try:
                            os.kill(q, 9)
                        except OSError:
                            pass
            time.sleep(0.005)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        r = Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, p.returncode,
                out.read(), err.read(),
                kernel / 1024 if watch else None, tree / 1024 if watch else None, killed)
    if killed:
        return r
    if check and r.rc != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))[:300]} exited with {r.rc}:\n"
                           f"{r.err[-3000:]}\n{r.out[-2000:]}")
    return r


@dataclass
class Series:
    """Repeated runs of one command after a warm-up; figures are medians."""
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return statistics.median(r.peak_mib for r in self.runs)

    @property
    def spread(self) -> str:
        w = sorted(r.wall for r in self.runs)
        return f"{w[0]:.2f}-{w[-1]:.2f}"


def repeat(make_cmd, runs: int, warmup: int = 1, before=None, **kw) -> Series:
    """``make_cmd(i)`` gives the command of run ``i`` (negative for warm-ups); ``before(i)``
    (not timed) prepares it, e.g. removes the previous run's output."""
    s = Series()
    for i in range(-warmup, runs):
        if before:
            before(i)
        r = run(make_cmd(i), **kw)
        if i >= 0:
            s.runs.append(r)
    return s


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python, key package versions and the load average now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                  if x.startswith("MemTotal"))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    code = ("import importlib.metadata as m\n"
            "for p in ('duckdb','pandas','numpy','matplotlib','seaborn','scikit-learn','scipy',"
            "'papermill','nbclient','nbconvert','ipykernel','weasyprint','pandera','pyarrow'):\n"
            "    try: print(p, m.version(p))\n"
            "    except m.PackageNotFoundError: print(p, '-')\n")
    pk = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    versions = ", ".join(" ".join(x.split()) for x in pk.splitlines())
    la = os.getloadavg()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
            "os": f"{platform.system()} {platform.release()}",
            "python": f"{platform.python_version()} ({sys.executable})",
            "packages": versions,
            "load": f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (1, 5, 15 min)"}


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
