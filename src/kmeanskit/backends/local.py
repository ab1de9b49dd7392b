"""The in-memory backend: numpy arrays, numba kernels, BLAS for the GEMM path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kmeanskit._config import CHUNK_ROWS, n_groups_for, use_gemm_for
from kmeanskit._kernels.assign import assign_pass
from kmeanskit._kernels.distance import distances_to_assigned
from kmeanskit.backends import Step


@dataclass
class LocalData:
    """The data of one fit and the buffers its passes write into."""

    X: np.ndarray  # (n, d) C-contiguous float32|float64, never copied
    sample_weight: np.ndarray  # (n,) same dtype as X
    labels: np.ndarray  # (n,) int32: labels of the latest pass, -1 before the first
    use_gemm: bool
    n_groups: int
    inertia_chunks: np.ndarray  # (n_chunks,) float64
    changed_chunks: np.ndarray  # (n_chunks,) int64
    sums: np.ndarray | None = None  # (n_groups, k, d) float64, made by the first step
    wsums: np.ndarray | None = None  # (n_groups, k) float64


class LocalBackend:
    """Lloyd passes over an in-memory array."""

    name = "local"

    def prepare(self, X: np.ndarray, sample_weight: np.ndarray, n_clusters: int) -> LocalData:
        n, d = X.shape
        n_chunks = max(1, -(-n // CHUNK_ROWS))
        n_groups = n_groups_for(n, n_clusters, d)
        return LocalData(
            X=X,
            sample_weight=sample_weight,
            labels=np.full(n, -1, dtype=np.int32),
            use_gemm=use_gemm_for(d, n_clusters),
            n_groups=n_groups,
            inertia_chunks=np.empty(n_chunks),
            changed_chunks=np.empty(n_chunks, dtype=np.int64),
        )

    def _pass(self, data: LocalData, centers: np.ndarray, accumulate: bool) -> tuple[float, int]:
        centers = np.ascontiguousarray(centers, dtype=data.X.dtype)
        k, d = centers.shape
        if not accumulate:
            sums, wsums = np.empty((data.n_groups, 0, 0)), np.empty((data.n_groups, 0))
        else:
            if data.sums is None:
                data.sums = np.empty((data.n_groups, k, d))
                data.wsums = np.empty((data.n_groups, k))
            sums, wsums = data.sums, data.wsums
        assign_pass(
            data.X,
            data.sample_weight,
            centers,
            data.labels,
            data.use_gemm,
            accumulate,
            data.labels,
            sums,
            wsums,
            data.inertia_chunks,
            data.changed_chunks,
        )
        return float(np.sum(data.inertia_chunks)), int(np.sum(data.changed_chunks))

    def step(self, data: LocalData, centers: np.ndarray) -> Step:
        inertia, n_changed = self._pass(data, centers, accumulate=True)
        # Groups are summed in index order: the result does not depend on threads.
        sums = data.sums[0].copy()
        weights = data.wsums[0].copy()
        for g in range(1, data.sums.shape[0]):
            sums += data.sums[g]
            weights += data.wsums[g]
        return Step(
            sums=sums, weights=weights, inertia=inertia, n_changed=n_changed, labels=data.labels
        )

    def labels(self, data: LocalData, centers: np.ndarray) -> tuple[np.ndarray, float]:
        inertia, _ = self._pass(data, centers, accumulate=False)
        return data.labels, inertia

    def farthest(self, data: LocalData, centers: np.ndarray, m: int) -> np.ndarray:
        dist = np.empty(data.X.shape[0])
        centers = np.ascontiguousarray(centers, dtype=data.X.dtype)
        distances_to_assigned(data.X, data.sample_weight, centers, data.labels, dist)
        # A stable sort of -dist: largest first, lowest index first among ties.
        return np.argsort(-dist, kind="stable")[:m]

    def take(
        self, data: LocalData, indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return data.X[indices], data.sample_weight[indices], data.labels[indices]
