"""``clv``: fit a customer-value model on a transaction CSV and print its parameters as JSON.

A typer-compatible function, registered by the main app with
``app.command("clv")(clv_command)``. It parses and validates, then calls
:mod:`reporting.models.backtest`; every user error is a :class:`ReportingError`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .exceptions import DataValidationError, ParamsError, capped

# The models (scipy, scikit-learn) are imported when the command runs, not when the CLI
# starts: every other command would pay ~0.7 s for them (benchmarks/NOTES.md).

__all__ = ["MODEL_CHOICES", "clv_command", "run_clv"]

MODEL_CHOICES = ("bgnbd", "gamma-gamma", "sbg", "segments", "regressor", "auto")


def _date(value: str, name: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError) as exc:
        raise ParamsError(f"{name} must be a date like 1997-09-30, got {value!r}") from exc


def _read(path: Path, customer_col: str, date_col: str, amount_col: str) -> pd.DataFrame:
    if not path.exists():
        raise DataValidationError(f"transactions file {path} does not exist")
    try:
        df = pd.read_csv(path, dtype={customer_col: str, date_col: str})
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError(f"{path} is empty: expected a CSV with a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path} is not a readable CSV: {exc}") from exc
    missing = [c for c in (customer_col, date_col, amount_col) if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{path}: column(s) {missing} not found; the file has columns "
            f"{list(df.columns)[:20]}. Pass --customer-col, --date-col and --amount-col."
        )
    if df.empty:
        raise DataValidationError(f"{path} has a header but no transactions")
    problems = []
    raw_dates = df[date_col].astype(str).str.strip()
    compact = raw_dates.str.fullmatch(r"\d{8}")  # 19970101: read as a date, not a number
    dates = pd.to_datetime(raw_dates.where(~compact), errors="coerce", format="mixed")
    dates[compact] = pd.to_datetime(raw_dates[compact], format="%Y%m%d", errors="coerce")
    for i in df.index[dates.isna()]:
        problems.append(f"row {i + 2}: {date_col}={df.at[i, date_col]!r} is not a date")
    amounts = pd.to_numeric(df[amount_col], errors="coerce")
    for i in df.index[amounts.isna()]:
        problems.append(f"row {i + 2}: {amount_col}={df.at[i, amount_col]!r} is not a number")
    for i in df.index[df[customer_col].isna()]:
        problems.append(f"row {i + 2}: {customer_col} is empty")
    if problems:
        raise DataValidationError(
            f"{path}: {len(problems)} bad value(s); fix or remove these rows:\n"
            + capped(problems))
    return pd.DataFrame({customer_col: df[customer_col].astype(str), date_col: dates,
                         amount_col: amounts.astype(float)})


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def run_clv(transactions: Path, customer_col: str, date_col: str, amount_col: str,
            calibration_end: str, holdout_end: str | None = None, time_unit: str = "week",
            model: str = "auto") -> dict:
    """Validate the inputs, fit (and backtest) the model; return the JSON-ready result."""
    from .models.backtest import (
        CRITERION,
        BacktestResult,
        _backtest,
        _canonical,
        choose_model,
        fit_predict,
    )
    from .models.clv import TIME_UNITS, rfm_summary

    if time_unit not in TIME_UNITS:
        raise ParamsError(f"--time-unit must be one of {sorted(TIME_UNITS)}, got {time_unit!r}")
    if model not in MODEL_CHOICES:
        raise ParamsError(f"--model must be one of {list(MODEL_CHOICES)}, got {model!r}")
    cal_end = _date(calibration_end, "--calibration-end")
    hold_end = _date(holdout_end, "--holdout-end") if holdout_end else None
    if hold_end is not None and hold_end <= cal_end:
        raise ParamsError(f"--holdout-end {hold_end.date()} must be after --calibration-end "
                          f"{cal_end.date()}")
    df = _read(Path(transactions), customer_col, date_col, amount_col)
    if not (df[date_col] <= cal_end).any():
        raise DataValidationError(
            f"no transactions on or before --calibration-end {cal_end.date()}; the file runs "
            f"from {df[date_col].min().date()} to {df[date_col].max().date()}")
    tx = _canonical(df, customer_col, date_col, amount_col)
    out: dict = {"time_unit": time_unit, "calibration_end": str(cal_end.date())}
    try:
        chosen = model
        if model == "auto":
            # Choose on the real holdout when there is one, else on the last quarter of the
            # calibration window; then refit the winner on the whole calibration period.
            if hold_end is not None:
                sel_end, sel_hold = cal_end, hold_end
            else:
                span = (cal_end - tx["d"].min()).days
                sel_end = cal_end - pd.Timedelta(days=max(1, span // 4))
                sel_hold = cal_end
            chosen, results = choose_model(df, customer_col, date_col, amount_col,
                                              sel_end, sel_hold, time_unit)
            out["criterion"] = CRITERION
            out["candidates"] = {k: (v.to_dict() if isinstance(v, BacktestResult)
                                     else {"error": v}) for k, v in results.items()}
        horizon = (hold_end - cal_end).days if hold_end is not None else 365
        _, info = fit_predict(tx, cal_end, horizon, chosen, time_unit)
        rfm = rfm_summary(tx[tx["d"] <= cal_end], "c", "d", "m", cal_end, time_unit)
        out.update(model=chosen, n_customers=int(len(rfm)), params=info["params"],
                   log_likelihood=info["log_likelihood"],
                   log_likelihoods=info["log_likelihoods"])
        if "spend_model" in info:  # gamma-gamma: what the spend model left out, counted
            out["spend_model"] = {
                **info["spend_model"],
                "rule": "spend is each repeat customer's mean over positive repeat "
                        "purchase days; zero-value and negative lines are left out of the "
                        "spend model (they still count as purchases); repeat customers "
                        "without a positive repeat purchase are valued at the population "
                        "mean spend"}
        if hold_end is not None:
            res = _backtest(tx, cal_end, hold_end, chosen, time_unit, None, None)
            out["backtest"] = res.to_dict()
    except ValueError as exc:
        raise DataValidationError(f"model {model!r} could not be fitted: {exc}") from exc
    return _clean(out)


def clv_command(
    transactions: Annotated[Path, typer.Option("--transactions", help="transaction CSV")],
    customer_col: Annotated[str, typer.Option("--customer-col", help="customer id column")],
    date_col: Annotated[str, typer.Option("--date-col", help="transaction date column")],
    amount_col: Annotated[str, typer.Option("--amount-col", help="amount column")],
    calibration_end: Annotated[str, typer.Option(
        "--calibration-end", help="last day of the fitting period, YYYY-MM-DD")],
    holdout_end: Annotated[str | None, typer.Option(
        "--holdout-end", help="last day of the holdout to backtest on, YYYY-MM-DD")] = None,
    time_unit: Annotated[str, typer.Option(
        "--time-unit", help="day, week or month")] = "week",
    model: Annotated[str, typer.Option(
        "--model", help="bgnbd, gamma-gamma, sbg, segments, regressor or auto")] = "auto",
    json_out: Annotated[bool, typer.Option("--json/--no-json", help="print JSON")] = True,
) -> None:
    """Fit a customer lifetime value model; with --holdout-end, backtest it too."""
    out = run_clv(transactions, customer_col, date_col, amount_col, calibration_end,
                  holdout_end, time_unit, model)
    if json_out:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"model {out['model']} on {out['n_customers']:,} customers")
    if "spend_model" in out:
        sm = out["spend_model"]
        typer.echo(f"spend model on {sm['customers']:,} repeat customers; left out: "
                   f"{sm['excluded_lines']:,} zero or negative lines, "
                   f"{sm['excluded_customers']:,} repeat customers without a positive "
                   "repeat purchase")
    for k, v in out["params"].items():
        typer.echo(f"  {k} = {v:.4g}")
    if "backtest" in out:
        b = out["backtest"]
        typer.echo(f"holdout actual {b['actual_total']:,.2f}, predicted "
                   f"{b['predicted_total']:,.2f}, MAE {b['mae']:.2f}, Spearman "
                   f"{b['spearman'] if b['spearman'] is None else round(b['spearman'], 3)}")
