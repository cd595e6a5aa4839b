"""Backtests of customer-value models on a transaction log, and choosing a model by them.

A backtest splits the log at ``calibration_end`` (that day included in calibration), fits a
model on the calibration transactions, predicts each calibration customer's revenue in the
holdout ``(calibration_end, holdout_end]`` and compares it with what they actually spent.
Customers first seen in the holdout are not scored (no model can know them).

The naive baseline spreads each customer's calibration revenue evenly over the calibration
window (first transaction in the log to ``calibration_end``) and scales it to the holdout
length: ``baseline_i = calibration_revenue_i * holdout_days / calibration_days``.

Candidate models (names as in the CLI):

* ``bgnbd`` -- BG/NBD expected purchases x the customer's observed mean spend per purchase day.
* ``gamma-gamma`` -- BG/NBD expected purchases x Gamma-Gamma expected spend, the spend
  modelled on positive repeat lines only (:func:`positive_repeat_spend`: zero-value and
  negative lines are counted and left out, never a reason to refuse the fit).
* ``segments`` -- :class:`RFMSegmenter`; each segment predicts its mean revenue in the last
  holdout-length window of the calibration period (features taken before that window).
* ``regressor`` -- :class:`NextHorizonRegressor` trained on that same inner split.
* ``sbg`` -- shifted-beta-geometric retention on renewal-like logs (regular payments): the
  expected number of remaining paid periods x the customer's mean payment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .clv import (
    TIME_UNITS,
    BetaGeoFitter,
    GammaGammaFitter,
    NextHorizonRegressor,
    RFMSegmenter,
    ShiftedBetaGeometric,
    rfm_summary,
)

__all__ = ["MODELS", "BacktestResult", "backtest", "choose_model", "discounted_value",
           "fit_predict", "holdout_metrics", "looks_like_renewals", "positive_repeat_spend"]

MODELS = ("bgnbd", "gamma-gamma", "segments", "regressor", "sbg")

CRITERION = (
    "score = |aggregate error| + (1 - Spearman rank correlation), lowest wins: the first "
    "term rewards getting the holdout total right, the second ranking customers right "
    "(MAE alone would reward predicting zero for the many customers who do not come back)"
)


@dataclass
class BacktestResult:
    """What :func:`backtest` measured."""

    model: str
    customers: pd.DataFrame  # actual, predicted, baseline per calibration customer
    metrics: dict[str, float]
    baseline: dict[str, float]
    params: dict[str, float] = field(default_factory=dict)
    log_likelihood: float | None = None
    log_likelihoods: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Model-choice score (see :data:`CRITERION`); lower is better."""
        return _score(self.metrics)

    def to_dict(self) -> dict:
        return {"model": self.model, **self.metrics, "score": self.score,
                "baseline": {**self.baseline, "score": _score(self.baseline)}}


def _score(m: dict[str, float]) -> float:
    rho = m["spearman"] if np.isfinite(m["spearman"]) else 0.0
    err = m["aggregate_error"] if np.isfinite(m["aggregate_error"]) else 1e9
    return float(abs(err) + (1 - rho))


def holdout_metrics(actual, predicted) -> dict[str, float]:
    """Totals, aggregate error, per-customer MAE, Spearman and top-decile capture.

    ``top_decile_capture`` is the share of holdout revenue that came from the 10% of
    customers (rounded up) with the highest predictions.
    """
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    at, pt = float(a.sum()), float(p.sum())
    n_top = max(1, math.ceil(0.1 * a.size)) if a.size else 0
    top = np.argsort(-p, kind="stable")[:n_top]
    if a.size > 1 and np.ptp(a) > 0 and np.ptp(p) > 0:
        rho = float(stats.spearmanr(a, p).statistic)
    else:
        rho = float("nan")
    return {
        "n_customers": int(a.size),
        "actual_total": at,
        "predicted_total": pt,
        "aggregate_error": pt / at - 1 if at > 0 else float("nan"),
        "mae": float(np.mean(np.abs(p - a))) if a.size else float("nan"),
        "spearman": rho,
        "top_decile_capture": float(a[top].sum() / at) if at > 0 else float("nan"),
    }


def _canonical(transactions, customer_col, date_col, amount_col) -> pd.DataFrame:
    return pd.DataFrame({
        "c": transactions[customer_col].to_numpy(),
        "d": pd.to_datetime(transactions[date_col]).dt.normalize().to_numpy(),
        "m": pd.to_numeric(transactions[amount_col]).to_numpy(dtype=float),
    })


def looks_like_renewals(tx: pd.DataFrame, customer_col="c", date_col="d",
                        max_cv: float = 0.25) -> tuple[bool, float]:
    """Whether most repeat customers pay at regular intervals; and the typical interval.

    Returns ``(regular, period_days)``: ``regular`` is True when over half of the customers
    with three or more purchase days have gaps whose coefficient of variation is below
    ``max_cv``; ``period_days`` is the median of their median gaps.
    """
    days = tx[[customer_col, date_col]].drop_duplicates().sort_values([customer_col, date_col])
    gaps = days.groupby(customer_col)[date_col].diff().dt.days.dropna()
    g = gaps.groupby(days.loc[gaps.index, customer_col])
    stats_ = pd.DataFrame({"n": g.size(), "mean": g.mean(), "std": g.std(ddof=0),
                           "median": g.median()})
    stats_ = stats_[stats_["n"] >= 2]
    if stats_.empty:
        return False, float("nan")
    regular = (stats_["std"] / stats_["mean"]) < max_cv
    return bool(regular.mean() > 0.5), float(stats_["median"].median())


def _durations(tx: pd.DataFrame, end: pd.Timestamp, period_days: float):
    """Paid periods per customer (consecutive payments no more than 1.5 periods apart)."""
    days = tx[["c", "d"]].drop_duplicates().sort_values(["c", "d"])
    gap = days.groupby("c")["d"].diff().dt.days
    broke = (gap > 1.5 * period_days).groupby(days["c"]).cummax()
    paid = days[~broke]
    g = paid.groupby("c")["d"]
    n = g.size().astype(float)
    last = g.max()
    stopped = (gap > 1.5 * period_days).groupby(days["c"]).any()
    alive = ((end - last).dt.days <= 1.5 * period_days) & ~stopped.reindex(n.index)
    return n, alive


def positive_repeat_spend(cal: pd.DataFrame, rfm: pd.DataFrame
                          ) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """The Gamma-Gamma spend inputs of each customer of ``rfm``, on positive lines only.

    Lines with a zero or negative amount (free items, returns, credits) say nothing about
    what a purchase is worth, so they are left out of the spend model (they still count
    as purchases for BG/NBD). Per customer, ``x`` = the repeat purchase days (days after
    the first purchase day) with positive lines and ``z`` = the mean of those days' positive
    amounts (0 when ``x`` = 0). A repeat customer left with ``x`` = 0 is excluded from the
    fit and valued at the population mean spend. Returns ``(x, z, counts)`` with counts
    ``excluded_lines`` (non-positive lines), ``excluded_customers`` (repeat customers without
    a positive repeat purchase), ``customers`` (customers the spend model is fitted on)."""
    first = cal.groupby("c")["d"].min()
    pos = cal[cal["m"] > 0]
    pos = pos[pos["d"] > pos["c"].map(first)]
    daily = pos.groupby(["c", "d"])["m"].sum()
    by = daily.groupby(level="c")
    x = by.size().reindex(rfm.index).fillna(0).astype(float)
    z = by.mean().reindex(rfm.index).fillna(0.0)
    counts = {"excluded_lines": int((cal["m"] <= 0).sum()),
              "excluded_customers": int(((rfm["frequency"] > 0) & (x == 0)).sum()),
              "customers": int((x > 0).sum())}
    return x, z, counts


def discounted_value(prediction: pd.Series, info: dict, horizon_months: int,
                     annual_rate: float, time_unit: str = "week") -> pd.Series:
    """Present value of each customer's predicted revenue over ``horizon_months`` months,
    discounted at ``annual_rate`` a year, month by month:
    ``sum_k revenue in month k / (1 + annual_rate) ** (k / 12)``.

    For the BG/NBD models revenue in month k is (expected purchases by the end of month k
    minus by the end of month k - 1) x expected spend; for the other models the predicted
    total is spread evenly over the months (their predictions have no time profile).
    ``prediction`` must cover the same ``horizon_months`` (30.4375-day months)."""
    k = np.arange(1, int(horizon_months) + 1)
    factor = (1.0 + annual_rate) ** (-k / 12.0)
    bg = info.get("bgnbd")
    if bg is None or "rfm" not in info:
        return prediction * float(factor.mean())
    rfm = info["rfm"]
    s = 30.4375 / TIME_UNITS[time_unit]
    x, tx, T = (rfm[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    cum = np.stack([np.zeros_like(x)] + [bg.expected_purchases(j * s, x, tx, T) for j in k])
    value = (np.diff(cum, axis=0) * factor[:, None]).sum(axis=0) * info["spend"].to_numpy()
    return pd.Series(value, index=rfm.index).reindex(prediction.index)


def fit_predict(tx: pd.DataFrame, calibration_end, holdout_days: float, model: str,
                time_unit: str = "week", features: pd.DataFrame | None = None,
                categorical: list[str] | None = None, rfm_cache: dict | None = None):
    """Fit ``model`` on ``tx`` (canonical columns c, d, m) up to ``calibration_end``.

    Returns ``(prediction, info)``: predicted revenue of every calibration customer over the
    next ``holdout_days`` days (a Series indexed by customer) and a dict with the fitted
    estimators, ``params``, ``log_likelihood`` and ``log_likelihoods``. ``rfm_cache``: a
    dict shared by the fits of one ``tx`` (:func:`choose_model`'s candidates), which then
    compute each RFM summary once instead of once a candidate (the summaries are read,
    never changed).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    end = pd.Timestamp(calibration_end).normalize()
    cal = tx[tx["d"] <= end]
    unit = TIME_UNITS[time_unit]

    def summary(at: pd.Timestamp) -> pd.DataFrame:
        if rfm_cache is None:
            return rfm_summary(cal, "c", "d", "m", at, time_unit)
        key = (end, at, time_unit)
        if key not in rfm_cache:
            rfm_cache[key] = rfm_summary(cal, "c", "d", "m", at, time_unit)
        return rfm_cache[key]

    rfm = summary(end)
    info: dict = {"params": {}, "log_likelihood": None, "log_likelihoods": {}}
    if model in ("bgnbd", "gamma-gamma"):
        bg = BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"])
        n = bg.expected_purchases(holdout_days / unit, rfm["frequency"], rfm["recency"],
                                  rfm["T"])
        info.update(bgnbd=bg, params=dict(bg.params_), log_likelihood=bg.log_likelihood_,
                    log_likelihoods={"bgnbd": bg.log_likelihood_})
        if model == "bgnbd":
            spend = cal.groupby("c")["m"].sum().reindex(rfm.index) / (rfm["frequency"] + 1)
        else:
            sx, sz, counts = positive_repeat_spend(cal, rfm)
            gg = GammaGammaFitter().fit(sx, sz)
            spend = gg.conditional_expected_average_profit(sx, sz)
            info.update(gamma_gamma=gg, params={**bg.params_, **gg.params_},
                        log_likelihood=bg.log_likelihood_ + gg.log_likelihood_,
                        log_likelihoods={"bgnbd": bg.log_likelihood_,
                                         "gamma_gamma": gg.log_likelihood_},
                        spend_model=counts)
        spend = pd.Series(np.asarray(spend, dtype=float), index=rfm.index)
        info.update(rfm=rfm, spend=spend)
        return pd.Series(np.asarray(n) * spend.to_numpy(), index=rfm.index), info
    if model == "sbg":
        regular, period = looks_like_renewals(cal)
        if not np.isfinite(period) or period <= 0:
            raise ValueError("sBG needs renewal data: no customer paid three or more times")
        n, alive = _durations(cal, end, period)
        sbg = ShiftedBetaGeometric().fit_durations(n, ~alive)
        mean_pay = cal.groupby("c")["m"].sum().reindex(n.index) / n
        horizon = max(1, round(holdout_days / period))
        remaining = sbg.expected_remaining_periods(n - 1, horizon)
        pred = pd.Series(np.where(alive, remaining * mean_pay, 0.0), index=n.index)
        info.update(sbg=sbg, params=dict(sbg.params_), log_likelihood=sbg.log_likelihood_,
                    log_likelihoods={"sbg": sbg.log_likelihood_}, period_days=period,
                    regular=regular)
        return pred.reindex(rfm.index).fillna(0.0), info
    # segments / regressor: learn "revenue in the next window" on an inner split
    first = cal["d"].min()
    span = (end - first).days
    inner = min(holdout_days, span / 2)
    if inner < 1:
        raise ValueError("the calibration period is too short for an inner training split")
    cut = end - pd.Timedelta(days=math.floor(inner))
    X_tr = summary(cut)
    y_tr = (cal[cal["d"] > cut].groupby("c")["m"].sum().reindex(X_tr.index).fillna(0.0)
            * holdout_days / math.floor(inner))
    X_pred = rfm
    if features is not None:
        X_tr = X_tr.join(features, how="left")
        X_pred = X_pred.join(features, how="left")
    if model == "segments":
        est = RFMSegmenter().fit(X_tr, y_tr)
        pred = est.predict_value(X_pred)
        info.update(segments=est, params={"n_segments": int(len(est.segment_value_))})
    else:
        est = NextHorizonRegressor(categorical=categorical).fit(X_tr, y_tr)
        pred = est.predict(X_pred)
        info.update(regressor=est, params={"n_iter": int(est.model_.n_iter_)})
    return pd.Series(pred, index=rfm.index), info


def backtest(transactions: pd.DataFrame, customer_col: str, date_col: str, amount_col: str,
             calibration_end, holdout_end, model: str = "gamma-gamma",
             time_unit: str = "week", features: pd.DataFrame | None = None,
             categorical: list[str] | None = None) -> BacktestResult:
    """Fit ``model`` up to ``calibration_end`` and score its holdout predictions.

    See the module docstring for the models and the baseline.
    """
    tx = _canonical(transactions, customer_col, date_col, amount_col)
    return _backtest(tx, calibration_end, holdout_end, model, time_unit, features, categorical)


def _backtest(tx, calibration_end, holdout_end, model, time_unit, features, categorical,
              rfm_cache: dict | None = None):
    end = pd.Timestamp(calibration_end).normalize()
    hend = pd.Timestamp(holdout_end).normalize()
    if hend <= end:
        raise ValueError(f"holdout_end {hend.date()} must be after calibration_end {end.date()}")
    holdout_days = (hend - end).days
    pred, info = fit_predict(tx, end, holdout_days, model, time_unit, features, categorical,
                             rfm_cache)
    cal = tx[tx["d"] <= end]
    hold = tx[(tx["d"] > end) & (tx["d"] <= hend)]
    actual = hold.groupby("c")["m"].sum().reindex(pred.index).fillna(0.0)
    cal_days = max(1, (end - cal["d"].min()).days + 1)
    base = cal.groupby("c")["m"].sum().reindex(pred.index) * holdout_days / cal_days
    customers = pd.DataFrame({"actual": actual, "predicted": pred, "baseline": base})
    return BacktestResult(
        model=model, customers=customers,
        metrics=holdout_metrics(actual, pred), baseline=holdout_metrics(actual, base),
        params=info["params"], log_likelihood=info["log_likelihood"],
        log_likelihoods=info["log_likelihoods"])


def choose_model(transactions: pd.DataFrame, customer_col: str, date_col: str,
                 amount_col: str, calibration_end, holdout_end, time_unit: str = "week",
                 candidates: tuple[str, ...] | None = None,
                 features: pd.DataFrame | None = None,
                 categorical: list[str] | None = None):
    """Backtest every candidate and return ``(best_name, results)``.

    Candidates default to bgnbd, gamma-gamma, segments and regressor, plus sbg when the log
    looks like renewals (:func:`looks_like_renewals`). A candidate that cannot be fitted
    (e.g. non-convergence, non-positive amounts for Gamma-Gamma) is skipped and its error
    kept in ``results[name]`` as a string. The winner has the lowest :data:`CRITERION`
    score. Raises ValueError when no candidate could be fitted.
    """
    tx = _canonical(transactions, customer_col, date_col, amount_col)
    if candidates is None:
        candidates = ("bgnbd", "gamma-gamma", "segments", "regressor")
        cal = tx[tx["d"] <= pd.Timestamp(calibration_end)]
        if looks_like_renewals(cal)[0]:
            candidates += ("sbg",)
    results: dict[str, BacktestResult | str] = {}
    rfm_cache: dict = {}  # the candidates share the calibration's RFM summaries
    for name in candidates:
        try:
            results[name] = _backtest(tx, calibration_end, holdout_end, name, time_unit,
                                      features, categorical, rfm_cache)
        except ValueError as exc:
            results[name] = f"{type(exc).__name__}: {exc}"
    ok = {k: v for k, v in results.items() if isinstance(v, BacktestResult)}
    if not ok:
        raise ValueError("no candidate model could be fitted: " + "; ".join(
            f"{k}: {v}" for k, v in results.items()))
    best = min(ok, key=lambda k: ok[k].score)
    return best, results
