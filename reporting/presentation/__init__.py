"""Presentation: what a report notebook shows, given a :class:`reporting.context.ReportContext`.

The notebook stays thin: ``ctx = reporting.context.build(...)`` loads the data and computes
every figure once; the ``show_*`` functions here display escaped HTML fragments and PNG
charts in the report's language, and :func:`emit_metrics` attaches the figures as the
``metrics.json`` payload. One module per part of the report:

- :mod:`.fragments`: rendering fragments, charts, notes and number formats;
- :mod:`.sections`: cover and title, section headings, the data-quality appendix;
- :mod:`.summary`: the headline tiles and top findings;
- :mod:`.tables`: the per-rep and per-person table layouts;
- :mod:`.value`: the deal-size and customer-value sections;
- :mod:`.forward`: the forecast and targets, and the pipeline movement sections;
- :mod:`.scorecards`: one page per rep;
- :mod:`.methodology`: the definitions appendix;
- :mod:`.payload`: the ``metrics.json`` payload (:data:`METRICS_MIME`).
"""

from __future__ import annotations

from .forward import forecast_figures, show_forecast, show_movement, show_targets
from .fragments import (
    fmt_money,
    fmt_num,
    fmt_pct,
    localize_axes,
    render_fragment,
    show_chart,
    show_html,
    show_note,
)
from .methodology import definitions, show_methodology
from .payload import METRICS_MIME, emit_metrics, metrics_payload
from .scorecards import scorecard_rows, show_scorecards
from .sections import kind_title, report_title, show_cover, show_quality, show_section
from .summary import findings, kpis, show_summary
from .tables import show_person_table, show_rep_table, show_table
from .value import band_note, clv_note, show_customer_value, show_deal_size

__all__ = [
    "METRICS_MIME",
    "band_note",
    "clv_note",
    "definitions",
    "emit_metrics",
    "findings",
    "forecast_figures",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "kpis",
    "kind_title",
    "localize_axes",
    "metrics_payload",
    "render_fragment",
    "report_title",
    "scorecard_rows",
    "show_chart",
    "show_cover",
    "show_customer_value",
    "show_deal_size",
    "show_forecast",
    "show_html",
    "show_methodology",
    "show_movement",
    "show_note",
    "show_person_table",
    "show_quality",
    "show_rep_table",
    "show_scorecards",
    "show_section",
    "show_summary",
    "show_table",
    "show_targets",
]
