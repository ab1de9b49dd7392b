"""KMeans as a scikit-learn citizen: pipelines, search, pickle, feature names, dtypes."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import load_iris, make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kmeanskit import KMeans


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(600, n_features=4, centers=5, cluster_std=0.5, random_state=0)
    return X, y


def test_same_parameters_as_sklearn():
    ours = set(KMeans().get_params())
    theirs = set(SkKMeans().get_params())
    assert theirs <= ours
    assert ours - theirs == {"n_threads", "search", "search_size", "init_size"}


def test_pipeline_equals_manual_scaling(blobs):
    X, _ = blobs
    pipe = make_pipeline(StandardScaler(), KMeans(5, random_state=0)).fit(X)
    Xs = StandardScaler().fit_transform(X)
    direct = KMeans(5, random_state=0).fit(Xs)
    np.testing.assert_array_equal(pipe.predict(X), direct.labels_)
    np.testing.assert_array_equal(pipe[-1].cluster_centers_, direct.cluster_centers_)


def test_grid_search_picks_the_k_with_best_score(blobs):
    X, _ = blobs
    search = GridSearchCV(KMeans(random_state=0), {"n_clusters": [2, 5, 8]}, cv=3).fit(X)
    # score is -inertia on held-out rows, which only falls as k grows.
    assert search.best_params_ == {"n_clusters": 8}
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] < scores[1] < scores[2]


def test_clone_and_params_roundtrip():
    est = KMeans(4, init="random", n_init=3, tol=0.0, random_state=7, n_threads=1)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    twin.set_params(n_clusters=6)
    assert twin.n_clusters == 6 and est.n_clusters == 4


def test_pickle_roundtrip_predicts_identically(blobs):
    X, _ = blobs
    est = KMeans(5, random_state=0).fit(X)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.cluster_centers_, est.cluster_centers_)
    np.testing.assert_array_equal(back.predict(X), est.labels_)
    assert back.history_ == est.history_


def test_feature_names_in_and_out(blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = KMeans(3, random_state=0).fit(frame)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    assert list(est.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]


def test_feature_names_out_without_pandas(blobs):
    X, _ = blobs
    est = KMeans(3, random_state=0).fit(X)
    assert est.n_features_in_ == 4
    assert not hasattr(est, "feature_names_in_")
    assert list(est.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]


@pytest.mark.parametrize(
    "fit_dtype, use_dtype", [(np.float64, np.float32), (np.float32, np.float64)]
)
def test_other_float_dtype_at_predict_transform_score(blobs, fit_dtype, use_dtype):
    X, _ = blobs
    est = KMeans(5, random_state=0).fit(X.astype(fit_dtype))
    X_other = X.astype(use_dtype)
    np.testing.assert_array_equal(est.predict(X_other), est.labels_)
    dist = est.transform(X_other)
    assert dist.dtype == use_dtype and dist.shape == (len(X), 5)
    np.testing.assert_array_equal(dist.argmin(axis=1), est.labels_)
    assert est.score(X_other) == pytest.approx(-est.inertia_, rel=1e-5)


def test_transform_is_euclidean_distance(blobs):
    X, _ = blobs
    est = KMeans(5, random_state=0).fit(X)
    expected = np.sqrt(((X[:, None, :] - est.cluster_centers_[None]) ** 2).sum(-1))
    np.testing.assert_allclose(est.transform(X), expected, rtol=1e-12)
    np.testing.assert_allclose(est.fit_transform(X), expected, rtol=1e-12)


def test_score_uses_sample_weight(blobs):
    X, _ = blobs
    est = KMeans(5, random_state=0).fit(X)
    w = np.linspace(0.5, 2.0, len(X))
    d2 = ((X - est.cluster_centers_[est.labels_]) ** 2).sum(1)
    assert est.score(X, sample_weight=w) == pytest.approx(-(w * d2).sum(), rel=1e-12)
    assert est.score(X) == pytest.approx(-d2.sum(), rel=1e-12)


def test_elkan_and_auto_give_the_lloyd_answer():
    X, _ = load_iris(return_X_y=True)
    init = X[[0, 50, 100]]
    fits = [KMeans(3, init=init, algorithm=a).fit(X) for a in ("lloyd", "elkan", "auto")]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.labels_, fits[0].labels_)
        np.testing.assert_array_equal(other.cluster_centers_, fits[0].cluster_centers_)


def test_array_init_with_n_init_warns_and_runs_once(blobs):
    X, _ = blobs
    with pytest.warns(RuntimeWarning, match="only one init"):
        est = KMeans(5, init=X[:5], n_init=4).fit(X)
    assert len(est.history_.restarts) == 1
