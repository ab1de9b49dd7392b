"""The global search (breathing): never worse than plain Lloyd, finds what Lloyd misses,
exact and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from naive import naive_inertia, naive_labels, naive_update

from kmeanskit import KMeans
from kmeanskit._search import breathe_in, breathe_out
from kmeanskit.backends.bounds import nearest_other
from kmeanskit.datasets import make_blobs
from kmeanskit.metrics import centroid_index


def grid_blobs(side=6, per=60, seed=0, dtype=np.float64):
    """side x side well-separated blobs on a grid (Birch1-like, small): many k-means++
    runs leave two centroids in one blob and none in another."""
    rng = np.random.RandomState(seed)
    centers = np.array([(i * 10.0, j * 10.0) for i in range(side) for j in range(side)])
    X = np.repeat(centers, per, axis=0) + rng.normal(scale=2.0, size=(side * side * per, 2))
    return np.ascontiguousarray(X, dtype=dtype), centers


def plain(**params):
    return KMeans(search=None, **params)


@pytest.mark.parametrize("seed", range(6))
def test_search_finds_every_cluster_where_plain_lloyd_does_not(seed):
    X, truth = grid_blobs(seed=seed)
    k = len(truth)
    found = KMeans(k, random_state=seed).fit(X)
    assert centroid_index(found.cluster_centers_, truth) == 0
    base = plain(n_clusters=k, random_state=seed).fit(X)
    assert found.inertia_ <= base.inertia_


def test_plain_lloyd_fails_often_on_the_grid():
    """The search test above is not vacuous: from the same seeds plain Lloyd misses."""
    X, truth = grid_blobs()
    k = len(truth)
    misses = sum(
        centroid_index(plain(n_clusters=k, random_state=s).fit(X).cluster_centers_, truth) > 0
        for s in range(6)
    )
    assert misses >= 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_search_result_is_a_lloyd_fixed_point_and_honest(dtype):
    X, truth = grid_blobs(seed=3, dtype=dtype)
    km = KMeans(len(truth), tol=0.0, random_state=1).fit(X)
    # Labels are the nearest centres, inertia is theirs, and labels_ == predict(X).
    np.testing.assert_array_equal(km.labels_, naive_labels(X, km.cluster_centers_))
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_), rel=1e-10
    )
    if km.stop_reason_ == "no_change":
        w = np.ones(len(X))
        expected = naive_update(X, km.cluster_centers_.astype(np.float64), km.labels_, w)[0]
        np.testing.assert_allclose(km.cluster_centers_, expected, rtol=1e-5)


def test_search_history_tells_what_happened():
    X, truth = grid_blobs(seed=2)
    km = KMeans(len(truth), random_state=0).fit(X)
    cycles = km.history_.search
    assert cycles, "the search ran no cycle"
    assert [c.cycle for c in cycles] == list(range(1, len(cycles) + 1))
    best = [c.best_inertia for c in cycles]
    assert all(b2 <= b1 for b1, b2 in zip(best, best[1:], strict=False))
    # The kept solution is then polished by Lloyd at the fit's tolerance: never worse.
    assert km.inertia_ <= best[-1]
    first = km.history_.restarts[km.history_.best_restart].inertia
    assert best[0] <= first
    # Every cycle that was not accepted halved the depth; the search ends at depth 1 failing.
    depths = [c.depth for c in cycles]
    for c, nxt in zip(cycles, depths[1:], strict=False):
        assert nxt == (c.depth if c.accepted else c.depth // 2)
    assert not cycles[-1].accepted and cycles[-1].depth == 1
    assert km.history_.as_dict()["search"][0]["cycle"] == 1


def test_search_none_is_plain_lloyd_and_auto_skips_given_centres():
    X, truth = grid_blobs(seed=1)
    k = len(truth)
    off = plain(n_clusters=k, random_state=5).fit(X)
    assert off.history_.search == []
    assert off.inertia_ == off.history_.restarts[0].inertia
    init = X[:k].copy()
    given = KMeans(k, init=init, n_init=1).fit(X)
    assert given.history_.search == []
    forced = KMeans(k, init=init, n_init=1, search="breathe", random_state=0).fit(X)
    assert forced.history_.search and forced.inertia_ <= given.inertia_


def test_search_is_reproducible_across_threads():
    X, truth = grid_blobs(seed=4, dtype=np.float32)
    runs = [KMeans(len(truth), random_state=7, n_threads=t).fit(X) for t in (1, 2, 4)]
    for km in runs[1:]:
        np.testing.assert_array_equal(km.cluster_centers_, runs[0].cluster_centers_)
        np.testing.assert_array_equal(km.labels_, runs[0].labels_)
        assert km.inertia_ == runs[0].inertia_


def test_search_with_weights_equals_repeated_rows_in_inertia():
    X, _ = make_blobs(400, 2, 8, random_state=0)
    w = np.random.RandomState(0).randint(1, 4, size=len(X)).astype(np.float64)
    km = KMeans(8, random_state=0).fit(X, sample_weight=w)
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_, w), rel=1e-10
    )


def test_search_with_fewer_rows_than_k_plus_depth():
    X = np.array([[0.0], [1.0], [5.0], [6.0], [10.0]])
    km = KMeans(4, random_state=0, search="breathe").fit(X)
    assert len(np.unique(km.labels_)) == 4
    km = KMeans(5, random_state=0, search="breathe").fit(X)
    assert km.inertia_ == 0.0


def test_bad_search_value_names_the_choices():
    with pytest.raises(ValueError, match="search='swap' must be one of"):
        KMeans(3, search="swap").fit(np.random.RandomState(0).rand(20, 2))


def test_breathing_moves():
    centers = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [10.0, 1.0], [30.0, 0.0]])
    np.testing.assert_array_equal(nearest_other(centers), [1, 0, 3, 2, 2])
    rng = np.random.RandomState(0)
    error = np.array([1.0, 1.0, 50.0, 1.0, 9.0])
    grown = breathe_in(centers, error, total_weight=10.0, m=2, rng=rng)
    assert grown.shape == (7, 2)
    # The added centres sit beside the two of largest error (2 and 4).
    assert np.abs(grown[5:] - centers[[2, 4]]).max() < 0.1
    # Removing 0 (lowest utility) freezes its neighbour 1; next lowest free is 3.
    utility = np.array([0.1, 0.2, 5.0, 0.3, 9.0])
    np.testing.assert_array_equal(breathe_out(centers, utility, 2), centers[[1, 2, 4]])
