"""A file one process is still writing while another waits to read it.

``crm-report run`` computes a period's shared artifacts (``artifacts.json``) while the
report kernels start and import their libraries; a kernel reads the file only once it needs
it. The producer marks the file as pending before it hands the path to anyone
(:func:`mark_pending`), writes the file by an atomic rename, and then clears the mark
(:func:`mark_done`), or, when it fails, leaves a failure note (:func:`mark_failed`). A
reader calls :func:`wait_ready`: it returns at once when nothing is pending, waits while the
producer is alive, and raises :class:`HandoffError` with a clear message when the producer
failed, died or took longer than the timeout. Standard library only (the kernels import it).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

#: seconds a reader waits for a pending file unless told otherwise (``CRM_ARTIFACTS_WAIT``)
DEFAULT_WAIT = 600.0
WAIT_ENV = "CRM_ARTIFACTS_WAIT"


_producers: set[threading.Thread] = set()
_producers_lock = threading.Lock()


def start_producer(work, name: str) -> threading.Thread:
    """Run ``work`` in a daemon thread that :func:`settle` knows of."""
    thread = threading.Thread(target=work, name=name, daemon=True)
    with _producers_lock:
        _producers.add(thread)
    thread.start()
    return thread


def settle() -> None:
    """Wait for this process's producer threads (:func:`start_producer`) to end: a fork
    (the render child) must not copy a thread stopped in the middle of a query or a
    fit. Costs nothing when they are done, as they are by the time a report that reads
    their file renders."""
    with _producers_lock:
        threads = [t for t in _producers if t is not threading.current_thread()]
    for t in threads:
        t.join()
    with _producers_lock:
        _producers.difference_update(t for t in threads if not t.is_alive())


class HandoffError(RuntimeError):
    """The file a reader waited for will not come: its producer failed, died or is late."""


def pending_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.pending")


def failed_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.failed")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def mark_pending(path: Path) -> None:
    """Say that ``path`` is being produced by this process (before anyone is told to read
    it). Clears an earlier failure note."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    failed_path(path).unlink(missing_ok=True)
    _write_atomic(pending_path(path), json.dumps(
        {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))


def mark_done(path: Path) -> None:
    """``path`` is in place (written by an atomic rename before this call)."""
    pending_path(Path(path)).unlink(missing_ok=True)


def mark_failed(path: Path, message: str) -> None:
    """The producer of ``path`` failed with ``message``: readers stop waiting and say so."""
    path = Path(path)
    _write_atomic(failed_path(path), message)
    pending_path(path).unlink(missing_ok=True)


def _alive(info: dict) -> bool:
    """Whether the producer named by a pending mark still runs (a producer on another host
    is taken as alive: only the timeout bounds it)."""
    if info.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(info["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, TypeError, ValueError):
        return True
    return True


def wait_ready(path: Path, timeout: float | None = None, poll: float = 0.05) -> Path:
    """Wait until ``path`` is no longer pending and return it. Raises :class:`HandoffError`
    when its producer failed (with the producer's message), ended without finishing, or
    did not finish within ``timeout`` seconds (default ``$CRM_ARTIFACTS_WAIT``, else
    :data:`DEFAULT_WAIT`). A path nobody marked pending is returned at once, whether it
    exists or not (the caller's read then says what is wrong)."""
    path = Path(path)
    if timeout is None:
        timeout = float(os.environ.get(WAIT_ENV) or DEFAULT_WAIT)
    deadline = time.monotonic() + timeout
    mark, failed = pending_path(path), failed_path(path)
    while True:
        try:
            info = json.loads(mark.read_text(encoding="utf-8"))
        except FileNotFoundError:
            info = None
        except (OSError, ValueError):  # being replaced right now: look again
            info = {}
        if info is None:
            break
        if info and not _alive(info):
            if not mark.exists():  # finished between the two looks
                break
            raise HandoffError(
                f"{path}: the run computing it (process {info.get('pid')}) ended without "
                "finishing it; run the report again")
        if time.monotonic() >= deadline:
            raise HandoffError(f"{path}: still being computed after {timeout:g} s "
                               f"(raise ${WAIT_ENV} if that is expected)")
        time.sleep(poll)
    try:
        message = failed.read_text(encoding="utf-8")
    except FileNotFoundError:
        return path
    raise HandoffError(f"{path}: computing it failed: {message.strip()}")
