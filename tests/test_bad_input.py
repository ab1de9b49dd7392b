"""Bad input raises a ValueError naming the problem; odd-but-valid input just works."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import blobs

from kmeanskit import KMeans, k_means, kmeans_plusplus


@pytest.fixture
def X():
    return blobs(n=60, d=2, k=3, seed=0)[0]


@pytest.fixture
def fitted(X):
    return KMeans(n_clusters=3, random_state=0).fit(X)


# -- X ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("row", [0, 255, 256, 700])
def test_finite_check_finds_every_non_finite_value(dtype, bad, row):
    """The parallel check (a per-chunk sum of x * 0) sees one bad value anywhere,
    including the short last chunk, and passes the largest finite values."""
    from kmeanskit._kernels.stats import is_all_finite

    X = np.random.default_rng(0).normal(size=(701, 3)).astype(dtype)
    X[-1] = np.finfo(dtype).max
    X[-2] = -np.finfo(dtype).max
    assert is_all_finite(X)
    X[row, 2] = bad
    assert not is_all_finite(X)


def test_nan_in_X(X):
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        KMeans(n_clusters=3).fit(X)


def test_inf_in_X(X):
    X[7, 0] = np.inf
    with pytest.raises(ValueError, match="contains infinity"):
        KMeans(n_clusters=3).fit(X)


def test_negative_inf_in_float32_X(X):
    X = X.astype(np.float32)
    X[0, 0] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        KMeans(n_clusters=3).fit(X)


def test_empty_X():
    with pytest.raises(ValueError, match="0 sample"):
        KMeans(n_clusters=1).fit(np.empty((0, 2)))


def test_X_without_features():
    with pytest.raises(ValueError, match="0 feature"):
        KMeans(n_clusters=1).fit(np.empty((5, 0)))


def test_1d_X():
    with pytest.raises(ValueError, match="Expected 2D array"):
        KMeans(n_clusters=2).fit(np.arange(10.0))


def test_strings_in_X():
    X = np.array([["1.0", "2.0"], ["a", "b"], ["3.0", "4.0"]])
    with pytest.raises(ValueError, match="non-numeric"):
        KMeans(n_clusters=2).fit(X)


def test_nan_in_X_at_predict(fitted, X):
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        fitted.predict(X)


# -- parameters -----------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1])
def test_n_clusters_below_one(X, k):
    with pytest.raises(ValueError, match=f"n_clusters={k}"):
        KMeans(n_clusters=k).fit(X)


def test_n_clusters_not_an_integer(X):
    with pytest.raises(ValueError, match=r"n_clusters=2\.5 must be an integer"):
        KMeans(n_clusters=2.5).fit(X)


def test_more_clusters_than_samples(X):
    with pytest.raises(ValueError, match="n_samples=60 should be >= n_clusters=61"):
        KMeans(n_clusters=61).fit(X)


def test_n_init_zero(X):
    with pytest.raises(ValueError, match="n_init=0"):
        KMeans(n_clusters=3, n_init=0).fit(X)


def test_max_iter_zero(X):
    with pytest.raises(ValueError, match="max_iter=0"):
        KMeans(n_clusters=3, max_iter=0).fit(X)


def test_negative_tol(X):
    with pytest.raises(ValueError, match="tol=-1"):
        KMeans(n_clusters=3, tol=-1).fit(X)


def test_unknown_algorithm(X):
    with pytest.raises(ValueError, match="algorithm='bogus'"):
        KMeans(n_clusters=3, algorithm="bogus").fit(X)


def test_unknown_init(X):
    with pytest.raises(ValueError, match="init='bogus'"):
        KMeans(n_clusters=3, init="bogus").fit(X)


def test_n_threads_zero(X):
    with pytest.raises(ValueError, match="n_threads=0"):
        KMeans(n_clusters=3, n_threads=0).fit(X)


def test_n_threads_zero_at_predict(fitted, X):
    fitted.set_params(n_threads=0)
    with pytest.raises(ValueError, match="n_threads=0"):
        fitted.predict(X)


# -- init arrays and callables --------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (3,), (4, 2)])
def test_init_array_of_wrong_shape(X, shape):
    with pytest.raises(ValueError, match=r"init array has shape"):
        KMeans(n_clusters=3, init=np.zeros(shape)).fit(X)


def test_init_array_with_nan(X):
    init = X[:3].copy()
    init[1, 0] = np.nan
    with pytest.raises(ValueError, match="init array contains NaN"):
        KMeans(n_clusters=3, init=init).fit(X)


def test_init_callable_returning_wrong_shape(X):
    with pytest.raises(ValueError, match=r"init array has shape \(2, 2\)"):
        KMeans(n_clusters=3, init=lambda X, k, random_state: X[:2]).fit(X)


# -- sample_weight --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(59,), (61,), (60, 1)])
def test_sample_weight_wrong_shape(X, shape):
    with pytest.raises(ValueError, match="sample_weight has shape"):
        KMeans(n_clusters=3).fit(X, sample_weight=np.ones(shape))


def test_sample_weight_negative(X):
    weight = np.ones(len(X))
    weight[3] = -0.5
    with pytest.raises(ValueError, match="negative"):
        KMeans(n_clusters=3).fit(X, sample_weight=weight)


def test_sample_weight_all_zero(X):
    with pytest.raises(ValueError, match="all zero"):
        KMeans(n_clusters=3).fit(X, sample_weight=np.zeros(len(X)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_sample_weight_nan_or_inf(X, bad):
    weight = np.ones(len(X))
    weight[0] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        KMeans(n_clusters=3).fit(X, sample_weight=weight)


def test_sample_weight_wrong_shape_in_score(fitted, X):
    with pytest.raises(ValueError, match="sample_weight has shape"):
        fitted.score(X, sample_weight=np.ones(5))


def test_sample_weight_wrong_shape_in_functions(X):
    with pytest.raises(ValueError, match="sample_weight has shape"):
        kmeans_plusplus(X, 3, sample_weight=np.ones(4))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        k_means(X, 3, sample_weight=np.ones(4))


# -- another number of features after fit ---------------------------------------------


@pytest.mark.parametrize("method", ["predict", "transform", "score"])
def test_other_number_of_features(fitted, method):
    with pytest.raises(ValueError, match="X has 3 features, but KMeans is expecting 2"):
        getattr(fitted, method)(np.zeros((4, 3)))


def test_predict_before_fit(X):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KMeans(n_clusters=3).predict(X)


# -- no surprises: dtypes, read-only input, no copies ----------------------------------


@pytest.mark.parametrize(
    "fit_dtype, predict_dtype", [(np.float64, np.float32), (np.float32, np.float64)]
)
def test_predict_with_another_float_dtype(fit_dtype, predict_dtype):
    X, y = blobs(n=800, d=5, k=4, seed=1)
    km = KMeans(n_clusters=4, random_state=0).fit(X.astype(fit_dtype))
    same = km.predict(X.astype(fit_dtype))
    other = km.predict(X.astype(predict_dtype))
    np.testing.assert_array_equal(other, same)
    np.testing.assert_array_equal(same, km.labels_)
    assert km.score(X.astype(predict_dtype)) == pytest.approx(
        km.score(X.astype(fit_dtype)), rel=1e-5
    )
    assert km.transform(X.astype(predict_dtype)).shape == (len(X), 4)


def test_integer_X_is_accepted_as_float64():
    X = np.repeat(np.array([[0, 0], [10, 0], [0, 10]]), 5, axis=0)
    km = KMeans(n_clusters=3, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float64
    assert km.inertia_ == 0.0
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_read_only_X_is_accepted_and_unchanged(dtype):
    X = blobs(n=700, d=3, k=4, seed=2, dtype=dtype)[0]
    X.setflags(write=False)
    before = X.tobytes()
    weight = np.linspace(0.5, 2.0, len(X))
    weight.setflags(write=False)
    km = KMeans(n_clusters=4, random_state=0).fit(X, sample_weight=weight)
    km.predict(X)
    km.transform(X)
    km.score(X)
    assert X.tobytes() == before
    assert km.labels_.shape == (len(X),)
    np.testing.assert_array_equal(km.labels_, km.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_c_contiguous_float_X_is_not_copied(dtype):
    X = blobs(n=300, d=3, k=3, seed=2, dtype=dtype)[0]
    assert X.flags.c_contiguous
    seen = []

    def init(data, k, random_state):
        seen.append(data)  # the array the fit works on
        return data[:k].copy()

    km = KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    assert np.shares_memory(seen[0], X)
    assert km.cluster_centers_.dtype == dtype
