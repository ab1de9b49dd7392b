"""The one Lloyd driver: restarts, convergence, empty clusters, history, stop reason.

It talks to the data only through a backend (``kmeanskit.backends``); it never
knows which one runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kmeanskit._config import numba_threads, thread_limits
from kmeanskit._history import FitHistory, IterationRecord, RestartRecord
from kmeanskit._kernels.distance import squared_distances as _squared_distances
from kmeanskit._kernels.stats import column_variance, is_all_finite
from kmeanskit.backends import Backend, Step

#: Returns the initial centres of a restart from its seed (None for given centres).
InitFn = Callable[[int | None], np.ndarray]

#: Improves the kept run: ``search(backend, data, run, tol)`` with ``tol`` scaled; returns
#: the improved run and the records of what it tried (see ``_search.breathe``).
SearchFn = Callable[[Backend, object, "RunResult", float], tuple["RunResult", list]]


@dataclass
class RunResult:
    """The outcome of one Lloyd run (one restart)."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    stop_reason: str
    iterations: list[IterationRecord]


@dataclass
class FitResult:
    """The kept run of a fit, with the history of every restart."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    stop_reason: str
    history: FitHistory

    @property
    def converged(self) -> bool:
        return self.stop_reason != "max_iter"


def scaled_tolerance(X: np.ndarray, tol: float) -> float:
    """``tol`` times the mean per-feature variance of X (scikit-learn's meaning)."""
    if tol == 0:
        return 0.0
    return float(np.mean(column_variance(X)) * tol)


def _backend_tolerance(backend: Backend, data: object, X: object, tol: float) -> float:
    """``scaled_tolerance``, with the variance from the backend when it has its own
    (data that is not in memory); the same bits either way."""
    variance = getattr(backend, "column_variance", None)
    if variance is None or tol == 0:
        return scaled_tolerance(X, tol)  # type: ignore[arg-type]
    return float(np.mean(variance(data)) * tol)


def _new_centers(
    backend: Backend, data: object, centers: np.ndarray, step: Step
) -> tuple[np.ndarray, int]:
    """Means of the clusters; empty clusters move to the rows farthest from their centres.

    A relocated row leaves the sums of its old cluster, so the update stays the mean
    of a partition.
    """
    sums, weights = step.sums, step.weights
    if weights.all():  # no empty cluster: the common case, kept cheap (small fits)
        return (sums / weights[:, None]).astype(centers.dtype), 0
    empty = np.flatnonzero(weights == 0)
    if empty.size:
        far = backend.farthest(data, centers, empty.size)
        rows, row_weights, row_labels = backend.take(data, far)
        sums, weights = sums.copy(), weights.copy()
        for cluster, row, w, old in zip(empty, rows, row_weights, row_labels, strict=True):
            w = float(w)
            sums[old] -= w * row.astype(np.float64)
            weights[old] -= w
            sums[cluster] = w * row.astype(np.float64)
            weights[cluster] = w
    new = centers.astype(np.float64, copy=True)
    filled = weights > 0
    new[filled] = sums[filled] / weights[filled, None]
    if empty.size:
        # A relocated row of weight 0 still becomes its cluster's centre.
        for cluster, row in zip(empty, rows, strict=True):
            if weights[cluster] == 0:
                new[cluster] = row
    return new.astype(centers.dtype), int(empty.size)


def lloyd(
    backend: Backend,
    data: object,
    centers: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    verbose: bool = False,
    exact_end: bool = True,
) -> RunResult:
    """Lloyd iterations from ``centers`` until no label changes, the squared centre
    shift is at most ``tol`` (already scaled), or ``max_iter``.

    Iteration ``i`` assigns the rows to the centres it starts from and moves every
    centre to the mean of its rows. The labels returned always belong to the
    returned centres: after a stop on ``tol`` or ``max_iter`` a final assignment runs.
    With ``exact_end=False`` it does not: the labels and inertia are those of the last
    pass, which scored the centres before the last move (an upper bound on the
    returned centres' inertia). The global search uses that to save a pass per run.
    """
    iterations: list[IterationRecord] = []
    stop_reason = "max_iter"
    for i in range(1, max_iter + 1):
        start = time.perf_counter()
        step = backend.step(data, centers)
        new_centers, n_relocated = _new_centers(backend, data, centers, step)
        shift = float(np.sum((new_centers.astype(np.float64) - centers) ** 2))
        iterations.append(
            IterationRecord(
                iteration=i,
                inertia=step.inertia,
                center_shift_sq=shift,
                n_changed=step.n_changed,
                n_relocated=n_relocated,
                seconds=time.perf_counter() - start,
                algorithm=step.algorithm,
                skipped=step.skipped,
            )
        )
        if verbose:
            print(f"Iteration {i}, inertia {step.inertia:.6g}, changed {step.n_changed}.")
        centers = new_centers
        if step.n_changed == 0 and n_relocated == 0:
            # Same labels as the last pass, so the update reproduced the same centres
            # bit for bit and the labels belong to them.
            stop_reason = "no_change"
            labels, inertia = step.labels, step.inertia
            break
        if shift <= tol:
            stop_reason = "tol"
            break
    if stop_reason != "no_change" or not step.final:
        if exact_end:
            labels, inertia = backend.labels(data, centers)
        else:
            labels, inertia = step.labels, step.inertia
    return RunResult(
        centers=centers,
        labels=labels,
        inertia=inertia,
        n_iter=len(iterations),
        stop_reason=stop_reason,
        iterations=iterations,
    )


def fit(
    backend: Backend,
    X: object,
    sample_weight: object,
    n_clusters: int,
    init: InitFn,
    seeds: list[int | None],
    *,
    max_iter: int,
    tol: float,
    n_threads: int,
    verbose: bool = False,
    search: SearchFn | None = None,
) -> FitResult:
    """Run one Lloyd per seed, keep the lowest inertia (the first among ties), then let
    ``search`` improve it.

    ``tol`` is the user's relative tolerance; it is scaled by the mean feature
    variance here.
    """
    best: RunResult | None = None
    best_index = 0
    restarts: list[RestartRecord] = []
    with thread_limits(n_threads):
        data = backend.prepare(X, sample_weight, n_clusters)
        tol = _backend_tolerance(backend, data, X, tol)
        for r, seed in enumerate(seeds):
            start = time.perf_counter()
            centers = init(seed)
            backend.begin(data)
            if verbose:
                print(f"Initialization complete (restart {r}, seed {seed}).")
            run = lloyd(backend, data, centers, max_iter=max_iter, tol=tol, verbose=verbose)
            restarts.append(
                RestartRecord(
                    restart=r,
                    seed=seed,
                    init_inertia=run.iterations[0].inertia,
                    inertia=run.inertia,
                    n_iter=run.n_iter,
                    stop_reason=run.stop_reason,
                    seconds=time.perf_counter() - start,
                )
            )
            if best is None or run.inertia < best.inertia:
                best, best_index = run, r
                # The backend reuses its label buffer in the next restart (a dask
                # array's copy stays lazy).
                best.labels = run.labels.copy()
        assert best is not None
        search_records: list = []
        if search is not None:
            best, search_records = search(backend, data, best, tol)
            if verbose:
                print(f"Search: {len(search_records)} cycles, inertia {best.inertia:.6g}.")
    history = FitHistory(restarts=restarts, best_restart=best_index, search=search_records)
    return _fit_result(best, history)


def _fit_result(run: RunResult, history: FitHistory) -> FitResult:
    """The fit's result: ``run``'s centres and labels, ``history`` with its iterations."""
    return FitResult(
        centers=run.centers,
        labels=run.labels,
        inertia=run.inertia,
        n_iter=run.n_iter,
        stop_reason=run.stop_reason,
        history=dataclasses.replace(history, iterations=run.iterations),
    )


def lloyd_on_every_row(
    backend: Backend,
    X: object,
    sample_weight: object,
    on_sample: FitResult,
    *,
    max_iter: int,
    tol: float,
    n_threads: int,
    verbose: bool = False,
) -> FitResult:
    """Lloyd on every row from the centres a fit on a sample of the rows kept.

    The restarts and search cycles of ``on_sample`` stay in the history, whose iterations
    become those of this run; ``history.search_size`` says how many rows the sample had.
    ``tol`` is the user's relative tolerance, scaled here by the variance of all rows.
    """
    k = on_sample.centers.shape[0]
    with thread_limits(n_threads):
        data = backend.prepare(X, sample_weight, k)
        tol = _backend_tolerance(backend, data, X, tol)
        backend.begin(data)
        if verbose:
            print("Lloyd on every row from the centres found on the sample.")
        run = lloyd(backend, data, on_sample.centers, max_iter=max_iter, tol=tol, verbose=verbose)
    sample_size = int(on_sample.labels.shape[0])
    return _fit_result(run, dataclasses.replace(on_sample.history, search_size=sample_size))


def predict(
    backend: Backend,
    X: object,
    centers: np.ndarray,
    n_threads: int,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Labels of X under ``centers`` and the inertia (unit weights when None)."""
    if sample_weight is None:
        sample_weight = np.ones(len(X), dtype=centers.dtype)  # type: ignore[arg-type]
    with thread_limits(n_threads):
        data = backend.prepare(X, sample_weight, centers.shape[0])
        return backend.labels(data, centers)


def squared_distances(X: np.ndarray, centers: np.ndarray, n_threads: int) -> np.ndarray:
    """Squared Euclidean distances of every row to every centre, float64 (n, k)."""
    out = np.empty((X.shape[0], centers.shape[0]))
    with thread_limits(n_threads):
        _squared_distances(X, np.ascontiguousarray(centers, dtype=X.dtype), out)
    return out


def all_finite(X: np.ndarray, n_threads: int) -> bool:
    """Whether every value of X (C-contiguous float) is finite: one parallel read (no
    BLAS, so no BLAS limits to set: that would cost more than the check on small X)."""
    if X.size == 0:
        return True
    with numba_threads(n_threads):
        return is_all_finite(X)
