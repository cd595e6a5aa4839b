"""What a report notebook calls: load a slice, compute the figures, show sections.

The notebook stays thin: ``ctx = build(...)`` computes every figure once through
``reporting.metrics``; the ``show_*`` helpers display escaped HTML fragments (rendered by
Jinja2 with autoescape, so CRM text never becomes markup) and PNG charts. The figures
behind the report travel in ``ctx.figures`` and are emitted as ``metrics.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, display
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import metrics, plots
from . import store as _store
from .params import ReportSettings, load_settings
from .periods import Period, parse_period

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
METRICS_MIME = "application/vnd.crm-report.metrics+json"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES / "fragments"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def fmt_money(v: float | None, currency: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{currency} {plots.money(v)}".strip()


def fmt_pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0%}"


def fmt_num(v: float | None, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:,.{digits}f}"


_env.filters.update(money=fmt_money, pct=fmt_pct, num=fmt_num)


@dataclass
class ReportContext:
    """Everything one report shows, computed once."""

    region: str
    team: str
    period: Period
    settings: ReportSettings
    data: _store.Dataset
    opps: pd.DataFrame
    summary: pd.DataFrame
    win_rates: pd.DataFrame
    open_by_rep: pd.DataFrame
    account_values: pd.DataFrame
    figures: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str | None] = field(default_factory=dict)
    generated_at: str = ""

    @property
    def scope(self) -> str:
        parts = [p for p in (self.region, self.team) if p and p.lower() != "all"]
        return " / ".join(parts) or "All regions"


def build(
    region: str = "all",
    team: str = "all",
    period: str = "last-complete-month",
    store: str | None = None,
    params_dir: str | None = None,
    history_months: int = 25,
) -> ReportContext:
    """Load the slice of the store a report needs and compute its figures."""
    p = parse_period(period)
    settings = load_settings(params_dir)
    since = p.start - pd.DateOffset(months=history_months)
    data = _store.load(store, region=region, team=team, since=since, until=p.end)
    opps = data.opportunities
    reps = data.reps
    summary = metrics.rep_summary(opps, p, reps, "owner", settings.stale_days)
    win_rates = metrics.win_rate(opps, p, "owner")
    wr_base = settings.baselines.get("win_rate")
    if wr_base is not None:
        ratings_by_rep = metrics.rate_win_rates(
            win_rates, wr_base.good, wr_base.bad, settings.max_interval_width
        )
        summary = summary.merge(
            pd.DataFrame({"group": win_rates["group"], "rating": ratings_by_rep}),
            on="group", how="left",
        )
    open_by_rep = metrics.open_pipeline(opps, p.end, "owner", settings.stale_days, reps)
    avail = data.available()
    account_values = (
        metrics.account_value(data.revenue, data.accounts, p.end)
        if avail["revenue"] and avail["accounts"]
        else pd.DataFrame(columns=["account_id", "acquired_by", "account_manager", "total"])
    )
    figures: dict[str, Any] = {}
    for key, per in (("current", p), ("previous", p.previous()), ("last_year", p.last_year())):
        figures[key] = metrics.headline(
            opps, per, reps, data.revenue, data.accounts, settings.stale_days
        )
    cur = figures["current"]
    stale_share = (cur["stale_open_count"] / cur["open_count"]) if cur["open_count"] else None
    figures["current"]["stale_share"] = stale_share
    ratings = {}
    for name, th in settings.baselines.items():
        ratings[name] = th.rate(figures["current"].get(name))
    figures["ratings"] = ratings
    return ReportContext(
        region=region,
        team=team,
        period=p,
        settings=settings,
        data=data,
        opps=opps,
        summary=summary,
        win_rates=win_rates,
        open_by_rep=open_by_rep,
        account_values=account_values,
        figures=figures,
        missing=metrics.requirements(avail, opps),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


# --------------------------------------------------------------------------- display


def show_html(template: str, **values: Any) -> None:
    """Render a fragment from ``templates/fragments`` (autoescaped) and display it."""
    display(HTML(_env.get_template(template).render(**values)))


def show_chart(ax) -> None:
    """Display a chart as a 200-dpi PNG."""
    display(Image(data=plots.figure_png(ax), format="png"))


def kpis(ctx: ReportContext) -> list[dict[str, Any]]:
    """The five headline tiles: label, value, change vs previous period and last year,
    rating."""
    f, prev, ly = ctx.figures["current"], ctx.figures["previous"], ctx.figures["last_year"]
    cur = ctx.settings.currency
    r = ctx.figures["ratings"]

    def delta(key: str, kind: str) -> tuple[str, str]:
        out = []
        for other in (prev, ly):
            a, b = f.get(key), other.get(key)
            if a is None or b is None:
                out.append("–")
            elif kind == "pp":
                out.append(f"{(a - b) * 100:+.0f} pp")
            elif b == 0:
                out.append("–")
            else:
                out.append(f"{(a / b - 1):+.0%}")
        return out[0], out[1]

    tiles = [
        ("Win rate", fmt_pct(f["win_rate"]), "win_rate", "pp", r.get("win_rate"),
         f"{f['won']} won / {f['won'] + f['lost']} closed"),
        ("Median cycle (won)", f"{fmt_num(f['median_cycle_days_won'])} days",
         "median_cycle_days_won", "rel", r.get("median_cycle_days_won"), "created to closed"),
        ("Average won deal", fmt_money(f["avg_won_amount"], cur), "avg_won_amount", "rel",
         None, f"median {fmt_money(f['median_won_amount'], cur)}"),
        ("Revenue per account", fmt_money(f["avg_account_value"], cur), "avg_account_value",
         "rel", None, "to date, accounts in scope"),
        ("Open deals per rep", fmt_num(f["open_per_rep"], 1), "open_per_rep", "rel",
         r.get("stale_share"),
         f"{f['stale_open_count']} of {f['open_count']} stale"),
    ]
    out = []
    for label, value, key, kind, rating, note in tiles:
        dp, dy = delta(key, kind)
        out.append({"label": label, "value": value, "vs_prev": dp, "vs_ly": dy,
                    "rating": rating, "note": note})
    return out


def emit_metrics(ctx: ReportContext) -> None:
    """Attach every figure the report shows to the notebook as a JSON output; the runner
    writes it to ``metrics.json``."""
    display({METRICS_MIME: metrics_payload(ctx)}, raw=True)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def metrics_payload(ctx: ReportContext) -> dict[str, Any]:
    """The JSON-ready figures of a report, with units and definition names."""
    units = {
        "win_rate": "ratio", "win_rate_ci_low": "ratio", "win_rate_ci_high": "ratio",
        "median_cycle_days_won": "days", "won_amount": ctx.settings.currency,
        "avg_won_amount": ctx.settings.currency, "median_won_amount": ctx.settings.currency,
        "open_amount": ctx.settings.currency, "avg_account_value": ctx.settings.currency,
        "open_count": "deals", "stale_open_count": "deals", "open_per_rep": "deals",
        "won": "deals", "lost": "deals", "stale_share": "ratio",
    }
    definitions = {
        "win_rate": "win_rate", "median_cycle_days_won": "cycle_length",
        "avg_won_amount": "deal_size", "avg_account_value": "account_value",
        "open_per_rep": "open_pipeline",
    }
    headline = {
        k: {"value": _clean(v), "unit": units.get(k, ""), "definition": definitions.get(k)}
        for k, v in ctx.figures["current"].items()
    }
    return {
        "region": ctx.region,
        "team": ctx.team,
        "period": ctx.period.label,
        "period_start": ctx.period.start.date().isoformat(),
        "period_end": ctx.period.last_day.date().isoformat(),
        "data_as_of": _clean(ctx.data.as_of),
        "generated_at": ctx.generated_at,
        "currency": ctx.settings.currency,
        "headline": headline,
        "previous": {k: _clean(v) for k, v in ctx.figures["previous"].items()},
        "last_year": {k: _clean(v) for k, v in ctx.figures["last_year"].items()},
        "ratings": ctx.figures["ratings"],
        "by_rep": json.loads(ctx.summary.to_json(orient="records")),
        "not_computable": {k: v for k, v in ctx.missing.items() if v},
    }


# --------------------------------------------------------------------------- sections


def show_cover(ctx: ReportContext) -> None:
    show_html(
        "cover.html.j2",
        company=ctx.settings.company,
        title=ctx.settings.title,
        scope=ctx.scope,
        period_title=ctx.period.title,
        period_start=ctx.period.start.date().isoformat(),
        period_end=ctx.period.last_day.date().isoformat(),
        as_of=ctx.data.as_of.date().isoformat() if ctx.data.as_of is not None else None,
        generated_at=ctx.generated_at,
    )


def findings(ctx: ReportContext, limit: int = 6) -> list[str]:
    from .insights import rep_findings

    return [f.text for f in rep_findings(ctx.summary)[:limit]]


def show_summary(ctx: ReportContext) -> None:
    show_html("summary.html.j2", tiles=kpis(ctx), insights=findings(ctx))


SECTIONS = {
    "conversion": (
        "1. Conversion",
        "each dot is a rep's win rate on deals closed this period; the grey bar is its 95% "
        "interval: a short bar is a sure figure, a long one means too few deals to judge.",
        "win_rate",
    ),
    "cycle": (
        "2. Sales cycle length",
        "reps to the right close many deals, reps higher up take longer; top-right reps "
        "close many deals slowly, which is a story about their deal mix, not an error.",
        "cycle_length",
    ),
    "deal_size": (
        "3. Deal size",
        "the histogram uses a log scale, so each step right is ten times larger.",
        "deal_size",
    ),
    "clv": (
        "4. Customer value",
        "average revenue to date of the accounts each rep won and each account manager "
        "keeps: low for the acquirer points at the wrong customers, low for the manager at "
        "how the account was run.",
        "account_value",
    ),
    "pipeline": (
        "5. Open opportunities",
        "bars are open deals at period end (orange: stale, no activity for the stale "
        "threshold); the red tick is the rep's capacity.",
        "open_pipeline",
    ),
}


def show_section(ctx: ReportContext, key: str) -> None:
    title, how, metric = SECTIONS[key]
    show_html("section.html.j2", title=title, how_to_read=how, missing=ctx.missing.get(metric))


def show_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15) -> None:
    """A compact table: ``columns`` are (key, label, format) with format one of
    ``text``, ``int``, ``num1``, ``pct``, ``money``; at most ``limit`` rows."""
    def text(v) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    fmt = {"text": text, "int": lambda v: fmt_num(v), "num1": lambda v: fmt_num(v, 1),
           "pct": fmt_pct, "money": fmt_money}
    rows = [[fmt[f](r[k]) for k, _, f in columns] for _, r in frame.head(limit).iterrows()]
    cols = [{"label": label, "align": "" if f == "text" else "num"} for _, label, f in columns]
    show_html("table.html.j2", columns=cols, rows=rows, caption=caption,
              more=len(frame) > limit, total=len(frame))


def show_quality(ctx: ReportContext) -> None:
    log = ctx.data.ingest_log.to_dict("records") if not ctx.data.ingest_log.empty else []
    q = ctx.data.quarantine.to_dict("records") if not ctx.data.quarantine.empty else []
    missing = [(k, v) for k, v in ctx.missing.items() if v]
    show_html("quality.html.j2", log=log, quarantine=q, missing=missing)


def show_methodology(ctx: ReportContext) -> None:
    show_html("methodology.html.j2", definitions=list(metrics.DEFINITIONS.items()))


REP_TABLES = {
    "conversion": ("Win rate by rep", "win_rate", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"), ("lost", "Lost", "int"),
        ("win_rate", "Win rate", "pct"), ("rating", "Rating", "text"),
        ("created", "Created", "int")]),
    "cycle": ("Cycle length by rep (days)", "won", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("median_cycle_days_won", "Median won", "int"),
        ("mean_cycle_days_won", "Mean won", "int"),
        ("median_cycle_days_lost", "Median lost", "int")]),
    "deal_size": ("Won deal size by rep", "avg_won_amount", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("avg_won_amount", "Average", "money"), ("median_won_amount", "Median", "money")]),
    "pipeline": ("Open pipeline by rep at period end", "open_count", False, [
        ("group", "Rep", "text"), ("open_count", "Open", "int"),
        ("stale_open_count", "Stale", "int"), ("open_amount", "Value", "money"),
        ("capacity", "Capacity", "int")]),
}


def show_rep_table(ctx: ReportContext, key: str, limit: int = 15) -> None:
    """The compact per-rep table of a section, sorted by its main figure."""
    caption, sort, ascending, columns = REP_TABLES[key]
    columns = [c for c in columns if c[0] in ctx.summary.columns]
    frame = ctx.summary.sort_values(sort, ascending=ascending, na_position="last")
    show_table(frame, columns, caption, limit)


def show_value_table(ctx: ReportContext, by: str, limit: int = 10) -> None:
    """Average revenue to date per acquiring rep or account manager."""
    av = ctx.account_values
    if av.empty:
        return
    t = (av.dropna(subset=[by]).groupby(by)["total"].agg(["count", "mean", "sum"])
         .sort_values("mean", ascending=False).reset_index())
    label = "Acquired by" if by == "acquired_by" else "Account manager"
    show_table(t, [(by, label, "text"), ("count", "Accounts", "int"),
                   ("mean", "Avg revenue", "money"), ("sum", "Total revenue", "money")],
               f"Revenue to date per account, by {label.lower()}", limit)
