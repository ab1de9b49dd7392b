"""KMeans: the scikit-learn contract around the Lloyd driver.

This is the only module that imports scikit-learn, and it uses its public API only.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from kmeanskit import _core, _search
from kmeanskit._arrays import kernel_array
from kmeanskit._config import resolve_n_threads, thread_limits
from kmeanskit._init import INIT_METHODS, initial_centers
from kmeanskit._init import kmeans_plusplus as _kmeans_plusplus
from kmeanskit._kernels.stats import n_distinct_labels
from kmeanskit.backends import get_backend
from kmeanskit.backends.dask import is_dask_collection
from kmeanskit.backends.stream import StreamedArray, is_streamed

_ALGORITHMS = ("auto", "lloyd", "elkan", "hamerly", "yinyang")
#: What each accepted name runs. All are exact: the same labels from the same start.
_BACKEND_ALGORITHM = {
    "auto": "auto",
    "lloyd": "lloyd",
    "elkan": "hamerly",
    "hamerly": "hamerly",
    "yinyang": "yinyang",
}
_FLOAT_DTYPES = (np.float64, np.float32)
_SEARCHES = ("auto", "breathe", None)


def _validate_array(
    estimator: Any, X: Any, *, reset: bool, what: str = "X", dtype: Any = None
) -> np.ndarray:
    """validate_data with messages that say how to fix non-numeric input; the result is
    as the kernels take it (``kernel_array``), in ``dtype`` when given.

    Finiteness is checked here in parallel (one read of the data on every thread, where
    validate_data would sum it on one): 10 ms of a 180 ms fit at 1M x 16 in float64.
    """
    try:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse=False,
            dtype=list(_FLOAT_DTYPES),
            order="C",
            ensure_all_finite=False,
        )
    except ValueError as exc:
        if "could not convert" in str(exc) or "convert string" in str(exc):
            raise ValueError(
                f"{what} contains non-numeric values ({exc}). KMeans needs numbers: "
                "drop or encode the text columns first."
            ) from exc
        raise
    X = kernel_array(X, dtype)
    if not _core.all_finite(X, resolve_n_threads(getattr(estimator, "n_threads", None))):
        if np.isnan(X).any():
            raise ValueError(
                f"Input {what} contains NaN. {type(estimator).__name__} does not accept "
                "missing values: drop the rows with NaN or impute them (for example with "
                "sklearn.impute.SimpleImputer) first."
            )
        raise ValueError(
            f"Input {what} contains infinity or a value too large for {X.dtype!r}: drop "
            "those rows or rescale the data first."
        )
    return X


def _check_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray:
    """A float array of shape (n_samples,) in X's dtype: finite, >= 0, not all 0."""
    n = X.shape[0]
    if sample_weight is None:
        return np.ones(n, dtype=X.dtype)
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, sample_weight, dtype=X.dtype)
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numbers: {exc}") from exc
    if weight.shape != (n,):
        raise ValueError(
            f"sample_weight has shape {weight.shape} but X has {n} samples: pass one "
            f"weight per row, shape ({n},)."
        )
    if not np.all(np.isfinite(weight)):
        raise ValueError("sample_weight contains NaN or infinity: pass finite weights.")
    if np.any(weight < 0):
        raise ValueError("sample_weight contains negative values: weights must be >= 0.")
    if not np.any(weight > 0):
        raise ValueError("sample_weight is all zero: at least one row needs a positive weight.")
    return kernel_array(weight, X.dtype)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering: exact Lloyd on numba + BLAS, reproducible for any thread count.

    A drop-in for :class:`sklearn.cluster.KMeans`: same parameters, methods and fitted
    attributes, plus ``n_threads``, ``converged_``, ``stop_reason_`` and ``history_``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'k-means||', 'random', 'farthest', 'afk-mc2'}, callable or array (k, d)
        How to choose the initial centres. 'k-means++' is greedy k-means++ with
        ``2 + int(ln k)`` candidates per step, weighted by ``sample_weight``;
        'k-means||' is k-means|| (Bahmani et al. 2012): 5 rounds that each draw about
        ``2k`` rows with probability proportional to ``w D^2``, then greedy k-means++ on
        the candidates weighted by the rows nearest to them (6 passes over the rows
        whatever k, against k); 'random' picks ``n_clusters`` distinct rows with probability
        proportional to their weight; 'farthest' is farthest-point traversal (each
        next centre the row farthest from those chosen, outlier-prone: for teaching);
        'afk-mc2' is k-means++ by Markov chains (Bachem et al. 2016): one pass over the
        data instead of k, for very large n (it approximates plain, not greedy,
        k-means++); a callable is called as ``init(X, n_clusters, random_state)``.
        For data that is not in memory (a dask array or DataFrame, a
        ``StreamedArray``, a ``numpy.memmap`` above the memory budget), 'k-means++'
        runs 'k-means||', which never collects the rows; the same seed gives the same
        centres as ``init='k-means||'`` in memory. Only 'k-means||' and arrays are
        accepted there.
    n_init : 'auto' or int, default='auto'
        Restarts; the run with the lowest inertia is kept. 'auto' means 1 for
        'k-means++' (also 'k-means||', 'afk-mc2', 'farthest') or an array, and 10 for
        'random' or a callable (as scikit-learn).
    max_iter : int, default=300
        Most Lloyd iterations per restart.
    tol : float, default=1e-4
        Stop when the sum over centres of the squared distance they moved in one
        iteration is at most ``tol * mean(var(X, axis=0))`` (scikit-learn's meaning).
        Independently, a run stops as soon as no label changes. ``tol=0`` stops only
        then (or at ``max_iter``).
    verbose : int, default=0
        Print one line per iteration.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation. The same value gives bit-identical results.
    copy_x : bool, default=True
        Accepted for compatibility. kmeanskit never modifies X, and never copies a
        C-contiguous float32/float64 X, whatever this says.
    algorithm : {'auto', 'lloyd', 'hamerly', 'yinyang', 'elkan'}, default='auto'
        All are exact and give the same labels from the same initial centres.
        'lloyd' scores every row against every centre in every iteration (one BLAS
        GEMM per chunk of rows). 'hamerly' keeps one distance bound per row (4 bytes)
        and scores only the rows whose bounds cannot prove their label. 'yinyang'
        (Ding et al. 2015) keeps one bound per row for each group of about 64 nearby
        centres (at least 2 groups; fewer where their memory would pass an eighth of
        the data's size plus 8 MiB), so a centre that moves far weakens only its own
        group's bounds. 'elkan' runs 'hamerly' (it is exact and needs n x k bounds less
        memory than Elkan's), so code written for scikit-learn runs unchanged. 'auto'
        uses the bounds from the second iteration on, Yinyang's for 512 or more centres
        and a few features (where they measured faster) and Hamerly's otherwise, but
        scores every row after an iteration that moved more than 30% of the labels,
        and for passes under 2M multiply-adds. What ran in each iteration, and the
        fraction of rows it skipped, is in ``history_``.
    search : {'auto', 'breathe'} or None, default='auto'
        Global search after Lloyd, to escape the local optimum Lloyd stops in
        (breathing, Fritzke 2020: add centroids beside those of largest error, Lloyd,
        remove those of lowest utility, Lloyd; keep the cycle only if the inertia drops
        by more than a relative ``tol``; halve their number when it does not, until
        none helps).
        It runs once, on the kept restart; on every row (see ``search_size``) it never
        returns a higher inertia than plain Lloyd from the same ``random_state``. 'auto'
        searches when kmeanskit chooses the
        start (a named ``init``) and not when you give the centres (an array or a
        callable), so Lloyd runs from them exactly as in scikit-learn; 'breathe' always
        searches. On one-dimensional data 'auto' returns the optimal clustering
        (dynamic programming over the sorted values, as Ckmeans.1d.dp; O(k n log n),
        used while ``k n log2(n) <= 2e9``, about 10 s, and breathing above that),
        not a local optimum. None never searches: scikit-learn's behaviour (``init`` then
        Lloyd, best of
        ``n_init``). What each cycle did is in ``history_.search``. The search runs
        on in-memory data; on a dask collection or rows streamed from disk 'auto' is
        plain Lloyd (the same as the in-memory fit with ``search=None``).
    search_size : int, 'auto' or None, default='auto'
        Rows the seeding, the restarts and the breathing search run on; Lloyd then runs
        on every row from the centres they found, so the result is a Lloyd solution of
        all the data. 'auto': every row up to ``max(20_000, 256 * n_clusters)`` rows, a
        uniform sample of that many above (256 per centroid is faiss's training budget;
        the floor keeps small clusters represented). An integer sets the sample's size;
        None uses every row. The sample is drawn from ``random_state`` among the rows of
        positive weight, so results stay bit-reproducible. It applies only when the
        breathing search runs (not with ``search=None``, given centres, or the 1-D
        optimum). The rows used are in ``search_size_`` and ``history_.search_size``.
    init_size : int, 'auto' or None, default='auto'
        Rows the seeding sees, out of those the restarts run on (``search_size``'s
        sample, when there is one): None for all; an integer below that draws that many
        rows of positive weight uniformly (without replacement, from each restart's
        seed) and seeds on them alone. 'auto': ``max(4096, 64 * n_clusters)`` rows when
        the breathing search runs (it repairs what a seeding on fewer rows misses; the
        seeding was 40% of a default fit at k = 256), every row otherwise, as in
        scikit-learn. Lloyd and the search use all the rows of the restarts. The rows
        used are reported in ``init_size_``.
    n_threads : int or None, default=None
        Threads for the numba kernels (BLAS runs one thread inside them). None or -1:
        all cores. Results do not depend on it.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        Equal to ``predict(X)`` on the training data.
    inertia_ : float
        Weighted sum of squared distances to the nearest centre, accumulated in float64.
    n_iter_ : int
        Iterations of the Lloyd run that produced the kept centres: the kept restart,
        or, when the search improved on it, its last Lloyd run (the polish). All
        iterations spent are in ``history_`` (restarts and search cycles).
    converged_ : bool
        False when the kept restart stopped at ``max_iter``.
    stop_reason_ : {'no_change', 'tol', 'max_iter'}
    search_size_ : int
        Rows the seeding, restarts and search ran on (``n_samples`` unless
        ``search_size`` sampled them).
    init_size_ : int
        Rows the seeding saw (``search_size_`` unless ``init_size`` subsampled them).
    history_ : FitHistory
        One record per iteration of the kept restart (inertia, squared centre shift,
        labels changed, empty clusters relocated, seconds) and one per restart
        (seed, initial and final inertia, iterations, stop reason), and one per cycle of
        the global search (depth, inertia, accepted, iterations, seconds).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: Any = None,
        copy_x: bool = True,
        algorithm: str = "auto",
        search: str | None = "auto",
        search_size: int | str | None = "auto",
        init_size: int | str | None = "auto",
        n_threads: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.search = search
        self.search_size = search_size
        self.init_size = init_size
        self.n_threads = n_threads

    # -- parameters -------------------------------------------------------------

    def _check_params(self, X: np.ndarray) -> None:
        n_samples, n_features = X.shape
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"n_clusters={k!r} must be an integer >= 1.")
        if n_samples < k:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={k}: lower n_clusters "
                "or pass more rows."
            )
        for name, value in (("max_iter", self.max_iter),):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name}={value!r} must be an integer >= 1.")
        if not isinstance(self.tol, numbers.Real) or self.tol < 0:
            raise ValueError(f"tol={self.tol!r} must be a number >= 0.")
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"algorithm={self.algorithm!r} must be one of {_ALGORITHMS}.")
        size = self.init_size
        if (
            size != "auto"
            and size is not None
            and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < k)
        ):
            raise ValueError(
                f"init_size={size!r} must be 'auto', None (seed on every row) or an integer "
                f">= n_clusters={k}."
            )
        size = self.search_size
        if (
            size != "auto"
            and size is not None
            and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < k)
        ):
            raise ValueError(
                f"search_size={size!r} must be 'auto', None (every row) or an integer >= "
                f"n_clusters={k}."
            )
        if self.search not in _SEARCHES:
            raise ValueError(
                f"search={self.search!r} must be one of {_SEARCHES}; None gives "
                "scikit-learn's behaviour (k-means++ then Lloyd, best of n_init)."
            )
        if self.n_init != "auto" and (
            isinstance(self.n_init, bool)
            or not isinstance(self.n_init, numbers.Integral)
            or self.n_init < 1
        ):
            raise ValueError(f"n_init={self.n_init!r} must be 'auto' or an integer >= 1.")
        init = self.init
        if isinstance(init, str):
            if init not in INIT_METHODS:
                raise ValueError(
                    f"init={init!r} must be one of {tuple(INIT_METHODS)}, a callable or an "
                    "array of shape (n_clusters, n_features)."
                )
        elif not callable(init):
            self._check_init_array(np.asarray(init), n_features)

    def _check_init_array(self, centers: np.ndarray, n_features: int) -> None:
        if centers.shape != (self.n_clusters, n_features):
            raise ValueError(
                f"The init array has shape {centers.shape}; it must be (n_clusters, "
                f"n_features) = ({self.n_clusters}, {n_features})."
            )
        if not np.all(np.isfinite(centers)):
            raise ValueError("The init array contains NaN or infinity.")

    def _resolved_n_init(self) -> int:
        if self.n_init != "auto":
            if hasattr(self.init, "__array__") and self.n_init != 1:
                warnings.warn(
                    f"Explicit initial center position passed: performing only one init "
                    f"in KMeans instead of n_init={self.n_init}.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                return 1
            return int(self.n_init)
        if isinstance(self.init, str) and self.init in (
            "k-means++",
            "k-means||",
            "afk-mc2",
            "farthest",
        ):
            return 1
        if isinstance(self.init, str) or callable(self.init):
            return 10
        return 1

    def _restart_seeds(self, random_state: np.random.RandomState) -> list[int | None]:
        """One seed per restart, drawn first from ``random_state`` (None: given centres)."""
        n_init = self._resolved_n_init()  # warns when an array comes with n_init > 1
        if not isinstance(self.init, str) and not callable(self.init):
            return [None]
        return [int(s) for s in random_state.randint(np.iinfo(np.int32).max, size=n_init)]

    def _init_fn(
        self, X: np.ndarray, sample_weight: np.ndarray, init_size: int | None
    ) -> _core.InitFn:
        init, k = self.init, self.n_clusters

        def centers_of(seed: int | None) -> np.ndarray:
            if isinstance(init, str):
                return initial_centers(X, sample_weight, k, init, seed, init_size)
            if callable(init):
                rs = np.random.RandomState(seed)
                centers = np.asarray(init(X, k, random_state=rs))
            else:
                centers = np.asarray(init)
            self._check_init_array(centers, X.shape[1])
            return np.ascontiguousarray(centers, dtype=X.dtype)

        return centers_of

    def _fitted(self, result: _core.FitResult, n_threads: int) -> KMeans:
        """Store the fitted attributes of a driver result; warn if it did not converge."""
        self.cluster_centers_ = result.centers
        self.labels_ = result.labels
        self.inertia_ = result.inertia
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.stop_reason_ = result.stop_reason
        self.history_ = result.history
        self._n_threads = n_threads
        if not result.converged:
            warnings.warn(
                f"KMeans stopped at max_iter={self.max_iter} before converging "
                f"(last squared centre shift {result.history[-1].center_shift_sq:.3g}). "
                "Raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    # -- fit --------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, float32 or float64 (other types are converted to float64).
            A C-contiguous float array is used as is, never copied. A dask array or
            DataFrame is fitted on the current Dask scheduler (``labels_`` is then a
            dask array); a ``StreamedArray`` (or a large ``numpy.memmap``) is streamed
            from disk. Both give bit-identical results to the in-memory fit from the
            same initial centres.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row (>= 0, not all 0). None means all 1.

        Returns
        -------
        self : KMeans
        """
        if is_dask_collection(X) or is_streamed(X):
            from kmeanskit import _out_of_core

            random_state = check_random_state(self.random_state)
            result, n_threads = _out_of_core.fit(self, X, sample_weight, random_state)
            return self._fitted(result, n_threads)
        X = _validate_array(self, X, reset=True)
        self._check_params(X)
        sample_weight = _check_sample_weight(sample_weight, X)
        n_threads = resolve_n_threads(self.n_threads)
        random_state = check_random_state(self.random_state)
        seeds = self._restart_seeds(random_state)
        method = _search.method_for(
            self.search, isinstance(self.init, str), *X.shape, self.n_clusters
        )
        # Drawn after the restarts' seeds, so those stay what scikit-learn's would be.
        seed = int(random_state.randint(np.iinfo(np.int32).max)) if method == "breathe" else 0
        rows = (
            _search.search_rows(sample_weight, self.n_clusters, self.search_size, seed)
            if method == "breathe"
            else None
        )
        # The seeding, restarts and search run on the sample when there is one.
        X_s, w_s = (X, sample_weight) if rows is None else (X[rows], sample_weight[rows])
        if self.verbose and rows is not None:
            print(f"Seeding, restarts and search on {rows.size} of {X.shape[0]} rows.")
        given = not isinstance(self.init, str)
        init_size = _search.seeding_size(self.init_size, method, self.n_clusters)
        init_rows = X_s.shape[0]
        if not given and init_size is not None and init_size < init_rows:
            # The seeding draws among the rows of positive weight (`initial_centers`).
            init_rows = min(init_size, int(np.count_nonzero(w_s > 0)))
        if self.verbose and init_rows < X_s.shape[0]:
            print(f"Seeding on {init_rows} of {X_s.shape[0]} rows (init_size).")
        backend = get_backend(X, _BACKEND_ALGORITHM[self.algorithm])
        common = dict(max_iter=self.max_iter, tol=float(self.tol), n_threads=n_threads)
        result = _core.fit(
            backend,
            X_s,
            w_s,
            self.n_clusters,
            self._init_fn(X_s, w_s, init_size),
            seeds,
            verbose=bool(self.verbose),
            search=_search.search_fn(
                method, X_s, w_s, seed=seed, max_iter=self.max_iter, tol=float(self.tol)
            ),
            **common,
        )
        if rows is not None:
            result = _core.lloyd_on_every_row(
                backend, X, sample_weight, result, verbose=bool(self.verbose), **common
            )
        self._fitted(result, n_threads)
        self.search_size_ = X_s.shape[0]
        self.init_size_ = init_rows
        n_distinct = int(n_distinct_labels(result.labels, self.n_clusters))
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}): X has fewer distinct points than "
                "n_clusters (duplicate points). Lower n_clusters or remove duplicates.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return ``labels_`` (equal to ``predict(X)``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the distances of X to every centre."""
        if is_dask_collection(X):
            return self.fit(X, sample_weight=sample_weight).transform(X)
        return self.fit(X, sample_weight=sample_weight)._transform(
            _validate_array(self, X, reset=False)
        )

    # -- use --------------------------------------------------------------------

    def _check_test_data(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        # Cast to the dtype the model was fitted in (scikit-learn raises here).
        return _validate_array(self, X, reset=False, dtype=self.cluster_centers_.dtype)

    def _labels_inertia(self, X: np.ndarray, sample_weight: Any = None) -> tuple[np.ndarray, float]:
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        labels, inertia = _core.predict(
            get_backend(X), X, self.cluster_centers_, resolve_n_threads(self.n_threads), weight
        )
        return labels.copy(), inertia

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centre of each row (ties: the lowest index).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Any float dtype; it is cast to the dtype the model was fitted in.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        if is_dask_collection(X) or isinstance(X, StreamedArray):
            from kmeanskit import _out_of_core

            check_is_fitted(self)
            return _out_of_core.predict(self, X)
        return self._labels_inertia(self._check_test_data(X))[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of every row to every centre.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters), dtype of X
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            from kmeanskit import _out_of_core

            return _out_of_core.transform(self, X)
        dtype = getattr(X, "dtype", None)  # the distances come back in X's float dtype
        X = _validate_array(self, X, reset=False, dtype=self.cluster_centers_.dtype)
        return self._transform(X, dtype if dtype in _FLOAT_DTYPES else np.float64)

    def _transform(self, X: np.ndarray, dtype: Any = None) -> np.ndarray:
        """Distances computed in the fitted centres' dtype, returned in ``dtype`` (by
        default X's)."""
        sq = _core.squared_distances(
            kernel_array(X, self.cluster_centers_.dtype),
            self.cluster_centers_,
            resolve_n_threads(self.n_threads),
        )
        return np.sqrt(sq).astype(X.dtype if dtype is None else dtype, copy=False)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the (weighted) inertia of X under the fitted centres."""
        X = self._check_test_data(X)
        return -self._labels_inertia(X, sample_weight)[1]

    @property
    def _n_features_out(self) -> int:
        return self.cluster_centers_.shape[0]

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    x_squared_norms: Any = None,
    random_state: Any = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeding, as :func:`sklearn.cluster.kmeans_plusplus`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    x_squared_norms : ignored
        Accepted for compatibility; distances are computed directly.
    random_state : int, RandomState instance or None
    n_local_trials : int, default=None
        Candidates per step; None means ``2 + int(ln n_clusters)``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        Rows of X chosen as centres.
    """
    est = KMeans(n_clusters=n_clusters)
    X = _validate_array(est, X, reset=True)
    est._check_params(X)
    if n_local_trials is not None and (
        not isinstance(n_local_trials, numbers.Integral) or n_local_trials < 1
    ):
        raise ValueError(f"n_local_trials={n_local_trials!r} must be an integer >= 1.")
    weight = _check_sample_weight(sample_weight, X)
    with thread_limits(resolve_n_threads(None)):
        return _kmeans_plusplus(
            X, n_clusters, weight, check_random_state(random_state), n_local_trials
        )


def k_means(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    init: Any = "k-means++",
    n_init: int | str = "auto",
    max_iter: int = 300,
    verbose: bool = False,
    tol: float = 1e-4,
    random_state: Any = None,
    copy_x: bool = True,
    algorithm: str = "auto",
    return_n_iter: bool = False,
    n_threads: int | None = None,
) -> tuple:
    """Functional form of :class:`KMeans`, as :func:`sklearn.cluster.k_means`.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,)
    inertia : float
    best_n_iter : int
        Only when ``return_n_iter`` is True.
    """
    est = KMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=n_init,
        max_iter=max_iter,
        verbose=verbose,
        tol=tol,
        random_state=random_state,
        copy_x=copy_x,
        algorithm=algorithm,
        n_threads=n_threads,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_
