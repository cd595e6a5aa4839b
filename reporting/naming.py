"""Names the runner and the notebooks share, kept apart from :mod:`reporting.presentation`
so that the process running the notebooks (``crm-report run``) does not import the
plotting stack to read them: the MIME type of the ``metrics.json`` output, and a report's
title for its period."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .periods import Period

#: the type of the notebook output carrying ``metrics.json`` (``rp.emit_metrics``)
METRICS_MIME = "application/vnd.crm-report.metrics+json"

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
