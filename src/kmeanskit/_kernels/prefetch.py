"""Software prefetch of rows, where the hardware prefetcher falls behind.

A bounded pass (Hamerly) does a few dozen instructions per row with unpredictable
branches between the loads: perf showed a 1M x 16 float32 pass stalled on the first load
of each row, and asking for the row 4 KiB ahead made the kernel, timed alone, 1.4x
faster (in ``benchmarks/bench_lloyd.py``, algorithm='auto' per iteration at 1M x 16 x 16 went
from 0.0221 to 0.0191 s). The k-means++ gains pass visits a list of scattered rows and
asks for the whole row four rows ahead. The hints change no result.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: How far ahead of the current row to prefetch (bytes of rows).
PREFETCH_BYTES = 4096

_I8_PTR = ir.IntType(8).as_pointer()
# LLVM names the intrinsic after its pointer type: ".p0" with opaque pointers (what
# recent llvmlite emits), ".p0i8" with typed ones.
_NAME = "llvm.prefetch.p0" if str(_I8_PTR) == "ptr" else "llvm.prefetch.p0i8"


@intrinsic
def prefetch_item(typingctx, X, i, j):
    """Hint that ``X[i, j]`` (2-D ``X``) will be read soon. No bounds check: callers pass
    a valid position."""
    if not (
        isinstance(X, types.Array)
        and X.ndim == 2
        and isinstance(i, types.Integer)
        and isinstance(j, types.Integer)
    ):
        return None
    sig = types.void(X, i, j)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        column = context.cast(builder, args[2], signature.args[2], types.intp)
        pointer = cgutils.get_item_pointer(
            context, builder, array_type, array, [row, column], wraparound=False
        )
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_I8_PTR, i32, i32, i32]), _NAME
        )
        # read (0), keep in all cache levels (3), data cache (1)
        builder.call(
            function,
            [
                builder.bitcast(pointer, _I8_PTR),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always")
def prefetch_row(X, i):
    """Hint that row ``i`` of ``X`` will be read soon (its first cache line; the
    hardware prefetcher follows a row once it is being read)."""
    prefetch_item(X, i, 0)


@njit(inline="always")
def prefetch_whole_row(X, i):
    """Hint that all of row ``i`` of ``X`` will be read soon: for rows visited out of
    order (a list of scattered rows), where the hardware cannot guess the next one."""
    step = max(1, 64 // X.itemsize)
    for j in range(0, X.shape[1], step):
        prefetch_item(X, i, j)
