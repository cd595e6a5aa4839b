"""``crm-report``: the command line. Thin: parse, validate, call one library function."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .exceptions import ReportingError
from .textsafe import terminal, visible

app = typer.Typer(
    name="crm-report",
    help="Turn CRM exports into sales-metric reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# CRM text (regions, reps, files, columns) reaches these consoles: no markup, no highlighting;
# our own styling goes through Text objects, data through textsafe.terminal().
console = Console(markup=False, highlight=False, emoji=False)
err = Console(stderr=True, markup=False, highlight=False, emoji=False)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store (default $CRM_REPORT_STORE, else the project's)"),
]
ReportsOpt = Annotated[Path | None, typer.Option(
    help="output folder (default: the project's reports folder, else ./reports)")]
ParamsOpt = Annotated[Path | None, typer.Option(
    help="params folder (default: the project's, else the built-in one)")]


def _version(value: bool) -> None:
    if value:
        from . import __version__

        console.print(f"crm-report {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    project: Annotated[Path | None, typer.Option(
        "--project", help="project folder (default: $CRM_REPORT_PROJECT, else the nearest "
        "crm-report.yaml at or above the working folder)")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
) -> None:
    """Turn CRM exports into sales-metric reports."""
    from . import project as _project

    try:
        _project.use(project)  # None clears a project left by an earlier call in-process
        found = _project.current()
    except ReportingError as exc:
        _fail(exc)
    if found is None and ctx.invoked_subcommand not in ("init",):
        err.print(terminal(_project.where()), soft_wrap=True)


def _store(store: Path | None) -> Path:
    from .project import default_store  # what store.default_store_path gives, without pandas

    return store or default_store()


def _reports(reports: Path | None) -> Path:
    from .project import default_reports

    return reports or default_reports()


def _params(params: Path | None) -> Path | None:
    """``--params`` (it must exist), else the project's params folder, else None (built-in)."""
    from .params import params_folder
    from .project import default_params

    if params is not None:
        params_folder(params)  # a mistyped --params is an error, not the built-in defaults
        return params
    return default_params()


def _fail(exc: Exception) -> None:
    err.print(Text.assemble(("error: ", "bold red"), visible(exc)), soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV / Parquet / Excel files or a folder")],
    source: Annotated[str, typer.Option(help="mapping name in params/sources/ or a path")],
    store: StoreOpt = None,
    encoding: Annotated[str | None, typer.Option(
        help="file encoding when not UTF-8, e.g. cp1256 (Persian Windows) or latin-1")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="when the export was taken (YYYY-MM-DD or YYYY-MM-DDTHH:MM): its "
        "changes are recorded in the deal history at that time; default: the newest "
        "file's modification time")] = None,
) -> None:
    """Map, validate and load a CRM export; print what was loaded and quarantined, and
    the changes recorded in the deal history."""
    from .ingest import ingest_paths

    when = None
    if as_of is not None:
        import pandas as pd

        try:
            when = pd.Timestamp(as_of)
            if when.tzinfo is not None:
                when = when.tz_convert("UTC").tz_localize(None)
        except (ValueError, TypeError):
            _fail(ReportingError(f"--as-of {as_of!r} is not a date; give YYYY-MM-DD or "
                                 "YYYY-MM-DDTHH:MM"))
    try:
        rep = ingest_paths(paths, source, _store(store), encoding=encoding, as_of=when)
    except ReportingError as exc:
        _fail(exc)
    t = Table(title=terminal(f"ingest {rep.source} -> {_store(store)}"))
    for c in ("file", "table", "read", "loaded", "quarantined"):
        t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left")
    for r in rep.results:
        t.add_row(terminal(r.file), terminal(r.table), f"{r.read:,}", f"{r.loaded:,}",
                  f"{r.quarantined:,}")
    t.add_row("total", "", f"{rep.read:,}", f"{rep.loaded:,}", f"{rep.quarantined:,}", style="bold")
    console.print(t)
    if rep.as_of is not None:
        console.print(
            f"deal history: as of {rep.as_of:%Y-%m-%d %H:%M} ({rep.as_of_source}); "
            f"{rep.history_snapshots:,} deals new or changed since the store's state then; "
            f"{rep.history_versions:,} versions of those deals"
            + (f"; {rep.deleted:,} deals deleted" if rep.deleted else "")
            + (f"; {rep.older:,} deals already known in a newer state: recorded in the "
               "history only, their current rows kept" if rep.older else ""))
    reasons = rep.reasons()
    if not reasons.empty:
        q = Table(title="quarantined rows by reason (see the quarantine table in the store)")
        for c in ("table", "code", "reason", "rows"):
            q.add_column(c, justify="right" if c == "rows" else "left")
        for _, r in reasons.iterrows():  # grouped by reason code; the text is shown
            q.add_row(terminal(r["table"]), terminal(r["code"]), terminal(r["reason"]),
                      f"{r['rows']:,}")
        console.print(q)
    notes = [(r.table, code, n) for r in rep.results for code, n in getattr(r, "notes", {}).items()
             if n and code != "rows_skipped"]
    skipped = [(r.file, r.table, r.notes["rows_skipped"]) for r in rep.results
               if getattr(r, "notes", {}).get("rows_skipped")]
    for file, table, n in skipped:  # not part of the table: rows the mapping leaves out
        console.print(terminal(f"{file}: {n:,} rows left out of {table} by the mapping "
                               "(keep_rows / skip_rows: events it does not track)"))
    if notes:
        k = Table(title="rows kept with a data-quality note (see the report's data-quality appendix)")
        for c in ("table", "note", "rows"):
            k.add_column(c, justify="right" if c == "rows" else "left")
        for table, code, n in notes:
            k.add_row(terminal(table), terminal(code), f"{n:,}")
        console.print(k)


@app.command("pull")
def pull_cmd(
    crm: Annotated[str, typer.Argument(help="salesforce, hubspot or pipedrive")],
    store: StoreOpt = None,
    base_url: Annotated[str | None, typer.Option(
        help="API server (default: the CRM's, or the instance URL from the environment / "
             "secrets file); e.g. a sandbox")] = None,
    secrets: Annotated[Path | None, typer.Option(
        help="secrets file (default: secrets.yaml in the project folder)")] = None,
    full: Annotated[bool, typer.Option(help="ignore the cursor: ask for every record")] = False,
) -> None:
    """Pull deals, their history, users, accounts and stages from a CRM's API into the store
    (incremental; credentials from the environment or the secrets file, see docs/pull.md)."""
    from .pull import pull, summary_lines

    try:
        rep = pull(crm, _store(store), base_url=base_url, secrets=secrets, full=full)
    except ReportingError as exc:
        _fail(exc)
    t = Table(title=terminal(f"pull {rep.crm} -> {_store(store)}"))
    for c in ("table", "read", "loaded", "quarantined"):
        t.add_column(c, justify="left" if c == "table" else "right")
    for r in (rep.ingest.results if rep.ingest is not None else []):
        t.add_row(terminal(r.table), f"{r.read:,}", f"{r.loaded:,}", f"{r.quarantined:,}")
    t.add_row("total", f"{rep.read:,}", f"{rep.loaded:,}", f"{rep.quarantined:,}", style="bold")
    console.print(t)
    reasons = rep.ingest.reasons() if rep.ingest is not None else None
    if reasons is not None and not reasons.empty:
        q = Table(title="quarantined rows by reason (see the quarantine table in the store)")
        for c in ("table", "code", "reason", "rows"):
            q.add_column(c, justify="right" if c == "rows" else "left")
        for _, r in reasons.iterrows():
            q.add_row(terminal(r["table"]), terminal(r["code"]), terminal(r["reason"]),
                      f"{r['rows']:,}")
        console.print(q)
    for line in summary_lines(rep):
        console.print(terminal(line), soft_wrap=True)


@app.command("demo-data")
def demo_data(
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    scale: Annotated[float, typer.Option(help="size multiplier (50 ~ 1M opportunities)")] = 1.0,
    end: Annotated[str | None, typer.Option(help="last day of the data, YYYY-MM-DD (default today)")] = None,
    store: StoreOpt = None,
) -> None:
    """Generate the deterministic synthetic CRM and write it to the store."""
    from datetime import date

    from . import demo
    from .store import replace_all

    try:
        end_day = date.fromisoformat(end) if end else None
    except ValueError:
        _fail(ReportingError(f"--end {end!r} is not a date like 2026-10-31"))
    if not scale > 0:
        _fail(ReportingError(f"--scale {scale}: give a positive size multiplier"))
    try:
        if scale <= demo.CHUNK_SCALE:
            tables = demo.generate(seed=seed, scale=scale, end=end_day)
            replace_all(_store(store), tables)
            counts = {k: len(v) for k, v in tables.items()}
        else:  # a big store: generated and written chunk by chunk, in bounded memory
            from .store import replace_all_chunks

            counts = replace_all_chunks(_store(store), demo.generate_chunks(
                seed=seed, scale=scale, end=end_day))
    except ReportingError as exc:
        _fail(exc)
    from .store import connect

    with connect(_store(store), read_only=True) as con:  # opportunity_history is derived
        derived = con.execute("SELECT COUNT(*) FROM opportunity_history").fetchone()[0]
    sizes = ", ".join(f"{k} {derived if k == 'opportunity_history' else v:,}"
                      for k, v in counts.items())
    console.print(terminal(f"demo data (seed {seed}, scale {scale}) -> {_store(store)}: {sizes}"))


def _progress_table(results) -> Table:
    t = Table(title="reports")
    for c, j in (("report", "left"), ("period", "left"), ("status", "left"),
                 ("seconds", "right"), ("pages", "right"), ("output / error", "left")):
        t.add_column(c, justify=j, overflow="fold")
    colour = {"ok": "green", "skipped": "blue", "no data": "yellow"}
    for r in results:
        first = (r.error.splitlines() or [""])[0][:200]
        where = r.output if r.status == "ok" else (
            first + (f" (notebook and traceback: {r.failure_dir})" if r.failure_dir else ""))
        t.add_row(terminal(r.label), terminal(r.period),
                  Text(r.status, style=colour.get(r.status, "red")),
                  f"{r.seconds:.1f}", str(r.pages or ""), terminal(where))
    return t


def _run_with_progress(runner):
    """Call ``runner(done, planned)`` under a progress bar: ``planned(n)`` sets the number of
    reports once they are planned, ``done(result)`` advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("reports", total=None, visible=False)

        def planned(n: int) -> None:
            progress.update(task, total=n, visible=n > 0)

        def done(r):
            progress.advance(task)
            progress.console.print(
                terminal(f"{r.label} {r.period}: {r.status} ({r.seconds:.1f} s)"))

        return runner(done, planned)


Workers = Annotated[int, typer.Option(help="parallel reports (default: CPU cores)")]
ExecutorOpt = Annotated[str, typer.Option(help="local | dask")]
Scheduler = Annotated[str | None, typer.Option(help="dask scheduler, tcp://HOST:8786")]


def run_request(period: str, region: str = "all", team: str = "all",
                report: str | None = None, notebook: str | None = None,
                store: Path | None = None, reports: Path | None = None,
                params: Path | None = None, workers: int = 0, executor: str = "local",
                scheduler: str | None = None, timeout: int = 600,
                render_timeout: float = 300.0, language: str | None = None,
                refresh_bands: bool = False, kind: str | None = None):
    """The :class:`~reporting.runs.RunRequest` that ``crm-report run`` options ask for.

    ``kind`` (monthly, scorecard, rollup, trend; :mod:`reporting.kinds`) chooses the
    notebook and the folder; ``notebook`` overrides the notebook, ``report`` takes both from
    a ``schedule.yaml`` entry."""
    from .params import check_name
    from .periods import check_not_future, parse_period
    from .project import default_language
    from .runs import DEFAULT_REPORT, Executor, ReportSpec, RunRequest
    from .schedule import load_schedule

    p = check_not_future(parse_period(period))
    params_dir = _params(params)
    nb = notebook
    if report and not notebook:
        defs = {r.name: r for r in load_schedule(params_dir).reports}
        if report not in defs:
            raise ReportingError(f"--report {report!r}: schedule.yaml defines "
                                 f"{', '.join(defs) or 'no reports'}")
        nb = defs[report].notebook
        kind = kind or defs[report].kind
    all_regions = region.lower() == "all"
    if not all_regions:
        check_name("region", region)
    one_team = team.lower() != "all"
    if one_team:
        check_name("team", team)
    spec = ReportSpec(
        periods=(p.label,), name=report or DEFAULT_REPORT, notebook=nb, kind=kind,
        regions="all" if all_regions else (region,),
        teams=(team,) if one_team else (), region_reports=not one_team,
        language=language or default_language(), timeout=timeout,
        render_timeout=render_timeout)
    return RunRequest(reports=(spec,), store=_store(store), reports_dir=_reports(reports),
                      params=params_dir,
                      executor=Executor(executor, workers or os.cpu_count() or 1, scheduler),
                      refresh_bands=refresh_bands, strict=True)


@app.command()
def run(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q3, 2026, a..b, last-complete-month")],
    region: Annotated[str, typer.Option(help="region name, or 'all' for every region")] = "all",
    team: Annotated[str, typer.Option(help="team name (one report per team), or 'all'")] = "all",
    report: Annotated[str | None, typer.Option(help="a report name from params/schedule.yaml")] = None,
    kind: Annotated[str | None, typer.Option(
        help="monthly (default), scorecard (a page per rep), rollup (every region on one "
        "summary) or trend (a monthly series: --period 2025-01..2026-11)")] = None,
    notebook: Annotated[str | None, typer.Option(
        help="notebook name (the project's copy first): monthly_sales_report (default), "
        "rep_scorecard, company_rollup, trend_report")] = None,
    store: StoreOpt = None,
    reports: ReportsOpt = None,
    params: ParamsOpt = None,
    workers: Workers = 0,
    executor: ExecutorOpt = "local",
    scheduler: Scheduler = None,
    timeout: Annotated[int, typer.Option(help="seconds allowed per notebook cell")] = 600,
    render_timeout: Annotated[float, typer.Option(
        help="seconds allowed to render one report's HTML and PDF")] = 300.0,
    language: Annotated[str | None, typer.Option(
        help="en, or fa (Persian, right to left); default: the project's")] = None,
    refresh_bands: Annotated[bool, typer.Option(
        help="re-learn the deal-size band reference from the last 12 months")] = False,
) -> None:
    """Execute and render the report of a region (or of every region) for a period."""
    from .runs import execute

    try:
        request = run_request(period, region, team, report, notebook, store, reports, params,
                              workers, executor, scheduler, timeout, render_timeout, language,
                              refresh_bands, kind)
        out = _run_with_progress(lambda done, planned: execute(request, done, planned))
    except ReportingError as exc:
        _fail(exc)
    results = out.results
    console.print(_progress_table(results))
    for label, art in out.artifacts.items():
        console.print(f"shared artifacts for {label}: {art.status} ({art.seconds:.2f} s)")
    for i in out.indexes:
        console.print(terminal(f"index: {i}"))
    for r in results:
        if r.status == "ok":
            console.print(terminal(f"{r.output}/report.pdf\n{r.output}/report.html"))
    if any(r.status not in ("ok", "no data") for r in results):
        raise typer.Exit(1)


@app.command("run-due")
def run_due_cmd(
    store: StoreOpt = None,
    reports: ReportsOpt = None,
    params: ParamsOpt = None,
    force: Annotated[bool, typer.Option(help="regenerate even when up to date")] = False,
    refresh_bands: Annotated[bool, typer.Option(
        help="re-learn the deal-size band reference from the last 12 months")] = False,
    today: Annotated[str | None, typer.Option(help="pretend today is YYYY-MM-DD")] = None,
    workers: Workers = 0,
    executor: ExecutorOpt = "local",
    scheduler: Scheduler = None,
) -> None:
    """Produce and deliver every scheduled report that is due and not yet produced."""
    from datetime import date

    from .scheduler import run_due

    try:
        day = date.fromisoformat(today) if today else None
        n_workers = workers or os.cpu_count() or 1
        params_dir = _params(params)
        out = _run_with_progress(lambda done, planned: run_due(
            day, _store(store), _reports(reports), params_dir, force, n_workers, executor,
            scheduler, done, refresh_bands=refresh_bands, on_plan=planned))
    except (ReportingError, ValueError) as exc:
        _fail(exc)
    if out.locked:
        console.print("another run-due is running (reports/.run-due.lock); nothing to do")
        return
    for c in out.cleaned:
        console.print(terminal(f"removed an interrupted run's folder: {c}"))
    for p in out.pulls:
        if p["ok"]:
            console.print(terminal(f"pulled {p['crm']}: {p['read']:,} rows read, {p['loaded']:,} "
                                   f"loaded, {p['quarantined']:,} quarantined"))
        else:
            console.print(Text.assemble(("pull failed ", "red"),
                                        visible(f"{p['crm']}: {p['error']}")), soft_wrap=True)
    if out.results:
        console.print(_progress_table(out.results))
    produced = sum(r.status == "ok" for r in out.results)
    console.print(f"{produced} produced, {len(out.results) - produced} not produced, "
                  f"{len(out.skipped)} already up to date, "
                  f"{sum(d.get('ok', False) for d in out.deliveries)} delivered, "
                  f"{sum(not d.get('ok', False) for d in out.deliveries)} deliveries failed")
    for d in out.deliveries:
        if not d.get("ok"):
            console.print(Text.assemble(("delivery failed ", "red"),
                                        visible(f"{d['report']}: {d.get('error')}")))
    if any(r.status not in ("ok", "no data") for r in out.results) or \
            any(not d.get("ok") for d in out.deliveries) or any(not p["ok"] for p in out.pulls):
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="the project folder (created if missing)")],
    company: Annotated[str, typer.Option(help="company name on every report")] = "Acme Analytics",
    currency: Annotated[str, typer.Option(help="reporting currency, ISO 4217")] = "USD",
    timezone: Annotated[str, typer.Option(help="reporting time zone (IANA)")] = "UTC",
    language: Annotated[str, typer.Option(help="en, or fa (Persian)")] = "en",
) -> None:
    """Create a project: crm-report.yaml, params/ and notebooks/ to edit, a .gitignore."""
    from .project import PROJECT_FILE, init_project

    try:
        written = init_project(folder, company, currency, timezone, language)
    except ReportingError as exc:
        _fail(exc)
    console.print(terminal(f"created the project {folder.resolve()} ({len(written)} files):"))
    for name in (PROJECT_FILE, "params/", "notebooks/", ".gitignore"):
        console.print(terminal(f"  {name}"))
    console.print(terminal(f"next: cd {folder} && crm-report demo-data && "
                           "crm-report run --region all --period last-complete-month"))


@app.command()
def info(store: StoreOpt = None) -> None:
    """What the store holds (tables, regions, teams, reps, date range, last ingest per
    source, quarantine) and which metrics its data can support, with the reasons."""
    from .info import format_info, store_info
    from .project import where

    try:
        text = format_info(store_info(_store(store)))
    except ReportingError as exc:
        _fail(exc)
    sys.stdout.write(visible(where()) + "\n" + text + ("" if text.endswith("\n") else "\n"))


@app.command()
def history(
    opportunity_id: Annotated[str, typer.Argument(help="the deal's id as in the store")],
    store: StoreOpt = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="also show the deal as it was just before this date")] = None,
) -> None:
    """One deal's versions in the deal history: when each became true, its stage, status,
    amount, close date, probability, forecast category, owner and where it is known from."""
    import pandas as pd

    from .store import connect, opportunities_as_of

    try:
        with connect(_store(store), read_only=True) as con:
            v = con.execute(
                "SELECT * FROM opportunity_history WHERE opportunity_id = ? ORDER BY valid_from",
                [opportunity_id]).df()
            known = con.execute(
                "SELECT (SELECT COUNT(*) FROM opportunities WHERE opportunity_id = $1) + "
                "(SELECT COUNT(*) FROM opportunities_deleted WHERE opportunity_id = $1)",
                [opportunity_id]).fetchone()[0]
        if not known and v.empty:
            raise ReportingError(f"no deal {opportunity_id!r} in the store; `crm-report info` "
                                 "shows what the store holds")
        t = Table(title=terminal(f"deal {opportunity_id}: {len(v)} version"
                                 f"{'' if len(v) == 1 else 's'}"))
        cols = ("valid_from", "valid_to", "stage", "status", "amount", "close_date",
                "probability", "forecast_category", "owner", "origin")
        heads = {"valid_from": "from", "valid_to": "to", "close_date": "close",
                 "probability": "prob.", "forecast_category": "category"}
        for c in cols:
            fixed = c in ("valid_from", "valid_to", "close_date", "amount", "probability")
            t.add_column(heads.get(c, c), justify="right" if c in ("amount", "probability")
                         else "left", no_wrap=fixed, overflow="ellipsis" if fixed else "fold")

        def cell(x: object, c: str) -> str:
            if x is None or (not isinstance(x, str) and pd.isna(x)):
                return "" if c != "valid_to" else "(now)"
            if c in ("valid_from", "valid_to", "close_date"):
                return f"{pd.Timestamp(x):%Y-%m-%d %H:%M}".removesuffix(" 00:00")
            if c == "amount":
                return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"
            if c == "probability":
                return f"{x:.0%}"
            return terminal(str(x))

        for _, r in v.iterrows():
            row = [cell(r[c], c) for c in cols]
            if row[4] and r["currency"]:
                row[4] += f" {terminal(str(r['currency']))}"
            t.add_row(*row)
        console.print(t)
        if v.empty:
            console.print("no versions: the store has no history of this deal yet (ingest "
                          "full exports over time, pull from the CRM, or ingest its history "
                          "export)")
        if as_of is not None:
            try:
                when = pd.Timestamp(as_of)
            except (ValueError, TypeError):
                raise ReportingError(f"--as-of {as_of!r} is not a date; give YYYY-MM-DD") \
                    from None
            a = opportunities_as_of(_store(store), when)
            a = a[a["opportunity_id"] == opportunity_id]
            if a.empty:
                console.print(terminal(f"as of {as_of}: the deal did not exist yet (or was "
                                       "deleted by then)"))
            else:
                r = a.iloc[0]
                console.print(terminal(
                    f"as of {as_of}: {r['status']}, stage {r['stage'] or 'unknown'}, amount "
                    + ("unknown" if pd.isna(r["amount"]) else f"{r['amount']:,.2f}")
                    + f", owner {r['owner']}"
                    + ("" if r["history_known"] else " (not covered by the history: the "
                       "current row's rules)")))
    except ReportingError as exc:
        _fail(exc)


@app.command("notebook")
def notebook_cmd(
    name: Annotated[str | None, typer.Argument(help="a shipped notebook; none: list them")] = None,
    force: Annotated[bool, typer.Option(help="replace the project's copy")] = False,
) -> None:
    """Copy a shipped notebook into the project for editing (runs then use the copy)."""
    from .project import copy_notebook, current
    from .resources import shipped_notebooks

    if name is None:
        proj = current()
        own = proj.notebooks if proj else None
        for n in shipped_notebooks():
            mark = " (project copy)" if own and (own / f"{n}.ipynb").is_file() else ""
            console.print(terminal(f"{n}{mark}"))
        return
    try:
        dest = copy_notebook(name, force=force)
    except ReportingError as exc:
        _fail(exc)
    console.print(terminal(f"copied {name} to {dest}; open it in Jupyter, and "
                           f"`crm-report run --notebook {name}` uses this copy"))


params_app = typer.Typer(help="Check the files in params/.", no_args_is_help=True)
app.add_typer(params_app, name="params")


@params_app.command("check")
def params_check(
    params: Annotated[Path | None, typer.Option(help="params folder")] = None,
) -> None:
    """Validate report.yaml, baselines.yaml, schedule.yaml, quotas.yaml and every source
    mapping."""
    from .params import load_quotas_file, load_settings, params_folder
    from .schedule import load_schedule
    from .sources import load_mapping

    try:
        d = params_folder(params)
    except ReportingError as exc:
        _fail(exc)
    problems = []
    checks = [("report.yaml + baselines.yaml", lambda: load_settings(d)),
              ("schedule.yaml", lambda: load_schedule(d)),
              ("quotas.yaml", lambda: load_quotas_file(d).frame(load_settings(d).currency))]
    checks += [(f"sources/{m.name}", lambda m=m: load_mapping(m))
               for m in sorted((Path(d) / "sources").glob("*.yaml"))]
    for name, check in checks:
        try:
            check()
            console.print(Text.assemble(("ok ", "green"), visible(name)))
        except ReportingError as exc:
            problems.append(str(exc))
            err.print(Text.assemble(("invalid ", "red"), visible(f"{name}: {exc}")),
                      soft_wrap=True)
    if problems:
        raise typer.Exit(2)


@app.command()
def metrics(
    period: Annotated[str, typer.Option(help="2017-06, 2017-Q2, 2017, 2017-01-01..2017-06-30")],
    by: Annotated[str, typer.Option(help="rep | team | region | source | product")] = "rep",
    region: Annotated[str, typer.Option(help="region or 'all'")] = "all",
    team: Annotated[str, typer.Option(help="team or 'all'")] = "all",
    fmt: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    store: StoreOpt = None,
) -> None:
    """Print one record per group with the report's figures (computed inside DuckDB)."""
    from .params import load_settings

    column = {"rep": "owner", "team": "team", "region": "region", "source": "source",
              "product": "product"}.get(by)
    try:
        if column is None:
            raise ReportingError(f"--by {by!r}: use rep, team, region, source or product")
        if fmt not in ("json", "csv"):
            raise ReportingError(f"--format {fmt!r}: use json or csv")
        bounds = _period_bounds(period)
        if bounds is None:  # anything unusual: the full parser (and its error messages)
            from .periods import parse_period

            p = parse_period(period)
            bounds = (p.start.to_pydatetime(), p.end.to_pydatetime())
        settings = load_settings()
        path = _store(store)
        fast = _metrics_rows(path, bounds, column, region, team, settings.stale_days)
        if fast is not None and _print_rows(*fast, fmt):
            return
        # the store's full checks (a missing or foreign file, an old store to upgrade) and
        # the pandas output: only when the direct query could not answer
        from .engine.duckdb_summary import rep_summary_sql
        from .periods import parse_period
        from .store import connect

        with connect(path, read_only=True) as con:
            table = rep_summary_sql(con, parse_period(period), column, region, team,
                                    settings.stale_days)
    except ReportingError as exc:
        _fail(exc)
    if fmt == "csv":
        from .textsafe import neutralise_cells

        sys.stdout.write(neutralise_cells(table).to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(json.loads(table.to_json(orient="records")), indent=2) + "\n")


_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_LABEL = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR_LABEL = re.compile(r"^(\d{4})$")
_RANGE_LABEL = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def _period_bounds(text: str) -> tuple[datetime, datetime] | None:
    """``[start, end)`` of a period label as :func:`reporting.periods.parse_period` reads it,
    without pandas; None for anything it does not accept (or years pandas cannot hold),
    which then goes through ``parse_period`` (a test checks the two agree)."""
    raw = str(text).strip()

    def month(y: int, m: int) -> datetime:
        return datetime(y + (m - 1) // 12, (m - 1) % 12 + 1, 1)

    try:
        if raw in ("last-complete-month", "last-month"):
            t = datetime.now(UTC).date()
            y, m = t.year, t.month
            start, end = month(y, m - 1), month(y, m)
        elif mt := _MONTH_LABEL.match(raw):
            y, m = int(mt[1]), int(mt[2])
            if not 1 <= m <= 12:
                return None
            start, end = month(y, m), month(y, m + 1)
        elif mt := _QUARTER_LABEL.match(raw):
            y, q = int(mt[1]), int(mt[2])
            start, end = month(y, 3 * q - 2), month(y, 3 * q + 1)
        elif mt := _YEAR_LABEL.match(raw):
            start, end = datetime(int(mt[1]), 1, 1), datetime(int(mt[1]) + 1, 1, 1)
        elif mt := _RANGE_LABEL.match(raw):
            start = datetime.fromisoformat(mt[1])
            end = datetime.fromisoformat(mt[2]) + timedelta(days=1)
            if end <= start:
                return None
        else:
            return None
    except (ValueError, OverflowError):
        return None
    # pandas timestamps hold 1677-09-21 to 2262-04-11: leave the edges to parse_period
    if not (datetime(1678, 1, 1) <= start and end <= datetime(2262, 1, 1)):
        return None
    return start, end


def _metrics_rows(path: Path, bounds: tuple[datetime, datetime], column: str, region: str,
                  team: str, stale_days) -> tuple[list[str], list[tuple]] | None:
    """The summary straight from a read-only connection, without pandas; None when the
    store cannot answer so (no such file, not a DuckDB file, an older store's tables):
    then ``metrics`` opens it through :func:`reporting.store.connect`, which says why."""
    import duckdb

    from .engine.sql import summary_rows

    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return summary_rows(con, *bounds, column, region, team, stale_days)
    except duckdb.Error:
        return None
    finally:
        con.close()


def _print_rows(columns: list[str], rows: list[tuple], fmt: str) -> bool:
    """Write the rows as ``DataFrame.to_csv`` (formula-safe) or ``to_json`` would, without
    pandas; False (nothing written) for a value they would write otherwise: non-finite
    numbers, numbers of 1e15 and more or below 1e-4 (JSON's exponents, its rounding of
    tiny values)."""
    import csv
    import math

    from .engine.sql import COUNT_COLUMNS
    from .textsafe import neutralise

    counts = [c in COUNT_COLUMNS for c in columns]
    for r in rows:
        for v, count in zip(r, counts, strict=True):
            if isinstance(v, float) and (not math.isfinite(v) or abs(v) >= 1e15
                                         or 0 < abs(v) < 1e-4):
                return False
            if count and not isinstance(v, int):
                return False
    if fmt == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow([neutralise(c) for c in columns])
        out.writerows([["" if v is None else neutralise(v) for v in r] for r in rows])
    else:
        records = [{c: _json_number(v) for c, v in zip(columns, r, strict=True)} for r in rows]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    return True


def _json_number(v: object) -> object:
    """A float as pandas' ``to_json`` writes it (10 decimals, its own rounding: half up
    when the digit before is odd or zero) and ``json.loads`` reads it back."""
    if not isinstance(v, float) or v == 0:
        return v
    x = abs(v)
    whole = int(x)
    tmp = (x - whole) * 1e10
    frac = int(tmp)
    diff = tmp - frac
    if diff > 0.5 or (diff == 0.5 and (frac == 0 or frac & 1)):
        frac += 1
        if frac >= 10**10:
            frac, whole = 0, whole + 1
    r = float(f"{whole}.{frac:010d}")
    return -r if v < 0 else r


#: the forecast's columns printed by `crm-report forecast` (issue 15, requirement 3)
FORECAST_COLUMNS = ("group", "open_count", "expected_won_count", "expected_won_amount", "low",
                    "high", "low_amount", "high_amount", "expected_new_won_count",
                    "expected_new_won_amount", "naive_won_count", "naive_won_amount",
                    "weighted_pipeline", "commit", "best_case", "pipeline", "quota",
                    "attainment", "coverage", "actual_won_count", "actual_won_amount",
                    "actual_new_won_count", "actual_new_won_amount")
#: the terminal table's columns (the full set: --format json / csv), with short headings
FORECAST_TABLE = {"group": "group", "open_count": "open", "expected_won_count": "won (exp.)",
                  "low": "low", "high": "high", "expected_won_amount": "value (exp.)",
                  "expected_new_won_count": "new won", "naive_won_count": "naive",
                  "weighted_pipeline": "weighted", "quota": "quota",
                  "attainment": "attain.", "actual_won_count": "actual",
                  "actual_won_amount": "actual value"}
BACKTEST_COLUMNS = ("method", "chosen", "mape_count", "mape_value", "interval_coverage",
                    "interval_coverage_value", "brier", "mape_total_count",
                    "mape_total_value", "origins")


def _print_frame(frame, fmt: str, title: str) -> None:
    """A result frame as JSON records, CSV (formula-safe) or a terminal table."""
    import pandas as pd

    if fmt == "csv":
        from .textsafe import neutralise_cells

        sys.stdout.write(neutralise_cells(frame).to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(json.dumps(json.loads(frame.to_json(orient="records",
                                                             date_format="iso")),
                                    indent=2) + "\n")
    else:
        t = Table(title=terminal(title))
        for c in frame.columns:
            t.add_column(terminal(c), justify="left" if c in ("group", "method") else "right")

        def cell(x: object) -> Text:
            if isinstance(x, bool):
                return terminal("yes" if x else "")
            if x is None or (not isinstance(x, str) and pd.isna(x)):
                return terminal("")
            if isinstance(x, float):
                return terminal(f"{x:,.0f}" if x.is_integer() or abs(x) >= 10
                                else f"{x:,.3f}")
            return terminal(x)

        for row in frame.itertuples(index=False):
            t.add_row(*[cell(x) for x in row])
        console.print(t)


@app.command("forecast")
def forecast_cmd(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="forecast from this date (the state just before it; default: the "
        "day after the store's latest event)")] = None,
    horizon_days: Annotated[int, typer.Option("--horizon-days", help="days ahead")] = 90,
    region: Annotated[str, typer.Option(help="region or 'all'")] = "all",
    team: Annotated[str, typer.Option(help="team or 'all'")] = "all",
    by: Annotated[str, typer.Option(help="rep | team | region")] = "region",
    fmt: Annotated[str, typer.Option("--format", help="json | csv | table")] = "json",
    backtest: Annotated[bool, typer.Option(
        "--backtest", help="print the rolling-origin backtest of every method instead")] = False,
    origins: Annotated[int, typer.Option(
        help="backtest: the last N month-ends with a full horizon")] = 12,
    store: StoreOpt = None,
) -> None:
    """Forecast bookings of the open pipeline (model with 80% interval, CRM weighted
    pipeline, categories, naive) per group; for a past --as-of also the actual outcome.
    With --backtest: each method's errors over rolling origins."""
    import pandas as pd

    from . import forecast as fc

    try:
        if fmt not in ("json", "csv", "table"):
            raise ReportingError(f"--format {fmt!r}: use json, csv or table")
        if by not in ("rep", "team", "region"):
            raise ReportingError(f"--by {by!r}: use rep, team or region")
        path = _store(store)
        reg = None if region.lower() == "all" else region
        tm = None if team.lower() == "all" else team
        if backtest:
            if origins < 1 or origins > 120:
                raise ReportingError(f"--origins {origins}: give 1 to 120 month-ends")
            res = fc.backtest(path, origins=origins, horizon_days=horizon_days, region=reg,
                              team=tm)
            frame = res.table.assign(chosen=res.table["method"] == res.chosen)
            frame = frame[[c for c in BACKTEST_COLUMNS if c in frame.columns]]
            notes = [f"chosen method: {res.chosen} (lowest mape_value, then mape_count)",
                     *res.notes]
            title = f"forecast backtest, horizon {res.horizon_days} days"
        else:
            if as_of is None:
                from .store import connect

                with connect(path, read_only=True) as con:
                    end = fc.data_end(con)
                if end is None:
                    raise ReportingError("the store holds no opportunities; load some with "
                                         "`crm-report ingest` or `crm-report demo-data`")
                when = end.normalize() + pd.Timedelta(days=1)
            else:
                try:
                    when = pd.Timestamp(as_of)
                except (ValueError, TypeError):
                    raise ReportingError(f"--as-of {as_of!r} is not a date; give YYYY-MM-DD") \
                        from None
            quotas = None
            from . import store as _st

            if hasattr(_st, "load_quotas"):  # the quotas table (issue 15, targets)
                quotas = _st.load_quotas(path, reg, tm)
            res = fc.forecast(path, when, horizon_days, by=by, region=reg, team=tm,
                              quotas=quotas)
            frame = res.groups[[c for c in FORECAST_COLUMNS if c in res.groups.columns]]
            if fmt == "table":
                frame = frame[[c for c in FORECAST_TABLE if c in frame.columns]].rename(
                    columns=FORECAST_TABLE)
            notes = [f"method: {res.method}; as of {res.as_of:%Y-%m-%d}, "
                     f"{res.horizon_days} days ahead", *res.notes]
            title = f"forecast as of {res.as_of:%Y-%m-%d}, {res.horizon_days} days"
    except ReportingError as exc:
        _fail(exc)
    for n in notes:
        err.print(terminal(f"note: {n}"), soft_wrap=True)
    _print_frame(frame, fmt, title)


from .clv_cli import clv_command  # noqa: E402 - registered after the app exists


@functools.wraps(clv_command)
def _clv(*args, **kwargs):
    try:
        return clv_command(*args, **kwargs)
    except ReportingError as exc:
        _fail(exc)


app.command("clv", help="Fit a CLV model on any transaction log; print JSON.")(_clv)


def main() -> None:  # pragma: no cover - console entry
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
