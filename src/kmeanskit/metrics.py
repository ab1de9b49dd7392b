"""How good is a clustering: inertia, silhouette, Calinski-Harabasz, Davies-Bouldin, and
against reference labels ARI, NMI and the centroid index.

The silhouette is scikit-learn's up to ``SILHOUETTE_SKLEARN_MAX`` rows; above that a numba
kernel computes it without holding the pairwise distance matrix (memory O(rows x
clusters), about 10x faster), exactly up to ``SILHOUETTE_SAMPLE`` rows and on a random
sample of that many rows above. The other scores wrap scikit-learn's public
functions (imported when first used).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from kmeanskit._arrays import kernel_array
from kmeanskit._kernels import FASTMATH

__all__ = [
    "SILHOUETTE_SAMPLE",
    "SILHOUETTE_SKLEARN_MAX",
    "adjusted_rand_index",
    "ari",
    "calinski_harabasz",
    "centroid_index",
    "davies_bouldin",
    "evaluate",
    "inertia",
    "nmi",
    "normalized_mutual_info",
    "silhouette",
]

#: Up to this many rows the silhouette is scikit-learn's silhouette_score.
SILHOUETTE_SKLEARN_MAX = 2_000
#: With sample_size='auto', the silhouette is exact up to this many rows and computed on
#: a random sample of this many rows above.
SILHOUETTE_SAMPLE = 10_000
#: Rows per parallel task of the silhouette kernel.
_SIL_CHUNK = 32


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _silhouette_values(X, labels, counts, out):  # pragma: no cover - compiled
    """Silhouette of every row of X against all rows of X.

    X : (m, d) float64 (in); labels : (m,) int64 in [0, k) (in); counts : (k,) int64
    rows per label (in); out : (m,) float64 (out). A row alone in its cluster gets 0.
    Each row's sums run over j in order, so results do not depend on the threads.
    """
    m, d = X.shape
    k = counts.shape[0]
    n_chunks = (m + _SIL_CHUNK - 1) // _SIL_CHUNK
    for c in prange(n_chunks):
        sums = np.empty(k)
        for i in range(c * _SIL_CHUNK, min((c + 1) * _SIL_CHUNK, m)):
            for q in range(k):
                sums[q] = 0.0
            for j in range(m):
                acc = 0.0
                for t in range(d):
                    diff = X[i, t] - X[j, t]
                    acc += diff * diff
                sums[labels[j]] += np.sqrt(acc)
            own = labels[i]
            if counts[own] <= 1:
                out[i] = 0.0
                continue
            a = sums[own] / (counts[own] - 1)
            b = np.inf
            for q in range(k):
                if q != own and counts[q] > 0:
                    b = min(b, sums[q] / counts[q])
            top = max(a, b)
            out[i] = 0.0 if top == 0.0 else (b - a) / top


def _as_2d(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), not of shape {X.shape}")
    return np.ascontiguousarray(X)


def _labels_for(X: np.ndarray, labels: Any) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels has shape {labels.shape}; X has {X.shape[0]} rows")
    return labels


def inertia(X: Any, labels: Any, centers: Any = None, sample_weight: Any = None) -> float:
    """Weighted sum of squared distances of every row to the centre of its label (float64).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,), ints in [0, n_clusters)
    centers : array-like of shape (n_clusters, n_features), optional
        Default: the mean of the rows of each label.
    sample_weight : array-like of shape (n_samples,), optional
    """
    X = _as_2d(X)
    labels = _labels_for(X, labels)
    if centers is None:
        _, inverse = np.unique(labels, return_inverse=True)
        sums = np.zeros((inverse.max() + 1, X.shape[1]))
        np.add.at(sums, inverse, X)
        centers = sums / np.bincount(inverse)[:, None]
        labels = inverse
    centers = np.asarray(centers, dtype=np.float64)
    sq = np.einsum("ij,ij->i", X - centers[labels], X - centers[labels])
    if sample_weight is not None:
        sq = sq * np.asarray(sample_weight, dtype=np.float64)
    return float(np.sum(sq))


def silhouette(
    X: Any, labels: Any, *, sample_size: int | str | None = "auto", random_state: Any = 0
) -> float:
    """Mean silhouette coefficient (Euclidean), in [-1, 1]; higher is better.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    sample_size : 'auto', int or None
        'auto': exact up to ``SILHOUETTE_SAMPLE`` rows, else the silhouette of a random
        sample of ``SILHOUETTE_SAMPLE`` rows. An int: the silhouette of that many random
        rows (exact if it is at least n_samples). None: exact on all rows (O(n^2 d)).
    random_state : int or None
        Seed of the sample.

    Returns
    -------
    float
        As scikit-learn's ``silhouette_score(X, labels, sample_size=...)``: the
        silhouette of the sampled rows among themselves.
    """
    X = _as_2d(X)
    labels = _labels_for(X, labels)
    n = X.shape[0]
    if sample_size == "auto":
        sample_size = SILHOUETTE_SAMPLE
    if sample_size is not None and int(sample_size) < n:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(n, size=int(sample_size), replace=False))
        X, labels = np.ascontiguousarray(X[rows]), labels[rows]
        n = X.shape[0]
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if not 2 <= counts.size <= n - 1:
        raise ValueError(
            f"the silhouette needs 2 to n_samples - 1 clusters; got {counts.size} "
            f"clusters in {n} rows"
        )
    if n <= SILHOUETTE_SKLEARN_MAX:
        from sklearn.metrics import silhouette_score

        return float(silhouette_score(X, inverse))
    out = np.empty(n)
    _silhouette_values(kernel_array(X), inverse.astype(np.int64), counts.astype(np.int64), out)
    return float(out.mean())


def calinski_harabasz(X: Any, labels: Any) -> float:
    """Calinski-Harabasz index (variance ratio); higher is better."""
    from sklearn.metrics import calinski_harabasz_score

    X = _as_2d(X)
    return float(calinski_harabasz_score(X, _labels_for(X, labels)))


def davies_bouldin(X: Any, labels: Any) -> float:
    """Davies-Bouldin index; lower is better (0 is the best)."""
    from sklearn.metrics import davies_bouldin_score

    X = _as_2d(X)
    return float(davies_bouldin_score(X, _labels_for(X, labels)))


def adjusted_rand_index(labels_true: Any, labels_pred: Any) -> float:
    """Adjusted Rand index of two labelings (1: identical up to renaming; ~0: chance)."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.asarray(labels_true), np.asarray(labels_pred)))


def normalized_mutual_info(labels_true: Any, labels_pred: Any) -> float:
    """Normalized mutual information of two labelings, in [0, 1] (arithmetic mean)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(np.asarray(labels_true), np.asarray(labels_pred)))


ari = adjusted_rand_index
nmi = normalized_mutual_info


def _orphans(A: np.ndarray, B: np.ndarray) -> int:
    """Centroids of B that no centroid of A has as its nearest (ties: lowest index)."""
    sq = np.einsum("ij,ij->i", A, A)[:, None] - 2.0 * A @ B.T + np.einsum("ij,ij->i", B, B)[None, :]
    nearest = np.argmin(sq, axis=1)
    return int(B.shape[0] - np.unique(nearest).size)


def centroid_index(A: Any, B: Any) -> int:
    """Centroid index (Franti, Rezaei and Zhao 2014) of two sets of centroids.

    Map every centroid of A to its nearest centroid of B; CI(A -> B) is the number of
    centroids of B that nothing maps to. ``CI = max(CI(A -> B), CI(B -> A))``: 0 when
    both find the same cluster structure, otherwise the number of clusters placed
    wrongly.

    Parameters
    ----------
    A : array-like of shape (k1, n_features)
    B : array-like of shape (k2, n_features)
    """
    A, B = _as_2d(A), _as_2d(B)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A has {A.shape[1]} features but B has {B.shape[1]}")
    return max(_orphans(A, B), _orphans(B, A))


def _group_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((inverse.max() + 1, X.shape[1]))
    np.add.at(sums, inverse, X)
    return sums / np.bincount(inverse)[:, None]


def evaluate(
    X: Any,
    labels: Any,
    centers: Any = None,
    truth: Any = None,
    *,
    sample_size: int | str | None = "auto",
    random_state: Any = 0,
) -> dict[str, float | int | None]:
    """Every score at once, as a dict (what ``kmeanskit evaluate`` prints).

    Keys: ``inertia``, ``silhouette`` (None with one cluster), ``calinski_harabasz``,
    ``davies_bouldin``, and with ``truth``: ``ari``, ``nmi``, ``centroid_index`` (the
    ``centers`` against the means of the rows of each true label).
    """
    X = _as_2d(X)
    labels = _labels_for(X, labels)
    n_clusters = np.unique(labels).size
    several = 2 <= n_clusters <= X.shape[0] - 1
    scores: dict[str, float | int | None] = {
        "inertia": inertia(X, labels, centers),
        "silhouette": silhouette(X, labels, sample_size=sample_size, random_state=random_state)
        if several
        else None,
        "calinski_harabasz": calinski_harabasz(X, labels) if several else None,
        "davies_bouldin": davies_bouldin(X, labels) if several else None,
    }
    if truth is not None:
        truth = np.asarray(truth)
        if truth.shape != labels.shape:
            raise ValueError(f"truth has {truth.shape[0]} labels for {labels.shape[0]} rows")
        found = _group_means(X, labels) if centers is None else np.asarray(centers)
        scores["ari"] = adjusted_rand_index(truth, labels)
        scores["nmi"] = normalized_mutual_info(truth, labels)
        scores["centroid_index"] = centroid_index(found, _group_means(X, truth))
    return scores
