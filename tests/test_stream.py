"""Streaming from disk: full-batch Lloyd over a .npy file, a numpy.memmap or a Parquet
file, one group at a time, bit-identical to the in-memory fit from the same start."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import blobs, rows_as_init

import kmeanskit
from kmeanskit import KMeans, StreamedArray, cli
from kmeanskit.backends.stream import StreamBackend


def assert_same_fit(got, ref):
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.inertia_ == ref.inertia_
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(got.labels_, ref.labels_)


def _npy(tmp_path, X):
    path = tmp_path / "x.npy"
    np.save(path, X)
    return path


@pytest.mark.parametrize("d", [3, 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npy_and_memmap_bit_identical(tmp_path, d, dtype):
    X, _ = blobs(n=7000, d=d, k=6, dtype=dtype, seed=d, cluster_std=2.0)
    init = rows_as_init(X, 6)
    ref = KMeans(6, init=init, n_init=1).fit(X)
    path = _npy(tmp_path, X)
    memmap = np.load(path, mmap_mode="r")
    for source in (StreamedArray(memmap), StreamedArray(path), StreamedArray(str(path))):
        assert_same_fit(KMeans(6, init=init, n_init=1).fit(source), ref)


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang", "auto"])
def test_bounds_bit_identical(tmp_path, algorithm):
    X, _ = blobs(n=8000, d=12, k=10, dtype=np.float32, seed=9, cluster_std=4.0)
    init = rows_as_init(X, 10)
    ref = KMeans(10, init=init, n_init=1, algorithm=algorithm, tol=0).fit(X)
    got = KMeans(10, init=init, n_init=1, algorithm=algorithm, tol=0).fit(
        StreamedArray(_npy(tmp_path, X))
    )
    assert_same_fit(got, ref)
    assert [(r.algorithm, r.skipped) for r in got.history_] == [
        (r.algorithm, r.skipped) for r in ref.history_
    ]


def test_parquet_bit_identical(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, _ = blobs(n=5000, d=4, k=5, dtype=np.float32, seed=1, cluster_std=2.0)
    names = ["a", "b", "c", "d"]
    path = tmp_path / "x.parquet"
    pd.DataFrame(X, columns=names).to_parquet(path, row_group_size=777)  # not group-aligned
    init = rows_as_init(X, 5)
    ref = KMeans(5, init=init, n_init=1).fit(X)
    got = KMeans(5, init=init, n_init=1).fit(StreamedArray(path))
    assert_same_fit(got, ref)
    assert list(got.feature_names_in_) == names
    sub = KMeans(5, init=init[:, :2], n_init=1).fit(StreamedArray(path, columns=["a", "b"]))
    assert_same_fit(sub, KMeans(5, init=init[:, :2], n_init=1).fit(X[:, :2].copy()))


def test_large_memmap_streams(tmp_path, monkeypatch):
    """A memmap above the memory budget is streamed (a small one loads as before)."""
    from kmeanskit.backends import get_backend, stream

    X, _ = blobs(n=3000, d=3, k=3, dtype=np.float32)
    memmap = np.load(_npy(tmp_path, X), mmap_mode="r")
    assert get_backend(memmap).name == "local"
    monkeypatch.setattr(stream, "memory_budget", lambda: X.nbytes - 1)
    assert get_backend(memmap).name == "stream"
    init = rows_as_init(X, 3)
    assert_same_fit(KMeans(3, init=init, n_init=1).fit(memmap), KMeans(3, init=init).fit(X))


def test_kmeans_parallel_seed_weights_and_predict(tmp_path):
    X, _ = blobs(n=6000, d=5, k=7, seed=2, cluster_std=2.0)
    w = np.random.RandomState(3).uniform(0, 2, size=len(X))
    path = _npy(tmp_path, X)
    ref = KMeans(7, init="k-means||", random_state=5, search=None).fit(X, sample_weight=w)
    got = KMeans(7, random_state=5).fit(StreamedArray(path), sample_weight=w)
    assert_same_fit(got, ref)
    np.testing.assert_array_equal(got.predict(StreamedArray(path)), ref.predict(X))


def test_empty_cluster_relocation(tmp_path):
    X, _ = blobs(n=3000, d=2, k=3, seed=4)
    init = np.vstack([rows_as_init(X, 3), [[1e3, 1e3]]])
    ref = KMeans(4, init=init, n_init=1).fit(X)
    assert ref.history_[0].n_relocated == 1
    assert_same_fit(KMeans(4, init=init, n_init=1).fit(StreamedArray(_npy(tmp_path, X))), ref)


def test_one_group_in_memory_at_a_time(tmp_path):
    """The buffer holds one group of rows, far below the data (64 groups here)."""
    X, _ = blobs(n=64 * 512, d=4, k=3, dtype=np.float32, seed=5)
    backend = StreamBackend()
    data = backend.prepare(StreamedArray(_npy(tmp_path, X)), None, 3)
    assert data.n_groups == 64
    assert data.buffer.nbytes == X.nbytes // 64
    assert data.passes == 1  # the NaN check and the column moments share one read


def test_column_variance_from_the_first_read(tmp_path):
    """The variance that scales tol comes from the read that checks the file, its 64
    groups' moments folded as they are read: the same bits as in memory, no other read."""
    from kmeanskit._kernels.stats import column_variance

    X, _ = blobs(n=64 * 512 + 77, d=4, k=3, dtype=np.float32, seed=5)
    backend = StreamBackend()
    data = backend.prepare(StreamedArray(_npy(tmp_path, X)), None, 3)
    assert backend.column_variance(data).tobytes() == column_variance(X).tobytes()
    assert data.passes == 1
    # Folded group by group as they are read: O(d) state, not O(n d) chunk moments.
    assert data.moments.mean.shape == data.moments.total.shape == (4,)
    assert data.moments.rows == X.shape[0]


def test_non_finite_file_is_refused(tmp_path):
    X, _ = blobs(n=1000, d=2, k=3)
    X[700, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        KMeans(3).fit(StreamedArray(_npy(tmp_path, X)))


def test_cli_streams_files_over_the_budget(tmp_path, capsys):
    X, _ = blobs(n=4000, d=3, k=4, dtype=np.float32, seed=6)
    path = _npy(tmp_path, X)
    model_path = tmp_path / "m.json"
    code = cli.main(
        ["fit", str(path), "-k", "4", "--memory-budget", "10K", "-o", str(model_path), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "streamed from disk" in err
    summary = json.loads(out)
    ref = KMeans(4, init="k-means||", random_state=0, search=None).fit(X)
    assert summary["streamed"] is True
    assert summary["inertia"] == ref.inertia_
    loaded = kmeanskit.load_model(model_path)
    np.testing.assert_array_equal(loaded.cluster_centers_, ref.cluster_centers_)
    # Under the budget, the same file is loaded as before.
    assert cli.main(["fit", str(path), "-k", "4", "--memory-budget", "1G", "-q"]) == 0
    assert "streamed" not in capsys.readouterr().err
