"""Arrays as the kernels take them, so that each kernel compiles once per dtype.

numba compiles a kernel again for every new combination of argument types, and a
read-only array, a strided view or an integer array is a type of its own: one
``np.memmap`` opened read-only would compile every kernel a second time. Inputs are
therefore converted here, in Python, before any kernel sees them.
"""

from __future__ import annotations

import numpy as np

from kmeanskit._kernels.cache import announce_compile

#: The dtypes the kernels are compiled for; any other input becomes float64.
KERNEL_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class _WriteableAlias:
    """Exposes read-only memory to numpy as writeable, keeping its owner alive."""

    def __init__(self, array: np.ndarray) -> None:
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface
        self.base = array


def kernel_array(X: np.ndarray, dtype: np.dtype | type | None = None) -> np.ndarray:
    """``X`` C-contiguous, writeable, in ``dtype`` (default: X's own if it is float32 or
    float64, else float64), without a copy when X is already so but read-only.

    The kernels never write to their inputs: a read-only ``X`` (a memmap, a joblib
    argument) is passed as a writeable alias of the same memory, not copied. The first
    input of a dtype whose kernels are not compiled yet logs that they are about to be
    (``_kernels.cache.announce_compile``).
    """
    if dtype is None:
        dtype = X.dtype if X.dtype in KERNEL_DTYPES else np.float64
    X = np.ascontiguousarray(X, dtype=dtype)
    if not X.flags.writeable:
        X = np.asarray(_WriteableAlias(X))
    announce_compile(X.dtype)
    return X
