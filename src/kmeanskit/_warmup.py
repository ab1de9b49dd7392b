"""Compiling the kernels ahead of use, and saying so while it happens.

numba compiles a kernel the first time it runs with a given dtype, and caches the
machine code on disk (``cache=True``), so only the first process in an environment pays.
``kernels_ready`` tells whether that has happened; ``precompile`` does it now.
"""

from __future__ import annotations

import time

import numpy as np

#: Dtypes the kernels are compiled for: every input is converted to one of them.
KERNEL_DTYPES = ("float64", "float32")


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


def precompile(dtypes: tuple[str, ...] = ("float64",)) -> float:
    """Compile (or load from numba's cache) the kernels a default fit, ``predict`` and
    ``trace`` use, for each dtype, announcing it first when it has not happened yet.

    Parameters
    ----------
    dtypes : tuple of {"float64", "float32"}

    Returns
    -------
    float
        Seconds it took.
    """
    from kmeanskit._estimator import KMeans
    from kmeanskit._kernels.cache import announce_compile
    from kmeanskit._trace import trace

    start = time.perf_counter()
    for name in dtypes:
        dtype = np.dtype(name)
        if dtype.name not in KERNEL_DTYPES:
            raise ValueError(f"dtype={name!r}: the kernels are compiled for {KERNEL_DTYPES}.")
        announce_compile(dtype)
        X = np.random.default_rng(0).normal(size=(600, 2)).astype(dtype)
        KMeans(4, random_state=0).fit(X).predict(X)
        trace(X, 4, random_state=0)
    return time.perf_counter() - start
