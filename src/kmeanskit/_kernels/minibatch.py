"""The mini-batch centre update (Sculley 2010, per-centre learning rates as scikit-learn).

A centre that received batch weight ``W_j`` (rows ``x_i`` with weights ``w_i``) moves to
``(c_j * N_j + sum_i w_i x_i) / (N_j + W_j)``, where ``N_j`` is the weight it has seen so
far; ``N_j`` then grows by ``W_j``. A centre that received nothing stays where it is.
This is scikit-learn's ``_minibatch_update_dense``, computed in float64 and rounded
once to the centres' dtype.

The batch is small (about a thousand rows), so the kernels run serially, walking the
rows in order: the result is the same whatever the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def minibatch_update(
    X,  # in (b, d) float32|float64: the batch
    sample_weight,  # in (b,) same dtype as X
    labels,  # in (b,) int32: nearest centre of every batch row
    centers,  # in (k, d) same dtype as X: centres before the step
    counts,  # in/out (k,) float64: weight each centre has seen so far
    sums,  # scratch (k, d) float64
    wsums,  # scratch (k,) float64
    centers_new,  # out (k, d) same dtype as X (must not alias centers)
):
    """Move every centre towards the mean of its batch rows; update ``counts``."""
    k, d = centers.shape
    for j in range(k):
        wsums[j] = 0.0
        for t in range(d):
            sums[j, t] = 0.0
    for i in range(X.shape[0]):
        j = labels[i]
        w = np.float64(sample_weight[i])
        wsums[j] += w
        for t in range(d):
            sums[j, t] += w * np.float64(X[i, t])
    for j in range(k):
        if wsums[j] > 0:
            old = counts[j]
            total = old + wsums[j]
            for t in range(d):
                centers_new[j, t] = (np.float64(centers[j, t]) * old + sums[j, t]) / total
            counts[j] = total
        else:
            for t in range(d):
                centers_new[j, t] = centers[j, t]


@njit(cache=True)
def squared_shift(a, b):
    """Sum over all entries of ``(a - b)^2`` in float64 (how far the centres moved)."""
    acc = 0.0
    for j in range(a.shape[0]):
        for t in range(a.shape[1]):
            diff = np.float64(a[j, t]) - np.float64(b[j, t])
            acc += diff * diff
    return acc
