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
otherwise the depth ``m`` drops by one. The search ends at depth 0, and Lloyd then
polishes the kept solution at the fit's own tolerance (cycles run at a looser one).

What is ours: it runs on the same driver and backend as the fit (exact passes, the
bounds of ``algorithm='auto'`` skip the rows a move cannot affect, so a Lloyd run after a
local move costs little more than one pass), and it is reproducible: the only random
draws (the offsets of the added centroids) come from the restart's own seed, and a
cycle that fails restores the best solution instead of drifting from the last one.
"""

from __future__ import annotations

import time

import numpy as np

from kmeanskit._core import RunResult, lloyd
from kmeanskit._history import SearchRecord
from kmeanskit.backends import Backend

#: Default breathing depth (Fritzke's m).
DEFAULT_DEPTH = 5

#: Offset of an added centroid: this fraction of the solution's RMS error, uniform in each
#: coordinate (Fritzke's epsilon).
_OFFSET = 0.01

_NEIGHBOUR_BLOCK = 512

#: A cycle's Lloyd runs stop at this multiple of the fit's tolerance: their tails change
#: the inertia by little and no decision; the kept solution is polished at the fit's own
#: tolerance at the end. Measured: half the search's iterations, the same success rates.
_CYCLE_TOL_FACTOR = 10.0

#: A cycle is kept only if it lowers the inertia by more than this relative amount (or
#: ``tol`` if larger): with ``tol=0`` the search would otherwise chase rounding errors.
_MIN_IMPROVEMENT = 1e-6


def nearest_other(centers: np.ndarray) -> np.ndarray:
    """Index of each centre's nearest other centre (float64, blocked: no k x k matrix)."""
    c = centers.astype(np.float64)
    c = c - c.mean(axis=0)
    sq = np.einsum("ij,ij->i", c, c)
    k = c.shape[0]
    out = np.empty(k, dtype=np.int64)
    for start in range(0, k, _NEIGHBOUR_BLOCK):
        stop = min(start + _NEIGHBOUR_BLOCK, k)
        d2 = sq[start:stop, None] + sq[None, :] - 2.0 * (c[start:stop] @ c.T)
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf
        out[start:stop] = np.argmin(d2, axis=1)
    return out


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
    best = run
    best.labels = np.array(run.labels, copy=True)
    first_iters, polish_iters = run.n_iter, 0
    records: list[SearchRecord] = []
    cycle_tol = tol * _CYCLE_TOL_FACTOR
    m = depth
    error, _ = backend.cluster_costs(data, best.centers)
    while m > 0:
        start = time.perf_counter()
        if m not in wide:
            wide[m] = backend.prepare(X, sample_weight, k + m)
        grown = breathe_in(best.centers, error, total_weight, m, rng)
        backend.begin(wide[m])
        big = lloyd(backend, wide[m], grown, max_iter=max_iter, tol=cycle_tol)
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
            m -= 1
        records.append(
            SearchRecord(
                cycle=len(records) + 1,
                depth=m + (0 if accepted else 1),
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
        best, polish_iters = polished, polished.n_iter
    # n_iter counts every Lloyd iteration spent on the kept solution: its restart, the
    # cycles and the polish.
    best.n_iter = first_iters + sum(r.n_iter for r in records) + polish_iters
    return best, records
