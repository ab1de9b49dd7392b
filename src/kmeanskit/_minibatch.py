"""MiniBatchKMeans: the scikit-learn contract around the mini-batch driver.

Like ``_estimator``, this module uses scikit-learn's public API only; the algorithm
lives in ``_minibatch_core``.
"""

from __future__ import annotations

import numbers
import time
import warnings
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from kmeanskit import _core, _minibatch_core
from kmeanskit._config import resolve_n_threads, thread_limits
from kmeanskit._estimator import KMeans, _check_sample_weight, _validate_array
from kmeanskit._minibatch_core import MiniBatchHistory, MiniBatchInit, MiniBatchStep

_SEED_MAX = np.iinfo(np.int32).max


def _check_int(name: str, value: Any, low: int, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name}={value!r} must be an integer >= {low}{extra}.")


class MiniBatchKMeans(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Mini-batch K-means: scikit-learn's algorithm, reproducible for any thread count.

    A drop-in for :class:`sklearn.cluster.MiniBatchKMeans`: same parameters, methods
    and fitted attributes, plus ``n_threads``, ``init_size_``, ``stop_reason_`` and
    ``history_``. Every step labels a batch exactly (the assignment kernel of
    :class:`KMeans`, ties to the lowest index) and moves each centre towards the mean
    of its batch rows with a learning rate of one over the weight it has seen (Sculley
    2010). Centres that see less than ``reassignment_ratio`` times the weight of the
    busiest one are moved onto random batch rows now and then.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random', 'farthest'}, callable or array of shape (n_clusters, n_features)
        As :class:`KMeans` (the same seeding code), run on ``init_size`` rows drawn
        with replacement. A callable is called as ``init(X_sub, n_clusters,
        random_state)``.
    max_iter : int, default=100
        Most passes over the data (epochs): at most ``max_iter * n_samples //
        batch_size`` steps.
    batch_size : int, default=1024
        Rows per step (at most n_samples).
    verbose : int, default=0
        Print the inits and one line per step.
    compute_labels : bool, default=True
        Label all of X after the last step (``labels_``, ``inertia_``).
    random_state : int, RandomState instance or None, default=None
        Seeds the subsamples, the seeding, the batches and the reassignments, all from
        one ``RandomState``. The same value gives bit-identical results.
    tol : float, default=0.0
        Stop when the squared centre shift of a step is at most ``tol`` times the
        mean feature variance (0: never).
    max_no_improvement : int or None, default=10
        Stop when the EWA of the batch inertia has not improved for this many steps
        (None: never).
    init_size : int or None, default=None
        Rows the seeding sees and the candidates are scored on; None means ``3 *
        batch_size`` (at least ``3 * n_clusters``), capped at n_samples. The value
        used is ``init_size_``.
    n_init : 'auto' or int, default='auto'
        Candidate initialisations; the one with the lowest inertia on the validation
        rows is kept. 'auto' means 1 for 'k-means++' or an array, else 3.
    reassignment_ratio : float, default=0.01
        Centres that have seen less than this fraction of the weight of the busiest
        one are moved onto random batch rows (every ``10 * n_clusters`` rows, and at
        once while a centre has seen nothing). 0 turns it off.
    n_threads : int or None, default=None
        Threads for the numba kernels. Results do not depend on it.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
        ``predict(X)`` of the training data (of the last batch after ``partial_fit``).
    inertia_ : float
        Weighted inertia of X under the final centres, float64 (with
        ``compute_labels=False``, the EWA of the batch inertia times the total weight,
        as scikit-learn).
    n_iter_ : int
        Epochs started: ``ceil(n_steps_ * batch_size / n_samples)``.
    n_steps_ : int
        Steps (batches) run; ``partial_fit`` adds one per call.
    init_size_ : int
        Rows the seeding saw.
    stop_reason_ : {'max_no_improvement', 'tol', 'max_iter'}
        Why ``fit`` stopped (``partial_fit`` leaves it unchanged).
    history_ : MiniBatchHistory
        The candidate inits (seed, rows seen, validation inertia) and one record per
        step (mean batch inertia, its EWA, squared centre shift, reassigned centres,
        seconds).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        max_iter: int = 100,
        batch_size: int = 1024,
        verbose: int = 0,
        compute_labels: bool = True,
        random_state: Any = None,
        tol: float = 0.0,
        max_no_improvement: int | None = 10,
        init_size: int | None = None,
        n_init: int | str = "auto",
        reassignment_ratio: float = 0.01,
        n_threads: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio
        self.n_threads = n_threads

    # -- parameters -------------------------------------------------------------

    def _kmeans(self) -> KMeans:
        """A KMeans with the shared parameters: its checks and seeding are reused."""
        n_init = self.n_init
        if n_init == "auto":
            n_init = 1 if isinstance(self.init, str) and self.init == "k-means++" else 3
            if not isinstance(self.init, str) and not callable(self.init):
                n_init = 1
        return KMeans(
            self.n_clusters,
            init=self.init,
            n_init=n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            search=None,  # mini-batch runs no global search
            n_threads=self.n_threads,
        )

    def _check_params(self, X: np.ndarray) -> None:
        self._kmeans()._check_params(X)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("max_no_improvement", self.max_no_improvement, 0, allow_none=True)
        _check_int("init_size", self.init_size, 1, allow_none=True)
        ratio = self.reassignment_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not ratio >= 0:
            raise ValueError(f"reassignment_ratio={ratio!r} must be a number >= 0.")
        if not isinstance(self.compute_labels, (bool, np.bool_)):
            raise ValueError(f"compute_labels={self.compute_labels!r} must be True or False.")
        n = X.shape[0]
        self._batch_size = int(min(self.batch_size, n))
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=3,
            )
            init_size = 3 * self.n_clusters
        self.init_size_ = int(min(init_size, n))

    def _subsample_init_fn(self) -> Any:
        """Initial centres from a subsample and a seed (callables see the subsample)."""

        def centers_of(X_sub: np.ndarray, w_sub: np.ndarray, seed: int | None) -> np.ndarray:
            return self._kmeans()._init_fn(X_sub, w_sub, None)(seed)

        return centers_of

    # -- fit --------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchKMeans:
        """Compute the centres on X by mini-batches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 or float64 (other types are converted to float64); a C-contiguous
            float array is used as is, never copied.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Batches are drawn with probability proportional to the weight (and enter
            the update with weight 1); the seeding and validation use the weights.

        Returns
        -------
        self : MiniBatchKMeans

        Notes
        -----
        Everything random comes from one ``RandomState`` in this order: the
        validation rows; per candidate init its rows and its seed (neither for given
        centres); then per step the batch rows and, when centres are reassigned, the
        batch rows they move to.
        """
        X = _validate_array(self, X, reset=True)
        self._check_params(X)
        sample_weight = _check_sample_weight(sample_weight, X)
        self._n_threads = resolve_n_threads(self.n_threads)
        random_state = check_random_state(self.random_state)
        km = self._kmeans()
        n_init = km._resolved_n_init()
        given = not isinstance(self.init, str) and not callable(self.init)
        with thread_limits(self._n_threads):
            centers, history = _minibatch_core.choose_init(
                X,
                sample_weight,
                self._subsample_init_fn(),
                n_init,
                given,
                self.init_size_,
                random_state,
                bool(self.verbose),
            )
            result = _minibatch_core.fit(
                X,
                sample_weight,
                centers,
                history,
                random_state,
                batch_size=self._batch_size,
                max_iter=self.max_iter,
                tol=_core.scaled_tolerance(X, float(self.tol)),
                max_no_improvement=self.max_no_improvement,
                reassignment_ratio=float(self.reassignment_ratio),
                verbose=bool(self.verbose),
            )
        self._state = result.state
        self._random_state = random_state
        self.cluster_centers_ = result.state.centers.copy()
        self.n_steps_ = result.n_steps
        self.n_iter_ = int(np.ceil(result.n_steps * self._batch_size / X.shape[0]))
        self.stop_reason_ = result.stop_reason
        self.history_ = result.history
        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight)
        else:
            ewa = result.ewa_inertia
            if ewa is None:  # a single step: no EWA yet
                ewa = result.history.steps[-1].batch_inertia
            self.inertia_ = float(ewa * np.sum(sample_weight, dtype=np.float64))
        return self

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> MiniBatchKMeans:
        """One step on the batch X; the first call also seeds on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The batch (any number of rows; the first needs at least n_clusters).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the batch rows in the update (and the first call's seeding).

        Returns
        -------
        self : MiniBatchKMeans

        Notes
        -----
        The first call draws, from ``RandomState(random_state)``: the rows the
        seeding sees (when ``init_size_`` is below the batch's rows) and the seed
        (neither for given centres). Every call then draws the batch rows that
        reassigned centres move to, if any. No candidates are compared (scikit-learn
        seeds once here too).
        """
        fitted = hasattr(self, "cluster_centers_")
        X = _validate_array(self, X, reset=not fitted)
        if not fitted:
            self._check_params(X)
        sample_weight = _check_sample_weight(sample_weight, X)
        self._n_threads = resolve_n_threads(self.n_threads)
        with thread_limits(self._n_threads):
            if not fitted:
                self._random_state = check_random_state(self.random_state)
                self._first_partial_fit(X, sample_weight)
            dtype = self._state.centers.dtype
            X = np.ascontiguousarray(X, dtype=dtype)
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
            start = time.perf_counter()
            inertia, shift, n_re = self._state.step(
                X,
                sample_weight,
                self._random_state,
                float(self.reassignment_ratio),
                bool(self.verbose),
            )
            self.n_steps_ = getattr(self, "n_steps_", 0) + 1
            self.history_.steps.append(
                MiniBatchStep(
                    self.n_steps_,
                    X.shape[0],
                    inertia / X.shape[0],
                    None,
                    shift,
                    n_re,
                    time.perf_counter() - start,
                )
            )
        self.cluster_centers_ = self._state.centers.copy()
        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(X, sample_weight)
        return self

    def _first_partial_fit(self, X: np.ndarray, sample_weight: np.ndarray) -> None:
        """Seed on (a subsample of) the first batch: one candidate, nothing scored."""
        start = time.perf_counter()
        rs = self._random_state
        given = not isinstance(self.init, str) and not callable(self.init)
        X_sub, w_sub, seed = X, sample_weight, None
        if not given:
            if self.init_size_ < X.shape[0]:
                rows = rs.randint(0, X.shape[0], self.init_size_)
                X_sub, w_sub = X[rows], sample_weight[rows]
            seed = int(rs.randint(_SEED_MAX))
        centers = self._subsample_init_fn()(X_sub, w_sub, seed)
        self._state = _minibatch_core.MiniBatchState(centers)
        self.history_ = MiniBatchHistory(init_size=int(len(X_sub)), validation_size=0)
        self.history_.inits.append(
            MiniBatchInit(0, seed, int(len(X_sub)), None, time.perf_counter() - start)
        )
        self.n_steps_ = 0

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the labels of X (equal to ``predict(X)``)."""
        est = self.fit(X, sample_weight=sample_weight)
        if self.compute_labels:
            return est.labels_
        return est.predict(X)

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the distances of X to every centre."""
        return self.fit(X, sample_weight=sample_weight)._transform(
            _validate_array(self, X, reset=False)
        )

    # -- use (the same code as KMeans) -------------------------------------------

    _check_test_data = KMeans._check_test_data
    _labels_inertia = KMeans._labels_inertia
    _transform = KMeans._transform
    predict = KMeans.predict
    transform = KMeans.transform
    score = KMeans.score
    _n_features_out = KMeans._n_features_out

    def as_kmeans(self) -> KMeans:
        """A fitted :class:`KMeans` with these centres, for ``save_model`` and tools
        that take a KMeans.

        Its ``predict``, ``transform`` and ``score`` give what this model gives. It
        carries ``labels_``, ``inertia_``, ``n_iter_`` (epochs) and ``stop_reason_``
        of the fit (``converged_`` is False only after 'max_iter'), but no
        ``history_``: mini-batch steps are not Lloyd iterations.

        Returns
        -------
        model : KMeans
        """
        check_is_fitted(self)
        if not hasattr(self, "inertia_"):
            raise ValueError(
                "this MiniBatchKMeans has no inertia_ (partial_fit with "
                "compute_labels=False): call score(X) or fit with compute_labels=True first."
            )
        km = self._kmeans()
        km.cluster_centers_ = self.cluster_centers_.copy()
        for name in ("labels_", "n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(km, name, getattr(self, name))
        km.inertia_ = float(self.inertia_)
        km.n_iter_ = int(getattr(self, "n_iter_", 0))
        km.stop_reason_ = getattr(self, "stop_reason_", "max_iter")
        km.converged_ = km.stop_reason_ != "max_iter"
        return km

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
