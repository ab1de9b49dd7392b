"""Kernels of greedy k-means++: score candidate centres, then keep the best one.

Distances are computed directly (``sum((x - c)^2)`` in float64), so the sampling
weights are exact squared distances, never the GEMM expansion.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH
from kmeanskit._kernels.distance import sq_dist_rows


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def candidate_potentials(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    closest,  # in (n,) float64: squared distance to the nearest chosen centre
    candidates,  # in (m, d): candidate centres
    pot_chunks,  # out (n_chunks, m) float64: per-chunk potential if candidate added
):
    """Potential (weighted sum of min squared distances) of adding each candidate."""
    n = X.shape[0]
    m = candidates.shape[0]
    n_chunks = pot_chunks.shape[0]
    for c in prange(n_chunks):
        for q in range(m):
            pot_chunks[c, q] = 0.0
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            w = np.float64(sample_weight[i])
            for q in range(m):
                dist = min(closest[i], sq_dist_rows(X, i, candidates, q))
                pot_chunks[c, q] += w * dist


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def update_closest(
    X,  # in (n, d)
    center,  # in (1, d): the centre just chosen
    closest,  # in/out (n,) float64
):
    """Lower each row's squared distance to its nearest centre by the new centre.

    Start from ``closest = inf`` to get the distances to the first centre.
    """
    n = X.shape[0]
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    for c in prange(n_chunks):
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            dist = sq_dist_rows(X, i, center, 0)
            if dist < closest[i]:
                closest[i] = dist
