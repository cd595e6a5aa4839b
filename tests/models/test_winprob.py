"""reporting.models.winprob: the interval arithmetic against independent oracles (scipy's
binomial and Poisson, brute-force enumeration), the calibration checks by hand, and the
estimator's scikit-learn conventions."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone

from reporting.models.winprob import (
    CATEGORICAL,
    NUMERIC,
    WinProbability,
    brier,
    count_interval,
    pmf_interval,
    poisson_binomial_pmf,
    reliability_table,
    value_interval,
)


def _enumerate(p):
    """Brute force: every win/loss combination of the deals, its probability."""
    p = np.asarray(p, dtype=float)
    for won in itertools.product([0, 1], repeat=len(p)):
        w = np.asarray(won)
        yield w, float(np.prod(np.where(w == 1, p, 1 - p)))


def test_poisson_binomial_equals_the_binomial_when_every_p_is_equal():
    for n, p in ((1, 0.3), (7, 0.5), (300, 0.12), (1000, 0.4)):
        got = poisson_binomial_pmf(np.full(n, p))
        want = stats.binom.pmf(np.arange(n + 1), n, p)
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_poisson_binomial_of_five_deals_by_enumeration():
    p = [0.1, 0.35, 0.5, 0.8, 0.95]
    want = np.zeros(6)
    for won, pr in _enumerate(p):
        want[won.sum()] += pr
    np.testing.assert_allclose(poisson_binomial_pmf(p), want, atol=1e-14)
    # by hand for two deals: P(0) = 0.9 * 0.65, P(2) = 0.1 * 0.35
    np.testing.assert_allclose(poisson_binomial_pmf([0.1, 0.35]),
                               [0.585, 0.1 * 0.65 + 0.9 * 0.35, 0.035])


def test_poisson_binomial_across_blocks_matches_the_direct_recursion():
    rng = np.random.default_rng(4)
    p = rng.random(700)  # several 128-deal blocks, combined by FFT
    direct = np.ones(1)
    for q in p:
        direct = np.convolve(direct, [1 - q, q])
    np.testing.assert_allclose(poisson_binomial_pmf(p), direct, atol=1e-12)


def test_pmf_interval_by_hand():
    # P = 0.05, 0.05, 0.3, 0.3, 0.2, 0.1: cdf 0.05 0.10 0.40 0.70 0.90 1.00
    pmf = [0.05, 0.05, 0.3, 0.3, 0.2, 0.1]
    assert pmf_interval(pmf, 0.8) == (1, 4)  # P(K<=1) = 0.10 >= 0.10; P(K<=4) = 0.90
    assert pmf_interval([1.0], 0.8) == (0, 0)


def test_count_interval_of_equal_p_is_the_binomial_quantiles():
    lo, hi = count_interval(np.full(200, 0.3))
    assert (lo, hi) == (int(stats.binom.ppf(0.1, 200, 0.3)), int(stats.binom.ppf(0.9, 200, 0.3)))


def test_count_interval_with_new_deals_is_binomial_plus_poisson():
    p, lam = np.full(40, 0.25), 3.5
    k = np.arange(80)
    want = np.convolve(stats.binom.pmf(np.arange(41), 40, 0.25), stats.poisson.pmf(k, lam))
    cdf = np.cumsum(want)
    lo, hi = count_interval(p, lam)
    assert lo == int(np.searchsorted(cdf, 0.1 - 1e-12))
    assert hi == int(np.searchsorted(cdf, 0.9 - 1e-12))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=9))
def test_interval_covers_at_least_the_level(p):
    pmf = poisson_binomial_pmf(p)
    assert pmf.sum() == pytest.approx(1.0)
    lo, hi = pmf_interval(pmf, 0.8)
    assert 0 <= lo <= hi <= len(p)
    assert pmf[lo:hi + 1].sum() >= 0.8 - 1e-9
    assert lo <= sum(p) + 1 and hi >= sum(p) - 1


def test_value_interval_of_five_deals_against_enumeration():
    p = np.array([0.2, 0.5, 0.7, 0.9, 0.4])
    a = np.array([100.0, 250.0, 40.0, 10.0, 600.0])
    vals, probs = [], []
    for won, pr in _enumerate(p):
        vals.append(float(won @ a))
        probs.append(pr)
    order = np.argsort(vals)
    v, c = np.asarray(vals)[order], np.cumsum(np.asarray(probs)[order])
    exact_lo, exact_hi = v[np.searchsorted(c, 0.1)], v[np.searchsorted(c, 0.9)]
    lo, hi = value_interval(p, a, draws=20000, random_state=1)
    assert (lo, hi) == (exact_lo, exact_hi)
    assert value_interval(p, a, random_state=5) == value_interval(p, a, random_state=5)


def test_value_interval_unknown_amounts_and_the_normal_branch():
    assert all(np.isnan(value_interval([0.5], [np.nan])))
    rng = np.random.default_rng(0)
    p, a = rng.random(30000), rng.uniform(10, 20, 30000)  # above SIM_MAX_DEALS: normal
    lo, hi = value_interval(p, a)
    mean, sd = np.sum(p * a), np.sqrt(np.sum(p * (1 - p) * a * a))
    assert lo == pytest.approx(mean - 1.2815515655 * sd) and hi == pytest.approx(
        mean + 1.2815515655 * sd)


def test_brier_and_reliability_by_hand():
    y = [1, 0, 1, 0]
    p = [0.9, 0.2, 0.6, np.nan]
    # (0.01 + 0.04 + 0.16) / 3
    assert brier(y, p) == pytest.approx(0.07)
    assert np.isnan(brier([1], [np.nan]))
    t = reliability_table([1, 0, 1, 1], [0.05, 0.15, 0.12, 0.95])
    assert t["bin"].tolist() == ["0.0-0.1", "0.1-0.2", "0.9-1.0"]
    assert t["deals"].tolist() == [1, 2, 1]
    assert t["observed"].tolist() == [1.0, 0.5, 1.0]
    assert t["mean_predicted"].tolist() == pytest.approx([0.05, 0.135, 0.95])


def _frame(n, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({c: rng.normal(size=n) for c in NUMERIC})
    X["probability"] = np.nan  # a feature never known: left out, no error
    X["stage"] = rng.choice(["a", "b", "c"], n)
    X["forecast_category"] = None
    X["source"] = rng.choice(["x", "y"], n)
    X["product"] = rng.choice(["p", "q"], n)
    logit = 1.5 * X["age_days"] + np.where(X["stage"] == "c", 1.0, -0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    groups = np.repeat(pd.date_range("2025-01-01", periods=4, freq="MS"), n // 4)
    return X, y, groups


def test_estimator_conventions_and_determinism():
    X, y, g = _frame(2000)
    est = WinProbability(random_state=3)
    assert est.get_params()["random_state"] == 3
    assert clone(est).get_params() == est.get_params()
    a = est.fit(X, y, groups=g).predict_proba(X)
    b = clone(est).fit(X, y, groups=g).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2000, 2) and np.allclose(a.sum(axis=1), 1)
    assert "probability" not in est.numeric_ and "forecast_category" not in est.categorical_
    assert est.calibrator_ is not None and est.n_calibration_ == 500  # the latest origin
    assert brier(y, a[:, 1]) < brier(y, np.full(len(y), y.mean()))
    # a category never seen in training and a missing stage still predict
    Z = X.head(3).copy()
    Z["stage"] = ["zzz", None, "a"]
    assert np.isfinite(est.predict_proba(Z)).all()


def test_too_few_wins_predicts_the_base_rate():
    X, _, _ = _frame(100)
    y = np.zeros(100, dtype=int)
    y[:3] = 1
    est = WinProbability().fit(X, y)
    assert est.constant_ and np.allclose(est.predict_proba(X)[:, 1], 0.03)
    with pytest.raises(ValueError, match="lacks the feature columns"):
        est.predict_proba(X.drop(columns=["stage"]))
    assert set(CATEGORICAL) <= set(X.columns)
