"""What a report notebook calls: load a slice, compute the figures, show sections.

The notebook stays thin: ``ctx = build(...)`` computes every figure once through
``reporting.metrics``; the ``show_*`` helpers display escaped HTML fragments (rendered by
Jinja2 with autoescape, so CRM text never becomes markup) and PNG charts. The figures
behind the report travel in ``ctx.figures`` and are emitted as ``metrics.json``.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, display
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import metrics, plots
from . import store as _store
from .exceptions import ParamsError
from .i18n import (
    _CATALOGUES,
    LANGUAGES,
    format_date,
    localize_html,
    localize_numbers,
    period_title,
    tr,
)
from .metrics.ratings import team_profiles
from .metrics.suite import Analysis, analyse
from .models.reference import DEFINITIONS as BAND_DEFINITIONS
from .models.reference import clv_reference
from .params import ReportSettings, load_settings
from .periods import Period, parse_period
from .resources import templates_dir

TEMPLATES = templates_dir()  # shipped in the package (reporting/resources/templates)
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
    """Everything one report shows, computed once by :func:`reporting.metrics.suite.analyse`."""

    region: str
    team: str
    period: Period
    settings: ReportSettings
    data: _store.Dataset
    a: Analysis
    generated_at: str = ""
    language: str = "en"
    artifacts: dict = field(default_factory=dict)

    @property
    def scope(self) -> str:
        parts = [p for p in (self.region, self.team) if p and p.lower() != "all"]
        return " / ".join(parts) or self.t("All regions")

    def t(self, text: str) -> str:
        """``text`` in the report's language."""
        return tr(text, self.language)

    @property
    def period_title(self) -> str:
        return period_title(self.period, self.language, self.settings.calendar)

    @property
    def opps(self) -> pd.DataFrame:
        return self.data.opportunities

    @property
    def summary(self) -> pd.DataFrame:
        return self.a.summary

    @property
    def missing(self) -> dict[str, str | None]:
        return self.a.missing


def build(
    region: str = "all",
    team: str = "all",
    period: str = "last-complete-month",
    store: str | None = None,
    params_dir: str | None = None,
    artifacts: str | None = None,
    language: str = "en",
    history_months: int = 13,
) -> ReportContext:
    """Load the slice of the store a report needs and compute its figures.

    ``artifacts`` is the run's shared artifacts file (``crm-report run`` writes it once per
    run): fixed deal-size band edges so every region uses the same bands. The 13 months of
    history cover the same period last year and the trailing-12-month baselines."""
    p = parse_period(period)
    settings = load_settings(params_dir)
    if language not in LANGUAGES:
        raise ParamsError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    shared = json.loads(Path(artifacts).read_text(encoding="utf-8")) if artifacts else {}
    since = p.start - pd.DateOffset(months=history_months)
    data = _store.load(store, region=region, team=team, since=since, until=p.end)
    # customer value needs every account in scope, not only those with a recent deal
    accounts, revenue = _store.load_customers(store, region=region, team=team, until=p.end)
    data = replace(data, accounts=accounts, revenue=revenue)
    clv = shared.get("clv")
    if clv is not None and clv.get("file"):
        pred = pd.read_parquet(Path(artifacts).with_name(clv["file"])).astype(
            {"account_id": str}).set_index("account_id")["predicted_value"]
    elif len(data.revenue):  # a notebook run on its own: choose and fit on this slice
        pred, clv = clv_reference(data.revenue, p.end,
                                  horizon_months=settings.clv.horizon_months,
                                  discount_rate=settings.clv.discount_rate)
    else:
        pred = None
    a = analyse(data.opportunities, p, settings, data.reps, data.stage_history, data.leads,
                data.revenue, data.accounts, data.available(),
                band_edges=shared.get("band_edges"), predicted_value=pred, clv_model=clv,
                as_of=data.as_of)
    return ReportContext(region=region, team=team, period=p, settings=settings, data=data, a=a,
                         generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                         language=language, artifacts=shared)


# --------------------------------------------------------------------------- display


def render_fragment(template: str, language: str = "en", **values: Any) -> str:
    """A fragment from ``templates/fragments``, autoescaped, in ``language`` (its ``_()``
    strings through the catalogue, Persian digits for ``fa``)."""
    html = _env.get_template(template).render(_=lambda text: tr(text, language), **values)
    return localize_html(html, language)


def show_html(template: str, language: str = "en", **values: Any) -> None:
    """Render a fragment (see :func:`render_fragment`) and display it."""
    display(HTML(render_fragment(template, language, **values)))


def localize_axes(ax, language: str) -> None:
    """Chart title, axis labels and legend entries through the catalogue."""
    if language == "en":
        return
    ax.set_title(tr(ax.get_title(), language))
    ax.set_xlabel(tr(ax.get_xlabel(), language))
    ax.set_ylabel(tr(ax.get_ylabel(), language))
    catalogue = _CATALOGUES.get(language, {})
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    if any(t in catalogue for t in ticks):  # our own row labels; data labels stay as they are
        ax.set_yticks(ax.get_yticks(), [catalogue.get(t, t) for t in ticks])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(tr(text.get_text(), language))


def show_chart(ax, ctx: ReportContext | None = None) -> None:
    """Display a chart as a 200-dpi PNG (its text in the report's language)."""
    if ctx is not None:
        localize_axes(ax, ctx.language)
    display(Image(data=plots.figure_png(ax), format="png"))


def kpis(ctx: ReportContext) -> list[dict[str, Any]]:
    """The five headline tiles: label, value, change vs previous period and last year,
    rating and a note with the figures behind it."""
    h = ctx.a.headline
    f, prev, ly = h["current"], h["previous"], h["last_year"]
    cur = ctx.settings.currency
    r = ctx.a.ratings

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

    km = f.get("median_days_to_win")
    bloat = f.get("bloat_months")
    t = ctx.t
    tiles = [
        (t("Win rate"), fmt_pct(f["win_rate"]), "win_rate", "pp", r.get("win_rate"),
         t("{won} won / {closed} closed").format(won=f["won"], closed=f["won"] + f["lost"])),
        lead_tile(ctx),
        (t("Median cycle (won)"), t("{n} days").format(n=fmt_num(f["median_cycle_days_won"])),
         "median_cycle_days_won", "rel", r.get("median_cycle_days_won"),
         t("time to win incl. open deals: {n} days (Aalen-Johansen)").format(n=fmt_num(km))
         if km is not None else t("created to won")),
        (t("Average won deal"), fmt_money(f["avg_won_amount"], cur), "avg_won_amount", "rel",
         None, t("median {value}").format(value=fmt_money(f["median_won_amount"], cur))),
        (t("Revenue per account"), fmt_money(f["avg_account_value"], cur), "avg_account_value",
         "rel", None, value_tile_note(f, cur, ctx.language)),
        pipeline_value_tile(ctx),
        (t("Open deals per rep"), fmt_num(f["open_per_rep"], 1), "open_per_rep", "rel",
         r.get("load"),
         (t("{load} of capacity").format(load=fmt_pct(f.get("load")))
          if f.get("load") is not None else t("no capacity: load not rated"))
         + (t("; {months} months of pipeline").format(months=fmt_num(bloat, 1))
            if bloat is not None else "")),
        stale_tile(ctx),
    ]
    out = []
    for label, value, key, kind, rating, note in tiles:
        dp, dy = delta(key, kind)
        out.append({"label": label, "value": value, "vs_prev": dp, "vs_ly": dy,
                    "rating": rating, "note": note})
    return out


def lead_tile(ctx: ReportContext) -> tuple:
    """Lead conversion at the maturity horizon, rated only when the period's cohort is
    mature (see :func:`reporting.metrics.conversion.lead_conversion`)."""
    f, t = ctx.a.headline["current"], ctx.t
    days = f.get("lead_conversion_horizon_days")
    if f.get("lead_conversion_leads") is None:
        note = t("needs the leads table") if not ctx.data.available().get("leads") \
            else t("no leads created in the period")
        return (t("Lead conversion"), "–", "lead_conversion", "pp", None, note)
    if not f.get("lead_conversion_mature"):
        on = format_date(pd.Timestamp(f["lead_conversion_mature_on"]).date(), ctx.language,
                         ctx.settings.calendar)
        return (t("Lead conversion"), "–", "lead_conversion", "pp", None,
                t("not rated yet: the period's leads mature on {date} ({days}-day horizon)")
                .format(date=on, days=fmt_num(days)))
    return (t("Lead conversion"), fmt_pct(f["lead_conversion"]), "lead_conversion", "pp",
            ctx.a.ratings.get("lead_conversion"),
            t("of {n} leads created in the period, converted within {days} days").format(
                n=fmt_num(f["lead_conversion_leads"]), days=fmt_num(days)))


def pipeline_value_tile(ctx: ReportContext) -> tuple:
    """Open pipeline value at period end from the amounts known then; not computable when
    most open deals have none."""
    f, t = ctx.a.headline["current"], ctx.t
    n, unknown = f["open_count"], f.get("open_amount_unknown_count") or 0
    value = fmt_money(f.get("open_amount"), ctx.settings.currency) \
        if f.get("open_amount") is not None else t("not computable")
    note = t("{open} open deals; {unknown} ({share}) without an amount known then").format(
        open=fmt_num(n), unknown=fmt_num(unknown),
        share=fmt_pct(f.get("open_amount_unknown_share")))
    return (t("Open pipeline value"), value, "open_amount", "rel", None, note)


def stale_tile(ctx: ReportContext) -> tuple:
    """Share of open deals gone stale (the one definition), rated against stale_share."""
    f, t = ctx.a.headline["current"], ctx.t
    share = f.get("stale_share")
    if share is None:
        if not f["open_count"]:
            note = t("no open deals")
        elif not (metrics.pipeline.has_activity(ctx.opps) or len(ctx.data.stage_history)):
            note = t("no activity dates or stage history to judge it")
        else:
            note = t("{unknown} of {open} open deals: state unknown").format(
                unknown=fmt_num(f.get("stale_unknown_count")), open=fmt_num(f["open_count"]))
        return (t("Stale open deals"), t("not computable"), "stale_share", "pp", None, note)
    known = f["open_count"] - f["stale_unknown_count"]
    note = t("{stale} of {known} open deals without a touch for the stale threshold").format(
        stale=fmt_num(f["stale_open_count"]), known=fmt_num(known))
    if f["stale_unknown_count"]:
        note += t("; {n} unknown").format(n=fmt_num(f["stale_unknown_count"]))
    return (t("Stale open deals"), fmt_pct(share), "stale_share", "pp",
            ctx.a.ratings.get("stale_share"), note)


def say(ctx: ReportContext, text: str | None) -> str | None:
    """A metrics message (plain or :class:`reporting.metrics.core.Note`) in the report's
    language."""
    if not text:
        return text
    template = getattr(text, "template", None)
    if template is not None:
        return ctx.t(template).format(**text.params)
    return ctx.t(text)


def value_tile_note(f: dict[str, Any], currency: str, language: str = "en") -> str:
    """The note under the revenue-per-account tile: the basis of the figure (revenue in
    the period per paying account), the churn of year-old customers and the revenue to
    date per customer account, each labelled."""
    if not f.get("customers"):
        return tr("no revenue in scope", language)
    parts = [tr("in the period, {n} paying accounts", language).format(
        n=fmt_num(f.get("paying_accounts")))]
    if f.get("churn_rate") is not None:
        parts.append(tr("{rate} of {n} year-old customers churned", language).format(
            rate=fmt_pct(f["churn_rate"]), n=fmt_num(f.get("mature_accounts"))))
    parts.append(tr("to date {value} per customer", language).format(
        value=fmt_money(f.get("value_to_date_per_account"), currency)))
    return "; ".join(parts)


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


UNITS = {
    "win_rate": "ratio", "win_rate_ci_low": "ratio", "win_rate_ci_high": "ratio",
    "median_cycle_days_won": "days", "median_days_to_win": "days", "won_by_horizon": "ratio",
    "p90_won_cycle_days": "days",
    "won_amount": "currency", "avg_won_amount": "currency", "median_won_amount": "currency",
    "open_amount": "currency", "avg_account_value": "currency", "open_count": "deals",
    "open_amount_unknown_count": "deals", "open_amount_unknown_share": "ratio",
    "stale_open_count": "deals", "stale_unknown_count": "deals",
    "older_than_p90_count": "deals", "open_per_rep": "deals", "load": "ratio",
    "lead_conversion_leads": "leads", "lead_conversion_horizon_days": "days",
    "won": "deals", "lost": "deals", "stale_share": "ratio", "lead_conversion": "ratio",
    "bloat_months": "months", "lost_when_tired_share": "ratio", "churn_rate": "ratio",
    "revenue_in_period": "currency", "paying_accounts": "accounts", "customers": "accounts",
    "value_to_date_per_account": "currency", "mature_accounts": "accounts",
    "churned_accounts": "accounts",
}
DEFINITION_OF = {
    "win_rate": "win_rate", "win_rate_ci_low": "win_rate", "win_rate_ci_high": "win_rate",
    "median_cycle_days_won": "cycle_length", "median_days_to_win": "time_to_win",
    "won_by_horizon": "time_to_win", "p90_won_cycle_days": "time_to_win",
    "older_than_p90_count": "open_pipeline", "avg_won_amount": "deal_size",
    "median_won_amount": "deal_size", "won_amount": "deal_size",
    "avg_account_value": "account_value", "churn_rate": "churn",
    "open_per_rep": "open_pipeline", "open_count": "open_pipeline",
    "open_amount": "open_pipeline", "open_amount_unknown_count": "open_pipeline",
    "open_amount_unknown_share": "open_pipeline", "load": "open_pipeline",
    "stale_open_count": "stale", "stale_unknown_count": "stale", "stale_share": "stale",
    "bloat_months": "bloat",
    "lost_when_tired_share": "closed_when_tired", "lead_conversion": "lead_conversion",
    "lead_conversion_leads": "lead_conversion", "lead_conversion_mature": "lead_conversion",
    "lead_conversion_mature_on": "lead_conversion",
    "lead_conversion_horizon_days": "lead_conversion",
    "won": "win_rate", "lost": "win_rate",
    "revenue_in_period": "account_value", "paying_accounts": "account_value",
    "customers": "account_value", "value_to_date_per_account": "account_value",
    "mature_accounts": "churn", "churned_accounts": "churn",
}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso")) if len(frame) else []


def metrics_payload(ctx: ReportContext) -> dict[str, Any]:
    """The JSON-ready figures of a report, with units and definition names."""
    a, cur = ctx.a, ctx.settings.currency
    headline = {
        k: {"value": _clean(v),
            "unit": cur if UNITS.get(k) == "currency" else UNITS.get(k, ""),
            "definition": DEFINITION_OF.get(k)}
        for k, v in a.headline["current"].items()
    }
    return {
        "region": ctx.region,
        "team": ctx.team,
        "language": ctx.language,
        "period": ctx.period.label,
        "period_start": ctx.period.start.date().isoformat(),
        "period_end": ctx.period.last_day.date().isoformat(),
        "data_as_of": _clean(ctx.data.as_of),
        "generated_at": ctx.generated_at,
        "currency": cur,
        "headline": headline,
        "previous": {k: _clean(v) for k, v in a.headline["previous"].items()},
        "last_year": {k: _clean(v) for k, v in a.headline["last_year"].items()},
        "ratings": a.ratings,
        "baselines": {k: {"good": t.good, "bad": t.bad, "higher_is_better": t.higher_is_better}
                      for k, t in a.thresholds.items()},
        "profile_weights": a.profile_weights,
        "findings": [{"text": f.text, "metric": f.metric, "subject": f.subject,
                      "value": f.value, "reference": f.reference} for f in a.findings],
        "by_rep": _records(a.summary),
        "funnel": _records(a.funnel),
        "win_rate_trend": _records(a.win_rate_trend),
        "cohorts": _records(a.cohorts),
        "lead_conversion_by_source": _records(a.leads),
        "time_to_win_by_rep": _records(a.time_to_win),
        "deal_bands": {"edges": a.band_edges, "notes": a.band_notes},
        "band_mix": _records(a.band_mix),
        "aging": {str(k): {str(c): int(v) for c, v in row.items()}
                  for k, row in a.aging.iterrows()},
        "clv_model": a.clv_model,
        "band_reference": ctx.artifacts.get("band_reference"),
        "band_drift": ctx.artifacts.get("band_drift"),
        "acquirers": _records(a.acquirers),
        "account_managers": _records(a.managers),
        "not_computable": {k: str(v) for k, v in a.missing.items() if v},
    }


# --------------------------------------------------------------------------- sections


def logo_data_uri(name: str | None) -> str | None:
    """The branding logo (a file in ``templates/assets``) as a data: URI, so the HTML stays
    self-contained; None when no logo is configured."""
    if not name:
        return None
    path = (TEMPLATES / "assets" / name).resolve()
    if not path.is_relative_to((TEMPLATES / "assets").resolve()) or not path.exists():
        raise ParamsError(f"branding logo {name!r} is not a file in templates/assets/")
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
            ".jpeg": "image/jpeg"}.get(path.suffix.lower())
    if mime is None:
        raise ParamsError(f"branding logo {name!r}: use a .png, .jpg or .svg file")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


PERIOD_TITLES = {"month": "Monthly Sales Report", "quarter": "Quarterly Sales Report",
                 "year": "Annual Sales Report", "range": "Sales Report"}


def report_title(configured: str, period: Period) -> str:
    """The report's title for ``period``: the configured title when it names no cadence;
    a title that says "Monthly" (the default, "Monthly Sales Report") becomes "Quarterly
    Sales Report", "Annual Sales Report" or, for a date range, "Sales Report"."""
    if not configured.startswith("Monthly "):
        return configured
    if configured == PERIOD_TITLES["month"]:
        return PERIOD_TITLES[period.kind]
    rest = configured[len("Monthly "):]
    return {"month": configured, "quarter": f"Quarterly {rest}", "year": f"Annual {rest}",
            "range": rest[:1].upper() + rest[1:]}[period.kind]


def show_cover(ctx: ReportContext, title: str | None = None) -> None:
    """The cover page; ``title`` defaults to the configured title for the period's kind
    (:func:`report_title`)."""
    cal = ctx.settings.calendar
    show_html(
        "cover.html.j2",
        ctx.language,
        company=ctx.settings.company,
        title=ctx.t(title or report_title(ctx.settings.title, ctx.period)),
        logo=logo_data_uri(ctx.settings.branding.logo),
        scope=ctx.scope,
        period_title=ctx.period_title,
        period_start=format_date(ctx.period.start.date(), ctx.language, cal),
        period_end=format_date(ctx.period.last_day.date(), ctx.language, cal),
        as_of=format_date(ctx.data.as_of.date(), ctx.language, cal)
        if ctx.data.as_of is not None else None,
        generated_at=ctx.generated_at,
    )


def findings(ctx: ReportContext, limit: int = 6) -> list[str]:
    """The top findings, ranked; each carries its figures."""
    return [f.render(ctx.language) for f in ctx.a.findings[:limit]]


def show_summary(ctx: ReportContext) -> None:
    show_html("summary.html.j2", ctx.language, tiles=kpis(ctx), insights=findings(ctx))


SECTIONS = {
    "conversion": (
        "1. Conversion",
        "the trend shows the monthly win rate in its baseline band (green good, amber "
        "watch, red bad); the funnel shows where closed deals stopped; per rep, a long grey "
        "bar means too few deals to judge.",
        "win_rate",
    ),
    "cycle": (
        "2. Sales cycle length",
        "reps to the right close many deals, reps higher up take longer; top-right reps "
        "close many deals slowly, which is a story about their deal mix, not an error. "
        "'To win, incl. open' is the median days to win counting the deals still open "
        "(Aalen-Johansen, losses as a competing outcome), which a median of won deals "
        "leaves out.",
        "cycle_length",
    ),
    "deal_size": (
        "3. Deal size",
        "the histogram uses a log scale, so each step right is ten times larger; dashed "
        "lines are the band edges. The mix chart compares each rep with the team and target.",
        "deal_size",
    ),
    "clv": (
        "4. Customer lifetime value",
        "every customer account in scope counts, including those without a recent deal. "
        "Acquirers are compared per account-year and on each account's first year, so old "
        "books do not look better for being old; acquirers whose customers churn point at "
        "the wrong customers; account managers whose accounts expand (or do not) point at "
        "how accounts are run.",
        "account_value",
    ),
    "pipeline": (
        "5. Open opportunities",
        "bars are open deals at period end (orange: stale, no touch for the stage's stale "
        "threshold); the red tick is the rep's capacity. The heatmap shows where old deals "
        "pile up by the stage they were in at period end.",
        "open_pipeline",
    ),
}


SECTION_LIMITS = {  # what each section shows that the data may not support
    "conversion": ("win_rate", "stage_funnel", "lead_conversion"),
    "cycle": ("cycle_length",),
    "deal_size": ("deal_size",),
    "clv": ("account_value",),
    "pipeline": ("open_pipeline", "open_pipeline_value", "stale_deals", "capacity",
                 "aging_by_stage", "closed_when_tired"),
}


def show_section(ctx: ReportContext, key: str) -> None:
    title, how, metric = SECTIONS[key]
    notes = [say(ctx, ctx.missing.get(m)) for m in SECTION_LIMITS.get(key, (metric,))]
    show_html("section.html.j2", ctx.language, title=ctx.t(title), how_to_read=ctx.t(how),
              missing="; ".join(n for n in notes if n) or None)


def show_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], caption: str = "",
               limit: int = 15, language: str = "en") -> None:
    """A compact table: ``columns`` are (key, label, format) with format one of
    ``text``, ``int``, ``num1``, ``pct``, ``money``; at most ``limit`` rows."""
    def text(v) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    fmt = {"text": text, "int": lambda v: fmt_num(v), "num1": lambda v: fmt_num(v, 1),
           "pct": fmt_pct, "money": fmt_money}
    rows = [[fmt[f](r[k]) for k, _, f in columns] for _, r in frame.head(limit).iterrows()]
    if language != "en":
        rows = [[tr(v, language) if f == "text" and v in ("good", "watch", "bad",
                 "too few deals to judge") else v for v, (_, _, f) in zip(row, columns, strict=True)]
                for row in rows]
    cols = [{"label": tr(label, language), "align": "" if f == "text" else "num"}
            for _, label, f in columns]
    show_html("table.html.j2", language, columns=cols, rows=rows, caption=tr(caption, language),
              more=len(frame) > limit, total=len(frame))


def show_quality(ctx: ReportContext) -> None:
    log = ctx.data.ingest_log.to_dict("records") if not ctx.data.ingest_log.empty else []
    q = ctx.data.quarantine.to_dict("records") if not ctx.data.quarantine.empty else []
    notes = getattr(ctx.data, "data_notes", None)  # decisions taken at ingest, with counts
    notes = notes.to_dict("records") if notes is not None and not notes.empty else []
    missing = [(k, say(ctx, v)) for k, v in ctx.missing.items() if v]
    show_html("quality.html.j2", ctx.language, log=log, quarantine=q, notes=notes,
              missing=missing)


def definitions() -> dict[str, str]:
    """Every definition the methodology appendix prints: the metrics engine's, with the
    customer-value, lifetime-value and band-reference definitions of
    :mod:`reporting.metrics.clv`, :data:`CLV_DEFINITIONS` and
    :mod:`reporting.models.reference` (which replace the engine's entries of the same name)."""
    return {**metrics.DEFINITIONS, **metrics.clv.DEFINITIONS, **CLV_DEFINITIONS,
            **BAND_DEFINITIONS}


CLV_DEFINITIONS = {
    "predicted_clv": (
        "Customer lifetime value (predicted): revenue each account is expected to bring over "
        "the horizon in params/report.yaml (clv.horizon_months), discounted month by month at "
        "the annual rate clv.discount_rate (month k counts 1 / (1 + rate)^(k / 12)), from the "
        "model that backtests best on this company's revenue (BG/NBD with average spend, "
        "BG/NBD with Gamma-Gamma spend, RFM segments, a gradient-boosted regressor or "
        "shifted-beta-geometric retention), scored by |aggregate error| + (1 - Spearman) on "
        "the last 6 months held out (undiscounted, as booked); averaged per acquiring rep "
        "and account manager. Gamma-Gamma spend uses each repeat customer's mean over "
        "positive repeat purchases; zero-value lines are counted and left out."
    ),
    "deal_size": (
        "Deal size: mean and median amount of deals won in the period (closed_at in the "
        "period, status won), in the reporting currency; a zero-amount win counts (in the "
        "bands too, in the smallest band), a missing amount does not. The histogram shows "
        "every won deal of the period, zero-amount wins in a bar of their own."
    ),
}


def show_methodology(ctx: ReportContext) -> None:
    show_html("methodology.html.j2", ctx.language,
              definitions=[(k, ctx.t(v)) for k, v in definitions().items()])


REP_TABLES = {
    "conversion": ("Win rate by rep", "win_rate", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"), ("lost", "Lost", "int"),
        ("win_rate", "Win rate", "pct"), ("rating", "Rating", "text"),
        ("created", "Created", "int")]),
    "cycle": ("Cycle length by rep (days)", "won", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("median_cycle_days_won", "Median won", "int"),
        ("mean_cycle_days_won", "Mean won", "int"),
        ("median_cycle_days_lost", "Median lost", "int"),
        ("median_days_to_win", "To win, incl. open", "int")]),
    "deal_size": ("Won deal size by rep", "avg_won_amount", False, [
        ("group", "Rep", "text"), ("won", "Won", "int"),
        ("avg_won_amount", "Average", "money"), ("median_won_amount", "Median", "money")]),
    "pipeline": ("Open pipeline by rep at period end", "open_count", False, [
        ("group", "Rep", "text"), ("open_count", "Open", "int"),
        ("stale_open_count", "Stale", "int"), ("open_amount", "Value", "money"),
        ("open_amount_unknown", "No amount", "int"),
        ("capacity", "Capacity", "int"), ("load", "Load", "pct"),
        ("bloat_months", "Months", "num1"),
        ("lost_when_tired_share", "Lost tired", "pct")]),
}


def show_rep_table(ctx: ReportContext, key: str, limit: int = 15) -> None:
    """The compact per-rep table of a section, sorted by its main figure."""
    caption, sort, ascending, columns = REP_TABLES[key]
    columns = [c for c in columns if c[0] in ctx.summary.columns]
    frame = ctx.summary.sort_values(sort, ascending=ascending, na_position="last")
    show_table(frame, columns, caption, limit, ctx.language)


PERSON_TABLES = {
    "acquirers": ("Customer value by acquiring rep", [
        ("person", "Acquired by", "text"), ("accounts", "Accounts", "int"),
        ("value_per_account_year", "Per account-year", "money"),
        ("first_year_value", "First-year value", "money"),
        ("avg_predicted_value", "Lifetime value", "money"),
        ("churn_rate", "Churned", "pct"), ("total_value", "Revenue to date", "money")]),
    "managers": ("Customer value by account manager", [
        ("person", "Account manager", "text"), ("accounts", "Accounts", "int"),
        ("value_per_account_year", "Per account-year", "money"),
        ("avg_predicted_value", "Lifetime value", "money"),
        ("expansion_per_account", "Expansion / account", "money"),
        ("churn_rate", "Churned", "pct")]),
}


def show_person_table(ctx: ReportContext, key: str, limit: int = 12) -> None:
    """Customer value per acquiring rep or account manager, highest value per account-year
    first (an age-normalised figure: revenue to date favours old books)."""
    frame = getattr(ctx.a, key)
    if frame.empty:
        return
    caption, columns = PERSON_TABLES[key]
    columns = [c for c in columns if c[0] in frame.columns]
    show_table(frame.sort_values("value_per_account_year", ascending=False), columns, caption,
               limit, ctx.language)


def show_customer_value(ctx: ReportContext) -> None:
    """Section 4: the lifetime-value model note, then per acquiring rep and per account
    manager a chart (predicted lifetime value per account, or value per account-year
    without a model) and a table."""
    if not len(ctx.a.acquirers):
        return
    show_note(ctx, clv_note(ctx))
    predicted = "avg_predicted_value" in ctx.a.acquirers
    value = "avg_predicted_value" if predicted else "value_per_account_year"
    months = ctx.settings.clv.horizon_months
    xlabel = localize_numbers(
        ctx.t("lifetime value per account: next {months} months, discounted").format(
            months=months) if predicted else ctx.t("revenue per account-year to date"),
        ctx.language)
    kind = "Customer lifetime value per account" if predicted else \
        "Customer value per account-year"
    for frame, title, key in ((ctx.a.acquirers, f"{kind}, by acquiring rep", "acquirers"),
                              (ctx.a.managers, f"{kind}, by account manager", "managers")):
        ax = plots.person_bars(frame, value, ctx.t(title), xlabel)
        show_chart(ax)  # title and label are in the report's language already
        show_person_table(ctx, key)


def show_note(ctx: ReportContext, text: str) -> None:
    """A short narrative line (escaped), in the report's language."""
    show_html("note.html.j2", ctx.language, text=text)


def band_note(ctx: ReportContext) -> str:
    """Band edges per business profile, in currency; where the bands were learned (store
    window) and this period's drift against a baseline that does not contain it."""
    cur = ctx.settings.currency
    t = ctx.t
    parts = [t("{profile}: small < {small}, medium to {large}, large above").format(
        profile=prof, small=fmt_money(edges[0], cur), large=fmt_money(edges[-1], cur))
        for prof, edges in ctx.a.band_edges.items()]
    parts += [f"{prof}: {why}" for prof, why in ctx.a.band_notes.items()]
    if not parts:
        return t("No deal-size bands: no won deals.")
    ref = ctx.artifacts.get("band_reference")
    if ref:
        start, end = ref["window_start"][:10], (pd.Timestamp(ref["window_end"])
                                                - pd.Timedelta(days=1)).date().isoformat()
        text = t("Deal-size bands (KMeans on log amounts), learned for this store on the deals "
                 "won from {start} to {end}: {parts}.").format(start=start, end=end,
                                                               parts="; ".join(parts))
        drift = []
        for prof, d in ctx.artifacts.get("band_drift", {}).items():
            if d.get("psi") is None:
                drift.append(t("{profile}: too few deals ({n}; at least {min} needed)").format(
                    profile=prof, n=min(d["deals"], d["baseline_deals"]), min=d["min_deals"]))
            else:
                drift.append(t("{profile} PSI {psi} ({verdict})").format(
                    profile=prof, psi=f"{d['psi']:.2f}", verdict=t(d["verdict"])))
        text += " " + t("Drift of the whole company's won deals in this period against a "
                        "window without it: {drift}. Refresh with --refresh-bands.").format(
            drift="; ".join(drift) or "–")
    else:
        text = t("Deal-size bands (learned on the last 12 months of won deals, KMeans on log "
                 "amounts): {parts}.").format(parts="; ".join(parts))
    zero = int(((ctx.opps["status"] == "won") & ctx.period.contains(ctx.opps["closed_at"])
                & (ctx.opps["amount"] == 0)).sum())
    if zero:
        text += " " + t("{n} zero-amount wins count as won deals in the small band and in "
                        "the average deal size.").format(n=zero)
    return localize_numbers(text, ctx.language)


def show_deal_size(ctx: ReportContext, top_reps: int = 20) -> None:
    """Per business profile: a histogram of every deal won in the period (band edges where
    the profile has them) and each rep's band mix."""
    won = ctx.opps[(ctx.opps["status"] == "won") & ctx.period.contains(ctx.opps["closed_at"])]
    profiles = team_profiles(ctx.settings, won["team"])
    show_note(ctx, band_note(ctx))
    for prof in sorted(set(profiles.dropna()) | set(ctx.a.band_edges)):
        amounts = won.loc[profiles == prof, "amount"].dropna()
        if amounts.empty:
            continue
        edges = ctx.a.band_edges.get(prof)
        ax = plots.deal_size_histogram(amounts, edges)
        localize_axes(ax, ctx.language)
        ax.set_title(f"{ax.get_title()}, {prof} ({len(amounts)})")
        show_chart(ax)
        mix = ctx.a.band_mix
        mix = mix[mix["profile"] == prof] if len(mix) else mix
        if len(mix):
            reps = (mix.groupby("group")["won"].sum().nlargest(top_reps).index.tolist())
            ax = plots.band_mix(mix, reps)
            localize_axes(ax, ctx.language)
            ax.set_title(f"{ax.get_title()}, {prof}")
            show_chart(ax)


MODEL_NAMES = {"bgnbd": "BG/NBD (purchases) with average spend",
               "gamma-gamma": "BG/NBD with Gamma-Gamma spend", "segments": "RFM-segment",
               "regressor": "gradient-boosted regressor",
               "sbg": "shifted-beta-geometric retention"}


def clv_note(ctx: ReportContext) -> str:
    """Which lifetime-value model the report uses, its horizon and discount rate, and how
    it backtested against the naive baseline."""
    m = ctx.a.clv_model
    t = ctx.t
    if not m:
        return t("No customer lifetime value model: the data has no revenue table.")
    if "model" not in m:
        return t("No customer lifetime value model could be fitted: {error}.").format(
            error=m.get("error", "unknown reason"))
    b = m["backtest"]
    base = b["baseline"]
    scores = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} (–)"
                       for k, v in m.get("candidates", {}).items())
    months = m.get("horizon_months", ctx.settings.clv.horizon_months)
    rate = m.get("discount_rate", ctx.settings.clv.discount_rate)
    text = t(
        "Lifetime value = revenue expected over the next {months} months, discounted at "
        "{rate} a year, from the {model} model, chosen by backtest on the last {holdout} "
        "months ({n} accounts): aggregate error {err} (naive baseline {base_err}), Spearman "
        "rank correlation {rho} (baseline {base_rho}), top-decile capture {top}. Scores "
        "(lower is better): {scores}.").format(
        months=months, rate=f"{rate:.0%}", model=t(MODEL_NAMES.get(m["model"], m["model"])),
        holdout=m["holdout_months"], n=f"{b['n_customers']:,}",
        err=f"{b['aggregate_error']:+.0%}", base_err=f"{base['aggregate_error']:+.0%}",
        rho=f"{b['spearman']:.2f}", base_rho=f"{base['spearman']:.2f}",
        top=f"{b['top_decile_capture']:.0%}", scores=scores)
    if m.get("excluded_lines"):
        text += " " + t("{n} zero or negative revenue lines (credits, refunds) are not "
                        "purchases and are left out.").format(n=f"{m['excluded_lines']:,}")
    sm = m.get("spend_model")
    if sm and (sm["excluded_lines"] or sm["excluded_customers"]):
        text += " " + t("Spend model: {lines} zero or negative lines and {customers} repeat "
                        "customers without a positive repeat purchase left out.").format(
            lines=f"{sm['excluded_lines']:,}", customers=f"{sm['excluded_customers']:,}")
    return localize_numbers(text, ctx.language)


def scorecard_rows(ctx: ReportContext, rep: str) -> list[dict[str, Any]]:
    """The five metrics for one rep against the median rep of the rep's team."""
    s = ctx.summary.set_index("group")
    r = s.loc[rep]
    mates = s[s["team"] == r.get("team")] if "team" in s else s
    cur = ctx.settings.currency
    rows: list[dict[str, Any]] = []

    def add(label, col, fmt, rating=None):
        if col not in s:
            return
        rows.append({"label": ctx.t(label), "rep": fmt(r[col]), "team": fmt(mates[col].median()),
                     "rating": rating})

    def money(v):
        return fmt_money(v, cur)

    add("Deals won", "won", fmt_num)
    add("Deals lost", "lost", fmt_num)
    add("Win rate", "win_rate", fmt_pct, r.get("rating"))
    add("Median cycle of won deals (days)", "median_cycle_days_won", fmt_num)
    add("Median days to win incl. open deals", "median_days_to_win", fmt_num)
    add("Average won deal", "avg_won_amount", money)
    add("Median won deal", "median_won_amount", money)
    mix = ctx.a.band_mix
    if len(mix):
        mine = mix[mix["group"] == rep].set_index("band")
        for band in ("small", "medium", "large"):
            if band in mine.index:
                b = mine.loc[band]
                target = b["target_share"]
                rows.append({"label": ctx.t(f"Share of {band} deals"),
                             "rep": fmt_pct(b["share"]), "team": fmt_pct(b["team_share"]),
                             "rating": ctx.t("target {share}").format(share=fmt_pct(target))
                             if pd.notna(target) else None})
    add("Open deals at period end", "open_count", fmt_num)
    prof = r.get("profile") or "default"
    th = ctx.settings.thresholds(prof)

    def rated(name, value):  # the rep against the baseline of the rep's profile
        t = th.get(name)
        return t.rate(value) if t is not None and t.trailing is None and pd.notna(value) \
            else None

    add("Stale open deals", "stale_open_count", fmt_num)
    if "stale_share" in s:
        add("Share of open deals stale", "stale_share", fmt_pct,
            rated("stale_share", r.get("stale_share")))
    add("Months of pipeline", "bloat_months", lambda v: fmt_num(v, 1))
    add("Lost deals closed when stale", "lost_when_tired_share", fmt_pct)
    if pd.notna(r.get("capacity")):
        load = r["open_count"] / r["capacity"] if r["capacity"] else None
        rows.append({"label": ctx.t("Open deals / capacity"), "rep": fmt_pct(load),
                     "team": fmt_pct(mates["load"].median()) if "load" in mates else "–",
                     "rating": rated("load", load)})
    for frame, label, col, f in ((ctx.a.acquirers, "Revenue per account-year of accounts won",
                                  "value_per_account_year", money),
                                 (ctx.a.acquirers, "Churn of accounts won", "churn_rate", fmt_pct),
                                 (ctx.a.acquirers, "Lifetime value per account won (discounted)",
                                  "avg_predicted_value", money),
                                 (ctx.a.managers, "Expansion per account managed",
                                  "expansion_per_account", money)):
        if len(frame) and col in frame and rep in set(frame["person"]):
            peers = frame[frame["person"].isin(mates.index)]
            rows.append({"label": ctx.t(label),
                         "rep": f(frame.set_index("person").loc[rep, col]),
                         "team": f(peers[col].median()) if len(peers) else "–", "rating": None})
    return rows


def show_scorecards(ctx: ReportContext) -> None:
    """One page per rep of the scope: the five metrics against the team's median rep."""
    s = ctx.summary.sort_values(["team", "group"], na_position="last") if "team" in \
        ctx.summary else ctx.summary.sort_values("group")
    by_subject: dict[str, list[str]] = {}
    for f in ctx.a.findings:
        by_subject.setdefault(f.subject, []).append(f.render(ctx.language))
    for _, r in s.iterrows():
        show_html("scorecard.html.j2", ctx.language, rep=r["group"],
                  team=r.get("team") or ctx.t("no team"), profile=r.get("profile"),
                  period_title=ctx.period_title, rows=scorecard_rows(ctx, r["group"]),
                  findings=by_subject.get(r["group"], []))
