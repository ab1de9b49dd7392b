"""Default-settings fit, end to end: ``kmeanskit.KMeans(k)`` vs ``sklearn.cluster.KMeans(k)``.

Both with their defaults (greedy k-means++, one run, tol=1e-4) and the same
random_state, on the same data, in one run; prints a markdown table with the wall
time, the share of it spent seeding (kmeanskit's ``history_`` / timing of
``kmeans_plusplus``), the final inertia (float64, computed the same way for both)
and the ratios. Run with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402
from bench_lloyd import inertia64  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

ROWS = [(100_000, 2, 8), (100_000, 16, 64), (200_000, 64, 256), (1_000_000, 16, 16)]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(machine_header(threads=2, gflops=sgemm_gflops(threads=2), loadavg=None))
    print(
        "| n | d | k | kmeanskit s (seeding s) | sklearn s (seeding s) | speed-up | "
        "inertia kmeanskit / sklearn |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, d, k in ROWS:
        X, _ = make_blobs(n, d, k, random_state=0, dtype=np.float32)
        kmeanskit.KMeans(k, random_state=args.seed).fit(X[:5000])  # compile
        ours, t_ours = timed(kmeanskit.KMeans(k, random_state=args.seed).fit, X)
        _, seed_ours = timed(kmeanskit.kmeans_plusplus, X, k, random_state=args.seed)
        theirs, t_theirs = timed(SkKMeans(k, random_state=args.seed).fit, X)
        _, seed_theirs = timed(sk_kmeans_plusplus, X, k, random_state=args.seed)
        ratio = inertia64(X, ours.cluster_centers_) / inertia64(X, theirs.cluster_centers_)
        print(
            f"| {n} | {d} | {k} | {t_ours:.3f} ({seed_ours:.3f}) | {t_theirs:.3f} "
            f"({seed_theirs:.3f}) | {t_theirs / t_ours:.2f} | {ratio:.4f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
