"""Backends: where the data lives and how a pass over it runs.

The Lloyd loop in ``_core`` is written once; a backend answers a handful of questions
about its data and returns small host-side results. A backend keeps whatever per-row
state it needs (labels, later bounds) inside its ``Data`` object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Step:
    """What one assignment pass tells the driver.

    Attributes
    ----------
    sums : ndarray of shape (n_clusters, n_features), float64
        Weighted sum of the rows assigned to each cluster.
    weights : ndarray of shape (n_clusters,), float64
        Total sample weight assigned to each cluster.
    inertia : float
        Weighted sum of squared distances of the rows to the centres they were
        assigned to in this pass (float64).
    n_changed : int
        Rows whose label differs from the previous pass.
    labels : array of shape (n_samples,)
        The labels of this pass (the backend's own buffer: copy to keep).
    algorithm : str
        What ran: ``"lloyd"`` (every row scored) or ``"hamerly"`` (bounds).
    skipped : float
        Fraction of rows whose label the bounds proved without scoring them against
        every centre.
    final : bool
        Whether these labels are exactly what ``labels`` (and predict) would return for
        the same centres. A bounded pass proves the same labels mathematically but a
        GEMM over its gathered rows may round a near tie otherwise: when its kernel
        flagged such a tie, the driver re-labels once.
    """

    sums: np.ndarray
    weights: np.ndarray
    inertia: float
    n_changed: int
    labels: Any
    algorithm: str = "lloyd"
    skipped: float = 0.0
    final: bool = True


class Backend(Protocol):
    """The questions the Lloyd driver asks about the data."""

    name: str

    def prepare(self, X: Any, sample_weight: Any, n_clusters: int) -> Any:
        """Once per fit: wrap the data and allocate the per-pass buffers."""

    def begin(self, data: Any) -> None:
        """Forget per-run state (labels, bounds): a new run (restart) starts."""

    def step(self, data: Any, centers: np.ndarray) -> Step:
        """Assign every row to its nearest centre and sum the clusters."""

    def labels(self, data: Any, centers: np.ndarray) -> tuple[Any, float]:
        """Final assignment (or predict): labels and inertia, no sums."""

    def cluster_costs(self, data: Any, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per centre (float64, shape (k,)): its *error*, the weighted sum of squared
        distances of its rows, and its *utility*, how much the error of its rows would
        grow if it were removed (each row moving to its second-nearest centre). Used by
        the global search to rank centres; need not be exact to the last bit."""

    def farthest(self, data: Any, centers: np.ndarray, m: int) -> np.ndarray:
        """Indices of the ``m`` rows with the largest weighted squared distance to
        their assigned centre, largest first, lowest index first among ties."""

    def take(self, data: Any, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, sample weights and current labels at ``indices``."""


def get_backend(X: Any, algorithm: str = "lloyd") -> Backend:
    """The backend for this kind of data: in-memory numpy arrays, dask collections
    (``backends.dask``, which imports dask only when it runs), or rows streamed from
    disk (a ``numpy.memmap`` or ``backends.stream.StreamedArray``).

    ``algorithm`` is ``"lloyd"`` (score every row every pass) or ``"hamerly"``
    (bounds); both give the same labels.
    """
    from kmeanskit.backends.dask import DaskData, is_dask_collection

    if is_dask_collection(X) or isinstance(X, DaskData):
        from kmeanskit.backends.dask import DaskBackend

        return DaskBackend(algorithm)
    from kmeanskit.backends.stream import StreamData, is_streamed

    if is_streamed(X) or isinstance(X, StreamData):
        from kmeanskit.backends.stream import StreamBackend

        return StreamBackend(algorithm)
    from kmeanskit.backends.local import LocalBackend

    return LocalBackend(algorithm)
