"""Where reports go, and the rules that keep every write inside the reports folder.

- :func:`reports_root` checks ``--reports`` before anything runs (a file, an impossible or
  read-only path is a clear error) and returns its real path.
- :func:`inside` joins parts under the real reports folder and refuses a result that a
  symbolic link leads outside it; every file the tool writes under ``reports/`` goes
  through it, so nothing is written through a link that points elsewhere.
- :func:`folder_names` gives each region or team a distinct, stable folder even when two
  names differ only by case, punctuation or Unicode normalisation, and a bounded length.
- :func:`make_temp_dir` creates the hidden folder a report is assembled in, group-readable,
  with a marker naming its owner process; :func:`clean_abandoned` removes only such folders
  whose owner is gone, never through a symbolic link and never outside the reports folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from .exceptions import ParamsError

TMP_MARKER = ".crm-report-tmp"
OTHER_HOST_GRACE = 2 * 24 * 3600  # seconds before another host's temporary folder is stale
MAX_FOLDER = 80  # characters of a region or team folder name (file systems allow 255 bytes)


def reports_root(path: str | Path) -> Path:
    """The real path of the reports folder, created when missing.

    Raises
    ------
    ParamsError
        When ``path`` is a file, cannot be created, or is not writable.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise ParamsError(f"--reports {p} is a file, not a folder; give a folder for the reports")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParamsError(f"--reports {p}: cannot create the folder ({exc.strerror or exc}); "
                          "give a folder you can write to") from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise ParamsError(f"--reports {p}: the folder is not writable by this user")
    return p.resolve()


def inside(root: str | Path, *parts: str | Path) -> Path:
    """``root/parts...`` resolved, checked to stay inside the real ``root``.

    A part that is (or passes through) a symbolic link pointing outside ``root`` is refused,
    so a link planted in ``reports/`` cannot redirect a write to ``.git`` or a home folder.
    """
    base = Path(root).resolve()
    target = base.joinpath(*parts)
    real = target.resolve()
    if not real.is_relative_to(base):
        raise ParamsError(f"{target} leads outside the reports folder {base} (a symbolic link?); "
                          "refusing to write there")
    return real


def _slug(value: str) -> str:
    s = unicodedata.normalize("NFKC", value).strip().lower()
    s = re.sub(r"[^\w]+", "-", s, flags=re.UNICODE).strip("-_")
    return s or "unnamed"


def _digest(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def slug(value: str) -> str:
    """A file-system-safe folder name (``North America`` -> ``north-america``): never a path
    separator or ``..``, at most :data:`MAX_FOLDER` characters (longer names keep a prefix
    and a hash of the whole name)."""
    s = _slug(value)
    return _hashed(s, value) if len(s) > MAX_FOLDER else s


def _hashed(s: str, name: str) -> str:
    """``s`` cut to fit :data:`MAX_FOLDER` with a hash of the exact ``name``."""
    return f"{s[: MAX_FOLDER - 9].rstrip('-_')}-{_digest(name)}"


def _by_slug(names: Iterable[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for n in sorted(set(names)):
        groups[slug(n)].append(n)
    return groups


def folder_names(names: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """A distinct folder for every name.

    Names whose slugs are equal (``EMEA`` and ``emea``, ``North America`` and
    ``North-America``, ``Émea`` composed and decomposed) each get the slug plus a hash of
    the exact name; the others get the plain slug. A slug in ``reserved`` (the report
    kinds' folders, :data:`reporting.kinds.RESERVED_FOLDERS`, for regions) is hashed too.
    The result depends only on the set of names, so each folder is stable from one run to
    the next while that set is.
    """
    taken = set(reserved)
    out: dict[str, str] = {}
    for s, members in _by_slug(names).items():
        for n in members:
            out[n] = s if len(members) == 1 and s not in taken else _hashed(s, n)
    return out


def region_folder(region: str) -> str:
    """The folder of one region on its own (no other names known): its slug, hashed when
    it is a report kind's folder (``Trend`` -> ``trend-<hash>``)."""
    from .kinds import RESERVED_FOLDERS

    return folder_names([region], RESERVED_FOLDERS)[region]


def team_folder(region_folder: str, team_folder: str | None = None) -> str:
    """``<region>`` or ``<region>--<team>``: a team report's folder sits beside its region's
    (a slug never holds ``--``), bounded to 240 bytes with a hash of the whole."""
    if not team_folder:
        return region_folder
    name = f"{region_folder}--{team_folder}"
    if len(name.encode("utf-8")) > 240:
        keep = name.encode("utf-8")[:200].decode("utf-8", "ignore").rstrip("-_")
        name = f"{keep}-{_digest(name)}"
    return name


def collisions(names: Iterable[str]) -> list[list[str]]:
    """Groups of names that would share a folder without :func:`folder_names`."""
    return [g for g in _by_slug(names).values() if len(g) > 1]


# --------------------------------------------------------------------------- temp folders


def _start_time(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (clock ticks since boot), None when the
    process does not exist or the platform has no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    if pid <= 0:
        return False
    now = _start_time(pid)
    if now is not None:
        return started is None or now == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_readable(path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask | 0o750)


def mark_ours(folder: Path) -> None:
    """Write the marker that lets cleanup recognise ``folder`` as this tool's, owned by the
    current process."""
    pid = os.getpid()
    (folder / TMP_MARKER).write_text(json.dumps({
        "tool": "crm-report", "host": socket.gethostname(), "pid": pid,
        "start_time": _start_time(pid),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds")}), encoding="utf-8")


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A hidden, group-readable temporary folder in ``parent`` with the owner marker."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    _group_readable(tmp)
    mark_ours(tmp)
    return tmp


def finalise_dir(folder: Path) -> None:
    """Drop the marker and make the folder group-readable before it goes into place."""
    (folder / TMP_MARKER).unlink(missing_ok=True)
    _group_readable(folder)


def abandoned(folder: Path) -> bool:
    """True when ``folder`` is a hidden temporary folder made by this tool (marker present)
    whose owner process has exited."""
    if folder.is_symlink() or not folder.is_dir() or not folder.name.startswith("."):
        return False
    marker = folder / TMP_MARKER
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if info.get("tool") != "crm-report":
        return False
    if info.get("host") not in (None, socket.gethostname()):
        # a dask worker on another machine: its process cannot be checked from here, so
        # the folder counts as abandoned only once it is older than any report can take
        try:
            made = datetime.fromisoformat(info["created_at"])
        except (KeyError, TypeError, ValueError):
            return False
        return (datetime.now(UTC) - made).total_seconds() > OTHER_HOST_GRACE
    return not _alive(pid, info.get("start_time"))


def clean_abandoned(root: Path, depth: int = 3) -> list[str]:
    """Remove the abandoned temporary folders under the real ``root`` (period, region and
    team levels), without following symbolic links. Returns the removed paths."""
    base = Path(root).resolve()
    removed: list[str] = []

    def walk(d: Path, level: int) -> None:
        try:
            entries = list(os.scandir(d))
        except OSError:
            return
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            p = Path(e.path)
            if e.name.startswith("."):
                if abandoned(p) and p.resolve().is_relative_to(base):
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(str(p))
            elif level < depth:
                walk(p, level + 1)

    walk(base, 1)
    return removed
