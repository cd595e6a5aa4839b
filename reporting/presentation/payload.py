"""The ``metrics.json`` payload: every figure a report shows, with its unit and the name of
its definition, attached to the notebook as a JSON output of type :data:`METRICS_MIME`
(the runner writes it to ``metrics.json``).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from IPython.display import display

from ..naming import METRICS_MIME

if TYPE_CHECKING:
    from ..context import ReportContext



def emit_metrics(ctx: ReportContext) -> None:
    """Attach every figure the report shows to the notebook as a JSON output; the runner
    writes it to ``metrics.json``. Then the tables the report showed and its deal lists
    (:func:`workbook_payload`), which the runner writes to ``report.xlsx``."""
    display({METRICS_MIME: metrics_payload(ctx)}, raw=True)
    emit_workbook(ctx)


def emit_workbook(ctx: ReportContext) -> None:
    """Attach the report's tables and deal lists to the notebook as a JSON output of type
    ``reporting.workbook.WORKBOOK_MIME`` (no HTML: the report does not show it); the runner writes them
    to ``report.xlsx`` with :func:`reporting.workbook.write_workbook`."""
    from ..workbook import WORKBOOK_MIME

    display({WORKBOOK_MIME: workbook_payload(ctx)}, raw=True)


def _cells(frame: pd.DataFrame, columns) -> list[list[Any]]:
    """The rows of ``frame``'s ``columns`` as JSON cells (:func:`_cell`), a column at a
    time: numbers, flags, times and plain text (str or missing) converted whole, any other
    column cell by cell. "Deals by rep" at 1M opportunities is 1.2M cells."""
    if not len(frame):
        return []
    cols = [_column_cells(frame[k]) for k, _, _ in columns]
    return [list(r) for r in zip(*cols, strict=True)]


def _column_cells(col: pd.Series) -> list[Any]:
    """One column as :func:`_cell` makes each of its cells."""
    if not isinstance(col.dtype, np.dtype):  # extension types (pd.NA, tz-aware...)
        return [_cell(v) for v in col.tolist()]
    kind = col.dtype.kind
    if kind == "f":
        a = col.to_numpy(dtype=float)
        ok = np.isfinite(a)
        return [v if k else None for v, k in zip(a.tolist(), ok.tolist(), strict=True)]
    if kind in "iub":
        return col.to_numpy().tolist()
    if kind == "M":
        missing = col.isna().to_numpy()
        return [None if m else pd.Timestamp(v).isoformat()
                for v, m in zip(col.to_numpy(), missing, strict=True)]
    if kind == "O" and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        missing = col.isna().to_numpy()
        return [None if m else v for v, m in zip(col.tolist(), missing, strict=True)]
    return [_cell(v) for v in col.tolist()]


def _cell(v: Any) -> Any:
    """A table cell as JSON: None for missing values (NaN, NaT, inf), ISO text for times."""
    if v is None or (isinstance(v, float) and math.isinf(v)):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):  # not a scalar
        return str(v)
    return _clean(v)


def workbook_payload(ctx: ReportContext) -> dict[str, Any]:
    """The sheets of report.xlsx: every table the report showed (``ctx.tables``, in order,
    every row), then the deal list of each finding and flagged figure (every deal) and
    one sheet of every rep-table row's deals (:func:`reporting.presentation.deals.deal_sheets`),
    with the sheet names, captions and column labels in the report's language."""
    from .deals import deal_sheets

    sheets = []
    for t in ctx.tables:
        cols = [list(c) for c in t["columns"]]
        sheets.append({"sheet": t["sheet"], "caption": t["caption"], "columns": cols,
                       "rows": _cells(t["frame"], t["columns"])})
    sheets.extend(deal_sheets(ctx, _cells))
    cur = ctx.settings.currency
    title = f"{ctx.settings.company}: {ctx.scope}, {ctx.period_title}".strip(": ")
    return {"language": ctx.language, "currency": cur, "title": title,
            "contents": ctx.t("Contents"),
            "contents_labels": [ctx.t("Sheet"), ctx.t("What it holds")], "sheets": sheets}


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
    "quota": "currency", "attainment": "ratio",
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
    "bloat_months": "bloat", "quota": "quota_attainment", "attainment": "quota_attainment",
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
                      "value": f.value, "reference": f.reference, "key": f.key,
                      "deal_ids": list(f.deal_ids)} for f in a.findings],
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
        "targets": _records(a.targets),
        "targets_scope": _records(a.targets_scope),
        "pacing": _records(a.pacing),
        "forecast": _forecast_payload(a.forecast),
        "movement": _records(a.movement),
        "movement_by_rep": _records(a.movement_by_rep),
        "slippage": _records(a.slippage),
        "velocity_change": _records(a.velocity_change),
        "velocity_by_rep": _records(a.velocity_by_rep),
        "velocity_by_team": _records(a.velocity_by_team),
        "loss_reasons": _records(a.loss_reasons),
    }


def _forecast_payload(fc: dict | None) -> dict | None:
    """The next period's forecast: method, horizon, per-rep groups, the scope's total and
    the backtest it was chosen by (per-deal figures stay out of the payload)."""
    if not fc:
        return None
    return {"method": fc.get("method"), "period": fc["period"].label,
            "horizon_days": fc.get("horizon_days"), "groups": _records(fc["groups"]),
            "total": {k: _clean(v) for k, v in (fc.get("total") or {}).items()},
            "notes": list(fc.get("notes") or []), "backtest": fc.get("backtest")}
