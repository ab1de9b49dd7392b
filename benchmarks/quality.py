"""Solution quality: how often does K-means with the true k find the true clusters?

For every data set with reference centroids (the clustering benchmark sets in
``../shared/data`` and generated sets with known clusters), every contender is fitted
once per seed with the true k. A run succeeds when its Centroid Index (CI, Franti et
al. 2014) against the reference centroids is 0: every true cluster got exactly one
centroid. The table gives, per set and contender, the success rate, the mean CI, the
mean inertia relative to that of the reference centroids (both computed here the same
way, in float64, as the sum of squared distances to the nearest centroid) and the mean
wall time of one ``fit``. It prints markdown and asserts nothing.

Contenders: kmeanskit's default ``KMeans(k, random_state=seed)``, scikit-learn's
``KMeans(k, random_state=seed)`` (one k-means++ run) and ``KMeans(k, n_init=10, ...)``,
and breathing k-means (``bkmeans.BKMeans``, Fritzke) when it is installed. A last row
per set, *Lloyd from reference*, runs Lloyd once from the reference centroids: it shows
whether the reference is (close to) a K-means fixed point, i.e. a fair target.

    python benchmarks/quality.py [--data-dir ../shared/data] [--seeds 20]
        [--sets a1,a2,...] [--quick] [--out docs/quality.md]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans as SkKMeans

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header  # noqa: E402
from bench_lloyd import inertia64  # noqa: E402

import kmeanskit  # noqa: E402
from kmeanskit.datasets import make_blobs, make_uneven  # noqa: E402
from kmeanskit.metrics import centroid_index  # noqa: E402

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
SIPU_SETS = ("a1", "a2", "s1", "s2", "s3", "s4", "unbalance", "birch1", "r15")
FCPS_SETS = ("hepta", "tetra")

#: Generated sets: name -> (generator, its keyword arguments). The generator's seed is
#: the first of 0, 1, 2, ... whose clusters are separated (see ``SEPARATION``).
GENERATED: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], dict[str, Any]]] = {
    "gen-blobs-2d-k100": (
        make_blobs,
        dict(n_samples=20_000, n_features=2, n_clusters=100, cluster_std=1.0, spread=150.0),
    ),
    "gen-blobs-2d-k50": (
        make_blobs,
        dict(n_samples=10_000, n_features=2, n_clusters=50, cluster_std=1.0, spread=100.0),
    ),
    # Sizes halve from cluster to cluster (32:1 here). With 7 or more clusters the
    # smallest ones are cheaper to merge than the big wide one is to leave whole, so the
    # true partition is no longer the K-means optimum: 6 is the most that stays fair.
    "gen-uneven-2d-k6": (
        make_uneven,
        dict(n_samples=20_000, n_features=2, n_clusters=6, spread=40.0),
    ),
    "gen-blobs-32d-k20": (
        make_blobs,
        dict(n_samples=20_000, n_features=32, n_clusters=20, cluster_std=1.0, spread=2.0),
    ),
}
#: A generated set is used only if every two of its clusters i, j have
#: ``|mean_i - mean_j| >= SEPARATION * (sigma_i + sigma_j)``, sigma = RMS per-feature std.
SEPARATION = 2.0
#: Sets left out by --quick.
SLOW_SETS = ("birch1",)


@dataclass
class Case:
    """One data set and its reference centroids."""

    name: str
    X: np.ndarray
    ref: np.ndarray
    source: str
    #: Other reference centroids to report CI against (name -> centroids).
    extra_refs: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Result:
    """Runs of one contender on one case."""

    contender: str
    seeds: int
    ci: list[int]
    ratio: list[float]
    seconds: list[float]
    extra_ci: dict[str, list[int]]


# -- data ---------------------------------------------------------------------------


def load_sipu(data_dir: Path, name: str) -> Case:
    X = np.loadtxt(data_dir / "sipu" / f"{name}.data.gz", dtype=np.float64, ndmin=2)
    ref = np.loadtxt(data_dir / "sipu" / "derived_centroids" / f"{name}.labels0-means.txt", ndmin=2)
    extra = {}
    published = data_dir / "sipu" / "gt_centroids" / f"{name}-cb.txt"
    if published.exists():
        extra["published"] = np.loadtxt(published, dtype=np.float64, ndmin=2)
    return Case(name, np.ascontiguousarray(X), ref, f"sipu/{name} (labels0 means)", extra)


def load_fcps(data_dir: Path, name: str) -> Case:
    X = np.loadtxt(data_dir / "fcps" / f"{name}.data.gz", dtype=np.float64, ndmin=2)
    labels = np.loadtxt(data_dir / "fcps" / f"{name}.labels0.gz").astype(np.int64)
    keep = labels > 0  # 0 = noise, clusters are 1..k
    ref = _means(X[keep], labels[keep])
    return Case(name, np.ascontiguousarray(X), ref, f"fcps/{name} (labels0 means, 0 = noise)")


def _means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((inverse.max() + 1, X.shape[1]))
    np.add.at(sums, inverse, X)
    return sums / np.bincount(inverse)[:, None]


def separation(X: np.ndarray, labels: np.ndarray) -> float:
    """min over cluster pairs of |mean_i - mean_j| / (sigma_i + sigma_j)."""
    _, inverse = np.unique(labels, return_inverse=True)
    means = _means(X, inverse)
    sigma = np.sqrt(np.array([X[inverse == c].var(axis=0).mean() for c in range(means.shape[0])]))
    dist = np.sqrt(((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=-1))
    np.fill_diagonal(dist, np.inf)
    return float((dist / (sigma[:, None] + sigma[None, :])).min())


def load_generated(name: str, tries: int = 200) -> Case:
    make, kwargs = GENERATED[name]
    for seed in range(tries):
        X, y = make(random_state=seed, **kwargs)
        sep = separation(X, y)
        if sep >= SEPARATION:
            args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
            source = (
                f"`{make.__name__}({args}, random_state={seed})`; min gap "
                f"{sep:.2f} x (sigma_i + sigma_j)"
            )
            return Case(name, X, _means(X, y), source)
    raise RuntimeError(f"{name}: no seed below {tries} gives separation >= {SEPARATION}")


def load_cases(names: list[str], data_dir: Path) -> tuple[list[Case], list[str]]:
    cases, notes = [], []
    have_data = data_dir.is_dir()
    for name in names:
        if name in GENERATED:
            cases.append(load_generated(name))
        elif not have_data:
            continue
        elif name in SIPU_SETS:
            cases.append(load_sipu(data_dir, name))
        elif name in FCPS_SETS:
            cases.append(load_fcps(data_dir, name))
        else:
            raise SystemExit(f"unknown set {name!r}; known: {', '.join(all_sets())}")
    if not have_data:
        notes.append(
            f"Benchmark data directory {data_dir} is missing: only the generated sets ran "
            "(pass --data-dir)."
        )
    return cases, notes


def all_sets() -> list[str]:
    return [*SIPU_SETS, *FCPS_SETS, *GENERATED]


# -- contenders ---------------------------------------------------------------------


def contenders() -> tuple[dict[str, Callable[[int, int], Any]], list[str]]:
    """name -> factory(k, seed) of an unfitted estimator; and notes."""
    out: dict[str, Callable[[int, int], Any]] = {
        "kmeanskit default": lambda k, s: kmeanskit.KMeans(k, random_state=s),
        "kmeanskit search=None": lambda k, s: kmeanskit.KMeans(k, search=None, random_state=s),
        "sklearn n_init=1": lambda k, s: SkKMeans(k, random_state=s),
        "sklearn n_init=10": lambda k, s: SkKMeans(k, n_init=10, random_state=s),
    }
    notes = []
    try:
        from bkmeans import BKMeans
    except ImportError:
        notes.append("bkmeans is not installed (`pip install bkmeans`): breathing k-means skipped.")
    else:
        # BKMeans seeds a module-level rng in __init__, so build it right before fit.
        out["bkmeans (m=5)"] = lambda k, s: BKMeans(n_clusters=k, random_state=s)
    return out, notes


def bkmeans_version() -> str | None:
    try:
        from bkmeans import BKMeans
    except ImportError:
        return None
    return str(BKMeans.get_version())


# -- measuring ----------------------------------------------------------------------


def run_contender(
    case: Case, name: str, factory: Callable[[int, int], Any], seeds: int, ref_inertia: float
) -> Result:
    k = case.ref.shape[0]
    result = Result(name, seeds, [], [], [], {key: [] for key in case.extra_refs})
    for seed in range(seeds):
        model = factory(k, seed)
        start = time.perf_counter()
        model.fit(case.X)
        result.seconds.append(time.perf_counter() - start)
        centers = np.asarray(model.cluster_centers_, dtype=np.float64)
        result.ci.append(centroid_index(centers, case.ref))
        result.ratio.append(inertia64(case.X, centers) / ref_inertia)
        for key, other in case.extra_refs.items():
            result.extra_ci[key].append(centroid_index(centers, other))
    return result


def lloyd_from_reference(case: Case, ref_inertia: float) -> Result:
    k = case.ref.shape[0]
    model = SkKMeans(k, init=case.ref, n_init=1)
    start = time.perf_counter()
    model.fit(case.X)
    seconds = time.perf_counter() - start
    centers = model.cluster_centers_
    extra = {key: [centroid_index(centers, o)] for key, o in case.extra_refs.items()}
    return Result(
        "Lloyd from reference",
        1,
        [centroid_index(centers, case.ref)],
        [inertia64(case.X, centers) / ref_inertia],
        [seconds],
        extra,
    )


def warm_up(factories: dict[str, Callable[[int, int], Any]]) -> None:
    """One small fit each, so that compilation and thread-pool start are not timed."""
    X, _ = make_blobs(2_000, 2, 5, random_state=0)
    for factory in factories.values():
        factory(5, 0).fit(X)


# -- output -------------------------------------------------------------------------

HEADER = (
    "| set | n | d | k | seeds | contender | success % | mean CI | max CI | "
    "inertia / reference | seconds |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
)


def row(case: Case, r: Result) -> str:
    n, d = case.X.shape
    k = case.ref.shape[0]
    ci = np.asarray(r.ci)
    return (
        f"| {case.name} | {n} | {d} | {k} | {r.seeds} | {r.contender} | "
        f"{100.0 * np.mean(ci == 0):.0f} | {ci.mean():.2f} | {ci.max()} | "
        f"{np.mean(r.ratio):.4f} | {np.mean(r.seconds):.3f} |"
    )


def extra_table(cases: list[Case], results: dict[str, list[Result]]) -> list[str]:
    lines = []
    for case in cases:
        for key in case.extra_refs:
            if not lines:
                lines = [
                    "",
                    "### Against the published S-set centroids (`sipu/gt_centroids/<s>-cb.txt`)",
                    "",
                    "| set | contender | success % | mean CI |",
                    "|---|---|---:|---:|",
                ]
            for r in results[case.name]:
                ci = np.asarray(r.extra_ci[key])
                lines.append(
                    f"| {case.name} | {r.contender} | {100.0 * np.mean(ci == 0):.0f} | "
                    f"{ci.mean():.2f} |"
                )
    return lines


def auto_notes(cases: list[Case], results: dict[str, list[Result]]) -> list[str]:
    """Flag sets whose reference is not a fair K-means target."""
    notes = []
    for case in cases:
        below = {}
        for r in results[case.name]:
            bad = [q for c, q in zip(r.ci, r.ratio, strict=True) if c > 0 and q < 1.0]
            if bad:
                below[r.contender] = min(bad)
        if below:
            found = ", ".join(f"{name} {q:.4f}" for name, q in below.items())
            notes.append(
                f"{case.name}: solutions with CI > 0 had lower inertia than the reference "
                f"(lowest inertia / reference: {found}): the reference is not the global "
                "K-means optimum here, so success % is not a fair score on this set."
            )
    return notes


def emit(lines: list[str], text: str) -> None:
    print(text, flush=True)
    lines.append(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..S-1 (default 20)")
    parser.add_argument("--sets", default=None, help="comma-separated; default: all")
    parser.add_argument("--quick", action="store_true", help="5 seeds, no birch1")
    parser.add_argument(
        "--contenders", default=None, help="comma-separated substrings of contender names"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # sklearn/bkmeans: "explicit initial centers" etc.

    seeds = args.seeds if args.seeds is not None else (5 if args.quick else 20)
    if args.sets:
        names = [s.strip() for s in args.sets.split(",") if s.strip()]
    else:
        names = [s for s in all_sets() if not (args.quick and s in SLOW_SETS)]
    unknown = sorted(set(names) - set(all_sets()))
    if unknown:
        parser.error(f"unknown sets {unknown}; known: {', '.join(all_sets())}")

    load_before = os.getloadavg()
    factories, notes = contenders()
    if args.contenders:
        wanted = [w.strip() for w in args.contenders.split(",")]
        factories = {n: f for n, f in factories.items() if any(w in n for w in wanted)}
    cases, data_notes = load_cases(names, args.data_dir)
    notes = data_notes + notes
    warm_up(factories)

    out: list[str] = []
    emit(out, "# Solution quality: K-means with the true k\n")
    emit(out, f"Command: `{shlex.join(['python', *sys.argv])}`\n")
    data_state = "" if args.data_dir.is_dir() else " is missing: only the generated sets ran"
    emit(out, f"Data: {args.data_dir.resolve()}{data_state}")
    emit(out, "")
    emit(
        out,
        "success % = share of seeds with Centroid Index 0 against the reference centroids; "
        "inertia / reference = inertia of the contender's centroids over that of the "
        "reference centroids (float64, nearest centroid, same code for both); seconds = "
        "mean wall time of one fit. Seeds 0..S-1 are each contender's `random_state`; "
        "kmeanskit derives each restart's seed from it while scikit-learn draws from it "
        "directly, so the same seed gives the two different starts: compare rates, not "
        "single runs.\n",
    )
    emit(out, HEADER)
    results: dict[str, list[Result]] = {}
    for case in cases:
        ref_inertia = inertia64(case.X, case.ref)
        results[case.name] = []
        for name, factory in factories.items():
            r = run_contender(case, name, factory, seeds, ref_inertia)
            results[case.name].append(r)
            emit(out, row(case, r))
        r = lloyd_from_reference(case, ref_inertia)
        results[case.name].append(r)
        emit(out, row(case, r))

    for line in extra_table(cases, results):
        emit(out, line)
    emit(out, "\n### Sets\n")
    for case in cases:
        emit(out, f"- {case.name}: {case.source}")
    notes += auto_notes(cases, results)
    if notes:
        emit(out, "\n### Notes\n")
        for note in notes:
            emit(out, f"- {note}")
    emit(out, "")
    version = bkmeans_version()
    emit(out, f"bkmeans: {version or 'not installed'}\n")
    emit(out, machine_header(loadavg=load_before))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
