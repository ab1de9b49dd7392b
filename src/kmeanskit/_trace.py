"""Every half-step of one Lloyd run, for teaching and for the explorer page.

``trace`` runs exactly what ``KMeans(n_init=1, algorithm="lloyd")`` runs (the same
initial centres from the same seed, the same backend passes, the same empty-cluster
relocation from ``_core``) and records the state after each half-step: the initial
centres, then assign, update, assign, update, ...
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kmeanskit._arrays import kernel_array
from kmeanskit._core import _new_centers, scaled_tolerance
from kmeanskit._init import INIT_METHODS, initial_centers
from kmeanskit.backends.local import LocalBackend

#: The ``init`` names trace accepts (an explicit (k, d) array is "manual").
TRACE_INITS = tuple(INIT_METHODS)


@dataclass
class Frame:
    """The state after one half-step.

    Attributes
    ----------
    kind : {"init", "assign", "update"}
    iteration : int
        0 for the initial centres, then the Lloyd iteration (1-based) the half-step is in.
    labels : ndarray of shape (n_samples,), int32, or None
        The cluster of every row (None before the first assignment). After an update
        with relocation, the relocated rows carry their new cluster.
    centers : ndarray of shape (n_clusters, n_features), float64
    inertia : float or None
        Weighted sum of squared distances of the rows to the centres of their clusters
        (None before the first assignment).
    changed : ndarray of int64
        Rows whose cluster changed in this half-step (every row at the first assignment;
        relocated rows at an update).
    empty : list of int
        Clusters that received no row in this assignment (assign and update frames).
    relocated : list of (cluster, row)
        What the update did with each empty cluster: its centre moved onto ``row``, the
        row farthest from its centre.
    """

    kind: str
    iteration: int
    labels: np.ndarray | None
    centers: np.ndarray
    inertia: float | None
    changed: np.ndarray
    empty: list[int] = field(default_factory=list)
    relocated: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (lists, ints and floats)."""
        return {
            "kind": self.kind,
            "iteration": self.iteration,
            "labels": None if self.labels is None else self.labels.tolist(),
            "centers": self.centers.tolist(),
            "inertia": self.inertia,
            "changed": self.changed.tolist(),
            "empty": list(self.empty),
            "relocated": [list(pair) for pair in self.relocated],
        }


@dataclass
class Trace:
    """A whole Lloyd run, half-step by half-step.

    Attributes
    ----------
    frames : list of Frame
    centers, labels, inertia :
        The final result: equal, bit for bit, to ``cluster_centers_``, ``labels_`` and
        ``inertia_`` of ``KMeans(n_init=1, algorithm="lloyd")`` with the same settings.
    n_iter : int
        Lloyd iterations run.
    stop_reason : {"no_change", "tol", "max_iter"}
    init : str
        ``"k-means++"``, ``"random"``, ``"farthest"`` or ``"manual"``.
    seed : int or None
        The seed of the initialisation (derived from ``random_state`` as KMeans does).
    """

    frames: list[Frame]
    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    stop_reason: str
    init: str
    seed: int | None

    @property
    def converged(self) -> bool:
        return self.stop_reason != "max_iter"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (lists, ints and floats)."""
        return {
            "frames": [f.as_dict() for f in self.frames],
            "centers": self.centers.tolist(),
            "labels": self.labels.tolist(),
            "inertia": self.inertia,
            "n_iter": self.n_iter,
            "stop_reason": self.stop_reason,
            "converged": self.converged,
            "init": self.init,
            "seed": self.seed,
        }


def _restart_seed(random_state: Any) -> int:
    """The seed ``KMeans(n_init=1, random_state=random_state)`` gives its only restart."""
    if isinstance(random_state, np.random.RandomState):
        rs = random_state
    elif random_state is None or isinstance(random_state, numbers.Integral):
        rs = np.random.RandomState(random_state)
    else:
        raise ValueError(f"random_state={random_state!r} must be an int, None or a RandomState.")
    return int(rs.randint(np.iinfo(np.int32).max, size=1)[0])


def _inertia(X: np.ndarray, w: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> float:
    diff = X.astype(np.float64) - centers.astype(np.float64)[labels]
    return float(np.dot(w.astype(np.float64), np.einsum("ij,ij->i", diff, diff)))


def _check(X: Any, n_clusters: Any, init: Any, max_iter: Any, sample_weight: Any) -> tuple:
    X = kernel_array(np.asarray(X))
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a non-empty 2-D array; got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity: drop or fill those rows first.")
    k = n_clusters
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"n_clusters={k!r} must be an integer >= 1.")
    if k > X.shape[0]:
        raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={k}: lower it.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter={max_iter!r} must be an integer >= 1.")
    if isinstance(init, str):
        if init not in INIT_METHODS:
            raise ValueError(f"init={init!r} must be one of {TRACE_INITS} or a (k, d) array.")
    else:
        init = np.ascontiguousarray(init, dtype=X.dtype)
        if init.shape != (k, X.shape[1]) or not np.all(np.isfinite(init)):
            raise ValueError(
                f"The init array must be finite, of shape (n_clusters, n_features) = "
                f"({k}, {X.shape[1]}); got {init.shape}."
            )
    w = np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else sample_weight
    w = kernel_array(np.asarray(w), X.dtype)
    if w.shape != (X.shape[0],) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.any():
        raise ValueError("sample_weight must be finite, >= 0, not all 0, one per row of X.")
    return X, k, init, w


def trace(
    X: Any,
    n_clusters: int,
    *,
    init: str | np.ndarray = "k-means++",
    random_state: int | np.random.RandomState | None = 0,
    max_iter: int = 100,
    tol: float = 0.0,
    sample_weight: Any = None,
) -> Trace:
    """Run Lloyd's algorithm once and record every half-step.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
    init : {"k-means++", "random", "farthest"} or ndarray of shape (n_clusters, n_features)
        How to choose the initial centres; an array gives them ("manual").
    random_state : int, RandomState or None
        Seeds the initialisation exactly as ``KMeans(n_init=1, random_state=...)`` does.
    max_iter : int
        At most this many Lloyd iterations (assign + update).
    tol : float
        Relative tolerance on the squared centre shift (scikit-learn's meaning).
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    Trace
        Frames ``init, assign, update, assign, update, ...``; after a stop on ``tol``
        or ``max_iter`` a last ``assign`` gives the labels of the final centres.

    Examples
    --------
    >>> import numpy as np, kmeanskit
    >>> X = np.array([[0.0, 0], [0, 1], [10, 0], [10, 1]])
    >>> t = kmeanskit.trace(X, 2, random_state=0)
    >>> [f.kind for f in t.frames][:3], t.stop_reason
    (['init', 'assign', 'update'], 'no_change')
    """
    X, k, init, w = _check(X, n_clusters, init, max_iter, sample_weight)
    if isinstance(init, str):
        seed: int | None = _restart_seed(random_state)
        centers = initial_centers(X, w, k, init, seed)
        name = init
    else:
        seed, centers, name = None, init, "manual"
    backend = LocalBackend("lloyd")
    data = backend.prepare(X, w, k)
    backend.begin(data)
    tol = scaled_tolerance(X, float(tol))
    none = np.empty(0, dtype=np.int64)
    frames = [Frame("init", 0, None, centers.astype(np.float64), None, none)]
    previous = np.full(X.shape[0], -1, dtype=np.int32)
    stop_reason = "max_iter"
    for i in range(1, max_iter + 1):
        step = backend.step(data, centers)
        labels = np.array(step.labels, dtype=np.int32, copy=True)
        empty = np.flatnonzero(step.weights == 0)
        frames.append(
            Frame(
                "assign",
                i,
                labels,
                centers.astype(np.float64),
                step.inertia,
                np.flatnonzero(labels != previous),
                empty.tolist(),
            )
        )
        # The rows _new_centers will move onto the empty clusters (same call, same order).
        far = backend.farthest(data, centers, empty.size) if empty.size else none
        new_centers, n_relocated = _new_centers(backend, data, centers, step)
        moved = labels.copy()
        moved[far] = empty
        frames.append(
            Frame(
                "update",
                i,
                moved,
                new_centers.astype(np.float64),
                _inertia(X, w, new_centers, moved),
                np.asarray(far, dtype=np.int64),
                empty.tolist(),
                [(int(c), int(r)) for c, r in zip(empty, far, strict=True)],
            )
        )
        shift = float(np.sum((new_centers.astype(np.float64) - centers) ** 2))
        centers, previous = new_centers, labels
        if step.n_changed == 0 and n_relocated == 0:
            stop_reason = "no_change"
            final_labels, inertia = labels, step.inertia
            break
        if shift <= tol:
            stop_reason = "tol"
            break
    if stop_reason != "no_change":
        final, inertia = backend.labels(data, centers)
        final_labels = np.array(final, dtype=np.int32, copy=True)
        frames.append(
            Frame(
                "assign",
                i + 1,
                final_labels,
                centers.astype(np.float64),
                inertia,
                np.flatnonzero(final_labels != frames[-1].labels),
                np.flatnonzero(np.bincount(final_labels, minlength=k) == 0).tolist(),
            )
        )
    return Trace(
        frames=frames,
        centers=centers,
        labels=final_labels,
        inertia=inertia,
        n_iter=i,
        stop_reason=stop_reason,
        init=name,
        seed=seed,
    )
