"""Column statistics in fixed chunks, without full-size temporaries."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def chunk_moments(
    X,  # in (n, d)
    means,  # out (n_chunks, d) float64: mean of each column over the chunk's rows
    m2,  # out (n_chunks, d) float64: sum of squared deviations from that mean
):
    """Per chunk, the mean and the sum of squared deviations of every column: two reads
    of the chunk while it is in cache, so one read of X in all."""
    n, d = X.shape
    for c in prange(means.shape[0]):
        start, stop = c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)
        rows = X[start:stop]  # indexed from 0: no wraparound code
        for t in range(d):
            means[c, t] = 0.0
            m2[c, t] = 0.0
        for q in range(stop - start):
            for t in range(d):
                means[c, t] += np.float64(rows[q, t])
        for t in range(d):
            means[c, t] /= stop - start
        for q in range(stop - start):
            for t in range(d):
                diff = np.float64(rows[q, t]) - means[c, t]
                m2[c, t] += diff * diff


# No fastmath: the merge must run in chunk order, the same bits for every backend.
@njit(cache=True)
def fold_moments(
    mean,  # in/out (d,) float64: column means of the rows merged so far
    total,  # in/out (d,) float64: their sums of squared deviations
    seen,  # in int: how many rows were merged so far (0: none, mean and total unset)
    means,  # in (n_chunks, d) float64: from chunk_moments, the next rows' chunks in order
    m2,  # in (n_chunks, d) float64: likewise
    n_rows,  # in int: rows in those chunks (each holds CHUNK_ROWS of them but the last)
):
    """Merge the next rows' per-chunk moments into the running ones, chunk by chunk, by
    Chan, Golub and LeVeque's update (no cancellation of large sums). Folding the chunks
    of all rows at once or a group of them at a time gives the same bits.

    Returns
    -------
    int
        The rows merged in all.
    """
    d = means.shape[1]
    for c in range(means.shape[0]):
        size = min(CHUNK_ROWS, n_rows - c * CHUNK_ROWS)
        if seen == 0:
            for t in range(d):
                mean[t] = means[c, t]
                total[t] = m2[c, t]
            seen = size
            continue
        after = seen + size
        for t in range(d):
            delta = means[c, t] - mean[t]
            mean[t] += delta * size / after
            total[t] += m2[c, t] + delta * delta * (seen * size / after)
        seen = after
    return seen


class MomentsFold:
    """Column moments of the rows seen so far, folded chunk by chunk in order
    (``fold_moments``): O(d) state, however many rows, and the same bits whether the
    chunks come all at once or a group of them at a time."""

    def __init__(self, n_features: int) -> None:
        self.mean, self.total = np.zeros(n_features), np.zeros(n_features)
        self.rows = 0

    def add(self, means: np.ndarray, m2: np.ndarray, n_rows: int) -> None:
        """Fold the ``chunk_moments`` of the next ``n_rows`` rows."""
        self.rows = fold_moments(self.mean, self.total, self.rows, means, m2, n_rows)

    def variance(self) -> np.ndarray:
        """Population variance of every column of the rows folded."""
        return self.total / self.rows


def merged_variance(means: np.ndarray, m2: np.ndarray, n: int) -> np.ndarray:
    """Population variance of every column from the per-chunk moments of all ``n`` rows,
    merged in chunk order."""
    fold = MomentsFold(means.shape[1])
    fold.add(means, m2, n)
    return fold.variance()


def column_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``chunk_moments`` of the C-contiguous X: per-chunk column means and sums of
    squared deviations, each (n_chunks, n_features) float64."""
    n_chunks = max(1, -(-X.shape[0] // CHUNK_ROWS))
    means, m2 = np.empty((n_chunks, X.shape[1])), np.empty((n_chunks, X.shape[1]))
    chunk_moments(X, means, m2)
    return means, m2


def column_variance(X: np.ndarray) -> np.ndarray:
    """Population variance of every column of X, float64: one read, O(d n/256) memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float

    Returns
    -------
    var : ndarray of shape (n_features,), float64
    """
    return merged_variance(*column_moments(X), X.shape[0])


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
