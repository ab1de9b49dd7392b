"""k-means|| seeding: independent of the chunking, never picks weight-0 rows, weights
its candidates by the rows nearest to them, and seeds Lloyd as well as k-means++."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import blobs

from kmeanskit import KMeans
from kmeanskit._init import initial_centers, kmeans_plusplus
from kmeanskit._init_parallel import N_ROUNDS, in_memory_source, kmeans_parallel
from kmeanskit._kernels.parallel_init import row_uniform


def _capture_reduce(store):
    def reduce(candidates, k, weights, rs):
        store["candidates"], store["weights"] = candidates.copy(), weights.copy()
        return kmeans_plusplus(candidates, k, weights, rs)

    return reduce


def test_row_uniform_is_a_counter_hash():
    u = np.array([row_uniform(3, 1, i) for i in range(20000)])
    assert np.all((u >= 0) & (u < 1))
    assert abs(u.mean() - 0.5) < 0.01
    assert row_uniform(3, 1, 7) == row_uniform(3, 1, 7)
    assert row_uniform(3, 1, 7) != row_uniform(3, 2, 7) != row_uniform(4, 1, 7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_candidate_weights_brute_force(dtype):
    X, _ = blobs(n=3000, d=5, k=6, dtype=dtype, seed=4, cluster_std=2.0)
    w = np.random.RandomState(1).uniform(0.5, 2.0, size=len(X)).astype(dtype)
    store = {}
    kmeans_parallel(in_memory_source(X, w, 6), 6, np.random.RandomState(0), _capture_reduce(store))
    cands = store["candidates"].astype(np.float64)
    assert len(cands) > 6  # oversampled: about 2k per round
    d2 = ((X.astype(np.float64)[:, None, :] - cands[None]) ** 2).sum(axis=2)
    expected = np.bincount(d2.argmin(axis=1), weights=w.astype(np.float64), minlength=len(cands))
    np.testing.assert_allclose(store["weights"], expected.astype(dtype), rtol=1e-5)
    assert store["weights"].sum() == pytest.approx(w.sum(dtype=np.float64), rel=1e-5)


def test_weight_zero_rows_never_picked():
    X, _ = blobs(n=4000, d=3, k=5, seed=2, cluster_std=2.0)
    w = np.ones(len(X))
    zero = np.arange(0, len(X), 2)
    w[zero] = 0.0
    X[zero] += 100.0  # far away: D^2 would make them the likeliest picks
    store = {}
    for seed in range(5):
        kmeans_parallel(
            in_memory_source(X, w, 5), 5, np.random.RandomState(seed), _capture_reduce(store)
        )
        assert np.all(store["candidates"][:, 0] < 50)


def test_rounds_do_not_depend_on_scale():
    """The same draws (same candidates, scaled) for the data times 1e-3, 1 and 1e3."""
    X, _ = blobs(n=2000, d=4, k=5, seed=3, cluster_std=1.0)
    counts = []
    for scale in (1e-3, 1.0, 1e3):
        store = {}
        kmeans_parallel(
            in_memory_source(X * scale, np.ones(len(X)), 5),
            5,
            np.random.RandomState(0),
            _capture_reduce(store),
        )
        counts.append(len(store["candidates"]))
    assert counts[0] == counts[1] == counts[2]
    assert counts[0] <= 1 + N_ROUNDS * 2 * 5 * 3  # about l = 2k per round


def test_same_centres_for_any_group_cut_of_the_same_rows():
    """Chunking invariance in memory: a view of the rows gives the same centres."""
    X, _ = blobs(n=5000, d=6, k=7, dtype=np.float32, seed=5, cluster_std=2.0)
    w = np.ones(len(X), dtype=np.float32)
    a = initial_centers(X, w, 7, "k-means||", 11)
    b = initial_centers(np.ascontiguousarray(X.copy()), w.copy(), 7, "k-means||", 11)
    np.testing.assert_array_equal(a, b)


def test_quality_within_one_percent_of_kmeans_plusplus():
    """Lloyd from k-means|| ends within 1% of Lloyd from greedy k-means++ (mean of seeds)."""
    X, _ = blobs(n=20000, d=8, k=25, dtype=np.float64, seed=9, cluster_std=1.5)
    # Both land in one of a few discrete local optima: average over enough seeds.
    par = [KMeans(25, init="k-means||", random_state=s).fit(X).inertia_ for s in range(20)]
    pp = [KMeans(25, init="k-means++", random_state=s).fit(X).inertia_ for s in range(20)]
    assert np.mean(par) <= 1.01 * np.mean(pp)
