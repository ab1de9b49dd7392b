"""Host-side quantities the bound-based passes need: small (k-sized) and exact-or-safe.

Every number here must err on the safe side: an over-estimated drift or an
under-estimated separation only costs speed, the other way round would cost exactness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmeanskit._config import bound_groups_for, use_gemm_for
from kmeanskit._kernels.assign import NO_BOUNDS, SET_BOUNDS, USE_BOUNDS
from kmeanskit._kernels.distance import nearest_others, squared_distances

#: 'auto' scores every row (and refreshes the bounds) after a pass that changed more than
#: this fraction of the labels: then the bounds would fail for most rows anyway, and
#: their test and gather cost more than they save.
AUTO_DENSE_WHILE_CHANGED = 0.3

#: 'auto' keeps no bounds when a dense pass is this little work (rows x centres x
#: features): the bounds' per-pass bookkeeping (centre drifts and separations) would
#: cost more than the scores they save.
AUTO_DENSE_BELOW_WORK = 1 << 21


#: 'auto' keeps Yinyang's group bounds (else Hamerly's one) from this many centres on,
#: where the rows are scored by the direct loop (a few features). benchmarks/
#: bench_bounds.py, end to end from k-means++, Hamerly's time over Yinyang's (two runs):
#: 1.13-1.14 at 200k x 4 x 512, 1.03-1.06 on Birch1 at k = 1000, 0.98-1.00 at
#: 100k x 2 x 1000; 0.98-1.02 below 512 centres; 0.91-0.99 at GEMM shapes (k = 256-4096).
AUTO_YINYANG_MIN_CLUSTERS = 512

#: The algorithms every backend runs; all give the labels of the dense pass.
ALGORITHMS = ("lloyd", "hamerly", "yinyang", "auto")

#: Lloyd iterations that cut the centres into Yinyang's groups (Ding et al. use 5).
GROUPING_ITERATIONS = 5


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


def score_gamma(dtype: np.dtype, n_features: int) -> float:
    """Relative error allowed between two scores of the assignment (generous).

    A score ``|c|^2 - 2 c.x`` computed in ``dtype`` is off by at most about
    ``(d + 2) eps (|c|^2 + 2|c||x|)``; two of them, against ``|x|^2 + max|c|^2``, stay
    under ``4 (d + 2) eps`` of that scale.
    """
    return 4.0 * (n_features + 2) * float(np.finfo(dtype).eps)


def center_drifts(
    previous: np.ndarray, current: np.ndarray, group_of: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """How far the centres moved, as the bounds decay (float64, rounded up):
    ``drift_group[g]``, the most any centre of group ``g`` moved, and ``drift_other[a]``,
    the most any *other* centre of ``a``'s group moved (0 if it has none)."""
    moved = np.sqrt(np.sum((current.astype(np.float64) - previous) ** 2, axis=1))
    moved = moved * (1.0 + 1e-12) + np.finfo(np.float64).tiny
    order = np.lexsort((moved, group_of))  # by group, then by drift
    group_sorted = group_of[order]
    last = np.flatnonzero(np.r_[group_sorted[1:] != group_sorted[:-1], True])
    drift_group = np.zeros(n_groups)
    drift_group[group_sorted[last]] = moved[order[last]]
    # The group's runner-up drift, for its fastest centre (0 when it is alone).
    has_second = np.r_[False, group_sorted[1:] == group_sorted[:-1]][last]
    runner_up = np.where(has_second, moved[order[last - 1]], 0.0)
    drift_other = drift_group[group_of]
    drift_other[order[last]] = runner_up
    return drift_group, drift_other


def center_groups(centers: np.ndarray, n_groups: int) -> np.ndarray:
    """Yinyang's groups (int32, one per centre): ``GROUPING_ITERATIONS`` Lloyd iterations
    on the centres from evenly spaced ones, in float64 with direct distances, so the
    same centres always give the same groups. Only the speed of the bounded passes
    depends on the groups, never their results."""
    k = centers.shape[0]
    if n_groups <= 1:
        return np.zeros(k, dtype=np.int32)
    c = np.ascontiguousarray(centers, dtype=np.float64)
    means = c[np.linspace(0, k - 1, n_groups).astype(np.int64)]
    dist = np.empty((k, n_groups))
    for _ in range(GROUPING_ITERATIONS):
        squared_distances(c, means, dist)
        group_of = np.argmin(dist, axis=1)
        counts = np.bincount(group_of, minlength=n_groups)
        filled = counts > 0
        sums = np.zeros_like(means)
        np.add.at(sums, group_of, c)
        means[filled] = sums[filled] / counts[filled, None]
    squared_distances(c, means, dist)
    return np.argmin(dist, axis=1).astype(np.int32)


@dataclass(frozen=True)
class BoundTerms:
    """The k-sized numbers a pass's bound tests read (empty arrays where unused)."""

    group_of: np.ndarray  # (k,) int32: each centre's group
    drift_group: np.ndarray  # (t,) float64
    drift_other: np.ndarray  # (k,) float64
    separation: np.ndarray  # (k,) float64


_NO_K = np.empty(0)
NO_TERMS = BoundTerms(np.empty(0, dtype=np.int32), _NO_K, _NO_K, _NO_K)


def one_group_terms(n_clusters: int) -> BoundTerms:
    """Terms of a SET_BOUNDS pass that keeps one bound per row (the second-nearest)."""
    return BoundTerms(np.zeros(n_clusters, dtype=np.int32), _NO_K, _NO_K, _NO_K)


class BoundsPlan:
    """Which kind of pass a backend runs next, and what its bound tests need; every
    backend decides alike, so their histories match. Only k-sized state lives here.

    ``lloyd`` scores every row; ``hamerly`` keeps one lower bound per row after the
    first pass, ``yinyang`` one per group of centres (``n_bound_groups`` of them, cut
    when the bounds are set); ``auto`` keeps bounds up to date but scores every row
    while more than 30% of the labels changed in the previous pass.
    """

    def __init__(self, algorithm: str, n_bound_groups: int = 1) -> None:
        self.algorithm = algorithm
        self.n_bound_groups = n_bound_groups if algorithm in ("yinyang", "auto") else 1
        self.reset()

    @classmethod
    def for_shape(
        cls, algorithm: str, n_samples: int, n_clusters: int, n_features: int, itemsize: int
    ) -> BoundsPlan:
        """The plan of a fit on data of this shape: ``yinyang`` keeps at least 2 groups
        (``_config.bound_groups_for``), ``auto`` keeps groups only where they measured
        faster (see ``AUTO_YINYANG_MIN_CLUSTERS``)."""
        groups = bound_groups_for(n_samples, n_clusters, n_features, itemsize)
        if algorithm == "yinyang":
            groups = max(groups, min(2, n_clusters))
        elif algorithm == "auto" and (
            use_gemm_for(n_features, n_clusters) or n_clusters < AUTO_YINYANG_MIN_CLUSTERS
        ):
            groups = 1
        return cls(algorithm, groups)

    def reset(self) -> None:
        self.bound_centers: np.ndarray | None = None
        self.group_of: np.ndarray | None = None
        self.changed_fraction = 1.0

    def mode(self, work: int) -> int:
        """The next pass's kind; ``work`` is rows x centres x features."""
        have = self.bound_centers is not None
        return next_mode(self.algorithm, have, self.changed_fraction, work)

    def terms(self, centers: np.ndarray, mode: int) -> BoundTerms:
        """What a pass of kind ``mode`` over ``centers`` tests its bounds with. A pass
        that sets the bounds cuts the groups they refer to."""
        if mode == NO_BOUNDS:
            return NO_TERMS
        if mode == SET_BOUNDS:
            self.group_of = center_groups(centers, self.n_bound_groups)
            return BoundTerms(self.group_of, _NO_K, _NO_K, _NO_K)
        drift_group, drift_other = center_drifts(
            self.bound_centers, centers, self.group_of, self.n_bound_groups
        )
        return BoundTerms(self.group_of, drift_group, drift_other, center_separation(centers))

    def done(self, centers: np.ndarray, mode: int, n_changed: int, n_samples: int) -> None:
        first = self.bound_centers is None and mode != NO_BOUNDS
        self.bound_centers = centers.copy() if mode != NO_BOUNDS else None
        self.changed_fraction = changed_fraction_after(first, n_changed, n_samples)

    def relabeled(self, centers: np.ndarray, mode: int) -> None:
        """After a labels pass of kind ``mode`` over ``centers``: a bounded one leaves the
        bounds referring to ``centers``; a dense one keeps none."""
        self.bound_centers = np.array(centers) if mode == USE_BOUNDS else None

    @staticmethod
    def ran(mode: int, n_bound_groups: int) -> str:
        """The history's name for a pass of kind ``mode``."""
        if mode != USE_BOUNDS:
            return "lloyd"
        return "yinyang" if n_bound_groups > 1 else "hamerly"


def _nearest_others(
    centers: np.ndarray, dtype: np.dtype, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """``_kernels.distance.nearest_others`` on the centres less their mean, in ``dtype``."""
    c = centers.astype(np.float64)
    c = np.ascontiguousarray(c - c.mean(axis=0), dtype=dtype)
    c64 = c.astype(np.float64)
    sq = np.einsum("ij,ij->i", c64, c64)
    dist, nearest = np.empty(c.shape[0]), np.empty(c.shape[0], dtype=np.int64)
    nearest_others(c, sq, margin, dist, nearest)
    return dist, nearest


def center_separation(centers: np.ndarray) -> np.ndarray:
    """For each centre, a lower bound on the distance to the nearest other centre (one
    parallel kernel: with numpy's blocks it took 81 of the 87 ms of a bounded pass at
    200k x 32 x 4096). Float32 centres get a float32 GEMM (faster) and its margin."""
    if centers.shape[0] == 1:
        return np.full(1, np.inf)
    dtype = np.dtype(centers.dtype)
    return _nearest_others(centers, dtype, score_gamma(dtype, centers.shape[1]))[0]


def nearest_other(centers: np.ndarray) -> np.ndarray:
    """Index of each centre's nearest other centre (0 for a lone centre)."""
    return _nearest_others(centers, np.dtype(np.float64), 0.0)[1]
