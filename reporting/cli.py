"""``crm-report``: the command line. Thin: parse, validate, call one library function."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .exceptions import ReportingError

app = typer.Typer(
    name="crm-report",
    help="Turn CRM exports into sales-metric reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store (default $CRM_REPORT_STORE or data/crm.duckdb)"),
]


def _store(store: Path | None) -> Path:
    from .store import default_store_path

    return store or default_store_path()


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV / Parquet files or a folder")],
    source: Annotated[str, typer.Option(help="mapping name in params/sources/ or a path")],
    store: StoreOpt = None,
) -> None:
    """Map, validate and load a CRM export; print what was loaded and quarantined."""
    from .ingest import ingest_paths

    try:
        rep = ingest_paths(paths, source, _store(store))
    except ReportingError as exc:
        _fail(exc)
    t = Table(title=f"ingest {rep.source} -> {_store(store)}")
    for c in ("file", "table", "read", "loaded", "quarantined"):
        t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left")
    for r in rep.results:
        t.add_row(r.file, r.table, f"{r.read:,}", f"{r.loaded:,}", f"{r.quarantined:,}")
    t.add_row("total", "", f"{rep.read:,}", f"{rep.loaded:,}", f"{rep.quarantined:,}", style="bold")
    console.print(t)
    reasons = rep.reasons()
    if not reasons.empty:
        q = Table(title="quarantined rows by reason (see the quarantine table in the store)")
        for c in ("table", "reason", "rows"):
            q.add_column(c, justify="right" if c == "rows" else "left")
        for _, r in reasons.iterrows():
            q.add_row(r["table"], r["reason"], f"{r['rows']:,}")
        console.print(q)


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
    console.print(f"demo data (seed {seed}, scale {scale}) -> {_store(store)}: {sizes}")


@app.command()
def run(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q3, 2026, a..b, last-complete-month")],
    region: Annotated[str, typer.Option(help="region name, or 'all' for every region")] = "all",
    team: Annotated[str, typer.Option(help="team name, or 'all'")] = "all",
    store: StoreOpt = None,
    reports: Annotated[Path, typer.Option(help="output folder")] = Path("reports"),
    params: Annotated[Path | None, typer.Option(help="params folder")] = None,
) -> None:
    """Execute and render the monthly report of a region (or of every region)."""
    from .runner import run_report
    from .store import regions as store_regions

    try:
        targets = store_regions(_store(store)) if region.lower() == "all" else [region]
    except ReportingError as exc:
        _fail(exc)
    if not targets:
        _fail(ReportingError(f"the store {_store(store)} holds no regions"))
    failed = 0
    produced = []
    t = Table(title="reports")
    for c in ("report", "status", "seconds", "pages", "output"):
        t.add_column(c)
    for reg in targets:
        try:
            res = run_report(reg, period, team, _store(store), reports, params)
        except ReportingError as exc:
            failed += 1
            t.add_row(reg, "[red]failed[/]", "", "", str(exc))
            continue
        except Exception as exc:  # a notebook cell failed: papermill's message names it
            failed += 1
            t.add_row(reg, "[red]failed[/]", "", "", f"{type(exc).__name__}: {str(exc)[:300]}")
            continue
        t.add_row(reg, "[green]ok[/]", f"{res.seconds:.1f}", str(res.pages), str(res.output_dir))
        produced.append(res)
    console.print(t)
    for res in produced:
        console.print(f"{res.pdf}\n{res.html}", highlight=False)
    if failed:
        raise typer.Exit(1)


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
        sys.stdout.write(table.to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(json.loads(table.to_json(orient="records")), indent=2) + "\n")


def main() -> None:  # pragma: no cover - console entry
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
