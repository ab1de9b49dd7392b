"""Seeding: k-means++, init='random', init callables, n_init='auto', k_means."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.cluster
from conftest import blobs
from naive import naive_inertia, naive_labels, sq_distances
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import KMeans, k_means, kmeans_plusplus


def seed_inertia(X, centers, sample_weight=None):
    """Potential of a set of seeds: weighted sum of squared distances to the nearest."""
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    return float(np.sum(w * sq_distances(X, centers).min(axis=1)))


@pytest.fixture(scope="module")
def X():
    return blobs(n=1000, d=3, k=8, seed=4, cluster_std=1.5)[0]


# -- kmeans_plusplus -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_kmeans_plusplus_returns_rows_of_X(X, k, dtype):
    X = X.astype(dtype)
    centers, indices = kmeans_plusplus(X, k, random_state=0)
    assert centers.shape == (k, X.shape[1])
    assert centers.dtype == dtype
    assert indices.shape == (k,)
    assert np.issubdtype(indices.dtype, np.integer)
    np.testing.assert_array_equal(centers, X[indices])
    assert len(set(indices.tolist())) == k  # X has no duplicate rows


def test_kmeans_plusplus_is_deterministic_per_seed(X):
    for seed in range(3):
        a, ia = kmeans_plusplus(X, 10, random_state=seed)
        b, ib = kmeans_plusplus(X, 10, random_state=np.random.RandomState(seed))
        assert a.tobytes() == b.tobytes()
        np.testing.assert_array_equal(ia, ib)
    picks = {tuple(kmeans_plusplus(X, 10, random_state=s)[1]) for s in range(5)}
    assert len(picks) == 5


def test_kmeans_plusplus_spreads_the_seeds():
    # 6 tight, far-apart blobs and 6 seeds: greedy k-means++ puts one seed in each blob
    X, y = blobs(n=600, d=2, k=6, seed=0, cluster_std=0.05, center_box=(-100, 100))
    for seed in range(10):
        _, indices = kmeans_plusplus(X, 6, random_state=seed)
        assert sorted(y[indices]) == list(range(6))


@pytest.mark.parametrize("seed", range(5))
def test_kmeans_plusplus_never_picks_zero_weight_rows(X, seed):
    weight = np.random.RandomState(seed).randint(0, 2, size=len(X)).astype(float)
    # make the zero-weight rows the most tempting: far from everything
    X = X.copy()
    X[weight == 0] *= 50
    _, indices = kmeans_plusplus(X, 30, sample_weight=weight, random_state=seed)
    assert np.all(weight[indices] > 0)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_zero_weight_rows_are_never_seeds(init):
    # Exactly k rows have weight: every restart must seed on exactly those rows, so
    # its initial inertia is 0 (a zero-weight row as a seed would leave one of the
    # weighted rows without a centre of its own).
    X = blobs(n=200, d=2, k=3, seed=1)[0]
    weight = np.zeros(len(X))
    weighted_rows = np.random.RandomState(0).choice(len(X), size=7, replace=False)
    weight[weighted_rows] = np.arange(1.0, 8.0)
    km = KMeans(n_clusters=7, init=init, n_init=10, random_state=0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(X, sample_weight=weight)
    assert len(km.history_.restarts) == 10
    assert all(r.init_inertia == 0.0 for r in km.history_.restarts)
    # after one iteration each centre is its one weighted row (w * x / w: to 1 ulp)
    np.testing.assert_allclose(
        sorted(map(tuple, km.cluster_centers_)),
        sorted(map(tuple, X[weighted_rows])),
        rtol=1e-15,
    )


def test_random_init_needs_enough_weighted_rows():
    X = blobs(n=50, d=2, k=3, seed=1)[0]
    weight = np.zeros(len(X))
    weight[:3] = 1.0
    with pytest.raises(ValueError, match="positive sample_weight"):
        KMeans(n_clusters=4, init="random").fit(X, sample_weight=weight)


@pytest.mark.parametrize("d", [2, 20])
def test_weighted_seeding_equals_repeated_rows(d):
    X = blobs(n=400, d=d, k=5, seed=d, cluster_std=2.0)[0]
    weight = np.random.RandomState(d).randint(0, 4, size=len(X))
    repeated = np.repeat(X, weight, axis=0)
    origin = np.repeat(np.arange(len(X)), weight)  # row of X behind each repeated row
    for seed in range(8):
        c_w, i_w = kmeans_plusplus(X, 9, sample_weight=weight.astype(float), random_state=seed)
        c_r, i_r = kmeans_plusplus(repeated, 9, random_state=seed)
        np.testing.assert_array_equal(origin[i_r], i_w)
        np.testing.assert_array_equal(c_w, c_r)


def test_seed_quality_matches_sklearn_kmeans_plusplus():
    X = blobs(n=2000, d=3, k=12, seed=7, cluster_std=1.5)[0]
    seeds = range(30)
    ours = [seed_inertia(X, kmeans_plusplus(X, 15, random_state=s)[0]) for s in seeds]
    theirs = [
        seed_inertia(X, sklearn.cluster.kmeans_plusplus(X, 15, random_state=s)[0]) for s in seeds
    ]
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.10)
    # and k-means++ beats uniformly random seeds by a wide margin on clustered data
    rng = np.random.RandomState(0)
    uniform = [seed_inertia(X, X[rng.choice(len(X), 15, replace=False)]) for _ in seeds]
    assert np.mean(ours) < 0.7 * np.mean(uniform)


def test_n_local_trials_one_is_plain_kmeans_plusplus(X):
    centers, indices = kmeans_plusplus(X, 6, random_state=0, n_local_trials=1)
    np.testing.assert_array_equal(centers, X[indices])
    with pytest.raises(ValueError, match="n_local_trials=0"):
        kmeans_plusplus(X, 6, random_state=0, n_local_trials=0)


# -- init callables and n_init='auto' --------------------------------------------------


def test_init_callable_is_used(X):
    calls = []

    def init(data, k, random_state):
        assert isinstance(random_state, np.random.RandomState)
        calls.append((data.shape, k, random_state.randint(2**31 - 1)))
        return data[-k:] + 0.25

    km = KMeans(n_clusters=4, init=init, n_init=3, random_state=5).fit(X)
    assert [c[:2] for c in calls] == [(X.shape, 4)] * 3
    restarts = km.history_.restarts
    # each call gets RandomState(seed) of its restart
    for (_, _, drawn), r in zip(calls, restarts, strict=True):
        assert drawn == np.random.RandomState(r.seed).randint(2**31 - 1)
    # and the run starts from exactly the centres the callable returned
    start = X[-4:] + 0.25
    expected = naive_inertia(X, start, naive_labels(X, start))
    assert all(r.init_inertia == pytest.approx(expected, rel=1e-12) for r in restarts)


@pytest.mark.parametrize(
    "init, expected",
    [("k-means++", 1), ("random", 10), ("callable", 10), ("array", 1)],
)
def test_n_init_auto(X, init, expected):
    if init == "callable":
        init = lambda data, k, random_state: data[random_state.choice(len(data), k)]  # noqa: E731
    elif init == "array":
        init = X[:5].copy()
    km = KMeans(n_clusters=5, init=init, n_init="auto", random_state=0).fit(X)
    assert len(km.history_.restarts) == expected
    if expected == 10:
        assert len({r.seed for r in km.history_.restarts}) == 10
    best = km.history_.best_restart
    assert km.inertia_ == min(r.inertia for r in km.history_.restarts)
    assert km.inertia_ == km.history_.restarts[best].inertia


def test_explicit_n_init_with_init_array_runs_once(X):
    with pytest.warns(RuntimeWarning, match="only one init"):
        km = KMeans(n_clusters=5, init=X[:5].copy(), n_init=4).fit(X)
    assert len(km.history_.restarts) == 1


@pytest.mark.parametrize("n_init", [1, 4, 7])
def test_explicit_n_init_gives_that_many_restarts(X, n_init):
    km = KMeans(n_clusters=5, n_init=n_init, random_state=0).fit(X)
    assert len(km.history_.restarts) == n_init


# -- k_means -----------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_k_means_function_equals_estimator(X, init):
    weight = np.linspace(0.5, 1.5, len(X))
    params = dict(init=init, n_init=3, random_state=11, tol=1e-5)
    centers, labels, inertia = k_means(X, 6, sample_weight=weight, **params)
    km = KMeans(n_clusters=6, **params).fit(X, sample_weight=weight)
    assert centers.tobytes() == km.cluster_centers_.tobytes()
    np.testing.assert_array_equal(labels, km.labels_)
    assert inertia == km.inertia_
    out = k_means(X, 6, sample_weight=weight, return_n_iter=True, **params)
    assert len(out) == 4
    assert out[0].tobytes() == centers.tobytes()
    np.testing.assert_array_equal(out[1], labels)
    assert out[2] == inertia
    assert out[3] == km.n_iter_


def test_farthest_init_follows_the_traversal():

    from kmeanskit._init import initial_centers

    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [10.0, 5.0], [-3.0, 0.0]])
    w = np.ones(len(X))
    centers = initial_centers(X, w, 3, "farthest", 0)
    first = int(np.flatnonzero((X == centers[0]).all(1))[0])
    chosen = [first]
    for _ in range(2):
        d = np.min([((X - X[c]) ** 2).sum(1) for c in chosen], axis=0)
        chosen.append(int(np.argmax(d)))
    np.testing.assert_array_equal(centers, X[chosen])
    # Rows of weight 0 are never chosen, and too few positive rows is a clear error.
    w0 = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    assert not (initial_centers(X, w0, 3, "farthest", 1)[:, 0] == 10.0).any()
    with pytest.raises(ValueError, match="positive sample_weight"):
        initial_centers(X, w0, 4, "farthest", 1)
    km = KMeans(3, init="farthest", random_state=0, n_init=1).fit(X)
    assert km.cluster_centers_.shape == (3, 2)


def test_afk_mc2_seeds_like_plain_kmeans_plusplus():
    from kmeanskit._init import afk_mc2
    from kmeanskit._init import kmeans_plusplus as kpp

    X, _ = blobs(n=4000, d=4, k=20, seed=3)
    w = np.ones(len(X))

    def seed_inertia(centers):
        return naive_inertia(X, centers, naive_labels(X, centers))

    rs = np.random.RandomState
    afk = np.mean([seed_inertia(afk_mc2(X, 20, w, rs(s))[0]) for s in range(8)])
    plain = np.mean([seed_inertia(kpp(X, 20, w, rs(s), n_local_trials=1)[0]) for s in range(8)])
    assert afk < 1.5 * plain  # an approximation of plain k-means++ (1.28x here)
    # Bit-identical for a seed, and never a row of weight 0 or a repeated row.
    c1, i1 = afk_mc2(X, 20, w, np.random.RandomState(5))
    c2, i2 = afk_mc2(X, 20, w, np.random.RandomState(5))
    np.testing.assert_array_equal(c1, c2)
    assert len(set(i1.tolist())) == 20
    w0 = w.copy()
    w0[: len(X) // 2] = 0.0
    _, idx = afk_mc2(X, 20, w0, np.random.RandomState(0))
    assert np.all(idx >= len(X) // 2)
    with pytest.raises(ValueError, match="positive sample_weight"):
        afk_mc2(X, 20, np.zeros(len(X)) + (np.arange(len(X)) < 5), np.random.RandomState(0))
    km = KMeans(20, init="afk-mc2", random_state=0).fit(X)
    assert km.inertia_ <= 1.01 * KMeans(20, random_state=0).fit(X).inertia_


def test_init_size_seeds_on_a_reported_subsample(capsys):
    from kmeanskit._init import initial_centers
    from kmeanskit._init import kmeans_plusplus as kpp

    X, _ = blobs(n=3000, d=3, k=6, seed=2)
    w = np.ones(len(X))
    sub = initial_centers(X, w, 6, "k-means++", 11, init_size=500)
    # The subsample is drawn first, then seeded on as if it were the data.
    rs = np.random.RandomState(11)
    rows = np.sort(rs.choice(len(X), size=500, replace=False))
    np.testing.assert_array_equal(sub, kpp(X[rows], 6, w[rows], rs)[0])
    km = KMeans(6, init_size=500, random_state=0, verbose=1).fit(X)
    assert km.init_size_ == 500
    assert "Seeding on 500 of 3000 rows (init_size)." in capsys.readouterr().out
    assert KMeans(6, random_state=0).fit(X).init_size_ == 3000
    assert KMeans(6, init_size=10**6, random_state=0).fit(X).init_size_ == 3000
    with pytest.raises(ValueError, match="init_size=3 must be 'auto', None"):
        KMeans(6, init_size=3).fit(X)


def test_init_size_auto_seeds_on_a_sample_only_when_the_search_runs(capsys):
    from kmeanskit._search import AUTO_INIT_MIN_ROWS, AUTO_INIT_ROWS_PER_CLUSTER

    k = 6
    size = max(AUTO_INIT_MIN_ROWS, AUTO_INIT_ROWS_PER_CLUSTER * k)
    X, _ = blobs(n=2 * size, d=2, k=k, seed=4)
    km = KMeans(k, random_state=0, verbose=1).fit(X)
    assert km.init_size_ == size
    assert km.search_size_ == len(X)
    assert f"Seeding on {size} of {len(X)} rows (init_size)." in capsys.readouterr().out
    # The same fit as asking for that many rows.
    same = KMeans(k, random_state=0, init_size=size).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, same.cluster_centers_)
    # No search to repair the seeding: every row, as scikit-learn seeds.
    assert KMeans(k, random_state=0, search=None).fit(X).init_size_ == len(X)
    given = KMeans(k, init=X[:k].copy(), n_init=1).fit(X)
    assert given.init_size_ == len(X)
    assert KMeans(k, random_state=0, init_size=None).fit(X).init_size_ == len(X)


def test_init_size_draws_rows_of_positive_weight_only():
    from kmeanskit._init import initial_centers

    X, _ = blobs(n=3000, d=3, k=6, seed=2)
    w = np.zeros(len(X))
    w[::10] = 1.0  # 300 rows can be centres
    for seed in range(5):
        centers = initial_centers(X, w, 6, "k-means++", seed, init_size=100)
        positive = X[w > 0]
        assert all((positive == c).all(axis=1).any() for c in centers)
    # The estimator reports the rows the seeding saw: only rows of positive weight.
    assert KMeans(6, init_size=100, random_state=0).fit(X, sample_weight=w).init_size_ == 100
    assert KMeans(6, init_size=1000, random_state=0).fit(X, sample_weight=w).init_size_ == 300
    # Fewer positive rows than init_size: all of them, nothing drawn.
    rs = np.random.RandomState(3)
    from kmeanskit._init import kmeans_plusplus as kpp

    np.testing.assert_array_equal(
        initial_centers(X, w, 6, "k-means++", 3, init_size=1000),
        kpp(X[w > 0], 6, w[w > 0], rs)[0],
    )
