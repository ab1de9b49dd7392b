"""Whether numba's on-disk cache holds the kernels for a dtype, and the one line that
says so when it does not (the first use in an environment compiles them).

The assignment kernel is the sentinel: every fit and prediction runs it, and it is
compiled in the same process as the others, so its cache entry stands for theirs.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

#: Seconds the first use of a dtype spends compiling on this project's 2-core machine
#: (``benchmarks/bench_cold_start.py``; docs/benchmarks.md has the table).
COMPILE_SECONDS = {"float64": 20, "float32": 20}

logger = logging.getLogger("kmeanskit")
_announced: set[str] = set()
_lock = threading.Lock()


def cached_for(dtype: np.dtype) -> bool:
    """Whether the assignment kernel for ``dtype`` is compiled in this process or in
    numba's cache for this machine and this version of its source."""
    from kmeanskit._kernels.assign import assign_pass

    name = np.dtype(dtype).name
    if any(sig[0].dtype.name == name for sig in assign_pass.signatures):
        return True
    cache = assign_pass._cache  # numba's FunctionCache: no public way to ask it
    try:
        index = cache._cache_file._load_index()
        codegen = assign_pass.targetctx.codegen()
        return any(
            key[0][0].dtype.name == name and cache._index_key(key[0], codegen) == key
            for key in index
        )
    except Exception:  # an unreadable or foreign index: numba recompiles, so say so
        return False


def announce_compile(dtype: np.dtype) -> None:
    """Log, once per process and dtype, that the kernels are about to compile, when
    they are not cached yet (through the ``kmeanskit`` logger, so it can be silenced)."""
    name = np.dtype(dtype).name
    if name in _announced:
        return
    with _lock:
        if name in _announced:
            return
        _announced.add(name)
        if cached_for(dtype):
            return
    seconds = COMPILE_SECONDS.get(name, COMPILE_SECONDS["float64"])
    logger.warning(
        "compiling kmeanskit's %s kernels for this machine, once (about %d s)...",
        name,
        seconds,
    )
