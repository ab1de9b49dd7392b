"""Shared fixtures and data helpers.

NUMBA_NUM_THREADS is set first, so that tests can ask for n_threads=4 even on a 2-core
machine (results must not depend on the thread count, so a count above the cores is a
fair test).
"""

import os

# Before numba is imported (nothing imports it earlier: keep numba out of pytest's
# config). A count above the cores is fine: results must not depend on it.
os.environ.setdefault("NUMBA_NUM_THREADS", "4")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402


def blobs(n=600, d=2, k=4, dtype=np.float64, seed=0, cluster_std=0.5, center_box=(-10, 10)):
    """Well-separated blobs as a C-contiguous array of ``dtype`` and the true labels."""
    X, y = make_blobs(
        n_samples=n,
        n_features=d,
        centers=k,
        cluster_std=cluster_std,
        center_box=center_box,
        random_state=seed,
    )
    return np.ascontiguousarray(X, dtype=dtype), y


def rows_as_init(X, k, seed=0):
    """``k`` distinct rows of X chosen at random: a simple, reproducible initialisation."""
    rng = np.random.RandomState(seed)
    return X[rng.choice(len(X), size=k, replace=False)].copy()


@pytest.fixture
def blobs64():
    """(X, y): 600 rows, 2 features, 4 well-separated blobs, float64."""
    return blobs(dtype=np.float64)


@pytest.fixture
def blobs32():
    """(X, y): 600 rows, 2 features, 4 well-separated blobs, float32."""
    return blobs(dtype=np.float32)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def blobs_any(request):
    """(X, y) in float32 and in float64."""
    return blobs(dtype=request.param)


@pytest.fixture(scope="session")
def max_threads():
    """The thread count numba runs with in this session (4 unless set otherwise)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


@pytest.fixture
def hide_module(monkeypatch):
    """``hide_module("matplotlib")``: importing it (or a submodule) through importlib, as
    ``kmeanskit.io.require`` does, raises ImportError as on a machine without it."""
    import importlib

    real = importlib.import_module

    def hide(prefix):
        def fake(name, *args):
            if name.split(".")[0] == prefix:
                raise ImportError(f"no {prefix}")
            return real(name, *args)

        monkeypatch.setattr(importlib, "import_module", fake)

    return hide
