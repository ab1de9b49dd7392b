"""Assignment (E-step) fused with the per-cluster sums of the update (M-step).

Two ways to find the nearest centre of a row, chosen by the caller with ``use_gemm``:

* ``use_gemm=True``: one BLAS GEMM per chunk of rows, ``X_chunk @ C.T``, then an
  argmin of ``|c|^2 - 2 x.c`` (the ``|x|^2`` term does not change the argmin).
* ``use_gemm=False``: a direct loop over features with the centres transposed, so the
  inner loop runs over centres and vectorises; best for a few features.

Either way the squared distance to the chosen centre is then recomputed exactly,
``sum((x - c)^2)`` in float64, so inertia is an honest sum of squared distances and
not the cancellation-prone GEMM expansion. Ties go to the lowest centre index.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH
from kmeanskit._kernels.distance import sq_dist_rows


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _nearest_in_tile(tile, r, c_sq):
    """Index of the smallest ``c_sq[j] - 2 tile[r, j]``; first index wins ties."""
    best = 0
    best_val = c_sq[0] - 2 * tile[r, 0]
    for j in range(1, c_sq.shape[0]):
        val = c_sq[j] - 2 * tile[r, j]
        if val < best_val:
            best_val = val
            best = j
    return best


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _nearest_direct(X, i, centers_t, acc):
    """Index of the centre nearest to row ``i``, by direct squared differences."""
    k = centers_t.shape[1]
    for j in range(k):
        acc[j] = 0
    for t in range(X.shape[1]):
        xt = X[i, t]
        for j in range(k):
            diff = xt - centers_t[t, j]
            acc[j] += diff * diff
    best = 0
    best_val = acc[0]
    for j in range(1, k):
        if acc[j] < best_val:
            best_val = acc[j]
            best = j
    return best


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def assign_pass(
    X,  # in (n, d) float32|float64, C-contiguous
    sample_weight,  # in (n,) same dtype as X
    centers,  # in (k, d) same dtype as X
    labels_prev,  # in (n,) int32: labels of the previous pass (-1: none); may alias labels
    use_gemm,  # in bool
    accumulate,  # in bool: also fill sums / wsums (the M-step partials)
    labels,  # out (n,) int32
    sums,  # out (n_groups, k, d) float64 when accumulate, else any (g, k, d)
    wsums,  # out (n_groups, k) float64 when accumulate, else any (g, k)
    inertia_chunks,  # out (n_chunks,) float64: weighted sum of squared distances
    changed_chunks,  # out (n_chunks,) int64: labels that differ from labels_prev
):
    """One pass over the rows: labels, per-group cluster sums, per-chunk inertia."""
    n, d = X.shape
    k = centers.shape[0]
    n_chunks = inertia_chunks.shape[0]
    n_groups = sums.shape[0]
    centers_t = np.ascontiguousarray(centers.T)
    c_sq = np.empty(k, dtype=X.dtype)
    for j in range(k):
        s = X.dtype.type(0)
        for t in range(d):
            s += centers[j, t] * centers[j, t]
        c_sq[j] = s
    if accumulate:
        sums[:] = 0.0
        wsums[:] = 0.0
    for g in prange(n_groups):
        c_start = g * n_chunks // n_groups
        c_stop = (g + 1) * n_chunks // n_groups
        tile = np.empty((CHUNK_ROWS if use_gemm else 0, k), dtype=X.dtype)
        acc = np.empty(k, dtype=X.dtype)
        for c in range(c_start, c_stop):
            start = c * CHUNK_ROWS
            stop = min(start + CHUNK_ROWS, n)
            if use_gemm:
                np.dot(X[start:stop], centers_t, tile[: stop - start])
            inertia = 0.0
            changed = 0
            for i in range(start, stop):
                if use_gemm:
                    best = _nearest_in_tile(tile, i - start, c_sq)
                else:
                    best = _nearest_direct(X, i, centers_t, acc)
                if best != labels_prev[i]:  # read before the write: they may alias
                    changed += 1
                labels[i] = best
                w = np.float64(sample_weight[i])
                inertia += w * sq_dist_rows(X, i, centers, best)
                if accumulate:
                    wsums[g, best] += w
                    for t in range(d):
                        sums[g, best, t] += w * X[i, t]
            inertia_chunks[c] = inertia
            changed_chunks[c] = changed
