"""Deal-size bands: methods, robustness to one outlier, saved edges, drift, sklearn checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from reporting.models import DealSizeBander, diagnostics
from reporting.models.bands import METHODS

from ..conftest import DEMO_END, shared


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One OpenMP/BLAS thread: these fits are small, and on a shared 2-core machine OpenMP
    spin-waiting made KMeans / gradient boosting 10-20x slower (see FACTS.md)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def amounts() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.lognormal(np.log(5e3), 0.4, 600),
                           rng.lognormal(np.log(4e4), 0.4, 300),
                           rng.lognormal(np.log(3e5), 0.4, 100)])


@pytest.mark.parametrize("method", METHODS)
def test_methods_give_increasing_edges_and_full_bands(amounts, method):
    b = DealSizeBander(method=method).fit(amounts)
    assert b.edges_.shape == (2,) and np.all(np.diff(b.edges_) > 0)
    shares = b.shares(amounts)
    assert list(shares.index) == ["small", "medium", "large"]
    assert shares.sum() == pytest.approx(1.0) and (shares > 0.05).all()
    labels = b.transform(amounts).ravel()
    assert set(labels) == {"small", "medium", "large"}


@pytest.mark.parametrize("method", ["kmeans", "jenks"])
def test_clusters_find_the_planted_groups(amounts, method):
    # three lognormal groups of 600 / 300 / 100 deals around 5k, 40k and 300k
    b = DealSizeBander(method=method).fit(amounts)
    np.testing.assert_allclose(b.shares(amounts), [0.6, 0.3, 0.1], atol=0.02)


@pytest.mark.parametrize("method", METHODS)
def test_one_huge_outlier_moves_edges_less_than_5_percent(amounts, method):
    base = DealSizeBander(method=method).fit(amounts).edges_
    moved = DealSizeBander(method=method).fit(np.append(amounts, amounts.max() * 1000)).edges_
    assert np.max(np.abs(moved / base - 1)) < 0.05


@pytest.fixture(scope="module")
def demo_won():
    """Won amounts of the demo data, Enterprise teams and the other teams separately."""
    from reporting import demo

    o = demo.generate(seed=7, scale=1, end=DEMO_END)["opportunities"]
    won = o[o["status"] == "won"]
    ent = won["team"].str.contains("Enterprise")
    return won.loc[ent, "amount"].to_numpy(), won.loc[~ent, "amount"].to_numpy()


def test_default_is_robust_to_one_outlier_on_demo_and_maven(demo_won):
    import pandas as pd

    maven = pd.read_csv(shared("maven_crm/sales_pipeline.csv"))
    for won in (*demo_won, maven.loc[maven["deal_stage"] == "Won", "close_value"].to_numpy()):
        base = DealSizeBander().fit(won).edges_
        moved = DealSizeBander().fit(np.append(won, np.nanmax(won) * 1000)).edges_
        assert np.max(np.abs(moved / base - 1)) < 0.05


def test_five_deals_fall_back_with_a_message():
    b = DealSizeBander().fit([1_000, 2_000, 3_000, 50_000, 90_000, 0, -5, np.nan])
    assert "only 5 distinct positive amounts" in b.fallback_
    assert b.n_ignored_ == 3
    assert b.transform([0, 10, 1e6]).ravel().tolist() == [None, "small", "large"]


def test_no_positive_amounts_raise():
    with pytest.raises(ValueError, match="no positive amounts"):
        DealSizeBander().fit([0.0, -1.0])


def test_parameter_validation_gives_the_standard_message():
    with pytest.raises(ValueError, match="'method' parameter of DealSizeBander must be"):
        DealSizeBander(method="median").fit([1.0, 2.0])
    with pytest.raises(ValueError, match="'n_bands' parameter"):
        DealSizeBander(n_bands=1).fit([1.0, 2.0])
    with pytest.raises(ValueError, match="2 labels given for 3 bands"):
        DealSizeBander(labels=("s", "l")).fit(np.arange(1, 20.0))


def test_from_edges_and_to_dict_round_trip(amounts):
    b = DealSizeBander(method="jenks").fit(amounts)
    d = json.loads(json.dumps(b.to_dict()))
    c = DealSizeBander.from_edges(d["edges"], d["labels"])
    np.testing.assert_array_equal(c.transform(amounts), b.transform(amounts))
    f = DealSizeBander.from_edges([10_000, 100_000], ("S", "M", "L"))
    assert f.transform([5_000, 10_000, 2e5]).ravel().tolist() == ["S", "M", "L"]
    with pytest.raises(ValueError, match="strictly increasing"):
        DealSizeBander.from_edges([5.0, 1.0])


def test_psi_is_zero_for_the_same_mix_and_large_after_a_shift(amounts):
    b = DealSizeBander().fit(amounts)
    assert b.psi(amounts, amounts) == 0.0
    rng = np.random.default_rng(2)
    assert b.psi(amounts, rng.choice(amounts, 5000)) < 0.02
    shifted = amounts * 4  # deals four times larger
    assert b.psi(amounts, shifted) > 0.25


def test_diagnostics_prefers_three_bands_on_three_groups(amounts):
    d = diagnostics(amounts, k_range=range(2, 6))
    assert list(d.index) == [2, 3, 4, 5]
    assert d["bic"].idxmin() == 3 and d["silhouette"].idxmax() == 3


def test_maven_sales_pipeline_bands():
    import pandas as pd

    df = pd.read_csv(shared("maven_crm/sales_pipeline.csv"))
    won = df.loc[df["deal_stage"] == "Won", "close_value"]
    b = DealSizeBander().fit(won)
    assert b.fallback_ is None and b.shares(won).min() > 0.05


def _expected_failed_checks(est):
    one_column = "takes one column of amounts (or a 1-D array), not several features"
    labels = "transform returns band labels (object dtype), not numbers"
    return {
        "check_fit1d": "1-D arrays of amounts are the main input",
        "check_estimators_nan_inf": "missing amounts are ignored and counted in n_ignored_",
        "check_estimator_sparse_array": "1-D sparse input is rejected with scipy's message",
        "check_transformer_preserve_dtypes": labels,
        "check_transformer_general": labels,
        "check_transformer_data_not_an_array": labels,
        "check_pipeline_consistency": labels,
        "check_estimators_pickle": labels,
        "check_fit_idempotent": labels,
        "check_dict_unchanged": one_column,
        "check_dont_overwrite_parameters": one_column,
        "check_dtype_object": one_column,
        "check_f_contiguous_array_estimator": one_column,
        "check_methods_sample_order_invariance": one_column,
        "check_methods_subset_invariance": one_column,
        "check_fit2d_1sample": one_column,
        "check_fit2d_1feature": one_column,
        "check_fit2d_predict1d": one_column,
        "check_n_features_in": one_column,
        "check_n_features_in_after_fitting": one_column,
    }


@parametrize_with_checks([DealSizeBander()], expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
