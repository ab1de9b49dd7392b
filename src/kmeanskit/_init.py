"""Seeding: choose the initial centres. Runs on in-memory arrays.

Rows are drawn by inverse transform sampling: a uniform draw times the total weight,
looked up in the cumulative weights. A row of weight 2 then covers exactly the
interval two copies of it would, so weighting a row and repeating it pick the same
seeds, and rows of weight 0 are never picked.
"""

from __future__ import annotations

import math

import numpy as np

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels.seeding import candidate_potentials, update_closest


def _draw(cumulative: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Rows whose cumulative-weight interval holds each value (never weight-0 rows)."""
    idx = np.searchsorted(cumulative, values, side="right")
    # A draw that rounds up onto the total falls past the end: give it the last row
    # that has any weight.
    last = int(np.searchsorted(cumulative, cumulative[-1], side="left"))
    return np.minimum(idx, last)


def kmeans_plusplus(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ (Arthur & Vassilvitskii 2007; greedy variant as in scikit-learn).

    Each step draws ``n_local_trials`` candidates (default ``2 + int(ln k)``) with
    probability proportional to ``sample_weight * D(x)^2`` and keeps the one that lowers
    the potential most.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float
    n_clusters : int
    sample_weight : ndarray of shape (n_samples,), same dtype as X
    random_state : numpy.random.RandomState
    n_local_trials : int, optional

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), dtype of X
    indices : ndarray of shape (n_clusters,), int64: the rows chosen
    """
    n, d = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(n_clusters))
    centers = np.empty((n_clusters, d), dtype=X.dtype)
    indices = np.empty(n_clusters, dtype=np.int64)
    weight = sample_weight.astype(np.float64)

    weight_cum = np.cumsum(weight)
    first = _draw(weight_cum, random_state.uniform(size=1) * weight_cum[-1])[0]
    centers[0] = X[first]
    indices[0] = first
    closest = np.full(n, np.inf)
    update_closest(X, X[first : first + 1], closest)

    n_chunks = max(1, -(-n // CHUNK_ROWS))
    pot_chunks = np.empty((n_chunks, n_local_trials))
    for c in range(1, n_clusters):
        pot_cum = np.cumsum(weight * closest)
        draws = random_state.uniform(size=n_local_trials) * pot_cum[-1]
        candidate_ids = _draw(pot_cum, draws)
        candidates = np.ascontiguousarray(X[candidate_ids])
        candidate_potentials(X, sample_weight, closest, candidates, pot_chunks)
        # Summed over chunks in order (not by threads); first candidate wins ties.
        best = int(np.argmin(pot_chunks.sum(axis=0)))
        chosen = candidate_ids[best]
        centers[c] = X[chosen]
        indices[c] = chosen
        update_closest(X, X[chosen : chosen + 1], closest)
    return centers, indices


def random_rows(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_clusters`` distinct rows drawn with probability proportional to their weight."""
    weight = sample_weight.astype(np.float64)
    n_positive = int(np.count_nonzero(weight))
    if n_positive < n_clusters:
        raise ValueError(
            f"init='random' needs n_clusters={n_clusters} rows of positive sample_weight, "
            f"but only {n_positive} have one. Lower n_clusters or use init='k-means++'."
        )
    indices = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=weight / weight.sum()
    )
    return X[indices].copy(), indices.astype(np.int64)
