"""Obviously-correct reference implementations in plain numpy, all in float64.

These mirror kmeanskit's documented semantics (see ``kmeanskit._core.lloyd``):

* iteration ``i`` assigns every row to the centre it starts from that is nearest by
  exact squared Euclidean distance (ties: the lowest centre index, as ``np.argmin``),
  then moves every centre to the weighted mean of its rows;
* an empty cluster (in increasing cluster index) moves to the row with the largest
  weighted squared distance to its assigned (old) centre, largest first, lowest row
  index among ties; that row's weight leaves its old cluster's sums;
* a run stops when the labels equal the previous iteration's labels and nothing was
  relocated ("no_change"), else when the sum over centres of the squared shift is
  ``<= tol_scaled`` ("tol"), else at ``max_iter``; after a stop other than
  "no_change" a final assignment to the final centres gives the labels.

Speed is irrelevant here: every distance is computed the long way.
"""

from __future__ import annotations

import numpy as np


def sq_distances(X, centers):
    """(n, k) exact squared distances, float64, the direct way (no GEMM expansion)."""
    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    diff = X[:, None, :] - centers[None, :, :]
    return np.einsum("nkd,nkd->nk", diff, diff)


def naive_labels(X, centers):
    """Index of the nearest centre of every row (ties: lowest index)."""
    return np.argmin(sq_distances(X, centers), axis=1)


def naive_inertia(X, centers, labels, sample_weight=None):
    """Weighted sum of squared distances of every row to the centre of its label."""
    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    diff = X - centers[np.asarray(labels)]
    return float(np.sum(w * np.sum(diff * diff, axis=1)))


def naive_update(X, centers, labels, sample_weight):
    """New centres (weighted means) with the library's empty-cluster relocation.

    Returns (new_centers float64, number of empty clusters relocated).
    """
    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    k, d = centers.shape
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    for j in range(k):
        mask = labels == j
        sums[j] = np.sum(w[mask, None] * X[mask], axis=0)
        weights[j] = np.sum(w[mask])
    empty = np.flatnonzero(weights == 0)
    relocated_rows = []
    if empty.size:
        diff = X - centers[labels]
        far_dist = w * np.sum(diff * diff, axis=1)
        # largest first, lowest index first among ties
        order = sorted(range(len(X)), key=lambda i: (-far_dist[i], i))
        far = order[: empty.size]
        for cluster, row in zip(empty, far, strict=True):
            old = labels[row]
            sums[old] -= w[row] * X[row]
            weights[old] -= w[row]
            sums[cluster] = w[row] * X[row]
            weights[cluster] = w[row]
            relocated_rows.append(row)
    new = centers.copy()
    filled = weights > 0
    new[filled] = sums[filled] / weights[filled, None]
    for cluster, row in zip(empty, relocated_rows, strict=True):
        if weights[cluster] == 0:
            new[cluster] = X[row]
    return new, int(empty.size)


def naive_lloyd(X, init_centers, max_iter, tol_scaled=0.0, sample_weight=None):
    """Plain Lloyd from ``init_centers``.

    Parameters
    ----------
    X : array of shape (n, d)
    init_centers : array of shape (k, d)
    max_iter : int
    tol_scaled : float
        Already scaled tolerance on the sum of squared centre shifts.
    sample_weight : array of shape (n,) or None

    Returns
    -------
    labels : ndarray (n,) int
    centers : ndarray (k, d) float64
    inertia : float
    n_iter : int
    stop_reason : str
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    centers = np.array(init_centers, dtype=np.float64)
    prev = None
    stop_reason = "max_iter"
    n_iter = 0
    labels = None
    for i in range(1, max_iter + 1):
        n_iter = i
        labels = naive_labels(X, centers)
        new, n_relocated = naive_update(X, centers, labels, w)
        shift = float(np.sum((new - centers) ** 2))
        strict = prev is not None and np.array_equal(labels, prev) and n_relocated == 0
        centers = new
        prev = labels
        if strict:
            stop_reason = "no_change"
            break
        if shift <= tol_scaled:
            stop_reason = "tol"
            break
    if stop_reason != "no_change":
        labels = naive_labels(X, centers)
    inertia = naive_inertia(X, centers, labels, w)
    return labels, centers, inertia, n_iter, stop_reason


def scaled_tol(X, tol):
    """scikit-learn's meaning of ``tol``: times the mean per-feature variance."""
    if tol == 0:
        return 0.0
    return float(np.mean(np.var(np.asarray(X), axis=0, dtype=np.float64)) * tol)


def naive_minibatch(
    X,
    init_centers,
    seed,
    *,
    batch_size,
    max_iter,
    init_size,
    tol_scaled=0.0,
    max_no_improvement=10,
    reassignment_ratio=0.01,
    sample_weight=None,
):
    """scikit-learn's MiniBatchKMeans fit from given centres, step by step, in float64.

    Draws from ``RandomState(seed)`` in the library's documented order: the
    validation rows (``init_size`` of them, only scored), then per step the batch
    (``randint`` for equal weights, else inverse transform sampling on the cumulative
    weights), then the rows reassigned centres move to.

    Returns
    -------
    centers : ndarray (k, d) float64
    counts : ndarray (k,) float64
    steps : list of dicts (batch_inertia (per row), ewa_inertia, center_shift_sq,
        n_reassigned, labels)
    stop_reason : str
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    rs = np.random.RandomState(seed)
    rs.randint(0, n, init_size)
    centers = np.array(init_centers, dtype=np.float64)
    k = centers.shape[0]
    counts = np.zeros(k)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    cumulative = np.cumsum(w)
    since = 0
    ewa = ewa_min = None
    no_improvement = 0
    alpha = min(1.0, 2.0 * batch_size / (n + 1))
    steps = []
    stop_reason = "max_iter"
    for step in range(1, max(1, max_iter * n // batch_size) + 1):
        if np.all(w == w[0]):
            idx = rs.randint(0, n, batch_size)
        else:
            u = rs.uniform(0.0, cumulative[-1], batch_size)
            last = np.searchsorted(cumulative, cumulative[-1], side="left")
            idx = np.minimum(np.searchsorted(cumulative, u, side="right"), last)
        B = X[idx]
        labels = naive_labels(B, centers)
        mean = naive_inertia(B, centers, labels) / batch_size
        new = centers.copy()
        for j in range(k):
            mask = labels == j
            if mask.any():
                total = counts[j] + mask.sum()
                new[j] = (centers[j] * counts[j] + B[mask].sum(axis=0)) / total
                counts[j] = total
        since += batch_size
        n_reassigned = 0
        if np.any(counts == 0) or since >= 10 * k:
            since = 0
            if reassignment_ratio > 0:
                low = counts < reassignment_ratio * counts.max()
                low[np.argmax(counts)] = False
                if low.sum() > batch_size // 2:
                    low[np.argsort(counts, kind="stable")[batch_size // 2 :]] = False
                n_reassigned = int(low.sum())
                if n_reassigned:
                    rows = rs.choice(batch_size, replace=False, size=n_reassigned)
                    new[low] = B[rows]
                    counts[low] = counts[~low].min()
        shift = float(np.sum((new - centers) ** 2))
        centers = new
        reason = None
        if step > 1:
            ewa = mean if ewa is None else ewa * (1 - alpha) + mean * alpha
            if tol_scaled > 0 and shift <= tol_scaled:
                reason = "tol"
            else:
                if ewa_min is None or ewa < ewa_min:
                    no_improvement, ewa_min = 0, ewa
                else:
                    no_improvement += 1
                if max_no_improvement is not None and no_improvement >= max_no_improvement:
                    reason = "max_no_improvement"
        steps.append(
            {
                "batch_inertia": mean,
                "ewa_inertia": ewa,
                "center_shift_sq": shift,
                "n_reassigned": n_reassigned,
                "labels": labels,
            }
        )
        if reason is not None:
            stop_reason = reason
            break
    return centers, counts, steps, stop_reason
