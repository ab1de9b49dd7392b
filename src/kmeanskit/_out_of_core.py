"""KMeans on data that is not in memory: a dask collection, or rows streamed from disk.

``KMeans`` hands such input here (``validate_data`` would collect it). The rows are never
gathered on the host; the result is bit-identical to the in-memory fit from the same
initial centres (see docs/scaling.md). String inits run k-means|| there, and the global
search, which needs the rows in memory, does not run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kmeanskit import _core
from kmeanskit._config import resolve_n_threads, thread_limits
from kmeanskit.backends import dask as _dask
from kmeanskit.backends import get_backend
from kmeanskit.backends.dask import is_dask_collection
from kmeanskit.backends.stream import StreamedArray


def check_dask(est: Any, X: Any, *, reset: bool) -> Any:
    """Checks of ``validate_data`` for a dask collection, NaN check on fit only."""
    X, names = _dask.as_dask_array(X, check_finite=reset)
    if reset:
        est.n_features_in_ = int(X.shape[1])
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        return X
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but KMeans was fitted with "
            f"{est.n_features_in_}: pass the same columns as in fit."
        )
    fitted = getattr(est, "feature_names_in_", None)
    if names is not None and fitted is not None and list(fitted) != names:
        raise ValueError("The feature names of X differ from those seen in fit.")
    return X.astype(est.cluster_centers_.dtype)


def _check_options(est: Any) -> None:
    if isinstance(est.init, str) and est.init not in ("k-means++", "k-means||"):
        raise ValueError(
            f"init={est.init!r} is not available for data that is not in memory: use "
            "'k-means||' (the default 'k-means++' runs it), an array or load X first."
        )
    if callable(est.init):
        raise ValueError("A callable init needs the rows in memory: pass an array.")
    if est.search == "breathe":
        raise ValueError(
            "search='breathe' needs the rows in memory; on a dask collection or rows "
            "streamed from disk use search='auto' (plain Lloyd there) or None."
        )


def fit(
    est: Any, X: Any, sample_weight: Any, random_state: np.random.RandomState
) -> tuple[_core.FitResult, int]:
    """The driver's result for ``est`` on X, and the thread count it ran with."""
    from kmeanskit._estimator import _BACKEND_ALGORITHM, _check_sample_weight

    if is_dask_collection(X):
        X = check_dask(est, X, reset=True)
    else:
        X = X if isinstance(X, StreamedArray) else StreamedArray(X)
        est.n_features_in_ = X.shape[1]
        if X.columns is not None:
            est.feature_names_in_ = np.asarray(X.columns, dtype=object)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
    est._check_params(X)
    _check_options(est)
    n_threads = resolve_n_threads(est.n_threads)
    seeds = est._restart_seeds(random_state)
    backend = get_backend(X, _BACKEND_ALGORITHM[est.algorithm])
    data = backend.prepare(X, sample_weight, est.n_clusters)
    k, init = est.n_clusters, est.init

    def centers_of(seed: int | None) -> np.ndarray:
        if isinstance(init, str):
            return backend.kmeans_parallel(data, k, seed)
        centers = np.asarray(init)
        est._check_init_array(centers, X.shape[1])
        return np.ascontiguousarray(centers, dtype=X.dtype)

    result = _core.fit(
        backend, data, None, k, centers_of, seeds, max_iter=est.max_iter,
        tol=float(est.tol), n_threads=n_threads, verbose=bool(est.verbose),
    )  # fmt: skip
    return result, n_threads


def predict(est: Any, X: Any) -> Any:
    """Labels of a dask collection (lazy) or of rows streamed from disk."""
    if is_dask_collection(X):
        return _dask.predict_lazy(check_dask(est, X, reset=False), est.cluster_centers_)
    backend = get_backend(X)
    with thread_limits(resolve_n_threads(est.n_threads)):
        data = backend.prepare(X, None, est.n_clusters)
        return backend.labels(data, est.cluster_centers_)[0].copy()


def transform(est: Any, X: Any) -> Any:
    """Distances of a dask collection's rows to every centre (lazy)."""
    return _dask.transform_lazy(check_dask(est, X, reset=False), est.cluster_centers_)
