"""Names the runner and the notebooks share, kept apart from :mod:`reporting.presentation`
so that the process running the notebooks (``crm-report run``) does not import the
plotting stack to read them: the MIME type of the ``metrics.json`` output, and a report's
title for its period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .i18n import N_

if TYPE_CHECKING:
    from .periods import Period

#: the type of the notebook output carrying ``metrics.json`` (``rp.emit_metrics``)
METRICS_MIME = "application/vnd.crm-report.metrics+json"

PERIOD_TITLES = {"month": N_("Monthly Sales Report"), "quarter": N_("Quarterly Sales Report"),
                 "year": N_("Annual Sales Report"), "range": N_("Sales Report")}


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


def kind_title(kind: str, configured: str, period: Period, region: str | None,
               team: str | None = None, language: str = "en",
               calendar: str = "gregorian") -> str:
    """A report's document title (HTML ``<title>``, PDF metadata) by kind
    (:mod:`reporting.kinds`): the monthly report keeps "<title for the period>: <region>
    <period>"; the others read "<kind title> — <scope>, <period>" ("Rep scorecards — EMEA /
    EMEA Inside, October 2026"; the roll-up's scope is the whole company)."""
    from .i18n import period_title, tr
    from .kinds import get

    k = get(kind)
    if k.name == "monthly":
        return (f"{tr(report_title(configured, period), language)}: {region} "
                f"{period_title(period, language, calendar)}")
    parts = [x for x in (region, team) if x and str(x).lower() != "all"]
    scope = " / ".join(parts) if parts and not k.company_wide else tr("All regions", language)
    when = period_title(period, language, calendar)
    if k.name == "trend":  # its months: "December 2025 – November 2026"
        from .periods import trend_months

        months = trend_months(period)
        when = (f"{period_title(months[0], language, calendar)} – "
                f"{period_title(months[-1], language, calendar)}")
    comma = "، " if language == "fa" else ", "
    return f"{tr(k.title, language)} — {scope}{comma}{when}"
