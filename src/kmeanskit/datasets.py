"""Built-in data generators (numpy only, reproducible from a seed)."""

from __future__ import annotations

import numpy as np


def make_blobs(
    n_samples: int = 10_000,
    n_features: int = 2,
    n_clusters: int = 8,
    *,
    cluster_std: float = 1.0,
    spread: float = 10.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs around centres drawn uniformly in ``[-spread, spread]``.

    Parameters
    ----------
    n_samples, n_features, n_clusters : int
    cluster_std : float
        Standard deviation of every blob.
    spread : float
        Half-width of the box the blob centres are drawn in.
    random_state : int or None
    dtype : numpy float type of X

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64: the blob of each row
    """
    if n_samples < 1 or n_features < 1 or n_clusters < 1:
        raise ValueError("n_samples, n_features and n_clusters must all be >= 1.")
    rng = np.random.default_rng(random_state)
    centers = rng.uniform(-spread, spread, size=(n_clusters, n_features))
    y = np.arange(n_samples) % n_clusters
    rng.shuffle(y)
    X = centers[y] + rng.normal(scale=cluster_std, size=(n_samples, n_features))
    return np.ascontiguousarray(X, dtype=dtype), y.astype(np.int64)
