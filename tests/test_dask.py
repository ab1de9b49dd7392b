"""The Dask backend: from the same start, the same labels and bit-identical centres and
inertia as the in-memory fit, whatever the chunking, the scheduler and the workers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import blobs, rows_as_init
from naive import naive_labels

from kmeanskit import KMeans

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

#: Single chunk, chunks below 256 rows, uneven chunks, columns split over chunks.
CHUNKINGS = [
    "one",
    (100, -1),
    "uneven",
    (1500, 3),
]


def _chunked(X, chunking):
    if chunking == "one":
        return da.from_array(X, chunks=X.shape)
    if chunking == "uneven":
        n = X.shape[0]
        return da.from_array(X, chunks=((n - 777, 500, 277), (X.shape[1],)))
    return da.from_array(X, chunks=chunking)


def assert_same_fit(got, ref):
    """Bit-identical centres and inertia, the same labels and iterations."""
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.inertia_ == ref.inertia_
    assert got.n_iter_ == ref.n_iter_
    assert got.stop_reason_ == ref.stop_reason_
    assert isinstance(got.labels_, da.Array)
    np.testing.assert_array_equal(got.labels_.compute(), ref.labels_)


@pytest.fixture(scope="module")
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("d", [3, 20])  # direct loop and GEMM assignment
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_given_init_bit_identical(sync, chunking, d, dtype):
    X, _ = blobs(n=6000, d=d, k=6, dtype=dtype, seed=d, cluster_std=2.0)
    init = rows_as_init(X, 6)
    ref = KMeans(6, init=init, n_init=1, algorithm="lloyd").fit(X)
    got = KMeans(6, init=init, n_init=1).fit(_chunked(X, chunking))
    assert_same_fit(got, ref)
    np.testing.assert_array_equal(ref.labels_, naive_labels(X, ref.cluster_centers_))


@pytest.mark.parametrize("chunking", CHUNKINGS)
def test_column_variance_bit_identical(sync, chunking):
    """The variance that scales tol: one read of the blocks, merged in chunk order."""
    from kmeanskit._kernels.stats import column_variance
    from kmeanskit.backends.dask import DaskBackend

    X, _ = blobs(n=6000, d=5, k=6, seed=1)
    X += 1e4  # far from the origin: a sum of squares would cancel
    backend = DaskBackend()
    data = backend.prepare(_chunked(X, chunking), None, 6)
    assert backend.column_variance(data).tobytes() == column_variance(X).tobytes()


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang", "auto"])
def test_bounds_bit_identical(sync, algorithm):
    """Hamerly bounds kept per partition on the workers: the same passes as in memory."""
    # Above auto's dense floor (rows x centres x features >= 2M), so auto keeps bounds.
    X, _ = blobs(n=20000, d=12, k=10, dtype=np.float32, seed=9, cluster_std=4.0)
    init = rows_as_init(X, 10)
    ref = KMeans(10, init=init, n_init=1, algorithm=algorithm, tol=0).fit(X)
    got = KMeans(10, init=init, n_init=1, algorithm=algorithm, tol=0).fit(_chunked(X, "uneven"))
    assert_same_fit(got, ref)
    assert [(r.algorithm, r.skipped) for r in got.history_] == [
        (r.algorithm, r.skipped) for r in ref.history_
    ]
    bounded = "yinyang" if algorithm == "yinyang" else "hamerly"
    assert any(r.algorithm == bounded and r.skipped > 0.5 for r in got.history_)


@pytest.mark.parametrize("chunking", [(100, -1), "uneven"])
def test_distributed_client_bit_identical(client, chunking):
    X, _ = blobs(n=6000, d=10, k=5, dtype=np.float32, seed=3, cluster_std=2.0)
    init = rows_as_init(X, 5)
    ref = KMeans(5, init=init, n_init=1).fit(X)
    assert_same_fit(KMeans(5, init=init, n_init=1).fit(_chunked(X, chunking)), ref)
    # Seeded on the workers: the same k-means|| centres as in memory.
    ref = KMeans(5, init="k-means||", random_state=4, search=None).fit(X)
    assert_same_fit(KMeans(5, random_state=4).fit(_chunked(X, chunking)), ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kmeans_parallel_seed_matches_in_memory(sync, dtype):
    """Default init on dask runs k-means||: the centres of init='k-means||' in memory."""
    X, _ = blobs(n=5000, d=4, k=8, dtype=dtype, seed=1, cluster_std=1.5)
    ref = KMeans(8, init="k-means||", random_state=7, search=None).fit(X)
    for chunking in ("one", (333, -1)):
        got = KMeans(8, random_state=7).fit(_chunked(X, chunking))
        assert_same_fit(got, ref)
        assert_same_fit(KMeans(8, init="k-means||", random_state=7).fit(_chunked(X, chunking)), ref)


def test_empty_cluster_relocation(sync):
    X, _ = blobs(n=3000, d=2, k=3, seed=2)
    init = np.vstack([rows_as_init(X, 3), [[1e3, 1e3]]])  # the far centre gets no row
    ref = KMeans(4, init=init, n_init=1).fit(X)
    assert ref.history_[0].n_relocated == 1
    got = KMeans(4, init=init, n_init=1).fit(_chunked(X, (250, -1)))
    assert_same_fit(got, ref)
    assert [r.n_relocated for r in got.history_] == [r.n_relocated for r in ref.history_]


def test_sample_weight_dask_and_numpy(sync):
    X, _ = blobs(n=4000, d=5, k=4, seed=5, cluster_std=2.0)
    w = np.random.RandomState(0).uniform(0, 3, size=len(X))
    w[::7] = 0.0
    init = rows_as_init(X, 4)
    ref = KMeans(4, init=init, n_init=1).fit(X, sample_weight=w)
    for weight in (w, da.from_array(w, chunks=333)):
        got = KMeans(4, init=init, n_init=1).fit(_chunked(X, (300, -1)), sample_weight=weight)
        assert_same_fit(got, ref)


def test_predict_transform_lazy_and_equal(sync):
    X, _ = blobs(n=3000, d=12, k=5, dtype=np.float32, seed=6, cluster_std=3.0)
    model = KMeans(5, random_state=0).fit(X)
    Xd = _chunked(X, (123, -1))
    labels = model.predict(Xd)
    dist = model.transform(Xd)
    assert isinstance(labels, da.Array) and isinstance(dist, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.predict(X))
    np.testing.assert_array_equal(dist.compute(), model.transform(X))
    fitted = KMeans(5, random_state=0).fit(Xd)
    assert isinstance(fitted.fit_predict(Xd), da.Array)


def test_dataframe_feature_names(sync):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, _ = blobs(n=2000, d=3, k=3, seed=8)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    init = rows_as_init(X, 3)
    ref = KMeans(3, init=init, n_init=1).fit(frame)
    got = KMeans(3, init=init, n_init=1).fit(dd.from_pandas(frame, npartitions=3))
    assert_same_fit(got, ref)
    assert list(got.feature_names_in_) == ["a", "b", "c"]
    assert got.n_features_in_ == 3


def test_bad_dask_input(sync):
    X, _ = blobs(n=1000, d=2, k=3)
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KMeans(3).fit(da.from_array(X, chunks=300))
    with pytest.raises(ValueError, match="2-D"):
        KMeans(3).fit(da.zeros(10, chunks=5))
    with pytest.raises(ValueError, match="negative"):
        KMeans(3).fit(da.ones((10, 2), chunks=5), sample_weight=-da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="shape"):
        KMeans(3).fit(da.ones((10, 2), chunks=5), sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="not available for data"):
        KMeans(3, init="random").fit(da.zeros((10, 2), chunks=5))


def test_global_search_needs_rows_in_memory(sync):
    X, _ = blobs(n=2000, d=4, k=4, dtype=np.float32, seed=1)
    with pytest.raises(ValueError, match="search='breathe' needs the rows in memory"):
        KMeans(4, search="breathe").fit(_chunked(X, (500, -1)))
    # 'auto' is plain Lloyd there: no search cycles recorded.
    assert KMeans(4, random_state=0).fit(_chunked(X, (500, -1))).history_.search == []
