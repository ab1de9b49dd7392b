"""Default-settings fit, end to end: every library as a user calls it, side by side.

Contenders, each with its own defaults and ``random_state`` / seed 0..S-1, on the same
float32 data in one run:

* ``kmeanskit`` — ``kmeanskit.KMeans(k)``: greedy k-means++, Lloyd, then the global
  search (``search="auto"``), on a sample of ``max(20000, 256 k)`` rows when the data is
  larger (``search_size="auto"``), then Lloyd on every row;
* ``kmeanskit search_size=None`` — the same with the seeding and search on every row;
* ``kmeanskit search=None`` — the same without the search (scikit-learn's behaviour);
* ``sklearn`` — ``sklearn.cluster.KMeans(k)``: greedy k-means++, one Lloyd run;
* ``faiss`` — ``faiss.Kmeans(d, k)`` (``niter=25``, random initial rows, at most 256
  training rows per centroid), when faiss-cpu is installed.

For each: the fastest of ``--repeats`` fits per seed (the libraries alternate; the machine
is shared), averaged over the seeds, and mean inertia (float64, every row to its
nearest centre, computed the same way for all) relative to the lowest inertia any
contender reached on that row (the best known). Prints markdown; asserts nothing. Run
with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``.

    python benchmarks/bench_default_fit.py [--seeds 3] [--repeats 3] [--rows 100000x2x8,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans as SkKMeans

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402
from bench_lloyd import inertia64  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

ROWS = [(100_000, 2, 8), (100_000, 16, 64), (200_000, 64, 256), (1_000_000, 16, 16)]


def contenders() -> dict[str, Callable[[np.ndarray, int, int], np.ndarray]]:
    """name -> fit(X, k, seed) returning the centres."""

    def ours(X, k, seed):
        return kmeanskit.KMeans(k, random_state=seed).fit(X).cluster_centers_

    def ours_all_rows(X, k, seed):
        return kmeanskit.KMeans(k, random_state=seed, search_size=None).fit(X).cluster_centers_

    def ours_plain(X, k, seed):
        return kmeanskit.KMeans(k, random_state=seed, search=None).fit(X).cluster_centers_

    def sklearn(X, k, seed):
        return SkKMeans(k, random_state=seed).fit(X).cluster_centers_

    out = {
        "kmeanskit": ours,
        "kmeanskit search_size=None": ours_all_rows,
        "kmeanskit search=None": ours_plain,
        "sklearn": sklearn,
    }
    try:
        import faiss
    except ImportError:
        return out

    def run_faiss(X, k, seed):
        km = faiss.Kmeans(X.shape[1], k, seed=seed)
        km.train(X)
        return km.centroids

    out["faiss"] = run_faiss
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--repeats", type=int, default=3, help="fits per seed and library; the fastest counts"
    )
    parser.add_argument("--rows", default=None, help="e.g. 100000x2x8,200000x64x256")
    args = parser.parse_args(argv)
    rows = ROWS
    if args.rows:
        rows = [tuple(int(v) for v in r.split("x")) for r in args.rows.split(",")]
    warnings.simplefilter("ignore")
    threads = os.cpu_count() or 1
    print(machine_header(threads=threads, gflops=sgemm_gflops(threads=threads), loadavg=None))
    print(f"\nCommand: `{' '.join(['python', *sys.argv])}`; seeds 0..{args.seeds - 1}.\n")
    fits = contenders()
    names = list(fits)
    peers = [p for p in ("sklearn", "faiss") if p in names]
    print(
        "| n | d | k | "
        + " | ".join(f"{n} s | {n} inertia / best" for n in names)
        + "".join(f" | {p} s / kmeanskit s" for p in peers)
        + " |"
    )
    print("|---:|---:|---:|" + "---:|---:|" * len(names) + "---:|" * len(peers))
    for n, d, k in rows:
        X, _ = make_blobs(n, d, k, random_state=0, dtype=np.float32)
        for fit in fits.values():  # compile, warm the thread pools
            fit(X[:5000], min(k, 50), 0)
        seconds: dict[str, list[float]] = {name: [] for name in names}
        inertia: dict[str, list[float]] = {name: [] for name in names}
        for seed in range(args.seeds):
            walls: dict[str, list[float]] = {name: [] for name in names}
            centers_of: dict[str, np.ndarray] = {}
            for _ in range(args.repeats):  # the libraries alternate within each repeat
                for name, fit in fits.items():
                    start = time.perf_counter()
                    centers_of[name] = fit(X, k, seed)
                    walls[name].append(time.perf_counter() - start)
            for name in names:
                seconds[name].append(min(walls[name]))
                inertia[name].append(inertia64(X, np.asarray(centers_of[name], dtype=np.float64)))
        best = min(min(v) for v in inertia.values())
        cells = [
            f"{np.mean(seconds[name]):.3f} | {np.mean(inertia[name]) / best:.4f}" for name in names
        ]
        cells += [f"{np.mean(seconds[p]) / np.mean(seconds['kmeanskit']):.2f}" for p in peers]
        print(f"| {n} | {d} | {k} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
