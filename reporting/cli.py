"""``crm-report``: the command line. Thin: parse, validate, call one library function."""

from __future__ import annotations

import functools
import json
import os
import sys
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
    typer.Option("--store", help="DuckDB store (default $CRM_REPORT_STORE or data/crm.duckdb)"),
]


def _store(store: Path | None) -> Path:
    from .store import default_store_path

    return store or default_store_path()


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
) -> None:
    """Map, validate and load a CRM export; print what was loaded and quarantined."""
    from .ingest import ingest_paths

    try:
        rep = ingest_paths(paths, source, _store(store), encoding=encoding)
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
             if n]
    if notes:
        k = Table(title="rows kept with a data-quality note (see the report's data-quality appendix)")
        for c in ("table", "note", "rows"):
            k.add_column(c, justify="right" if c == "rows" else "left")
        for table, code, n in notes:
            k.add_row(terminal(table), terminal(code), f"{n:,}")
        console.print(k)


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
    tables = demo.generate(seed=seed, scale=scale, end=end_day)
    try:
        replace_all(_store(store), tables)
    except ReportingError as exc:
        _fail(exc)
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in tables.items())
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


def _run_with_progress(total: int, runner):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=total == 0) as progress:
        task = progress.add_task("reports", total=total)

        def done(r):
            progress.advance(task)
            progress.console.print(
                terminal(f"{r.label} {r.period}: {r.status} ({r.seconds:.1f} s)"))

        return runner(done)


Workers = Annotated[int, typer.Option(help="parallel reports (default: CPU cores)")]
Executor = Annotated[str, typer.Option(help="local | dask")]
Scheduler = Annotated[str | None, typer.Option(help="dask scheduler, tcp://HOST:8786")]


@app.command()
def run(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q3, 2026, a..b, last-complete-month")],
    region: Annotated[str, typer.Option(help="region name, or 'all' for every region")] = "all",
    team: Annotated[str, typer.Option(help="team name (one report per team), or 'all'")] = "all",
    report: Annotated[str | None, typer.Option(help="a report name from params/schedule.yaml")] = None,
    notebook: Annotated[str | None, typer.Option(
        help="notebook name: monthly_sales_report (default) or rep_scorecard")] = None,
    store: StoreOpt = None,
    reports: Annotated[Path, typer.Option(help="output folder")] = Path("reports"),
    params: Annotated[Path | None, typer.Option(help="params folder")] = None,
    workers: Workers = 0,
    executor: Executor = "local",
    scheduler: Scheduler = None,
    timeout: Annotated[int, typer.Option(help="seconds allowed per notebook cell")] = 600,
    render_timeout: Annotated[float, typer.Option(
        help="seconds allowed to render one report's HTML and PDF")] = 300.0,
    language: Annotated[str, typer.Option(help="en, or fa (Persian, right to left)")] = "en",
    refresh_bands: Annotated[bool, typer.Option(
        help="re-learn the deal-size band reference from the last 12 months")] = False,
) -> None:
    """Execute and render the report of a region (or of every region) for a period."""
    from .batch import Job, JobResult, build_artifacts, notebook_path, run_batch, write_indexes
    from .params import check_name, params_folder
    from .paths import inside, reports_root
    from .periods import check_not_future, parse_period
    from .schedule import load_schedule
    from .scope import NoDataError, activity, check_team, has_data, known_scopes, no_data_message

    try:
        p = check_not_future(parse_period(period))
        params_folder(params)  # a mistyped --params is an error, not the built-in defaults
        nb = notebook
        if report and not notebook:
            defs = {r.name: r for r in load_schedule(params).reports}
            if report not in defs:
                raise ReportingError(f"--report {report!r}: schedule.yaml defines "
                                     f"{', '.join(defs) or 'no reports'}")
            nb = defs[report].notebook
        nb_path = notebook_path(nb)
        out_root = reports_root(reports)
        scopes = known_scopes(_store(store))
        if region.lower() == "all":
            regions = scopes.regions
        else:
            check_name("region", region)
            if region not in scopes.teams:
                raise ReportingError(f"unknown region {visible(region)!r}; the store has: "
                                     + (", ".join(repr(visible(r)) for r in scopes.regions)
                                        or "no regions"))
            regions = [region]
        if not regions:
            raise ReportingError(f"the store {_store(store)} holds no regions")
        if team.lower() == "all":
            pairs = [(r, "all") for r in regions]
        else:
            check_name("team", team)
            pairs = [(r, team) for r in check_team(scopes, regions, team)]
        ready, empty = [], []
        for r, t in pairs:
            (ready if has_data(activity(_store(store), p, r, t), scopes, p) else empty).append((r, t))
        if not ready:
            first = no_data_message(scopes, p, *empty[0])
            raise NoDataError(first if len(empty) == 1 else
                              f"no data in {p.label} for any of the {len(empty)} reports; {first}")
        art = build_artifacts(_store(store), p, params,
                              inside(out_root, p.label, "_run", "artifacts.json"),
                              refresh_bands, inside(out_root, "_reference", "bands.json"))
        common = {"store": str(_store(store)), "reports_dir": str(out_root),
                  "params_dir": str(params) if params else None, "artifacts": str(art),
                  "notebook": nb_path, "timeout": timeout, "language": language,
                  "render_timeout": render_timeout,
                  "report": report or "monthly-regional"}
        jobs = [Job(region=r, team=t, period=p.label, folder=scopes.folder(r, t), **common)
                for r, t in ready]
        n_workers = workers or os.cpu_count() or 1
        results = _run_with_progress(
            len(jobs), lambda done: run_batch(jobs, n_workers, executor, scheduler, done))
        results += [JobResult(r if t == "all" else f"{r}/{t}", p.label, "no data",
                              error=no_data_message(scopes, p, r, t)) for r, t in empty]
        index = write_indexes(out_root, [p.label], params)
    except ReportingError as exc:
        _fail(exc)
    console.print(_progress_table(results))
    for i in index:
        console.print(terminal(f"index: {i}"))
    for r in results:
        if r.status == "ok":
            console.print(terminal(f"{r.output}/report.pdf\n{r.output}/report.html"))
    if any(r.status not in ("ok", "no data") for r in results):
        raise typer.Exit(1)


@app.command("run-due")
def run_due_cmd(
    store: StoreOpt = None,
    reports: Annotated[Path, typer.Option(help="output folder")] = Path("reports"),
    params: Annotated[Path | None, typer.Option(help="params folder")] = None,
    force: Annotated[bool, typer.Option(help="regenerate even when up to date")] = False,
    refresh_bands: Annotated[bool, typer.Option(
        help="re-learn the deal-size band reference from the last 12 months")] = False,
    today: Annotated[str | None, typer.Option(help="pretend today is YYYY-MM-DD")] = None,
    workers: Workers = 0,
    executor: Executor = "local",
    scheduler: Scheduler = None,
) -> None:
    """Produce and deliver every scheduled report that is due and not yet produced."""
    from datetime import date

    from .scheduler import run_due

    try:
        day = date.fromisoformat(today) if today else None
        n_workers = workers or os.cpu_count() or 1
        out = _run_with_progress(0, lambda done: run_due(
            day, _store(store), reports, params, force, n_workers, executor, scheduler, done,
            refresh_bands=refresh_bands))
    except (ReportingError, ValueError) as exc:
        _fail(exc)
    if out.locked:
        console.print("another run-due is running (reports/.run-due.lock); nothing to do")
        return
    for c in out.cleaned:
        console.print(terminal(f"removed an interrupted run's folder: {c}"))
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
            any(not d.get("ok") for d in out.deliveries):
        raise typer.Exit(1)


params_app = typer.Typer(help="Check the files in params/.", no_args_is_help=True)
app.add_typer(params_app, name="params")


@params_app.command("check")
def params_check(
    params: Annotated[Path | None, typer.Option(help="params folder")] = None,
) -> None:
    """Validate report.yaml, baselines.yaml, schedule.yaml and every source mapping."""
    from .params import load_settings, params_folder
    from .schedule import load_schedule
    from .sources import load_mapping

    try:
        d = params_folder(params)
    except ReportingError as exc:
        _fail(exc)
    problems = []
    checks = [("report.yaml + baselines.yaml", lambda: load_settings(d)),
              ("schedule.yaml", lambda: load_schedule(d))]
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
    from .metrics.sql import rep_summary_sql
    from .params import load_settings
    from .periods import parse_period
    from .store import connect

    column = {"rep": "owner", "team": "team", "region": "region", "source": "source",
              "product": "product"}.get(by)
    try:
        if column is None:
            raise ReportingError(f"--by {by!r}: use rep, team, region, source or product")
        if fmt not in ("json", "csv"):
            raise ReportingError(f"--format {fmt!r}: use json or csv")
        p = parse_period(period)
        settings = load_settings()
        with connect(_store(store), read_only=True) as con:
            table = rep_summary_sql(con, p, column, region, team, settings.stale_days)
    except ReportingError as exc:
        _fail(exc)
    if fmt == "csv":
        from .textsafe import neutralise_cells

        sys.stdout.write(neutralise_cells(table).to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(json.loads(table.to_json(orient="records")), indent=2) + "\n")


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
