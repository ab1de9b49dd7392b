"""How close the dense assignment pass gets to the GEMM it is built on.

For each (n, d, k): the float32 GEMM rate of a square 4096^3 product (the machine's
peak as numpy sees it), of the GEMM shape the pass actually runs (the k centres against
one chunk of ``CHUNK_ROWS`` rows, inner dimension d, one BLAS thread per kernel thread)
with numpy's BLAS and with the GEMM the kernel calls (MKL's when the ``mkl`` package is
installed, see ``kmeanskit._kernels.gemm``), and of kmeanskit's whole dense pass
(scores, argmin, exact distances and the update's sums; ``algorithm="lloyd"``, every row
scored), all on the same thread count in one run. A pass can only reach the square rate
if its GEMM reaches it on the chunk's shape.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm_ceiling.py

Prints markdown; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402

from kmeanskit._config import CHUNK_ROWS, thread_limits  # noqa: E402
from kmeanskit._kernels.gemm import dots_nt, gemm_address, provider  # noqa: E402
from kmeanskit.backends.local import LocalBackend  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

ROWS = [(200_000, 64, 256), (100_000, 128, 1024), (1_000_000, 64, 256), (200_000, 32, 4096)]


@njit(nogil=True)
def _kernel_gemm_loop(gemm, centers, chunk, out, reps):
    for _ in range(reps):
        dots_nt(gemm, centers, chunk, chunk.shape[0], out)


def chunk_gemm_gflops(d: int, k: int, threads: int, gemm: int = -1, seconds: float = 1.0) -> float:
    """Rate of ``centers @ chunk.T`` (k x d times d x CHUNK_ROWS), one BLAS thread per
    worker, ``threads`` workers at once (as the pass runs them): numpy's ``np.dot`` when
    ``gemm`` is -1, else the kernel's GEMM (``_kernels.gemm.dots_nt``) at that address."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((k, d), dtype=np.float32)
    chunks = [rng.standard_normal((CHUNK_ROWS, d), dtype=np.float32) for _ in range(threads)]
    outs = [np.empty((k, CHUNK_ROWS), dtype=np.float32) for _ in range(threads)]
    reps = max(10, int(seconds * 2e11 / (2 * k * d * CHUNK_ROWS * threads)))

    def work(w: int) -> None:
        if gemm >= 0:
            _kernel_gemm_loop(gemm, centers, chunks[w], outs[w], reps)
            return
        for _ in range(reps):
            np.dot(centers, chunks[w].T, outs[w])

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))  # warm up
        start = time.perf_counter()
        list(pool.map(work, range(threads)))
        elapsed = time.perf_counter() - start
    return 2.0 * k * d * CHUNK_ROWS * reps * threads / elapsed / 1e9


def dense_pass_gflops(n: int, d: int, k: int, threads: int, repeats: int = 3) -> float:
    X, _ = make_blobs(n, d, k, random_state=0, dtype=np.float32)
    weights = np.ones(n, dtype=np.float32)
    centers = np.ascontiguousarray(X[np.random.default_rng(1).choice(n, k, replace=False)])
    backend = LocalBackend("lloyd")
    data = backend.prepare(X, weights, k)
    best = np.inf
    with thread_limits(threads):
        for _ in range(repeats + 1):  # the first compiles and warms up
            backend.begin(data)
            start = time.perf_counter()
            backend.step(data, centers)
            best = min(best, time.perf_counter() - start)
    return 2.0 * n * k * d / best / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    t = args.threads
    square = sgemm_gflops(threads=t)
    print(machine_header(threads=t, gflops=square, loadavg=None))
    print(f"\nCommand: `python {' '.join(sys.argv)}`; {t} threads; CHUNK_ROWS = {CHUNK_ROWS}.\n")
    print(f"The kernel's GEMM: {provider()}.\n")
    print(
        "| n | d | k | square sgemm GFLOP/s | chunk-shaped sgemm, numpy's BLAS (% of square) "
        "| chunk-shaped sgemm, the kernel's GEMM (% of square) "
        "| kmeanskit dense pass GFLOP/s (% of square, % of the kernel's chunk-shaped) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    gemm = gemm_address(np.float32)
    for n, d, k in ROWS:
        numpy_chunk = chunk_gemm_gflops(d, k, t)
        chunk = chunk_gemm_gflops(d, k, t, gemm=gemm)
        dense = dense_pass_gflops(n, d, k, t)
        print(
            f"| {n} | {d} | {k} | {square:.0f} "
            f"| {numpy_chunk:.0f} ({100 * numpy_chunk / square:.0f}%) "
            f"| {chunk:.0f} ({100 * chunk / square:.0f}%) "
            f"| {dense:.0f} ({100 * dense / square:.0f}%, {100 * dense / chunk:.0f}%) |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
