"""Win probability of an open deal within a horizon, and the arithmetic of its forecast.

:class:`WinProbability` is a scikit-learn estimator (``fit`` / ``predict_proba``,
``get_params``, a deterministic ``random_state``, learned attributes with a trailing
underscore, as :mod:`reporting.models.bands` and :mod:`reporting.models.clv`): a
``HistGradientBoostingClassifier`` with native categorical support (stage, forecast
category, source, product), calibrated with isotonic regression
(``CalibratedClassifierCV`` on a frozen booster) on the *latest* training origins, so the
calibration is learned on rows later in time than the booster's (the forecast is used on an
origin later still). The rows are the deals open at past origins, one row per (origin,
deal), built by :mod:`reporting.forecast` from what was known just before each origin.

The rest of the module is the arithmetic the forecast uses, kept pure and small so that it
can be checked against independent oracles:

* :func:`poisson_binomial_pmf` -- the exact distribution of the number of wins among
  independent deals with win probabilities ``p`` (blockwise dynamic programme, blocks
  combined by FFT convolution), and :func:`pmf_interval` -- its central interval;
* :func:`count_interval` -- the 80% interval of won deals, open deals plus a Poisson
  number of new ones;
* :func:`value_interval` -- the 80% interval of the won value (simulation with a fixed seed;
  a normal approximation beyond :data:`SIM_MAX_DEALS` deals);
* :func:`brier`, :func:`reliability_table` -- calibration checks.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import signal, stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

__all__ = [
    "CATEGORICAL",
    "NUMERIC",
    "SIM_MAX_DEALS",
    "WinProbability",
    "brier",
    "count_interval",
    "pmf_interval",
    "poisson_binomial_pmf",
    "reliability_table",
    "value_interval",
]

#: the model's numeric features (NaN: unknown at the origin)
NUMERIC = ("age_days", "days_in_stage", "days_to_close", "amount_log", "probability",
           "pushes", "owner_win_rate", "owner_closed")
#: the model's categorical features (None: unknown at the origin)
CATEGORICAL = ("stage", "forecast_category", "source", "product")
#: above this many deals the value interval is a normal approximation, not a simulation
SIM_MAX_DEALS = 20_000
_BLOCK = 128


class WinProbability(ClassifierMixin, BaseEstimator):
    """Probability that an open deal is won within the horizon, from its features at the
    origin (:data:`NUMERIC`, :data:`CATEGORICAL`; missing values allowed).

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, l2_regularization, min_samples_leaf
        The booster's (``HistGradientBoostingClassifier``).
    calibration : {"isotonic", "sigmoid", "none"}
        How the booster's scores are mapped to probabilities, learned on the training
        rows of the latest origins (``calibration_share`` of the origins, at least one),
        the booster being fitted on the earlier ones. With one origin, a seeded random
        ``calibration_share`` of the rows. With fewer than ``min_calibration_rows``
        calibration rows (or one class in them) the booster is fitted on every row and
        left uncalibrated.
    max_categories : int
        Categories kept per categorical feature (the most frequent; the rest are "other").
    n_threads : int or None
        OpenMP threads of the booster (default 1: on a shared 2-core machine two threads
        spin against other processes and were 3-8x slower here; None: the library's
        default, every core).
    random_state : int
        Seeds everything random (row split when there is one origin, the booster).

    Learned attributes: ``categories_`` (feature -> kept categories), ``numeric_`` and
    ``categorical_`` (the features used: those with a known value in some training row),
    ``booster_``,
    ``calibrator_`` (None when uncalibrated), ``base_rate_``, ``constant_`` (True when the
    training labels have one class or too few of either: the model predicts the base
    rate), ``n_train_``, ``n_calibration_``.
    """

    _parameter_constraints: dict = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "calibration": [StrOptions({"isotonic", "sigmoid", "none"})],
        "calibration_share": [Interval(Real, 0, 1, closed="neither")],
        "min_calibration_rows": [Interval(Integral, 1, None, closed="left")],
        "max_categories": [Interval(Integral, 2, 250, closed="both")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.05,
                 max_leaf_nodes: int = 8, l2_regularization: float = 1.0,
                 min_samples_leaf: int = 100, calibration: str = "isotonic",
                 calibration_share: float = 0.25, min_calibration_rows: int = 200,
                 max_categories: int = 60, n_threads: int | None = 1,
                 random_state: int = 0):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.min_samples_leaf = min_samples_leaf
        self.calibration = calibration
        self.calibration_share = calibration_share
        self.min_calibration_rows = min_calibration_rows
        self.max_categories = max_categories
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in (*NUMERIC, *CATEGORICAL) if c not in X.columns]
        if missing:
            raise ValueError(f"WinProbability: X lacks the feature columns {missing}; build "
                             "it with reporting.forecast (origin_rows)")
        out = pd.DataFrame(index=range(len(X)))
        for c in self.numeric_:
            out[c] = pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=float)
        for c in self.categorical_:
            keep = self.categories_[c]
            s = X[c].astype(object).where(X[c].notna(), None).to_numpy()
            s = np.where(pd.isna(s), None, np.where(np.isin(s, keep), s, "other"))
            out[c] = pd.Categorical(s, categories=[*keep, "other"])
        return out

    def fit(self, X: pd.DataFrame, y, groups=None):
        """Fit on feature rows ``X`` and labels ``y`` (1: won within the horizon).
        ``groups``: each row's origin (orders the rows in time for the calibration split;
        None: one origin)."""
        self._validate_params()
        y = np.asarray(y, dtype=int)
        if len(y) != len(X):
            raise ValueError(f"WinProbability.fit: {len(X)} rows of X, {len(y)} labels")
        self.categories_ = {}
        for c in CATEGORICAL:
            vc = X[c].dropna().astype(str).value_counts()
            self.categories_[c] = sorted(vc.index[: self.max_categories].tolist())
        self.numeric_, self.categorical_ = list(NUMERIC), list(CATEGORICAL)
        Xf = self._frame(X)
        self.n_train_ = len(y)
        self.base_rate_ = float(y.mean()) if len(y) else float("nan")
        self.classes_ = np.array([0, 1])
        self.calibrator_ = None
        self.booster_ = None
        self.n_calibration_ = 0
        n_pos = int(y.sum())
        self.constant_ = n_pos < 5 or len(y) - n_pos < 5
        if self.constant_:
            return self
        cal = np.zeros(len(y), dtype=bool)
        if self.calibration != "none":
            if groups is not None and len(np.unique(groups)) > 1:
                g = np.asarray(pd.to_datetime(pd.Series(groups), cache=False).to_numpy())
                uniq = np.unique(g)
                k = max(1, int(round(len(uniq) * self.calibration_share)))
                cal = g >= uniq[-k]
            else:
                rng = np.random.default_rng(self.random_state)
                cal = rng.random(len(y)) < self.calibration_share
            if (cal.sum() < self.min_calibration_rows or len(np.unique(y[cal])) < 2
                    or len(np.unique(y[~cal])) < 2):
                cal[:] = False
        fit_rows = ~cal
        # features with fewer than two known values in the booster's rows carry nothing
        # (and it cannot bin them): left out
        self.numeric_ = [c for c in NUMERIC
                         if np.unique(Xf.loc[fit_rows, c].dropna()).size > 1]
        self.categorical_ = [c for c in CATEGORICAL
                             if Xf.loc[fit_rows, c].dropna().nunique() > 0]
        if not (self.numeric_ or self.categorical_):
            self.constant_ = True
            return self
        Xf = Xf[[*self.numeric_, *self.categorical_]]
        self.booster_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, l2_regularization=self.l2_regularization,
            min_samples_leaf=self.min_samples_leaf, categorical_features="from_dtype",
            early_stopping=False, random_state=self.random_state)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            self.booster_.fit(Xf[fit_rows], y[fit_rows])
            if cal.any():
                self.calibrator_ = CalibratedClassifierCV(
                    FrozenEstimator(self.booster_), method=self.calibration)
                self.calibrator_.fit(Xf[cal], y[cal])
                self.n_calibration_ = int(cal.sum())
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)``: probability of not winning and of winning within the horizon."""
        check_is_fitted(self, "base_rate_")
        missing = [c for c in (*NUMERIC, *CATEGORICAL) if c not in X.columns]
        if missing:
            raise ValueError(f"WinProbability: X lacks the feature columns {missing}; build "
                             "it with reporting.forecast (origin_rows)")
        if self.constant_:
            p = np.full(len(X), self.base_rate_ if np.isfinite(self.base_rate_) else 0.0)
        else:
            Xf = self._frame(X)
            model = self.calibrator_ if self.calibrator_ is not None else self.booster_
            with threadpool_limits(limits=self.n_threads, user_api="openmp"):
                p = model.predict_proba(Xf[[*self.numeric_, *self.categorical_]])[:, 1] \
                    if len(X) else np.zeros(0)
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


# ---------------------------------------------------------------------- calibration


def brier(y, p) -> float:
    """Brier score: mean of (p - y)^2 over deals with a probability (NaN p left out; NaN
    when none has one)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p) & np.isfinite(y)
    return float(np.mean((p[ok] - y[ok]) ** 2)) if ok.any() else float("nan")


def reliability_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Reliability table: the deals in ``bins`` equal-width bins of predicted probability
    ([0, 0.1), ..., [0.9, 1.0]) with their count, mean predicted probability and observed
    win share (empty bins left out)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p) & np.isfinite(y)
    y, p = y[ok], p[ok]
    idx = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "deals": int(m.sum()),
                         "mean_predicted": float(p[m].mean()),
                         "observed": float(y[m].mean())})
    return pd.DataFrame(rows, columns=["bin", "deals", "mean_predicted", "observed"])


# ---------------------------------------------------------------------- intervals


def poisson_binomial_pmf(p) -> np.ndarray:
    """The exact distribution of the number of successes among independent trials with
    success probabilities ``p``: ``pmf[k] = P(K = k)``, ``k = 0..len(p)``. Blocks of
    :data:`_BLOCK` deals by the dynamic programme (vectorised over blocks), the blocks'
    distributions combined pairwise by FFT convolution (round-off clipped at 0 and
    renormalised)."""
    p = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    n = p.size
    if n == 0:
        return np.ones(1)
    nb = -(-n // _BLOCK)
    padded = np.zeros(nb * _BLOCK)
    padded[:n] = p
    q = padded.reshape(nb, _BLOCK)
    dp = np.zeros((nb, _BLOCK + 1))
    dp[:, 0] = 1.0
    for j in range(_BLOCK):
        pj = q[:, j:j + 1]
        dp[:, 1:] = dp[:, 1:] * (1 - pj) + dp[:, :-1] * pj
        dp[:, 0] *= 1 - pj[:, 0]
    parts = list(dp)
    while len(parts) > 1:
        nxt = []
        for i in range(0, len(parts) - 1, 2):
            a, b = parts[i], parts[i + 1]
            c = (np.convolve(a, b) if min(a.size, b.size) < 500
                 else signal.fftconvolve(a, b))
            c[c < 1e-300] = 0.0  # no subnormals (slow arithmetic), no FFT round-off < 0
            nxt.append(c)
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    pmf = parts[0][: n + 1]
    return pmf / pmf.sum()


def pmf_interval(pmf, level: float = 0.8) -> tuple[int, int]:
    """The central ``level`` interval ``[low, high]`` of a distribution on 0, 1, 2, ...:
    ``low`` the smallest k with P(K <= k) >= (1 - level) / 2, ``high`` the smallest k with
    P(K <= k) >= (1 + level) / 2 (so P(low <= K <= high) >= level)."""
    cdf = np.cumsum(np.asarray(pmf, dtype=float))
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    eps = 1e-12
    low = int(np.searchsorted(cdf, lo_q - eps))
    high = int(np.searchsorted(cdf, hi_q - eps))
    return low, min(high, len(cdf) - 1)


def count_interval(p, new_mean: float = 0.0, level: float = 0.8) -> tuple[int, int]:
    """``level`` interval of the won count: the open deals' wins (Poisson-binomial of
    ``p``) plus a Poisson number of new deals won with mean ``new_mean`` (0: none)."""
    pmf = poisson_binomial_pmf(p)
    shift = 0
    if new_mean and np.isfinite(new_mean) and new_mean > 0:
        # the Poisson's support where it has mass (beyond 1e-12 each side), as an offset
        shift = int(stats.poisson.ppf(1e-12, new_mean))
        kmax = int(stats.poisson.ppf(1 - 1e-12, new_mean)) + 1
        q = stats.poisson.pmf(np.arange(shift, kmax + 1), new_mean)
        pmf = (np.convolve(pmf, q) if min(pmf.size, q.size) < 500
               else np.clip(signal.fftconvolve(pmf, q), 0.0, None))
        pmf = pmf / pmf.sum()
    lo, hi = pmf_interval(pmf, level)
    return lo + shift, hi + shift


def value_interval(p, amounts, new_mean: float = 0.0, new_amount: float = 0.0,
                   level: float = 0.8, draws: int = 2000,
                   random_state: int = 0) -> tuple[float, float]:
    """``level`` interval of the won value: each open deal won with probability ``p`` at
    its amount, plus a Poisson(``new_mean``) number of new deals of mean amount
    ``new_amount``. Simulated (``draws`` draws, seeded) up to :data:`SIM_MAX_DEALS` deals,
    a normal approximation (mean sum p a, variance sum p(1-p) a^2, plus the new deals')
    beyond. NaN amounts count as unknown: (NaN, NaN) when every amount is unknown."""
    p = np.asarray(p, dtype=float)
    a = np.asarray(amounts, dtype=float)
    ok = np.isfinite(a)
    if len(a) and not ok.any():
        return float("nan"), float("nan")
    p, a = p[ok], a[ok]
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    has_new = bool(new_mean and np.isfinite(new_mean) and new_mean > 0
                   and np.isfinite(new_amount))
    if p.size > SIM_MAX_DEALS:
        mean = float(np.sum(p * a)) + (new_mean * new_amount if has_new else 0.0)
        var = float(np.sum(p * (1 - p) * a * a)) + (new_mean * new_amount ** 2
                                                     if has_new else 0.0)
        z = stats.norm.ppf(hi_q)
        sd = np.sqrt(var)
        return max(0.0, mean - z * sd), mean + z * sd
    rng = np.random.default_rng(random_state)
    total = np.zeros(draws)
    chunk = max(1, 2_000_000 // max(1, p.size))
    for s in range(0, draws, chunk):
        e = min(draws, s + chunk)
        won = rng.random((e - s, p.size)) < p
        total[s:e] = won @ a
    if has_new:
        total += rng.poisson(new_mean, draws) * new_amount
    return float(np.quantile(total, lo_q)), float(np.quantile(total, hi_q))
