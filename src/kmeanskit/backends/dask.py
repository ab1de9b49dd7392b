"""The Dask backend: the in-memory pass, mapped over persisted groups of rows.

``prepare`` rechunks the data row-wise on the group boundaries of the in-memory pass
(``_groups.group_starts``; all columns in one chunk), a few whole groups per chunk (a
*partition*), and persists it once on the current scheduler (a ``distributed.Client``
if one is active). Each pass runs one task per partition, which runs the same numba
kernel as in memory on each of its groups; a task keeps its labels on its worker and
sends back only (k, d) sums, (k,) weights and per-chunk inertias per group. The host
adds them in group order, so centres, labels and inertia are bit-identical to the
in-memory fit from the same start, whatever the user's chunking and the number of
workers. A worker lost mid-fit costs only a recomputation: every task is pure, and the
scheduler rebuilds lost results from their lineage.

dask is imported here only (``pip install "kmeanskit[dask]"``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels.assign import NO_BOUNDS, SET_BOUNDS, USE_BOUNDS
from kmeanskit.backends import Step
from kmeanskit.backends import _groups as G
from kmeanskit.backends.bounds import BoundsPlan, check_algorithm

#: A partition (one task per pass) holds whole groups and, when there are enough
#: groups, at least this many bytes: fewer, larger tasks cost less scheduling.
PARTITION_BYTES = 64 * 2**20


def import_dask() -> Any:
    """``dask``, or an ImportError naming the extra to install."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Fitting dask collections needs dask: pip install "kmeanskit[dask]"'
        ) from exc
    return dask


def is_dask_collection(X: Any) -> bool:
    """Whether X is a dask array / DataFrame (without importing dask)."""
    return type(X).__module__.split(".")[0] in ("dask", "dask_expr")


@dataclass
class DaskData:
    """The persisted partitions of one fit and the labels of its latest pass."""

    blocks: list  # one Delayed per partition: (rows, d) array, persisted
    weights: list  # one Delayed per partition: (rows,) weights, or None for unit weights
    starts: np.ndarray  # (G + 1,) row boundaries of the groups
    parts: np.ndarray  # (P + 1,) group boundaries of the partitions
    n_features: int
    dtype: np.dtype
    n_clusters: int
    passes: list = field(default_factory=list)  # one Delayed per partition, [] before a pass
    plan: BoundsPlan = field(default_factory=lambda: BoundsPlan("lloyd"))
    #: The persisted collections: holding them keeps their results on the workers.
    persisted: tuple = ()

    @property
    def n_samples(self) -> int:
        return int(self.starts[-1])

    def part_rows(self) -> np.ndarray:
        """(P + 1,) row boundaries of the partitions."""
        return self.starts[self.parts]

    def bounds(self, p: int) -> np.ndarray:
        """Group boundaries inside partition ``p``, from its first row."""
        s = self.starts[self.parts[p] : self.parts[p + 1] + 1]
        return s - s[0]


def _worker_threads() -> int:
    """Threads of the current distributed cluster, else this machine's cores."""
    try:
        from distributed import get_client

        return max(1, sum(get_client().nthreads().values()))
    except (ImportError, ValueError):
        return os.cpu_count() or 1


def partition_groups(starts: np.ndarray, row_bytes: int) -> np.ndarray:
    """Group boundaries of the partitions: at least two per worker thread when the
    groups allow, else fewer of at least ``PARTITION_BYTES``."""
    n_groups = len(starts) - 1
    by_size = max(1, int(starts[-1]) * row_bytes // PARTITION_BYTES)
    n_parts = int(min(n_groups, max(2 * _worker_threads(), by_size)))
    return np.array([p * n_groups // n_parts for p in range(n_parts + 1)], dtype=np.int64)


def persist_groups(X: Any, sample_weight: Any, n_clusters: int) -> DaskData:
    """Rechunk X (and a dask or numpy ``sample_weight``) on partition boundaries (whole
    groups) and persist them once."""
    dask = import_dask()
    import dask.array as da

    n, d = (int(s) for s in X.shape)
    starts = G.group_starts(n, n_clusters, d)
    parts = partition_groups(starts, d * X.dtype.itemsize)
    rows = tuple(int(s) for s in np.diff(starts[parts]))
    X = X.rechunk((rows, (d,)))
    if sample_weight is None:
        (X,) = dask.persist(X)
        weights: list = [None] * (len(parts) - 1)
        persisted: tuple = (X,)
    else:
        if not is_dask_collection(sample_weight):
            sample_weight = da.from_array(np.asarray(sample_weight))
        if tuple(sample_weight.shape) != (n,):
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape} but X has {n} samples: pass "
                f"one weight per row, shape ({n},)."
            )
        sample_weight = sample_weight.astype(X.dtype).rechunk((rows,))
        X, sample_weight = dask.persist(X, sample_weight)
        _check_weights(dask, sample_weight)
        weights = sample_weight.to_delayed().ravel().tolist()
        persisted = (X, sample_weight)
    return DaskData(
        blocks=X.to_delayed().ravel().tolist(),
        weights=weights,
        starts=starts,
        parts=parts,
        n_features=d,
        dtype=np.dtype(X.dtype),
        n_clusters=n_clusters,
        persisted=persisted,
    )


def _check_weights(dask: Any, w: Any) -> None:
    """The checks of the in-memory ``sample_weight``, in one pass over the weights."""
    import dask.array as da

    finite, nonneg, positive = dask.compute(da.isfinite(w).all(), (w >= 0).all(), (w > 0).any())
    if not finite:
        raise ValueError("sample_weight contains NaN or infinity: pass finite weights.")
    if not nonneg:
        raise ValueError("sample_weight contains negative values: weights must be >= 0.")
    if not positive:
        raise ValueError("sample_weight is all zero: at least one row needs a positive weight.")


_BLAS_LIMITED = False


def _one_blas_thread() -> None:
    """In a worker process, BLAS on one thread (the kernels call it inside their own
    parallel loops), set once: ``_core`` does the same around an in-process fit."""
    global _BLAS_LIMITED
    if _BLAS_LIMITED:
        return
    _BLAS_LIMITED = True
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        import scipy.linalg.cython_blas  # noqa: F401  (numba's np.dot calls it)
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")


def _unit(w, X):
    return np.ones(X.shape[0], dtype=X.dtype) if w is None else w


def _block_pass(X, w, centers, prev, accumulate, bounds, mode, terms, n_bound_groups):
    """One pass over a partition, group by group: (labels, [GroupStep per group],
    lower bounds (rows, centre groups) or None)."""
    _one_blas_thread()
    labels = np.empty(X.shape[0], dtype=np.int32)
    lower = None
    if mode == SET_BOUNDS:
        lower = np.empty((X.shape[0], n_bound_groups), dtype=np.float32)
    elif mode == USE_BOUNDS:  # a copy: tasks must not change their inputs
        lower = prev[2].copy()
    steps = []
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        labels[s:e], step = G.group_pass(
            X[s:e],
            None if w is None else w[s:e],
            centers,
            None if prev is None else prev[0][s:e],
            accumulate,
            mode,
            None if lower is None else lower[s:e],
            terms,
        )
        steps.append(step)
    return labels, steps, lower


def _labels_of(result):
    return result[0]


def _steps_of(result):
    return result[1]


def _block_moments(X):
    return G.chunk_moments(X)


def _block_top(X, w, centers, result, offset, m):
    return G.top_rows(G.assigned_distances(X, w, centers, result[0]), offset, m)


def _block_take(X, w, result, local):
    rows = X[local]
    weights = np.ones(len(local), dtype=X.dtype) if w is None else w[local]
    labels = np.full(len(local), -1, dtype=np.int32) if result is None else result[0][local]
    return rows, weights, labels


class DaskBackend:
    """Lloyd passes over a dask array, one task per partition of whole groups."""

    name = "dask"

    def __init__(self, algorithm: str = "lloyd") -> None:
        self.algorithm = check_algorithm(algorithm)

    def prepare(self, X: Any, sample_weight: Any, n_clusters: int) -> DaskData:
        if isinstance(X, DaskData):
            return X
        return persist_groups(X, sample_weight, n_clusters)

    def begin(self, data: DaskData) -> None:
        data.passes = []
        data.plan = BoundsPlan.for_shape(
            self.algorithm, data.n_samples, data.n_clusters, data.n_features, data.dtype.itemsize
        )

    def column_variance(self, data: DaskData) -> np.ndarray:
        """Per-feature variance, computed exactly as ``_kernels.stats.column_variance``."""
        dask = import_dask()
        delayed = dask.delayed
        parts = dask.compute(*[delayed(_block_moments)(b) for b in data.blocks])
        return G.merged_variance(list(parts), data.n_samples)

    def _pass(self, data: DaskData, centers: np.ndarray, accumulate: bool, mode: int) -> Step:
        dask = import_dask()
        delayed = dask.delayed
        centers = np.ascontiguousarray(centers, dtype=data.dtype)
        terms = data.plan.terms(centers, mode)
        t = data.plan.n_bound_groups
        c = delayed(centers)
        prev = data.passes or [None] * len(data.blocks)
        results = [
            delayed(_block_pass, pure=True)(b, w, c, r, accumulate, data.bounds(p), mode, terms, t)
            for p, (b, w, r) in enumerate(zip(data.blocks, data.weights, prev, strict=True))
        ]
        # The labels (and bounds) stay on the workers; only the small partials come back.
        data.passes = list(dask.persist(*results))
        parts = dask.compute(*[delayed(_steps_of, pure=True)(r) for r in data.passes])
        steps = [s for part in parts for s in part]
        name = data.plan.ran(mode, t)
        return G.pass_step(steps, self._labels_array(data), mode, data.n_samples, name)

    def _labels_array(self, data: DaskData) -> Any:
        import dask.array as da

        dask = import_dask()
        return da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(_labels_of, pure=True)(r), shape=(int(n),), dtype=np.int32
                )
                for r, n in zip(data.passes, np.diff(data.part_rows()), strict=True)
            ]
        )

    def step(self, data: DaskData, centers: np.ndarray) -> Step:
        mode = data.plan.mode(data.n_samples * centers.shape[0] * centers.shape[1])
        step = self._pass(data, centers, accumulate=True, mode=mode)
        data.plan.done(centers, mode, step.n_changed, data.n_samples)
        return step

    def labels(self, data: DaskData, centers: np.ndarray) -> tuple[Any, float]:
        step = self._pass(data, centers, accumulate=False, mode=NO_BOUNDS)
        data.plan.relabeled(centers, NO_BOUNDS)
        return step.labels, step.inertia

    def kmeans_parallel(self, data: DaskData, n_clusters: int, seed: int | None) -> np.ndarray:
        """k-means|| centres on the workers (see ``kmeans_parallel_dask``)."""
        return kmeans_parallel_dask(data, n_clusters, seed)

    def farthest(self, data: DaskData, centers: np.ndarray, m: int) -> np.ndarray:
        dask = import_dask()
        delayed = dask.delayed
        centers = np.ascontiguousarray(centers, dtype=data.dtype)
        tops = dask.compute(
            *[
                delayed(_block_top)(b, w, centers, r, int(s), m)
                for b, w, r, s in zip(
                    data.blocks, data.weights, data.passes, data.part_rows()[:-1], strict=True
                )
            ]
        )
        return G.merge_top(list(tops), m)

    def take(
        self, data: DaskData, indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dask = import_dask()
        indices = np.asarray(indices, dtype=np.int64)
        rows = data.part_rows()
        part = np.searchsorted(rows, indices, side="right") - 1
        prev = data.passes or [None] * len(data.blocks)
        tasks = []
        for p in range(len(data.blocks)):
            local = indices[part == p] - rows[p]
            if local.size:
                tasks.append(
                    dask.delayed(_block_take)(data.blocks[p], data.weights[p], prev[p], local)
                )
        parts = dask.compute(*tasks)
        # The parts come in partition order: put them back in the order asked for.
        back = np.argsort(np.argsort(part, kind="stable"), kind="stable")
        return tuple(np.concatenate([q[i] for q in parts])[back] for i in range(3))


# -- k-means|| over the persisted partitions -------------------------------------------


def _block_chunk_weights(X, w):
    from kmeanskit._kernels.parallel_init import chunk_weight_sums

    out = np.empty(max(1, -(-X.shape[0] // CHUNK_ROWS)))
    chunk_weight_sums(_unit(w, X), out)
    return out


def _block_row_weights(X, w, local):
    return np.array(_unit(w, X)[local : local + CHUNK_ROWS], dtype=np.float64)


def _block_update(X, w, state, cands, offset, reset):
    from kmeanskit._kernels.parallel_init import update_closest

    _one_blas_thread()
    n = X.shape[0]
    if reset:
        closest, owner = np.empty(n), np.empty(n, dtype=np.int32)
    else:  # tasks must not change their inputs: a lost result is recomputed from them
        closest, owner = state[0][0].copy(), state[0][1].copy()
    phi = np.empty(max(1, -(-n // CHUNK_ROWS)))
    update_closest(np.ascontiguousarray(X), _unit(w, X), cands, offset, reset, closest, owner, phi)
    return (closest, owner), phi


def _block_draw(X, w, state, seed, rnd, offset, phi, oversampling):
    from kmeanskit._kernels.parallel_init import draw_rows_parallel

    out = np.empty(X.shape[0], dtype=np.int64)
    count = draw_rows_parallel(_unit(w, X), state[0][0], seed, rnd, offset, phi, oversampling, out)
    return out[:count]


def _block_owner(X, w, state, n_candidates, bounds):
    """Per group of the partition: the weight of its rows nearest to each candidate."""
    from kmeanskit._init_parallel import owner_weight_sums

    w = _unit(w, X)
    owner = state[0][1]
    return [
        owner_weight_sums(w[s:e], owner[s:e], n_candidates)
        for s, e in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _phi_of(result):
    return result[1]


class DaskRows:
    """The k-means|| ``RowSource`` of ``_init_parallel`` over persisted partitions: each
    keeps its rows' distances to the nearest candidate on its worker."""

    def __init__(self, data: DaskData, backend: DaskBackend) -> None:
        self.data, self.backend = data, backend
        self.n_samples, self.n_features, self.dtype = data.n_samples, data.n_features, data.dtype
        self.state: list = [None] * len(data.blocks)

    def _tasks(self, fn: Any, *args: Any, state: bool = False, per_part: Any = None) -> list:
        dask = import_dask()
        d = self.data
        return [
            dask.delayed(fn, pure=True)(
                b,
                w,
                *((self.state[p],) if state else ()),
                *args,
                *((per_part(p),) if per_part else ()),
            )
            for p, (b, w) in enumerate(zip(d.blocks, d.weights, strict=True))
        ]

    def chunk_weights(self) -> np.ndarray:
        dask = import_dask()
        return np.concatenate(dask.compute(*self._tasks(_block_chunk_weights)))

    def chunk_row_weights(self, chunk: int) -> np.ndarray:
        rows = self.data.part_rows()
        p = int(np.searchsorted(rows, chunk * CHUNK_ROWS, side="right")) - 1
        local = chunk * CHUNK_ROWS - int(rows[p])
        dask = import_dask()
        task = dask.delayed(_block_row_weights)(self.data.blocks[p], self.data.weights[p], local)
        return task.compute()

    def take_rows(self, indices: np.ndarray) -> np.ndarray:
        return self.backend.take(self.data, indices)[0]

    def update(self, cands: np.ndarray, offset: int, reset: bool) -> np.ndarray:
        dask = import_dask()
        cands = dask.delayed(np.ascontiguousarray(cands, dtype=self.dtype))
        self.state = list(
            dask.persist(*self._tasks(_block_update, cands, offset, reset, state=True))
        )
        phis = [dask.delayed(_phi_of, pure=True)(s) for s in self.state]
        return np.concatenate(dask.compute(*phis))

    def draw(self, seed: int, rnd: int, phi: float, oversampling: float) -> np.ndarray:
        dask = import_dask()
        rows = self.data.part_rows()
        tasks = [
            dask.delayed(_block_draw, pure=True)(b, w, s, seed, rnd, int(start), phi, oversampling)
            for b, w, s, start in zip(
                self.data.blocks, self.data.weights, self.state, rows[:-1], strict=True
            )
        ]
        return np.concatenate(dask.compute(*tasks))

    def owner_weights(self, n_candidates: int) -> np.ndarray:
        dask = import_dask()
        parts = dask.compute(
            *self._tasks(_block_owner, n_candidates, state=True, per_part=self.data.bounds)
        )
        total = np.zeros(n_candidates)
        for group in (g for part in parts for g in part):  # groups in index order
            total += group
        return total


def kmeans_parallel_dask(data: DaskData, n_clusters: int, seed: int | None) -> np.ndarray:
    """k-means|| centres on Dask: the same as ``_init.kmeans_parallel`` in memory for
    the same seed, without collecting the rows."""
    from kmeanskit._init import kmeans_plusplus
    from kmeanskit._init_parallel import kmeans_parallel

    source = DaskRows(data, DaskBackend())
    rs = np.random.RandomState(seed)
    return kmeans_parallel(source, n_clusters, rs, kmeans_plusplus)[0]


# -- lazy predict / transform ----------------------------------------------------------


def _predict_block(X, centers):
    return G.group_pass(X, None, centers, None, False)[0]


def _transform_block(X, centers):
    return np.sqrt(G.sq_distances(X, centers)).astype(X.dtype, copy=False)


def _aligned(X: Any) -> Any:
    """X with row chunks of whole 256-row chunks (each row lands where the in-memory
    pass puts it in its chunk: the same GEMM tile, the same bits) and one column chunk."""
    rows = max(256, -(-int(max(X.chunks[0])) // 256) * 256)
    return X.rechunk({0: rows, 1: -1})


def predict_lazy(X: Any, centers: np.ndarray) -> Any:
    """Labels of a dask array under ``centers``: a lazy int32 dask array."""
    X = _aligned(X)
    return X.map_blocks(_predict_block, centers, dtype=np.int32, drop_axis=1)


def transform_lazy(X: Any, centers: np.ndarray) -> Any:
    """Distances of a dask array's rows to ``centers``: a lazy dask array."""
    k = centers.shape[0]
    return X.rechunk({1: -1}).map_blocks(
        _transform_block, centers, dtype=X.dtype, chunks=(X.chunks[0], (k,))
    )


# -- input checks (the estimator's validate_data would compute the collection) ---------


def as_dask_array(X: Any, *, check_finite: bool) -> tuple[Any, list | None]:
    """A 2-D float32/float64 dask array with known chunk sizes, and the column names
    of a dask DataFrame (None for an array).

    Raises
    ------
    ValueError
        Not 2-D, not numeric, or (``check_finite``) NaN or infinity in X: one pass.
    """
    import_dask()
    import dask.array as da

    names = None
    if hasattr(X, "columns") and not hasattr(X, "chunks"):
        names = [str(c) if not isinstance(c, str) else c for c in X.columns]
        if not all(isinstance(c, str) for c in X.columns):
            names = None
        X = X.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise ValueError(f"Expected a dask array or DataFrame, got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array, got {X.ndim}-D: reshape it to (n_samples, n_features)."
        )
    if X.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise ValueError(
                f"X has dtype {X.dtype}: KMeans needs numbers; drop or encode the text columns."
            )
        X = X.astype(np.float64)
    if any(np.isnan(c) for axis in X.chunks for c in axis):
        X = X.compute_chunk_sizes()
    if check_finite and not bool(da.isfinite(X).all().compute()):
        raise ValueError("X contains NaN or infinity: remove or impute those values first.")
    return X, names
