"""One-dimensional data: the default fit returns the optimum, checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_inertia, naive_labels

from kmeanskit import KMeans
from kmeanskit._kernels.optimal1d import optimal_splits


def brute_force_optimum(x, w, k):
    """Least weighted SSE over every assignment of the rows to k labels (k^n of them)."""
    best = np.inf
    for labels in itertools.product(range(k), repeat=len(x)):
        labels = np.array(labels)
        cost = 0.0
        for j in range(k):
            sel = labels == j
            if w[sel].sum() > 0:
                mean = np.dot(w[sel], x[sel]) / w[sel].sum()
                cost += float(np.dot(w[sel], (x[sel] - mean) ** 2))
        best = min(best, cost)
    return best


def contiguous_optimum(x, w, k):
    """Least weighted SSE over every split of the sorted values into k runs."""
    order = np.argsort(x)
    x, w = x[order], w[order]
    n = len(x)
    best = np.inf
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = (0, *cuts, n)
        cost = 0.0
        for a, b in itertools.pairwise(bounds):
            mean = np.dot(w[a:b], x[a:b]) / w[a:b].sum()
            cost += float(np.dot(w[a:b], (x[a:b] - mean) ** 2))
        best = min(best, cost)
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=2, max_size=7),
    st.integers(1, 3),
    st.integers(0, 2**31 - 2),
    st.booleans(),
)
def test_default_fit_is_the_brute_force_optimum(values, k, seed, weighted):
    x = np.array(values, dtype=np.float64) / 4.0
    k = min(k, len(x))
    rng = np.random.RandomState(seed)
    w = rng.randint(1, 4, size=len(x)).astype(np.float64) if weighted else np.ones(len(x))
    km = KMeans(k, random_state=seed).fit(x[:, None], sample_weight=w)
    optimum = brute_force_optimum(x, w, k)
    assert km.inertia_ == pytest.approx(optimum, rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(km.labels_, naive_labels(x[:, None], km.cluster_centers_))
    if k > 1:  # one cluster: Lloyd's single mean is already the optimum
        assert km.history_.search[0].method == "optimal-1d"


@pytest.mark.parametrize("seed", range(5))
def test_splits_match_the_best_contiguous_split(seed):
    rng = np.random.RandomState(seed)
    n, k = 14, 4
    x = np.sort(np.concatenate([rng.normal(c, 1.0, n // 4 + 1) for c in (0, 3, 4, 9)])[:n])
    w = rng.uniform(0.5, 2.0, n)
    starts = np.empty(k, dtype=np.int64)
    cost = optimal_splits(x, w, k, starts)
    assert cost == pytest.approx(contiguous_optimum(x, w, k), rel=1e-10)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)


def test_beats_plain_lloyd_where_lloyd_is_stuck():
    rng = np.random.RandomState(0)
    x = np.concatenate(
        [rng.normal(c, s, m) for c, s, m in ((0, 1, 3000), (6, 1, 300), (9, 0.3, 30))]
    )
    X = x[:, None]
    plain = [KMeans(3, search=None, random_state=s).fit(X).inertia_ for s in range(10)]
    best = KMeans(3, random_state=0).fit(X)
    assert best.inertia_ <= min(plain) * (1 + 1e-12)
    assert best.inertia_ == pytest.approx(
        naive_inertia(X, best.cluster_centers_, best.labels_), rel=1e-10
    )


def test_large_input_with_duplicates_and_zero_weights():
    rng = np.random.RandomState(1)
    x = np.round(rng.normal(size=20_000), 1)  # many duplicates
    w = rng.randint(0, 3, size=x.size).astype(np.float64)  # some weight 0
    X = x[:, None].astype(np.float32)
    km = KMeans(7, random_state=0).fit(X, sample_weight=w)
    assert km.history_.search[0].method == "optimal-1d"
    plain = KMeans(7, random_state=0, search=None).fit(X, sample_weight=w)
    assert km.inertia_ <= plain.inertia_ * (1 + 1e-6)
    np.testing.assert_array_equal(km.labels_, km.predict(X))
