"""Assignment (E-step) fused with the per-cluster sums of the update (M-step).

Each chunk of rows gets a (k, rows) tile of scores, in one of two ways chosen by
the caller with ``use_gemm`` (see ``_config.use_gemm_for``):

* ``use_gemm=True``: one BLAS GEMM per chunk, ``C @ X_chunk.T``, turned into
  ``|c|^2 - 2 c.x`` (the ``|x|^2`` term does not change the argmin).
* ``use_gemm=False``: direct squared differences with the chunk transposed, so the
  inner loop runs over rows and vectorises; best for a handful of features.

The argmin then runs down the tile's columns, also vectorised over rows.
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
def _gemm_scores(X, start, stop, centers, c_sq, tile):
    """``tile[j, i] = |c_j|^2 - 2 c_j . x_i`` for the rows of one chunk, by BLAS."""
    np.dot(centers, X[start:stop].T, tile)
    for j in range(tile.shape[0]):
        cj = c_sq[j]
        for i in range(tile.shape[1]):
            tile[j, i] = cj - 2 * tile[j, i]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _direct_scores(X, start, stop, centers, x_t, tile):
    """``tile[j, i] = |x_i - c_j|^2`` by direct differences, vectorised over rows."""
    m = stop - start
    d = X.shape[1]
    for i in range(m):
        for t in range(d):
            x_t[t, i] = X[start + i, t]
    for j in range(tile.shape[0]):
        for i in range(m):
            tile[j, i] = 0
        for t in range(d):
            cjt = centers[j, t]
            for i in range(m):
                diff = x_t[t, i] - cjt
                tile[j, i] += diff * diff


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _argmin_columns(tile, best, best_val):
    """Row of the smallest score in each column of ``tile``; first row wins ties."""
    m = tile.shape[1]
    for i in range(m):
        best_val[i] = tile[0, i]
        best[i] = 0
    for j in range(1, tile.shape[0]):
        for i in range(m):
            if tile[j, i] < best_val[i]:
                best_val[i] = tile[j, i]
                best[i] = j


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
    c_sq = np.empty(k, dtype=X.dtype)
    for j in range(k):
        s = X.dtype.type(0)
        for t in range(d):
            s += centers[j, t] * centers[j, t]
        c_sq[j] = s
    for g in prange(n_groups):
        c_start = g * n_chunks // n_groups
        c_stop = (g + 1) * n_chunks // n_groups
        tile_buf = np.empty(k * CHUNK_ROWS, dtype=X.dtype)
        x_t = np.empty((0 if use_gemm else d, CHUNK_ROWS), dtype=X.dtype)
        best = np.empty(CHUNK_ROWS, dtype=np.int32)
        best_val = np.empty(CHUNK_ROWS, dtype=X.dtype)
        # Group-private accumulators (copied out at the end): writing straight into
        # neighbouring slices of `sums` from several threads would share cache lines.
        group_sums = np.zeros((k if accumulate else 0, d))
        group_wsums = np.zeros(k if accumulate else 0)
        for c in range(c_start, c_stop):
            start = c * CHUNK_ROWS
            stop = min(start + CHUNK_ROWS, n)
            tile = tile_buf[: k * (stop - start)].reshape((k, stop - start))
            if use_gemm:
                _gemm_scores(X, start, stop, centers, c_sq, tile)
            else:
                _direct_scores(X, start, stop, centers, x_t, tile)
            _argmin_columns(tile, best, best_val)
            inertia = 0.0
            changed = 0
            for i in range(start, stop):
                label = best[i - start]
                if label != labels_prev[i]:  # read before the write: they may alias
                    changed += 1
                labels[i] = label
                w = np.float64(sample_weight[i])
                inertia += w * sq_dist_rows(X, i, centers, label)
                if accumulate:
                    group_wsums[label] += w
                    for t in range(d):
                        group_sums[label, t] += w * X[i, t]
            inertia_chunks[c] = inertia
            changed_chunks[c] = changed
        if accumulate:
            sums[g] = group_sums
            wsums[g] = group_wsums
