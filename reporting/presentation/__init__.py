"""Presentation: what a report notebook shows, given a :class:`reporting.context.ReportContext`.

The notebook stays thin: ``ctx = reporting.context.build(...)`` loads the data and computes
every figure once; the ``show_*`` functions here display escaped HTML fragments and PNG
charts in the report's language, and :func:`emit_metrics` attaches the figures as the
``metrics.json`` payload. One module per part of the report:

- :mod:`.fragments`: rendering fragments, charts, notes and number formats;
- :mod:`.layout`: charts at the size shown, rows side by side;
- :mod:`.sections`: cover and title, section headings, the data-quality appendix;
- :mod:`.summary`: the headline tiles and top findings;
- :mod:`.tables`: the per-rep and per-person table layouts;
- :mod:`.value`: the deal-size and customer-value sections;
- :mod:`.forward`: the forecast and targets, and the pipeline movement sections;
- :mod:`.scorecards`: one page per rep;
- :mod:`.deals`: the deals behind each finding and flagged row (page one, the appendix,
  report.xlsx);
- :mod:`.methodology`: the definitions appendix;
- :mod:`.payload`: the ``metrics.json`` payload (:data:`METRICS_MIME`) and the tables of
  ``report.xlsx`` (:data:`WORKBOOK_MIME`).
"""

from __future__ import annotations

from ..workbook import WORKBOOK_MIME
from .deals import deal_list, deal_lists, page_one_findings, show_deal_lists, tile_anchor
from .forward import forecast_chart, forecast_figures, show_forecast, show_movement, show_targets
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
from .layout import chart, full_ax, half_ax, rows_height, show, show_row
from .methodology import definitions, show_methodology
from .payload import METRICS_MIME, emit_metrics, emit_workbook, metrics_payload, workbook_payload
from .scorecards import scorecard_rows, show_scorecards
from .scorecards import show_overview as show_scorecard_overview
from .sections import (
    kind_title,
    report_title,
    show_cover,
    show_masthead,
    show_quality,
    show_section,
)
from .summary import findings, kpis, show_summary, verdicts
from .tables import (
    person_table,
    rep_table,
    show_person_table,
    show_rep_table,
    show_table,
    table_html,
)
from .value import band_note, clv_note, show_customer_value, show_deal_size

__all__ = [
    "METRICS_MIME",
    "WORKBOOK_MIME",
    "band_note",
    "chart",
    "clv_note",
    "deal_list",
    "deal_lists",
    "definitions",
    "emit_metrics",
    "emit_workbook",
    "findings",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "forecast_chart",
    "forecast_figures",
    "full_ax",
    "half_ax",
    "kpis",
    "kind_title",
    "localize_axes",
    "metrics_payload",
    "page_one_findings",
    "person_table",
    "render_fragment",
    "rep_table",
    "report_title",
    "rows_height",
    "scorecard_rows",
    "show",
    "show_chart",
    "show_cover",
    "show_masthead",
    "show_customer_value",
    "show_deal_lists",
    "show_deal_size",
    "show_forecast",
    "show_html",
    "show_methodology",
    "show_movement",
    "show_note",
    "show_person_table",
    "show_quality",
    "show_rep_table",
    "show_row",
    "show_scorecard_overview",
    "show_scorecards",
    "show_section",
    "show_summary",
    "show_table",
    "show_targets",
    "table_html",
    "tile_anchor",
    "verdicts",
    "workbook_payload",
]
