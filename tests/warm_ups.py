"""A stand-in for ``kmeanskit.precompile`` that the explorer tests hold and release, so
the busy state of a first start can be seen without a cold numba cache."""

from __future__ import annotations

import logging
import threading

#: The library's compile notice, as ``_kernels.cache.announce_compile`` logs it.
COMPILE_LINE = "compiling kmeanskit's float64 kernels for this machine, once (about 10 s)..."


class Blocking:
    """A warm-up that logs the library's compile line, then waits to be released (and
    raises ``error`` if given)."""

    def __init__(self, error=None):
        self.started, self.release, self.error = threading.Event(), threading.Event(), error

    def __call__(self):
        logging.getLogger("kmeanskit").warning(COMPILE_LINE)
        self.started.set()
        assert self.release.wait(60)
        if self.error is not None:
            raise self.error
        return 0.0
