"""Reproducibility: the same input and random_state give bit-identical results for any
thread count (data is cut in fixed 256-row chunks and partial sums are reduced in a
fixed order)."""

from __future__ import annotations

import os
import warnings

import numba
import numpy as np
import pytest
from conftest import blobs
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import KMeans, kmeans_plusplus

THREADS = (1, 2, 4)


def _data(n, d, dtype, seed=0):
    # overlapping blobs: many iterations, many labels changing between passes
    X, _ = blobs(n=n, d=d, k=15, seed=seed, cluster_std=4.0, dtype=dtype)
    return X


def _fit(X, n_threads, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_threads=n_threads, **kw).fit(X)


def assert_bit_identical(a, b):
    assert a.cluster_centers_.dtype == b.cluster_centers_.dtype
    assert a.cluster_centers_.tobytes() == b.cluster_centers_.tobytes()
    assert np.array_equal(a.labels_, b.labels_)
    assert a.labels_.tobytes() == b.labels_.tobytes()
    assert a.inertia_ == b.inertia_
    assert a.n_iter_ == b.n_iter_
    assert a.stop_reason_ == b.stop_reason_
    assert [r.inertia for r in a.history_.restarts] == [r.inertia for r in b.history_.restarts]
    assert [r.init_inertia for r in a.history_.restarts] == [
        r.init_inertia for r in b.history_.restarts
    ]
    assert [it.inertia for it in a.history_] == [it.inertia for it in b.history_]
    assert [it.center_shift_sq for it in a.history_] == [it.center_shift_sq for it in b.history_]


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("d", [2, 4, 9, 32, 64], ids=lambda d: f"d{d}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bit_identical_for_any_thread_count(dtype, d, init):
    X = _data(20_011, d, dtype, seed=d)
    params = dict(n_clusters=12, init=init, n_init=3, max_iter=40, random_state=7)
    fits = [_fit(X, t, **params) for t in THREADS]
    for other in fits[1:]:
        assert_bit_identical(fits[0], other)
    # and the default (all threads) too
    assert_bit_identical(fits[0], _fit(X, None, **params))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bit_identical_with_many_clusters(dtype):
    X = _data(20_011, 6, dtype, seed=5)
    params = dict(n_clusters=130, n_init=1, max_iter=8, random_state=0)
    fits = [_fit(X, t, **params) for t in THREADS]
    for other in fits[1:]:
        assert_bit_identical(fits[0], other)


@pytest.mark.parametrize("d", [3, 40])
def test_bit_identical_with_sample_weight_and_given_init(d):
    X = _data(9_000, d, np.float64, seed=1)
    weight = np.random.RandomState(0).uniform(0.1, 4.0, size=len(X))
    init = X[:10].copy()
    fits = []
    for t in THREADS:
        km = KMeans(n_clusters=10, init=init, n_init=1, tol=0, n_threads=t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(km.fit(X, sample_weight=weight))
    for other in fits[1:]:
        assert_bit_identical(fits[0], other)
    # two chunks only (300 rows): fewer chunks than threads
    small = [KMeans(n_clusters=10, init=init, n_threads=t).fit(X[:300]) for t in THREADS]
    # predict / transform / score with different thread counts also agree bit for bit
    for t, km in zip(THREADS, fits, strict=True):
        km.set_params(n_threads=t)
        assert km.predict(X).tobytes() == fits[0].labels_.tobytes()
        assert km.transform(X[:500]).tobytes() == fits[0].transform(X[:500]).tobytes()
        assert km.score(X, sample_weight=weight) == fits[0].score(X, sample_weight=weight)
    assert len({km.cluster_centers_.tobytes() for km in small}) == 1
    assert len({km.labels_.tobytes() for km in small}) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("d", [4, 48])
def test_kmeans_plusplus_seeding_identical_across_threads(dtype, d):
    X = _data(20_011, d, dtype, seed=3)
    # max_iter=1: the first record is the inertia of the seeds themselves
    fits = [
        _fit(
            X,
            t,
            n_clusters=25,
            init="k-means++",
            n_init=3,
            max_iter=1,
            random_state=3,
            search_size=None,
            init_size=None,
        )  # fmt: skip
        for t in THREADS
    ]
    first = fits[0].history_.restarts
    for km in fits[1:]:
        assert [r.seed for r in km.history_.restarts] == [r.seed for r in first]
        assert [r.init_inertia for r in km.history_.restarts] == [r.init_inertia for r in first]
        assert_bit_identical(fits[0], km)
    # the public seeding function gives the seeds the restarts started from
    centers, _ = kmeans_plusplus(X, 25, random_state=first[0].seed)
    again, _ = kmeans_plusplus(X, 25, random_state=first[0].seed)
    assert centers.tobytes() == again.tobytes()
    km = _fit(X, 1, n_clusters=25, init=centers, n_init=1, max_iter=1)
    assert km.history_[0].inertia == first[0].init_inertia


def test_n_threads_is_honoured_and_restored(max_threads):
    X = _data(2_000, 3, np.float64)
    seen = []

    def init(X, k, random_state):
        seen.append(numba.get_num_threads())  # init runs inside the fit's thread limit
        return X[:k].copy()

    before = numba.get_num_threads()
    for t in (1, 2, 4, None, -1):
        KMeans(n_clusters=3, init=init, n_init=1, n_threads=t).fit(X)
    # None: every usable core (at most numba's count); -1: every numba thread.
    cores = min(max_threads, len(os.sched_getaffinity(0)))
    assert seen == [1, min(2, max_threads), min(4, max_threads), cores, max_threads]
    assert numba.get_num_threads() == before


def test_same_random_state_twice_is_identical():
    X = _data(5_000, 6, np.float32, seed=2)
    a = _fit(X, 2, n_clusters=9, n_init=4, init="random", random_state=123)
    b = _fit(X, 2, n_clusters=9, n_init=4, init="random", random_state=123)
    assert_bit_identical(a, b)
    assert [r.seed for r in a.history_.restarts] == [r.seed for r in b.history_.restarts]
    # a RandomState instance seeded the same way gives the same too
    c = _fit(X, 2, n_clusters=9, n_init=4, init="random", random_state=np.random.RandomState(123))
    assert_bit_identical(a, c)


def test_different_random_state_differs():
    X = _data(5_000, 6, np.float64, seed=2)
    fits = [_fit(X, 2, n_clusters=9, n_init=1, max_iter=3, random_state=s) for s in range(4)]
    seeds = [km.history_.restarts[0].seed for km in fits]
    assert len(set(seeds)) == 4
    init_inertias = {km.history_.restarts[0].init_inertia for km in fits}
    assert len(init_inertias) == 4
    assert len({km.cluster_centers_.tobytes() for km in fits}) == 4


def test_group_sums_are_added_in_index_order():
    """The in-memory pass adds its per-group partial sums left to right, as the Dask
    and streaming backends do: values of very different magnitudes make any other
    order give other bits."""
    from kmeanskit._kernels.stats import sum_in_order

    rng = np.random.default_rng(0)
    parts = rng.normal(size=(64, 50)) * 10.0 ** rng.integers(-8, 9, size=(64, 50))
    expected = parts[0].copy()
    for row in parts[1:]:
        expected += row
    out = np.empty(50)
    sum_in_order(parts, out)
    assert out.tobytes() == expected.tobytes()
    assert not np.array_equal(out, parts[::-1].sum(axis=0))  # the order does matter here


def test_row_groups_depend_on_the_shape_only_and_scale_with_the_data():
    from kmeanskit._config import GROUP_SUMS_BUDGET, MAX_GROUPS, n_groups_for

    assert n_groups_for(1000, 8, 2) == 4  # one group per chunk of rows at most
    assert n_groups_for(10**6, 16, 16) == MAX_GROUPS
    # k x d above what 16 MiB of partial sums allows: still several groups when the
    # data is large, each group's sums at most an eighth of the data's float32 size.
    k, d = 4096, 1024
    assert n_groups_for(20_000, k, d) == 1
    groups = n_groups_for(10**6, k, d)
    assert groups == 10**6 * d * 4 // 8 // (8 * k * d) == 15
    assert groups * 8 * k * d <= max(GROUP_SUMS_BUDGET, 10**6 * d * 4 // 8)
