"""Kernels of k-means|| (Bahmani et al. 2012): nearest-candidate updates and draws.

Every kernel walks whole 256-row chunks and writes per-chunk or per-row results, so a
call on a group of rows gives the same bits as the same rows inside a call on the
whole array. Draws use a counter-based hash of (seed, round, global row index): a
row's uniform does not depend on how the rows are cut or who processes them.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH
from kmeanskit._kernels.distance import sq_dist_rows

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def _splitmix64(x):
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def row_uniform(seed, rnd, i):
    """A uniform in [0, 1) from (seed, round, row index): splitmix64, 53 bits."""
    z = _splitmix64(np.uint64(seed))
    z = _splitmix64(z ^ np.uint64(rnd))
    z = _splitmix64(z ^ np.uint64(i))
    return np.float64(z >> np.uint64(11)) * 2.0**-53


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def chunk_weight_sums(
    sample_weight,  # in (n,)
    out,  # out (n_chunks,) float64
):
    """Total weight of every 256-row chunk, in row order."""
    n = sample_weight.shape[0]
    for c in prange(out.shape[0]):
        acc = 0.0
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            acc += np.float64(sample_weight[i])
        out[c] = acc


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def update_closest(
    X,  # in (n, d) float32|float64
    sample_weight,  # in (n,)
    cands,  # in (m, d) same dtype as X: the new candidates
    cand_offset,  # in int: index of cands[0] among all candidates
    reset,  # in bool: closest/owner hold nothing yet
    closest,  # in/out (n,) float64: squared distance to the nearest candidate so far
    owner,  # in/out (n,) int32: index of that candidate
    phi_chunks,  # out (n_chunks,) float64: weighted sum of `closest` per chunk
):
    """Move every row to its nearest new candidate when that one is nearer.

    The nearest new candidate is found by GEMM scores ``|c|^2 - 2 c.x`` (shifted by the
    candidates' rounded mean, as in ``assign``), its distance then computed exactly in
    float64; the earlier candidate keeps a row on ties.
    """
    n, d = X.shape
    m = cands.shape[0]
    shift = np.zeros(d, dtype=X.dtype)
    for t in range(d):
        acc = 0.0
        for j in range(m):
            acc += np.float64(cands[j, t])
        if m > 0:
            shift[t] = np.rint(acc / m)
    cs = np.empty((m, d), dtype=X.dtype)
    c_sq = np.empty(m, dtype=X.dtype)
    for j in range(m):
        acc_j = X.dtype.type(0)
        for t in range(d):
            v = cands[j, t] - shift[t]
            cs[j, t] = v
            acc_j += v * v
        c_sq[j] = acc_j
    for c in prange(phi_chunks.shape[0]):
        start = c * CHUNK_ROWS
        stop = min(start + CHUNK_ROWS, n)
        rows = stop - start
        if m > 0:
            xg = np.empty((rows, d), dtype=X.dtype)
            for q in range(rows):
                for t in range(d):
                    xg[q, t] = X[start + q, t] - shift[t]
            tile = np.empty((m, rows), dtype=X.dtype)
            np.dot(cs, xg.T, tile)
            for q in range(rows):
                best = 0
                best_val = c_sq[0] - 2 * tile[0, q]
                for j in range(1, m):
                    v = c_sq[j] - 2 * tile[j, q]
                    if v < best_val:
                        best_val = v
                        best = j
                i = start + q
                dist = sq_dist_rows(X, i, cands, best)
                if reset or dist < closest[i]:
                    closest[i] = dist
                    owner[i] = cand_offset + best
        acc_c = 0.0
        for i in range(start, stop):
            acc_c += np.float64(sample_weight[i]) * closest[i]
        phi_chunks[c] = acc_c


@njit(cache=True)
def draw_rows_parallel(
    sample_weight,  # in (n,)
    closest,  # in (n,) float64
    seed,  # in int
    rnd,  # in int: the round
    offset,  # in int: global index of row 0
    phi,  # in float: total weighted potential
    oversampling,  # in float: expected draws per round (l)
    out,  # out (n,) int64: global indices of the drawn rows, first `count`
):
    """Draw each row independently with probability ``min(1, l w D^2 / phi)``."""
    count = 0
    for i in range(sample_weight.shape[0]):
        p = oversampling * np.float64(sample_weight[i]) * closest[i]
        if p > 0.0 and row_uniform(seed, rnd, offset + i) * phi < p:
            out[count] = offset + i
            count += 1
    return count
