"""Greedy k-means++ seeding (``kmeanskit._init.kmeans_plusplus``), accelerated.

The accelerated seeding skips rows by the triangle inequality, estimates distances in
float32 and samples in two levels; all of that must leave the result of the plain
algorithm unchanged. The reference below is that plain algorithm, written the obvious
way in numpy with the same draws.

Exact equality is checked on integer-valued data: there every squared distance, every
cumulative weight and every potential is an integer below 2**53, so every summation
order gives the same bits and the comparison cannot fail by rounding (and exact ties in
the potentials test the first-candidate-wins rule). On continuous data the two
implementations sum in different orders, so the check there is on the potential
trajectory (to a relative 1e-9) instead of on the bits.
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "4")  # conftest.py sets it too

import math  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kmeanskit._config import thread_limits  # noqa: E402
from kmeanskit._init import kmeans_plusplus  # noqa: E402


def _draw(cumulative, values):
    """Inverse transform: the first row whose cumulative weight exceeds each value."""
    idx = np.searchsorted(cumulative, values, side="right")
    last = np.searchsorted(cumulative, cumulative[-1], side="left")  # last row with weight
    return np.minimum(idx, last)


def reference_kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None):
    """Plain greedy k-means++: (indices, potential after each step), all in float64."""
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    t = 2 + int(math.log(n_clusters)) if n_local_trials is None else n_local_trials
    cum = np.cumsum(w)
    first = int(_draw(cum, random_state.uniform(size=1) * cum[-1])[0])
    closest = ((X - X[first]) ** 2).sum(axis=1)
    indices, potentials = [first], [float(w @ closest)]
    for _ in range(1, n_clusters):
        cum = np.cumsum(w * closest)
        ids = _draw(cum, random_state.uniform(size=t) * cum[-1])
        dist = ((X[:, None, :] - X[ids][None, :, :]) ** 2).sum(axis=2)  # (n, t)
        pots = w @ np.minimum(closest[:, None], dist)
        best = int(np.argmin(pots))  # first candidate wins ties
        indices.append(int(ids[best]))
        closest = np.minimum(closest, dist[:, best])
        potentials.append(float(w @ closest))
    return np.array(indices), np.array(potentials)


def potentials_of(X, indices, sample_weight):
    """Potential after each prefix of the chosen rows, in float64."""
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    closest = np.full(X.shape[0], np.inf)
    out = []
    for i in indices:
        closest = np.minimum(closest, ((X - X[i]) ** 2).sum(axis=1))
        out.append(float(w @ closest))
    return np.array(out)


def integer_data(n, d, weighted, dtype, seed):
    """Integer-valued rows (a few coarse clusters plus noise) and integer weights."""
    rng = np.random.default_rng(seed)
    spread = 1000 if d == 1 else 20
    centres = rng.integers(-spread, spread + 1, size=(7, d))
    X = centres[rng.integers(0, 7, size=n)] + rng.integers(-3, 4, size=(n, d))
    if weighted:
        w = rng.integers(0, 4, size=n)  # a quarter of the rows have weight 0
        w[0] = 1
    else:
        w = np.ones(n)
    return np.ascontiguousarray(X, dtype=dtype), np.asarray(w, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("k", [1, 2, 10, 50])
@pytest.mark.parametrize("d", [1, 2, 5, 40])
@pytest.mark.parametrize("n", [300, 3000])
def test_same_as_reference_on_integer_data(n, d, k, weighted, dtype):
    X, w = integer_data(n, d, weighted, dtype, seed=n + 10 * d + k)
    centers, indices = kmeans_plusplus(X, k, w, np.random.RandomState(k + d))
    ref_indices, _ = reference_kmeans_plusplus(X, k, w, np.random.RandomState(k + d))
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(centers, X[ref_indices])
    assert centers.dtype == X.dtype
    assert indices.dtype == np.int64


@pytest.mark.parametrize("n_local_trials", [1, 3, 70])
def test_same_as_reference_for_any_number_of_trials(n_local_trials):
    """70 trials: candidates from 63 on share the last bit of the improved-row masks."""
    X, w = integer_data(3000, 5, True, np.float32, seed=1)
    rs = np.random.RandomState(3)
    indices = kmeans_plusplus(X, 12, w, rs, n_local_trials=n_local_trials)[1]
    ref = reference_kmeans_plusplus(X, 12, w, np.random.RandomState(3), n_local_trials)[0]
    np.testing.assert_array_equal(indices, ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("d", [2, 40])
def test_same_potential_trajectory_on_continuous_data(d, dtype):
    rng = np.random.default_rng(d)
    X = np.ascontiguousarray(
        rng.normal(size=(8, d))[rng.integers(0, 8, 3000)] * 5 + rng.normal(size=(3000, d)),
        dtype=dtype,
    )
    w = rng.uniform(0.5, 2.0, size=3000).astype(dtype)
    indices = kmeans_plusplus(X, 40, w, np.random.RandomState(0))[1]
    ref_indices, ref_pots = reference_kmeans_plusplus(X, 40, w, np.random.RandomState(0))
    np.testing.assert_allclose(potentials_of(X, indices, w), ref_pots, rtol=1e-9)
    np.testing.assert_array_equal(indices, ref_indices)


def test_weight_two_is_the_same_as_a_repeated_row():
    X, w = integer_data(1500, 3, True, np.float64, seed=5)
    repeated = np.ascontiguousarray(np.repeat(X, w.astype(np.int64), axis=0))
    ones = np.ones(repeated.shape[0])
    centers_w = kmeans_plusplus(X, 20, w, np.random.RandomState(7))[0]
    centers_r = kmeans_plusplus(repeated, 20, ones, np.random.RandomState(7))[0]
    np.testing.assert_array_equal(centers_w, centers_r)


def test_rows_of_weight_zero_are_never_chosen():
    X, w = integer_data(3000, 5, True, np.float32, seed=2)
    for seed in range(5):
        indices = kmeans_plusplus(X, 30, w, np.random.RandomState(seed))[1]
        assert np.all(w[indices] > 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_bit_identical_for_any_number_of_threads(dtype):
    """Large enough that the parallel kernels run (many chunks, many pairs)."""
    rng = np.random.default_rng(0)
    X = np.ascontiguousarray(
        rng.normal(size=(40, 16))[rng.integers(0, 40, 20000)] * 4 + rng.normal(size=(20000, 16)),
        dtype=dtype,
    )
    w = rng.uniform(0.0, 2.0, size=20000).astype(dtype)
    counts = [c for c in (1, 2, 4) if c <= numba.config.NUMBA_NUM_THREADS]
    assert len(counts) >= 2, "run with NUMBA_NUM_THREADS >= 2 (tests/conftest.py sets 4)"
    results = []
    for n_threads in counts:
        with thread_limits(n_threads):
            results.append(kmeans_plusplus(X, 64, w, np.random.RandomState(1)))
    for centers, indices in results[1:]:
        np.testing.assert_array_equal(indices, results[0][1])
        assert centers.tobytes() == results[0][0].tobytes()


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fewer_distinct_points_than_clusters(weighted):
    """Duplicates: every distinct point (of positive weight) becomes a centre first, then
    there is no potential left and the draws fall on row 0, without error."""
    rng = np.random.default_rng(0)
    points = np.array([[0, 0, 0], [5, 1, 0], [-3, 2, 7], [1, 1, 1], [9, -4, 2]], dtype=float)
    X = np.ascontiguousarray(points[rng.integers(0, 5, size=600)])
    w = np.ones(600)
    if weighted:
        w[rng.random(600) < 0.3] = 0.0
        w[np.flatnonzero((X == points[4]).all(axis=1))] = 0.0  # point 4 has no weight
    n_distinct = 4 if weighted else 5
    centers, indices = kmeans_plusplus(X, 9, w, np.random.RandomState(0))
    assert centers.shape == (9, 3)
    assert len({tuple(c) for c in centers[:n_distinct]}) == n_distinct
    assert np.all(w[indices[:n_distinct]] > 0)
    np.testing.assert_array_equal(indices[n_distinct:], 0)
    ref = reference_kmeans_plusplus(X, 9, w, np.random.RandomState(0))[0]
    np.testing.assert_array_equal(indices, ref)


def test_one_distinct_point_and_tiny_inputs():
    X = np.ones((7, 2))
    centers, indices = kmeans_plusplus(X, 3, np.ones(7), np.random.RandomState(0))
    np.testing.assert_array_equal(centers, np.ones((3, 2)))
    assert indices.shape == (3,)
    X = np.arange(6.0).reshape(3, 2)
    indices = kmeans_plusplus(X, 3, np.ones(3), np.random.RandomState(0))[1]
    assert sorted(indices) == [0, 1, 2]


def test_mean_potential_matches_scikit_learn():
    """Same distribution as sklearn's greedy k-means++: mean potential within 5%."""
    from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=4000, centers=30, n_features=4, cluster_std=1.5, random_state=0)
    X = np.ascontiguousarray(X)
    w = np.ones(X.shape[0])
    ours, theirs = [], []
    for seed in range(20):
        indices = kmeans_plusplus(X, 30, w, np.random.RandomState(seed))[1]
        ours.append(potentials_of(X, indices, w)[-1])
        theirs.append(potentials_of(X, sk_kmeans_plusplus(X, 30, random_state=seed)[1], w)[-1])
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.05)
