"""k-means|| vs greedy k-means++: inertia after Lloyd, and passes over the data.

For each data set both seedings start the same kmeanskit Lloyd (``KMeans(init=...)``,
default ``tol``/``max_iter``) for ``--seeds`` seeds:

* **inertia ratio**: mean final inertia from k-means|| over the mean from k-means++
  (< 1.01 is the target: within 1%);
* **passes**: scans of the whole data by the seeding. k-means|| is counted by
  instrumenting its row source (chunk weights, potential updates, draws, candidate
  weights), in brackets those that read the rows (the updates; the others read only
  the weights and the distances kept per row); greedy k-means++ makes one pass per centre after the first (each step
  scores its candidates against every row, pruned by the triangle inequality), so
  ``k`` passes (one for the first draw's cumulative weights);
* **seed s**: seconds of the seeding alone (seed 0), both in memory on all cores.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_kmeans_parallel.py

Data: float32 ``kmeanskit.datasets.make_blobs(n, d, k, random_state=0)`` and birch1
(100,000 x 2, k = 100) from ``../shared/data/sipu`` when present (``--data-dir``).
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit._config import resolve_n_threads, thread_limits  # noqa: E402
from kmeanskit._init import initial_centers  # noqa: E402
from kmeanskit._init import kmeans_plusplus as greedy  # noqa: E402
from kmeanskit._init_parallel import GroupedRows, in_memory_source, kmeans_parallel  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class CountingRows:
    """A RowSource that counts the passes over the data its k-means|| run makes."""

    def __init__(self, inner: GroupedRows) -> None:
        self.inner, self.passes, self.row_reads = inner, 0, 0
        self.n_samples, self.n_features, self.dtype = (
            inner.n_samples,
            inner.n_features,
            inner.dtype,
        )

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)
        if name in ("chunk_weights", "update", "draw", "owner_weights"):

            def counted(*args, **kw):
                self.passes += 1
                self.row_reads += name == "update"  # the others read weights / distances
                return method(*args, **kw)

            return counted
        return method


def parallel_passes(X: np.ndarray, k: int) -> str:
    """``"scans (of which reading the rows)"`` of one k-means|| run."""
    source = CountingRows(in_memory_source(X, np.ones(len(X), dtype=X.dtype), k))
    kmeans_parallel(source, k, np.random.RandomState(0), greedy)
    return f"{source.passes} ({source.row_reads})"


def datasets(data_dir: Path, quick: bool) -> list[tuple[str, np.ndarray, int]]:
    shapes = (
        [(50_000, 16, 64), (50_000, 64, 128)]
        if quick
        else [
            (200_000, 16, 64),
            (200_000, 64, 256),
        ]
    )
    out = []
    for n, d, k in shapes:
        X = make_blobs(n, d, k, random_state=0, dtype=np.float32)[0]
        out.append((f"blobs {n:,} x {d}", X, k))
    birch = data_dir / "sipu" / "birch1.data.gz"
    if birch.exists():
        with gzip.open(birch, "rt") as fh:
            X = np.loadtxt(fh, dtype=np.float64)
        out.append(("birch1 100,000 x 2", np.ascontiguousarray(X), 100))
    else:
        print(f"note: {birch} not found; birch1 left out", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    loadavg = os.getloadavg()
    warm = make_blobs(3000, 4, 4, random_state=0, dtype=np.float32)[0]
    for init in ("k-means||", "k-means++"):
        kmeanskit.KMeans(4, init=init, random_state=0).fit(warm)

    rows = [
        "| data | k | inertia k-means\\|\\| | inertia k-means++ | ratio | passes k-means\\|\\| "
        "| passes k-means++ | seed s k-means\\|\\| | seed s k-means++ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, X, k in datasets(args.data_dir, args.quick):
        w = np.ones(len(X), dtype=X.dtype)
        inertia = {}
        for init in ("k-means||", "k-means++"):
            inertia[init] = np.mean(
                [
                    kmeanskit.KMeans(k, init=init, random_state=s).fit(X).inertia_
                    for s in range(args.seeds)
                ]
            )
        seconds = {}
        for init in ("k-means||", "k-means++"):
            # As KMeans runs it: numba on all cores, BLAS on one thread inside them.
            with thread_limits(resolve_n_threads(None)):
                start = time.perf_counter()
                initial_centers(X, w, k, init, 0)
                seconds[init] = time.perf_counter() - start
        par, pp = inertia["k-means||"], inertia["k-means++"]
        rows.append(
            f"| {name} | {k} | {par:.6g} | {pp:.6g} | {par / pp:.4f} | "
            f"{parallel_passes(X, k)} | {k} | {seconds['k-means||']:.2f} | "
            f"{seconds['k-means++']:.2f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]])
    print(
        "\n".join(
            [
                "# k-means|| vs greedy k-means++ (inertia after Lloyd, passes)",
                "",
                f"Command: `{command}`",
                "",
                machine_header(loadavg=loadavg),
                "## Results",
                "",
                f"Inertia: mean over {args.seeds} seeds of the final Lloyd inertia. "
                "k-means||: 5 rounds, l = 2k.",
                "",
                *rows,
                "",
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
