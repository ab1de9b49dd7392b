"""Why a fit stopped, what the history records, and empty-cluster relocation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import blobs
from naive import naive_inertia, naive_labels, scaled_tol, sq_distances
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import FitHistory, IterationRecord, KMeans, RestartRecord, kmeans_plusplus


def overlapping(n=1500, d=3, seed=0):
    """Overlapping blobs: Lloyd needs many iterations."""
    X, _ = blobs(n=n, d=d, k=6, seed=seed, cluster_std=3.0)
    return X


# -- stop reasons --------------------------------------------------------------------


def test_no_change_with_tol_zero():
    X = overlapping()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a converged fit does not warn
        km = KMeans(n_clusters=6, tol=0, random_state=0).fit(X)
    assert km.stop_reason_ == "no_change"
    assert km.converged_ is True
    assert km.n_iter_ > 2
    last = km.history_[-1]
    assert last.n_changed == 0 and last.n_relocated == 0
    # every earlier iteration changed some label (else it would have stopped there)
    assert all(it.n_changed > 0 for it in km.history_.iterations[:-1])
    # nothing moved in the last update: the centres are the means of the final labels
    assert last.center_shift_sq == 0.0


def test_tol_with_a_large_tol():
    X = overlapping()
    tol = 0.05
    km = KMeans(n_clusters=6, tol=tol, random_state=0).fit(X)
    assert km.stop_reason_ == "tol"
    assert km.converged_ is True
    threshold = scaled_tol(X, tol)
    shifts = [it.center_shift_sq for it in km.history_]
    assert shifts[-1] <= threshold
    assert all(s > threshold for s in shifts[:-1])
    assert km.history_[-1].n_changed > 0  # it stopped before the labels settled
    # the same run with tol=0 goes on longer from the same seeds
    longer = KMeans(n_clusters=6, tol=0, random_state=0).fit(X)
    assert longer.n_iter_ > km.n_iter_
    assert longer.history_.restarts[0].seed == km.history_.restarts[0].seed


def test_max_iter_warns_and_is_not_converged():
    X = overlapping()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        km = KMeans(n_clusters=6, max_iter=1, tol=0, random_state=0).fit(X)
    assert km.stop_reason_ == "max_iter"
    assert km.converged_ is False
    assert km.n_iter_ == 1
    assert len(km.history_) == 1
    np.testing.assert_array_equal(km.labels_, km.predict(X))


def test_history_records_every_iteration():
    X = overlapping(n=1234)
    init = X[[0, 10, 20, 30, 40, 50]].copy()
    km = KMeans(n_clusters=6, init=init, tol=0, algorithm="lloyd").fit(X)
    hist = km.history_
    assert isinstance(hist, FitHistory)
    assert len(hist) == km.n_iter_ == len(list(hist))
    assert all(isinstance(it, IterationRecord) for it in hist)
    assert [it.iteration for it in hist] == list(range(1, km.n_iter_ + 1))
    assert hist[0].n_changed == len(X)  # every row gets its first label
    assert all(0 <= it.n_changed <= len(X) for it in hist)
    assert all(it.n_relocated == 0 for it in hist)
    assert all(it.seconds >= 0 for it in hist)
    assert all(it.algorithm == "lloyd" for it in hist)
    assert all(it.center_shift_sq >= 0 for it in hist)
    # iteration 1: inertia of the initial centres; shift: how far the centres moved
    labels0 = naive_labels(X, init)
    assert hist[0].inertia == pytest.approx(naive_inertia(X, init, labels0), rel=1e-12)
    with pytest.warns(ConvergenceWarning):
        one = KMeans(n_clusters=6, init=init, max_iter=1).fit(X)
    c1 = one.cluster_centers_
    assert hist[0].center_shift_sq == pytest.approx(np.sum((c1 - init) ** 2), rel=1e-12)
    # iteration 2 assigns to the centres iteration 1 produced
    labels1 = naive_labels(X, c1)
    assert hist[1].inertia == pytest.approx(naive_inertia(X, c1, labels1), rel=1e-12)
    assert hist[1].n_changed == int(np.sum(labels1 != labels0))
    # as_dict is plain data
    d = hist.as_dict()
    assert d["best_restart"] == 0
    assert [r["inertia"] for r in d["iterations"]] == [it.inertia for it in hist]
    assert len(d["restarts"]) == 1


def test_restart_records_and_best_restart():
    X = overlapping(n=900, d=4, seed=5)
    km = KMeans(n_clusters=8, init="k-means++", n_init=6, random_state=1).fit(X)
    restarts = km.history_.restarts
    assert len(restarts) == 6
    assert all(isinstance(r, RestartRecord) for r in restarts)
    assert [r.restart for r in restarts] == list(range(6))
    assert all(isinstance(r.seed, int) for r in restarts)
    assert len({r.seed for r in restarts}) == 6
    assert all(r.stop_reason in ("no_change", "tol", "max_iter") for r in restarts)
    assert all(1 <= r.n_iter <= 300 for r in restarts)
    assert all(r.seconds >= 0 for r in restarts)
    inertias = [r.inertia for r in restarts]
    best = km.history_.best_restart
    assert best == int(np.argmin(inertias))  # the first among equal minima
    assert restarts[best].inertia == km.inertia_
    assert restarts[best].n_iter == km.n_iter_ == len(km.history_)
    assert restarts[best].stop_reason == km.stop_reason_
    assert restarts[best].init_inertia == km.history_[0].inertia
    assert len({round(i, 6) for i in inertias}) > 1  # the restarts really differ


def test_recorded_seed_reproduces_its_restart():
    X = overlapping(n=800, d=5, seed=2)
    km = KMeans(n_clusters=7, n_init=4, random_state=0).fit(X)
    for r in km.history_.restarts:
        centers, _ = kmeans_plusplus(X, 7, random_state=r.seed)
        again = KMeans(n_clusters=7, init=centers, n_init=1).fit(X)
        assert again.history_[0].inertia == r.init_inertia
        assert again.inertia_ == r.inertia
        assert again.n_iter_ == r.n_iter
        assert again.stop_reason_ == r.stop_reason
        assert again.history_.restarts[0].seed is None  # given centres have no seed


def test_each_restart_starts_from_fresh_labels():
    # Restart 0 (init 0 and 1, max_iter=1) ends with labels 0 0 0 1 1 1 (centres 0, 7.2).
    # Restart 1 starts from 0.5 and 9, whose first assignment is again 0 0 0 1 1 1: that
    # is a change from "no labels yet", not convergence. Iteration 1 moves the centres
    # to 1 and 11, max_iter stops, the final assignment gives inertia 1+0+1+1+0+1 = 4.
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    inits = iter([np.array([[0.0], [1.0]]), np.array([[0.5], [9.0]])])

    def init(X, k, random_state):
        return next(inits)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        km = KMeans(n_clusters=2, init=init, n_init=2, max_iter=1, tol=0).fit(X)
    r0, r1 = km.history_.restarts
    assert r0.inertia == pytest.approx(50.32, rel=1e-12)
    assert r1.init_inertia == pytest.approx(0.25 + 0.25 + 2.25 + 1 + 4 + 9, rel=1e-12)
    assert (r1.stop_reason, r1.inertia) == ("max_iter", pytest.approx(4.0, rel=1e-12))
    assert km.history_.best_restart == 1
    assert km.history_[0].n_changed == len(X)
    np.testing.assert_allclose(km.cluster_centers_, [[1.0], [11.0]])
    np.testing.assert_array_equal(km.labels_, [0, 0, 0, 1, 1, 1])
    assert km.inertia_ == pytest.approx(4.0, rel=1e-12)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


@pytest.mark.parametrize("n_init", [3, 8])
def test_every_kept_run_starts_with_all_rows_changed(n_init):
    # Well-separated blobs: many restarts end in the same partition, so a later
    # restart's first assignment often equals the previous restart's final labels.
    X, _ = blobs(n=700, d=2, k=5, seed=3, cluster_std=0.3)
    km = KMeans(n_clusters=5, init="random", n_init=n_init, random_state=0, tol=0).fit(X)
    assert km.history_[0].n_changed == len(X)
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_), rel=1e-12
    )
    for r in km.history_.restarts:
        assert r.n_iter >= 2  # no restart can stop on 'no_change' in its first iteration


# -- empty clusters ------------------------------------------------------------------


def _far_init(X, n_far):
    init = X[: 4 - n_far].copy()
    far = np.array([[1e3, 1e3], [-1e3, 1e3], [1e3, -1e3]])[:n_far]
    return np.vstack([init[:1], far, init[1:]])  # the far centres are clusters 1..n_far


@pytest.mark.parametrize("n_far", [1, 2])
def test_empty_cluster_moves_to_farthest_rows(n_far):
    X, _ = blobs(n=400, d=2, k=4, seed=6, cluster_std=1.0)
    init = _far_init(X, n_far)
    labels0 = naive_labels(X, init)
    assert set(range(1, n_far + 1)).isdisjoint(labels0)  # the far clusters start empty
    dist0 = sq_distances(X, init)[np.arange(len(X)), labels0]
    farthest = np.argsort(-dist0, kind="stable")[:n_far]
    with pytest.warns(ConvergenceWarning):
        one = KMeans(n_clusters=4, init=init, max_iter=1).fit(X)
    assert one.history_[0].n_relocated == n_far
    for j, row in zip(range(1, n_far + 1), farthest, strict=True):
        # in increasing cluster index, the farthest row first
        np.testing.assert_array_equal(one.cluster_centers_[j], X[row])
    # the row left its old cluster: that centre is the mean of the rest
    old = labels0[farthest[0]]
    rest = (labels0 == old) & ~np.isin(np.arange(len(X)), farthest)
    np.testing.assert_allclose(one.cluster_centers_[old], X[rest].mean(axis=0), rtol=1e-12)

    km = KMeans(n_clusters=4, init=init, tol=0).fit(X)
    assert km.history_[0].n_relocated == n_far
    assert np.unique(km.labels_).size == 4  # no empty cluster at the end
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert km.stop_reason_ == "no_change"


def test_relocation_uses_weighted_distance():
    X, _ = blobs(n=300, d=2, k=3, seed=8, cluster_std=1.0)
    init = _far_init(X, 1)
    labels0 = naive_labels(X, init)
    dist0 = sq_distances(X, init)[np.arange(len(X)), labels0]
    # a row at the median distance, made heavy enough to be the "farthest" by weight
    heavy = int(np.argsort(dist0)[len(X) // 2])
    weight = np.ones(len(X))
    weight[heavy] = 2 * dist0.max() / dist0[heavy]
    with pytest.warns(ConvergenceWarning):
        one = KMeans(n_clusters=4, init=init, max_iter=1).fit(X, sample_weight=weight)
    assert one.history_[0].n_relocated == 1
    np.testing.assert_allclose(one.cluster_centers_[1], X[heavy], rtol=1e-15)


def test_fewer_distinct_points_than_clusters_warns():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 5.0]]), 10, axis=0)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        km = KMeans(n_clusters=5, random_state=0).fit(X)
    assert np.unique(km.labels_).size == 3
    assert km.inertia_ == 0.0
    np.testing.assert_array_equal(km.labels_, km.predict(X))


# -- verbose -------------------------------------------------------------------------


def test_verbose_prints_one_line_per_iteration(capsys):
    X = overlapping(n=500)
    km = KMeans(n_clusters=4, n_init=2, verbose=1, random_state=0, tol=0).fit(X)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("Iteration")]
    assert len(lines) == sum(r.n_iter for r in km.history_.restarts)
    assert "inertia" in lines[0]
    # the last iteration line of the kept restart reports its last inertia
    best = km.history_.best_restart
    offset = sum(r.n_iter for r in km.history_.restarts[:best])
    assert lines[offset + km.n_iter_ - 1].startswith(f"Iteration {km.n_iter_},")
    assert out.count("Initialization complete") == 2


def test_not_verbose_prints_nothing(capsys):
    X = overlapping(n=300)
    KMeans(n_clusters=3, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("n_clusters", [1, 3, 8])
def test_n_distinct_labels_counts_what_bincount_counts(n_clusters):
    from kmeanskit._kernels.stats import n_distinct_labels

    rng = np.random.default_rng(n_clusters)
    for size in (0, 1, 5, 1000):
        for high in range(1, n_clusters + 1):
            labels = rng.integers(0, high, size).astype(np.int32)
            expected = np.count_nonzero(np.bincount(labels, minlength=n_clusters))
            assert n_distinct_labels(labels, n_clusters) == expected


@pytest.mark.parametrize("n", [1, 255, 256, 257, 10_000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_variance_is_numpys_in_one_read(n, dtype):
    """The variance that scales tol: per-chunk moments merged in order, accurate where a
    plain sum of squares would cancel (data far from the origin)."""
    from kmeanskit._kernels.stats import column_variance

    rng = np.random.default_rng(n)
    X = (rng.normal(size=(n, 3)) * [1.0, 1e-3, 50.0] + [1e5, -3.0, 0.0]).astype(dtype)
    expected = np.var(X.astype(np.float64), axis=0)
    np.testing.assert_allclose(column_variance(X), expected, rtol=1e-9, atol=1e-300)
