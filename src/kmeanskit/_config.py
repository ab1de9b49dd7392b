"""Tunables and thread control.

Everything that decides *how data is cut* lives here, and none of it depends on the
number of threads: that is what makes results bit-identical for any ``n_threads``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

#: Rows per chunk: the unit of work of every kernel. Fixed, never derived from threads.
#: numba compiles it into the kernels as a constant and its on-disk cache does not see
#: a change here: after editing it, delete the cached ``*.nbi`` / ``*.nbc`` files.
CHUNK_ROWS = 256

#: Most row groups a pass is cut into. Each group owns one float64 (k, d) accumulator
#: and the groups are summed in index order, so this caps both the parallelism of a
#: pass and the memory of its partial sums.
MAX_GROUPS = 64

#: Memory allowed for the per-group partial sums of one pass (bytes): this, or an eighth
#: of the data's size as float32 if that is more, so that a large k x d still gets
#: several groups (and threads) when the data is large enough to pay for them.
GROUP_SUMS_BUDGET = 16 * 2**20


def use_gemm_for(n_features: int, n_clusters: int) -> bool:
    """Whether the assignment scores a chunk with a BLAS GEMM (else a direct loop).

    Measured on AVX-512: the direct loop wins for a handful of features, where a GEMM
    with an inner dimension of 2-8 spends its time packing; GEMM wins from d ~ 8 up.
    """
    return not (n_features <= 4 or (n_features <= 8 and n_clusters >= 128))


#: Memory Yinyang's per-group bounds may take (bytes): this plus an eighth of the data.
BOUND_GROUPS_BUDGET = 8 * 2**20

#: Centres per group of Yinyang's bounds. Ding et al. advise 10; here the rows the
#: bounds cannot place are scored together (a GEMM or a loop vectorised over rows), so
#: a score costs less than a bound's upkeep does, and fewer groups measured faster
#: (development measurement, 100k x 2, k = 1000, end to end: 16 groups 335 ms, 100
#: groups 641 ms).
CENTERS_PER_BOUND_GROUP = 64


def bound_groups_for(n_samples: int, n_clusters: int, n_features: int, itemsize: int) -> int:
    """Centre groups of Yinyang's bounds (one float32 per row and group): one per
    ``CENTERS_PER_BOUND_GROUP`` centres, fewer where their memory would exceed the
    budget; at least 1 (which is Hamerly's single bound)."""
    budget = BOUND_GROUPS_BUDGET + n_samples * max(n_features, 1) * itemsize // 8
    by_memory = budget // (4 * max(n_samples, 1))
    return int(max(1, min(n_clusters // CENTERS_PER_BOUND_GROUP, by_memory)))


def n_groups_for(n_samples: int, n_clusters: int, n_features: int) -> int:
    """Number of row groups for a pass over ``n_samples`` rows (thread independent)."""
    n_chunks = max(1, -(-n_samples // CHUNK_ROWS))
    per_group = 8 * n_clusters * max(n_features, 1)
    budget = max(GROUP_SUMS_BUDGET, n_samples * max(n_features, 1) * 4 // 8)
    by_memory = max(1, budget // per_group)
    return int(min(n_chunks, MAX_GROUPS, by_memory))


def max_threads() -> int:
    """The most threads numba may use in this process (``NUMBA_NUM_THREADS``)."""
    return int(numba.config.NUMBA_NUM_THREADS)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_n_threads(n_threads: int | None) -> int:
    """Turn the user's ``n_threads`` into a usable count.

    ``None`` means every core this process may run on (at most ``NUMBA_NUM_THREADS``);
    ``-1`` every thread numba was started with, ``-m`` all but ``m - 1`` of them. A
    count above numba's is clamped: results do not depend on the thread count, so
    clamping changes only speed.
    """
    limit = max_threads()
    if n_threads is None:
        return min(limit, _usable_cores())
    if n_threads == -1:
        return limit
    if (
        isinstance(n_threads, bool)
        or not isinstance(n_threads, (int, np.integer))
        or n_threads == 0
    ):
        raise ValueError(
            f"n_threads={n_threads!r} is not valid; pass a positive count, None for all "
            "cores, or a negative count -m for all cores but m - 1 (joblib's meaning)."
        )
    if n_threads < 0:
        return int(max(1, limit + 1 + n_threads))
    return int(min(n_threads, limit))


@contextlib.contextmanager
def numba_threads(n_threads: int) -> Iterator[None]:
    """Run numba kernels on ``n_threads`` threads; the previous count is restored on exit,
    even when the body raises. For kernels that call no BLAS (see ``thread_limits``)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@contextlib.contextmanager
def thread_limits(n_threads: int) -> Iterator[None]:
    """Run numba kernels on ``n_threads`` threads with BLAS on one thread each.

    The previous numba thread count and BLAS limits are restored on exit, even when
    the body raises.
    """
    with numba_threads(n_threads), _blas_controller().limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The BLAS libraries to limit, found once: scanning the process's libraries costs
    milliseconds, more than a whole fit of a small data set."""
    # numba's np.dot calls scipy's BLAS; load it first so the controller sees it too.
    import scipy.linalg.cython_blas  # noqa: F401

    return ThreadpoolController()
