"""MiniBatchKMeans: the steps against a naive reference, reproducibility, partial_fit,
seeding on a subsample, quality next to scikit-learn's, and bad input."""

import json

import numpy as np
import pytest
from conftest import blobs, rows_as_init
from naive import naive_inertia, naive_labels, naive_minibatch, scaled_tol
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans

from kmeanskit import KMeans, MiniBatchKMeans, load_model, save_model
from kmeanskit._init import initial_centers


def _check_against_naive(X, init, weight=None, **params):
    given = init.copy()
    model = MiniBatchKMeans(init.shape[0], init=init, random_state=7, **params)
    model.fit(X, sample_weight=weight)
    assert_array_equal(init, given)  # the parameter is never written to
    tol_scaled = scaled_tol(X, params.get("tol", 0.0))
    centers, _, steps, stop_reason = naive_minibatch(
        X,
        init,
        7,
        batch_size=params["batch_size"],
        max_iter=params["max_iter"],
        init_size=model.init_size_,
        tol_scaled=tol_scaled,
        max_no_improvement=params.get("max_no_improvement", 10),
        reassignment_ratio=params.get("reassignment_ratio", 0.01),
        sample_weight=weight,
    )
    assert model.n_steps_ == len(steps) == len(model.history_)
    assert model.stop_reason_ == stop_reason
    for ours, ref in zip(model.history_, steps, strict=True):
        assert ours.n_reassigned == ref["n_reassigned"]
        assert_allclose(ours.batch_inertia, ref["batch_inertia"], rtol=1e-10)
        assert_allclose(ours.center_shift_sq, ref["center_shift_sq"], rtol=1e-8, atol=1e-12)
        if ref["ewa_inertia"] is None:
            assert ours.ewa_inertia is None
        else:
            assert_allclose(ours.ewa_inertia, ref["ewa_inertia"], rtol=1e-10)
    assert_allclose(model.cluster_centers_, centers, rtol=1e-10, atol=1e-12)
    assert_array_equal(model.labels_, naive_labels(X, model.cluster_centers_))
    labels = model.labels_
    assert_allclose(model.inertia_, naive_inertia(X, model.cluster_centers_, labels, weight))
    return model


@pytest.mark.parametrize("ratio", [0.0, 0.3], ids=["no-reassign", "reassign"])
def test_steps_match_naive_reference(ratio):
    X, _ = blobs(n=300, d=3, k=5, seed=1, cluster_std=1.5)
    model = _check_against_naive(
        X,
        rows_as_init(X, 6, seed=2),
        batch_size=32,
        max_iter=4,
        max_no_improvement=None,
        reassignment_ratio=ratio,
    )
    assert model.stop_reason_ == "max_iter" and model.n_steps_ == 4 * 300 // 32
    if ratio:
        assert sum(s.n_reassigned for s in model.history_) > 0


def test_weighted_sampling_and_early_stop_match_naive_reference():
    X, _ = blobs(n=400, d=2, k=4, seed=3, cluster_std=1.0)
    weight = np.random.RandomState(0).uniform(0, 3, len(X))
    weight[::7] = 0
    model = _check_against_naive(
        X, rows_as_init(X, 4, seed=1), weight, batch_size=20, max_iter=30, max_no_improvement=3
    )
    assert model.stop_reason_ == "max_no_improvement"
    _check_against_naive(X, rows_as_init(X, 4, seed=1), batch_size=20, max_iter=30, tol=1e-3)


def test_float32_update_matches_float64_reference():
    X, _ = blobs(n=300, d=4, k=3, seed=5, dtype=np.float32)
    init = rows_as_init(X, 3)
    model = MiniBatchKMeans(3, init=init, batch_size=50, max_iter=3, random_state=0).fit(X)
    assert model.cluster_centers_.dtype == np.float32
    centers, *_ = naive_minibatch(X, init, 0, batch_size=50, max_iter=3, init_size=model.init_size_)
    assert_allclose(model.cluster_centers_, centers, rtol=1e-5, atol=1e-5)
    assert_array_equal(model.predict(X.astype(np.float64)), model.labels_)


def test_same_result_for_any_thread_count(max_threads):
    X, _ = blobs(n=6000, d=16, k=20, seed=4, cluster_std=2.0, dtype=np.float32)
    fits = [
        MiniBatchKMeans(20, batch_size=1500, random_state=3, n_threads=t).fit(X)
        for t in sorted({1, 2, max_threads})
    ]
    for other in fits[1:]:
        assert_array_equal(other.cluster_centers_, fits[0].cluster_centers_)
        assert_array_equal(other.labels_, fits[0].labels_)
        assert other.inertia_ == fits[0].inertia_
        assert [s.batch_inertia for s in other.history_] == [
            s.batch_inertia for s in fits[0].history_
        ]


def test_partial_fit_on_fits_batches_gives_fits_centres():
    # Holds with given centres and no reassignment: then fit draws only the validation
    # rows and the batches, and partial_fit draws nothing.
    X, _ = blobs(n=500, d=3, k=4, seed=6, cluster_std=1.0)
    init = rows_as_init(X, 4)
    params = dict(init=init, batch_size=40, reassignment_ratio=0.0, random_state=11)
    fitted = MiniBatchKMeans(4, max_iter=3, max_no_improvement=None, **params).fit(X)
    rs = np.random.RandomState(11)
    rs.randint(0, len(X), fitted.init_size_)
    streamed = MiniBatchKMeans(4, **params)
    for _ in range(fitted.n_steps_):
        streamed.partial_fit(X[rs.randint(0, len(X), 40)])
    assert streamed.n_steps_ == fitted.n_steps_
    assert_array_equal(streamed.cluster_centers_, fitted.cluster_centers_)
    assert_array_equal(streamed.predict(X), fitted.labels_)


def test_partial_fit_seeds_on_first_batch_and_counts_steps():
    X, _ = blobs(n=900, d=2, k=3, seed=8)
    model = MiniBatchKMeans(3, random_state=5, init_size=100)
    for start in range(0, 900, 300):
        model.partial_fit(X[start : start + 300])
    assert model.n_steps_ == 3 == len(model.history_)
    assert model.init_size_ == 100 and model.history_.init_size == 100
    # The seeding ran on 100 rows of the first batch, drawn with the documented order.
    rs = np.random.RandomState(5)
    rows = rs.randint(0, 300, 100)
    seed = int(rs.randint(np.iinfo(np.int32).max))
    assert model.history_.inits[0].seed == seed
    assert model.history_.inits[0].validation_inertia is None  # one candidate: not scored
    first = X[:300]
    init = initial_centers(first[rows], np.ones(100), 3, "k-means++", seed)
    one = MiniBatchKMeans(3, init=init, init_size=100, random_state=5).partial_fit(first)
    # Same start, same batch: the first step agrees (k-means++ draws no reassignment).
    assert_allclose(model.history_[0].batch_inertia, one.history_[0].batch_inertia)
    assert_array_equal(model.labels_, model.predict(X[600:]))
    assert_allclose(model.inertia_, naive_inertia(X[600:], model.cluster_centers_, model.labels_))


def test_candidate_inits_are_scored_on_validation_rows():
    X, _ = blobs(n=2000, d=2, k=5, seed=9, cluster_std=1.0)
    model = MiniBatchKMeans(5, init="random", batch_size=100, random_state=2).fit(X)
    history = model.history_
    assert model.init_size_ == 300 == history.init_size == history.validation_size
    assert len(history.inits) == 3  # n_init='auto' for 'random'
    rs = np.random.RandomState(2)
    valid = rs.randint(0, len(X), 300)
    inertias = []
    for record in history.inits:
        rows = rs.randint(0, len(X), 300)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        assert record.seed == seed and record.init_size == 300
        centers = initial_centers(X[rows], np.ones(300), 5, "random", seed)
        inertias.append(naive_inertia(X[valid], centers, naive_labels(X[valid], centers)))
        assert_allclose(record.validation_inertia, inertias[-1], rtol=1e-10)
    assert history.best_init == int(np.argmin(inertias))


def test_defaults_and_attributes():
    X, _ = blobs(n=3000, d=2, k=4, seed=0)
    model = MiniBatchKMeans(4, batch_size=200, random_state=0).fit(X)
    assert model.init_size_ == 600
    assert model.n_iter_ == int(np.ceil(model.n_steps_ * 200 / 3000))
    assert model.stop_reason_ in ("max_no_improvement", "tol", "max_iter")
    assert_array_equal(model.labels_, model.predict(X))
    assert_array_equal(model.fit_predict(X), model.labels_)
    assert model.score(X) == pytest.approx(-model.inertia_)
    dist = model.transform(X)
    assert_allclose(dist**2, ((X[:, None] - model.cluster_centers_[None]) ** 2).sum(-1))
    assert list(model.get_feature_names_out()) == [f"minibatchkmeans{i}" for i in range(4)]
    lazy = MiniBatchKMeans(4, batch_size=200, random_state=0, compute_labels=False).fit(X)
    assert not hasattr(lazy, "labels_")
    ewa = lazy.history_[-1].ewa_inertia
    assert lazy.inertia_ == pytest.approx(ewa * len(X))
    long = MiniBatchKMeans(4, batch_size=500, max_iter=2, max_no_improvement=None).fit(X)
    assert long.stop_reason_ == "max_iter" and long.n_steps_ == 12 and long.n_iter_ == 2


def test_quality_close_to_sklearn():
    # Overlapping blobs: the inertia varies smoothly from seed to seed. (On well-separated
    # blobs a run either finds every blob or merges two, and a mean over a few seeds
    # measures which seeds were lucky, for either library.)
    X, _ = blobs(n=5000, d=4, k=20, seed=4, cluster_std=3.0, center_box=(-5, 5))
    ours, theirs = [], []
    for seed in range(10):
        params = dict(batch_size=256, random_state=seed, n_init=3)
        ours.append(MiniBatchKMeans(20, **params).fit(X).inertia_)
        theirs.append(SkMiniBatchKMeans(20, **params).fit(X).inertia_)
    assert 0.97 <= np.mean(ours) / np.mean(theirs) <= 1.03
    # Close to full-batch Lloyd (KMeans' global search goes further still).
    lloyd = KMeans(20, n_init=3, search=None, random_state=0).fit(X).inertia_
    assert np.mean(ours) <= 1.08 * lloyd


def test_as_kmeans_saves_and_loads(tmp_path):
    X, _ = blobs(n=1000, d=3, k=4, seed=2)
    model = MiniBatchKMeans(4, batch_size=100, random_state=0).fit(X)
    km = model.as_kmeans()
    assert isinstance(km, KMeans) and km.stop_reason_ == model.stop_reason_
    save_model(km, tmp_path / "m.json")
    loaded = load_model(tmp_path / "m.json")
    assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    assert_array_equal(loaded.predict(X), model.labels_)
    assert loaded.inertia_ == model.inertia_


@pytest.mark.parametrize(
    ("params", "X", "match"),
    [
        ({}, [[0.0, np.nan], [1.0, 1.0]] * 10, "NaN"),
        ({"n_clusters": 30}, [[0.0, 1.0]] * 10, "n_samples=10 should be >= n_clusters=30"),
        ({"batch_size": 0}, [[0.0, 1.0]] * 10, "batch_size=0 must be an integer >= 1"),
        ({"max_no_improvement": -1}, [[0.0, 1.0]] * 10, "max_no_improvement=-1"),
        ({"reassignment_ratio": -0.5}, [[0.0, 1.0]] * 10, "reassignment_ratio=-0.5"),
        ({"init_size": 0}, [[0.0, 1.0]] * 10, "init_size=0"),
        ({"init": np.zeros((3, 5))}, [[0.0, 1.0]] * 10, r"shape \(3, 5\)"),
    ],
    ids=["nan", "k-gt-n", "batch-size", "no-improvement", "ratio", "init-size", "init-shape"],
)
def test_bad_input_raises_clear_errors(params, X, match):
    params = {"n_clusters": 3, **params}
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(**params).fit(np.asarray(X))
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(**params).partial_fit(np.asarray(X))


def test_partial_fit_rejects_another_width():
    X, _ = blobs(n=100, d=3, k=2)
    model = MiniBatchKMeans(2, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :2])


def test_cli_fit_mini_batch_writes_a_kmeans_model(capsys, tmp_path):
    from kmeanskit import cli

    X, _ = blobs(n=2000, d=2, k=4, seed=3)
    csv = tmp_path / "data.csv"
    np.savetxt(csv, X, delimiter=",", header="a,b", comments="")
    model_path, labels_path = tmp_path / "m.json", tmp_path / "labels.csv"
    args = ["fit", str(csv), "-k", "4", "--mini-batch", "--batch-size", "100", "--seed", "3"]
    code = cli.main([*args, "-o", str(model_path), "--labels", str(labels_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)
    # The same fit as the Python API with the CLI's settings (--tol off unless given).
    expected = MiniBatchKMeans(4, batch_size=100, max_iter=300, random_state=3).fit(X)
    assert summary["mini_batch"] == {
        "n_steps": expected.n_steps_,
        "batch_size": 100,
        "init_size": 300,
    }
    assert summary["stop_reason"] == expected.stop_reason_
    assert "the model is a k-means model with these centres" in err
    loaded = load_model(model_path)
    assert_allclose(loaded.cluster_centers_, expected.cluster_centers_, rtol=1e-15)
    labels = np.loadtxt(labels_path, delimiter=",", skiprows=1, dtype=int)[:, 1]
    assert_array_equal(labels, expected.labels_)
    assert cli.main([*args, "--tol", "1e-4", "-q", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stop_reason"] == "tol"
    assert cli.main([*args, "--search", "breathe"]) == 2
    assert "--search runs after Lloyd: it does not apply to --mini-batch" in capsys.readouterr().err
