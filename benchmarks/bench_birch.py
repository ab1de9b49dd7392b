"""End-to-end fits on low-d data with many clusters: ../shared/data/sipu/birch1 (100k x 2).

kmeanskit's default algorithm ('auto': Hamerly bounds, or Yinyang's group bounds from 512
centres on), its 'hamerly', 'yinyang' and dense 'lloyd' against scikit-learn's lloyd and
elkan, from the same initial centres (k rows of X picked by a fixed rng),
tol=1e-4, in one run; best of ``--repeats``. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lloyd import E2E_MAX_ITER, E2E_TOL, best, inertia64, initial_centers, run_one  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--k", default="100,1000")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    path = args.data_dir / "sipu" / "birch1.data.gz"
    if not path.exists():
        print(f"{path} is missing: nothing to run.")
        return 0
    warnings.simplefilter("ignore")
    X = np.ascontiguousarray(np.loadtxt(path), dtype=np.float64)
    names = [
        "kmeanskit auto",
        "kmeanskit hamerly",
        "kmeanskit yinyang",
        "kmeanskit lloyd",
        "sklearn lloyd",
        "sklearn elkan",
    ]
    print(
        f"birch1: {X.shape[0]} x {X.shape[1]} float64, {args.threads} threads, "
        f"tol={E2E_TOL}, best of {args.repeats}"
    )
    print(
        "| k | "
        + " | ".join(f"{n} s (iters)" for n in names)
        + " | sklearn lloyd / kmeanskit auto | inertia kmeanskit / sklearn |"
    )
    print("|---:|" + "---:|" * (len(names) + 2))
    for k in (int(v) for v in args.k.split(",")):
        C0 = initial_centers(X, k)
        for name in names:
            run_one(name, X[:5000], C0, 2, 0.0, args.threads)  # warm-up
        runs = {
            name: best(
                [
                    run_one(name, X, C0, E2E_MAX_ITER, E2E_TOL, args.threads)
                    for _ in range(args.repeats)
                ]
            )
            for name in names
        }
        cells = [f"{runs[n].wall:.3f} ({runs[n].n_iter})" for n in names]
        speedup = runs["sklearn lloyd"].wall / runs["kmeanskit auto"].wall
        ratio = inertia64(X, runs["kmeanskit auto"].centers) / inertia64(
            X, runs["sklearn lloyd"].centers
        )
        print(f"| {k} | " + " | ".join(cells) + f" | {speedup:.2f} | {ratio:.6f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
