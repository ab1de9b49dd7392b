"""What the explorer computes: presets, traps, uploads, traces, the lab and the elbow.

Only public kmeanskit names are used (``kmeanskit.trace``, ``kmeanskit.datasets``,
``kmeanskit.io``), so the page shows exactly what the library does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

import kmeanskit
from kmeanskit import datasets as ds
from kmeanskit import io as kio

#: Most rows the page draws (presets and uploads); ``kmeanskit fit`` has no such limit.
MAX_ROWS = 20_000
MAX_K = 40
MAX_SEEDS = 48
MAX_ITER = 500
#: Most point-to-centroid distances one request may compute (rows x k x runs x iterations),
#: so that one request holds the lock for seconds, not minutes (docs/explorer.md, Safety).
MAX_WORK = 1_000_000_000
#: What the global search after each lab seed costs, counted in Lloyd iterations.
SEARCH_ITERS = 1000
INITS = ("k-means++", "random", "farthest", "manual")


class BadRequest(ValueError):
    """A request parameter that cannot be used; answered with 400 and this message."""


@dataclass(frozen=True)
class Preset:
    caption: str
    make: Any  # (n, seed) -> (X, y)
    n: int
    k: int


PRESETS: dict[str, Preset] = {
    "blobs": Preset(
        "Five round Gaussian blobs: the case K-means is made for.",
        lambda n, s: ds.make_blobs(n, 2, 5, cluster_std=1.0, spread=10.0, random_state=s),
        400,
        5,
    ),
    "uniform": Preset(
        "No clusters at all: K-means still cuts the square into k cells.",
        lambda n, s: ds.make_uniform(n, 2, random_state=s),
        400,
        4,
    ),
    "anisotropic": Preset(
        "Stretched blobs: K-means assumes round clusters and cuts across them.",
        lambda n, s: ds.make_anisotropic(n, 2, 3, random_state=s),
        400,
        3,
    ),
    "unequal-variance": Preset(
        "Blobs of very different spread: the wide one loses its rim to the tight ones.",
        lambda n, s: ds.make_unequal_variance(n, 2, 3, random_state=s),
        400,
        3,
    ),
    "uneven": Preset(
        "Uneven sizes: each blob has half the points of the one before.",
        lambda n, s: ds.make_uneven(n, 2, 5, random_state=s),
        500,
        5,
    ),
    "moons": Preset(
        "Two interleaving half circles: not convex, so no k splits them right.",
        lambda n, s: ds.make_moons(n, random_state=s),
        400,
        2,
    ),
    "rings": Preset(
        "Concentric rings: K-means cuts them like a pie.",
        lambda n, s: ds.make_rings(n, 3, random_state=s),
        500,
        3,
    ),
    "smiley": Preset(
        "A smiley: outline, two eyes and a mouth. K-means cuts it into quarters.",
        lambda n, s: ds.make_smiley(n, random_state=s),
        500,
        4,
    ),
    "smiley-outliers": Preset(
        "The smiley with a few far outliers: squared distances let them pull centroids.",
        lambda n, s: ds.make_smiley_outliers(n, random_state=s),
        500,
        4,
    ),
    "packed-discs": Preset(
        "Seven touching discs: no gaps, many local optima of nearly the same inertia.",
        lambda n, s: ds.make_packed_discs(n, 7, random_state=s),
        700,
        7,
    ),
    "duplicates": Preset(
        "Only three distinct points, each repeated: fewer distinct points than k.",
        lambda n, s: ds.make_duplicates(n, 3, random_state=s),
        60,
        5,
    ),
    "mixed-units": Preset(
        "x2 is noise in units 1000 times larger than x1: standardise to see the blobs.",
        lambda n, s: ds.make_mixed_units(n, 3, random_state=s),
        300,
        3,
    ),
}

#: One-click failure modes: (key, title, caption, settings for the page).
TRAPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("wrong-k", "wrong k", "Five blobs, k = 3: K-means must merge blobs.", {"data": "blobs"}),
    ("anisotropic", "anisotropic", "Stretched blobs are cut across.", {"data": "anisotropic"}),
    (
        "unequal-variance",
        "unequal variance",
        "The boundary sits halfway between centres, inside the wide blob.",
        {"data": "unequal-variance"},
    ),
    ("uneven", "uneven sizes", "Big blobs get split, small ones merged.", {"data": "uneven"}),
    ("non-convex", "non-convex", "Moons cannot be separated by a straight line.", {}),
    ("outliers", "outliers", "A few far points drag a centroid off its cluster.", {}),
    (
        "one-blob",
        "all centroids in one blob",
        "Every start in the same blob: Lloyd moves them out slowly, if at all.",
        {"data": "blobs", "init": "manual"},
    ),
    (
        "empty",
        "an empty cluster",
        "One start far from every point gets no points; it is moved to the farthest point.",
        {"data": "blobs", "init": "manual"},
    ),
    (
        "duplicates",
        "duplicate points",
        "Three distinct points and k = 5: some clusters must share a point or stay empty.",
        {"data": "duplicates"},
    ),
    (
        "mixed-units",
        "one feature in other units",
        "x2 dwarfs x1 so K-means splits the noise; tick 'standardise' to fix it.",
        {"data": "mixed-units", "std": 0},
    ),
]
_TRAP_SETTINGS = {
    "wrong-k": {"k": 3},
    "non-convex": {"data": "moons", "k": 2},
    "outliers": {"data": "smiley-outliers", "k": 4},
}


@dataclass
class Dataset:
    """Data as the page sees it: the full matrix, its 2-D view and where it came from."""

    name: str
    caption: str
    X: np.ndarray
    truth: np.ndarray | None
    columns: list[str]

    def projection(self) -> dict[str, Any]:
        """The 2-D view: the two columns, or the first two principal components."""
        n, d = self.X.shape
        mean = np.zeros(d)
        if d <= 2:
            comps = np.eye(2, d)
            axes = [*self.columns[:2], ""][:2]
        else:
            mean = self.X.mean(axis=0)
            _, s, vt = np.linalg.svd(self.X - mean, full_matrices=False)
            comps = np.zeros((2, d))
            comps[: len(vt[:2])] = vt[:2]
            # A fixed sign (largest loading positive) so that the view does not flip.
            signs = np.sign(comps[np.arange(2), np.abs(comps).argmax(axis=1)])
            comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
            share = np.zeros(2)
            share[: len(s[:2])] = s[:2] ** 2 / max(float(np.sum(s**2)), 1e-300)
            axes = [f"PC{i + 1} ({100 * share[i]:.0f}% of variance)" for i in range(2)]
        return {"mean": mean.tolist(), "comps": comps.tolist(), "axes": axes, "pca": d > 2}

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "caption": self.caption,
            "X": self.X.tolist(),
            "truth": None if self.truth is None else self.truth.tolist(),
            "columns": self.columns,
            "n": int(self.X.shape[0]),
            "d": int(self.X.shape[1]),
            "projection": self.projection(),
        }


class Store:
    """The data the server may serve: presets, the command line's file, uploads."""

    def __init__(self, table: kio.Table | None = None, max_uploads: int = 8) -> None:
        self.file = table
        self.uploads: OrderedDict[str, Dataset] = OrderedDict()
        self.max_uploads = max_uploads
        self.lock = threading.Lock()  # numba's thread pool is not re-entrant

    # -- parameters ------------------------------------------------------------------

    @staticmethod
    def number(params: dict[str, str], name: str, default: Any, lo: float, hi: float) -> Any:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        kind = float if isinstance(default, float) else int
        shown = raw if len(raw) <= 30 else raw[:27] + "..."
        try:
            value = kind(raw)
        except ValueError:
            whole = " whole" * (kind is int)
            raise BadRequest(
                f"{name}={shown!r} is not a{whole} number between {lo:g} and {hi:g}"
            ) from None
        # Plain Python comparisons: a 20-digit int overflows numpy's isfinite.
        if (kind is float and not math.isfinite(value)) or not lo <= value <= hi:
            raise BadRequest(f"{name}={shown!r} must be between {lo:g} and {hi:g}")
        return value

    def dataset(self, params: dict[str, str]) -> Dataset:
        """The data a request names: ``data`` = preset, ``file`` or ``upload:<id>``."""
        name = params.get("data", "blobs")
        if name == "file":
            if self.file is None:
                raise BadRequest("data=file but no data file was given on the command line")
            cols = self.file.columns or [f"x{j + 1}" for j in range(self.file.X.shape[1])]
            data = Dataset(self.file.source, "Your data file.", self.file.X, None, cols)
        elif name.startswith("upload:"):
            data = self.uploads.get(name[7:])
            if data is None:
                raise BadRequest(
                    "that upload is gone (the server keeps the last few): send it again"
                )
        elif name in PRESETS:
            preset = PRESETS[name]
            n = self.number(params, "n", preset.n, 2, MAX_ROWS)
            seed = self.number(params, "dseed", 0, 0, 2**31 - 1)
            noise = self.number(params, "noise", 0.0, 0.0, 5.0)
            X, y = preset.make(n, seed)
            if noise > 0:
                jitter = np.random.default_rng(seed + 1).normal(size=X.shape)
                X = X + noise * X.std(axis=0) * jitter
            data = Dataset(name, preset.caption, np.ascontiguousarray(X), y, ["x1", "x2"])
        else:
            raise BadRequest(f"data={name!r} is not a preset ({', '.join(PRESETS)}) or an upload")
        if params.get("std") in ("1", "true"):
            sd = data.X.std(axis=0)
            X = (data.X - data.X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
            cols = [f"{c} (standardised)" for c in data.columns]
            data = Dataset(data.name, data.caption, np.ascontiguousarray(X), data.truth, cols)
        return data

    def _run_params(self, params: dict[str, str], X: np.ndarray) -> dict[str, Any]:
        k = self.number(params, "k", 3, 1, MAX_K)
        if k > X.shape[0]:
            raise BadRequest(f"k={k} is more than the {X.shape[0]} points: lower k")
        init = params.get("init", "k-means++")
        if init not in INITS:
            raise BadRequest(f"init={init!r} must be one of {', '.join(INITS)}")
        if init == "manual":
            init = self._centers(params.get("centers", ""), k, X.shape[1])
        return {
            "n_clusters": k,
            "init": init,
            "random_state": self.number(params, "seed", 0, 0, 2**31 - 1),
            "max_iter": self.number(params, "max_iter", 100, 1, MAX_ITER),
        }

    @staticmethod
    def _centers(raw: str, k: int, d: int) -> np.ndarray:
        try:
            rows = [[float(v) for v in row.split(",")] for row in raw.split(";") if row]
            centers = np.array(rows, dtype=np.float64)
        except ValueError:
            raise BadRequest(f"centers={raw!r}: write them as x,y;x,y;...") from None
        if centers.shape != (k, d) or not np.all(np.isfinite(centers)):
            raise BadRequest(f"init=manual needs k={k} centres of {d} numbers; got {raw!r}")
        return centers

    # -- computations ----------------------------------------------------------------

    def trace(self, params: dict[str, str]) -> dict[str, Any]:
        data = self.dataset(params)
        run = self._run_params(params, data.X)
        work = data.X.shape[0] * run["n_clusters"] * run["max_iter"]
        check_work(work, "lower max_iter, k or n")
        with self.lock:
            return kmeanskit.trace(data.X, **run).as_dict()

    def lab(self, params: dict[str, str]) -> dict[str, Any]:
        """The final clustering of seeds 0..n-1, with random and with k-means++ starts."""
        data = self.dataset(params)
        run = self._run_params({**params, "init": "random"}, data.X)
        n_seeds = self.number(params, "seeds", 12, 1, MAX_SEEDS)
        iters = 2 * run["max_iter"] + SEARCH_ITERS
        work = data.X.shape[0] * run["n_clusters"] * n_seeds * iters
        check_work(work, "lower seeds, k or n")
        out: dict[str, Any] = {"k": run["n_clusters"], "seeds": list(range(n_seeds))}
        with self.lock:
            for init in ("random", "k-means++"):
                runs = []
                for seed in range(n_seeds):
                    t = kmeanskit.trace(data.X, **{**run, "init": init, "random_state": seed})
                    runs.append(summary(t, seed))
                out[init] = runs
            out["search"] = search_runs(data.X, run["n_clusters"], n_seeds)
        return out

    def elbow(self, params: dict[str, str]) -> dict[str, Any]:
        """Best inertia over five k-means++ seeds for k = 1..kmax."""
        data = self.dataset(params)
        kmax = min(self.number(params, "kmax", 10, 1, MAX_K), data.X.shape[0])
        ks, best = list(range(1, kmax + 1)), []
        check_work(data.X.shape[0] * sum(ks) * 5 * 100, "lower kmax or n")
        with self.lock:
            for k in ks:
                runs = (kmeanskit.trace(data.X, k, random_state=s).inertia for s in range(5))
                best.append(min(runs))
        return {"k": ks, "inertia": best}

    def upload(self, body: bytes, filename: str) -> dict[str, Any]:
        """Read an uploaded CSV with the CLI's reader; errors name the line and column."""
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"{filename} is not UTF-8 text ({exc.reason}): save it as UTF-8"
            ) from None
        try:
            table = kio.read_table("-", stdin=io.StringIO(text))
        except kio.DataError as exc:
            raise BadRequest(str(exc).replace("<stdin>", filename)) from None
        except csv.Error as exc:  # e.g. a field over the csv module's 131,072 characters
            raise BadRequest(f"{filename} cannot be read as CSV ({exc})") from None
        n, d = table.X.shape
        if n > MAX_ROWS:
            raise BadRequest(f"{filename} has {n} rows; the explorer draws up to {MAX_ROWS}")
        key = hashlib.sha256(body).hexdigest()[:16]
        cols = table.columns or [f"column {j + 1}" for j in range(d)]
        with self.lock:
            self.uploads[key] = Dataset(filename, f"Uploaded: {filename}", table.X, None, cols)
            self.uploads.move_to_end(key)
            while len(self.uploads) > self.max_uploads:
                self.uploads.popitem(last=False)
        return {"id": key, "name": filename, "n": n, "d": d, "columns": cols}


def check_work(work: int, lower: str) -> None:
    """Refuse (400) a request that would compute more than ``MAX_WORK`` distances."""
    if work > MAX_WORK:
        raise BadRequest(
            f"this request would compute {work:,} point-to-centroid distances "
            f"(rows x k x runs x iterations); the limit is {MAX_WORK:,}: {lower}"
        )


def search_runs(X: np.ndarray, k: int, n_seeds: int) -> list[dict[str, Any]]:
    """kmeanskit's default fit (k-means++, Lloyd, then the global search) per seed: where
    the same starts as the k-means++ column end once the search has run."""
    runs = []
    for seed in range(n_seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate points, k > distinct rows
            km = kmeanskit.KMeans(k, random_state=seed, tol=0.0).fit(X)
        h = km.history_
        runs.append(
            {
                "seed": seed,
                "inertia": float(km.inertia_),
                "n_iter": int(km.n_iter_),
                "stop_reason": km.stop_reason_,
                "labels": km.labels_.tolist(),
                "centers": km.cluster_centers_.tolist(),
                "cycles": len(h.search),
                "kept": sum(c.accepted for c in h.search),
                "lloyd_inertia": float(h.restarts[h.best_restart].inertia),
            }
        )
    return runs


def summary(t: kmeanskit.Trace, seed: int) -> dict[str, Any]:
    """What the lab shows of one run."""
    return {
        "seed": seed,
        "inertia": t.inertia,
        "n_iter": t.n_iter,
        "stop_reason": t.stop_reason,
        "labels": t.labels.tolist(),
        "centers": t.centers.tolist(),
    }


def traps(store: Store) -> list[dict[str, Any]]:
    """The one-click failure modes with the full settings the page applies."""
    out = []
    for key, title, caption, settings in TRAPS:
        s: dict[str, Any] = {"init": "k-means++", "seed": 0, "std": 0, **settings}
        s.update(_TRAP_SETTINGS.get(key, {}))
        s.setdefault("k", PRESETS[s["data"]].k)
        if s["init"] == "manual":
            s["centers"] = _trap_centers(store, key, s)
        out.append({"key": key, "title": title, "caption": caption, "settings": s})
    return out


def _trap_centers(store: Store, key: str, s: dict[str, Any]) -> list[list[float]]:
    data = store.dataset({"data": s["data"]})
    X, y = data.X, data.truth
    k = s["k"]
    if key == "one-blob":
        return X[np.flatnonzero(y == 0)[:k]].tolist()
    # "empty": k-1 points from distinct blobs, one centre beyond the data's corner.
    first = [int(np.flatnonzero(y == c)[0]) for c in range(k - 1)]
    far = X.max(axis=0) + (X.max(axis=0) - X.min(axis=0))
    return [*X[first].tolist(), far.tolist()]


def presets() -> list[dict[str, Any]]:
    return [{"name": k, "caption": p.caption, "n": p.n, "k": p.k} for k, p in PRESETS.items()]
