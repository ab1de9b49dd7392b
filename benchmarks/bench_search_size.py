"""What the sample of ``search_size`` costs in quality and saves in time.

For each data set: ``KMeans(k, random_state=s, search_size=S)`` for seeds 0..S-1 with the
seeding and search on every row (``None``) and on samples of ``max(floor, 256 k)`` rows
for a few floors, all in one run. Prints the mean wall time, and the mean and worst
inertia over the lowest mean any setting reached on that set. Birch1 is read from
``../shared/data`` when it is there.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_search_size.py

Prints markdown; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit._search import AUTO_SEARCH_ROWS_PER_CLUSTER  # noqa: E402
from kmeanskit.datasets import make_blobs, make_uneven  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FLOORS = (None, 20_000, 32_768, 50_000)


def cases(data_dir: Path) -> list[tuple[str, np.ndarray, int]]:
    out = []
    birch = data_dir / "sipu" / "birch1.data.gz"
    if birch.exists():
        out.append(("birch1 (100k x 2, k=100)", np.loadtxt(birch), 100))
    for k in (8, 12):
        X = make_uneven(200_000, 2, k, random_state=1)[0]
        out.append((f"uneven blobs, sizes halving (200k x 2, k={k})", X, k))
    out.append(("blobs (100k x 2, k=8)", make_blobs(100_000, 2, 8, random_state=0)[0], 8))
    out.append(("blobs (100k x 16, k=64)", make_blobs(100_000, 16, 64, random_state=0)[0], 64))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(machine_header(loadavg=None))
    print(f"\nCommand: `python {' '.join(sys.argv)}`; seeds 0..{args.seeds - 1}.\n")
    names = ["every row" if f is None else f"floor {f}" for f in FLOORS]
    print("| data | " + " | ".join(f"{n}: s, mean, worst" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for label, X, k in cases(args.data_dir):
        kmeanskit.KMeans(k, random_state=0).fit(X[:5000])  # compile, warm up
        seconds, inertia = [], []
        for floor in FLOORS:
            size = None if floor is None else max(floor, AUTO_SEARCH_ROWS_PER_CLUSTER * k)
            times, values = [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                km = kmeanskit.KMeans(k, random_state=seed, search_size=size).fit(X)
                times.append(time.perf_counter() - start)
                values.append(km.inertia_)
            seconds.append(np.mean(times))
            inertia.append(np.array(values))
        best = min(v.mean() for v in inertia)
        cells = [
            f"{s:.3f}, {v.mean() / best:.5f}, {v.max() / best:.5f}"
            for s, v in zip(seconds, inertia, strict=True)
        ]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
