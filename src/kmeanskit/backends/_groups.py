"""Whole-group passes: the in-memory pass, cut where it cuts, one group at a time.

``assign_pass`` cuts its chunks into ``G = n_groups_for(n, k, d)`` contiguous groups and
accumulates each group, in row order, into a private float64 sum; the groups are then
added in index order. A backend that never holds all the rows (Dask, a file streamed
from disk) runs the same kernel on one group at a time (``n_groups = 1``): every group
gives the same partial sums, every 256-row chunk the same inertia, bit for bit, and
the host reduces them in the same order. Nothing here depends on where a group lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kmeanskit._config import CHUNK_ROWS, n_groups_for, use_gemm_for
from kmeanskit._kernels.assign import NO_BOUNDS, USE_BOUNDS, assign_pass, scratch_blocks
from kmeanskit._kernels.cache import announce_compile
from kmeanskit._kernels.distance import distances_to_assigned, squared_distances
from kmeanskit._kernels.gemm import gemm_address
from kmeanskit._kernels.stats import MomentsFold, column_moments, sum_in_order
from kmeanskit.backends import Step
from kmeanskit.backends.bounds import NO_TERMS, BoundTerms, score_gamma

_NO_LOWER = np.empty((0, 1), dtype=np.float32)


def group_starts(n_samples: int, n_clusters: int, n_features: int) -> np.ndarray:
    """Row boundaries of the groups of an in-memory pass, shape (G + 1,), int64."""
    n_chunks = max(1, -(-n_samples // CHUNK_ROWS))
    n_groups = n_groups_for(n_samples, n_clusters, n_features)
    chunks = np.array([g * n_chunks // n_groups for g in range(n_groups + 1)], dtype=np.int64)
    return np.minimum(chunks * CHUNK_ROWS, n_samples)


@dataclass
class GroupStep:
    """What one group's pass returns: small (k x d) and per-chunk numbers."""

    sums: np.ndarray  # (k, d) float64 (empty when not accumulated)
    weights: np.ndarray  # (k,) float64
    inertia_chunks: np.ndarray  # (chunks of the group,) float64
    changed: int
    scored: int = 0  # rows scored against every centre (the others kept by their bounds)
    tied: bool = False  # a gathered row's GEMM scores held a near tie (see assign_pass)


def group_pass(
    X: np.ndarray,
    sample_weight: np.ndarray | None,
    centers: np.ndarray,
    labels_prev: np.ndarray | None,
    accumulate: bool,
    mode: int = NO_BOUNDS,
    lower: np.ndarray | None = None,
    terms: BoundTerms = NO_TERMS,
) -> tuple[np.ndarray, GroupStep]:
    """Lloyd pass over one group (its rows start on a chunk boundary).

    ``mode`` is that of ``assign_pass``: with ``SET_BOUNDS`` / ``USE_BOUNDS``, ``lower``
    (float32, (rows, centre groups)) holds the lower bounds and is updated in place;
    ``USE_BOUNDS`` needs the previous labels and the ``terms`` of ``BoundsPlan``. The
    labels, sums and inertia are those of the dense pass either way.

    Returns the new labels (int32) and the group's partial results.
    """
    X = np.ascontiguousarray(X)
    announce_compile(X.dtype)
    n, d = X.shape
    k = centers.shape[0]
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    if sample_weight is None:
        sample_weight = np.ones(n, dtype=X.dtype)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=X.dtype)
    if labels_prev is None:
        labels_prev = np.full(n, -1, dtype=np.int32)
    if lower is None:
        lower = _NO_LOWER
    labels = np.empty(n, dtype=np.int32)
    n_chunks = max(1, -(-n // CHUNK_ROWS))
    shape = (k, d) if accumulate else (0, 0)
    sums, wsums = np.empty((1, *shape)), np.empty((1, shape[0]))
    inertia = np.empty(n_chunks)
    changed = np.empty(n_chunks, dtype=np.int64)
    scored = np.empty(n_chunks, dtype=np.int64)
    tied = np.empty(n_chunks, dtype=np.bool_)
    assign_pass(
        X, sample_weight, centers, labels_prev, use_gemm_for(d, k), gemm_address(X.dtype),
        scratch_blocks(), accumulate, mode, False,
        score_gamma(X.dtype, d), terms.group_of, terms.drift_group, terms.drift_other,
        terms.separation, lower, labels, sums, wsums, inertia, changed, scored, tied,
    )  # fmt: skip
    step = GroupStep(
        sums[0], wsums[0], inertia, int(changed.sum()), int(scored.sum()), bool(tied.any())
    )
    return labels, step


def pass_step(
    steps: list[GroupStep], labels: Any, mode: int, n_samples: int, algorithm: str
) -> Step:
    """The driver's ``Step`` for a pass made of these groups, reduced as ``LocalBackend``
    reduces its own: group sums in index order (the same ``sum_in_order``), chunk
    inertias by one ``np.sum``."""
    k = steps[0].weights.shape[0]
    if steps[0].sums.size:
        d = steps[0].sums.shape[1]
        sums, weights = np.empty((k, d)), np.empty(k)
        sum_in_order(np.stack([s.sums.reshape(k * d) for s in steps]), sums.reshape(k * d))
        sum_in_order(np.stack([s.weights for s in steps]), weights)
    else:
        sums, weights = np.empty((k, 0)), np.empty(k)
    return Step(
        sums=sums,
        weights=weights,
        inertia=float(np.sum(np.concatenate([s.inertia_chunks for s in steps]))),
        n_changed=sum(s.changed for s in steps),
        labels=labels,
        algorithm=algorithm,
        skipped=1.0 - sum(s.scored for s in steps) / max(1, n_samples),
        final=mode != USE_BOUNDS or not any(s.tied for s in steps),
    )


def chunk_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-chunk column means and sums of squared deviations (``merged_variance``'s
    input; the chunks of consecutive groups concatenate to those of all rows)."""
    return column_moments(np.ascontiguousarray(X))


def merged_variance(parts: list[tuple[np.ndarray, np.ndarray]], n_samples: int) -> np.ndarray:
    """Column variance of all rows from the groups' ``chunk_moments``, folded in group
    order: the same bits as ``_kernels.stats.column_variance`` on the whole array."""
    fold = MomentsFold(parts[0][0].shape[1])
    for means, m2 in parts:
        fold.add(means, m2, min(means.shape[0] * CHUNK_ROWS, n_samples - fold.rows))
    return fold.variance()


def assigned_distances(
    X: np.ndarray, sample_weight: np.ndarray | None, centers: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """Weighted squared distance of each row to its assigned centre (float64)."""
    X = np.ascontiguousarray(X)
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0], dtype=X.dtype)
    out = np.empty(X.shape[0])
    distances_to_assigned(
        X,
        np.ascontiguousarray(sample_weight, dtype=X.dtype),
        np.ascontiguousarray(centers, dtype=X.dtype),
        labels,
        out,
    )
    return out


def top_rows(dist: np.ndarray, offset: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` largest of ``dist`` (lowest index among ties) as (global index, value)."""
    if m < dist.shape[0]:
        # Only the rows at or above the m-th largest value can be among the m largest.
        kth = np.partition(dist, dist.shape[0] - m)[dist.shape[0] - m]
        candidates = np.flatnonzero(dist >= kth)  # ascending: ties stay lowest first
    else:
        candidates = np.arange(dist.shape[0])
    local = candidates[np.argsort(-dist[candidates], kind="stable")][:m]
    return local.astype(np.int64) + offset, dist[local]


def merge_top(candidates: list[tuple[np.ndarray, np.ndarray]], m: int) -> np.ndarray:
    """The global ``m`` largest among per-group tops: largest first, lowest index on ties."""
    index = np.concatenate([c[0] for c in candidates])
    value = np.concatenate([c[1] for c in candidates])
    return index[np.lexsort((index, -value))][:m]


def sq_distances(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distances (float64) of every row to every centre, computed directly."""
    X = np.ascontiguousarray(X)
    out = np.empty((X.shape[0], centers.shape[0]))
    squared_distances(X, np.ascontiguousarray(centers, dtype=X.dtype), out)
    return out
