"""numba kernels: plain functions over arrays, outputs in caller-allocated buffers.

Every parallel kernel walks the rows in fixed chunks of ``_config.CHUNK_ROWS`` and
writes one partial result per chunk (or per fixed group of chunks); the host reduces
the partials in index order. Nothing depends on how many threads ran, so results are
bit-identical for any thread count.
"""

#: fastmath flags: reassociation and FMA contraction so reductions vectorise, but not
#: ``nnan`` / ``ninf``: NaN and inf must stay visible.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
