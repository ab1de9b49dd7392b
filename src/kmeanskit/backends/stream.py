"""The streaming backend: full-batch Lloyd over rows read from disk, one group at a time.

A ``StreamedArray`` reads rows of a ``.npy`` file, a ``numpy.memmap`` or a Parquet file
into a reusable buffer with plain file reads (not through a memory map: touched mapped
pages would count in the resident set). Each pass reads the groups of the in-memory
pass (``_groups.group_starts``) in order and runs the same kernel on each, so the fit
is bit-identical to the in-memory one; resident memory is one group's buffer (at most
about 1/64 of the data, see ``_config.MAX_GROUPS``) plus the labels and the Hamerly
bounds of 'auto' / 'hamerly' (4 + 4 bytes a row; k-means|| seeding adds 12 bytes a row
while it runs). One pass per iteration (two when a cluster empties).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kmeanskit._kernels.assign import NO_BOUNDS
from kmeanskit._kernels.stats import MomentsFold
from kmeanskit.backends import Step
from kmeanskit.backends import _groups as G
from kmeanskit.backends.bounds import BoundsPlan, check_algorithm

_PARQUET = (".parquet", ".pq")


class StreamedArray:
    """Rows on disk, read in blocks: a ``.npy`` path, a ``numpy.memmap`` or a Parquet
    path (float32 when every column used is float32, else float64).

    ``KMeans().fit`` streams it (and any ``numpy.memmap``) instead of loading it.

    Parameters
    ----------
    source : str, os.PathLike or numpy.memmap
        A C-ordered 2-D ``.npy`` file or memmap, or a Parquet file.
    columns : list of str, optional
        Parquet only: the columns to use (default: all).
    """

    def __init__(self, source: Any, columns: list[str] | None = None) -> None:
        self.columns: list[str] | None = None
        self._parquet = None
        if isinstance(source, np.memmap):
            if source.ndim != 2 or not source.flags.c_contiguous or source.filename is None:
                raise ValueError("Stream a 2-D, C-ordered numpy.memmap of a file.")
            self.path, self.offset = os.fspath(source.filename), int(source.offset)
            self.shape, self.file_dtype = source.shape, source.dtype
        else:
            self.path = os.fspath(source)
            if self.path.lower().endswith(_PARQUET):
                self._open_parquet(columns)
            else:
                self._open_npy()
        self.dtype = np.dtype(
            self.file_dtype if self.file_dtype in (np.float32, np.float64) else np.float64
        )
        self.shape = (int(self.shape[0]), int(self.shape[1]))
        self.ndim = 2

    def _open_npy(self) -> None:
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            self.offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{self.path}: stream a 2-D, C-ordered array (got {shape}).")
        if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
            raise ValueError(f"{self.path}: dtype {dtype} is not numeric.")
        self.shape, self.file_dtype = shape, np.dtype(dtype)

    def _open_parquet(self, columns: list[str] | None) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'Reading Parquet needs pyarrow: pip install "kmeanskit[parquet]"'
            ) from exc
        pf = pq.ParquetFile(self.path)
        schema = pf.schema_arrow
        self.columns = list(columns) if columns else list(schema.names)
        types = [str(schema.field(c).type) for c in self.columns]
        self.file_dtype = np.dtype(np.float32 if all(t == "float" for t in types) else np.float64)
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
        self._rg_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._parquet, self._cached = pf, (-1, None)
        self.shape = (int(self._rg_starts[-1]), len(self.columns))

    def __len__(self) -> int:
        return self.shape[0]

    @staticmethod
    def memory_budget() -> int:
        """The default budget: a memmap larger than this is streamed (a quarter of RAM)."""
        return memory_budget()

    def read(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows ``start:stop`` into ``out`` (rows x d, C-contiguous); the filled view."""
        view = out[: stop - start]
        if self._parquet is not None:
            self._read_parquet(start, stop, view)
        elif self.file_dtype == self.dtype:
            with open(self.path, "rb", buffering=0) as f:
                f.seek(self.offset + start * self.shape[1] * self.dtype.itemsize)
                buf = memoryview(view.reshape(-1).view(np.uint8))
                while buf.nbytes:
                    got = f.readinto(buf)
                    if not got:
                        raise ValueError(f"{self.path} is shorter than its header says.")
                    buf = buf[got:]
        else:
            with open(self.path, "rb") as f:
                f.seek(self.offset + start * self.shape[1] * self.file_dtype.itemsize)
                raw = np.fromfile(f, dtype=self.file_dtype, count=(stop - start) * self.shape[1])
            view[...] = raw.reshape(view.shape)
        return view

    def _row_group(self, i: int) -> np.ndarray:
        if self._cached[0] != i:
            table = self._parquet.read_row_group(i, columns=self.columns)
            cols = [np.asarray(table.column(c).to_numpy(), dtype=self.dtype) for c in self.columns]
            self._cached = (i, np.column_stack(cols) if cols else np.empty((0, 0)))
        return self._cached[1]

    def _read_parquet(self, start: int, stop: int, view: np.ndarray) -> None:
        first = int(np.searchsorted(self._rg_starts, start, side="right")) - 1
        pos = start
        for i in range(first, len(self._rg_starts) - 1):
            s, e = int(self._rg_starts[i]), int(self._rg_starts[i + 1])
            if s >= stop:
                break
            lo, hi = max(pos, s), min(stop, e)
            view[lo - start : hi - start] = self._row_group(i)[lo - s : hi - s]
            pos = hi

    def take(self, indices: np.ndarray) -> np.ndarray:
        """Rows at ``indices`` (a few: one read each)."""
        out = np.empty((len(indices), self.shape[1]), dtype=self.dtype)
        row = np.empty((1, self.shape[1]), dtype=self.dtype)
        for q, i in enumerate(np.asarray(indices, dtype=np.int64)):
            out[q] = self.read(int(i), int(i) + 1, row)[0]
        return out


def memory_budget() -> int:
    """A quarter of the physical memory (4 GiB when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def is_streamed(X: Any) -> bool:
    """Whether X is read from disk in blocks rather than loaded: a ``StreamedArray``, or
    a ``numpy.memmap`` larger than ``memory_budget()`` (a smaller one is an array like
    any other, so it gets exactly the in-memory behaviour, seeding included)."""
    if isinstance(X, StreamedArray):
        return True
    return isinstance(X, np.memmap) and X.filename is not None and X.nbytes > memory_budget()


@dataclass
class StreamData:
    """One fit's file, its groups, one group's buffer and the labels (in memory)."""

    source: StreamedArray
    sample_weight: np.ndarray | None
    starts: np.ndarray
    n_clusters: int
    buffer: np.ndarray
    labels: np.ndarray  # (n,) int32, -1 before the first pass
    # The column moments of the first read, folded group by group (O(d), however many
    # rows): the variance for ``tol``.
    moments: MomentsFold | None = None
    passes: int = 0  # reads of the whole file, for the record
    lower: np.ndarray | None = None  # (n, centre groups) float32 bounds, made by a bounded pass
    plan: BoundsPlan = field(default_factory=lambda: BoundsPlan("lloyd"))

    @property
    def n_groups(self) -> int:
        return len(self.starts) - 1

    def group(self, g: int) -> tuple[np.ndarray, np.ndarray | None]:
        s, e = int(self.starts[g]), int(self.starts[g + 1])
        w = None if self.sample_weight is None else self.sample_weight[s:e]
        return self.source.read(s, e, self.buffer), w


class StreamBackend:
    """Dense Lloyd passes over a file, one group of the in-memory pass at a time."""

    name = "stream"

    def __init__(self, algorithm: str = "lloyd") -> None:
        self.algorithm = check_algorithm(algorithm)

    def prepare(self, X: Any, sample_weight: Any, n_clusters: int) -> StreamData:
        """Open the file, cut it in groups; one read checks it for NaN and infinity and
        folds the column moments (the variance for ``tol`` needs no other read)."""
        if isinstance(X, StreamData):
            return X
        source = X if isinstance(X, StreamedArray) else StreamedArray(X)
        n, d = source.shape
        starts = G.group_starts(n, n_clusters, d)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=source.dtype)
        data = StreamData(
            source=source,
            sample_weight=sample_weight,
            starts=starts,
            n_clusters=n_clusters,
            buffer=np.empty((int(np.diff(starts).max()), d), dtype=source.dtype),
            labels=np.full(n, -1, dtype=np.int32),
        )
        data.moments = MomentsFold(d)
        for g in range(data.n_groups):
            X_g, _ = data.group(g)
            if not np.isfinite(X_g).all():
                raise ValueError(
                    f"{source.path} contains NaN or infinity (rows {starts[g]}-"
                    f"{starts[g + 1]}): remove or impute those values first."
                )
            data.moments.add(*G.chunk_moments(X_g), len(X_g))
        data.passes += 1
        return data

    def begin(self, data: StreamData) -> None:
        data.labels.fill(-1)
        n, d = data.source.shape
        itemsize = np.dtype(data.source.dtype).itemsize
        data.plan = BoundsPlan.for_shape(self.algorithm, n, data.n_clusters, d, itemsize)

    def column_variance(self, data: StreamData) -> np.ndarray:
        """Per-feature variance, the same bits as ``_kernels.stats.column_variance``,
        from the moments of the first read (no other read)."""
        return data.moments.variance()

    def _pass(self, data: StreamData, centers: np.ndarray, accumulate: bool, mode: int) -> Step:
        centers = np.ascontiguousarray(centers, dtype=data.source.dtype)
        terms = data.plan.terms(centers, mode)
        shape = (data.labels.shape[0], data.plan.n_bound_groups)
        if mode != NO_BOUNDS and (data.lower is None or data.lower.shape != shape):
            data.lower = np.empty(shape, dtype=np.float32)
        steps = []
        for g in range(data.n_groups):
            X_g, w_g = data.group(g)
            s, e = int(data.starts[g]), int(data.starts[g + 1])
            lower = None if mode == NO_BOUNDS else data.lower[s:e]
            labels, step = G.group_pass(
                X_g, w_g, centers, data.labels[s:e], accumulate, mode, lower, terms
            )
            data.labels[s:e] = labels
            steps.append(step)
        data.passes += 1
        name = data.plan.ran(mode, data.plan.n_bound_groups)
        return G.pass_step(steps, data.labels, mode, data.labels.shape[0], name)

    def step(self, data: StreamData, centers: np.ndarray) -> Step:
        mode = data.plan.mode(data.labels.shape[0] * centers.shape[0] * centers.shape[1])
        step = self._pass(data, centers, accumulate=True, mode=mode)
        data.plan.done(centers, mode, step.n_changed, data.labels.shape[0])
        return step

    def labels(self, data: StreamData, centers: np.ndarray) -> tuple[np.ndarray, float]:
        step = self._pass(data, centers, accumulate=False, mode=NO_BOUNDS)
        data.plan.relabeled(centers, NO_BOUNDS)
        return step.labels, step.inertia

    def farthest(self, data: StreamData, centers: np.ndarray, m: int) -> np.ndarray:
        tops = []
        for g in range(data.n_groups):
            X_g, w_g = data.group(g)
            s, e = int(data.starts[g]), int(data.starts[g + 1])
            dist = G.assigned_distances(X_g, w_g, centers, data.labels[s:e])
            tops.append(G.top_rows(dist, s, m))
        data.passes += 1
        return G.merge_top(tops, m)

    def take(
        self, data: StreamData, indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = data.source.take(indices)
        if data.sample_weight is None:
            weights = np.ones(len(indices), dtype=rows.dtype)
        else:
            weights = data.sample_weight[indices]
        return rows, weights, data.labels[indices]

    def kmeans_parallel(self, data: StreamData, n_clusters: int, seed: int | None) -> np.ndarray:
        """k-means|| centres, read group by group: the in-memory ones for the same seed."""
        from kmeanskit._init import kmeans_plusplus
        from kmeanskit._init_parallel import GroupedRows, kmeans_parallel

        def read(g: int) -> tuple[np.ndarray, np.ndarray]:
            X_g, w_g = data.group(g)
            if w_g is None:
                w_g = np.ones(X_g.shape[0], dtype=X_g.dtype)
            return X_g, w_g

        def weights(g: int) -> np.ndarray:
            s, e = int(data.starts[g]), int(data.starts[g + 1])
            if data.sample_weight is None:
                return np.ones(e - s, dtype=data.source.dtype)
            return data.sample_weight[s:e]

        source = GroupedRows(
            read, data.starts, data.source.shape[1], data.source.dtype, data.source.take, weights
        )
        rs = np.random.RandomState(seed)
        return kmeans_parallel(source, n_clusters, rs, kmeans_plusplus)[0]
