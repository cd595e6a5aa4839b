"""The report's pages around the figures: the cover and its title for the period, each
section's heading with how to read it and what the data cannot support, and the
data-quality appendix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..formatting import generated_words
from ..i18n import N_, format_date
from ..naming import PERIOD_TITLES, kind_title, report_title  # noqa: F401 - re-exported
from .fragments import logo_data_uri, say, show_html
from .methodology import metric_name

if TYPE_CHECKING:
    from ..context import ReportContext


def show_cover(ctx: ReportContext, title: str | None = None) -> None:
    """The cover page; ``title`` defaults to the configured title for the period's kind
    (:func:`report_title`)."""
    cal = ctx.settings.calendar
    show_html(
        "cover.html.j2",
        ctx.language,
        company=ctx.settings.company,
        title=ctx.t(title or report_title(ctx.settings.title, ctx.period)),
        logo=logo_data_uri(ctx.settings.branding.logo, ctx.params_dir),
        scope=ctx.scope,
        period_title=ctx.period_title,
        period_start=format_date(ctx.period.start.date(), ctx.language, cal),
        period_end=format_date(ctx.period.last_day.date(), ctx.language, cal),
        as_of=format_date(ctx.data.as_of.date(), ctx.language, cal)
        if ctx.data.as_of is not None else None,
        generated_at=generated_words(ctx.generated_at, ctx.language, ctx.settings.calendar),
    )


def masthead(ctx: ReportContext, title: str | None = None) -> dict[str, Any]:
    """What the cover said, as the header of page one: company, logo, title, scope,
    period (with its dates), the data's as-of date and when the report was made."""
    cal = ctx.settings.calendar
    return {
        "company": ctx.settings.company,
        "title": ctx.t(title or report_title(ctx.settings.title, ctx.period)),
        "logo": logo_data_uri(ctx.settings.branding.logo, ctx.params_dir),
        "scope": ctx.scope,
        "period_title": ctx.period_title,
        "period_start": format_date(ctx.period.start.date(), ctx.language, cal),
        "period_end": format_date(ctx.period.last_day.date(), ctx.language, cal),
        "as_of": format_date(ctx.data.as_of.date(), ctx.language, cal)
        if ctx.data.as_of is not None else None,
        "generated_at": generated_words(ctx.generated_at, ctx.language, ctx.settings.calendar),
    }


def show_masthead(ctx: ReportContext, title: str | None = None) -> None:
    """The header of a short report's first page (the roll-up, the trend, the scorecards'
    overview) in place of a whole cover page: :func:`masthead`'s company, title, scope,
    period, as-of date and time made."""
    show_html("masthead.html.j2", ctx.language, head=masthead(ctx, title))


SECTIONS = {
    "conversion": (
        N_("1. Conversion"),
        N_("the trend shows the monthly win rate in its baseline band (green good, amber "
        "watch, red bad); the funnel shows where closed deals stopped; per rep, a long grey "
        "bar means too few deals to judge."),
        "win_rate",
    ),
    "cycle": (
        N_("2. Sales cycle length"),
        N_("reps to the right close many deals, reps higher up take longer; top-right reps "
        "close many deals slowly, which is a story about their deal mix, not an error. "
        "'To win, incl. open' is the median days to win counting the deals still open, "
        "which a median of won deals leaves out."),
        "cycle_length",
    ),
    "deal_size": (
        N_("3. Deal size"),
        N_("the histogram uses a log scale, so each step right is ten times larger; dashed "
        "lines are the band edges. The mix chart compares each rep with the team and target."),
        "deal_size",
    ),
    "clv": (
        N_("4. Customer lifetime value"),
        N_("every customer account in scope counts, including those without a recent deal. "
        "Acquirers are compared per account-year and on each account's first year, so old "
        "books do not look better for being old; acquirers whose customers churn point at "
        "the wrong customers; account managers whose accounts expand (or do not) point at "
        "how accounts are run."),
        "account_value",
    ),
    "pipeline": (
        N_("5. Open opportunities"),
        N_("bars are open deals at period end (orange: stale, no touch for the stage's stale "
        "threshold); the red tick is the rep's capacity. The heatmap shows where old deals "
        "pile up by the stage they were in at period end."),
        "open_pipeline",
    ),
    "forecast": (
        N_("6. Forecast and targets"),
        N_("attainment is what was booked against the quota; pace compares the bookings so far "
        "with what the quota expects by now; coverage is the open value due in the period "
        "over the quota still to go (about 3x is healthy). The forecast is the expected "
        "bookings of the next period with the range they land in 8 times out of 10; its "
        "method is the one that was most accurate on past months (see the appendix)."),
        "forecast",
    ),
    "movement": (
        N_("7. Pipeline movement"),
        N_("the waterfall starts from the open value due this quarter at the start of the "
        "period, adds what was created or pulled in, takes away what was pushed out, won or "
        "lost, and ends at the value due at the period end; the bars add up exactly. A push "
        "is a close date moved later. Velocity is open deals x win rate x average won deal "
        "/ days to win: revenue per day, and the bars show which factor moved it."),
        "movement",
    ),
}


SECTION_LIMITS = {  # what each section shows that the data may not support
    "conversion": ("win_rate", "stage_funnel", "lead_conversion"),
    "cycle": ("cycle_length",),
    "deal_size": ("deal_size",),
    "clv": ("account_value",),
    "pipeline": ("open_pipeline", "open_pipeline_value", "stale_deals", "capacity",
                 "aging_by_stage", "closed_when_tired"),
    "forecast": (),
    "movement": (),
}


def show_section(ctx: ReportContext, key: str) -> None:
    title, how, metric = SECTIONS[key]
    notes = [say(ctx, ctx.missing.get(m)) for m in SECTION_LIMITS.get(key, (metric,))]
    show_html("section.html.j2", ctx.language, title=ctx.t(title), how_to_read=ctx.t(how),
              missing="; ".join(n for n in notes if n) or None)


def show_quality(ctx: ReportContext) -> None:
    log = ctx.data.ingest_log.to_dict("records") if not ctx.data.ingest_log.empty else []
    q = ctx.data.quarantine.to_dict("records") if not ctx.data.quarantine.empty else []
    notes = getattr(ctx.data, "data_notes", None)  # decisions taken at ingest, with counts
    notes = notes.to_dict("records") if notes is not None and not notes.empty else []
    missing = [(metric_name(k, ctx.language), say(ctx, v)) for k, v in ctx.missing.items()
               if v]
    if ctx.language != "en":  # the store's tables by what they hold ('opportunities')
        for r in (*log, *q, *notes):
            if isinstance(r.get("table"), str) and r["table"] in STORE_TABLES:
                r["table"] = ctx.t(STORE_TABLES[r["table"]])
    show_html("quality.html.j2", ctx.language, log=log, quarantine=q, notes=notes,
              missing=missing)


#: the store's tables, as a Persian (or other) reader of the data-quality appendix reads
#: them: by what they hold (the English report shows the table names themselves)
STORE_TABLES = {
    "opportunities": N_("deals"), "opportunity_history": N_("deal history"),
    "opportunity_snapshots": N_("deal snapshots"), "opportunity_changes": N_("deal changes"),
    "opportunities_deleted": N_("deleted deals"), "stages": N_("stages"),
    "stage_history": N_("stage history"), "leads": N_("leads"), "accounts": N_("accounts"),
    "reps": N_("reps"), "quotas": N_("quotas"), "revenue": N_("revenue"),
}
