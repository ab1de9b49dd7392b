"""Choosing k: a sweep over k with four views of the answer and a recommendation.

For each k: the inertia of a fit on all rows (the elbow: Kneedle on log inertia), the
silhouette (on a sample when there are many rows), the gap statistic (Tibshirani, Walther
and Hastie 2001; uniform reference sets in the principal-axes box of a sample), and the
stability across seeds (mean pairwise adjusted Rand index of fits from different seeds on
a sample). Everything is seeded: the same call gives the same table.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from kmeanskit import metrics
from kmeanskit._estimator import KMeans

__all__ = ["ChooseKResult", "choose_k", "kneedle"]


@dataclass(frozen=True)
class ChooseKResult:
    """The sweep, one entry per k, and the recommendation.

    Attributes
    ----------
    k_values : list of int
    inertia : list of float
        Of a fit on all rows (``n_init`` restarts).
    silhouette : list of float
        NaN where undefined (k = 1).
    gap, gap_sd : list of float
        Gap statistic and its standard error ``sd * sqrt(1 + 1/n_refs)``.
    stability : list of float
        Mean pairwise ARI of the labels of ``n_seeds`` fits (NaN for k = 1).
    elbow, best_silhouette, gap_k, most_stable : int or None
        What each view picks on its own.
    k : int
        The recommendation.
    why : str
        One line: which views agree on it.
    n_rows, sample_size : int
        Rows of the data, and rows in the sample that silhouette, gap and stability used.
    """

    k_values: list[int]
    inertia: list[float]
    silhouette: list[float]
    gap: list[float]
    gap_sd: list[float]
    stability: list[float]
    elbow: int | None
    best_silhouette: int | None
    gap_k: int | None
    most_stable: int | None
    k: int
    why: str
    n_rows: int
    sample_size: int

    @property
    def table(self) -> list[dict[str, float]]:
        """One dict per k: k, inertia, silhouette, gap, gap_sd, stability."""
        cols = ("inertia", "silhouette", "gap", "gap_sd", "stability")
        return [
            {"k": k, **{c: getattr(self, c)[i] for c in cols}} for i, k in enumerate(self.k_values)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers, NaN as None: ready for JSON."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, list):
                out[key] = [None if isinstance(v, float) and math.isnan(v) else v for v in value]
        out["table"] = [
            {c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in row.items()}
            for row in self.table
        ]
        return out

    def format_table(self) -> str:
        """The table as aligned text, a ``*`` on the recommended row."""
        lines = [
            f"{'k':>4}  {'inertia':>12}  {'silhouette':>10}  {'gap':>7}  {'gap_sd':>7}  "
            f"{'stability':>9}"
        ]
        for row in self.table:
            mark = " *" if row["k"] == self.k else ""
            lines.append(
                f"{row['k']:>4}  {row['inertia']:>12.6g}  {_fmt(row['silhouette'], 10)}  "
                f"{_fmt(row['gap'], 7)}  {_fmt(row['gap_sd'], 7)}  "
                f"{_fmt(row['stability'], 9)}{mark}"
            )
        return "\n".join(lines)

    def plot(self, path: Any) -> None:
        """Save the four views as one picture, PNG, PDF or SVG by the suffix of ``path``
        (needs matplotlib: the ``plot`` extra)."""
        from kmeanskit import _plots

        _plots.save(_plots.choose_k_figure(self), path)


def _fmt(value: float, width: int) -> str:
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:>{width}.4f}"


def kneedle(x: Iterable[float], y: Iterable[float]) -> float | None:
    """The knee of a decreasing convex curve (Satopaa et al. 2011), or None.

    Both axes are scaled to [0, 1]; the knee is the point farthest below the chord from
    the first point to the last.
    """
    x, y = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    below = (1.0 - xn) - yn
    best = int(np.argmax(below))
    return float(x[best]) if below[best] > 0 else None


def _reference_box(S: np.ndarray, rng: np.random.Generator, n_refs: int) -> list[np.ndarray]:
    """``n_refs`` uniform samples in the box of S's principal axes (Tibshirani's (b))."""
    mean = S.mean(axis=0)
    _, _, vt = np.linalg.svd(S - mean, full_matrices=False)
    rotated = (S - mean) @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    return [
        np.ascontiguousarray(rng.uniform(lo, hi, size=rotated.shape) @ vt + mean)
        for _ in range(n_refs)
    ]


def _fit(X: np.ndarray, k: int, seed: int, n_init: int, n_threads: int | None) -> KMeans:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicates or max_iter: the numbers still count
        return KMeans(k, n_init=n_init, random_state=seed, n_threads=n_threads).fit(X)


def _gap_pick(ks: list[int], gap: list[float], sd: list[float]) -> int | None:
    """Smallest k with Gap(k) >= Gap(k') - s(k') for the next k' of the sweep."""
    for i in range(len(ks) - 1):
        if gap[i] >= gap[i + 1] - sd[i + 1]:
            return ks[i]
    finite = [(g, k) for g, k in zip(gap, ks, strict=True) if not math.isnan(g)]
    return max(finite)[1] if finite else None


def _recommend(
    ks: list[int],
    picks: dict[str, int | None],
    silhouette: list[float],
    stability: list[float],
) -> tuple[int, str]:
    votes: dict[int, list[str]] = {}
    for view, k in picks.items():
        if k is not None and view != "most stable":
            votes.setdefault(k, []).append(view)

    def score(k: int) -> tuple:
        i = ks.index(k)
        stab = -1.0 if math.isnan(stability[i]) else stability[i]
        sil = -2.0 if math.isnan(silhouette[i]) else silhouette[i]
        return (len(votes.get(k, [])), stab, sil, -k)

    if not votes:
        k = max(ks, key=score)
        return k, "no view found a clear answer; these labels are the most stable"
    k = max(votes, key=score)
    i = ks.index(k)
    names = votes[k]
    agree = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    scores = []
    if not math.isnan(silhouette[i]):
        scores.append(f"silhouette {silhouette[i]:.3f}")
    if not math.isnan(stability[i]):
        scores.append(f"stability across seeds {stability[i]:.2f}")
    parts = [f"{agree} {'picks it' if len(names) == 1 else 'agree'}"]
    if scores:
        parts.append(", ".join(scores))
    others = [f"{v} says {picks[v]}" for v in picks if picks[v] not in (None, k)]
    if others:
        parts.append(", ".join(others))
    return k, "; ".join(parts)


def choose_k(
    X: Any,
    k_range: Iterable[int] = range(2, 11),
    *,
    n_init: int = 1,
    random_state: int = 0,
    n_seeds: int = 5,
    n_refs: int = 5,
    sample_size: int = 2000,
    n_threads: int | None = None,
    progress: bool | None = None,
) -> ChooseKResult:
    """Fit KMeans for every k in ``k_range`` and say which k fits the data best.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k_range : iterable of int
        The k to try (each >= 1 and <= n_samples).
    n_init : int
        Restarts of the fit on all rows (its inertia is the elbow curve).
    random_state : int
        Seeds everything: the sample, the reference sets, the fits.
    n_seeds : int
        Fits per k (on the sample) whose labels are compared for the stability.
    n_refs : int
        Uniform reference sets for the gap statistic.
    sample_size : int
        Rows the silhouette, gap and stability use (all rows when there are fewer).
    n_threads : int or None
    progress : bool or None
        A progress bar over k on standard error; None: only when it is a terminal.

    Returns
    -------
    ChooseKResult
    """
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array, not of shape {X.shape}")
    ks = sorted({int(k) for k in k_range})
    n = X.shape[0]
    if not ks or ks[0] < 1 or ks[-1] > n:
        raise ValueError(f"every k must be between 1 and the number of rows ({n}); got {ks}")
    if n_seeds < 2 or n_refs < 1 or sample_size < 2:
        raise ValueError("n_seeds must be >= 2, n_refs >= 1 and sample_size >= 2")
    rng = np.random.default_rng(random_state)
    if n > sample_size:
        S = np.ascontiguousarray(X[np.sort(rng.choice(n, size=sample_size, replace=False))])
    else:
        S = X
    refs = _reference_box(S, rng, n_refs)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=n_seeds)]

    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    rows = {name: [] for name in ("inertia", "silhouette", "gap", "gap_sd", "stability")}
    for k in tqdm(ks, desc="choose-k", unit="k", disable=not progress, file=sys.stderr):
        full = _fit(X, k, random_state, n_init, n_threads)
        rows["inertia"].append(float(full.inertia_))
        if k >= 2 and k <= n - 1:
            rows["silhouette"].append(
                metrics.silhouette(
                    X, full.labels_, sample_size=sample_size, random_state=random_state
                )
            )
        else:
            rows["silhouette"].append(math.nan)
        labelings = [_fit(S, k, s, 1, n_threads) for s in seeds]
        w = labelings[0].inertia_  # one fit, as for every reference set
        log_ref = np.log([max(_fit(R, k, seeds[0], 1, n_threads).inertia_, 1e-300) for R in refs])
        rows["gap"].append(float(log_ref.mean() - math.log(max(w, 1e-300))))
        rows["gap_sd"].append(float(log_ref.std() * math.sqrt(1.0 + 1.0 / n_refs)))
        if k == 1:
            rows["stability"].append(math.nan)
        else:
            pairs = itertools.combinations([m.labels_ for m in labelings], 2)
            rows["stability"].append(
                float(np.mean([metrics.adjusted_rand_index(a, b) for a, b in pairs]))
            )

    sil = rows["silhouette"]
    stab = rows["stability"]
    # The knee of log(inertia): where the relative gain of one more cluster drops.
    elbow = kneedle(ks, np.log(np.maximum(rows["inertia"], 1e-300)))
    finite_sil = [(s, -k) for s, k in zip(sil, ks, strict=True) if not math.isnan(s)]
    finite_stab = [(s, -k) for s, k in zip(stab, ks, strict=True) if not math.isnan(s)]
    picks = {
        "silhouette": -max(finite_sil)[1] if finite_sil else None,
        "gap statistic": _gap_pick(ks, rows["gap"], rows["gap_sd"]),
        "elbow": None if elbow is None else int(elbow),
        "most stable": -max(finite_stab)[1] if finite_stab else None,
    }
    k, why = _recommend(ks, picks, sil, stab)
    return ChooseKResult(
        k_values=ks,
        elbow=picks["elbow"],
        best_silhouette=picks["silhouette"],
        gap_k=picks["gap statistic"],
        most_stable=picks["most stable"],
        k=k,
        why=why,
        n_rows=n,
        sample_size=S.shape[0],
        **rows,
    )
