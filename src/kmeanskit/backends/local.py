"""The in-memory backend: numpy arrays, numba kernels, BLAS for the GEMM path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmeanskit._config import CHUNK_ROWS, n_groups_for, use_gemm_for
from kmeanskit._kernels.assign import (
    NO_BOUNDS,
    SET_BOUNDS,
    USE_BOUNDS,
    assign_pass,
    scratch_blocks,
)
from kmeanskit._kernels.distance import cluster_costs, distances_to_assigned
from kmeanskit._kernels.gemm import gemm_address
from kmeanskit._kernels.stats import sum_in_order
from kmeanskit.backends import Step
from kmeanskit.backends._groups import top_rows
from kmeanskit.backends.bounds import BoundsPlan, check_algorithm, one_group_terms, score_gamma


@dataclass
class LocalData:
    """The data of one fit and the buffers its passes write into."""

    X: np.ndarray  # (n, d) C-contiguous float32|float64, never copied
    sample_weight: np.ndarray  # (n,) same dtype as X
    labels: np.ndarray  # (n,) int32: labels of the latest pass, -1 before the first
    algorithm: str
    use_gemm: bool
    gemm: int  # the kernels' GEMM (see _kernels.gemm)
    n_groups: int
    inertia_chunks: np.ndarray  # (n_chunks,) float64
    changed_chunks: np.ndarray  # (n_chunks,) int64
    scored_chunks: np.ndarray  # (n_chunks,) int64
    tied_chunks: np.ndarray  # (n_chunks,) bool
    plan: BoundsPlan
    sums: np.ndarray | None = None  # (n_groups, k, d) float64, made by the first step
    wsums: np.ndarray | None = None  # (n_groups, k) float64
    lower: np.ndarray | None = None  # (n, centre groups) float32 lower bounds


class LocalBackend:
    """Lloyd passes over an in-memory array."""

    name = "local"

    def __init__(self, algorithm: str = "lloyd") -> None:
        self.algorithm = check_algorithm(algorithm)

    def prepare(self, X: np.ndarray, sample_weight: np.ndarray, n_clusters: int) -> LocalData:
        n, d = X.shape
        n_chunks = max(1, -(-n // CHUNK_ROWS))
        return LocalData(
            X=X,
            sample_weight=sample_weight,
            labels=np.full(n, -1, dtype=np.int32),
            algorithm=self.algorithm,
            use_gemm=use_gemm_for(d, n_clusters),
            gemm=gemm_address(X.dtype),
            n_groups=n_groups_for(n, n_clusters, d),
            inertia_chunks=np.empty(n_chunks),
            changed_chunks=np.empty(n_chunks, dtype=np.int64),
            scored_chunks=np.empty(n_chunks, dtype=np.int64),
            tied_chunks=np.empty(n_chunks, dtype=np.bool_),
            plan=BoundsPlan.for_shape(self.algorithm, n, n_clusters, d, X.itemsize),
        )

    def begin(self, data: LocalData) -> None:
        data.labels.fill(-1)
        data.plan.reset()

    def _pass(
        self,
        data: LocalData,
        centers: np.ndarray,
        accumulate: bool,
        mode: int,
        dense_labels: bool = False,
        lower: np.ndarray | None = None,
    ) -> Step:
        """One pass; ``lower`` (one group) replaces the plan's bounds when given."""
        centers = np.ascontiguousarray(centers, dtype=data.X.dtype)
        k, d = centers.shape
        if lower is not None:
            terms = one_group_terms(k)
        else:
            terms = data.plan.terms(centers, mode)
            lower = np.empty((0, 1), dtype=np.float32)
            if mode != NO_BOUNDS:
                shape = (data.X.shape[0], data.plan.n_bound_groups)
                if data.lower is None or data.lower.shape != shape:
                    data.lower = np.empty(shape, dtype=np.float32)
                lower = data.lower
        if accumulate:
            if data.sums is None:
                data.sums = np.empty((data.n_groups, k, d))
                data.wsums = np.empty((data.n_groups, k))
            sums, wsums = data.sums, data.wsums
        else:
            sums, wsums = np.empty((data.n_groups, 0, 0)), np.empty((data.n_groups, 0))
        assign_pass(
            data.X,
            data.sample_weight,
            centers,
            data.labels,
            data.use_gemm,
            data.gemm,
            scratch_blocks(),
            accumulate,
            mode,
            dense_labels,
            score_gamma(data.X.dtype, d),
            terms.group_of,
            terms.drift_group,
            terms.drift_other,
            terms.separation,
            lower,
            data.labels,
            sums,
            wsums,
            data.inertia_chunks,
            data.changed_chunks,
            data.scored_chunks,
            data.tied_chunks,
        )
        n = data.X.shape[0]
        if accumulate:
            # Groups are summed in index order: the result does not depend on threads.
            total_sums, total_weights = np.empty((k, d)), np.empty(k)
            sum_in_order(sums.reshape(sums.shape[0], k * d), total_sums.reshape(k * d))
            sum_in_order(wsums, total_weights)
        else:
            total_sums, total_weights = np.empty((k, d)), np.empty(k)
        return Step(
            sums=total_sums,
            weights=total_weights,
            inertia=float(np.sum(data.inertia_chunks)),
            n_changed=int(np.sum(data.changed_chunks)),
            labels=data.labels,
            algorithm=data.plan.ran(mode, lower.shape[1]),
            skipped=1.0 - float(np.sum(data.scored_chunks)) / n,
            # Direct scores do not depend on which rows are scored together; GEMM scores
            # may round a near tie otherwise, unless the kernel rescored or found none.
            final=mode != USE_BOUNDS or not data.tied_chunks.any(),
        )

    def step(self, data: LocalData, centers: np.ndarray) -> Step:
        n, d = data.X.shape
        mode = data.plan.mode(n * centers.shape[0] * d)
        step = self._pass(data, centers, accumulate=True, mode=mode)
        data.plan.done(centers, mode, step.n_changed, n)
        return step

    def labels(self, data: LocalData, centers: np.ndarray) -> tuple[np.ndarray, float]:
        # The bounds skip the rows whose label they prove; the other rows get the dense
        # pass's labels (`predict`'s) bit for bit: direct scores do not depend on which
        # rows are scored together, and the assignment kernel rescores a whole chunk as
        # the dense pass does wherever a GEMM over fewer rows finds a near tie.
        mode = NO_BOUNDS if data.plan.bound_centers is None else USE_BOUNDS
        step = self._pass(data, centers, accumulate=False, mode=mode, dense_labels=True)
        data.plan.relabeled(centers, mode)
        return step.labels, step.inertia

    def cluster_costs(self, data: LocalData, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # A one-group SET_BOUNDS pass leaves each row's distance to its second-nearest
        # centre (rounded down a little) in `second`: plenty for ranking centres by
        # utility. It borrows the bounds' buffer: the next run sets its own bounds.
        n = data.X.shape[0]
        if data.lower is None:
            data.lower = np.empty((n, 1), dtype=np.float32)
        second = data.lower.reshape(-1)[:n]
        centers = np.ascontiguousarray(centers, dtype=data.X.dtype)
        self._pass(data, centers, accumulate=False, mode=SET_BOUNDS, lower=second.reshape(n, 1))
        k = centers.shape[0]
        error, utility = np.empty((data.n_groups, k)), np.empty((data.n_groups, k))
        cluster_costs(data.X, data.sample_weight, centers, data.labels, second, error, utility)
        total_error, total_utility = np.empty(k), np.empty(k)
        sum_in_order(error, total_error)  # groups in index order: thread independent
        sum_in_order(utility, total_utility)
        data.plan.reset()  # the next run starts from other centres
        return total_error, total_utility

    def farthest(self, data: LocalData, centers: np.ndarray, m: int) -> np.ndarray:
        dist = np.empty(data.X.shape[0])
        centers = np.ascontiguousarray(centers, dtype=data.X.dtype)
        distances_to_assigned(data.X, data.sample_weight, centers, data.labels, dist)
        # Largest first, lowest index first among ties; a partition, not an O(n log n)
        # sort (which took 8 ms of a 3 ms pass at 100k rows).
        return top_rows(dist, 0, m)[0]

    def take(
        self, data: LocalData, indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return data.X[indices], data.sample_weight[indices], data.labels[indices]
