"""Speed of one Lloyd iteration, and of a whole fit, side by side with the peers.

Every library gets the same data, the same initial centres (k rows of X picked by a
fixed rng), the same iteration budget and the same thread count, in one run; the
table reports times and ratios (> 1 means kmeanskit is faster), preceded by a
description of the machine, its BLAS libraries and the command line.

    python benchmarks/bench_lloyd.py --grid quick --repeats 1 --out /tmp/bench.md

Run it with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`` so that OpenBLAS picks
its kernels for the real CPU. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, publish, sgemm_gflops  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs  # noqa: E402

#: (n_samples, n_features, n_clusters) rows of each grid.
GRIDS: dict[str, list[tuple[int, int, int]]] = {
    "smoke": [(20_000, 2, 8), (20_000, 32, 64)],
    "quick": [(100_000, 2, 8), (100_000, 16, 64), (50_000, 64, 256)],
    "full": [
        (100_000, 2, 8),
        (100_000, 16, 64),
        (200_000, 64, 256),
        (100_000, 128, 1024),
        (1_000_000, 16, 16),
        (1_000_000, 64, 256),
    ],
    # issue 3's grid: the full one plus a million rows and k = 4096
    "large": [
        (100_000, 2, 8),
        (100_000, 16, 64),
        (200_000, 64, 256),
        (100_000, 128, 1024),
        (1_000_000, 16, 16),
        (1_000_000, 64, 256),
        (200_000, 32, 4096),
    ],
}
PEERS = ("sklearn", "sklearnex", "faiss")
INIT_SEED = 12345  # rng of the k rows of X used as initial centres, for every library
E2E_TOL, E2E_MAX_ITER = 1e-4, 300
#: scikit-learn's elkan keeps n x k float64 lower bounds: not run where they exceed this.
ELKAN_MAX_BYTES = 4 * 2**30


@dataclass
class Run:
    """One timed fit: wall seconds, iterations run, final centres."""

    wall: float
    n_iter: int
    centers: np.ndarray
    loop: float | None = None  # kmeanskit: sum of history_ seconds
    relocated: int = 0  # kmeanskit: empty clusters moved, over all iterations
    peak_mib: float = 0.0  # resident memory above the level before the fit


class PeakMemory:
    """Highest resident set size above the level at entry, sampled every millisecond.

    Counts every allocation (numpy, numba, BLAS buffers, the peers' C++ code), which
    tracemalloc would not see.
    """

    _page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def __enter__(self) -> PeakMemory:
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def extra_mib(self) -> float:
        return (self.peak - self.base) / 2**20


# -- the contenders ----------------------------------------------------------------


def run_kmeanskit(
    X: np.ndarray, C0: np.ndarray, max_iter: int, tol: float, threads: int, algorithm: str
) -> Run:
    est = kmeanskit.KMeans(
        n_clusters=C0.shape[0],
        init=C0,
        n_init=1,
        max_iter=max_iter,
        tol=tol,
        n_threads=threads,
        algorithm=algorithm,
    )
    with PeakMemory() as mem:
        start = time.perf_counter()
        est.fit(X)
        wall = time.perf_counter() - start
    loop = float(sum(record.seconds for record in est.history_))
    relocated = int(sum(record.n_relocated for record in est.history_))
    return Run(wall, int(est.n_iter_), est.cluster_centers_, loop, relocated, mem.extra_mib)


def run_sklearn(
    X: np.ndarray, C0: np.ndarray, max_iter: int, tol: float, algorithm: str, intelex: bool = False
) -> Run:
    if intelex:
        from sklearnex.cluster import KMeans
    else:
        from sklearn.cluster import KMeans

    est = KMeans(
        n_clusters=C0.shape[0], init=C0, n_init=1, max_iter=max_iter, tol=tol, algorithm=algorithm
    )
    with PeakMemory() as mem:
        start = time.perf_counter()
        est.fit(X)
        wall = time.perf_counter() - start
    return Run(wall, int(est.n_iter_), est.cluster_centers_, peak_mib=mem.extra_mib)


def run_faiss(X: np.ndarray, C0: np.ndarray, iters: int) -> Run:
    import faiss

    n, d = X.shape
    k = C0.shape[0]
    clus = faiss.Clustering(d, k)
    clus.niter = iters
    clus.max_points_per_centroid = n  # never subsample
    clus.min_points_per_centroid = 1
    clus.verbose = False
    faiss.copy_array_to_vector(np.ascontiguousarray(C0, dtype=np.float32).ravel(), clus.centroids)
    index = faiss.IndexFlatL2(d)
    with PeakMemory() as mem:
        start = time.perf_counter()
        clus.train(X, index)
        wall = time.perf_counter() - start
    centers = faiss.vector_to_array(clus.centroids).reshape(k, d)
    return Run(wall, iters, centers, peak_mib=mem.extra_mib)


def run_one(
    name: str, X: np.ndarray, C0: np.ndarray, max_iter: int, tol: float, threads: int
) -> Run:
    """Fit contender ``name`` (faiss ignores ``tol``: it always runs ``max_iter``)."""
    if name.startswith("kmeanskit "):
        return run_kmeanskit(X, C0, max_iter, tol, threads, name.split()[1])
    if name.startswith("sklearn "):
        return run_sklearn(X, C0, max_iter, tol, name.split()[1])
    if name == "sklearnex":
        return run_sklearn(X, C0, max_iter, tol, "lloyd", intelex=True)
    if name == "faiss":
        return run_faiss(X, C0, max_iter)
    raise ValueError(f"unknown contender {name!r}")


# -- helpers -----------------------------------------------------------------------


def initial_centers(X: np.ndarray, k: int) -> np.ndarray:
    """k distinct rows of X picked by a fixed rng (the same rows for every dtype)."""
    rows = np.random.default_rng(INIT_SEED).choice(X.shape[0], size=k, replace=False)
    return np.ascontiguousarray(X[np.sort(rows)])


def inertia64(X: np.ndarray, centers: np.ndarray) -> float:
    """Sum of squared distances of the rows of X to their nearest centre, in float64.

    Computed the same way for every library's centres, a chunk of rows at a time.
    The nearest centre is found with the GEMM expansion; the distance to it is then
    taken directly as ``sum((x - c) ** 2)`` so that no cancellation enters the sum.
    """
    C = np.asarray(centers, dtype=np.float64)
    half_norms = 0.5 * np.einsum("ij,ij->i", C, C)
    rows = max(1, 2**21 // max(C.shape[0], X.shape[1]))  # ~16 MiB per float64 block
    total = 0.0
    for start in range(0, X.shape[0], rows):
        x = np.asarray(X[start : start + rows], dtype=np.float64)
        labels = np.argmin(half_norms - x @ C.T, axis=1)
        diff = x - C[labels]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return np.format_float_positional(x, precision=3, unique=False, fractional=False, trim="-")


def fmt_ratio(num: float | None, den: float | None) -> str:
    return "-" if num is None or den is None or den <= 0 else f"{num / den:.2f}"


def fmt_n(n: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- one row of the table ----------------------------------------------------------


def bench_row(
    n: int, d: int, k: int, dtype: type, args: argparse.Namespace, peers: set[str]
) -> tuple[list[str], list[str]]:
    """Time every library on one (n, d, k); return the table cells and notes."""
    label = f"({fmt_n(n)}, {d}, {k})"
    X, _ = make_blobs(n, d, k, random_state=0, dtype=dtype)
    C0 = initial_centers(X, k)
    iters, threads = args.iters, args.threads
    is32 = np.dtype(dtype) == np.float32

    contenders = ["kmeanskit lloyd", "kmeanskit auto"]
    notes: list[str] = []
    if "sklearn" in peers:
        contenders.append("sklearn lloyd")
        if n * k * 8 <= ELKAN_MAX_BYTES:
            contenders.append("sklearn elkan")
        else:
            notes.append(
                f"{label}: sklearn elkan not run: its n x k float64 bounds alone take "
                f"{n * k * 8 / 2**30:.0f} GiB."
            )
    if "sklearnex" in peers:
        contenders.append("sklearnex")
    if "faiss" in peers and is32:
        contenders.append("faiss")
    peer_names = [c for c in contenders if not c.startswith("kmeanskit")]

    # Warm-up: numba compilation, thread pools, first-touch, on a slice with the same d, k.
    Xw = np.ascontiguousarray(X[: min(n, max(2_000, 20 * k))])
    for name in contenders:
        run_one(name, Xw, C0, 2, 0.0, threads)
    del Xw

    # Fixed iteration count from the same init; the libraries alternate in each repeat.
    fixed: dict[str, list[Run]] = {name: [] for name in contenders}
    for r in range(args.repeats):
        for name in contenders:
            fixed[name].append(run_one(name, X, C0, iters, 0.0, threads))
            log(f"  {label} {name} repeat {r + 1}: {fixed[name][-1].wall:.3f} s")
    fixed_best = {name: best(runs) for name, runs in fixed.items()}
    per_iter = {name: run.wall / run.n_iter for name, run in fixed_best.items()}
    fastest_peer = min(peer_names, key=lambda p: per_iter[p]) if peer_names else None

    # End to end to convergence, same init.
    e2e_names = ["kmeanskit auto"] + [c for c in ("sklearn lloyd",) if c in contenders]
    if args.no_e2e:
        e2e_names = []
    e2e: dict[str, list[Run]] = {name: [] for name in e2e_names}
    for r in range(args.repeats):
        for name in e2e:
            e2e[name].append(run_one(name, X, C0, E2E_MAX_ITER, E2E_TOL, threads))
            log(f"  {label} e2e {name} repeat {r + 1}: {e2e[name][-1].wall:.3f} s")
    e2e_best = {name: best(runs) for name, runs in e2e.items()}
    e2e_inertia = {name: inertia64(X, run.centers) for name, run in e2e_best.items()}

    short = [name for name, run in fixed_best.items() if run.n_iter != iters]
    if short:
        notes.append(
            f"{label}: converged (no label changed) before {iters} iterations, so divided by "
            "their own count: " + ", ".join(f"{name} {fixed_best[name].n_iter}" for name in short)
        )
    # Same init and same iterations must give the same centres (exact algorithms).
    km = fixed_best["kmeanskit lloyd"]
    ref = inertia64(X, km.centers)
    for name, run in fixed_best.items():
        if name == "kmeanskit lloyd" or run.n_iter != km.n_iter:
            continue
        ratio = ref / inertia64(X, run.centers)
        if abs(ratio - 1) > 1e-5:
            notes.append(
                f"{label}: after {km.n_iter} iterations kmeanskit/{name} inertia = {ratio:.6f}: "
                "the trajectories differ from the same init (kmeanskit moved "
                f"{km.relocated} empty cluster(s) to the farthest rows"
                + ("; faiss splits large clusters instead)" if name == "faiss" else ")")
            )

    ours = "kmeanskit auto" in e2e_best
    sk = ours and "sklearn lloyd" in e2e_best
    data_mib = X.nbytes / 2**20
    mem = {name: max(r.peak_mib for r in runs) for name, runs in fixed.items()}
    mem_e2e = max((r.peak_mib for r in e2e.get("kmeanskit auto", [])), default=0.0)
    cells = [
        fmt_n(n),
        str(d),
        str(k),
        fmt_s(per_iter["kmeanskit lloyd"]),
        fmt_s(per_iter["kmeanskit auto"]),
        *[fmt_s(per_iter.get(p)) for p in ("sklearn lloyd", "sklearn elkan", "sklearnex", "faiss")],
        fmt_ratio(per_iter.get("sklearn lloyd"), per_iter["kmeanskit lloyd"]),
        (
            f"{fmt_ratio(per_iter[fastest_peer], per_iter['kmeanskit lloyd'])} "
            f"/ {fmt_ratio(per_iter[fastest_peer], per_iter['kmeanskit auto'])} ({fastest_peer})"
            if fastest_peer
            else "-"
        ),
        fmt_s(e2e_best["kmeanskit auto"].wall) if ours else "-",
        fmt_s(e2e_best["sklearn lloyd"].wall) if sk else "-",
        fmt_ratio(e2e_best["sklearn lloyd"].wall, e2e_best["kmeanskit auto"].wall) if sk else "-",
        f"{e2e_best['kmeanskit auto'].n_iter}/{e2e_best['sklearn lloyd'].n_iter}"
        if sk
        else (str(e2e_best["kmeanskit auto"].n_iter) if ours else "-"),
        f"{e2e_inertia['kmeanskit auto'] / e2e_inertia['sklearn lloyd']:.6f}" if sk else "-",
        f"{data_mib:.0f}",
        f"{max(mem_e2e, mem['kmeanskit lloyd'], mem['kmeanskit auto']):.0f}",
        " / ".join(f"{mem[p]:.0f}" for p in peer_names) or "-",
    ]
    del X, C0, contenders, fixed, fixed_best, e2e, e2e_best, km
    gc.collect()
    return cells, notes


HEADER = [
    "n",
    "d",
    "k",
    "kmeanskit lloyd s/iter",
    "kmeanskit auto s/iter",
    "sklearn lloyd s/iter",
    "sklearn elkan s/iter",
    "sklearnex s/iter",
    "faiss s/iter",
    "sklearn lloyd / kmeanskit lloyd",
    "fastest peer / kmeanskit lloyd / auto",
    "e2e kmeanskit auto s",
    "e2e sklearn lloyd s",
    "e2e speed-up",
    "e2e iters kmeanskit/sklearn",
    "e2e inertia ratio kmeanskit/sklearn",
    "data MiB",
    "kmeanskit extra MiB",
    "peers extra MiB",
]


def markdown_table(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---:|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


# -- main --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=sorted(GRIDS), default="quick")
    parser.add_argument(
        "--rows", default=None, help="instead of --grid, e.g. 100000x2x8,1000000x16x16 (n x d x k)"
    )
    parser.add_argument(
        "--no-e2e", action="store_true", help="per-iteration times only (skip the runs to tol)"
    )
    parser.add_argument("--dtypes", default="float32,float64", help="comma separated")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timed runs")
    parser.add_argument("--iters", type=int, default=10, help="Lloyd iterations per timed run")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    parser.add_argument(
        "--peers",
        default="sklearn,sklearnex,faiss",
        help="comma separated: sklearn,sklearnex,faiss",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    args.dtypes = [np.dtype(t.strip()).type for t in args.dtypes.split(",") if t.strip()]
    if any(t not in (np.float32, np.float64) for t in args.dtypes):
        parser.error("--dtypes takes float32 and/or float64")
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; choose from {PEERS}")
    args.grid_rows = GRIDS[args.grid]
    if args.rows:
        try:
            args.grid_rows = [
                tuple(int(v) for v in row.lower().split("x")) for row in args.rows.split(",")
            ]
        except ValueError:
            parser.error("--rows takes n x d x k triples, e.g. 100000x2x8,1000000x16x16")
        if any(len(row) != 3 or min(row) < 1 for row in args.grid_rows):
            parser.error("--rows takes n x d x k triples of positive integers")
    if args.repeats < 1 or args.iters < 1 or args.threads < 1:
        parser.error("--repeats, --iters and --threads must be >= 1")
    return args


def available_peers(wanted: list[str]) -> tuple[set[str], list[str]]:
    found, notes = set(), []
    for peer, module, extra in (
        ("sklearn", "sklearn", "scikit-learn"),
        ("sklearnex", "sklearnex", "scikit-learn-intelex"),
        ("faiss", "faiss", "faiss-cpu"),
    ):
        if peer not in wanted:
            continue
        try:
            __import__(module)
        except ImportError:
            notes.append(f"{peer} is not installed (`pip install {extra}`): its columns show -.")
        else:
            found.add(peer)
    return found, notes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", *(sys.argv if argv is None else ["bench_lloyd.py", *argv])])
    peers, peer_notes = available_peers(args.peers)
    threads = args.threads
    if "faiss" in peers:
        import faiss

        faiss.omp_set_num_threads(threads)
    started = time.perf_counter()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    sections: list[str] = []
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter is the point here
        gflops_before = sgemm_gflops(threads=threads)
        for dtype in args.dtypes:
            name = np.dtype(dtype).name
            rows, notes = [], []
            for n, d, k in args.grid_rows:
                log(f"{name} n={n} d={d} k={k}")
                cells, row_notes = bench_row(n, d, k, dtype, args, peers)
                rows.append(cells)
                notes += row_notes
            if name == "float64" and "faiss" in peers:
                notes.append("faiss clusters float32 only: its float64 cells show -.")
            sections += [f"## {name}", "", *markdown_table(rows), ""]
            sections += [f"- {note}" for note in notes] + ([""] if notes else [])
        gflops_after = sgemm_gflops(threads=threads)
        header = machine_header(threads=threads, gflops=gflops_before, loadavg=load_before)
    import numba

    numba_threads = numba.config.NUMBA_NUM_THREADS
    km_threads = min(threads, numba_threads)
    lines = [
        "# kmeanskit: Lloyd speed benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Threads: {threads} for every library: kmeanskit `n_threads={threads}`"
        + (f" (clamped to NUMBA_NUM_THREADS = {km_threads})" if km_threads < threads else "")
        + f"; OpenMP and BLAS through `threadpoolctl.threadpool_limits({threads})` (scikit-learn)"
        + (f"; faiss `omp_set_num_threads({threads})`" if "faiss" in peers else "")
        + ".",
        "",
        f"Method: Gaussian blobs `make_blobs(n, d, k, random_state=0)`; the same initial centres "
        f"for every library (k rows of X, rng seed {INIT_SEED}); every library warmed up once "
        f"(numba compilation), then best of {args.repeats}. *s/iter*: wall time of a fit with "
        f"`max_iter={args.iters}, tol=0` divided by the iterations it ran (fixed costs such as "
        "input checks, copies and the final assignment included, for every library). "
        "*kmeanskit lloyd* scores every row against every centre in every iteration (the "
        "like-for-like comparison with the peers' Lloyd); *kmeanskit auto* is the default "
        "(bounds from the second iteration on: Hamerly's on these rows, Yinyang's from 512 "
        "centres with a few features; same labels). Ratios: > 1 means "
        "kmeanskit is faster. *e2e*: wall time of a fit from the same init to convergence "
        f"(`tol={E2E_TOL}, max_iter={E2E_MAX_ITER}`), kmeanskit's default algorithm against "
        "scikit-learn's lloyd; the inertia ratio is computed in float64 from each library's "
        "final centres the same way. *extra MiB*: the highest resident memory above the "
        "level before the fit, sampled every millisecond (kmeanskit: the larger of its runs; "
        "peers: in the order of the columns).",
        "",
        header,
        f"GEMM after the run: {gflops_after:.1f} GFLOP/s (before: {gflops_before:.1f}). "
        f"Benchmark wall time: {time.perf_counter() - started:.0f} s.",
        "",
        *[f"- {note}" for note in peer_notes],
        *([""] if peer_notes else []),
        *sections,
    ]
    publish("\n".join(lines).rstrip() + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
