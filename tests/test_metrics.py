"""kmeanskit.metrics against scikit-learn and against hand-made cases."""

import numpy as np
import pytest
from conftest import blobs
from sklearn import metrics as skm

import kmeanskit
from kmeanskit import metrics


@pytest.fixture(scope="module")
def clustered():
    X, y = blobs(n=900, d=3, k=5, cluster_std=1.5)
    model = kmeanskit.KMeans(5, random_state=0).fit(X)
    return X, y, model


def test_silhouette_small_is_sklearns(clustered):
    X, _, model = clustered
    assert metrics.silhouette(X, model.labels_) == pytest.approx(
        skm.silhouette_score(X, model.labels_), abs=1e-12
    )


def test_numba_silhouette_equals_sklearn(monkeypatch):
    X, y = blobs(n=700, d=4, k=6, cluster_std=2.0, seed=3)
    y[:3] = 6  # a small cluster
    y[3] = 7  # a singleton: its silhouette is 0
    monkeypatch.setattr(metrics, "SILHOUETTE_SKLEARN_MAX", 100)
    assert metrics.silhouette(X, y, sample_size=None) == pytest.approx(
        skm.silhouette_score(X, y), abs=1e-10
    )


def test_sampled_silhouette_is_the_silhouette_of_the_sample(monkeypatch):
    X, y = blobs(n=3000, d=2, k=4, cluster_std=2.0, seed=1)
    monkeypatch.setattr(metrics, "SILHOUETTE_SAMPLE", 500)
    rows = np.sort(np.random.default_rng(7).choice(3000, size=500, replace=False))
    expected = skm.silhouette_score(X[rows], y[rows])
    assert metrics.silhouette(X, y, random_state=7) == pytest.approx(expected, abs=1e-10)
    assert metrics.silhouette(X, y, sample_size=500, random_state=7) == pytest.approx(
        expected, abs=1e-10
    )


def test_silhouette_needs_two_clusters():
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ValueError, match="needs 2 to n_samples - 1 clusters; got 1"):
        metrics.silhouette(X, np.zeros(5, dtype=int))


def test_inertia(clustered):
    X, _, model = clustered
    assert metrics.inertia(X, model.labels_, model.cluster_centers_) == pytest.approx(
        model.inertia_, rel=1e-12
    )
    labels = np.array([0, 0, 1, 1])
    X = np.array([[0.0], [2.0], [10.0], [14.0]])
    assert metrics.inertia(X, labels) == 1 + 1 + 4 + 4
    assert metrics.inertia(X, labels, sample_weight=[1, 1, 0, 2]) == 1 + 1 + 0 + 8


def test_wrappers_equal_sklearn(clustered):
    X, y, model = clustered
    labels = model.labels_
    assert metrics.calinski_harabasz(X, labels) == skm.calinski_harabasz_score(X, labels)
    assert metrics.davies_bouldin(X, labels) == skm.davies_bouldin_score(X, labels)
    assert metrics.ari(y, labels) == skm.adjusted_rand_score(y, labels)
    assert metrics.nmi(y, labels) == skm.normalized_mutual_info_score(y, labels)


def test_centroid_index():
    A = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    assert metrics.centroid_index(A, A[::-1] + 0.1) == 0
    # Two centres in one true cluster, none in another: one cluster is wrong.
    B = A.copy()
    B[3] = [0.5, 0.5]
    assert metrics.centroid_index(A, B) == 1
    # Different k: the extra centroids are orphans in one direction.
    assert metrics.centroid_index(A[:2], A) == 2
    assert metrics.centroid_index(A, A[:2]) == 2
    with pytest.raises(ValueError, match="A has 2 features but B has 3"):
        metrics.centroid_index(A, np.zeros((2, 3)))


def test_evaluate_with_truth(clustered):
    X, y, model = clustered
    scores = metrics.evaluate(X, model.labels_, model.cluster_centers_, y)
    assert list(scores) == [
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "ari",
        "nmi",
        "centroid_index",
    ]
    assert scores["ari"] == skm.adjusted_rand_score(y, model.labels_)
    truth_means = np.array([X[y == c].mean(axis=0) for c in range(5)])
    assert scores["centroid_index"] == metrics.centroid_index(model.cluster_centers_, truth_means)
    one = metrics.evaluate(X, np.zeros(len(X), dtype=int))
    assert one["silhouette"] is None and one["calinski_harabasz"] is None
