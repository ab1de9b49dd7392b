"""Global search: moves that Lloyd cannot make, kept only when the inertia drops.

Lloyd stops at a local optimum: it can only slide each centroid to the mean of the
points it already owns, so two centroids sharing one true cluster while another true
cluster has none stay that way. "Breathing" (Fritzke 2020, arXiv 2006.15666) repairs
such a solution with two moves, repeated:

* **breathe in**: add ``m`` centroids next to the ``m`` centroids with the largest error
  (sum of squared distances of their points), then Lloyd with ``k + m`` centroids;
* **breathe out**: remove the ``m`` centroids of lowest *utility* (the error the
  solution would gain without them), never two neighbours in one step, then Lloyd
  with ``k`` centroids.

A cycle is kept when it lowers the inertia by more than a relative ``improve_tol``;
otherwise the depth ``m`` halves (Fritzke lowers it by one; halving measured the same
success rates on the benchmark sets with a third fewer cycles). The search ends at
depth 0, and Lloyd then polishes the kept solution at the fit's own tolerance (cycles
run at a looser one).

What is ours: it runs on the same driver and backend as the fit (exact passes, the
bounds of ``algorithm='auto'`` skip the rows a move cannot affect, so a Lloyd run after a
local move costs little more than one pass), and it is reproducible: the only random
draws (the offsets of the added centroids) come from the restart's own seed, and a
cycle that fails restores the best solution instead of drifting from the last one.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from kmeanskit._core import RunResult, SearchFn, lloyd
from kmeanskit._history import SearchRecord
from kmeanskit._init import positive_rows_sample
from kmeanskit._kernels.optimal1d import optimal_splits
from kmeanskit.backends import Backend
from kmeanskit.backends.bounds import nearest_other

#: Default breathing depth (Fritzke's m).
DEFAULT_DEPTH = 5

#: Offset of an added centroid: this fraction of the solution's RMS error, uniform in each
#: coordinate (Fritzke's epsilon).
_OFFSET = 0.01

#: A cycle's Lloyd runs stop at this multiple of the fit's tolerance: their tails change
#: the inertia by little and no decision; the kept solution is polished at the fit's own
#: tolerance at the end. Measured: half the search's iterations, the same success rates.
_CYCLE_TOL_FACTOR = 10.0

#: A cycle is kept only if it lowers the inertia by more than this relative amount (or
#: ``tol`` if larger): with ``tol=0`` the search would otherwise chase rounding errors.
_MIN_IMPROVEMENT = 1e-6

#: ``search_size='auto'``: the seeding, restarts and search run on every row up to
#: ``max(AUTO_SEARCH_MIN_ROWS, AUTO_SEARCH_ROWS_PER_CLUSTER * k)`` rows and on a uniform
#: sample of that many above; Lloyd then runs on every row. 256 rows per centroid is
#: faiss's training budget; the floor keeps small clusters represented when k is small.
#: ``benchmarks/bench_search_size.py`` (8 seeds on Birch1, on 100k-row blobs and on 200k
#: rows in blobs whose sizes halve, the smallest 0.05% of the rows): floors of 20k, 32k and
#: 50k rows and the search on every row all land within 0.3% of one another in mean
#: inertia; the 20k floor was 2.4-8x faster than every row.
AUTO_SEARCH_ROWS_PER_CLUSTER = 256
AUTO_SEARCH_MIN_ROWS = 20_000

#: ``init_size='auto'``: when the breathing search runs, the seeding sees
#: ``max(AUTO_INIT_MIN_ROWS, AUTO_INIT_ROWS_PER_CLUSTER * k)`` of the search's rows. Greedy
#: k-means++ costs O(n k) and was 40% of a default fit at 200k x 64, k = 256; the search
#: repairs what a seeding on fewer rows misses. ``benchmarks/bench_search_size.py``
#: (20 seeds, 7 sets, among them blobs whose sizes halve down to 0.05% of the rows): mean
#: inertia within 0.04% of seeding on every search row (the search-sample floors of the
#: same run differ by up to 0.4%), 7-24% faster fits.
AUTO_INIT_ROWS_PER_CLUSTER = 64
AUTO_INIT_MIN_ROWS = 4096


def seeding_size(init_size: int | str | None, method: str | None, n_clusters: int) -> int | None:
    """Rows the seeding sees for ``init_size`` ('auto', an integer or None for all).

    'auto' subsamples only when ``method`` is the breathing search, which repairs a
    seeding; otherwise (no search, given centres, the 1-D optimum) it seeds on every
    row, as scikit-learn does.
    """
    if init_size != "auto":
        return init_size  # type: ignore[return-value]
    if method != "breathe":
        return None
    return max(AUTO_INIT_MIN_ROWS, AUTO_INIT_ROWS_PER_CLUSTER * n_clusters)


def search_rows(
    sample_weight: np.ndarray, n_clusters: int, size: int | str | None, seed: int
) -> np.ndarray | None:
    """Rows the seeding, restarts and search run on: None for all, else sorted indices.

    ``size`` is ``search_size`` ('auto', an integer or None). The sample is uniform
    without replacement over the rows of positive weight (rows of weight 0 cannot change
    a solution), drawn from ``seed`` alone, and sorted so it keeps the data's order.
    """
    if size is None:
        return None
    if size == "auto":
        size = max(AUTO_SEARCH_MIN_ROWS, AUTO_SEARCH_ROWS_PER_CLUSTER * n_clusters)
    rng = np.random.default_rng(seed)
    return positive_rows_sample(
        sample_weight, size, lambda n, size: rng.choice(n, size=size, replace=False)
    )


def breathe_in(
    centers: np.ndarray, error: np.ndarray, total_weight: float, m: int, rng: np.random.RandomState
) -> np.ndarray:
    """``centers`` plus ``m`` new ones beside the ``m`` of largest error."""
    worst = np.argsort(-error, kind="stable")[:m]
    rms = np.sqrt(max(float(np.sum(error)), 0.0) / total_weight)
    offsets = _OFFSET * rms * (rng.random_sample((m, centers.shape[1])) - 0.5)
    added = (centers[worst].astype(np.float64) + offsets).astype(centers.dtype)
    return np.concatenate([centers, added])


def breathe_out(centers: np.ndarray, utility: np.ndarray, m: int) -> np.ndarray:
    """``centers`` less ``m`` of lowest utility; removing one freezes its nearest neighbour,
    so two centroids sharing a cluster are not both removed."""
    k = centers.shape[0]
    neighbour = nearest_other(centers)
    removed: list[int] = []
    frozen: set[int] = set()
    for j in np.argsort(utility, kind="stable"):
        j = int(j)
        if j in frozen:
            continue
        removed.append(j)
        if len(frozen) + m < k:
            frozen.add(int(neighbour[j]))
        if len(removed) == m:
            break
    keep = np.ones(k, dtype=bool)
    keep[removed] = False
    return centers[keep]


def breathe(
    backend: Backend,
    data: object,
    run: RunResult,
    tol: float,
    *,
    X: object,
    sample_weight: np.ndarray,
    depth: int,
    max_iter: int,
    improve_tol: float,
    seed: int,
) -> tuple[RunResult, list[SearchRecord]]:
    """Improve a converged ``run`` by breathing cycles; return the best run and the cycles.

    ``data`` is the backend's data prepared for ``k`` clusters; ``tol`` is already scaled.
    """
    k = run.centers.shape[0]
    # Breathing in needs k + m rows to hold k + m centres.
    depth = min(depth, k, int(np.count_nonzero(sample_weight)) - k)
    total_weight = float(np.sum(sample_weight, dtype=np.float64))
    rng = np.random.RandomState(seed)
    wide: dict[int, object] = {}  # data prepared for k + m clusters, by m
    best = run  # its labels are already the driver's copy
    records: list[SearchRecord] = []
    cycle_tol = tol * _CYCLE_TOL_FACTOR
    m = depth
    error, _ = backend.cluster_costs(data, best.centers)
    while m > 0:
        start = time.perf_counter()
        depth_now = m
        if m not in wide:
            wide[m] = backend.prepare(X, sample_weight, k + m)
        grown = breathe_in(best.centers, error, total_weight, m, rng)
        backend.begin(wide[m])
        # Its labels are recomputed by cluster_costs right after: no final pass here.
        big = lloyd(backend, wide[m], grown, max_iter=max_iter, tol=cycle_tol, exact_end=False)
        _, utility = backend.cluster_costs(wide[m], big.centers)
        shrunk = breathe_out(big.centers, utility, m)
        backend.begin(data)
        small = lloyd(backend, data, shrunk, max_iter=max_iter, tol=cycle_tol)
        accepted = small.inertia < best.inertia * (1.0 - max(improve_tol, _MIN_IMPROVEMENT))
        if accepted:
            small.labels = np.array(small.labels, copy=True)
            best = small
            error, _ = backend.cluster_costs(data, best.centers)
        else:
            m //= 2
        records.append(
            SearchRecord(
                cycle=len(records) + 1,
                depth=depth_now,
                inertia=small.inertia,
                best_inertia=best.inertia,
                accepted=accepted,
                n_iter=big.n_iter + small.n_iter,
                seconds=time.perf_counter() - start,
            )
        )
    if any(r.accepted for r in records) and cycle_tol > tol:
        backend.begin(data)
        polished = lloyd(backend, data, best.centers, max_iter=max_iter, tol=tol)
        polished.labels = np.array(polished.labels, copy=True)
        best = polished
    return best, records


#: Most ``k n log2(n)`` for which 'auto' runs the 1-D dynamic programme (about 10 s; the
#: breathing search costs as much on such inputs, measured at n = 1e6, k = 100).
OPTIMAL_1D_WORK = 2e9


def optimal_1d_fits(n_samples: int, n_features: int, n_clusters: int) -> bool:
    """Whether the exact 1-D optimum is cheap enough for ``search='auto'``."""
    work = n_clusters * n_samples * max(1.0, np.log2(max(n_samples, 2)))
    return n_features == 1 and work <= OPTIMAL_1D_WORK


def optimal_1d(
    backend: Backend,
    data: object,
    run: RunResult,
    tol: float,
    *,
    X: np.ndarray,
    sample_weight: np.ndarray,
    max_iter: int,
) -> tuple[RunResult, list[SearchRecord]]:
    """One-dimensional data: replace ``run`` by the optimal clustering.

    The optimum's centres (``_kernels.optimal1d``) then go through one Lloyd run, so
    labels, inertia and history come from the same exact passes as any fit (the run
    stops at once: an optimal partition is a Lloyd fixed point).
    """
    start = time.perf_counter()
    k = run.centers.shape[0]
    positive = sample_weight > 0
    if int(np.count_nonzero(positive)) < k:
        return run, []
    values = X[positive, 0].astype(np.float64)
    weights = sample_weight[positive].astype(np.float64)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    starts = np.empty(k, dtype=np.int64)
    optimal_splits(values, weights, k, starts)
    bounds = np.append(starts, values.size)
    centers = np.empty((k, 1))
    for j in range(k):
        w = weights[bounds[j] : bounds[j + 1]]
        centers[j, 0] = np.dot(w, values[bounds[j] : bounds[j + 1]]) / w.sum()
    backend.begin(data)
    best = lloyd(backend, data, centers.astype(run.centers.dtype), max_iter=max_iter, tol=tol)
    accepted = best.inertia <= run.inertia
    record = SearchRecord(
        cycle=1,
        depth=0,
        inertia=best.inertia,
        best_inertia=min(best.inertia, run.inertia),
        accepted=accepted,
        n_iter=best.n_iter,
        seconds=time.perf_counter() - start,
        method="optimal-1d",
    )
    if not accepted:  # only rounding (float32 centres) can get here
        return run, [record]
    best.labels = np.array(best.labels, copy=True)
    return best, [record]


def method_for(
    search: str | None, named_init: bool, n_samples: int, n_features: int, n_clusters: int
) -> str | None:
    """The search a fit runs: 'breathe', 'optimal-1d' or None.

    'auto' searches when kmeanskit chose the start (a named ``init``); given centres (an
    array or a callable) get plain Lloyd from them, as in scikit-learn.
    """
    if search is None or n_clusters < 2:
        return None
    if search == "auto" and not named_init:
        return None
    if search == "auto" and n_features == 1:
        if optimal_1d_fits(n_samples, n_features, n_clusters):
            return "optimal-1d"
    return "breathe"


def search_fn(
    method: str | None,
    X: np.ndarray,
    sample_weight: np.ndarray,
    *,
    seed: int,
    max_iter: int,
    tol: float,
) -> SearchFn | None:
    """The driver's ``search`` argument for ``method`` on these rows."""
    if method == "optimal-1d":
        return functools.partial(optimal_1d, X=X, sample_weight=sample_weight, max_iter=max_iter)
    if method == "breathe":
        return functools.partial(
            breathe,
            X=X,
            sample_weight=sample_weight,
            depth=DEFAULT_DEPTH,
            max_iter=max_iter,
            improve_tol=tol,
            seed=seed,
        )
    return None
