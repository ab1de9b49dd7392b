"""A fit larger than memory budget on one machine: 1e8 x 16 float32 (6.4 GB), streamed.

Writes float32 Gaussian blobs (16 centres in [-10, 10]^16, unit noise, seed 0) as a
``.npy`` file, then fits ``KMeans(16, max_iter=5, random_state=0)`` on
``kmeanskit.StreamedArray(path)`` (k-means|| seeding, full-batch Lloyd read group by
group) in a fresh process, and reports its wall time, the seconds of each Lloyd
iteration and the process's peak resident memory (``VmHWM`` from
``/proc/self/status``) next to the data size. The file is deleted afterwards unless
``--keep``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_large.py \\
        --path /tmp/$USER/large.npy

This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header  # noqa: E402

BLOCK = 2_000_000


def write(path: Path, n: int, d: int) -> float:
    """Write the blobs block by block (never all in memory); seconds taken."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    centers = rng.uniform(-10, 10, size=(16, d)).astype(np.float32)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f4", "fortran_order": False, "shape": (n, d)}
        )
        for s in range(0, n, BLOCK):
            m = min(BLOCK, n - s)
            X = centers[rng.integers(0, 16, size=m)]
            X += rng.standard_normal((m, d), dtype=np.float32)
            fh.write(X.tobytes())
    return time.perf_counter() - start


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def fit(path: Path, k: int, max_iter: int) -> dict:
    import kmeanskit

    source = kmeanskit.StreamedArray(path)
    start = time.perf_counter()
    model = kmeanskit.KMeans(k, max_iter=max_iter, random_state=0).fit(source)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "iterations": [it.seconds for it in model.history_],
        "inertia": model.inertia_,
        "stop_reason": model.stop_reason_,
        "peak_rss": peak_rss(),
        "rows": source.shape[0],
        "labels_bytes": model.labels_.nbytes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--path", type=Path, default=Path(f"/tmp/{os.environ.get('USER', 'me')}/large.npy")
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the data file")
    parser.add_argument("--fit-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fit_only:  # the child: fit and report as JSON
        print(json.dumps(fit(args.path, args.k, args.max_iter)))
        return 0

    loadavg = os.getloadavg()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    write_s = write(args.path, args.rows, args.features)
    size = args.path.stat().st_size
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--fit-only", "--path", str(args.path), "-k",
             str(args.k), "--max-iter", str(args.max_iter)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        if not args.keep:
            args.path.unlink()
    res = json.loads(child.stdout.strip().splitlines()[-1])
    its = res["iterations"]
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]])
    rows = [
        "| rows | d | k | data | fit s (seeding + Lloyd) | Lloyd iterations | s / iteration "
        "| peak RSS (VmHWM) | peak / data |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {res['rows']:,} | {args.features} | {args.k} | {size / 1e9:.2f} GB | "
        f"{res['seconds']:.1f} | {len(its)} | {np.mean(its):.2f} | "
        f"{res['peak_rss'] / 1e9:.2f} GB | {res['peak_rss'] / size:.3f} |",
    ]
    print(
        "\n".join(
            [
                "# A 1e8-row fit streamed from disk",
                "",
                f"Command: `{command}`",
                "",
                machine_header(loadavg=loadavg),
                "## Results",
                "",
                f"Writing the file took {write_s:.1f} s. The fit runs in a fresh process "
                "(`kmeanskit.StreamedArray`; k-means|| seeding; full-batch Lloyd); peak "
                "memory is that process's VmHWM, which includes the labels "
                f"({res['labels_bytes'] / 1e9:.2f} GB) and the seeding's per-row state "
                "(12 bytes a row). Final inertia "
                f"{res['inertia']:.6g}; stopped: {res['stop_reason']}. Per-iteration seconds: "
                + ", ".join(f"{s:.2f}" for s in its)
                + ".",
                "",
                *rows,
                "",
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
