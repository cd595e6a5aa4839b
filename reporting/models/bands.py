"""Deal-size bands learned from won amounts (first version; the models issue makes it
robust to drift and compares clustering methods).

Bands are learned by one-dimensional KMeans on log10 amounts: on raw amounts a handful of
huge deals would take a cluster of their own and put nearly every deal in "small". Edges
are the geometric midpoints between neighbouring cluster centres, so they are monotone and
reported in currency.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted

DEFAULT_LABELS = ("small", "medium", "large")


class DealSizeBander(TransformerMixin, BaseEstimator):
    """Learn ``n_bands`` deal-size bands from positive amounts.

    Parameters
    ----------
    n_bands : int, default 3
        Number of bands (a business choice: small / medium / large).
    labels : tuple of str or None
        Band names, smallest first; default small / medium / large (or band_1..band_k).
    random_state : int, default 0
        Seed of KMeans, for repeatable edges.

    Attributes
    ----------
    edges_ : ndarray of shape (n_bands - 1,)
        Upper edges of every band but the last, in currency, increasing.
    labels_ : list of str
    n_ignored_ : int
        Amounts that were zero, negative or missing and were not clustered.
    fallback_ : str or None
        Why quantiles were used instead of KMeans (too few distinct amounts), or None.
    """

    def __init__(self, n_bands: int = 3, labels: tuple[str, ...] | None = None,
                 random_state: int = 0):
        self.n_bands = n_bands
        self.labels = labels
        self.random_state = random_state

    def fit(self, X, y=None):
        a = np.asarray(X, dtype=float).ravel()
        ok = np.isfinite(a) & (a > 0)
        self.n_ignored_ = int((~ok).sum())
        logs = np.log10(a[ok])
        k = self.n_bands
        if k < 2:
            raise ValueError(f"n_bands must be at least 2, got {k}")
        self.labels_ = list(self.labels or (DEFAULT_LABELS if k == 3
                                            else [f"band_{i + 1}" for i in range(k)]))
        if len(self.labels_) != k:
            raise ValueError(f"{len(self.labels_)} labels given for {k} bands")
        self.fallback_ = None
        if len(np.unique(logs)) < 2 * k:
            if len(logs) == 0:
                raise ValueError("no positive amounts to learn deal-size bands from")
            self.fallback_ = (f"only {len(np.unique(logs))} distinct positive amounts: "
                              "bands are equal-count quantiles, not clusters")
            edges = np.quantile(logs, np.linspace(0, 1, k + 1)[1:-1])
        else:
            km = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
            km.fit(logs.reshape(-1, 1))
            centres = np.sort(km.cluster_centers_.ravel())
            edges = (centres[:-1] + centres[1:]) / 2
        self.edges_ = 10 ** np.maximum.accumulate(edges)
        return self

    def transform(self, X):
        """Band label of each amount (None for zero, negative or missing amounts)."""
        check_is_fitted(self, "edges_")
        a = np.asarray(X, dtype=float).ravel()
        idx = np.searchsorted(self.edges_, a, side="right")
        out = np.array(self.labels_, dtype=object)[np.minimum(idx, len(self.labels_) - 1)]
        out[~(np.isfinite(a) & (a > 0))] = None
        return out.reshape(-1, 1)
