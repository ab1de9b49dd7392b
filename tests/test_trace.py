"""kmeanskit.trace: every half-step of the run KMeans(n_init=1) makes, bit for bit."""

import json
import warnings

import numpy as np
import pytest
from naive import naive_inertia, naive_labels, sq_distances

import kmeanskit
from kmeanskit.datasets import make_blobs, make_uneven


def reference(k, **kw):
    """Plain Lloyd KMeans (no global search where the estimator has one)."""
    if "search" in kmeanskit.KMeans().get_params():
        kw["search"] = None
    return kmeanskit.KMeans(n_clusters=k, n_init=1, algorithm="lloyd", **kw)


@pytest.fixture(scope="module")
def data():
    return make_uneven(400, 2, 5, random_state=3)[0]


@pytest.mark.parametrize("init", ["k-means++", "random", "farthest"])
@pytest.mark.parametrize("seed", [0, 7])
def test_final_state_equals_kmeans_bit_for_bit(data, init, seed):
    t = kmeanskit.trace(data, 5, init=init, random_state=seed)
    km = reference(5, init=init, random_state=seed, tol=0.0).fit(data)
    assert np.array_equal(t.centers, km.cluster_centers_)
    assert np.array_equal(t.labels, km.labels_)
    assert t.inertia == km.inertia_
    assert (t.n_iter, t.stop_reason) == (km.n_iter_, km.stop_reason_)
    assert np.array_equal(t.frames[-1].labels, km.labels_)


@pytest.mark.parametrize("max_iter, tol", [(2, 0.0), (100, 1e-2)])
def test_max_iter_and_tol_stops_match_kmeans(data, max_iter, tol):
    t = kmeanskit.trace(data, 5, init="random", random_state=1, max_iter=max_iter, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        km = reference(5, init="random", random_state=1, max_iter=max_iter, tol=tol).fit(data)
    assert t.stop_reason == km.stop_reason_ != "no_change"
    assert np.array_equal(t.centers, km.cluster_centers_)
    assert np.array_equal(t.labels, km.labels_)
    assert t.inertia == km.inertia_
    assert t.frames[-1].kind == "assign"


def test_every_half_step_is_what_it_says(data):
    t = kmeanskit.trace(data, 5, init="random", random_state=2)
    kinds = [f.kind for f in t.frames]
    assert kinds[0] == "init" and t.frames[0].labels is None
    assert kinds[1:] == ["assign", "update"] * ((len(kinds) - 1) // 2)
    inertias = [f.inertia for f in t.frames[1:]]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:], strict=False))
    previous = np.full(len(data), -1)
    for f in t.frames[1:]:
        if f.kind == "assign":
            d = sq_distances(data, f.centers)
            assert np.allclose(d[np.arange(len(data)), f.labels], d.min(axis=1), rtol=0, atol=1e-9)
            assert np.array_equal(f.changed, np.flatnonzero(f.labels != previous))
            previous = f.labels
        else:
            for j in range(5):
                assert np.allclose(f.centers[j], data[f.labels == j].mean(axis=0), atol=1e-9)
        assert f.inertia == pytest.approx(naive_inertia(data, f.centers, f.labels), rel=1e-12)
    assert np.array_equal(t.labels, naive_labels(data, t.centers))


def test_empty_cluster_is_relocated_to_the_farthest_row():
    X, _ = make_blobs(200, 2, 3, random_state=0)
    manual = np.array([X[0], X[1], [1e3, 1e3]])
    t = kmeanskit.trace(X, 3, init=manual)
    assert t.init == "manual" and t.seed is None
    assign, update = t.frames[1], t.frames[2]
    assert assign.empty == [2] and update.empty == [2]
    ((cluster, row),) = update.relocated
    dist = sq_distances(X, assign.centers)[np.arange(len(X)), assign.labels]
    assert cluster == 2 and row == int(np.argmax(dist))
    assert update.labels[row] == 2 and list(update.changed) == [row]
    for j in range(3):
        assert np.allclose(update.centers[j], X[update.labels == j].mean(axis=0), atol=1e-9)
    km = reference(3, init=manual, tol=0.0).fit(X)
    assert np.array_equal(t.centers, km.cluster_centers_)
    assert t.inertia == km.inertia_


def test_as_dict_is_json(data):
    t = kmeanskit.trace(data[:50], 3, random_state=0)
    d = json.loads(json.dumps(t.as_dict()))
    assert d["frames"][0]["labels"] is None
    assert d["labels"] == t.labels.tolist() and d["seed"] == t.seed


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 500}, "n_samples"),
        ({"init": "bogus"}, "init"),
        ({"init": np.zeros((2, 2))}, "shape"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_arguments(data, kw, match):
    args = {"n_clusters": 3, **kw}
    with pytest.raises(ValueError, match=match):
        kmeanskit.trace(data, args.pop("n_clusters"), **args)


def test_weights_and_duplicate_points_match_kmeans():
    X, _ = make_blobs(300, 2, 4, random_state=2)
    w = np.random.default_rng(0).uniform(0.0, 3.0, size=len(X))
    t = kmeanskit.trace(X, 4, init="random", random_state=5, sample_weight=w)
    km = reference(4, init="random", random_state=5, tol=0.0).fit(X, sample_weight=w)
    assert np.array_equal(t.centers, km.cluster_centers_) and t.inertia == km.inertia_
    for f in t.frames[2::2]:  # updates: weighted means
        for j in np.unique(f.labels):
            rows = f.labels == j
            mean = np.average(X[rows], axis=0, weights=w[rows])
            assert np.allclose(f.centers[j], mean, atol=1e-9)
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 5.0]]), 20, axis=0)
    t = kmeanskit.trace(X, 5, init="random", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer distinct clusters than k
        km = reference(5, init="random", random_state=0, tol=0.0).fit(X)
    assert np.array_equal(t.labels, km.labels_) and t.inertia == km.inertia_ == 0.0
