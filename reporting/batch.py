"""Batch runs: many reports in parallel, locally or on a dask.distributed cluster.

One failing report never stops the others: each job returns a :class:`JobResult` with its
status (``ok``, ``failed``, ``timeout``, ``skipped``), and a failed one points at the folder
holding its executed notebook and traceback. A kernel that dies is retried once. Work
shared by every report of a run (the deal-size band reference) is computed once and passed
to each notebook as an artifacts file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from .exceptions import ParamsError, ReportingError
from .models.reference import (
    REFERENCE_MONTHS,
    REFERENCE_VERSION,
    band_key,
    learn_reference,
    select_reference,
)
from .models.reference import band_drift as drift_of
from .params import load_settings, slug
from .paths import inside
from .periods import Period, parse_period
from .render import DEFAULT_RENDER_TIMEOUT, RenderTimeout
from .runner import DEFAULT_NOTEBOOK, output_dir_for, run_report, write_json_atomic

DUCKDB_THREADS_ENV = "CRM_DUCKDB_THREADS"  # reporting.store.THREADS_ENV (not imported here)
THREAD_LIMITS = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                  "NUMEXPR_NUM_THREADS")}


@dataclass(frozen=True)
class Job:
    """One report to produce. Plain values only, so it pickles to any worker."""

    region: str
    period: str
    team: str = "all"
    report: str = "monthly-regional"
    notebook: str = str(DEFAULT_NOTEBOOK)
    store: str | None = None
    reports_dir: str = "reports"
    params_dir: str | None = None
    artifacts: str | None = None
    timeout: int = 600
    language: str = "en"
    folder: str | None = None  # report folder when names collide (scope.Scopes.folder)
    manifest: dict = field(default_factory=dict, hash=False, compare=False)
    render_timeout: float | None = DEFAULT_RENDER_TIMEOUT  # seconds for HTML + PDF
    kind: str = "monthly"  # monthly | scorecard | rollup | trend (reporting.kinds)

    @property
    def label(self) -> str:
        base = self.region if self.team in ("", "all") else f"{self.region}/{self.team}"
        if base.lower() == "all":
            base = "all regions"
        if self.kind == "monthly":
            return base
        from .kinds import get

        return get(self.kind).folder if get(self.kind).company_wide else \
            f"{base} ({self.kind})"

    def output_dir(self) -> Path:
        return output_dir_for(Path(self.reports_dir), parse_period(self.period).label,
                              self.region, self.team, self.folder, self.kind)


@dataclass
class JobResult:
    """What happened to one job."""

    label: str
    period: str
    status: str  # ok | failed | timeout | skipped
    seconds: float = 0.0
    pages: int = 0
    output: str = ""
    error: str = ""
    failure_dir: str = ""
    attempts: int = 1
    headline: dict = field(default_factory=dict)


def _is_dead_kernel(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if type(seen).__name__ == "DeadKernelError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_timeout(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, RenderTimeout) or \
                type(seen).__name__ in ("CellTimeoutError", "TimeoutError"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def run_job(job: Job) -> JobResult:
    """Run one job; never raises for a report's own failure. Retries once when the kernel
    died (out of memory, killed), not for errors in the notebook."""
    os.environ.update(THREAD_LIMITS)
    started = time.perf_counter()
    attempts = 0
    while True:
        attempts += 1
        try:
            res = run_report(job.region, job.period, job.team, job.store, job.reports_dir,
                             job.params_dir, job.notebook, job.timeout, job.artifacts,
                             job.manifest, job.language, job.folder,
                             render_timeout=job.render_timeout, kind=job.kind)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status
            if _is_dead_kernel(exc) and attempts < 2:
                continue
            status = "timeout" if _is_timeout(exc) else "failed"
            return JobResult(job.label, job.period, status, time.perf_counter() - started,
                             error=str(exc)[:2000],
                             failure_dir=str(getattr(exc, "failure_dir", "") or ""),
                             attempts=attempts)
        head = {k: v.get("value") for k, v in res.metrics.get("headline", {}).items()}
        return JobResult(job.label, job.period, "ok", time.perf_counter() - started,
                         res.pages, str(res.output_dir), attempts=attempts, headline=head)


# --------------------------------------------------------------------------- shared work


def _won_deals(con, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return con.execute(
        "SELECT team, amount, status, closed_at FROM opportunities WHERE status = 'won' "
        "AND closed_at >= ? AND closed_at < ?",
        [start.to_pydatetime(), end.to_pydatetime()]).df()


def store_identity(store: str | Path | None) -> tuple[str, str]:
    """``(resolved path, stable id)`` of a store: the id is derived from its first ingest
    batch (kept in ``ingest_log``; a store rebuilt from scratch gets a new one), or, for a
    store without an ingest log, from its earliest opportunities."""
    from . import store as _store

    path = Path(store) if store else _store.default_store_path()
    with _store.connect(path, read_only=True) as con:
        return _identity(con, path)


def _identity(con, path: Path) -> tuple[str, str]:
    """:func:`store_identity` on an open connection to the store at ``path``."""
    first = con.execute("SELECT batch_id, MIN(ingested_at) AS t FROM ingest_log "
                        "GROUP BY batch_id ORDER BY t, batch_id LIMIT 1").fetchall()
    if not first:
        first = con.execute("SELECT opportunity_id, created_at FROM opportunities "
                            "ORDER BY created_at, opportunity_id LIMIT 100").fetchall()
    digest = hashlib.sha256(json.dumps(first, default=str).encode()).hexdigest()[:16]
    return str(path.resolve()), digest


def _read_references(path: Path) -> list[dict]:
    """The references kept in ``path`` (a file of the earlier single-reference format, which
    recorded neither store nor profile set, is not reused)."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{path} is not a deal-size band reference file ({exc}); delete it "
                          "and the next run learns the references again") from None
    if not isinstance(data, dict) or data.get("version") != REFERENCE_VERSION:
        return []
    return list(data.get("references", []))


def band_reference(store: str | Path | None, period: Period, params_dir: str | Path | None,
                   path: Path, refresh: bool = False) -> dict:
    """The deal-size band reference for ``period`` (see :mod:`reporting.models.reference`):
    the newest reference kept in ``path`` for this store and profile set whose window of
    won deals ended by the period end; when there is none (or with ``refresh``) one is
    learned on the 12 months before the period end and added to ``path``. A deal keeps its
    band from one month's report to the next, and no report uses edges learned on deals
    after its period."""
    from . import store as _store
    from .metrics.ratings import team_profiles
    from .metrics.suite import learn_band_edges

    settings = load_settings(params_dir)
    key = band_key(*store_identity(store), settings.profiles)
    refs = _read_references(path)
    ref = None if refresh else select_reference(refs, key, period)
    if ref is not None:
        return ref
    with _store.connect(store, read_only=True) as con:
        won = _won_deals(con, period.end - pd.DateOffset(months=REFERENCE_MONTHS), period.end)
    with threadpool_limits(limits=1):  # small fits; threads would fight the report workers
        ref = learn_reference(won, team_profiles(settings, won["team"]), period, key,
                              learn_band_edges)
    refs = [r for r in refs if not (r.get("key") == key and r["window_end"] == ref["window_end"])]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"version": REFERENCE_VERSION, "references": [*refs, ref]})
    return ref


def band_drift(store: str | Path | None, period: Period, params_dir: str | Path | None,
               ref: dict) -> dict[str, dict]:
    """PSI of the period's won deals across the reference bands, per profile, against a
    baseline that does not contain the period (see
    :func:`reporting.models.reference.band_drift`)."""
    from . import store as _store
    from .metrics.ratings import team_profiles

    settings = load_settings(params_dir)
    with _store.connect(store, read_only=True) as con:
        won = _won_deals(con, min(pd.Timestamp(ref["window_start"]),
                                  period.start - pd.DateOffset(months=REFERENCE_MONTHS)),
                         period.end)
    return drift_of(ref, won, team_profiles(settings, won["team"]), period)


ARTIFACTS_VERSION = 1  # bump when the artifacts' content or layout changes
_LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "duckdb", "pyarrow")


@dataclass(frozen=True)
class Artifacts:
    """A period's shared artifacts: the file, its fingerprint, whether this call reused the
    file already there (``reused``) or computed it, and the seconds the step took."""

    path: Path
    fingerprint: str
    reused: bool
    seconds: float

    @property
    def status(self) -> str:
        return "reused" if self.reused else "computed"


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out


def _inputs_digest(con, period: Period) -> list:
    """Order-free content hash of exactly the rows the artifacts read: revenue before the
    period end and won deals closed before it (an edit in place that keeps the row counts
    still changes it)."""
    end = period.end.to_pydatetime()
    return [list(con.execute(
        "SELECT COUNT(*), SUM(hash(account_id, date, amount)::HUGEINT)::VARCHAR FROM revenue "
        "WHERE date < ?", [end]).fetchone()),
        list(con.execute(
            "SELECT COUNT(*), SUM(hash(team, amount, closed_at)::HUGEINT)::VARCHAR "
            "FROM opportunities WHERE status = 'won' AND closed_at < ?", [end]).fetchone())]


def _fingerprint_base(store: str | Path | None, period: Period,
                      params_dir: str | Path | None, settings) -> tuple[dict, tuple[str, str]]:
    """Everything the artifacts depend on except the band reference: the store (identity,
    data fingerprint, content of the rows read), the period, the validated settings, the
    code and the numeric libraries' versions; and the store's identity. One connection."""
    from . import store as _store
    from .schedule import code_version, data_fingerprint

    path = Path(store) if store else _store.default_store_path()
    with _store.connect(path, read_only=True) as con:
        identity = _identity(con, path)
        data_fp, inputs = data_fingerprint(con), _inputs_digest(con, period)
    return {"version": ARTIFACTS_VERSION, "store": list(identity), "data": data_fp,
            "inputs": inputs,
            "period": [period.kind, period.start.isoformat(), period.end.isoformat()],
            "settings": settings.model_dump(mode="json"), "code": code_version(params_dir),
            "libraries": _library_versions()}, identity


def _fingerprint(base: dict, ref: dict, ref_path: Path) -> str:
    """The artifacts' fingerprint: ``base`` plus the band reference they use (where it is
    kept and its content, so a refreshed reference makes new artifacts)."""
    band = hashlib.sha256(json.dumps(ref, sort_keys=True, default=str).encode()).hexdigest()
    blob = json.dumps({**base, "band_reference": [str(ref_path), band]}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reusable(target: Path, fingerprint: str) -> bool:
    """Whether ``target`` holds finished artifacts of ``fingerprint``: readable JSON with
    that fingerprint and the expected keys, and the CLV file it names present with the
    recorded hash. Anything else (missing, truncated, another fingerprint) is False."""
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint or \
            not all(k in data for k in ("band_edges", "band_reference", "band_drift")):
        return False
    if "backtest_file" in data:  # the backtest finished too, for the same artifacts
        try:
            bt = json.loads(backtest_path(target).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return False
        if not isinstance(bt, dict) or bt.get("fingerprint") != fingerprint \
                or data["backtest_file"] != backtest_path(target).name:
            return False
    clv = data.get("clv")
    if isinstance(clv, dict) and clv.get("file"):
        name = str(clv["file"])
        if Path(name).name != name:
            return False
        try:
            return _sha256(target.with_name(name)) == data.get("clv_sha256")
        except OSError:
            return False
    return True


def shared_artifacts(store: str | Path | None, period: Period, params_dir: str | Path | None,
                     target: Path, refresh_bands: bool = False,
                     reference: Path | None = None) -> Artifacts:
    """The period's shared artifacts (see :func:`build_artifacts`), reused when ``target``
    already holds them for the same fingerprint: the store (identity, data fingerprint and
    the content of the rows read), the period, the validated settings, the code version,
    the numeric libraries and the band reference the period would use. Without a match (or
    with ``refresh_bands``, or a missing, unreadable or partial file) they are computed
    again. The figures are the same either way: reuse only skips the work."""
    started = time.perf_counter()
    art = start_shared_artifacts(store, period, params_dir, target, refresh_bands, reference,
                                 background=False)
    return art.wait() if isinstance(art, PendingArtifacts) else \
        replace(art, seconds=time.perf_counter() - started)


class PendingArtifacts:
    """Artifacts being computed in a thread of this process (see
    :func:`start_shared_artifacts`): ``path`` is known at once, the file (with its
    fingerprint) appears atomically when ``work`` is done; readers wait with
    :func:`reporting.handoff.wait_ready`. :meth:`wait` joins the work and returns the
    :class:`Artifacts`, raising what the work raised."""

    fingerprint = None  # known once the work is done (it includes the band reference)
    reused = False

    def __init__(self, path: Path, work: Callable[[], str], started: float,
                 background: bool) -> None:
        self.path, self.started = path, started
        self._work, self._error, self._seconds = work, None, 0.0
        self._thread = None
        if background:
            from .handoff import start_producer

            self._thread = start_producer(self._run, "shared-artifacts")
        else:
            self._run()

    def _run(self) -> None:
        from . import handoff

        bt = backtest_path(self.path)
        try:
            self.fingerprint = self._work()
        except BaseException as exc:  # noqa: BLE001 - told to readers and to wait()
            self._error = exc
            message = f"{type(exc).__name__}: {exc}"
            if handoff.pending_path(self.path).exists():  # else it was written already
                handoff.mark_failed(self.path, message)
            handoff.mark_failed(bt, message)
        else:
            handoff.mark_done(self.path)
            handoff.mark_done(bt)
        finally:
            self._seconds = time.perf_counter() - self.started

    def wait(self) -> Artifacts:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return Artifacts(self.path, self.fingerprint, False, self._seconds)


def start_shared_artifacts(store: str | Path | None, period: Period,
                           params_dir: str | Path | None, target: Path,
                           refresh_bands: bool = False, reference: Path | None = None,
                           background: bool = True) -> Artifacts | PendingArtifacts:
    """:func:`shared_artifacts` that returns before the slow part: reused artifacts come
    back as :class:`Artifacts`; otherwise ``target`` is marked pending
    (:mod:`reporting.handoff`: a stale file there is removed first, so no reader takes it
    for the new one) and the band reference, the drift, the CLV choice and the forecast
    backtest run in a thread (``background``) while the caller starts the reports; the
    fingerprint is known when they are done (in the file, and from
    :meth:`PendingArtifacts.wait`). The caller must wait before it returns."""
    from . import handoff

    started = time.perf_counter()
    settings = load_settings(params_dir)
    ref_path = reference or target.with_name("bands-reference.json")
    base, identity = _fingerprint_base(store, period, params_dir, settings)
    if not refresh_bands:
        try:
            ref = select_reference(_read_references(ref_path),
                                   band_key(*identity, settings.profiles), period)
        except ParamsError:  # a damaged reference file: the build says so
            ref = None
        if ref is not None:
            fp = _fingerprint(base, ref, ref_path)
            if _reusable(target, fp):
                handoff.failed_path(target).unlink(missing_ok=True)
                handoff.failed_path(backtest_path(target)).unlink(missing_ok=True)
                return Artifacts(target, fp, True, time.perf_counter() - started)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)  # not reusable: never read as the new one
    backtest_path(target).unlink(missing_ok=True)
    handoff.mark_pending(target)
    handoff.mark_pending(backtest_path(target))

    def work() -> str:
        ref = band_reference(store, period, params_dir, ref_path, refresh=refresh_bands)
        fp = _fingerprint(base, ref, ref_path)
        _compute_artifacts(store, period, params_dir, target, ref, ref_path, settings, fp)
        return fp

    return PendingArtifacts(target, work, started, background)


def build_artifacts(store: str | Path | None, period: Period, params_dir: str | Path | None,
                    target: Path, refresh_bands: bool = False,
                    reference: Path | None = None) -> Path:
    """Compute the run's shared work once and save it beside ``target``:

    - the deal-size band reference (see :func:`band_reference`; ``reference`` is where the
      references are kept between runs, ``<reports>/_reference/bands.json`` for the CLI) and
      the drift (PSI) of this period;
    - the CLV model chosen by backtest on the whole company's revenue, with each account's
      predicted lifetime value (``clv.parquet``), discounted as ``params/report.yaml`` says.

    Artifacts already in ``target`` for the same inputs are reused (:func:`shared_artifacts`,
    which also says whether they were).
    """
    return shared_artifacts(store, period, params_dir, target, refresh_bands, reference).path


def _compute_artifacts(store: str | Path | None, period: Period,
                       params_dir: str | Path | None, target: Path, ref: dict,
                       ref_path: Path, settings, fp: str) -> None:
    """Compute and write the artifacts of fingerprint ``fp`` with the band reference
    ``ref`` (``clv.parquet`` first, then ``target``, each by an atomic rename, so the JSON
    naming the parquet is only visible once it is in place)."""
    from . import store as _store
    from .models.reference import clv_reference

    with _store.connect(store, read_only=True) as con:
        revenue = con.execute("SELECT account_id, date, amount FROM revenue WHERE date < ? "
                              "ORDER BY revenue_id",  # the same fit on every run
                              [period.end.to_pydatetime()]).df()
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"period": period.label, "fingerprint": fp, "band_edges": ref["edges"],
               "band_notes": ref.get("notes", {}),
               "band_reference": {"learned_on": ref["learned_on"], "window": ref["window"],
                                  "window_start": ref["window_start"],
                                  "window_end": ref["window_end"],
                                  "store_id": ref["key"]["store_id"],
                                  "store_path": ref["key"]["store_path"],
                                  "profiles": ref["key"]["profile_names"],
                                  "file": str(ref_path)},
               "band_drift": band_drift(store, period, params_dir, ref)}
    if len(revenue):
        pred, summary = clv_reference(revenue, period.end,
                                      horizon_months=settings.clv.horizon_months,
                                      discount_rate=settings.clv.discount_rate)
        if pred is not None:
            # Parquet, not CSV: account ids from the CRM round-trip exactly, and no
            # spreadsheet reads a hostile id as a formula
            clv_file = target.with_name("clv.parquet")
            tmp = clv_file.with_name(f".clv.parquet.{os.getpid()}.tmp")
            pred.rename_axis("account_id").reset_index().to_parquet(tmp, index=False)
            payload["clv_sha256"] = _sha256(tmp)
            os.replace(tmp, clv_file)
            summary["file"] = clv_file.name
        payload["clv"] = summary
    # the forecast backtest (the slowest part) in a file of its own, after the rest: the
    # kernels compute their figures with the bands and the CLV model while it runs, and
    # read it only for the forecast's method (reporting.context.read_artifacts)
    bt_path = backtest_path(target)
    payload["backtest_file"] = bt_path.name
    write_json_atomic(target, payload)
    from .handoff import mark_done

    mark_done(target)
    write_json_atomic(bt_path, {"fingerprint": fp,
                                "backtest": forecast_backtest(store, period)})


def backtest_path(target: Path) -> Path:
    """The file of the forecast backtest beside the artifacts file ``target``."""
    return target.with_name(f"{target.stem}.backtest.json")


def forecast_backtest(store: str | Path | None, period: Period) -> dict | None:
    """The rolling-origin backtest of the forecast methods on the whole store, for the
    horizon the reports forecast (the period after ``period``), as JSON-ready records: the
    table, the chosen method, the calibration summary and its reliability table. None when
    the store has too little history to backtest (the reports then say so)."""
    from . import forecast as _forecast
    from .exceptions import ReportingError

    nxt = period.next()
    horizon = int((nxt.end - nxt.start).days)
    from .store import connect

    try:
        with connect(store, read_only=True) as con:
            end = _forecast.data_end(con)
            first = con.execute("SELECT MIN(created_at) FROM opportunities").fetchall()[0][0]
        if end is None or first is None:
            return None
        # origins whose outcomes were known by the period end: a past period's report
        # chooses its method on what was known then
        origins = _forecast.default_origins(min(end, period.end), pd.Timestamp(first),
                                            horizon)
        if not origins:
            return None
        bt = _forecast.backtest(store, origins=origins, horizon_days=horizon)
    except ReportingError:
        return None
    if bt.table.empty:
        return None
    table = json.loads(bt.table.to_json(orient="records"))
    cal = {k: v for k, v in bt.calibration.items() if k != "reliability"}
    rel = bt.calibration.get("reliability")
    return {"chosen": bt.chosen, "horizon_days": horizon, "table": table,
            "origins": [pd.Timestamp(o).date().isoformat() for o in origins],
            "calibration": json.loads(json.dumps(cal, default=str)),
            "reliability": (json.loads(rel.to_json(orient="records"))
                            if isinstance(rel, pd.DataFrame) else rel),
            "notes": list(bt.notes)}


# --------------------------------------------------------------------------- executors


def _init_worker(parent_pid: int | None = None) -> None:  # pragma: no cover - in workers
    """Pool worker set-up: one BLAS thread and one DuckDB thread (the pool runs a report
    per core), and die with the parent process (a
    parent-death signal on Linux plus a watchdog thread on the parent pid), taking the
    worker's kernel and render child along; the report being written stays in its
    dot-folder, which the next ``run-due`` removes."""
    os.environ.update(THREAD_LIMITS)
    os.environ.setdefault(DUCKDB_THREADS_ENV, "1")  # inherited by the worker's kernels
    if parent_pid is not None:
        from .lifeline import die_with_parent

        die_with_parent(parent_pid)


def run_local(jobs: list[Job], workers: int,
              on_done: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run jobs on a pool of ``workers`` processes (inline when 1)."""
    results: list[JobResult] = []
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            r = run_job(job)
            results.append(r)
            if on_done:
                on_done(r)
        return results
    ctx = get_context("spawn")  # a clean interpreter per worker: no inherited threads / locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_job, j): j for j in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # a worker process died: report it, keep going
                r = JobResult(job.label, job.period, "failed", error=f"worker died: {exc}")
            results.append(r)
            if on_done:
                on_done(r)
    return results


def run_dask(jobs: list[Job], scheduler, on_done: Callable[[JobResult], None] | None = None
             ) -> list[JobResult]:
    """Send jobs to a dask.distributed cluster (``tcp://HOST:8786`` or a Client).

    Workers need the project installed and the store, params and reports folder at the
    same paths (a shared file system); they write the report folders there.
    """
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise ParamsError(
            "the dask executor needs the optional extra: pip install 'crm-reporting[distributed]'"
        ) from None
    own = isinstance(scheduler, str)
    try:
        client = Client(scheduler, timeout="20s") if own else scheduler
    except OSError as exc:
        raise ParamsError(f"cannot reach the dask scheduler {scheduler}: {exc}") from None
    results: list[JobResult] = []
    try:
        futures = client.map(run_job, jobs, pure=False,
                             key=[f"report-{slug(j.label)}-{j.period}-{i}"
                                  for i, j in enumerate(jobs)])
        index = {f.key: j for f, j in zip(futures, jobs, strict=True)}
        for fut in dask_completed(futures):
            try:
                r = fut.result()
            except Exception as exc:  # the worker holding it died twice
                j = index[fut.key]
                r = JobResult(j.label, j.period, "failed", error=f"dask worker failed: {exc}")
            results.append(r)
            if on_done:
                on_done(r)
    finally:
        if own:
            client.close()
    return results


def run_batch(jobs: list[Job], workers: int = 1, executor: str = "local",
              scheduler=None, on_done: Callable[[JobResult], None] | None = None
              ) -> list[JobResult]:
    """Run jobs with the chosen executor; results in the order of ``jobs``."""
    if executor == "dask":
        if scheduler is None:
            raise ParamsError("--executor dask needs --scheduler tcp://HOST:8786")
        results = run_dask(jobs, scheduler, on_done)
    elif executor == "local":
        results = run_local(jobs, workers, on_done)
    else:
        raise ParamsError(f"unknown executor {executor!r}: use local or dask")
    order = {(j.label, j.period): i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order.get((r.label, r.period), 0))


def make_jobs(period: str, regions: Iterable[str], teams: Iterable[tuple[str, str]] = (),
              **common) -> list[Job]:
    """One job per region and per (region, team)."""
    jobs = [Job(region=r, period=period, **common) for r in regions]
    jobs += [Job(region=r, team=t, period=period, **common) for r, t in teams]
    return jobs


def results_json(results: list[JobResult]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2, default=str)


__all__ = ["Artifacts", "Job", "JobResult", "ReportingError", "build_artifacts", "make_jobs",
           "run_batch", "run_job", "shared_artifacts", "write_indexes"]


def write_indexes(reports_dir: str | Path, periods: Iterable[str],
                  params_dir: str | Path | None = None) -> list[Path]:
    """Rewrite ``reports/<period>/index.html`` for each period touched by a run."""
    from .naming import report_title
    from .render import write_index

    s = load_settings(params_dir)
    out = []
    for label in sorted(set(periods)):
        try:
            d = inside(reports_dir, label)
        except ParamsError:
            continue  # a period folder that leads outside reports/: never written through
        if d.is_dir():
            p = parse_period(label)
            out.append(write_index(d, s.company, report_title(s.title, p), p.title,
                                   s.branding.primary))
    return out


def reference_path(reports_dir: str | Path) -> Path:
    """Where runs keep the deal-size band reference between periods."""
    return inside(reports_dir, "_reference", "bands.json")
