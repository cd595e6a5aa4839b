"""Child processes that die with their parent.

A report runs in a chain of processes: the ``crm-report`` command, its pool workers, and
each worker's Jupyter kernel and render child. Killing the command (``kill -9`` of the
parent alone) must not leave the rest writing reports for minutes. Two mechanisms:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child: the kernel kills it the
  moment its parent dies (set right after start, then the parent pid is checked again in
  case the parent died in between);
- everywhere, a daemon thread that polls the parent pid (:func:`watch_parent`) and, when it
  is gone, kills the children this process registered (:func:`track_child`) and exits.

Both exit with ``SIGKILL`` / ``os._exit`` on purpose: nothing half-written is renamed into
place (a report is built in a dot-folder that the next ``run-due`` removes).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5

_children: set[int] = set()
_children_lock = threading.Lock()


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children
    """A forked child starts with no children of its own and a fresh lock (another thread
    may have held the parent's at the fork)."""
    global _children_lock
    _children_lock = threading.Lock()
    _children.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False elsewhere or
    when ``prctl`` is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def track_child(pid: int) -> None:
    """Register a child to kill if this process is orphaned (see :func:`watch_parent`)."""
    with _children_lock:
        _children.add(pid)


def untrack_child(pid: int) -> None:
    with _children_lock:
        _children.discard(pid)


def _kill_children_and_exit() -> None:  # pragma: no cover - ends the process
    with _children_lock:
        pids = list(_children)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os._exit(1)


def watch_parent(parent_pid: int, interval: float = POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process (and its tracked children) as soon as
    ``parent_pid`` is no longer its parent. The portable fallback for PR_SET_PDEATHSIG."""

    def run() -> None:  # pragma: no cover - runs in child processes
        while True:
            if os.getppid() != parent_pid:
                _kill_children_and_exit()
            time.sleep(interval)

    t = threading.Thread(target=run, name="crm-report-parent-watch", daemon=True)
    t.start()
    return t


def die_with_parent(parent_pid: int, watchdog: bool = True) -> None:
    """Make this process die when ``parent_pid`` (its parent) dies: the parent-death
    signal on Linux, plus the polling thread unless ``watchdog`` is False."""
    set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        _kill_children_and_exit()
    if watchdog:
        watch_parent(parent_pid)


def _preexec_die_with_parent() -> None:  # pragma: no cover - runs between fork and exec
    set_parent_death_signal()


@functools.cache
def kernel_manager_class():
    """A Jupyter kernel manager whose kernels get SIGKILL when the process that started
    them dies (Linux), and that registers each kernel for :func:`watch_parent`.

    ipykernel also polls its parent pid once a second; this makes the kernel's death
    immediate and independent of the kernel's own threads getting the GIL."""
    from jupyter_client.manager import AsyncKernelManager

    class LifelineKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if sys.platform.startswith("linux"):
                kw.setdefault("preexec_fn", _preexec_die_with_parent)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            pid = getattr(self.provisioner, "pid", None)
            if pid:
                track_child(pid)
                self._lifeline_pid = pid

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            pid = getattr(self, "_lifeline_pid", None)
            if pid:
                untrack_child(pid)
            await super()._async_cleanup_resources(restart=restart)

    return LifelineKernelManager
