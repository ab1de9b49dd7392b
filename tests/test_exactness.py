"""Exactness: from the same initial centres, kmeanskit's Lloyd gives the same labels,
centres and iteration count as a plain numpy Lloyd (tests/naive.py) and as
scikit-learn's Lloyd.

The shapes cover both assignment kernels: a direct loop for a few features and a BLAS
GEMM per 256-row chunk otherwise, with row counts below and not a multiple of 256.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn.cluster
from conftest import blobs, rows_as_init
from naive import naive_inertia, naive_labels, naive_lloyd, scaled_tol
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import KMeans

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def assert_centers_close(got, expected, X, rtol=1e-10):
    """Centres equal to ``rtol`` relative to the scale of the data (coordinates may be 0)."""
    scale = float(np.max(np.abs(X))) or 1.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)


def fit_given(X, init, sample_weight=None, **kw):
    """KMeans from the given initial centres."""
    return KMeans(n_clusters=len(init), init=init, n_init=1, **kw).fit(
        X, sample_weight=sample_weight
    )


# -- hand-computed cases -------------------------------------------------------------


def test_hand_computed_1d():
    # X = 0 1 2 10 11 12, init centres 0 and 1.
    # it 1: labels 0 1 1 1 1 1 (2 is nearer 1 than 0; 10..12 too)
    #       inertia = 0 + 0 + 1 + 81 + 100 + 121 = 303
    #       c0 = 0, c1 = (1 + 2 + 10 + 11 + 12) / 5 = 7.2; shift^2 = 6.2^2 = 38.44
    # it 2: 1 -> 0 (1 < 6.2), 2 -> 0 (2 < 5.2), 10 -> 1 (2.8 < 10): labels 0 0 0 1 1 1
    #       inertia = 0 + 1 + 4 + 2.8^2 + 3.8^2 + 4.8^2 = 5 + 45.32 = 50.32
    #       c0 = 1, c1 = 11
    # it 3: same labels -> stop ('no_change'), n_iter = 3, inertia = 1+0+1 + 1+0+1 = 4
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    km = fit_given(X, np.array([[0.0], [1.0]]), tol=0)
    np.testing.assert_array_equal(km.labels_, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(km.cluster_centers_, [[1.0], [11.0]], rtol=1e-15)
    assert km.inertia_ == pytest.approx(4.0, rel=1e-15)
    assert km.n_iter_ == 3
    assert km.stop_reason_ == "no_change"
    assert [it.inertia for it in km.history_] == pytest.approx([303.0, 50.32, 4.0], rel=1e-14)
    assert [it.n_changed for it in km.history_] == [6, 2, 0]
    assert km.history_[0].center_shift_sq == pytest.approx(38.44, rel=1e-14)
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, [[0.0], [1.0]], 300)
    np.testing.assert_array_equal(labels, km.labels_)
    assert (n_iter, reason, inertia) == (3, "no_change", pytest.approx(4.0))


@pytest.mark.parametrize("d", [2, 17], ids=["direct", "gemm"])
def test_hand_computed_tie_goes_to_lowest_index(d):
    # Points on the x axis: -3 -1 0 1 3; init centres -1 and 1 (other coordinates 0).
    # it 1: 0 is at distance 1 from both centres: the tie goes to centre 0.
    #       labels 0 0 0 1 1; c0 = (-3 - 1 + 0) / 3 = -4/3, c1 = (1 + 3) / 2 = 2
    # it 2: 0 -> 0 (4/3 < 2), 1 -> 1 (1 < 7/3): same labels, stop. n_iter = 2.
    #       inertia = (5/3)^2 + (1/3)^2 + (4/3)^2 + 1 + 1 = 42/9 + 2 = 20/3
    X = np.zeros((5, d))
    X[:, 0] = [-3, -1, 0, 1, 3]
    init = np.zeros((2, d))
    init[:, 0] = [-1, 1]
    km = fit_given(X, init, tol=0)
    np.testing.assert_array_equal(km.labels_, [0, 0, 0, 1, 1])
    np.testing.assert_allclose(km.cluster_centers_[:, 0], [-4 / 3, 2.0], rtol=1e-15)
    assert km.inertia_ == pytest.approx(20 / 3, rel=1e-14)
    assert km.n_iter_ == 2
    # The tie in iteration 1 is also resolved to the lowest index by predict.
    np.testing.assert_array_equal(km.predict(np.zeros((1, d))), [0])
    tied = KMeans(n_clusters=2, init=init, n_init=1, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        tied.fit(X)
    assert tied.history_[0].inertia == pytest.approx(4 + 0 + 1 + 0 + 4)


# -- against the naive Lloyd on many shapes -----------------------------------------


def _random_case(n, d, k, seed, dtype=np.float64):
    rng = np.random.RandomState(seed)
    # a few overlapping Gaussian groups: Lloyd needs several iterations
    means = rng.uniform(-5, 5, size=(max(k // 2, 1), d))
    X = means[rng.randint(len(means), size=n)] + rng.normal(size=(n, d))
    X = np.ascontiguousarray(X, dtype=dtype)
    return X, rows_as_init(X, k, seed)


@pytest.mark.parametrize("d", [1, 2, 3, 8, 16, 17, 40, 100])
@pytest.mark.parametrize("k", [1, 2, 7, 33])
@pytest.mark.parametrize("n", [97, 1337])
def test_matches_naive_lloyd(n, d, k):
    X, init = _random_case(n, d, k, seed=n + 10 * d + k)
    km = fit_given(X, init, tol=0, max_iter=300)
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.n_iter_ == n_iter
    assert km.stop_reason_ == reason
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)


@pytest.mark.parametrize("d", [4, 6, 8])
def test_matches_naive_lloyd_many_clusters(d):
    # many centres and few features: the shape where a direct loop may beat a GEMM
    X, init = _random_case(1500, d, 130, seed=d)
    km = fit_given(X, init, tol=0)
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert (km.n_iter_, km.stop_reason_) == (n_iter, reason)
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)


@pytest.mark.parametrize("d", [2, 16, 17, 40])
def test_matches_naive_lloyd_with_tol(d):
    X, init = _random_case(1000, d, 9, seed=d)
    km = fit_given(X, init, tol=1e-2)
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, init, 300, scaled_tol(X, 1e-2))
    assert reason == "tol"  # the case is meant to stop on tol
    assert km.stop_reason_ == "tol"
    assert km.n_iter_ == n_iter
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)


@pytest.mark.parametrize("max_iter", [1, 2, 3])
@pytest.mark.parametrize("d", [3, 20])
def test_matches_naive_lloyd_at_max_iter(max_iter, d):
    X, init = _random_case(700, d, 6, seed=max_iter)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        km = fit_given(X, init, tol=0, max_iter=max_iter)
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, init, max_iter)
    assert reason == km.stop_reason_ == "max_iter"
    assert km.n_iter_ == n_iter == max_iter
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)


@pytest.mark.parametrize("d", [2, 20])
def test_matches_naive_with_relocation(d):
    # Centre 1 sits far from all the data, so its cluster is empty in iteration 1
    # and is relocated; the naive reference does the same relocation.
    X, init = _random_case(500, d, 5, seed=3)
    init[1] = 1e3
    km = fit_given(X, init, tol=0)
    assert km.history_[0].n_relocated == 1
    labels, centers, inertia, n_iter, reason = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.n_iter_ == n_iter


# -- against scikit-learn's Lloyd ---------------------------------------------------


def _sklearn_cases():
    iris = np.ascontiguousarray(load_iris().data, dtype=np.float64)
    digits = np.ascontiguousarray(load_digits().data, dtype=np.float64)
    X_blobs, _ = blobs(n=2000, d=5, k=6, seed=1, cluster_std=2.0)
    return {
        "iris-k3": (iris, 3),
        "iris-k8": (iris, 8),
        "digits-k10": (digits, 10),
        "digits-k25": (digits, 25),
        "blobs-k6": (X_blobs, 6),
        "blobs-k20": (X_blobs, 20),
    }


@pytest.mark.parametrize("tol", [0.0, 1e-4])
@pytest.mark.parametrize("case", list(_sklearn_cases()))
def test_matches_sklearn_lloyd(case, tol):
    X, k = _sklearn_cases()[case]
    for seed in range(2):
        init = rows_as_init(X, k, seed)
        km = fit_given(X, init, tol=tol)
        sk = sklearn.cluster.KMeans(
            n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=tol
        ).fit(X)
        np.testing.assert_array_equal(km.labels_, sk.labels_)
        assert_centers_close(km.cluster_centers_, sk.cluster_centers_, X)
        assert km.n_iter_ == sk.n_iter_
        assert km.inertia_ == pytest.approx(sk.inertia_, rel=1e-10)


# -- float32 ----------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 8, 24, 64])
def test_float32_labels_match_naive_on_separated_blobs(d):
    # One initial centre in each blob: every final centre sits in its own blob, so
    # no row is anywhere near a tie and float32 arithmetic cannot change a label.
    X, y = blobs(n=1500, d=d, k=7, seed=d, dtype=np.float32, cluster_std=1.0)
    init = X[[np.flatnonzero(y == j)[3] for j in range(7)]]
    km = fit_given(X, init, tol=0)
    assert km.cluster_centers_.dtype == np.float32
    labels, centers, inertia, n_iter, _ = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X, rtol=1e-5)
    assert km.inertia_ == pytest.approx(inertia, rel=1e-5)
    # inertia_ is the float64 sum of the squared distances to the float32 centres
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_), rel=1e-12
    )


# -- sample weights -----------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 20])
def test_integer_weights_equal_repeated_rows(d):
    X, _ = blobs(n=800, d=d, k=5, seed=2, cluster_std=2.5)
    rng = np.random.RandomState(0)
    weight = rng.randint(0, 4, size=len(X))
    init = X[np.flatnonzero(weight > 0)[:5]].copy()
    weighted = fit_given(X, init, tol=0, sample_weight=weight.astype(np.float64))
    repeated_X = np.repeat(X, weight, axis=0)
    repeated = fit_given(repeated_X, init, tol=0)
    np.testing.assert_array_equal(np.repeat(weighted.labels_, weight), repeated.labels_)
    assert_centers_close(weighted.cluster_centers_, repeated.cluster_centers_, X)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-10)
    assert weighted.n_iter_ == repeated.n_iter_
    # and both agree with the weighted naive Lloyd
    labels, centers, inertia, n_iter, _ = naive_lloyd(X, init, 300, sample_weight=weight)
    np.testing.assert_array_equal(weighted.labels_, labels)
    assert_centers_close(weighted.cluster_centers_, centers, X)
    assert weighted.n_iter_ == n_iter


def test_fractional_weights_match_naive():
    X, init = _random_case(900, 4, 6, seed=11)
    weight = np.random.RandomState(1).uniform(0.1, 3.0, size=len(X))
    km = fit_given(X, init, tol=0, sample_weight=weight)
    labels, centers, inertia, n_iter, _ = naive_lloyd(X, init, 300, sample_weight=weight)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)
    assert km.n_iter_ == n_iter


# -- labels_ == predict(X) ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [3, 30])
@pytest.mark.parametrize(
    "kw, reason",
    [({"tol": 0}, "no_change"), ({"tol": 10.0}, "tol"), ({"tol": 0, "max_iter": 2}, "max_iter")],
    ids=["no_change", "tol", "max_iter"],
)
def test_labels_equal_predict(kw, reason, d, dtype):
    X, init = _random_case(1100, d, 12, seed=5, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = fit_given(X, init, **kw)
    assert km.stop_reason_ == reason
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    np.testing.assert_array_equal(km.labels_, naive_labels(X, km.cluster_centers_))
    assert -km.score(X) == pytest.approx(km.inertia_, rel=1e-12)


def test_labels_equal_predict_with_random_restarts():
    X, _ = blobs(n=1000, d=6, k=8, seed=4, cluster_std=3.0)
    km = KMeans(n_clusters=8, init="random", n_init=5, random_state=0).fit(X)
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_), rel=1e-12
    )


# -- shared benchmark data (optional) -----------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not there")
@pytest.mark.parametrize("name, k", [("fcps/hepta", 7), ("sipu/s1", 15)], ids=["hepta", "s1"])
def test_shared_data_matches_naive_and_sklearn(name, k):
    path = SHARED_DATA / f"{name}.data.gz"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    X = np.ascontiguousarray(np.loadtxt(path), dtype=np.float64)
    init = rows_as_init(X, k, seed=0)
    km = fit_given(X, init, tol=0)
    labels, centers, inertia, n_iter, _ = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    assert_centers_close(km.cluster_centers_, centers, X)
    assert km.n_iter_ == n_iter
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)
    sk = sklearn.cluster.KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=0)
    sk.fit(X)
    np.testing.assert_array_equal(km.labels_, sk.labels_)
    assert km.n_iter_ == sk.n_iter_
