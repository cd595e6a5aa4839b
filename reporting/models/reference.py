"""Predicted customer value for a report: the model that backtests best on the data at
hand, refitted on everything up to the period end.

Used once per run (saved as a run artifact) or, in a notebook run alone, on the slice.
"""

from __future__ import annotations

import pandas as pd
from threadpoolctl import threadpool_limits

from .backtest import CRITERION, _canonical, choose_model, fit_predict


def clv_reference(revenue: pd.DataFrame, period_end: pd.Timestamp, holdout_months: int = 6,
                  horizon_days: int = 365, time_unit: str = "week"
                  ) -> tuple[pd.Series | None, dict]:
    """See :func:`_clv_reference`; runs with one BLAS / OpenMP thread: these fits are small,
    and threads fighting other reports for 2 cores made them 10x slower here."""
    with threadpool_limits(limits=1):
        return _clv_reference(revenue, period_end, holdout_months, horizon_days, time_unit)


def _clv_reference(revenue: pd.DataFrame, period_end: pd.Timestamp, holdout_months: int,
                   horizon_days: int, time_unit: str) -> tuple[pd.Series | None, dict]:
    """Choose a CLV model by backtest and predict each account's revenue over the next
    ``horizon_days`` after ``period_end``.

    The backtest calibrates on revenue before ``period_end - holdout_months`` and predicts
    the last ``holdout_months``; the winner (lowest |aggregate error| + (1 - Spearman)) is
    refitted on all revenue before ``period_end``. Returns the predictions (indexed by
    account_id; None when no model could be fitted) and a summary with the model, its
    backtest figures against the naive baseline, and every candidate's score or error.
    """
    rev = revenue[(revenue["date"] < period_end) & (revenue["amount"] > 0)]
    holdout_start = period_end - pd.DateOffset(months=holdout_months)
    summary: dict = {"horizon_days": horizon_days, "holdout_months": holdout_months,
                     "criterion": CRITERION, "transactions": int(len(rev)),
                     "accounts": int(rev["account_id"].nunique())}
    if rev.empty or (rev["date"] < holdout_start).sum() == 0:
        summary["error"] = "no revenue before the backtest window"
        return None, summary
    try:
        _, results = choose_model(
            rev, "account_id", "date", "amount",
            calibration_end=holdout_start - pd.Timedelta(days=1),
            holdout_end=period_end - pd.Timedelta(days=1), time_unit=time_unit,
            candidates=("bgnbd", "gamma-gamma", "segments", "regressor", "sbg"))
    except ValueError as exc:
        summary["error"] = str(exc)
        return None, summary
    summary["candidates"] = {k: (v.to_dict()["score"] if not isinstance(v, str) else v)
                             for k, v in results.items()}
    tx = _canonical(rev, "account_id", "date", "amount")
    ranked = sorted((k for k, v in results.items() if not isinstance(v, str)),
                    key=lambda k: results[k].score)
    refit_errors = {}
    for name in ranked:  # the best that also fits on the full history
        try:
            pred, info = fit_predict(tx, period_end - pd.Timedelta(days=1), horizon_days,
                                     name, time_unit)
        except ValueError as exc:
            refit_errors[name] = str(exc)
            continue
        summary["model"] = name
        summary["backtest"] = results[name].to_dict()
        summary["params"] = {k: float(v) for k, v in info.get("params", {}).items()}
        if refit_errors:
            summary["refit_errors"] = refit_errors
        return pred.rename("predicted_value"), summary
    summary["error"] = "no model could be refitted on the full history: " + "; ".join(
        f"{k}: {v}" for k, v in refit_errors.items())
    return None, summary
