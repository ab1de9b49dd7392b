"""Speed and quality of greedy k-means++ seeding, side by side with scikit-learn.

For each (n, d, k) both libraries seed the same float32 Gaussian blobs
(``kmeanskit.datasets.make_blobs(n, d, k, random_state=0)``: k blobs) with the same
algorithm (greedy k-means++, ``2 + int(ln k)`` local trials), in one run, on all cores:

* **seconds**: best of ``--repeats`` timed runs with ``random_state=0``, after a warm-up
  (numba compilation, BLAS start-up) on a small slice;
* **speedup**: sklearn seconds / kmeanskit seconds (> 1: kmeanskit is faster);
* **potential ratio**: mean over ``--seeds`` seeds of the seed potential
  ``sum(min_j |x - c_j|^2)`` of kmeanskit's centres over the same mean for sklearn's;
  both potentials computed by the same float64 code. The two libraries draw their
  random numbers differently, so the centres differ; ~1.0 says the seedings are equally
  good.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_seeding.py

This is a benchmark, not a test: it asserts nothing. ``--quick`` runs smaller shapes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

#: (n_samples, n_features, n_clusters) of each grid.
GRIDS: dict[str, list[tuple[int, int, int]]] = {
    "full": [
        (200_000, 64, 256),
        (200_000, 64, 1024),
        (100_000, 16, 64),
        (1_000_000, 16, 256),
    ],
    "quick": [
        (50_000, 64, 256),
        (20_000, 16, 64),
        (100_000, 16, 256),
    ],
}


def seed_kmeanskit(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    return kmeanskit.kmeans_plusplus(X, k, random_state=seed)[0]


def seed_sklearn(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import kmeans_plusplus

    return kmeans_plusplus(X, k, random_state=seed)[0]


LIBRARIES = {"kmeanskit": seed_kmeanskit, "sklearn": seed_sklearn}


def potential(X: np.ndarray, centers: np.ndarray, chunk: int = 8192) -> float:
    """``sum(min_j |x - c_j|^2)`` in float64, a chunk of rows at a time.

    The nearest centre is found with the GEMM expansion; the distance to it is then
    recomputed directly, so the sum does not carry the expansion's cancellation.
    """
    C = centers.astype(np.float64)
    c_sq = np.einsum("ij,ij->i", C, C)
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        x = X[start : start + chunk].astype(np.float64)
        nearest = np.argmin(c_sq[None, :] - 2.0 * (x @ C.T), axis=1)
        diff = x - C[nearest]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def measure(X: np.ndarray, k: int, repeats: int, seeds: int) -> dict[str, tuple[float, float]]:
    """Per library: (best seconds over ``repeats`` runs of seed 0, mean potential)."""
    results = {}
    for name, fn in LIBRARIES.items():
        times, pots = [], []
        for r in range(repeats):
            start = time.perf_counter()
            centers = fn(X, k, 0)
            times.append(time.perf_counter() - start)
            if r == 0:
                pots.append(potential(X, centers))
        for seed in range(1, seeds):
            pots.append(potential(X, fn(X, k, seed)))
        results[name] = (min(times), float(np.mean(pots)))
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller shapes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many timed runs")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the potential ratio")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    grid = GRIDS["quick" if args.quick else "full"]
    loadavg = os.getloadavg()
    gflops_before = sgemm_gflops()
    warm = make_blobs(2_000, 8, 4, random_state=0, dtype=np.float32)[0]
    for fn in LIBRARIES.values():
        fn(warm, 8, 0)

    rows = [
        "| n | d | k | kmeanskit s | sklearn s | speedup | potential ratio (kmeanskit / sklearn) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, d, k in grid:
        X = make_blobs(n, d, k, random_state=0, dtype=np.float32)[0]
        res = measure(X, k, args.repeats, args.seeds)
        (t_ours, p_ours), (t_sk, p_sk) = res["kmeanskit"], res["sklearn"]
        rows.append(
            f"| {n:,} | {d} | {k} | {t_ours:.3f} | {t_sk:.3f} | {t_sk / t_ours:.1f}x "
            f"| {p_ours / p_sk:.4f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    gflops_after = sgemm_gflops()

    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]])
    text = "\n".join(
        [
            "# Greedy k-means++ seeding: kmeanskit vs scikit-learn",
            "",
            f"Command: `{command}`",
            "",
            machine_header(gflops=gflops_before, loadavg=loadavg),
            f"float32 GEMM after the run: {gflops_after:.1f} GFLOP/s.",
            "",
            "## Results",
            "",
            f"float32 blobs `make_blobs(n, d, k, random_state=0)`; seconds: best of "
            f"{args.repeats} runs (random_state=0); potential: mean over {args.seeds} seeds. "
            "Both libraries on all cores.",
            "",
            *rows,
            "",
        ]
    )
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
