"""Column statistics in fixed chunks, without full-size temporaries."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _chunk_column_sums(X, center, out):
    """``out[c, t] = sum over chunk c of (X[i, t] - center[t])^p``, p = 1 if center is
    empty, else 2. One row of partials per chunk, reduced by the caller in order."""
    n, d = X.shape
    squared = center.shape[0] > 0
    for c in prange(out.shape[0]):
        for t in range(d):
            out[c, t] = 0.0
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            for t in range(d):
                if squared:
                    diff = np.float64(X[i, t]) - center[t]
                    out[c, t] += diff * diff
                else:
                    out[c, t] += np.float64(X[i, t])


def column_variance(X: np.ndarray) -> np.ndarray:
    """Population variance of every column of X, float64, two passes, O(d n/256) memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float

    Returns
    -------
    var : ndarray of shape (n_features,), float64
    """
    n = X.shape[0]
    partials = np.empty((max(1, -(-n // CHUNK_ROWS)), X.shape[1]))
    _chunk_column_sums(X, np.empty(0), partials)
    mean = partials.sum(axis=0) / n
    _chunk_column_sums(X, mean, partials)
    return partials.sum(axis=0) / n


# No fastmath: the sum must run in index order, as a Python loop of ``+=`` would.
@njit(cache=True)
def sum_in_order(
    parts,  # in (g, m) float64
    out,  # out (m,) float64: parts[0] + parts[1] + ... in that order, element-wise
):
    """Element-wise sum of the rows of ``parts``, left to right (bit-identical to
    ``total = parts[0].copy(); total += parts[1]; ...``), without a Python loop."""
    for j in range(parts.shape[1]):
        out[j] = parts[0, j]
    for g in range(1, parts.shape[0]):
        for j in range(parts.shape[1]):
            out[j] += parts[g, j]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def chunk_finite_probe(
    X,  # in (n, d)
    out,  # out (n_chunks,) float64: 0 where the chunk is finite, NaN where it is not
):
    """``sum(x * 0)`` over each chunk, in X's dtype: 0 when every value is finite, NaN
    when one is NaN or infinite. ``x * 0`` cannot be folded to 0 without the ``nnan``
    flag, which ``FASTMATH`` leaves out; the sum vectorises like numpy's."""
    n, d = X.shape
    flat = X.reshape(n * d)  # C-contiguous: a chunk is one contiguous run of values
    zero = X.dtype.type(0)
    for c in prange(out.shape[0]):
        # A slice indexed from 0: no negative-index wraparound, so the sum vectorises.
        part = flat[c * CHUNK_ROWS * d : min((c + 1) * CHUNK_ROWS, n) * d]
        acc = zero
        for j in range(part.shape[0]):
            acc += part[j] * zero
        out[c] = acc


def is_all_finite(X: np.ndarray) -> bool:
    """Whether every value of the C-contiguous float array X is finite."""
    probe = np.empty(max(1, -(-X.shape[0] // CHUNK_ROWS)))
    chunk_finite_probe(X, probe)
    return not np.isnan(probe).any()


@njit(cache=True)
def n_distinct_labels(labels, n_clusters):
    """How many of the labels ``0 .. n_clusters - 1`` occur in ``labels``; stops reading
    once all have been seen (a fit's labels usually show them all in the first rows,
    where ``np.bincount`` reads all of them twice)."""
    seen = np.zeros(n_clusters, dtype=np.bool_)
    count = 0
    for i in range(labels.shape[0]):
        label = np.uintp(labels[i])
        count += np.int64(not seen[label])
        seen[label] = True
        if count == n_clusters:
            break
    return count
