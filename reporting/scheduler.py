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
from .batch import (
    Job,
    JobResult,
    build_artifacts,
    notebook_path,
    run_batch,
    write_indexes,
)
from .exceptions import ParamsError, ReportingError
from .params import load_settings
from .paths import clean_abandoned, inside, reports_root
from .periods import parse_period
from .runner import write_json_atomic
from .schedule import (
    Schedule,
    code_version,
    data_fingerprint,
    due_periods,
    inputs_fingerprint,
    load_schedule,
)
from .scope import activity, has_data, known_scopes, no_data_message
from .textsafe import visible


@dataclass
class DueRun:
    """The outcome of one ``run-due``."""

    results: list[JobResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    locked: bool = False


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


def _manifest(path: Path) -> dict | None:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def plan(schedule: Schedule, today: date, store: str | Path | None, reports_dir: Path,
         params_dir: str | Path | None, force: bool = False
         ) -> tuple[list[Job], list[str], list[JobResult]]:
    """The jobs that are due (no finished report for the same inputs), the labels of those
    already done, and the reports that cannot run (a region the store does not have, no
    data in the period), each with its reason: one bad region never stops the others."""
    with _store.connect(store, read_only=True) as con:
        data_fp = data_fingerprint(con)
    scopes = known_scopes(store)
    known_regions = scopes.regions
    code_fp = code_version()
    jobs, done, blocked = [], [], []
    for rd in schedule.reports:
        regions = known_regions if rd.regions == "all" else rd.regions
        targets = [(r, "all") for r in regions]
        for t in rd.teams:
            region, _, team = t.partition("/") if "/" in t else ("all", "", t)
            targets.append((region, team))
        for period in due_periods(rd.cadence, today, rd.catch_up):
            for region, team in targets:
                label = region if team in ("", "all") else f"{region}/{team}"
                if region != "all" and region not in scopes.teams:
                    blocked.append(JobResult(
                        label, period.label, "failed",
                        error=f"schedule report {rd.name!r}: region {visible(region)!r} is not in "
                              f"the store (it has {', '.join(map(repr, known_regions))})"))
                    continue
                if not has_data(activity(store, period, region, team), scopes, period):
                    blocked.append(JobResult(label, period.label, "no data",
                                             error=no_data_message(scopes, period, region, team)))
                    continue
                params = {"report": rd.name, "notebook": rd.notebook, "region": region,
                          "team": team, "period": period.label,
                          "language": rd.language or schedule.defaults.language}
                fp = inputs_fingerprint(params, data_fp, code_fp)
                job = Job(region=region, team=team, period=period.label, report=rd.name,
                          notebook=notebook_path(rd.notebook),
                          store=str(store) if store else None, reports_dir=str(reports_dir),
                          params_dir=str(params_dir) if params_dir else None,
                          timeout=rd.timeout_seconds or schedule.defaults.timeout_seconds,
                          language=params["language"], folder=scopes.folder(region, team),
                          render_timeout=schedule.render_timeout_for(rd),
                          manifest={"report": rd.name, "inputs_fingerprint": fp,
                                    "data_fingerprint": data_fp, "code_version": code_fp,
                                    "parameters_all": params})
                try:
                    m = _manifest(job.output_dir())
                except ReportingError as exc:  # e.g. a folder that leads outside reports/
                    blocked.append(JobResult(label, period.label, "failed", error=str(exc)))
                    continue
                if not force and m and m.get("status") == "ok" and \
                        m.get("inputs_fingerprint") == fp:
                    done.append(f"{rd.name} {job.label} {period.label}")
                    continue
                jobs.append(job)
    return jobs, done, blocked


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
                m = _manifest(folder)
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
) -> DueRun:
    """Produce every due report not yet produced for the same inputs, then deliver."""
    today = today or datetime.now(UTC).date()
    # every check before anything is touched: params folder, settings, schedule, reports
    schedule = load_schedule(params_dir)
    load_settings(params_dir)
    reports = reports_root(reports_dir)
    out = DueRun()
    with run_lock(reports) as got:
        if not got:
            out.locked = True
            return out
        jobs, out.skipped, blocked = plan(schedule, today, store, reports, params_dir, force)
        out.cleaned = clean_interrupted(reports)
        by_period: dict[str, list[Job]] = {}
        for j in jobs:
            by_period.setdefault(j.period, []).append(j)
        for period, pjobs in sorted(by_period.items()):
            art = build_artifacts(store, parse_period(period), params_dir,
                                  inside(reports, period, "_run", "artifacts.json"),
                                  refresh_bands, inside(reports, "_reference", "bands.json"))
            refresh_bands = False  # once per run, from the oldest due period
            pjobs = [replace(j, artifacts=str(art)) for j in pjobs]
            out.results += run_batch(pjobs, workers, executor, scheduler, on_done)
        out.results += blocked
        write_indexes(reports, by_period, params_dir)
        out.deliveries = deliver_pending(schedule, today, reports, send, params_dir)
    return out
