"""How close the dense assignment pass gets to the GEMM it is built on.

For each (n, d, k): the float32 GEMM rate of a square 4096^3 product (the machine's
peak as numpy sees it), of the GEMM shape the pass actually runs (the k centres against
one chunk of ``CHUNK_ROWS`` rows, inner dimension d, one BLAS thread per kernel thread),
and of kmeanskit's whole dense pass (scores, argmin, exact distances and the update's
sums; ``algorithm="lloyd"``, every row scored), all on the same thread count in one
run. A pass can only reach the square rate if BLAS reaches it on the chunk's shape.

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
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402

from kmeanskit._config import CHUNK_ROWS, thread_limits  # noqa: E402
from kmeanskit.backends.local import LocalBackend  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

ROWS = [(200_000, 64, 256), (100_000, 128, 1024), (1_000_000, 64, 256), (200_000, 32, 4096)]


def chunk_gemm_gflops(d: int, k: int, threads: int, seconds: float = 1.0) -> float:
    """Rate of ``centers @ chunk.T`` (k x d times d x CHUNK_ROWS), one BLAS thread per
    worker, ``threads`` workers at once (as the pass runs them)."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((k, d), dtype=np.float32)
    chunks = [rng.standard_normal((CHUNK_ROWS, d), dtype=np.float32) for _ in range(threads)]
    outs = [np.empty((k, CHUNK_ROWS), dtype=np.float32) for _ in range(threads)]
    reps = max(10, int(seconds * 2e11 / (2 * k * d * CHUNK_ROWS * threads)))

    def work(w: int) -> None:
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
    print(
        "| n | d | k | square sgemm GFLOP/s | chunk-shaped sgemm GFLOP/s (% of square) "
        "| kmeanskit dense pass GFLOP/s (% of square, % of chunk-shaped) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, d, k in ROWS:
        chunk = chunk_gemm_gflops(d, k, t)
        dense = dense_pass_gflops(n, d, k, t)
        print(
            f"| {n} | {d} | {k} | {square:.0f} | {chunk:.0f} ({100 * chunk / square:.0f}%) "
            f"| {dense:.0f} ({100 * dense / square:.0f}%, {100 * dense / chunk:.0f}%) |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
