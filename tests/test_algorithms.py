"""Every exact algorithm gives the dense Lloyd answer, and history says what ran."""

import numpy as np
import pytest
from conftest import blobs
from naive import naive_lloyd

from kmeanskit import KMeans

SHAPES = [
    # (n, d, k): direct scores (d <= 4, or d <= 8 with k >= 128) and GEMM scores
    (3000, 2, 20),
    (3000, 3, 150),
    (2500, 8, 7),
    (2000, 17, 33),
    (1500, 64, 12),
]


@pytest.mark.parametrize("n, d, k", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bounded_algorithms_are_bit_identical_to_lloyd(n, d, k, dtype):
    X, _ = blobs(n=n, d=d, k=k, dtype=dtype, seed=d, cluster_std=1.5)
    init = X[np.random.RandomState(1).choice(n, k, replace=False)]
    fits = {
        a: KMeans(k, init=init, algorithm=a, tol=0, max_iter=100).fit(X)
        for a in ("lloyd", "hamerly", "elkan", "yinyang", "auto")
    }
    assert {r.algorithm for r in fits["yinyang"].history_[1:]} <= {"yinyang", "lloyd"}
    ref = fits["lloyd"]
    for name, km in fits.items():
        np.testing.assert_array_equal(km.labels_, ref.labels_, err_msg=name)
        assert km.cluster_centers_.tobytes() == ref.cluster_centers_.tobytes(), name
        assert km.inertia_ == ref.inertia_, name
        assert km.n_iter_ == ref.n_iter_, name
        assert [h.inertia for h in km.history_] == [h.inertia for h in ref.history_], name


@pytest.mark.parametrize("n, d, k", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_iter, tol", [(3, 0.0), (300, 1e-3)])
def test_final_labels_are_those_of_predict(n, d, k, dtype, max_iter, tol):
    """A fit that stops on max_iter or tol ends with a labels pass; with bounds and direct
    scores that pass skips rows, and still gives predict's labels and inertia bit for bit."""
    X, _ = blobs(n=n, d=d, k=k, dtype=dtype, seed=d + 2, cluster_std=2.0)
    init = X[np.random.RandomState(3).choice(n, k, replace=False)]
    ref = None
    for algorithm in ("lloyd", "hamerly", "yinyang", "auto"):
        km = KMeans(k, init=init, algorithm=algorithm, tol=tol, max_iter=max_iter).fit(X)
        assert km.stop_reason_ != "no_change" or max_iter == 300
        np.testing.assert_array_equal(km.labels_, km.predict(X), err_msg=algorithm)
        assert km.inertia_ == -km.score(X), algorithm
        if ref is None:
            ref = km
        np.testing.assert_array_equal(km.labels_, ref.labels_, err_msg=algorithm)
        assert km.inertia_ == ref.inertia_, algorithm


@pytest.mark.parametrize("n, d, k", SHAPES)
@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
def test_bounded_algorithms_match_the_naive_lloyd(n, d, k, algorithm):
    X, _ = blobs(n=n, d=d, k=k, seed=d + 1, cluster_std=2.0)
    init = X[np.random.RandomState(2).choice(n, k, replace=False)]
    km = KMeans(k, init=init, algorithm=algorithm, tol=0, max_iter=300).fit(X)
    labels, centers, inertia, n_iter, _ = naive_lloyd(X, init, 300)
    np.testing.assert_array_equal(km.labels_, labels)
    np.testing.assert_allclose(km.cluster_centers_, centers, rtol=1e-10, atol=1e-12)
    assert km.n_iter_ == n_iter
    assert km.inertia_ == pytest.approx(inertia, rel=1e-10)


def test_history_records_algorithm_and_skipped_fraction():
    X, _ = blobs(n=4000, d=2, k=10, seed=3, cluster_std=1.0)
    km = KMeans(10, algorithm="hamerly", random_state=0, tol=0, search=None).fit(X)
    records = list(km.history_)
    # The first pass scores every row and sets the bounds; later ones use them.
    assert records[0].algorithm == "lloyd" and records[0].skipped == 0.0
    assert all(r.algorithm == "hamerly" for r in records[1:])
    assert all(0.0 <= r.skipped <= 1.0 for r in records)
    # Near convergence almost every label is proved by the bounds.
    assert records[-1].skipped > 0.9
    lloyd = KMeans(10, algorithm="lloyd", random_state=0, tol=0).fit(X)
    assert all(r.algorithm == "lloyd" and r.skipped == 0.0 for r in lloyd.history_)


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
def test_bounds_survive_empty_cluster_relocation(algorithm):
    # A centre far from the data owns nothing in the first pass and is moved to the
    # farthest row: its drift is huge, and the bounds must account for it.
    X, _ = blobs(n=2000, d=5, k=6, seed=4, cluster_std=1.0)
    init = X[:6].copy()
    init[2] = 1e3
    ham = KMeans(6, init=init, algorithm=algorithm, tol=0).fit(X)
    lloyd = KMeans(6, init=init, algorithm="lloyd", tol=0).fit(X)
    assert ham.history_[0].n_relocated >= 1
    np.testing.assert_array_equal(ham.labels_, lloyd.labels_)
    assert ham.cluster_centers_.tobytes() == lloyd.cluster_centers_.tobytes()
    np.testing.assert_array_equal(ham.predict(X), ham.labels_)


def test_float32_data_far_from_the_origin_keeps_exact_labels():
    # An offset of 1e4 on unit-scale blobs: the GEMM expansion in float32 would be off
    # by hundreds in squared distance without the shift; with it, every row whose two
    # nearest centres differ by more than float32 noise gets the exact nearest centre.
    X, _ = blobs(n=3000, d=24, k=5, seed=5, cluster_std=3.0)
    X32 = (X + 1e4).astype(np.float32)
    km = KMeans(5, random_state=0).fit(X32)
    d2 = ((X32.astype(np.float64)[:, None] - km.cluster_centers_.astype(np.float64)) ** 2).sum(-1)
    nearest = np.sort(d2, axis=1)
    clear = nearest[:, 1] - nearest[:, 0] > 1e-3 * nearest[:, 1]
    assert clear.mean() > 0.95
    np.testing.assert_array_equal(km.predict(X32)[clear], d2.argmin(axis=1)[clear])
    np.testing.assert_array_equal(km.labels_, km.predict(X32))


def test_auto_scores_every_row_while_many_labels_move(monkeypatch):
    from kmeanskit.backends import bounds

    monkeypatch.setattr(bounds, "AUTO_DENSE_BELOW_WORK", 0)
    X = np.random.RandomState(0).rand(6000, 2)
    # Every centre on one edge of the square: the first passes move many labels.
    init = np.column_stack([np.linspace(0, 1, 12), np.zeros(12)])
    km = KMeans(12, init=init, n_init=1, tol=0).fit(X)
    records = list(km.history_)
    # The first pass scores every row; its changes (every label, from none) say nothing
    # about convergence, so the second pass tries the bounds.
    assert records[0].algorithm == "lloyd" and records[1].algorithm == "hamerly"
    for prev, rec in zip(records[1:], records[2:], strict=False):
        dense = prev.n_changed / len(X) > 0.3
        assert rec.algorithm == ("lloyd" if dense else "hamerly"), (prev, rec)
    assert any(r.algorithm == "lloyd" for r in records[2:]), "no dense pass after the first"
    assert records[-1].algorithm == "hamerly"


def test_auto_keeps_no_bounds_for_small_passes():
    X, _ = blobs(n=600, d=3, k=12, seed=6, cluster_std=2.5)
    km = KMeans(12, init="random", n_init=1, random_state=3, tol=0, search=None).fit(X)
    assert {r.algorithm for r in km.history_} == {"lloyd"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_prefetch_is_only_a_hint(dtype):
    """The bounded pass prefetches rows ahead (an LLVM intrinsic): it compiles for both
    dtypes and any integer index, and reads and writes nothing."""
    from numba import njit

    from kmeanskit._kernels.prefetch import prefetch_row

    @njit
    def touch_every_row(X):
        for i in range(X.shape[0]):
            prefetch_row(X, i)
            prefetch_row(X, np.int32(i))
        return X.sum()

    X = np.arange(40, dtype=dtype).reshape(10, 4)
    before = X.copy()
    assert touch_every_row(X) == before.sum()
    np.testing.assert_array_equal(X, before)


def test_bounded_labels_pass_rescores_a_chunk_with_a_near_tie():
    """Rows the bounds cannot place are scored by a GEMM over fewer rows than the dense
    pass uses; where two scores are within rounding of each other, the whole chunk is
    scored as the dense pass scores it, so the labels are predict's."""
    from kmeanskit._config import CHUNK_ROWS
    from kmeanskit.backends.local import LocalBackend

    rng = np.random.default_rng(0)
    X = rng.normal(size=(8 * CHUNK_ROWS, 12)).astype(np.float32)
    tied = [3 * CHUNK_ROWS + 5, 3 * CHUNK_ROWS + 77]
    X[tied, 0] = 0.0  # exactly as far from centre 0 as from centre 1
    C = np.zeros((4, 12), dtype=np.float32)
    C[0, 0], C[1, 0], C[2, 1], C[3, 1] = 2.0, -2.0, 30.0, -30.0
    weights = np.ones(X.shape[0], dtype=np.float32)

    bounded = LocalBackend("hamerly")
    data = bounded.prepare(X, weights, 4)
    bounded.begin(data)
    bounded.step(data, C)  # scores every row, sets the bounds
    labels, inertia = bounded.labels(data, C)  # uses them
    dense = LocalBackend("lloyd")
    ref_labels, ref_inertia = dense.labels(dense.prepare(X, weights, 4), C)

    np.testing.assert_array_equal(labels, ref_labels)
    assert inertia == ref_inertia
    assert list(labels[tied]) == [0, 0]  # ties go to the lowest index
    assert data.scored_chunks[3] == CHUNK_ROWS  # the chunk with the ties, whole
    assert data.scored_chunks.sum() < X.shape[0] // 2  # the bounds skipped most rows


def test_bounded_step_without_near_ties_needs_no_labels_pass(monkeypatch):
    """A bounded step flags the chunks whose gathered rows hold a near tie of GEMM
    scores (another GEMM might order them otherwise). Without one its labels are
    predict's, and a run that stops there with no label changed needs no labels pass."""
    from kmeanskit._config import CHUNK_ROWS
    from kmeanskit.backends.local import LocalBackend

    rng = np.random.default_rng(0)
    X = rng.normal(size=(8 * CHUNK_ROWS, 12)).astype(np.float32)
    tied = 3 * CHUNK_ROWS + 5
    X[tied, 0] = 0.0  # exactly as far from centre 0 as from centre 1
    C = np.zeros((4, 12), dtype=np.float32)
    C[0, 0], C[1, 0], C[2, 1], C[3, 1] = 2.0, -2.0, 30.0, -30.0
    weights = np.ones(X.shape[0], dtype=np.float32)
    backend = LocalBackend("hamerly")
    for rows, flagged in ((X, [3]), (np.delete(X, tied, axis=0), [])):
        data = backend.prepare(rows, weights[: len(rows)], 4)
        backend.begin(data)
        backend.step(data, C)  # scores every row, sets the bounds
        step = backend.step(data, C)  # uses them
        assert list(np.flatnonzero(data.tied_chunks)) == flagged
        assert step.final == (not flagged)

    # Four blobs far apart, started from their centres: the second (bounded) step
    # changes no label and finds no near tie, so the fit ends without a labels pass.
    offsets = np.array([[40, 40], [40, -40], [-40, 40], [-40, -40]], dtype=np.float32)
    blobs4 = X.copy()
    blobs4[:, :2] += offsets[np.arange(len(X)) % 4]
    init = np.zeros((4, 12), dtype=np.float32)
    init[:, :2] = offsets
    calls = []
    labels_pass = LocalBackend.labels
    monkeypatch.setattr(
        LocalBackend, "labels", lambda self, *a: calls.append(1) or labels_pass(self, *a)
    )
    km = KMeans(4, init=init, n_init=1, algorithm="hamerly", tol=0).fit(blobs4)
    assert km.stop_reason_ == "no_change"
    assert km.history_[-1].algorithm == "hamerly"
    assert calls == []
    np.testing.assert_array_equal(km.labels_, km.predict(blobs4))
    assert km.inertia_ == -km.score(blobs4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_yinyang_groups_skip_more_rows_and_give_the_same_answer(dtype):
    """Many centres in two dimensions: 'auto' keeps one bound per group of centres
    (Yinyang), which prove more labels than Hamerly's single bound; same bits."""
    X, _ = blobs(n=20000, d=2, k=600, dtype=dtype, seed=7, cluster_std=0.6)
    init = X[np.random.RandomState(5).choice(len(X), 600, replace=False)]
    fits = {
        a: KMeans(600, init=init, algorithm=a, tol=0, max_iter=12).fit(X)
        for a in ("lloyd", "hamerly", "yinyang", "auto")
    }
    for name, km in fits.items():
        assert km.cluster_centers_.tobytes() == fits["lloyd"].cluster_centers_.tobytes(), name
        np.testing.assert_array_equal(km.labels_, fits["lloyd"].labels_, err_msg=name)
        assert km.inertia_ == fits["lloyd"].inertia_, name
    assert [r.algorithm for r in fits["auto"].history_] == [
        r.algorithm for r in fits["yinyang"].history_
    ]
    assert fits["yinyang"].history_[-1].algorithm == "yinyang"
    skipped = {a: sum(r.skipped for r in fits[a].history_) for a in ("hamerly", "yinyang")}
    assert skipped["yinyang"] > skipped["hamerly"]


def test_center_drifts_are_the_largest_moves_of_each_group():
    from kmeanskit.backends.bounds import center_drifts

    rng = np.random.default_rng(0)
    before = rng.normal(size=(40, 3))
    after = before + rng.normal(size=(40, 3)) * rng.uniform(0, 2, size=(40, 1))
    group_of = rng.integers(0, 5, size=40).astype(np.int32)
    group_of[group_of == 3] = 2  # group 3 empty
    group_of[7] = 4
    group_of[group_of == 4] = 0
    group_of[7] = 4  # group 4 holds one centre
    drift_group, drift_other = center_drifts(before, after, group_of, 5)
    moved = np.sqrt(((after - before) ** 2).sum(axis=1))
    for g in range(5):
        members = moved[group_of == g]
        expected = members.max() if members.size else 0.0
        assert expected <= drift_group[g] <= expected * (1 + 1e-9) + 1e-300
    for a in range(40):
        others = moved[(group_of == group_of[a]) & (np.arange(40) != a)]
        expected = others.max() if others.size else 0.0
        assert expected <= drift_other[a] <= expected * (1 + 1e-9) + 1e-300
    assert drift_other[7] == 0.0


def test_center_groups_are_deterministic_and_cover_every_centre():
    from kmeanskit.backends.bounds import center_groups

    centers = np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32)
    groups = center_groups(centers, 6)
    assert groups.dtype == np.int32 and groups.shape == (300,)
    assert groups.min() >= 0 and groups.max() < 6
    np.testing.assert_array_equal(groups, center_groups(centers.copy(), 6))
    assert not center_groups(centers, 1).any()


@pytest.mark.parametrize("k, d", [(1, 3), (2, 5), (300, 4), (600, 40)])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-3)])
def test_center_separation_is_a_tight_lower_bound(k, d, dtype, rtol):
    """Each centre's distance to its nearest other centre, from below, within rounding
    (float32 centres: a float32 GEMM and its margin); several blocks of the parallel
    kernel (k > 256) and the one-centre case."""
    from kmeanskit.backends.bounds import center_separation

    centers = (np.random.default_rng(k).normal(size=(k, d)) + 100.0).astype(dtype)
    got = center_separation(centers)
    c = centers.astype(np.float64)
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    true = np.sqrt(d2.min(axis=1))
    assert np.all(got <= true)
    if k > 1:
        np.testing.assert_allclose(got, true, rtol=rtol)
    else:
        assert got[0] == np.inf


@pytest.mark.parametrize("k", [1, 2, 7, 600])
def test_nearest_other_centre_is_the_first_argmin(k):
    """The search's neighbour of each centre: the nearest other one, the lowest index
    among ties (a duplicated centre), from the same kernel as the separation."""
    from kmeanskit.backends.bounds import nearest_other

    centers = np.random.default_rng(k).normal(size=(k, 6))
    if k > 3:
        centers[3] = centers[0]
    d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    np.testing.assert_array_equal(nearest_other(centers), np.argmin(d2, axis=1))
