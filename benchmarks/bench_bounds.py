"""Which distance bounds pay: Hamerly's (one per row) against Yinyang's (one per row and
group of centres), and the dense pass, end to end to convergence.

Every algorithm starts from the same k-means++ centres (``kmeanskit.kmeans_plusplus``,
seed 0) and runs to ``tol=1e-4`` without the global search; best of ``--repeats``. The
labels and centres are the same bits for all (tested); only time and the fraction of rows
the bounds skip differ. This is the evidence for ``AUTO_YINYANG_MIN_CLUSTERS`` (when
'auto' keeps Yinyang's bounds) and ``CENTERS_PER_BOUND_GROUP``. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``; it asserts nothing.

    python benchmarks/bench_bounds.py [--rows 100000x2x1000,...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, sgemm_gflops  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.backends.bounds import BoundsPlan  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Low d with many centres (where the groups may pay), fewer centres, then GEMM shapes.
ROWS = ["birch1x1000", "100000x2x1000", "200000x4x512", "100000x2x200", "100000x8x256",
        "200000x64x256", "100000x16x1024", "100000x128x1024", "200000x32x4096"]  # fmt: skip
ALGORITHMS = ("lloyd", "hamerly", "yinyang", "auto")


def load(row: str, data_dir: Path) -> tuple[str, np.ndarray | None, int]:
    """(label, X or None when the data set is missing, k) of a ``--rows`` entry."""
    if row.startswith("birch1x"):
        path = data_dir / "sipu" / "birch1.data.gz"
        k = int(row.split("x")[1])
        if not path.exists():
            return f"birch1, k={k}", None, k
        X = np.ascontiguousarray(np.loadtxt(path), dtype=np.float64)
        return f"birch1 (100k x 2 float64), k={k}", X, k
    n, d, k = (int(v) for v in row.split("x"))
    X, _ = make_blobs(n, d, k, random_state=0, dtype=np.float32)
    return f"blobs {n // 1000}k x {d} float32, k={k}", X, k


def fit(X: np.ndarray, init: np.ndarray, algorithm: str, threads: int) -> kmeanskit.KMeans:
    est = kmeanskit.KMeans(
        init.shape[0], init=init, n_init=1, tol=1e-4, max_iter=300, search=None,
        algorithm=algorithm, n_threads=threads,
    )  # fmt: skip
    return est.fit(X)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(machine_header(threads=args.threads, gflops=sgemm_gflops(threads=args.threads)))
    print(f"\nCommand: `{' '.join(['python', *sys.argv])}`; best of {args.repeats}.\n")
    print(
        "| data | "
        + " | ".join(f"{a} s (skipped)" for a in ALGORITHMS)
        + " | groups | iters | hamerly s / yinyang s |"
    )
    print("|---|" + "---:|" * (len(ALGORITHMS) + 3))
    for row in args.rows.split(","):
        label, X, k = load(row, args.data_dir)
        if X is None:
            print(f"| {label} | data set missing |" + " |" * (len(ALGORITHMS) + 2))
            continue
        init = kmeanskit.kmeans_plusplus(X, k, random_state=0)[0]
        for algorithm in ALGORITHMS:  # compile and warm up on a slice
            fit(np.ascontiguousarray(X[: max(4 * k, 5000)]), init, algorithm, args.threads)
        best: dict[str, tuple[float, kmeanskit.KMeans]] = {}
        for _ in range(args.repeats):
            for algorithm in ALGORITHMS:  # alternate: the machine is shared
                start = time.perf_counter()
                est = fit(X, init, algorithm, args.threads)
                wall = time.perf_counter() - start
                if algorithm not in best or wall < best[algorithm][0]:
                    best[algorithm] = (wall, est)
        cells = []
        for algorithm in ALGORITHMS:
            wall, est = best[algorithm]
            skipped = np.mean([r.skipped for r in est.history_])
            cells.append(f"{wall:.3f} ({skipped:.2f})")
        groups = BoundsPlan.for_shape("yinyang", X.shape[0], k, X.shape[1], X.itemsize)
        ratio = best["hamerly"][0] / best["yinyang"][0]
        print(
            f"| {label} | " + " | ".join(cells)
            + f" | {groups.n_bound_groups} | {best['lloyd'][1].n_iter_} | {ratio:.2f} |",
            flush=True,
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
