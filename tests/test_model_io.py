"""Model files: exact round trip, strict validation, clear errors, never pickle."""

import json
import os
import pickle

import numpy as np
import pytest
from conftest import blobs

import kmeanskit
from kmeanskit.model_io import ModelFileError, Scaling, read_model


@pytest.fixture
def fitted():
    X, _ = blobs(n=400, d=3, k=4)
    model = kmeanskit.KMeans(4, n_init=3, random_state=1).fit(X)
    return X, model


@pytest.fixture
def saved(tmp_path, fitted):
    X, model = fitted
    path = tmp_path / "model.json"
    kmeanskit.save_model(model, path, feature_names=["a", "b", "c"])
    return path, X, model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_exact(tmp_path, dtype):
    X, _ = blobs(n=300, d=2, k=3, dtype=dtype)
    model = kmeanskit.KMeans(3, n_init=2, random_state=0).fit(X)
    kmeanskit.save_model(model, tmp_path / "m.json")
    loaded = kmeanskit.load_model(tmp_path / "m.json")
    assert loaded.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    np.testing.assert_array_equal(loaded.predict(X), model.labels_)
    assert loaded.get_params() == model.get_params()
    assert (loaded.inertia_, loaded.n_iter_, loaded.converged_, loaded.stop_reason_) == (
        model.inertia_,
        model.n_iter_,
        model.converged_,
        model.stop_reason_,
    )
    assert loaded.history_ == model.history_
    assert not hasattr(loaded, "feature_names_in_")


def test_file_is_plain_versioned_json(saved):
    path, _, model = saved
    doc = json.loads(path.read_text())
    assert doc["format"] == "kmeanskit-model" and doc["version"] == 1
    assert doc["library_version"] == kmeanskit.__version__
    assert doc["feature_names"] == ["a", "b", "c"] and doc["dtype"] == "float64"
    assert doc["centers"] == model.cluster_centers_.tolist()  # full precision
    assert doc["history"] == model.history_.as_dict()
    assert not [f for f in os.listdir(path.parent) if f.startswith(".kmeanskit-")]


def test_feature_names_and_scaling(tmp_path):
    X, _ = blobs(n=200, d=2, k=3)
    X = X * [1.0, 1000.0]
    scaling = Scaling.standard(X)
    model = kmeanskit.KMeans(3, random_state=0).fit(scaling.transform(X))
    kmeanskit.save_model(model, tmp_path / "m.json", scaling=scaling, feature_names=["u", "v"])
    mf = read_model(tmp_path / "m.json")
    assert mf.feature_names == ["u", "v"]
    assert mf.model.feature_names_in_.tolist() == ["u", "v"]
    np.testing.assert_array_equal(mf.scaling.mean, scaling.mean)
    np.testing.assert_array_equal(mf.predict(X), model.labels_)
    np.testing.assert_allclose(
        mf.centers_in_data_units(), scaling.inverse_transform(model.cluster_centers_)
    )


def test_pickle_still_works_for_sklearn_users(fitted):
    X, model = fitted
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), model.labels_)


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not fitted yet"):
        kmeanskit.save_model(kmeanskit.KMeans(2), tmp_path / "m.json")


def edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


def load_error(path):
    with pytest.raises(ModelFileError) as err:
        kmeanskit.load_model(path)
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith(f"{path}: ")
    return str(err.value)[len(str(path)) + 2 :]


def test_truncated(saved):
    path = saved[0]
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    line = text[: len(text) // 2].rstrip().count("\n") + 1  # the last line with content
    assert load_error(path) == (
        f"truncated JSON at line {line} (the file ends before the model does)"
    )


def test_invalid_json_in_the_middle(saved):
    path = saved[0]
    path.write_text(path.read_text().replace('"version": 1,', '"version": 1,,'))
    assert load_error(path).startswith("invalid JSON at line 3, column")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file, not a kmeanskit model file"),
        (b'{"a": 1}', 'not a kmeanskit model file (no "format": "kmeanskit-model")'),
        (b"[1, 2]", 'not a kmeanskit model file (no "format": "kmeanskit-model")'),
        (b"\xff\xfe\x00binary", "not a kmeanskit model file (binary data, not JSON text)"),
    ],
)
def test_foreign_files(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    assert load_error(path) == message


def test_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "m.json"
    path.write_bytes(pickle.dumps(Boom()))
    assert load_error(path).startswith("looks like a pickle")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d.update(version=9),
            "written by format version 9; this kmeanskit reads version 1 (upgrade kmeanskit)",
        ),
        (lambda d: d.update(version="1"), "version must be an integer, not '1'"),
        (
            lambda d: d["centers"].pop(),
            "centres must be a k x d list of numbers (k=4, d=3), all finite",
        ),
        (
            lambda d: d["centers"][1].append(0.5),
            "centres must be a k x d list of numbers (k=4, d=3), all finite",
        ),
        (
            lambda d: d["centers"][0].__setitem__(0, "1.5"),
            "centres must be a k x d list of numbers (k=4, d=3), all finite",
        ),
        (
            lambda d: d["centers"][0].__setitem__(0, True),
            "centres must be a k x d list of numbers (k=4, d=3), all finite",
        ),
        (lambda d: d.pop("fit"), "the field 'fit' is missing"),
        (lambda d: d.update(extra=1), "unknown field 'extra'"),
        (lambda d: d.update(dtype="int8"), "dtype must be 'float32' or 'float64', not 'int8'"),
        (
            lambda d: d.update(feature_names=["a", "a", "b"]),
            "feature_names must be null or a list of 3 distinct strings",
        ),
        (
            lambda d: d.update(scaling={"method": "standard", "mean": [0] * 3, "scale": [1, 0, 1]}),
            "scaling must be null or {method: 'standard', mean: 3 numbers, scale: 3 positive "
            "numbers}",
        ),
        (lambda d: d["fit"].update(n_iter=-1), "fit.n_iter must be an integer >= 0"),
        (
            lambda d: d["fit"].update(stop_reason="bored"),
            "fit.stop_reason must be one of ['max_iter', 'max_no_improvement', 'no_change', 'tol']",
        ),
        (
            lambda d: d["parameters"].update(exec="rm -rf"),
            "parameters has an unknown parameter 'exec'",
        ),
        (
            lambda d: d["parameters"].update(n_clusters=5),
            "parameters.n_clusters is 5 but n_clusters is 4",
        ),
        (
            lambda d: d["history"]["iterations"][0].update(n_changed="all"),
            "history.iterations[0].n_changed must be int, not 'all'",
        ),
        (
            lambda d: d["history"]["restarts"][0].pop("seed"),
            "history.restarts[0] lacks the field 'seed'",
        ),
        (
            lambda d: d["history"].update(best_restart=7),
            "history.best_restart must be an index into history.restarts, not 7",
        ),
    ],
)
def test_edited_files(saved, change, message):
    assert load_error(edit(saved[0], change)) == message


def test_non_finite_numbers_are_rejected(saved):
    path = saved[0]
    text = path.read_text()
    first = json.loads(text)["centers"][0][0]
    path.write_text(text.replace(repr(first), "NaN", 1))
    assert load_error(path) == "the number NaN (a model file holds finite numbers only)"
