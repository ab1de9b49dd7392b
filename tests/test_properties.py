"""Properties of every fit, checked with hypothesis on small random data (float64).

* the inertia recorded per iteration never increases;
* every final label is a nearest centre of its row;
* after a stop on 'no_change', every centre is the weighted mean of its rows;
* ``inertia_`` is the weighted sum of squared distances of (labels_, cluster_centers_).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from naive import naive_inertia, sq_distances
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import KMeans

SETTINGS = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])

bounded = st.floats(
    -1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64
)


@st.composite
def problems(draw, weighted=None):
    """(X, sample_weight or None, KMeans parameters) for a small fit.

    X is either drawn element by element (hypothesis likes repeated values, zeros and
    duplicate rows) or from a seeded Gaussian mixture (the common case).
    """
    n = draw(st.integers(1, 60))
    d = draw(st.sampled_from([1, 2, 3, 5, 16, 17, 24]))
    if draw(st.booleans()):
        X = draw(hnp.arrays(np.float64, (n, d), elements=bounded))
    else:
        rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
        scale = draw(st.sampled_from([1e-3, 1.0, 100.0]))
        means = rng.uniform(-10, 10, size=(rng.randint(1, 6), d))
        X = (means[rng.randint(len(means), size=n)] + rng.normal(size=(n, d))) * scale
    X = np.ascontiguousarray(X, dtype=np.float64)
    k = draw(st.integers(1, min(n, 8)))
    if weighted is None:
        weighted = draw(st.booleans())
    weight = None
    if weighted:
        weight = draw(
            hnp.arrays(
                np.float64,
                n,
                elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]) | st.floats(0.01, 10.0),
            )
        )
        if not np.any(weight > 0):
            weight[0] = 1.0
    n_positive = n if weight is None else int(np.count_nonzero(weight))
    inits = ["k-means++"] + (["random"] if n_positive >= k else [])
    params = dict(
        n_clusters=k,
        init=draw(st.sampled_from(inits)),
        n_init=draw(st.integers(1, 2)),
        max_iter=draw(st.sampled_from([1, 2, 5, 300])),
        tol=draw(st.sampled_from([0.0, 1e-4, 0.1])),
        random_state=draw(st.integers(0, 2**16)),
    )
    return X, weight, params


def fit(X, weight, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(**params).fit(X, sample_weight=weight)


@SETTINGS
@given(problems())
def test_inertia_never_increases(problem):
    X, weight, params = problem
    km = fit(X, weight, params)
    inertias = [it.inertia for it in km.history_]
    assert len(inertias) == km.n_iter_
    # Rounding slack: 1e-9 relative, plus an absolute term on the scale of the data
    # (a mean of one row of weight 1.5 is that row only to 1 ulp, so an inertia of 0
    # may become 1e-36; the GEMM ranking errs by ~eps * (|x|^2 + |c|^2) per row).
    w = np.ones(len(X)) if weight is None else weight
    atol = 1e-12 * float(np.sum(w)) * float(np.max(np.sum(X**2, axis=1)))

    def no_higher(after, before):
        return after <= before * (1 + 1e-9) + atol

    for i, (before, after) in enumerate(zip(inertias, inertias[1:], strict=False)):
        assert no_higher(after, before), f"inertia rose in iteration {i + 2}: {inertias}"
    # the final assignment (after 'tol' / 'max_iter') does not raise it either
    assert no_higher(km.inertia_, inertias[-1])
    # and each restart ends no worse than it started
    for r in km.history_.restarts:
        assert no_higher(r.inertia, r.init_inertia)


@SETTINGS
@given(problems())
def test_every_label_is_a_nearest_centre(problem):
    X, weight, params = problem
    km = fit(X, weight, params)
    dist = sq_distances(X, km.cluster_centers_)
    assigned = dist[np.arange(len(X)), km.labels_]
    nearest = dist.min(axis=1)
    # The GEMM kernel (used from a few features up) ranks centres by |c|^2 - 2 x.c,
    # whose rounding error scales with |x|^2 + |c|^2, not with the distance.
    c_sq = np.sum(km.cluster_centers_.astype(np.float64) ** 2, axis=1).max()
    slack = 1e-9 * nearest + 1e-12 * (np.sum(X**2, axis=1) + c_sq)
    assert np.all(assigned <= nearest + slack), np.flatnonzero(assigned > nearest + slack)
    # and labels_ are what predict gives for the same centres
    np.testing.assert_array_equal(km.labels_, km.predict(X))


@SETTINGS
@given(problems())
def test_centres_are_weighted_means_after_no_change(problem):
    X, weight, params = problem
    params["tol"] = 0.0
    params["max_iter"] = 300
    km = fit(X, weight, params)
    if km.stop_reason_ != "no_change":
        # tol=0 stops on 'tol' only when an iteration moved no centre at all
        assert km.stop_reason_ in ("tol", "max_iter")
        return
    w = np.ones(len(X)) if weight is None else weight
    scale = max(float(np.max(np.abs(X))), 1e-300)
    for j in range(params["n_clusters"]):
        rows = km.labels_ == j
        assert w[rows].sum() > 0, f"cluster {j} has no weight after 'no_change'"
        mean = np.sum(w[rows, None] * X[rows], axis=0) / w[rows].sum()
        np.testing.assert_allclose(km.cluster_centers_[j], mean, rtol=1e-10, atol=1e-10 * scale)


@SETTINGS
@given(problems())
def test_inertia_is_naive_inertia_of_labels_and_centres(problem):
    X, weight, params = problem
    km = fit(X, weight, params)
    expected = naive_inertia(X, km.cluster_centers_, km.labels_, weight)
    assert km.inertia_ == pytest.approx(expected, rel=1e-10, abs=1e-300)
    # score is minus the same number
    assert -km.score(X, sample_weight=weight) == pytest.approx(expected, rel=1e-10, abs=1e-300)
