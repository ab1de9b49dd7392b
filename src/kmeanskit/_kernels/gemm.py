"""The GEMM of the assignment kernel: Intel MKL's when it is installed, else numba's BLAS.

numba's ``np.dot`` calls scipy's OpenBLAS. With the short inner dimension of a K-means
score tile (the number of features) OpenBLAS runs the kernel's product (256 rows against
the centres) at 62-64% of the square-matrix rate at d = 64 and 42% at d = 32; MKL at
94-96% and 85% (``benchmarks/bench_gemm_ceiling.py``, 2 threads, this project's AVX-512
machine). So when the optional ``mkl`` package is installed
(``pip install kmeanskit[mkl]``), the kernel calls MKL's ``cblas_?gemm`` through its
address, on the calling thread:

* MKL is loaded from ``libmkl_rt`` with the *sequential* threading layer, set before its
  first call (each numba thread runs its own GEMMs; MKL must not start threads of its
  own). That setting is global to the library, so kmeanskit leaves MKL alone when
  something in the process loaded it first (numpy built on MKL, for one): its threaded
  GEMM stays threaded, and kmeanskit uses numba's BLAS.
* Conditional numerical reproducibility (``MKL_CBWR_AUTO``, strict) makes its results
  independent of the buffers' alignment, so fits stay bit-for-bit reproducible.

Measured on whole assignment passes (float32 and float64, d = 5 to 128, k = 16 to 4096):
MKL's were 1.1-1.35x faster than OpenBLAS's on every shape, with the same labels. The
GEMM only ranks the centres (distances, inertia and sums are computed exactly without
it), so the two give the same fit except where two centres score within rounding of
each other, a near tie either answer resolves correctly to the data's precision.

Only the assignment kernel calls it. The centres' nearest-neighbour GEMM (bounds, the
search's breathe-out) and k-means||'s keep numba's BLAS: they pick by GEMM scores
without an exact rescoring, so with MKL their choices would depend on which BLAS ran.

``KMEANSKIT_GEMM=openblas`` in the environment turns MKL off (read once, at first use).
The address is passed to the kernels as an argument, never compiled in, so numba's
on-disk cache stays valid from one process to the next.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic
from threadpoolctl import threadpool_info

_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_CBWR_AUTO_STRICT = 2 | 0x10000  # MKL_CBWR_AUTO | MKL_CBWR_STRICT
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _mkl_paths() -> list[str]:
    """Where the ``mkl`` wheel puts ``libmkl_rt`` (the environment's lib folder), then
    the system's library path."""
    lib = Path(sys.prefix) / "lib"
    paths = [str(lib / name) for name in ("libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so")]
    found = ctypes.util.find_library("mkl_rt")
    return [p for p in paths if Path(p).exists()] + ([found] if found else [])


def _load_mkl() -> tuple[int, int, str] | None:
    """``(sgemm address, dgemm address, version)`` of a usable MKL, or None."""
    if os.environ.get("KMEANSKIT_GEMM", "auto").lower() == "openblas":
        return None
    if any(info.get("internal_api") == "mkl" for info in threadpool_info()):
        return None  # loaded by another library, maybe threaded: not ours to change
    for path in _mkl_paths():
        try:
            rt = ctypes.CDLL(path)
            if rt.MKL_Set_Threading_Layer(ctypes.c_int(_SEQUENTIAL)) != _SEQUENTIAL:
                return None  # another library runs MKL threaded: leave it alone
            rt.MKL_CBWR_Set(ctypes.c_int(_CBWR_AUTO_STRICT))
            buf = ctypes.create_string_buffer(256)
            rt.MKL_Get_Version_String(buf, ctypes.c_int(len(buf)))
            address = [
                ctypes.cast(f, ctypes.c_void_p).value for f in (rt.cblas_sgemm, rt.cblas_dgemm)
            ]
        except (OSError, AttributeError):
            continue
        return int(address[0]), int(address[1]), buf.value.decode(errors="replace").strip()
    return None


@functools.cache
def _mkl() -> tuple[int, int, str] | None:
    """MKL, loaded (and its threading layer set) on first use, never at import:
    importing kmeanskit changes no library's global state."""
    return _load_mkl()


def gemm_address(dtype: np.dtype) -> int:
    """What the kernels' ``gemm`` argument should be for data of this dtype: the address
    of MKL's ``cblas_sgemm`` / ``cblas_dgemm``, or 0 for numba's BLAS."""
    mkl = _mkl()
    if mkl is None:
        return 0
    return mkl[0] if np.dtype(dtype) == np.float32 else mkl[1]


def provider() -> str:
    """Which GEMM the assignment kernel runs, in words (for benchmark headers)."""
    mkl = _mkl()
    if mkl is None:
        return "numba's BLAS (scipy's OpenBLAS)"
    return f"{mkl[2]}, sequential"


@intrinsic
def _cblas_gemm_nt(typingctx, address, m, n, k, a, b, c, alpha):
    """``cblas_?gemm(RowMajor, NoTrans, Trans, m, n, k, alpha, a, k, b, k, 0, c, n)``
    through the function at ``address``; ``a``, ``b``, ``c`` are data addresses and
    ``alpha``'s type (float32 or float64) picks sgemm or dgemm's signature."""
    sig = types.void(address, m, n, k, a, b, c, alpha)

    def codegen(context, builder, signature, args):
        address, m, n, k, a, b, c, alpha = args
        i32 = ir.IntType(32)
        real = context.get_value_type(signature.args[7])
        byte_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(
            ir.VoidType(),
            [i32, i32, i32, i32, i32, i32, real, byte_ptr, i32, byte_ptr, i32, real, byte_ptr, i32],
        )
        fn = builder.inttoptr(address, fnty.as_pointer())
        m32, n32, k32 = (builder.trunc(v, i32) for v in (m, n, k))
        builder.call(
            fn,
            [
                ir.Constant(i32, _ROW_MAJOR),
                ir.Constant(i32, _NO_TRANS),
                ir.Constant(i32, _TRANS),
                m32,
                n32,
                k32,
                alpha,
                builder.inttoptr(a, byte_ptr),
                k32,
                builder.inttoptr(b, byte_ptr),
                k32,
                ir.Constant(real, 0.0),
                builder.inttoptr(c, byte_ptr),
                n32,
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, inline="always")
def dots_nt(gemm, a, b, m, out):
    """``out = a @ b[:m].T`` (``a`` (k, d) and ``b`` (>= m, d) C-contiguous, ``out``
    (k, m) C-contiguous): MKL's GEMM at address ``gemm``, or ``np.dot`` when it is 0."""
    if gemm == 0:
        np.dot(a, b[:m].T, out)
    else:
        _cblas_gemm_nt(
            np.uintp(gemm),
            np.intp(a.shape[0]),
            np.intp(m),
            np.intp(a.shape[1]),
            a.ctypes.data,
            b.ctypes.data,
            out.ctypes.data,
            a.dtype.type(1),
        )
