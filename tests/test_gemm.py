"""The assignment kernel's GEMM: MKL's when installed, numba's BLAS otherwise; the same
answers either way."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kmeanskit import KMeans
from kmeanskit._kernels import gemm

#: A fit in a fresh process (the GEMM is chosen at import), printed as JSON.
_FIT = """
import json, sys
import numpy as np
from kmeanskit import KMeans
from kmeanskit._kernels.gemm import provider
data = np.load(sys.argv[1])
km = KMeans(12, init=data["init"], n_init=1, algorithm=sys.argv[2]).fit(data["X"])
print(json.dumps({"provider": provider(), "labels": km.labels_.tolist(),
                  "centers": km.cluster_centers_.tobytes().hex(), "inertia": km.inertia_}))
"""


def _mkl_installed() -> bool:
    try:
        importlib.metadata.version("mkl")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _fit_in_process(path, algorithm, **env):
    result = subprocess.run(
        [sys.executable, "-c", _FIT, str(path), algorithm],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(not _mkl_installed(), reason="the mkl package is not installed")
def test_mkl_is_used_when_installed():
    assert "Math Kernel Library" in gemm.provider()
    assert gemm.gemm_address(np.float32) != 0
    assert gemm.gemm_address(np.float64) not in (0, gemm.gemm_address(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ["lloyd", "auto"])
def test_openblas_and_this_process_give_the_same_fit(tmp_path, dtype, algorithm):
    """``KMEANSKIT_GEMM=openblas`` turns MKL off; labels, centres and inertia are the same
    bits as this process's fit (MKL's GEMM when installed): the GEMM only ranks the
    centres, and exact distances and sums do the rest (these blobs hold no near tie,
    where another GEMM's rounding could pick the other centre)."""
    rng = np.random.default_rng(4)
    X = (rng.normal(size=(6000, 24)) + 6 * rng.integers(0, 12, size=(6000, 1))).astype(dtype)
    init = X[rng.choice(len(X), 12, replace=False)]
    path = tmp_path / "data.npz"
    np.savez(path, X=X, init=init)
    other = _fit_in_process(path, algorithm, KMEANSKIT_GEMM="openblas")
    assert other["provider"].startswith("numba's BLAS")
    km = KMeans(12, init=init, n_init=1, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(km.labels_, other["labels"])
    assert km.cluster_centers_.tobytes().hex() == other["centers"]
    assert km.inertia_ == other["inertia"]


@pytest.mark.skipif(not _mkl_installed(), reason="the mkl package is not installed")
def test_mkl_loaded_by_another_library_is_left_alone():
    """Its threading layer is global: when MKL is already in the process (numpy built on
    it, say), kmeanskit does not switch it to sequential and uses numba's BLAS."""
    from kmeanskit._kernels.gemm import _mkl_paths

    script = (
        "import ctypes, sys\n"
        f"lib = ctypes.CDLL({_mkl_paths()[0]!r})\n"
        "lib.MKL_Get_Max_Threads()  # MKL initialised with its default (threaded) layer\n"
        "from kmeanskit._kernels.gemm import provider\n"
        "print(provider())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("numba's BLAS")
