"""The generators added for the explorer's presets and traps: shape, seed, and the property
each one exists to show."""

import numpy as np
import pytest

from kmeanskit import datasets as ds

NEW = [
    "uniform",
    "unequal-variance",
    "smiley-outliers",
    "packed-discs",
    "duplicates",
    "mixed-units",
]


@pytest.mark.parametrize("name", NEW)
def test_shape_dtype_and_seed(name):
    make = ds.GENERATORS[name]
    X, y = make(301, random_state=4)
    assert X.shape == (301, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (301,) and y.dtype == np.int64
    X2, y2 = make(301, random_state=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(301, random_state=5)[0])


def test_the_property_each_shows():
    X, _ = ds.make_duplicates(100, 3)
    assert len(np.unique(X, axis=0)) == 3
    X, _ = ds.make_mixed_units(500)
    assert X[:, 1].std() > 100 * X[:, 0].std()
    X, y = ds.make_smiley_outliers(1000, outliers=0.05)
    assert np.sum(y == 4) == 50 and np.all(np.hypot(*X[y == 4].T) >= 2.0)
    X, y = ds.make_packed_discs(700, 7)
    centers = np.array([X[y == c].mean(axis=0) for c in range(7)])
    gaps = np.hypot(*(centers[:, None] - centers[None]).transpose(2, 0, 1))
    assert np.min(gaps[np.triu_indices(7, 1)]) == pytest.approx(2.0, abs=0.25)
    X, y = ds.make_unequal_variance(3000, 2, 3)
    stds = [X[y == c].std(axis=0).mean() for c in range(3)]
    assert stds[0] > 5 * stds[2]
    X, _ = ds.make_uniform(1000)
    assert X.min() >= 0 and X.max() <= 1
