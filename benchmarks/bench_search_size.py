"""What the samples of ``search_size`` and ``init_size`` cost in quality and save in time.

For each data set, all in one run, seeds 0..S-1:

1. ``KMeans(k, random_state=s, search_size=S)`` with the seeding and search on every row
   (``None``) and on samples of ``max(floor, 256 k)`` rows for a few floors;
2. ``KMeans(k, random_state=s, init_size=I)`` (``search_size='auto'``) with the seeding
   on every row of the search (``None``), on ``'auto'``'s ``max(4096, 64 k)`` rows and on
   ``max(2048, 32 k)`` rows.

Prints, per table, the mean wall time, and the mean and worst inertia over the lowest
mean any setting reached on that set. Birch1 is read from ``../shared/data`` when it is
there.

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
    X = make_blobs(200_000, 64, 256, random_state=0, dtype=np.float32)[0]
    out.append(("blobs (200k x 64, k=256, float32)", X, 256))
    return out


def _size(floor: int | None, per_cluster: int) -> object:
    """A size rule: None (every row), or ``(floor, per_cluster)`` for ``max(floor, per k)``."""
    return None if floor is None else (floor, per_cluster)


def table(data: list[tuple[str, np.ndarray, int]], settings: list, seeds: int) -> None:
    """One markdown table: per data set, each setting's mean seconds, mean and worst
    inertia over the lowest mean inertia of any setting."""
    print("| data | " + " | ".join(f"{n}: s, mean, worst" for n, _ in settings) + " |")
    print("|---|" + "---|" * len(settings))
    for label, X, k in data:
        kmeanskit.KMeans(k, random_state=0).fit(X[:5000])  # compile, warm up
        seconds, inertia = [], []
        for _, params in settings:
            kwargs = {
                name: value if not isinstance(value, tuple) else max(value[0], value[1] * k)
                for name, value in params.items()
            }
            times, values = [], []
            for seed in range(seeds):
                start = time.perf_counter()
                km = kmeanskit.KMeans(k, random_state=seed, **kwargs).fit(X)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(machine_header(loadavg=None))
    print(f"\nCommand: `python {' '.join(sys.argv)}`; seeds 0..{args.seeds - 1}.\n")
    floors = [
        (
            "every row" if f is None else f"floor {f}",
            {"search_size": _size(f, AUTO_SEARCH_ROWS_PER_CLUSTER)},
        )
        for f in FLOORS
    ]
    seedings = [
        ("seeding on every search row", {"init_size": None}),
        ("init_size='auto'", {"init_size": "auto"}),
        ("max(2048, 32 k)", {"init_size": (2048, 32)}),
    ]
    for title, settings in (("search_size", floors), ("init_size", seedings)):
        print(f"\n{title}:\n")
        table(cases(args.data_dir), settings, args.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
