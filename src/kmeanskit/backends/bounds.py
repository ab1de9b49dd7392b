"""Host-side quantities the bound-based passes need: small (k-sized) and exact-or-safe.

Every number here must err on the safe side: an over-estimated drift or an
under-estimated separation only costs speed, the other way round would cost exactness.
"""

from __future__ import annotations

import numpy as np

from kmeanskit._kernels.assign import NO_BOUNDS, SET_BOUNDS, USE_BOUNDS

#: 'auto' scores every row (and refreshes the bounds) after a pass that changed more than
#: this fraction of the labels: then the bounds would fail for most rows anyway, and
#: their test and gather cost more than they save.
AUTO_DENSE_WHILE_CHANGED = 0.3

#: 'auto' keeps no bounds when a dense pass is this little work (rows x centres x
#: features): the bounds' per-pass bookkeeping (centre drifts and separations) would
#: cost more than the scores they save.
AUTO_DENSE_BELOW_WORK = 1 << 21


#: The algorithms every backend runs; all give the labels of the dense pass.
ALGORITHMS = ("lloyd", "hamerly", "auto")


def check_algorithm(algorithm: str) -> str:
    """``algorithm`` if a backend runs it, else a ValueError naming the choices."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm={algorithm!r} must be one of {ALGORITHMS}.")
    return algorithm


def next_mode(algorithm: str, have_bounds: bool, changed_fraction: float, work: int) -> int:
    """The kind of the next pass (every backend decides alike, so histories match):
    NO_BOUNDS, SET_BOUNDS (score every row, keep bounds) or USE_BOUNDS."""
    if algorithm == "lloyd" or (algorithm == "auto" and work < AUTO_DENSE_BELOW_WORK):
        return NO_BOUNDS
    if not have_bounds:
        return SET_BOUNDS
    if algorithm == "auto" and changed_fraction > AUTO_DENSE_WHILE_CHANGED:
        return SET_BOUNDS
    return USE_BOUNDS


def changed_fraction_after(first: bool, n_changed: int, n_samples: int) -> float:
    """What the next decision sees of a pass's changes. A run's first pass changes every
    label (from none), which says nothing about convergence: the second pass tries the
    bounds."""
    return 0.0 if first else n_changed / max(1, n_samples)


_BLOCK = 256


def score_gamma(dtype: np.dtype, n_features: int) -> float:
    """Relative error allowed between two scores of the assignment (generous).

    A score ``|c|^2 - 2 c.x`` computed in ``dtype`` is off by at most about
    ``(d + 2) eps (|c|^2 + 2|c||x|)``; two of them, against ``|x|^2 + max|c|^2``, stay
    under ``4 (d + 2) eps`` of that scale.
    """
    return 4.0 * (n_features + 2) * float(np.finfo(dtype).eps)


def center_drift_other(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """For each centre, the most that any *other* centre moved (float64, rounded up)."""
    moved = np.sqrt(np.sum((current.astype(np.float64) - previous) ** 2, axis=1))
    moved = moved * (1.0 + 1e-12) + np.finfo(np.float64).tiny
    if moved.size == 1:
        return np.zeros(1)
    order = np.argsort(moved)
    first, second = moved[order[-1]], moved[order[-2]]
    out = np.full(moved.size, first)
    out[order[-1]] = second
    return out


def _pair_blocks(centers: np.ndarray, margin: float = 0.0):
    """Squared distances between the centres, ``_BLOCK`` rows at a time (no k x k matrix),
    less ``margin`` times the squared norms (about the centres' mean), diagonal inf."""
    c = centers.astype(np.float64)
    c = c - c.mean(axis=0)
    sq = np.einsum("ij,ij->i", c, c)
    k = c.shape[0]
    for start in range(0, k, _BLOCK):
        stop = min(start + _BLOCK, k)
        d2 = sq[start:stop, None] + sq[None, :] - 2.0 * (c[start:stop] @ c.T)
        if margin:
            d2 -= margin * (sq[start:stop, None] + sq[None, :])
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        yield start, stop, d2


def center_separation(centers: np.ndarray) -> np.ndarray:
    """For each centre, a lower bound on the distance to the nearest other centre."""
    out = np.empty(centers.shape[0])
    gamma = score_gamma(np.dtype(np.float64), centers.shape[1])
    for start, stop, d2 in _pair_blocks(centers, gamma):
        out[start:stop] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def nearest_other(centers: np.ndarray) -> np.ndarray:
    """Index of each centre's nearest other centre."""
    out = np.empty(centers.shape[0], dtype=np.int64)
    for start, stop, d2 in _pair_blocks(centers):
        out[start:stop] = np.argmin(d2, axis=1)
    return out
