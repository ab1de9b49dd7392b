"""Pictures (matplotlib, the ``plot`` extra, imported when first used).

Figures are built with ``matplotlib.figure.Figure`` and saved through the Agg canvas:
no pyplot, no global backend change, nothing left open.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from kmeanskit._outputs import atomic, picture_format

#: Most points drawn in a scatter plot; more are sampled (and the title says so).
MAX_POINTS = 20_000


def _matplotlib() -> Any:
    from kmeanskit.io import require

    return require("matplotlib.figure", "plot").Figure


def save(fig: Any, path: str | os.PathLike) -> None:
    """Write the figure as PNG, PDF or SVG, chosen by the suffix of ``path`` (atomically).

    Raises
    ------
    ValueError
        For another suffix (matplotlib would write PNG bytes under any name).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    kind = picture_format(path)
    FigureCanvasAgg(fig)
    with atomic(path) as tmp:
        fig.savefig(tmp, dpi=110, format=kind)


def _project(
    X: np.ndarray, centers: np.ndarray, names: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """2-D coordinates of rows and centres, and the axis labels."""
    d = X.shape[1]
    names = list(names) if names else [f"column {i + 1}" for i in range(d)]
    if d == 1:
        return (
            np.column_stack([X[:, 0], np.zeros(len(X))]),
            np.column_stack([centers[:, 0], np.zeros(len(centers))]),
            names[0],
            "",
        )
    if d == 2:
        return X, centers, names[0], names[1]
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    share = s**2 / np.sum(s**2)
    return (
        (X - mean) @ vt[:2].T,
        (centers - mean) @ vt[:2].T,
        f"first principal component ({share[0]:.0%} of variance)",
        f"second principal component ({share[1]:.0%} of variance)",
    )


def fit_figure(
    X: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray,
    inertia_per_iteration: Sequence[float],
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "",
) -> Any:
    """Clusters with their centres (left) and the inertia of every iteration (right)."""
    Figure = _matplotlib()
    X, labels, centers = np.asarray(X, float), np.asarray(labels), np.asarray(centers, float)
    n = len(X)
    shown = np.arange(n)
    if n > MAX_POINTS:
        shown = np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))
    P, C, xlabel, ylabel = _project(X[shown], centers, feature_names)
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.35, 1])
    k = len(centers)
    cmap = "tab10" if k <= 10 else "tab20" if k <= 20 else "turbo"
    ax.scatter(
        P[:, 0],
        P[:, 1],
        c=labels[shown],
        cmap=cmap,
        vmin=0,
        vmax=max(k - 1, 1),
        s=6,
        alpha=0.6,
        linewidths=0,
    )
    ax.scatter(
        C[:, 0],
        C[:, 1],
        marker="X",
        s=140,
        c="black",
        edgecolors="white",
        linewidths=1.2,
        label="centres",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    spans = np.ptp(P, axis=0) if len(P) else np.ones(2)
    if spans.min() > 0 and spans.max() / spans.min() < 3:
        ax.set_aspect("equal", adjustable="datalim")  # round clusters look round
    sampled = f" ({len(shown):,} of {n:,} rows shown)" if n > MAX_POINTS else ""
    ax.set_title(f"{title or 'clusters'}: k={k}{sampled}", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    it = np.arange(1, len(inertia_per_iteration) + 1)
    ax2.plot(it, inertia_per_iteration, marker="o", markersize=3)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("inertia (before the update)")
    ax2.set_title("inertia per iteration (kept restart)", fontsize=10)
    ax2.grid(alpha=0.3)
    if len(it) and it[-1] <= 20:
        ax2.set_xticks(it)
    return fig


def choose_k_figure(result: Any) -> Any:
    """The four views of a choose-k sweep, the recommended k marked in each."""
    Figure = _matplotlib()
    ks = np.asarray(result.k_values)
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    views = [
        (axes[0, 0], result.inertia, "inertia (elbow)", result.elbow),
        (axes[0, 1], result.silhouette, "silhouette (higher is better)", result.best_silhouette),
        (axes[1, 0], result.gap, "gap statistic", result.gap_k),
        (axes[1, 1], result.stability, "stability across seeds (mean ARI)", result.most_stable),
    ]
    for ax, values, name, pick in views:
        values = np.asarray(values, dtype=float)
        if ax is axes[1, 0]:
            ax.errorbar(ks, values, yerr=result.gap_sd, marker="o", markersize=4, capsize=3)
        else:
            ax.plot(ks, values, marker="o", markersize=4)
        ax.axvline(result.k, color="tab:red", linestyle="--", linewidth=1, label=f"k={result.k}")
        if pick is not None and not math.isnan(values[list(ks).index(pick)]):
            ax.plot(
                [pick],
                [values[list(ks).index(pick)]],
                "s",
                color="tab:orange",
                markersize=9,
                fillstyle="none",
                label=f"this view: {pick}",
            )
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("k")
    fig.suptitle(f"choose-k: recommended k={result.k}", fontsize=11)
    return fig
