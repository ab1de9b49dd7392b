"""Seeding: choose the initial centres. Runs on in-memory arrays.

Rows are drawn by inverse transform sampling: a uniform draw times the total weight,
looked up in the cumulative weights. A row of weight 2 then covers exactly the
interval two copies of it would, so weighting a row and repeating it pick the same
seeds, and rows of weight 0 are never picked.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels.seeding import (
    MASK_BITS,
    candidate_gains,
    candidate_gains_serial,
    candidate_reach,
    draw_rows,
    init_closest,
    pivot_distances,
    pivot_distances_serial,
    refresh_bounds,
    take_rows,
    take_rows_serial,
)

#: Exact radii (and the set of pivots in use) are recomputed, one serial O(n) pass, after
#: every step up to this one and then every ``_RADIUS_EVERY`` steps. In between, a
#: centre's radius is the exact value of its last refresh (or of its creation): still an
#: upper bound, as rows only ever leave a centre, but looser; and pivots no row uses any
#: more still get their distances computed. The schedule depends on the step index alone,
#: and the bounds only change speed, never results.
_RADIUS_DENSE_STEPS = 32
_RADIUS_EVERY = 4

#: Up to this many features, dense chunks estimate all their pairs at once.
_TILE_MAX_FEATURES = 32

#: A pass with less work than this (rows scanned + features x distances computed) runs on
#: the calling thread: waking the thread pool costs microseconds when the machine is idle,
#: a scheduler slice when it is busy. Results are the same either way.
_PARALLEL_MIN_WORK = 1 << 17


def positive_rows_sample(
    sample_weight: np.ndarray, size: int, choose: Callable[[int, int], np.ndarray]
) -> np.ndarray | None:
    """Sorted indices of ``size`` rows of positive weight (a row of weight 0 can never be
    a centre nor change a solution), drawn by ``choose(n_positive, size)``: distinct
    positions among those rows. None when there are no more than ``size`` of them."""
    n = sample_weight.shape[0]
    every = n > 0 and sample_weight.min() > 0  # the usual case: no index of n rows
    n_positive = n if every else int(np.count_nonzero(sample_weight > 0))
    if size >= n_positive:
        return None
    picked = np.sort(choose(n_positive, int(size)))
    return picked if every else np.flatnonzero(sample_weight > 0)[picked]


def _draw(cumulative: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Rows whose cumulative-weight interval holds each value (never weight-0 rows)."""
    idx = np.searchsorted(cumulative, values, side="right")
    # A draw that rounds up onto the total falls past the end: give it the last row
    # that has any weight.
    last = int(np.searchsorted(cumulative, cumulative[-1], side="left"))
    return np.minimum(idx, last)


def _prune_slack(n_features: int) -> float:
    """Factor ``s`` of the pruning test ``d(q, a)^2 < s * closest`` (4 in exact arithmetic).

    Computed squared distances are sums of non-negative terms, each off by a relative
    error of at most about ``n_features * 2**-53``; a relative margin far above that
    keeps a row from being pruned when rounding would have let its computed distance
    undercut ``closest``. The margin only costs a few needless distance evaluations.
    """
    return 4.0 * (1.0 + 1e-12 * (n_features + 16))


def _prune_eps(n_features: int) -> float:
    """Relative margin of the pivot test (see ``_prune_slack``: the same reasoning)."""
    return 1e-12 * (n_features + 16)


def _filter_params(dtype: np.dtype, n_features: int) -> list[float]:
    """``(lo_factor, filter_max, filter_abs, tiles)``: float32 estimates of the gains pass.

    An estimate ``est`` of a squared distance summed in float32 (see
    ``_kernels.seeding._estimate``) is within a relative ``(n_features + 2) 2**-24`` of
    the exact one. A pair is discarded only when ``est * lo_factor - filter_abs >=
    closest``, with twice that margin (which also covers the float64 rounding of the
    exact distance), an absolute term for subnormal rounding, and only below
    ``filter_max`` (far from overflow): so no pair is discarded that the exact
    computation would find below ``closest``, and results are those of the plain
    algorithm. float64 rows get no estimate (``lo_factor = 0``): in float64 it would
    cost as much as the exact distance. ``tiles``: whether dense chunks may estimate all
    their pairs at once (pays off for a few features only).
    """
    if dtype != np.float32:
        return [0.0, 0.0, 0.0, 0.0]
    info = np.finfo(np.float32)
    u = float(info.eps) / 2
    lo_factor = 1.0 - 2.0 * (n_features + 8) * u
    filter_max = float(info.max) * 1e-3
    filter_abs = 2.0**10 * (n_features + 8) * float(info.smallest_subnormal)
    tiles = 1.0 if n_features <= _TILE_MAX_FEATURES else 0.0
    return [lo_factor, filter_max, filter_abs, tiles]


def _refresh_due(step: int) -> bool:
    return step <= _RADIUS_DENSE_STEPS or step % _RADIUS_EVERY == 0


def kmeans_plusplus(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ (Arthur & Vassilvitskii 2007; greedy variant as in scikit-learn).

    The first centre is drawn with probability proportional to ``sample_weight``. Each
    later step draws ``n_local_trials`` candidates (default ``2 + int(ln k)``) with
    probability proportional to ``sample_weight * D(x)^2``, ``D`` the distance to the
    nearest chosen centre, and keeps the one whose addition gives the lowest potential
    ``sum(w * min(D^2, d(x, candidate)^2))``; the first candidate wins ties.

    The result is that of the plain algorithm; it is computed faster by the triangle
    inequality (Raff 2021, "Exact acceleration of k-means++ and k-means||"): a candidate
    ``q`` cannot get nearer to a row than the row's centre ``a`` unless
    ``d(q, a) < 2 D(x)``, nor unless ``d(q, p) - d(x, p) < D(x)`` for the row's *pivot*
    ``p``, the nearest earlier candidate found; pairs that pass are estimated in float32
    (float32 X) and computed exactly only when the estimate cannot rule them out. Draws
    pick a chunk of rows from per-chunk potentials, then a row inside it, so no step
    needs an O(n) cumulative sum. Extra memory is a few arrays of length n. Results do
    not depend on the number of threads.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous float32 or float64; never copied.
    n_clusters : int
        Number of centres to choose.
    sample_weight : ndarray of shape (n_samples,)
        Same dtype as X, non-negative, not all zero. Rows of weight 0 are never drawn
        (unless every row of positive weight is already a centre: then there is no
        potential left and the draw falls on row 0, as in scikit-learn).
    random_state : numpy.random.RandomState
        Consumed as ``uniform(size=1)`` for the first centre, then
        ``uniform(size=n_local_trials)`` per step.
    n_local_trials : int, optional
        Candidates per step; None means ``2 + int(ln n_clusters)``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), dtype of X
    indices : ndarray of shape (n_clusters,), int64
        The rows of X chosen, in order.
    """
    n, d = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(n_clusters))
    t = int(n_local_trials)
    centers = np.empty((n_clusters, d), dtype=X.dtype)
    indices = np.empty(n_clusters, dtype=np.int64)

    weight_cum = np.cumsum(sample_weight, dtype=np.float64)
    first = int(_draw(weight_cum, random_state.uniform(size=1) * weight_cum[-1])[0])
    del weight_cum
    centers[0] = X[first]
    indices[0] = first
    if n_clusters == 1:
        return centers, indices

    state = _GreedyState(X, sample_weight, n_clusters, t, first)
    candidate_ids = np.empty(t, dtype=np.int64)
    for step in range(1, n_clusters):
        chunk_cum = np.cumsum(state.chunk_mass)
        draws = random_state.uniform(size=t) * chunk_cum[-1]
        draw_rows(sample_weight, state.closest, chunk_cum, draws, candidate_ids)
        best = state.score(centers, step, candidate_ids)
        chosen = int(candidate_ids[best])
        centers[step] = X[chosen]
        indices[step] = chosen
        state.take(step, best)
    return centers, indices


class _GreedyState:
    """Per-row state of greedy k-means++ between steps (see ``_kernels.seeding``).

    O(n): squared distance to the nearest centre, its index, a pivot and the distance to
    it, the improved-row lists of the last step; O(n / CHUNK_ROWS) per-chunk sums; O(k t)
    per-centre bounds and candidate lists; at most min(n, 1 + k t) pivots (only used ones
    are kept), with a copy of their rows.
    """

    def __init__(
        self, X: np.ndarray, sample_weight: np.ndarray, n_clusters: int, t: int, first: int
    ) -> None:
        n, d = X.shape
        n_chunks = max(1, -(-n // CHUNK_ROWS))
        self.X, self.sample_weight, self.t = X, sample_weight, t
        self.closest = np.empty(n)
        self.owner = np.empty(n, dtype=np.int32)
        self.pivot = np.empty(n, dtype=np.int32)
        self.pivot_r = np.empty(n)
        self.chunk_mass = np.empty(n_chunks)
        self.chunk_max = np.empty(n_chunks)
        self.chunk_taken = np.empty(n_chunks, dtype=np.int64)
        # Rows are compared with float64 copies of the chosen rows everywhere, so that
        # the distance of a row to a point is the same bits in every kernel.
        init_closest(
            X, sample_weight, X[first : first + 1].astype(np.float64), self.closest,
            self.owner, self.pivot, self.pivot_r, self.chunk_mass, self.chunk_max,
        )  # fmt: skip
        self.radius2 = np.zeros(n_clusters)
        self.radius2[0] = self.chunk_max.max()
        self.n_owned = np.zeros(n_clusters, dtype=np.int64)
        self.n_owned[0] = n
        # The pivots' rows, copied together (grows by doubling): the first n_pivots are
        # in use. Scattered reads of them from X cost as much as their distances.
        self.pivots = np.empty((max(64, 4 * t), d), dtype=X.dtype)
        self.pivots[0] = X[first]
        self.n_pivots = 1
        self.params = np.array([_prune_slack(d), _prune_eps(d), *_filter_params(X.dtype, d)])
        self.n_reach = np.empty(n_clusters, dtype=np.int32)
        self.reach = np.empty((n_clusters, t), dtype=np.int32)
        self.reach_cc = np.empty((n_clusters, t))
        self.min_cc = np.empty(n_clusters)
        self.gain_chunks = np.empty((n_chunks, t))
        self.n_improved = np.empty(n_chunks, dtype=np.int32)
        self.improved_rows = np.empty(n, dtype=np.int32)
        self.improved_bits = np.empty(n, dtype=np.uint64)
        self.chunk_bits = np.empty(n_chunks, dtype=np.uint64)

    def score(self, centers: np.ndarray, step: int, candidate_ids: np.ndarray) -> int:
        """Index of the candidate whose addition lowers the potential most (first on ties)."""
        X, d = self.X, self.X.shape[1]
        self.candidates_x = X[candidate_ids]
        self.candidates = self.candidates_x.astype(np.float64)
        # This step's candidates become pivots too.
        slot_base = self.n_pivots
        m = self.n_pivots = slot_base + self.t
        if m > self.pivots.shape[0]:
            grown = np.empty((2 * m, d), dtype=X.dtype)
            grown[:slot_base] = self.pivots[:slot_base]
            self.pivots = grown
        self.pivots[slot_base:m] = self.candidates_x
        cand_pivot = np.empty((m, self.t))
        min_cp = np.empty(m)
        parallel = m * self.t * d >= _PARALLEL_MIN_WORK
        (pivot_distances if parallel else pivot_distances_serial)(
            self.pivots[:m], self.candidates, cand_pivot, min_cp
        )
        pairs = candidate_reach(
            centers, step, self.candidates, self.radius2, self.n_owned, self.params[0],
            self.n_reach, self.reach, self.reach_cc, self.min_cc,
        )  # fmt: skip
        parallel = X.shape[0] + pairs * d >= _PARALLEL_MIN_WORK
        (candidate_gains if parallel else candidate_gains_serial)(
            X, self.sample_weight, self.closest, self.owner, self.pivot, self.pivot_r,
            self.candidates, self.candidates_x, self.n_reach, self.reach, self.reach_cc,
            self.min_cc, cand_pivot, min_cp, slot_base, self.params, self.gain_chunks,
            self.n_improved, self.improved_rows, self.improved_bits, self.chunk_bits,
        )  # fmt: skip
        # Potential with candidate q = potential - gain[q]: the lowest potential is the
        # largest gain. Chunks are summed in index order; first candidate wins ties.
        return int(np.argmax(self.gain_chunks.sum(axis=0)))

    def take(self, step: int, best: int) -> None:
        """Make candidate ``best`` of the last ``score`` centre ``step``."""
        bit = np.uint64(1) << np.uint64(min(best, MASK_BITS - 1))
        flagged = (self.chunk_bits & bit) != 0
        parallel = int(self.n_improved[flagged].sum()) * self.X.shape[1] >= _PARALLEL_MIN_WORK
        (take_rows if parallel else take_rows_serial)(
            self.X, self.sample_weight, self.candidates[best : best + 1], bit, step,
            self.n_improved, self.improved_rows, self.improved_bits, self.chunk_bits,
            self.closest, self.owner, self.chunk_mass, self.chunk_max, self.chunk_taken,
        )  # fmt: skip
        self.radius2[step] = self.chunk_max.max()
        self.n_owned[step] = self.chunk_taken.sum()
        if _refresh_due(step):
            self.n_pivots = refresh_bounds(
                self.closest, self.owner, self.pivot, self.pivots[: self.n_pivots],
                self.radius2[: step + 1], self.n_owned[: step + 1],
                np.empty(self.n_pivots, dtype=np.int64),
            )  # fmt: skip


def _need_positive_rows(sample_weight: np.ndarray, n_clusters: int, init: str) -> None:
    n_positive = int(np.count_nonzero(sample_weight))
    if n_positive < n_clusters:
        raise ValueError(
            f"init={init!r} needs n_clusters={n_clusters} rows of positive sample_weight, "
            f"but only {n_positive} have one. Lower n_clusters or use init='k-means++'."
        )


def random_rows(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_clusters`` distinct rows drawn with probability proportional to their weight."""
    _need_positive_rows(sample_weight, n_clusters, "random")
    weight = sample_weight.astype(np.float64)
    indices = random_state.choice(
        X.shape[0], size=n_clusters, replace=False, p=weight / weight.sum()
    )
    return X[indices].copy(), indices.astype(np.int64)


#: Rows per block of the host-side distance sweeps (bounded temporaries).
_DIST_BLOCK = 4096


def _sq_dist_to(X: np.ndarray, rows: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Squared distances of ``X[rows]`` to one centre, float64, in blocks (no n x d copy)."""
    out = np.empty(rows.size)
    c = center.astype(np.float64)
    for start in range(0, rows.size, _DIST_BLOCK):
        block = X[rows[start : start + _DIST_BLOCK]].astype(np.float64) - c
        out[start : start + _DIST_BLOCK] = np.einsum("ij,ij->i", block, block)
    return out


def farthest_points(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray]:
    """Farthest-point traversal (Gonzalez 1985): a first row drawn by weight, then each
    next centre is the row (of positive weight) farthest from the centres chosen so far,
    the lowest index among ties. A 2-approximation of the k-centre problem; sensitive to
    outliers by design."""
    _need_positive_rows(sample_weight, n_clusters, "farthest")
    positive = sample_weight > 0
    weight = sample_weight.astype(np.float64)
    first = int(_draw(np.cumsum(weight), random_state.uniform(0, weight.sum(), 1))[0])
    indices = np.empty(n_clusters, dtype=np.int64)
    indices[0] = first
    every = np.arange(X.shape[0])
    closest = np.full(X.shape[0], np.inf)
    closest[~positive] = -1.0
    for j in range(1, n_clusters):
        np.minimum(closest, _sq_dist_to(X, every, X[indices[j - 1]]), out=closest)
        closest[~positive] = -1.0
        indices[j] = int(np.argmax(closest))
    return X[indices].copy(), indices


#: Markov chain length of AFK-MC2 (Bachem et al. 2016 use 200 in their experiments).
AFKMC2_CHAIN = 200


def afk_mc2(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
    chain_length: int = AFKMC2_CHAIN,
) -> tuple[np.ndarray, np.ndarray]:
    """AFK-MC2 (Bachem, Lucic, Hassani, Krause, NeurIPS 2016): k-means++ by Markov chains.

    One pass over the data builds the proposal ``q(x) = w d(x, c1)^2 / (2 sum w d^2) +
    w / (2 sum w)``; each later centre is the last state of a Metropolis chain of
    ``chain_length`` proposals that targets the k-means++ distribution. Cost:
    O(n d + k^2 m d) instead of k-means++'s O(n k d): for very large n and moderate k.
    It approximates plain (one-candidate) k-means++, whose seeds are worse than greedy
    k-means++'s; measured at 200k x 16, k = 64: the same mean seed inertia as plain
    k-means++ (0.92x over 5 seeds). Rows of weight 0 are never chosen.
    """
    _need_positive_rows(sample_weight, n_clusters, "afk-mc2")
    weight = sample_weight.astype(np.float64)
    cumulative = np.cumsum(weight)
    first = int(_draw(cumulative, random_state.uniform(0, cumulative[-1], 1))[0])
    every = np.arange(X.shape[0])
    wd2 = weight * _sq_dist_to(X, every, X[first])
    total_wd2 = float(wd2.sum())
    q = 0.5 * weight / cumulative[-1]
    if total_wd2 > 0:
        q += 0.5 * wd2 / total_wd2
    q_cumulative = np.cumsum(q)
    m = max(1, chain_length)
    # Every proposal of every chain, drawn at once; their distances to the centres are
    # kept up to date as centres are added (O(k m) rows, not O(n)).
    proposals = _draw(q_cumulative, random_state.uniform(0, q_cumulative[-1], (n_clusters - 1) * m))
    accept_u = random_state.uniform(size=(n_clusters - 1) * m)
    closest = _sq_dist_to(X, proposals, X[first])
    chosen = [first]
    for step in range(n_clusters - 1):
        lo = step * m
        best = lo
        for j in range(lo + 1, lo + m):
            # Metropolis-Hastings: accept y over x with probability min(1, (d_y q_x)/(d_x q_y)).
            dx, dy = closest[best], closest[j]
            qx, qy = q[proposals[best]], q[proposals[j]]
            if dx * qy == 0.0 or dy * qx > accept_u[j] * dx * qy:
                best = j
        row = int(proposals[best])
        if closest[best] == 0.0 or weight[row] == 0.0:
            # Every proposal sits on a chosen centre (duplicates): fall back to the
            # farthest row of positive weight, as any seeding would have to.
            row = _farthest_positive(X, weight, chosen)
        chosen.append(row)
        rest = slice(lo + m, None)
        np.minimum(closest[rest], _sq_dist_to(X, proposals[rest], X[row]), out=closest[rest])
    indices = np.array(chosen, dtype=np.int64)
    return X[indices].copy(), indices


def _farthest_positive(X: np.ndarray, weight: np.ndarray, chosen: list[int]) -> int:
    """The row of positive weight farthest from the chosen rows (lowest index among ties)."""
    every = np.arange(X.shape[0])
    closest = np.full(X.shape[0], np.inf)
    for c in chosen:
        np.minimum(closest, _sq_dist_to(X, every, X[c]), out=closest)
    closest[weight <= 0] = -1.0
    closest[chosen] = -1.0
    return int(np.argmax(closest))


def kmeans_parallel(
    X: np.ndarray,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state: np.random.RandomState,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means|| (Bahmani et al. 2012) on an in-memory array: the same centres as on
    Dask or from a file for the same seed (see ``_init_parallel``)."""
    from kmeanskit._init_parallel import in_memory_source
    from kmeanskit._init_parallel import kmeans_parallel as run

    source = in_memory_source(X, sample_weight, n_clusters)
    return run(source, n_clusters, random_state, kmeans_plusplus)


#: The named initialisations and the functions that run them.
INIT_METHODS = {
    "k-means++": kmeans_plusplus,
    "random": random_rows,
    "farthest": farthest_points,
    "afk-mc2": afk_mc2,
    "k-means||": kmeans_parallel,
}


def initial_centers(
    X: np.ndarray,
    sample_weight: np.ndarray,
    n_clusters: int,
    method: str,
    seed: int | None,
    init_size: int | None = None,
) -> np.ndarray:
    """The initial centres of one restart: ``method`` (a name in ``INIT_METHODS``) run
    with ``np.random.RandomState(seed)``. The estimator, the CLI and ``trace`` all call
    this, so the same seed gives the same start everywhere.

    With ``init_size`` below the number of rows, the method sees only that many rows,
    drawn uniformly without replacement among the rows of positive weight (the others
    can never be a centre) by the same random state (first), weights kept.
    """
    rs = np.random.RandomState(seed)
    if init_size is not None and init_size < X.shape[0]:
        rows = positive_rows_sample(
            sample_weight, init_size, lambda n, size: rs.choice(n, size=size, replace=False)
        )
        if rows is None:  # no more rows of positive weight than init_size: all of them
            rows = np.flatnonzero(sample_weight > 0)
        X, sample_weight = X[rows], sample_weight[rows]
    return INIT_METHODS[method](X, n_clusters, sample_weight, rs)[0]
