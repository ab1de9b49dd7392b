"""kmeanskit on Dask vs dask-ml's KMeans on the same LocalCluster, data and start.

Both fit the same persisted float32 dask array (Gaussian blobs, ``--rows`` x
``--features``, 250,000-row chunks) on a ``LocalCluster(n_workers=2,
threads_per_worker=1)`` from the same initial centres (the first rows of a seeded
permutation), with ``tol=0`` and ``max_iter=--iters`` so both run the same number of
Lloyd iterations. Reported, per library:

* **s / iteration**: wall time of ``fit`` over the iterations it ran (after a warm-up
  fit on small data, so numba compiles beforehand on the workers): set-up (kmeanskit
  rechunks and persists the data on group boundaries, and runs a final labelling
  pass) is included; for kmeanskit also the median Lloyd iteration of ``history_``;
* **reported inertia** (``inertia_``) and the **true inertia** of its centres: the sum
  over rows of the squared distance to the nearest centre, computed by numpy in float64
  on the host; their ratio should be 1.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dask.py

This is a benchmark, not a test: it asserts nothing.
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
from _machine import machine_header  # noqa: E402


def true_inertia(X: np.ndarray, centers: np.ndarray, chunk: int = 1 << 16) -> float:
    """Sum of squared distances to the nearest centre, float64, exact distances."""
    C = centers.astype(np.float64)
    total = 0.0
    for s in range(0, len(X), chunk):
        x = X[s : s + chunk].astype(np.float64)
        d2 = (x * x).sum(1)[:, None] - 2 * x @ C.T + (C * C).sum(1)[None, :]
        nearest = d2.argmin(axis=1)
        diff = x - C[nearest]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("-k", type=int, default=32)
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args(argv)

    import dask.array as da
    import dask_ml
    import dask_ml.cluster
    from distributed import Client, LocalCluster, wait

    import kmeanskit
    from kmeanskit.datasets import make_blobs

    loadavg = os.getloadavg()
    X = make_blobs(args.rows, args.features, args.k, random_state=0, dtype=np.float32)[0]
    init = X[np.random.RandomState(0).permutation(len(X))[: args.k]].copy()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    try:
        Xd = client.persist(da.from_array(X, chunks=(250_000, args.features)))
        wait(Xd)
        small = Xd[:50_000]
        libs = {
            "kmeanskit": lambda A, n_iter: kmeanskit.KMeans(
                args.k, init=init, n_init=1, max_iter=n_iter, tol=0
            ).fit(A),
            "dask-ml": lambda A, n_iter: dask_ml.cluster.KMeans(
                n_clusters=args.k, init=init, max_iter=n_iter, tol=0, random_state=0
            ).fit(A),
        }
        rows = [
            "| library | iterations | fit s | fit s / iteration | median iteration s "
            "| reported inertia | true inertia | reported / true |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        per_iter = {}
        for name, fit in libs.items():
            fit(small, 2)  # warm-up: numba compiles on the workers
            start = time.perf_counter()
            model = fit(Xd, args.iters)
            seconds = time.perf_counter() - start
            n_iter = int(model.n_iter_)
            truth = true_inertia(X, np.asarray(model.cluster_centers_))
            per_iter[name] = seconds / n_iter
            history = getattr(model, "history_", None)
            median = f"{np.median([r.seconds for r in history]):.3f}" if history else "-"
            rows.append(
                f"| {name} | {n_iter} | {seconds:.2f} | {seconds / n_iter:.3f} | {median} | "
                f"{float(model.inertia_):.6g} | {truth:.6g} | {float(model.inertia_) / truth:.6f} |"
            )
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        client.close()
        cluster.close()
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]])
    print(
        "\n".join(
            [
                "# kmeanskit on Dask vs dask-ml KMeans (LocalCluster, 2 workers x 1 thread)",
                "",
                f"Command: `{command}`",
                "",
                machine_header(loadavg=loadavg),
                f"dask-ml {dask_ml.__version__}.",
                "",
                "## Results",
                "",
                f"float32 blobs {args.rows:,} x {args.features}, k = {args.k}, same initial "
                f"centres, tol=0, max_iter={args.iters}; data persisted once on the workers.",
                "",
                *rows,
                "",
                "Per-iteration speedup of kmeanskit (fit s / iteration): "
                f"{per_iter['dask-ml'] / per_iter['kmeanskit']:.1f}x.",
                "",
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
