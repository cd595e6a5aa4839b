"""``crm-report run-due``: produce (and deliver) every scheduled report that is due, once.

Safe to run every hour from cron: a lock file keeps two runs apart; a report whose
manifest records the same inputs fingerprint is not regenerated; folders left by an
interrupted run are removed and the report is produced again; a failed e-mail is retried
on the next run without regenerating the report, and a sent one is never sent again.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from . import store as _store
from .batch import JobResult
from .exceptions import ParamsError, ReportingError
from .params import load_settings
from .paths import clean_abandoned
from .runner import read_manifest, write_json_atomic
from .runs import Executor, ReportSpec, RunRequest, execute, validate
from .schedule import Schedule, due_periods, load_schedule


@dataclass
class DueRun:
    """The outcome of one ``run-due``."""

    results: list[JobResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    locked: bool = False
    #: one per CRM the schedule names (``pull:``), pulled before the reports:
    #: ``{"crm", "ok", "loaded", "pull_id", "error"}``
    pulls: list[dict] = field(default_factory=list)


@contextmanager
def run_lock(reports_dir: Path):
    """An exclusive, non-blocking lock on ``reports/.run-due.lock``; yields False when
    another run holds it (the OS releases it when that process dies)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    try:  # O_NOFOLLOW: a lock file planted as a symbolic link is not followed
        fd = os.open(reports_dir / ".run-due.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o664)
    except OSError as exc:
        raise ParamsError(f"{reports_dir / '.run-due.lock'}: cannot open the lock file "
                          f"({exc.strerror}); remove it if it is a symbolic link") from None
    fh = os.fdopen(fd, "r+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        fh.close()


def clean_interrupted(reports_dir: Path) -> list[str]:
    """Remove the temporary folders of interrupted runs: only hidden folders carrying this
    tool's marker whose owner process is gone, never through a symbolic link and never
    outside the real reports folder (see :func:`reporting.paths.clean_abandoned`)."""
    return clean_abandoned(reports_dir)


def request_for(schedule: Schedule, today: date, store: str | Path | None, reports_dir: Path,
                params_dir: str | Path | None, force: bool = False,
                executor: Executor | None = None, refresh_bands: bool = False) -> RunRequest:
    """The run request of everything due on ``today``: one :class:`ReportSpec` per schedule
    entry with its due periods; reports already produced for the same inputs are skipped
    (unless ``force``), and a scope that cannot run is a result, not an error."""
    d = schedule.defaults
    specs = tuple(ReportSpec(
        periods=tuple(p.label for p in due_periods(rd.cadence, today, rd.catch_up)),
        name=rd.name, notebook=rd.notebook, kind=rd.kind,
        regions="all" if rd.regions == "all" else tuple(rd.regions), teams=tuple(rd.teams),
        language=rd.language or d.language, timeout=rd.timeout_seconds or d.timeout_seconds,
        render_timeout=schedule.render_timeout_for(rd)) for rd in schedule.reports)
    return RunRequest(reports=specs, store=Path(store) if store else _store.default_store_path(),
                      reports_dir=Path(reports_dir),
                      params=Path(params_dir) if params_dir else None,
                      executor=executor or Executor(), refresh_bands=refresh_bands,
                      strict=False, skip_unchanged=not force)


def _report_folders(period_dir: Path) -> list[Path]:
    """The report folders of a period: ``<region>/`` and, inside them, ``<team>/``; never a
    hidden, ``_``-prefixed, failed or symlinked folder, nor one outside the period."""
    if not period_dir.is_dir() or period_dir.is_symlink():
        return []
    base = period_dir.resolve()

    def ok(d: Path) -> bool:
        return (d.is_dir() and not d.is_symlink() and not d.name.startswith((".", "_"))
                and not d.name.endswith(".failed") and d.resolve().is_relative_to(base))

    regions = sorted(d for d in period_dir.iterdir() if ok(d))
    return regions + sorted(t for r in regions for t in r.iterdir() if ok(t))


def deliver_pending(schedule: Schedule, today: date, reports_dir: Path,
                    send: Callable | None = None,
                    params_dir: str | Path | None = None) -> list[dict]:
    """Send every finished, due report (region and team reports) whose schedule asks for
    e-mail to each of its recipients that has not received it yet; record each attempt per
    recipient in the report's manifest. The subject uses the title of the params the
    report was run with (recorded in its manifest; ``params_dir`` for older reports)."""
    from .delivery import (
        DeliveryError,
        SmtpSettings,
        deliver_each,
        pending_recipients,
        send_report,
    )

    records = []
    settings = None
    for rd in schedule.reports:
        if not rd.deliver.enabled:
            continue
        for period in due_periods(rd.cadence, today, rd.catch_up):
            for folder in _report_folders(reports_dir / period.label):
                m = read_manifest(folder)
                if not m or m.get("status") != "ok" or m.get("report") != rd.name:
                    continue
                params = m.get("parameters", {})
                region = params.get("region", folder.name)
                team = params.get("team", "all")
                recipients = rd.deliver.recipients_for(region, team)
                if not recipients or not pending_recipients(m, recipients):
                    continue
                if send is None and settings is None:
                    settings = SmtpSettings.from_env()
                metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
                headline = _headline_lines(metrics)
                title = m.get("title") or load_settings(params_dir).title
                label = region if team in ("", "all") else f"{region} / {team}"
                subject = f"{title}: {label} {period.title}"

                def _send(pending, subject=subject, headline=headline,
                          pdf=folder / "report.pdf", smtp=settings):
                    if send is not None:
                        return send(pending, subject, headline, pdf)
                    return send_report(smtp, pending, subject, headline, pdf)

                try:
                    record = deliver_each(m, recipients, _send)
                except DeliveryError as exc:  # this report's problem: the others go on
                    record = {"ok": False, "error": str(exc)}
                write_json_atomic(folder / "manifest.json", m)
                records.append({"report": str(folder), **record})
    return records


def _headline_lines(metrics: dict) -> dict[str, str]:
    h = metrics.get("headline", {})

    def val(k: str, fmt: str) -> str:
        v = h.get(k, {}).get("value")
        return "–" if v is None else format(v, fmt)

    return {
        "Win rate": val("win_rate", ".0%"),
        "Median cycle of won deals (days)": val("median_cycle_days_won", ".0f"),
        f"Average won deal ({metrics.get('currency', '')})": val("avg_won_amount", ",.0f"),
        "Revenue per account": val("avg_account_value", ",.0f"),
        "Open deals per rep": val("open_per_rep", ".1f"),
    }


def _pull_first(schedule: Schedule, today: date, request: RunRequest, out: DueRun,
                pull: Callable | None) -> tuple[RunRequest, list[JobResult]]:
    """Pull each CRM named by a schedule entry (once per run-due, in schedule order) into
    the request's store; entries whose pull failed leave the request and come back as
    failed results, one per due period."""
    crms = list(dict.fromkeys(rd.pull for rd in schedule.reports if rd.pull))
    if not crms:
        return request, []
    if pull is None:
        from .pull import pull
    failed: dict[str, str] = {}
    for crm in crms:
        try:
            rep = pull(crm, request.store)
        except ReportingError as exc:
            failed[crm] = str(exc)
            out.pulls.append({"crm": crm, "ok": False, "error": str(exc)})
            continue
        out.pulls.append({"crm": crm, "ok": True, "pull_id": rep.pull_id, "read": rep.read,
                          "loaded": rep.loaded, "quarantined": rep.quarantined})
    blocked = []
    for rd in schedule.reports:
        if rd.pull in failed:
            for p in due_periods(rd.cadence, today, rd.catch_up):
                blocked.append(JobResult(
                    label=rd.name, period=p.label, status="failed",
                    error=f"not run: pull {rd.pull} failed, so the store may be stale: "
                          f"{failed[rd.pull]}"))
    names = {rd.name for rd in schedule.reports if rd.pull in failed}
    return replace(request, reports=tuple(s for s in request.reports if s.name not in names)), blocked


def run_due(
    today: date | None = None,
    store: str | Path | None = None,
    reports_dir: str | Path = "reports",
    params_dir: str | Path | None = None,
    force: bool = False,
    workers: int = 1,
    executor: str = "local",
    scheduler=None,
    on_done: Callable[[JobResult], None] | None = None,
    send: Callable | None = None,
    refresh_bands: bool = False,
    on_plan: Callable[[int], None] | None = None,
    pull: Callable | None = None,
) -> DueRun:
    """Pull the CRMs the schedule names (``pull:``, once each), then produce every due
    report not yet produced for the same inputs (through the one run path,
    :func:`reporting.runs.execute`), then deliver. An entry whose pull failed is not run
    (it would report stale data): it is a failed result naming the pull's error. ``pull``
    replaces :func:`reporting.pull.pull` (tests)."""
    today = today or datetime.now(UTC).date()
    # every check before anything is touched: schedule, then (runs.validate) params folder,
    # settings and reports folder
    schedule = load_schedule(params_dir)
    request = request_for(schedule, today, store, Path(reports_dir), params_dir, force,
                          Executor(executor, workers, scheduler), refresh_bands)
    reports = validate(request)
    request = replace(request, reports_dir=reports)
    out = DueRun()
    with run_lock(reports) as got:
        if not got:
            out.locked = True
            return out
        out.cleaned = clean_interrupted(reports)
        request, blocked = _pull_first(schedule, today, request, out, pull)
        if request.reports:
            run = execute(request, on_done, on_plan)
            out.results, out.skipped = run.results, run.up_to_date
        for r in blocked:
            out.results.append(r)
            if on_done:
                on_done(r)
        out.deliveries = deliver_pending(schedule, today, reports, send, params_dir)
    return out
