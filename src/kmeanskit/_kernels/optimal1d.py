"""Optimal K-means in one dimension: dynamic programming over the sorted values.

In 1-D an optimal clustering is a split of the sorted values into ``k`` contiguous runs
(Wang & Song 2011, Ckmeans.1d.dp), so ``D[m, j]``, the least cost of the first ``j``
values in ``m`` clusters, obeys ``D[m, j] = min_i D[m-1, i] + cost(i, j)``, ``cost`` the
weighted sum of squares of values ``i .. j-1``, from prefix sums in O(1). The best split
point is monotone in ``j``, so each layer is solved by divide and conquer in
O(n log n): O(k n log n) in all, O(k n) memory for the split points.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kmeanskit._kernels import FASTMATH, INLINED


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _cost(cw, cwx, cwxx, i, j):
    """Weighted sum of squares of sorted values i .. j-1 about their mean."""
    w = cw[j] - cw[i]
    if w <= 0.0:
        return 0.0
    s = cwx[j] - cwx[i]
    return max(cwxx[j] - cwxx[i] - s * s / w, 0.0)


@njit(cache=True, fastmath=FASTMATH)
def _layer(prev, cur, arg, cw, cwx, cwxx, m, j_lo, j_hi, i_lo, i_hi):
    """Fill cur[j] for j in [j_lo, j_hi] knowing their best splits lie in [i_lo, i_hi]."""
    # An explicit stack instead of recursion (numba recursion needs type annotations).
    stack = np.empty((64, 4), dtype=np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = j_lo, j_hi, i_lo, i_hi
    top = 1
    while top > 0:
        top -= 1
        a, b, lo, hi = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if a > b:
            continue
        j = (a + b) // 2
        best = np.inf
        best_i = lo
        # Cluster m holds values i .. j-1; the first m - 1 clusters need i >= m - 1 values.
        for i in range(max(lo, m - 1), min(hi, j - 1) + 1):
            v = prev[i] + _cost(cw, cwx, cwxx, i, j)
            if v < best:  # strict: the lowest split among ties
                best = v
                best_i = i
        cur[j] = best
        arg[j] = best_i
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = a, j - 1, lo, best_i
        top += 1
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = j + 1, b, best_i, hi
        top += 1


@njit(cache=True, fastmath=FASTMATH)
def optimal_splits(
    values,  # in (n,) float64, sorted ascending
    weights,  # in (n,) float64, > 0
    k,  # in int, 1 <= k <= n
    starts,  # out (k,) int64: first sorted index of each cluster
):
    """Split sorted ``values`` into ``k`` contiguous runs of least weighted squared error.

    Returns the optimal cost.
    """
    n = values.shape[0]
    shift = values[n // 2]  # centring keeps the prefix sums' cancellation small
    cw = np.zeros(n + 1)
    cwx = np.zeros(n + 1)
    cwxx = np.zeros(n + 1)
    for t in range(n):
        x = values[t] - shift
        cw[t + 1] = cw[t] + weights[t]
        cwx[t + 1] = cwx[t] + weights[t] * x
        cwxx[t + 1] = cwxx[t] + weights[t] * x * x
    prev = np.empty(n + 1)
    cur = np.empty(n + 1)
    arg = np.zeros((k + 1, n + 1), dtype=np.int64)
    for j in range(n + 1):
        prev[j] = _cost(cw, cwx, cwxx, 0, j) if j >= 1 else np.inf
    for m in range(2, k + 1):
        cur[:] = np.inf
        _layer(prev, cur, arg[m], cw, cwx, cwxx, m, m, n, m - 1, n - 1)
        prev, cur = cur, prev
    total = prev[n]
    j = n
    for m in range(k, 1, -1):
        i = arg[m, j]
        starts[m - 1] = i
        j = i
    starts[0] = 0
    return total
