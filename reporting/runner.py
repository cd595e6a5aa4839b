"""Run one report: execute the notebook with papermill, render HTML and PDF, write
``metrics.json``. Outputs are atomic: they are written to a temporary folder beside the
target and renamed into place only when complete.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import papermill as pm

from .exceptions import ParamsError, RenderError
from .i18n import LANGUAGES
from .lifeline import kernel_manager_class
from .naming import METRICS_MIME, kind_title
from .params import check_name, load_settings, params_folder, slug
from .paths import finalise_dir, inside, make_temp_dir, mark_ours, region_folder, team_folder
from .periods import check_not_future, parse_period
from .project import PROJECT_ENV
from .project import current as current_project

# = store.default_store_path, without importing the store (DuckDB and pandera are not
# needed by a batch worker, only by its kernels: ~0.5-1 CPU-s of each worker's start-up)
from .project import default_store as default_store_path
from .render import (
    DEFAULT_RENDER_TIMEOUT,
    html_to_pdf,
    notebook_to_html,
    prepare_render,
    render_report,
)
from .resources import notebooks_dir
from .workbook import WORKBOOK_MIME

NOTEBOOKS = notebooks_dir()  # the shipped notebooks (a project's own copies: project.notebook_path)
DEFAULT_NOTEBOOK = NOTEBOOKS / "monthly_sales_report.ipynb"

# One BLAS / OpenMP thread per kernel: parallel reports must not oversubscribe the cores.
_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
# The runner, not the library, chooses the non-interactive backend: reports embed their charts
# explicitly (report.show_chart), and an analyst's Jupyter keeps its inline charts.
_KERNEL_ENV = {"MPLBACKEND": "Agg"}


_ENGINE = "crm-report"  # papermill's nbclient engine with fewer saves (see _engine)


#: seconds a finished cell's output may take to arrive (nbclient's ``iopub_timeout``)
IOPUB_TIMEOUT = 120


@functools.cache
def _engine() -> str:
    """Register (once) and name papermill's nbclient engine saving the executed notebook
    when execution starts, when it ends (also after a cell timeout or a dead kernel: the
    failure folder keeps it) and every ``autosave_cell_every`` seconds within a long
    cell; papermill's own saves it before and after every cell too, and each save writes
    the whole notebook with its charts (~30 saves, ~0.4 s of a report's process)."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class FewerSaves(NotebookExecutionManager):
        _quiet = False

        def save(self, **kwargs):
            if not self._quiet:
                super().save(**kwargs)

        def _unsaved(self, step, *args, **kwargs):
            """Run papermill's ``step`` without the whole-notebook save it ends with."""
            self._quiet = True
            try:
                step(*args, **kwargs)
            finally:
                self._quiet = False

        def cell_start(self, cell, cell_index=None, **kwargs):
            self._unsaved(super().cell_start, cell, cell_index, **kwargs)

        def cell_complete(self, cell, cell_index=None, **kwargs):
            self._unsaved(super().cell_complete, cell, cell_index, **kwargs)

    class Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                             log_output=False, autosave_cell_every=30, **kwargs):
            # papermill's Engine.execute_notebook with the manager above
            nb_man = FewerSaves(nb, output_path=output_path, progress_bar=progress_bar,
                                log_output=log_output, autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(_ENGINE, Engine)
    return _ENGINE


def read_manifest(folder: Path) -> dict | None:
    """A report folder's ``manifest.json``; None when absent or unreadable."""
    try:
        return json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None


#: The parameters every report notebook declares in its ``parameters`` cell and the runner
#: passes (tests check each shipped report notebook against this list).
REPORT_PARAMETERS = ("region", "team", "period", "store", "params_dir", "artifacts", "language")


@dataclass
class ReportResult:
    """The outcome of one report run."""

    region: str
    team: str
    period: str
    output_dir: Path
    pages: int
    seconds: float
    metrics: dict
    timings: dict | None = None

    @property
    def pdf(self) -> Path:
        return self.output_dir / "report.pdf"

    @property
    def html(self) -> Path:
        return self.output_dir / "report.html"


def output_dir_for(reports_dir: Path, period: str, region: str, team: str = "all",
                   folder: str | None = None, kind: str = "monthly") -> Path:
    """Where a report of ``kind`` (:mod:`reporting.kinds`) goes, checked to stay inside
    ``reports_dir``: ``reports/<period>/<region>`` or, for a team,
    ``reports/<period>/<region>--<team>`` (the monthly report); the same under
    ``reports/<period>/scorecards/`` and ``reports/<period>/trend/`` for the scorecards and
    the trend; ``reports/<period>/rollup`` for the company roll-up.

    ``period`` is a period label (``2017-Q3``, ``2017-01-01..2017-06-30``): it names the
    folder as it is, so a report and its period's index share one folder. Team reports sit
    beside their region's report, never inside it, so replacing the region's folder never
    touches them (``--`` never occurs in a slug, so the two cannot collide); a region never
    takes a kind's folder name (:data:`reporting.kinds.RESERVED_FOLDERS`), so no kind's
    report replaces another's. ``folder`` is the folder from
    :func:`reporting.scope.Scopes.folder` when names collide."""
    from .kinds import get as get_kind

    k = get_kind(kind)
    label = parse_period(period).label  # validated: digits, '-', 'Q' and '..' only
    if k.company_wide:
        return inside(reports_dir, label, k.folder)
    if k.folder and region.lower() == "all" and (not team or team.lower() == "all"):
        from .kinds import COMPANY_FOLDER

        return inside(reports_dir, label, k.folder, COMPANY_FOLDER)
    if folder:
        if not _FOLDER.match(folder) or len(folder.encode("utf-8")) > 240:
            raise ParamsError(f"report folder {folder!r} is not a folder name")
    else:
        folder = team_folder(region_folder(region),
                             slug(team) if team and team.lower() != "all" else None)
    return inside(reports_dir, label, *([k.folder] if k.folder else []), folder)


_FOLDER = re.compile(r"^[\w-]{1,200}$", re.UNICODE)


def _kind_title(kind: str) -> str:
    from .kinds import get

    return get(kind).title


def _metrics_from(nb: nbformat.NotebookNode) -> dict:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                return dict(data[METRICS_MIME])
    raise RenderError("the notebook did not emit its metrics (call rp.emit_metrics(ctx) last)")


def _workbook_from(nb: nbformat.NotebookNode) -> dict | None:
    """The tables of report.xlsx the notebook emitted (``rp.emit_metrics``); None for a
    notebook that emits none."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WORKBOOK_MIME in data:
                return dict(data[WORKBOOK_MIME])
    return None


def write_report_workbook(nb: nbformat.NotebookNode, target: Path) -> bool:
    """Write the notebook's tables and deal lists to ``target`` (report.xlsx); False when
    the notebook emitted none."""
    from .workbook import sheets_from_payload, write_workbook

    payload = _workbook_from(nb)
    if payload is None:
        return False
    write_workbook(target, sheets_from_payload(payload), currency=payload.get("currency", ""),
                   language=payload.get("language", "en"),
                   contents=payload.get("contents") or "Contents",
                   contents_labels=tuple(payload.get("contents_labels")
                                         or ("Sheet", "What it holds")),
                   title=payload.get("title", ""))
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write JSON next to ``path`` and rename it into place (readers never see half)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                   encoding="utf-8")
    os.replace(tmp, path)


def _replace_dir(tmp: Path, target: Path) -> None:
    """Move a finished folder into place, replacing an older one."""
    finalise_dir(tmp)
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        mark_ours(old)  # if we die now, cleanup knows the old copy is ours to remove
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)


def failure_dir_for(target: Path) -> Path:
    """Where a failed run leaves its executed notebook and traceback."""
    return target.with_name(f"{target.name}.failed")


def _save_failure(tmp: Path, target: Path, exc: BaseException) -> Path:
    fail = failure_dir_for(target)
    keep = make_temp_dir(target.parent, f".{fail.name}.")
    if (tmp / "report.ipynb").exists():
        shutil.copy2(tmp / "report.ipynb", keep / "report.ipynb")
    (keep / "error.txt").write_text(
        "".join(traceback.format_exception(exc)), encoding="utf-8")
    _replace_dir(keep, fail)
    return fail


def run_report(
    region: str,
    period: str,
    team: str = "all",
    store: str | Path | None = None,
    reports_dir: str | Path = "reports",
    params_dir: str | Path | None = None,
    notebook: str | Path = DEFAULT_NOTEBOOK,
    timeout: int = 600,
    artifacts: str | Path | None = None,
    manifest: dict | None = None,
    language: str = "en",
    folder: str | None = None,
    render_timeout: float | None = DEFAULT_RENDER_TIMEOUT,
    kind: str = "monthly",
) -> ReportResult:
    """Execute the report notebook for one region / team / period and render it.

    Writes ``report.ipynb``, ``report.html``, ``report.pdf``, ``metrics.json``,
    ``report.xlsx`` (when the notebook emits its tables) and ``manifest.json`` (parameters, ``manifest`` extras, timings, output hashes) into
    ``reports/<period>/<region>/`` (``<region>--<team>/`` for a team report), atomically. When
    the notebook fails, its executed copy and the traceback go to ``<region>.failed/`` and
    a :class:`RenderError` names the failing cell. ``timeout`` bounds each cell (seconds).
    ``folder`` is the report folder when names collide (see
    :func:`reporting.paths.folder_names`).
    ``render_timeout`` bounds the HTML export and PDF layout together (seconds, in a child
    process killed at the deadline; a :class:`~reporting.render.RenderTimeout` names the
    step; ``None`` renders in-process without a bound). The kernel dies with this process.
    ``kind`` (:mod:`reporting.kinds`) chooses the folder and the title; the notebook is
    whatever ``notebook`` names.
    """
    started = time.perf_counter()
    if language not in LANGUAGES:
        raise ParamsError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    check_name("region", region)
    check_name("team", team)
    p = check_not_future(parse_period(period))
    settings = load_settings(params_dir)  # fail on bad params before a kernel starts
    store_path = str(Path(store).resolve()) if store else None
    target = output_dir_for(Path(reports_dir), p.label, region, team, folder, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(target.parent, f".{target.name}.")
    timings: dict[str, float] = {}
    parameters = dict(zip(REPORT_PARAMETERS, (
        region, team, p.label,
        store_path or str(default_store_path().resolve()),
        str(Path(params_folder(params_dir)).resolve()),
        str(Path(artifacts).resolve()) if artifacts else "",
        language), strict=True))
    try:
        proj = current_project()
        kernel_env = {**_THREAD_ENV, **_KERNEL_ENV}
        if proj is not None:  # the kernel uses the same project, whatever its folder
            kernel_env[PROJECT_ENV] = str(proj.root)
        env_backup = {k: os.environ.get(k) for k in kernel_env}
        os.environ.update(kernel_env)
        prepare_render()  # nbconvert + WeasyPrint warm up in a thread while the kernel works
        t = time.perf_counter()
        try:
            nb = pm.execute_notebook(
                str(notebook),
                str(tmp / "report.ipynb"),
                parameters=parameters,
                kernel_name="python3",
                engine_name=_engine(),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                # the output a cell sent before its reply may still be on its way: at 1M
                # opportunities the workbook's payload is ~24 MB of JSON, which took longer
                # than nbclient's default 4 s and failed the report with "Timeout waiting
                # for IOPub output" (a finished cell, not a hung one)
                iopub_timeout=min(timeout, IOPUB_TIMEOUT),
                # the project's folder (the kernel finds the same project), else here
                cwd=str(proj.root if proj else Path.cwd()),
                # the kernel's own start-up and shutdown chatter is not the user's concern;
                # cell errors still reach the notebook and PapermillExecutionError
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                # the kernel gets SIGKILL if this process dies (no orphans writing reports)
                kernel_manager_class=kernel_manager_class(),
            )
        except pm.PapermillExecutionError as exc:
            raise RenderError(
                f"{Path(notebook).name}: cell {exc.exec_count} failed with {exc.ename}: "
                f"{exc.evalue}"
            ) from exc
        finally:
            for k, v in env_backup.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        timings["execute"] = time.perf_counter() - t
        metrics = _metrics_from(nb)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False),
                                          encoding="utf-8")
        title = kind_title(kind, settings.title, p, metrics.get("region"), metrics.get("team"),
                           metrics.get("language", language), settings.calendar)
        book: dict[str, float] = {}

        def write_book() -> None:  # the tables, in report.xlsx
            t = time.perf_counter()
            if write_report_workbook(nb, tmp / "report.xlsx"):
                book["workbook"] = time.perf_counter() - t

        t = time.perf_counter()
        # bounded: a child process killed at the deadline; the module-level step functions
        # are passed so that the child runs what this module sees. report.xlsx is written
        # here meanwhile (it was written after the PDF: 10.8 s more at 1M opportunities)
        pages, steps = render_report(nb, title, settings.branding,
                                     metrics.get("language", language), tmp, render_timeout,
                                     to_html=notebook_to_html, to_pdf=html_to_pdf,
                                     beside=write_book)
        timings.update(steps)
        timings["render"] = time.perf_counter() - t  # both steps plus the child's cost
        timings.update(book)
        outputs = {f: _sha256(tmp / f) for f in
                   ("report.ipynb", "report.html", "report.pdf", "metrics.json",
                    "report.xlsx") if (tmp / f).exists()}
        extras = dict(manifest or {})
        if artifacts and "artifacts_fingerprint" in extras and \
                not extras["artifacts_fingerprint"]:
            # computed while this report started: their file says which they were
            extras["artifacts_fingerprint"] = json.loads(
                Path(artifacts).read_text(encoding="utf-8")).get("fingerprint")
        write_json_atomic(tmp / "manifest.json", {
            **extras,
            "status": "ok",
            "parameters": {k: v for k, v in parameters.items() if k != "params_dir"},
            "notebook": Path(notebook).name,
            "kind": kind,
            # the params' title (the other kinds': theirs): e-mail subjects reuse it
            "title": settings.title if kind == "monthly" else _kind_title(kind),
            "pages": pages,
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "outputs": outputs,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "deliveries": {},
        })
        _replace_dir(tmp, target)
        shutil.rmtree(failure_dir_for(target), ignore_errors=True)
    except Exception as exc:
        fail = _save_failure(tmp, target, exc)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, RenderError):
            exc.failure_dir = fail
            raise
        err = RenderError(f"{type(exc).__name__}: {exc}")
        err.failure_dir = fail
        raise err from exc
    except BaseException:  # Ctrl-C, SystemExit: leave nothing half-written
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(region, team, p.label, target, pages,
                        time.perf_counter() - started, metrics, timings)
