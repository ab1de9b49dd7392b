"""Compiling the kernels ahead of use, and saying so while it happens.

numba compiles a kernel the first time it runs with a given dtype, and caches the
machine code on disk (``cache=True``), so only the first process in an environment pays.
``kernels_ready`` tells whether that has happened; ``precompile`` does it now (the
explorer at start-up; a wheel build, see ``hatch_build.py``, for every public path).
"""

from __future__ import annotations

import time

import numpy as np

from kmeanskit._arrays import KERNEL_DTYPES


def kernels_ready(dtype: str | np.dtype = "float64") -> bool:
    """Whether the kernels for ``dtype`` are compiled and cached for this machine.

    Parameters
    ----------
    dtype : {"float64", "float32"}

    Returns
    -------
    bool
        False when the next fit on data of this dtype compiles kernels first (the
        first use in an environment, or after numba's cache was cleared).
    """
    from kmeanskit._kernels.cache import cached_for

    return cached_for(np.dtype(dtype))


def _default_paths(X: np.ndarray) -> None:
    """A default fit, predict and trace: what a first session runs."""
    from kmeanskit._estimator import KMeans
    from kmeanskit._trace import trace

    KMeans(4, random_state=0).fit(X).predict(X)
    trace(X, 4, random_state=0)


def _every_path(X: np.ndarray, y: np.ndarray) -> None:
    """Every public path that runs kernels, once."""
    from kmeanskit import metrics
    from kmeanskit._estimator import KMeans, k_means, kmeans_plusplus
    from kmeanskit._minibatch import MiniBatchKMeans

    _default_paths(X)
    for algorithm in ("lloyd", "hamerly", "yinyang", "auto"):
        km = KMeans(4, random_state=0, algorithm=algorithm, n_init=1).fit(X)
        km.predict(X)
        km.transform(X)
        km.score(X)
    KMeans(4, random_state=0, init="k-means||", n_init=1).fit(X)
    for init in ("random", "farthest", "afk-mc2"):
        KMeans(4, random_state=0, init=init, n_init=1).fit(X)
    batches = MiniBatchKMeans(4, random_state=0, batch_size=256, n_init=1).fit(X)
    batches.partial_fit(X)
    batches.predict(X)
    kmeans_plusplus(X, 4, random_state=0)
    k_means(X, 4, random_state=0, n_init=1)
    metrics.silhouette(X, y)


def precompile(dtypes: tuple[str, ...] = ("float64",), *, every_path: bool = False) -> float:
    """Compile (or load from numba's cache) the kernels, announcing it first when they
    are not cached yet.

    Parameters
    ----------
    dtypes : tuple of {"float64", "float32"}
    every_path : bool, default=False
        False: what a default fit, ``predict`` and ``trace`` use (seconds). True: every
        public path (each algorithm and init, MiniBatchKMeans, k-means||, metrics),
        also on data large enough for the sampled search and the parallel seeding.

    Returns
    -------
    float
        Seconds it took.
    """
    from kmeanskit.datasets import make_blobs

    start = time.perf_counter()
    for name in dtypes:
        dtype = np.dtype(name)
        if dtype not in KERNEL_DTYPES:
            names = tuple(kernel.name for kernel in KERNEL_DTYPES)
            raise ValueError(f"dtype={name!r}: the kernels are compiled for {names}.")
        X, y = make_blobs(600, 2, 4, random_state=0, dtype=dtype)
        if not every_path:
            _default_paths(X)
            continue
        _every_path(X, y)
        X, y = make_blobs(30_000, 16, 40, random_state=0, dtype=dtype)
        _every_path(X, y)
    return time.perf_counter() - start
