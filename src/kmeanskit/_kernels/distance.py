"""Exact squared Euclidean distances, accumulated in float64."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH, INLINED


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def sq_dist_rows(X, i, Y, j):
    """Squared distance between row ``i`` of X and row ``j`` of Y, in float64."""
    x, y = X[np.uintp(i)], Y[np.uintp(j)]  # unsigned: no negative-index wraparound
    acc = 0.0
    for t in range(X.shape[1]):
        diff = np.float64(x[t]) - np.float64(y[t])
        acc += diff * diff
    return acc


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def squared_distances(
    X,  # in (n, d)
    centers,  # in (k, d)
    out,  # out (n, k) float64
):
    """Squared Euclidean distance of every row to every centre, computed directly."""
    n = X.shape[0]
    k = centers.shape[0]
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    for c in prange(n_chunks):
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            for j in range(k):
                out[i, j] = sq_dist_rows(X, i, centers, j)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def distances_to_assigned(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    centers,  # in (k, d)
    labels,  # in (n,) int32
    out,  # out (n,) float64: weighted squared distance of each row to its centre
):
    """Weighted squared distance of every row to the centre it is assigned to."""
    n = X.shape[0]
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    for c in prange(n_chunks):
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            out[i] = np.float64(sample_weight[i]) * sq_dist_rows(X, i, centers, labels[i])


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def cluster_costs(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    centers,  # in (k, d)
    labels,  # in (n,) int32
    second,  # in (n,) float32: a lower bound of each row's distance to its second centre
    error,  # out (n_groups, k) float64: sum of w d(x, c)^2 over the rows of each centre
    utility,  # out (n_groups, k) float64: sum of w max(0, second^2 - d(x, c)^2) likewise
):
    """Per fixed group of chunks, each centre's error and the error its removal would
    add at least (its rows move to their second centre); the caller adds the groups in
    index order."""
    n = X.shape[0]
    n_groups, k = error.shape
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    for g in prange(n_groups):
        for j in range(k):
            error[g, j] = 0.0
            utility[g, j] = 0.0
        start = (g * n_chunks // n_groups) * CHUNK_ROWS
        stop = min(((g + 1) * n_chunks // n_groups) * CHUNK_ROWS, n)
        for i in range(start, stop):
            w = np.float64(sample_weight[i])
            own = w * sq_dist_rows(X, i, centers, labels[i])
            s = np.float64(second[i])
            error[g, labels[i]] += own
            utility[g, labels[i]] += max(w * (s * s) - own, 0.0)


#: Centres per block of ``nearest_others``: one GEMM and its row minima each.
_PAIR_BLOCK = 256


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def nearest_others(
    centers,  # in (k, d) float32|float64, centred (their mean subtracted)
    sq,  # in (k,) float64: squared norms of the rows of centers
    margin,  # in float: relative rounding slack, times the two squared norms (0: none)
    dist,  # out (k,) float64: sqrt of each centre's smallest such score to another
    nearest,  # out (k,) int64: that other centre (the first among ties)
):
    """``min_{b != a} |c_a|^2 + |c_b|^2 - 2 c_a.c_b - margin (|c_a|^2 + |c_b|^2)`` and its
    argument: a block of centres against all of them per GEMM, the minimum fused (no
    k x k array)."""
    k = centers.shape[0]
    n_blocks = (k + _PAIR_BLOCK - 1) // _PAIR_BLOCK
    centers_t = np.ascontiguousarray(centers.T)
    for blk in prange(n_blocks):
        start = blk * _PAIR_BLOCK
        stop = min(start + _PAIR_BLOCK, k)
        dots = np.empty((stop - start, k), dtype=centers.dtype)
        np.dot(centers[start:stop], centers_t, dots)
        for r in range(stop - start):
            a = start + r
            row = dots[r]
            best = np.inf
            arg = 0
            for b in range(k):
                d2 = sq[a] + sq[b] - 2.0 * row[b] - margin * (sq[a] + sq[b])
                d2 = np.inf if b == a else d2
                arg = b if d2 < best else arg
                best = min(best, d2)
            dist[a] = np.sqrt(max(best, 0.0))
            nearest[a] = arg
