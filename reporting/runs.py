"""One run path: ``crm-report run``, ``crm-report run-due`` and the dask executor all build a
:class:`RunRequest` and call :func:`execute`, which plans the reports, computes the shared
artifacts once per period, executes them with the chosen executor and writes the indexes.

The CLI only parses its options into a request (its tests check the request it builds); the
scheduler builds one request from the due entries of ``schedule.yaml`` and adds locking and
delivery around :func:`execute`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .batch import (
    Artifacts,
    Job,
    JobResult,
    PendingArtifacts,
    run_batch,
    start_shared_artifacts,
    write_indexes,
)
from .exceptions import ParamsError, ReportingError
from .i18n import LANGUAGES
from .params import check_name, load_settings, params_folder
from .paths import inside, reports_root
from .periods import Period, check_not_future, parse_period, trend_months
from .project import notebook_path
from .scope import (
    NoDataError,
    Scopes,
    activity,
    check_team,
    has_data,
    known_scopes,
    no_data_message,
)
from .textsafe import visible

DEFAULT_REPORT = "monthly-regional"


@dataclass(frozen=True)
class Executor:
    """Where the reports run: ``local`` processes (``workers`` at once) or a dask cluster."""

    kind: Literal["local", "dask"] = "local"
    workers: int = 1
    scheduler: str | None = None  # dask: tcp://HOST:8786

    def __post_init__(self) -> None:
        if self.kind not in ("local", "dask"):
            raise ParamsError(f"unknown executor {self.kind!r}: use local or dask")
        if self.kind == "dask" and not self.scheduler:
            raise ParamsError("--executor dask needs --scheduler tcp://HOST:8786")
        if self.workers < 1:
            raise ParamsError(f"workers {self.workers}: give at least 1")


@dataclass(frozen=True)
class ReportSpec:
    """One kind of report wanted for some periods and scopes.

    ``regions``: region names, or ``"all"`` for every region in the store. ``teams``: team
    reports as ``"Region/Team"`` or a bare team name (one report per region that has the
    team). ``region_reports``: also one report per region (``crm-report run --team X``
    asks for the team reports only)."""

    periods: tuple[str, ...]
    name: str = DEFAULT_REPORT
    notebook: str | None = None  # a notebook name (project copy first) or path; None: the kind's
    kind: str | None = None  # monthly | scorecard | rollup | trend; None: the notebook's
    regions: tuple[str, ...] | Literal["all"] = "all"
    teams: tuple[str, ...] = ()
    region_reports: bool = True
    language: str = "en"
    timeout: int = 600  # seconds per notebook cell
    render_timeout: float = 300.0  # seconds for HTML + PDF

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ParamsError(f"language {self.language!r}: use one of {', '.join(LANGUAGES)}")
        if not self.periods:
            raise ParamsError("no period given")
        from .kinds import resolve

        kind, notebook = resolve(self.kind, self.notebook)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "notebook", notebook)
        for label in self.periods:
            check_period_for(kind, parse_period(label))


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs; the CLI and the scheduler build one and call :func:`execute`.

    ``strict`` (``crm-report run``): an unknown region or team, or no data for any report,
    is an error before anything runs. Otherwise (the scheduler) each such report becomes a
    result with its reason and the others go on. ``skip_unchanged``: a report whose folder
    holds a finished report with the same inputs fingerprint is not produced again."""

    reports: tuple[ReportSpec, ...]
    store: Path
    reports_dir: Path
    params: Path | None = None
    executor: Executor = field(default_factory=Executor)
    refresh_bands: bool = False
    strict: bool = True
    skip_unchanged: bool = False


@dataclass
class RunOutcome:
    """What a run did: a result per report (ok, failed, timeout, no data), the reports left
    alone because they were up to date, the index pages written and, per period, the shared
    artifacts (reused or computed, and the seconds that took)."""

    results: list[JobResult] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    indexes: list[Path] = field(default_factory=list)
    artifacts: dict[str, Artifacts] = field(default_factory=dict)


def check_period_for(kind: str, period: Period) -> Period:
    """A ParamsError when ``period`` does not suit reports of ``kind``: a trend report
    needs whole months, 2 to 36 of them (a single month means the 12 months ending
    with it, see :func:`reporting.periods.trend_months`)."""
    if kind == "trend":
        trend_months(period)
    return period


def _targets(spec: ReportSpec, scopes: Scopes, strict: bool
             ) -> tuple[list[tuple[str, str]], list[JobResult]]:
    """The (region, team) pairs of ``spec``; unknown ones raise (strict) or become failed
    results for every period. A company-wide kind (the roll-up) has one pair, the whole
    company, whatever regions were asked for."""
    from .kinds import get

    blocked: list[JobResult] = []
    if get(spec.kind).company_wide:
        if strict and not scopes.regions:
            raise ReportingError("the store holds no regions")
        return [("all", "all")], blocked

    def refuse(label: str, msg: str) -> None:
        if strict:
            raise ParamsError(msg)
        blocked.extend(JobResult(label, parse_period(p).label, "failed",
                                 error=f"report {spec.name!r}: {msg}") for p in spec.periods)

    known = scopes.regions
    if spec.regions == "all":
        regions = list(known)
    else:
        regions = []
        for r in spec.regions:
            check_name("region", r)
            if r in scopes.teams:
                regions.append(r)
            else:
                refuse(r, f"unknown region {visible(r)!r}; the store has: "
                          + (", ".join(repr(visible(x)) for x in known) or "no regions"))
    if strict and not regions:
        raise ReportingError("the store holds no regions")
    pairs = [(r, "all") for r in regions] if spec.region_reports else []
    if spec.regions == "all" and spec.region_reports and get(spec.kind).with_company:
        pairs.insert(0, ("all", "all"))  # the whole company's report too
    for t in spec.teams:
        region, _, team = t.partition("/") if "/" in t else ("", "", t)
        check_name("team", team)
        within = [region] if region else (regions or list(known))
        if region and region not in scopes.teams:
            refuse(t, f"unknown region {visible(region)!r} in team {visible(t)!r}")
            continue
        try:
            pairs += [(r, team) for r in check_team(scopes, within, team)]
        except ParamsError as exc:
            refuse(t, str(exc))
    return list(dict.fromkeys(pairs)), blocked


def plan(request: RunRequest) -> tuple[list[Job], list[JobResult], list[str]]:
    """The jobs to run, the reports that cannot run (unknown scope, no data: each with its
    reason) and, with ``skip_unchanged``, the labels of the reports already up to date."""
    from . import store as _store
    from .runner import read_manifest
    from .schedule import code_version, data_fingerprint, inputs_fingerprint

    scopes = known_scopes(request.store)
    with _store.connect(request.store, read_only=True) as con:
        data_fp = data_fingerprint(con)
    code_fp = code_version(request.params)
    jobs: list[Job] = []
    blocked: list[JobResult] = []
    done: list[str] = []
    for spec in request.reports:
        nb = str(notebook_path(spec.notebook))  # the project's copy first, else the shipped one
        pairs, refused = _targets(spec, scopes, request.strict)
        blocked += refused
        for label in spec.periods:
            period = check_not_future(parse_period(label))
            for region, team in pairs:
                job_label = Job(region=region, team=team, period=period.label,
                                kind=spec.kind).label
                if not has_data(activity(request.store, period, region, team), scopes, period):
                    blocked.append(JobResult(job_label, period.label, "no data",
                                             error=no_data_message(scopes, period, region,
                                                                   team)))
                    continue
                inputs = {"report": spec.name, "notebook": Path(nb).stem, "region": region,
                          "team": team, "period": period.label, "language": spec.language}
                if spec.kind != "monthly":  # the monthly reports' fingerprints stay as they were
                    inputs["kind"] = spec.kind
                fp = inputs_fingerprint(inputs, data_fp, code_fp)
                job = Job(region=region, team=team, period=period.label, report=spec.name,
                          notebook=nb, store=str(request.store),
                          reports_dir=str(request.reports_dir),
                          params_dir=str(request.params) if request.params else None,
                          timeout=spec.timeout, language=spec.language,
                          folder=None if region == "all" else scopes.folder(region, team),
                          render_timeout=spec.render_timeout, kind=spec.kind,
                          manifest={"report": spec.name, "inputs_fingerprint": fp,
                                    "data_fingerprint": data_fp, "code_version": code_fp,
                                    "parameters_all": inputs})
                if request.skip_unchanged:
                    try:
                        m = read_manifest(job.output_dir())
                    except ReportingError as exc:  # e.g. a folder leading outside reports/
                        blocked.append(JobResult(job_label, period.label, "failed",
                                                 error=str(exc)))
                        continue
                    if m and m.get("status") == "ok" and m.get("inputs_fingerprint") == fp:
                        done.append(f"{spec.name} {job.label} {period.label}")
                        continue
                jobs.append(job)
    if request.strict and not jobs and not done:
        empty = [r for r in blocked if r.status == "no data"]
        if empty:
            first = empty[0].error
            raise NoDataError(first if len(empty) == 1 else
                              f"no data for any of the {len(empty)} reports; {first}")
    return jobs, blocked, done


def validate(request: RunRequest) -> Path:
    """Every check before anything is touched: params folder and settings, reports folder.
    Returns the real reports folder."""
    params_folder(request.params)  # a mistyped --params is an error, not the defaults
    load_settings(request.params)
    return reports_root(request.reports_dir)


def _finished(art: Artifacts | PendingArtifacts) -> Artifacts:
    return art.wait() if isinstance(art, PendingArtifacts) else art


def execute(request: RunRequest, on_done: Callable[[JobResult], None] | None = None,
            on_plan: Callable[[int], None] | None = None) -> RunOutcome:
    """Plan, compute the shared artifacts once per period, run, write the indexes."""
    out_root = validate(request)
    request = replace(request, reports_dir=out_root)
    jobs, blocked, done = plan(request)
    if on_plan:
        on_plan(len(jobs))
    out = RunOutcome(up_to_date=done)
    by_period: dict[str, list[Job]] = {}
    for j in jobs:
        by_period.setdefault(j.period, []).append(j)
    refresh = request.refresh_bands
    from .kinds import get as get_kind

    for label, pjobs in sorted(by_period.items(), key=lambda kv: parse_period(kv[0]).start):
        ex = request.executor
        art = None
        if any(get_kind(j.kind).artifacts for j in pjobs):
            # computed while the reports' kernels start (they wait for the file where they
            # read it: reporting.handoff); a dask worker elsewhere gets them finished
            art = start_shared_artifacts(request.store, parse_period(label), request.params,
                                         inside(out_root, label, "_run", "artifacts.json"),
                                         refresh, inside(out_root, "_reference", "bands.json"),
                                         background=ex.kind == "local")
            refresh = False  # once per run, from the oldest period
            pjobs = [replace(j, artifacts=str(art.path),
                             manifest={**j.manifest, "artifacts_fingerprint": art.fingerprint})
                     if get_kind(j.kind).artifacts else j for j in pjobs]
            if ex.kind != "local":
                art = _finished(art)
        out.results += run_batch(pjobs, ex.workers, ex.kind, ex.scheduler, on_done)
        if art is not None:
            out.artifacts[label] = _finished(art)  # raises what computing them raised
    out.results += blocked
    out.indexes = write_indexes(out_root, list(by_period), request.params)
    return out
