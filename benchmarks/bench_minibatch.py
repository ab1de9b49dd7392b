"""Mini-batch k-means: ``kmeanskit.MiniBatchKMeans`` vs ``sklearn.cluster.MiniBatchKMeans``.

Same data (float32 blobs), same ``batch_size``, ``max_iter``, ``random_state`` and
defaults otherwise (k-means++ on ``3 * batch_size`` rows, early stopping after 10 steps
without improvement of the smoothed batch inertia, labels of all rows at the end), in
one run. Prints two markdown tables: the default fit (time, steps run, final inertia of
all rows in float64, computed the same way for both), and a fixed number of steps
(``max_iter=1``, no early stopping, no final labelling) for the time per step. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402
from bench_lloyd import inertia64  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

SHAPES = [(1_000_000, 16, 16), (1_000_000, 64, 256), (200_000, 64, 1024)]
SMALL = [(100_000, 16, 16), (100_000, 64, 256), (50_000, 64, 1024)]


def timed_fit(estimator, X, threads):
    # scikit-learn's kernels run on OpenMP, its sampling and gathers on BLAS-free numpy:
    # limiting OpenMP (and BLAS) gives it the same thread count as kmeanskit's n_threads.
    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        estimator.fit(X)
        return estimator, time.perf_counter() - start


def default_fit_row(X, k, batch_size, max_iter, seed, threads):
    params = dict(batch_size=batch_size, max_iter=max_iter, random_state=seed)
    ours, t_ours = timed_fit(kmeanskit.MiniBatchKMeans(k, n_threads=threads, **params), X, threads)
    theirs, t_theirs = timed_fit(SkMiniBatchKMeans(k, **params), X, threads)
    ratio = inertia64(X, ours.cluster_centers_) / inertia64(X, theirs.cluster_centers_)
    return (
        f"{t_ours:.2f} ({ours.n_steps_}) | {t_theirs:.2f} ({theirs.n_steps_}) | "
        f"{t_theirs / t_ours:.1f} | {ratio:.4f} |"
    )


def fixed_steps_row(X, k, batch_size, seed, threads):
    params = dict(
        batch_size=batch_size,
        max_iter=1,
        max_no_improvement=None,
        compute_labels=False,
        random_state=seed,
    )
    ours, t_ours = timed_fit(kmeanskit.MiniBatchKMeans(k, n_threads=threads, **params), X, threads)
    theirs, t_theirs = timed_fit(SkMiniBatchKMeans(k, **params), X, threads)
    assert ours.n_steps_ == theirs.n_steps_
    steps = ours.n_steps_
    ratio = inertia64(X, ours.cluster_centers_) / inertia64(X, theirs.cluster_centers_)
    return (
        f"{steps} | {1e3 * t_ours / steps:.2f} | {1e3 * t_theirs / steps:.2f} | "
        f"{t_theirs / t_ours:.1f} | {ratio:.4f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--small", action="store_true", help="Smaller shapes (a quick look).")
    parser.add_argument(
        "--threads", type=int, default=None, help="Threads for both libraries (default: all)."
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    shapes = SMALL if args.small else SHAPES
    data = {}
    for n, d, k in shapes:
        data[n, d, k] = make_blobs(n, d, k, random_state=0, dtype=np.float32)[0]
    X0 = data[shapes[0]]
    kmeanskit.MiniBatchKMeans(4, max_iter=1, random_state=0).fit(X0[:5000])  # compile
    SkMiniBatchKMeans(4, max_iter=1, random_state=0).fit(X0[:5000])
    print(machine_header(threads=args.threads, gflops=sgemm_gflops(threads=args.threads)))
    print(
        f"\nDefault fit: batch_size={args.batch_size}, max_iter={args.max_iter}, "
        f"random_state={args.seed}, threads={args.threads or 'all'}, early stopping on; time "
        "includes seeding and the final labels of all rows.\n"
    )
    print(
        "| n | d | k | kmeanskit s (steps) | sklearn s (steps) | speed-up | "
        "inertia kmeanskit / sklearn |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, d, k in shapes:
        X = data[n, d, k]
        row = default_fit_row(X, k, args.batch_size, args.max_iter, args.seed, args.threads)
        print(f"| {n} | {d} | {k} | {row}", flush=True)
    print(
        f"\nOne epoch of steps (max_iter=1, no early stopping, compute_labels=False), "
        f"batch_size={args.batch_size}: milliseconds per step, seeding included.\n"
    )
    print(
        "| n | d | k | steps | kmeanskit ms/step | sklearn ms/step | speed-up | "
        "inertia kmeanskit / sklearn |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, d, k in shapes:
        row = fixed_steps_row(data[n, d, k], k, args.batch_size, args.seed, args.threads)
        print(f"| {n} | {d} | {k} | {row}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
