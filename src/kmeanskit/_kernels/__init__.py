"""numba kernels: plain functions over arrays, outputs in caller-allocated buffers.

Every parallel kernel walks the rows in fixed chunks of ``_config.CHUNK_ROWS`` and
writes one partial result per chunk (or per fixed group of chunks); the host reduces
the partials in index order. Nothing depends on how many threads ran, so results are
bit-identical for any thread count.
"""

#: fastmath flags: reassociation and FMA contraction so reductions vectorise, but not
#: ``nnan`` / ``ninf``: NaN and inf must stay visible.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: Options of kernels that only other kernels call: no wrappers for calls from Python
#: (boxing every argument) or through a C function pointer, which numba otherwise
#: compiles for every kernel and which cost compile time, never run time.
INTERNAL = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}

#: Options of the kernels' building blocks: compiled once each (numba's own inlining
#: types the callee again at every call site, seconds each) and inlined by LLVM into
#: the caller, where the parallel loop's no-alias facts about its arrays still apply.
INLINED = {"forceinline": True, **INTERNAL}
