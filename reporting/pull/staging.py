"""A pull's staging folder: every fetched page, raw, so a pull killed midway resumes.

``<store folder>/pulls/<crm>/<pull id>/`` holds ``pull.json`` (when it started, the cursors
it asks from, full or not: never a credential), ``pages/<stream>.<n>.json`` (one response
body each, with the request that fetched it and the next request, or null when the stream
is complete) and ``tables/<table>.parquet`` (the flattened rows handed to ingest). Folders
are created 0700 and files 0600; a symbolic link anywhere under ``pulls/`` is refused;
nothing outside the store's folder is touched. The folder is removed once its pull is
committed to the store.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .http import PullError

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


def _safe_dir(path: Path) -> Path:
    """Create ``path`` (0700) unless it exists; refuse a symbolic link or a non-folder."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise PullError(f"{path} is a symbolic link or not a folder; a pull's staging folder "
                        "must be a plain folder beside the store: remove it")
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a 0600 temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Staging:
    """The staging folder of one pull (new, or an unfinished one resumed)."""

    def __init__(self, root: Path, meta: dict, resumed: bool) -> None:
        self.root = root
        self.meta = meta
        self.resumed = resumed
        self.pages_dir = _safe_dir(root / "pages")
        self.tables_dir = _safe_dir(root / "tables")
        self.fetched = 0  # pages fetched from the server by this run
        self.reused = 0  # pages read back from an interrupted run

    @property
    def pull_id(self) -> str:
        return self.meta["pull_id"]

    @staticmethod
    @contextmanager
    def lock(store_path: Path, crm: str) -> Iterator[None]:
        """One pull of a CRM into a store at a time (``pulls/<crm>/.lock``, released by the
        OS when the process dies)."""
        store_path.parent.mkdir(parents=True, exist_ok=True)
        base = _safe_dir(_safe_dir(store_path.parent / "pulls") / crm)
        fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PullError(f"another pull of {crm} into {store_path} is running "
                                f"({base / '.lock'}); wait for it to finish") from None
            yield
        finally:
            os.close(fd)

    @classmethod
    def open(cls, store_path: Path, crm: str, wanted: dict) -> Staging:
        """The unfinished pull of ``crm`` whose ``pull.json`` asks for the same thing
        (``wanted``: cursors, full, base URL), resumed; else a new one. Unfinished pulls
        that ask for something else (the store moved on) are removed."""
        store_path.parent.mkdir(parents=True, exist_ok=True)
        base = _safe_dir(_safe_dir(store_path.parent / "pulls") / crm)
        for d in sorted(base.iterdir()):
            if not _NAME.match(d.name) or d.name.startswith("."):
                continue
            st = os.lstat(d)
            if stat.S_ISLNK(st.st_mode):
                raise PullError(f"{d} is a symbolic link; remove it (a pull never follows one)")
            if not stat.S_ISDIR(st.st_mode):
                continue
            try:
                meta = json.loads((d / "pull.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = None
            if not isinstance(meta, dict) or meta.get("crm") != crm:
                continue  # not a pull folder: left alone
            if meta.get("wanted") == wanted:
                return cls(d, meta, True)
            remove(d, base)
        started = datetime.now(UTC).replace(tzinfo=None)
        pull_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        root = _safe_dir(base / pull_id)
        meta = {"pull_id": pull_id, "crm": crm, "started_at": started.isoformat(),
                "wanted": wanted}
        write_private(root / "pull.json", json.dumps(meta, indent=1).encode())
        return cls(root, meta, False)

    # ------------------------------------------------------------------ paged streams
    def stream(self, name: str, first: dict, fetch: Callable[[dict], object],
               next_of: Callable[[object], dict | None]) -> list:
        """Every page body of stream ``name``: the pages already staged, then the rest
        fetched from the last staged page's next request (``first`` when none), each
        staged before the next is asked for. ``fetch(request)`` returns a body;
        ``next_of(body)`` the next request, or None on the last page."""
        if not _NAME.match(name):
            raise ValueError(f"stream name {name!r}")
        bodies: list = []
        request: dict | None = first
        n = 0
        while True:
            p = self.pages_dir / f"{name}.{n + 1:05d}.json"
            if not p.exists():
                break
            page = json.loads(p.read_text(encoding="utf-8"))
            bodies.append(page["body"])
            request = page["next"]
            self.reused += 1
            n += 1
        while request is not None:
            body = fetch(request)
            nxt = next_of(body)
            n += 1
            write_private(self.pages_dir / f"{name}.{n:05d}.json", json.dumps(
                {"request": request, "next": nxt, "body": body}).encode())
            self.fetched += 1
            bodies.append(body)
            request = nxt
        return bodies

    def finish(self) -> None:
        """Remove the folder (its pull is in the store)."""
        remove(self.root, self.root.parent)


def remove(folder: Path, parent: Path) -> None:
    """Remove a pull folder: only a real folder directly inside ``parent``."""
    st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode) or folder.parent != parent:
        raise PullError(f"{folder}: not removing a symbolic link or a folder outside {parent}")
    shutil.rmtree(folder)
