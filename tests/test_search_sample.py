"""``search_size``: the seeding, restarts and search on a sample, then Lloyd on every row.

The contracts: the result is a Lloyd solution of all the data (exact labels, honest
inertia), it is reproducible and thread independent, the sample is what the history
and ``search_size_`` say, and 'auto' samples only above its documented size.
"""

from __future__ import annotations

import numpy as np
import pytest
from naive import naive_inertia, naive_labels, naive_update
from test_search import grid_blobs

from kmeanskit import KMeans, load_model, save_model
from kmeanskit._search import AUTO_SEARCH_MIN_ROWS, AUTO_SEARCH_ROWS_PER_CLUSTER, search_rows
from kmeanskit.metrics import centroid_index


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sampled_search_ends_in_a_lloyd_solution_of_every_row(dtype):
    X, truth = grid_blobs(seed=2, per=100, dtype=dtype)
    k = len(truth)
    km = KMeans(k, search_size=1200, tol=0.0, random_state=0).fit(X)
    assert km.search_size_ == 1200
    assert km.history_.search_size == 1200
    assert km.history_.search  # the search ran, on the sample
    assert km.stop_reason_ == "no_change"
    # Labels are the nearest centres of every row; the centres are their means.
    np.testing.assert_array_equal(km.labels_, naive_labels(X, km.cluster_centers_))
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    # A stop on no_change: the centres are the means of their rows (the next update).
    moved, relocated = naive_update(X, km.cluster_centers_, km.labels_, np.ones(len(X)))
    assert relocated == 0
    np.testing.assert_allclose(
        km.cluster_centers_, moved, rtol=1e-5 if dtype == np.float32 else 1e-12
    )
    assert km.inertia_ == pytest.approx(
        naive_inertia(X, km.cluster_centers_, km.labels_), rel=1e-10
    )
    # The iterations recorded are those of the run on every row.
    assert km.history_.iterations[-1].n_changed == 0
    assert km.n_iter_ == len(km.history_.iterations)
    assert centroid_index(km.cluster_centers_, truth) == 0


def test_sampled_search_is_reproducible_and_thread_independent():
    X, truth = grid_blobs(seed=4, per=80)
    fits = [
        KMeans(len(truth), search_size=900, random_state=7, n_threads=t).fit(X) for t in (1, 2, 2)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].cluster_centers_, other.cluster_centers_)
        np.testing.assert_array_equal(fits[0].labels_, other.labels_)
        assert fits[0].inertia_ == other.inertia_
    changed = KMeans(len(truth), search_size=900, random_state=8).fit(X)
    assert not np.array_equal(changed.cluster_centers_, fits[0].cluster_centers_)


def test_search_rows_draws_positive_weight_rows_only():
    w = np.ones(1000)
    w[::3] = 0.0
    rows = search_rows(w, 4, 200, seed=5)
    assert rows.size == 200 and np.unique(rows).size == 200
    assert np.all(np.diff(rows) > 0)  # sorted: the sample keeps the data's order
    assert np.all(w[rows] > 0)
    np.testing.assert_array_equal(rows, search_rows(w, 4, 200, seed=5))
    assert not np.array_equal(rows, search_rows(w, 4, 200, seed=6))
    # As many rows as there are rows with weight, or more: every row, no sample.
    assert search_rows(w, 4, int(np.count_nonzero(w)), seed=5) is None
    assert search_rows(w, 4, None, seed=5) is None


def test_auto_samples_only_above_its_size():
    k = 3
    size = max(AUTO_SEARCH_MIN_ROWS, AUTO_SEARCH_ROWS_PER_CLUSTER * k)
    assert search_rows(np.ones(size), k, "auto", seed=0) is None
    assert search_rows(np.ones(size + 1), k, "auto", seed=0).size == size
    many = 400  # 256 rows per centroid is above the floor
    assert search_rows(np.ones(1000 * many), many, "auto", seed=0).size == 256 * many


def test_auto_on_large_data_samples_and_reports_it(capsys):
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    n = AUTO_SEARCH_MIN_ROWS + 10_000
    X = centers[rng.randint(3, size=n)] + rng.normal(size=(n, 2))
    km = KMeans(3, random_state=0, verbose=1).fit(X)
    assert km.search_size_ == AUTO_SEARCH_MIN_ROWS
    assert km.history_.search_size == AUTO_SEARCH_MIN_ROWS
    assert f"on {AUTO_SEARCH_MIN_ROWS} of {n} rows" in capsys.readouterr().out
    assert centroid_index(km.cluster_centers_, centers) == 0
    full = KMeans(3, random_state=0, search_size=None).fit(X)
    assert full.search_size_ == n and full.history_.search_size is None
    assert km.inertia_ == pytest.approx(full.inertia_, rel=1e-6)


def test_sample_size_does_not_apply_without_the_breathing_search():
    X, truth = grid_blobs(seed=1)
    k = len(truth)
    plain = KMeans(k, search=None, search_size=300, random_state=0).fit(X)
    reference = KMeans(k, search=None, random_state=0).fit(X)
    np.testing.assert_array_equal(plain.cluster_centers_, reference.cluster_centers_)
    assert plain.search_size_ == X.shape[0] and plain.history_.search_size is None
    given = KMeans(k, init=truth, n_init=1, search_size=300).fit(X)
    assert given.search_size_ == X.shape[0]


def test_sampled_history_survives_a_model_file(tmp_path):
    X, truth = grid_blobs(seed=5)
    km = KMeans(len(truth), search_size=700, random_state=0).fit(X)
    path = tmp_path / "model.json"
    save_model(km, path)
    loaded = load_model(path)
    assert loaded.history_.search_size == 700
    assert loaded.get_params()["search_size"] == 700
    np.testing.assert_array_equal(loaded.predict(X), km.labels_)


@pytest.mark.parametrize("bad", [0, 2, -5, 1.5, "all", True])
def test_bad_search_size_names_the_choices(bad):
    X, _ = grid_blobs(side=2)
    with pytest.raises(ValueError, match="search_size=.*'auto', None"):
        KMeans(3, search_size=bad).fit(X)
