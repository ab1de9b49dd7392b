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


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, dtype: type) -> tuple:
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=dtype), y[order].astype(np.int64)


def _split(n_samples: int, weights: np.ndarray) -> np.ndarray:
    """Rows per group, proportional to ``weights``, every group at least one row."""
    if n_samples < len(weights):
        raise ValueError(f"n_samples={n_samples} must be at least {len(weights)} here.")
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n_samples)).astype(np.int64)
    sizes[np.argmax(sizes)] += n_samples - sizes.sum()
    return sizes


def make_uneven(
    n_samples: int = 10_000,
    n_features: int = 2,
    n_clusters: int = 5,
    *,
    spread: float = 10.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of very different sizes (each half the one before) and spreads.

    K-means tends to split the big, wide blobs and merge the small ones: a test of
    initialisation and of choosing k.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64
    """
    if n_features < 1 or n_clusters < 1:
        raise ValueError("n_features and n_clusters must be >= 1.")
    rng = np.random.default_rng(random_state)
    sizes = _split(n_samples, 0.5 ** np.arange(n_clusters))
    stds = np.linspace(2.0, 0.4, n_clusters)
    centers = rng.uniform(-spread, spread, size=(n_clusters, n_features))
    y = np.repeat(np.arange(n_clusters), sizes)
    X = centers[y] + rng.normal(size=(n_samples, n_features)) * stds[y][:, None]
    return _finish(X, y, rng, dtype)


def make_anisotropic(
    n_samples: int = 10_000,
    n_features: int = 2,
    n_clusters: int = 3,
    *,
    spread: float = 10.0,
    stretch: float = 4.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs stretched ``stretch`` times along one random direction each.

    Elongated clusters break K-means' assumption of round ones.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64
    """
    if n_features < 1 or n_clusters < 1:
        raise ValueError("n_features and n_clusters must be >= 1.")
    rng = np.random.default_rng(random_state)
    centers = rng.uniform(-spread, spread, size=(n_clusters, n_features))
    y = np.arange(n_samples) % n_clusters
    Z = rng.normal(size=(n_samples, n_features))
    X = np.empty_like(Z)
    for c in range(n_clusters):
        q, _ = np.linalg.qr(rng.normal(size=(n_features, n_features)))
        scales = np.full(n_features, 0.6)
        scales[0] = 0.6 * stretch
        rows = y == c
        X[rows] = centers[c] + (Z[rows] * scales) @ q.T
    return _finish(X, y, rng, dtype)


def make_moons(
    n_samples: int = 10_000,
    *,
    noise: float = 0.08,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: clusters that are not convex.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: 0 upper moon, 1 lower moon
    """
    rng = np.random.default_rng(random_state)
    sizes = _split(n_samples, np.ones(2))
    y = np.repeat([0, 1], sizes)
    t = rng.uniform(0.0, np.pi, size=n_samples)
    X = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
    )
    X += rng.normal(scale=noise, size=X.shape)
    return _finish(X, y, rng, dtype)


def make_rings(
    n_samples: int = 10_000,
    n_rings: int = 3,
    *,
    noise: float = 0.06,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Concentric rings of radius 1, 2, ... in 2-D (rows in proportion to the radius).

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: the ring, innermost 0
    """
    if n_rings < 1:
        raise ValueError("n_rings must be >= 1.")
    rng = np.random.default_rng(random_state)
    y = np.repeat(np.arange(n_rings), _split(n_samples, np.arange(1.0, n_rings + 1)))
    t = rng.uniform(0.0, 2 * np.pi, size=n_samples)
    r = y + 1.0 + rng.normal(scale=noise * (y + 1.0), size=n_samples)
    return _finish(np.column_stack([r * np.cos(t), r * np.sin(t)]), y, rng, dtype)


def make_smiley(
    n_samples: int = 10_000,
    *,
    noise: float = 0.04,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """A smiley in 2-D: the face's outline, two eyes and a mouth.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: 0 outline, 1 left eye, 2 right eye, 3 mouth
    """
    rng = np.random.default_rng(random_state)
    y = np.repeat(np.arange(4), _split(n_samples, np.array([0.5, 0.12, 0.12, 0.26])))
    X = np.empty((n_samples, 2))
    t = rng.uniform(0.0, 2 * np.pi, size=n_samples)
    outline = y == 0
    X[outline] = np.column_stack([np.cos(t[outline]), np.sin(t[outline])])
    for label, x in ((1, -0.35), (2, 0.35)):
        rows = y == label
        X[rows] = np.array([x, 0.35]) + rng.normal(scale=0.07, size=(rows.sum(), 2))
    mouth = y == 3
    a = rng.uniform(np.radians(200), np.radians(340), size=mouth.sum())
    X[mouth] = np.column_stack([0.55 * np.cos(a), 0.55 * np.sin(a) - 0.05])
    X += rng.normal(scale=noise, size=X.shape)
    return _finish(X, y, rng, dtype)


def make_uniform(
    n_samples: int = 10_000,
    n_features: int = 2,
    *,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Points spread uniformly over the unit square: no clusters at all.

    K-means still cuts the square into k cells; different seeds cut it differently.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64: all 0
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(0.0, 1.0, size=(n_samples, n_features))
    return np.ascontiguousarray(X, dtype=dtype), np.zeros(n_samples, dtype=np.int64)


def make_unequal_variance(
    n_samples: int = 10_000,
    n_features: int = 2,
    n_clusters: int = 3,
    *,
    spread: float = 6.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-sized Gaussian blobs with very different spreads (std 0.3 to 2.5).

    K-means draws its boundaries halfway between centres, so the wide blob loses its
    outer points to the tight ones.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64
    """
    if n_features < 1 or n_clusters < 1:
        raise ValueError("n_features and n_clusters must be >= 1.")
    rng = np.random.default_rng(random_state)
    stds = np.linspace(2.5, 0.3, n_clusters)
    centers = rng.uniform(-spread, spread, size=(n_clusters, n_features))
    y = np.repeat(np.arange(n_clusters), _split(n_samples, np.ones(n_clusters)))
    X = centers[y] + rng.normal(size=(n_samples, n_features)) * stds[y][:, None]
    return _finish(X, y, rng, dtype)


def make_smiley_outliers(
    n_samples: int = 10_000,
    *,
    outliers: float = 0.03,
    noise: float = 0.04,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """The smiley plus a fraction ``outliers`` of points scattered far around it (label 4).

    Squared distances let a few far points pull a centroid away from its cluster.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: the smiley's labels, 4 for outliers
    """
    n_out = max(1, int(round(outliers * n_samples))) if n_samples > 1 else 0
    X, y = make_smiley(n_samples - n_out, noise=noise, random_state=random_state)
    rng = np.random.default_rng(None if random_state is None else random_state + 1)
    angle = rng.uniform(0.0, 2 * np.pi, size=n_out)
    radius = rng.uniform(2.0, 4.0, size=n_out)
    far = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return _finish(np.vstack([X, far]), np.concatenate([y, np.full(n_out, 4)]), rng, dtype)


def make_packed_discs(
    n_samples: int = 10_000,
    n_discs: int = 7,
    *,
    noise: float = 0.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform discs of radius 1 that touch, packed hexagonally (centre, then rings).

    Clusters with no gap between them: many local optima of almost the same inertia.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: the disc
    """
    if n_discs < 1:
        raise ValueError("n_discs must be >= 1.")
    rng = np.random.default_rng(random_state)
    centers = [(0.0, 0.0)]
    ring = 1
    while len(centers) < n_discs:
        for side in range(6):
            a, b = np.radians(60 * side), np.radians(60 * (side + 2))
            for step in range(ring):
                corner = 2 * ring * np.array([np.cos(a), np.sin(a)])
                centers.append(tuple(corner + 2 * step * np.array([np.cos(b), np.sin(b)])))
        ring += 1
    c = np.array(centers[:n_discs])
    y = np.arange(n_samples) % n_discs
    r = np.sqrt(rng.uniform(size=n_samples))
    t = rng.uniform(0.0, 2 * np.pi, size=n_samples)
    X = c[y] + np.column_stack([r * np.cos(t), r * np.sin(t)])
    X += rng.normal(scale=noise, size=X.shape) if noise > 0 else 0.0
    return _finish(X, y, rng, dtype)


def make_duplicates(
    n_samples: int = 10_000,
    n_distinct: int = 3,
    *,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` rows that are copies of only ``n_distinct`` points in 2-D.

    With k above ``n_distinct`` some clusters must stay empty or share a point.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: the distinct point
    """
    if n_distinct < 1:
        raise ValueError("n_distinct must be >= 1.")
    rng = np.random.default_rng(random_state)
    points = rng.uniform(-5.0, 5.0, size=(n_distinct, 2))
    y = np.arange(n_samples) % n_distinct
    return _finish(points[y], y, rng, dtype)


def make_mixed_units(
    n_samples: int = 10_000,
    n_clusters: int = 3,
    *,
    scale: float = 1000.0,
    random_state: int | None = 0,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Blobs separated along x1 only, with a noise feature x2 in units ``scale`` times larger.

    Unscaled, K-means clusters on x2's noise; standardised, it finds the blobs.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64
    """
    rng = np.random.default_rng(random_state)
    y = np.arange(n_samples) % n_clusters
    x1 = 4.0 * y + rng.normal(scale=0.5, size=n_samples)
    x2 = rng.normal(scale=scale, size=n_samples)
    return _finish(np.column_stack([x1, x2]), y, rng, dtype)


#: The built-in generators by name (``kmeanskit datasets`` writes them as CSV).
GENERATORS = {
    "blobs": make_blobs,
    "uneven": make_uneven,
    "anisotropic": make_anisotropic,
    "moons": make_moons,
    "rings": make_rings,
    "smiley": make_smiley,
    "uniform": make_uniform,
    "unequal-variance": make_unequal_variance,
    "smiley-outliers": make_smiley_outliers,
    "packed-discs": make_packed_discs,
    "duplicates": make_duplicates,
    "mixed-units": make_mixed_units,
}
