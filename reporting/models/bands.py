"""Deal-size bands learned from won amounts.

Bands are learned on log10 amounts: on raw amounts a handful of huge deals would take a
cluster of their own and put nearly every deal in "small". Four methods are available
(compared in ``docs/models.md``):

* ``"kmeans"`` (default) -- one-dimensional KMeans; edges are the midpoints (in log space,
  i.e. geometric midpoints in currency) between neighbouring cluster centres.
* ``"gmm"`` -- a Gaussian mixture; edges are where the most probable component changes.
* ``"quantile"`` -- equal-count bands.
* ``"jenks"`` -- Fisher-Jenks natural breaks (exact dynamic programme, on at most 2,000
  quantiles of the data); edges are midpoints between neighbouring classes.

Robustness: before fitting, log amounts are winsorised at their 0.5 and 99.5 percentiles,
and never beyond the Tukey fences ``[Q1 - 1.5 IQR, Q3 + 1.5 IQR]`` (log10 space; the
fences matter for small samples, where the 99.5 percentile lies next to the largest deal).
So one absurd deal (a typo with three extra zeros) counts as a large deal instead of pulling
the top cluster towards it or taking a band of its own: with KMeans it moves the edges by
about 1% on a thousand deals (see ``docs/models.md``). Large inputs stay fast: KMeans
runs on log amounts rounded to 1e-4 decades (0.02% in currency) with counts as weights, and
the Gaussian mixture on a seeded sample of 200,000.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["DEFAULT_LABELS", "METHODS", "DealSizeBander", "diagnostics"]

DEFAULT_LABELS = ("small", "medium", "large")
METHODS = ("kmeans", "gmm", "quantile", "jenks")
_GMM_SAMPLE = 200_000
_JENKS_POINTS = 2_000
_PSI_FLOOR = 1e-4


def _amounts(X) -> np.ndarray:
    """Amounts as a float array (1-D, or one column); NaN and inf are kept (ignored later)."""
    a = check_array(X, ensure_2d=False, dtype=np.float64, ensure_all_finite=False,
                    input_name="X")
    if a.ndim == 2 and a.shape[1] != 1:
        raise ValueError(
            f"DealSizeBander expects one column of amounts, got X with {a.shape[1]} columns")
    return a.ravel()


def _positive_logs(X) -> tuple[np.ndarray, int]:
    a = _amounts(X)
    if a.ndim == 2 and a.shape[1] != 1:
        raise ValueError(
            f"DealSizeBander expects one column of amounts, got X with {a.shape[1]} columns")
    a = a.ravel()
    ok = np.isfinite(a) & (a > 0)
    return np.log10(a[ok]), int((~ok).sum())


def _winsorise(logs: np.ndarray) -> np.ndarray:
    """Clip log amounts to the 0.5/99.5 percentiles, and never beyond the Tukey fences."""
    p_lo, q1, q3, p_hi = np.quantile(logs, [0.005, 0.25, 0.75, 0.995])
    iqr = q3 - q1
    return np.clip(logs, max(p_lo, q1 - 1.5 * iqr), min(p_hi, q3 + 1.5 * iqr))


def _kmeans_edges(logs, k, random_state):
    vals, counts = np.unique(np.round(logs, 4), return_counts=True)
    km = KMeans(n_clusters=k, n_init=10, random_state=random_state)
    km.fit(vals.reshape(-1, 1), sample_weight=counts)
    centres = np.sort(km.cluster_centers_.ravel())
    return (centres[:-1] + centres[1:]) / 2


def _gmm_edges(logs, k, random_state):
    rng = np.random.default_rng(random_state)
    sample = logs if logs.size <= _GMM_SAMPLE else rng.choice(logs, _GMM_SAMPLE, replace=False)
    gm = GaussianMixture(n_components=k, n_init=3, random_state=random_state)
    gm.fit(sample.reshape(-1, 1))
    order = np.argsort(gm.means_.ravel())
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    grid = np.linspace(logs.min(), logs.max(), 4001)
    lab = rank[gm.predict(grid.reshape(-1, 1))]
    lab = np.maximum.accumulate(lab)  # a wide component may win again in the far tail
    means = np.sort(gm.means_.ravel())
    edges = []
    for j in range(1, k):
        hit = np.nonzero(lab >= j)[0]
        edges.append(grid[hit[0]] if hit.size and hit[0] > 0 else (means[j - 1] + means[j]) / 2)
    return np.asarray(edges)


def _jenks_edges(logs, k):
    """Fisher's exact optimal partition of sorted values into k classes (min within SS)."""
    x = np.sort(logs)
    if x.size > _JENKS_POINTS:
        x = np.quantile(x, np.linspace(0, 1, _JENKS_POINTS))
    n = x.size
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])

    def ssd(i, j):  # within sum of squares of x[i:j], vectorised over i
        m = j - i
        return s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / m

    cost = np.full((k + 1, n + 1), np.inf)
    arg = np.zeros((k + 1, n + 1), dtype=int)
    cost[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            tot = cost[c - 1, i] + ssd(i, j)
            b = int(np.argmin(tot))
            cost[c, j], arg[c, j] = tot[b], i[b]
    cuts, j = [], n
    for c in range(k, 0, -1):
        i = arg[c, j]
        cuts.append(i)
        j = i
    cuts = sorted(cuts)[1:]
    return np.array([(x[i - 1] + x[i]) / 2 for i in cuts])


class DealSizeBander(TransformerMixin, BaseEstimator):
    """Learn ``n_bands`` deal-size bands from positive amounts.

    Parameters
    ----------
    n_bands : int, default 3
        Number of bands (a business choice: small / medium / large).
    labels : tuple of str or None
        Band names, smallest first; default small / medium / large (or band_1..band_k).
    random_state : int, default 0
        Seed of KMeans / the Gaussian mixture, for repeatable edges.
    method : {"kmeans", "gmm", "quantile", "jenks"}, default "kmeans"
        How bands are found (see the module docstring). Whatever the method, log amounts
        are first winsorised at the 0.5 / 99.5 percentiles (within the Tukey
        fences), which makes the default robust to a single huge outlier deal.

    Attributes
    ----------
    edges_ : ndarray of shape (n_bands - 1,)
        Upper edges of every band but the last, in currency, increasing.
    labels_ : list of str
    n_ignored_ : int
        Amounts that were zero, negative or missing and were not clustered.
    fallback_ : str or None
        Why quantiles were used instead of the method (too few distinct amounts), or None.
    n_features_in_ : int
        Always 1: X is a 1-D array of amounts or a single column.
    """

    _parameter_constraints = {
        "n_bands": [Interval(Integral, 2, None, closed="left")],
        "labels": [tuple, list, None],
        "random_state": ["random_state"],
        "method": [StrOptions(set(METHODS))],
    }

    def __init__(self, n_bands: int = 3, labels: tuple[str, ...] | None = None,
                 random_state: int = 0, method: str = "kmeans"):
        self.n_bands = n_bands
        self.labels = labels
        self.random_state = random_state
        self.method = method

    def fit(self, X, y=None):
        self._validate_params()
        logs, self.n_ignored_ = _positive_logs(X)
        self.n_features_in_ = 1
        k = self.n_bands
        self.labels_ = list(self.labels or (DEFAULT_LABELS if k == 3
                                            else [f"band_{i + 1}" for i in range(k)]))
        if len(self.labels_) != k:
            raise ValueError(f"{len(self.labels_)} labels given for {k} bands")
        self.fallback_ = None
        if len(logs) == 0:
            raise ValueError("no positive amounts to learn deal-size bands from")
        n_distinct = len(np.unique(logs))
        logs = _winsorise(logs)
        if n_distinct < 2 * k:
            self.fallback_ = (f"only {n_distinct} distinct positive amounts (fewer than "
                              f"2 x {k} bands): bands are equal-count quantiles, not "
                              f"{self.method}")
            edges = np.quantile(logs, np.linspace(0, 1, k + 1)[1:-1])
        elif self.method == "kmeans":
            edges = _kmeans_edges(logs, k, self.random_state)
        elif self.method == "gmm":
            edges = _gmm_edges(logs, k, self.random_state)
        elif self.method == "quantile":
            edges = np.quantile(logs, np.linspace(0, 1, k + 1)[1:-1])
        else:
            edges = _jenks_edges(logs, k)
        self.edges_ = 10 ** np.maximum.accumulate(np.asarray(edges, dtype=float))
        return self

    @classmethod
    def from_edges(cls, edges, labels=None) -> DealSizeBander:
        """A fitted bander with fixed (e.g. saved) edges in currency."""
        e = np.asarray(edges, dtype=float).ravel()
        if e.size < 1 or np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(np.diff(e) <= 0):
            raise ValueError(f"edges must be positive and strictly increasing, got {e.tolist()}")
        k = e.size + 1
        self = cls(n_bands=k, labels=tuple(labels) if labels is not None else None)
        self.labels_ = list(labels or (DEFAULT_LABELS if k == 3
                                       else [f"band_{i + 1}" for i in range(k)]))
        if len(self.labels_) != k:
            raise ValueError(f"{len(self.labels_)} labels given for {k} bands")
        self.edges_ = e
        self.n_ignored_ = 0
        self.fallback_ = None
        self.n_features_in_ = 1
        return self

    def to_dict(self) -> dict:
        """Edges, labels and method, JSON-ready; ``from_edges(**d["edges"...])`` restores them."""
        check_is_fitted(self, "edges_")
        return {"edges": [float(e) for e in self.edges_], "labels": list(self.labels_),
                "method": self.method, "fallback": self.fallback_}

    def band_index(self, X) -> np.ndarray:
        """Band number (0 = smallest) of each amount; -1 for zero, negative or missing."""
        check_is_fitted(self, "edges_")
        a = _amounts(X)
        idx = np.searchsorted(self.edges_, a, side="right")
        return np.where(np.isfinite(a) & (a > 0), idx, -1)

    def transform(self, X):
        """Band label of each amount (None for zero, negative or missing amounts)."""
        idx = self.band_index(X)
        out = np.array(self.labels_, dtype=object)[np.clip(idx, 0, len(self.labels_) - 1)]
        out[idx < 0] = None
        return out.reshape(-1, 1)

    def shares(self, X) -> pd.Series:
        """Share of the positive amounts in each band."""
        idx = self.band_index(X)
        idx = idx[idx >= 0]
        counts = np.bincount(idx, minlength=len(self.labels_))
        return pd.Series(counts / max(1, idx.size), index=self.labels_, name="share")

    def psi(self, reference_amounts, current_amounts) -> float:
        """Population stability index of the band shares, current vs reference.

        ``PSI = sum_b (c_b - r_b) ln(c_b / r_b)`` with shares floored at 1e-4. Rule of thumb:
        < 0.1 stable, 0.1-0.25 some drift, > 0.25 the bands no longer describe the deals.
        """
        r = np.maximum(self.shares(reference_amounts).to_numpy(), _PSI_FLOOR)
        c = np.maximum(self.shares(current_amounts).to_numpy(), _PSI_FLOOR)
        return float(np.sum((c - r) * np.log(c / r)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        return tags


def diagnostics(amounts, k_range=range(2, 7), random_state: int = 0,
                sample_size: int = 5_000) -> pd.DataFrame:
    """BIC of a Gaussian mixture and silhouette of KMeans on (winsorised) log amounts, per k.

    Lower BIC and higher silhouette favour a k. The silhouette is computed on a seeded
    sample of ``sample_size`` amounts (it is quadratic in n).
    """
    logs, _ = _positive_logs(amounts)
    logs = _winsorise(logs)
    rng = np.random.default_rng(random_state)
    sample = logs if logs.size <= sample_size else rng.choice(logs, sample_size, replace=False)
    rows = []
    for k in k_range:
        if len(np.unique(sample)) <= k:
            rows.append({"k": k, "bic": np.nan, "silhouette": np.nan})
            continue
        S = sample.reshape(-1, 1)
        gm = GaussianMixture(n_components=k, n_init=2, random_state=random_state).fit(S)
        lab = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(S)
        sil = silhouette_score(S, lab) if len(np.unique(lab)) > 1 else np.nan
        rows.append({"k": k, "bic": float(gm.bic(S)), "silhouette": float(sil)})
    return pd.DataFrame(rows).set_index("k")
