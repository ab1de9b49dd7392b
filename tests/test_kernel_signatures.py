"""One compiled signature per kernel and dtype: read-only, strided, Fortran-ordered,
integer and float16 inputs are converted before any kernel sees them, so none of them
makes numba compile a kernel again (seconds each; a read-only memmap used to compile
every kernel a second time)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

_RUN = r"""
import json, tempfile, warnings
import numpy as np
from numba.core.registry import CPUDispatcher
warnings.simplefilter("ignore")
import kmeanskit
from kmeanskit import metrics
from kmeanskit.datasets import make_blobs

def run_all(X, y):
    for algorithm in ("lloyd", "hamerly", "yinyang", "auto"):
        km = kmeanskit.KMeans(4, random_state=0, algorithm=algorithm, n_init=1).fit(X)
        km.predict(X); km.transform(X); km.score(X); km.fit_predict(X)
    kmeanskit.KMeans(4, random_state=0, init="k-means||", n_init=1).fit(X)
    mb = kmeanskit.MiniBatchKMeans(4, random_state=0, batch_size=256, n_init=1).fit(X)
    mb.partial_fit(X); mb.predict(X)
    kmeanskit.kmeans_plusplus(X, 4, random_state=0)
    kmeanskit.k_means(X, 4, random_state=0, n_init=1)
    kmeanskit.trace(X, 4, random_state=0)
    metrics.silhouette(X, y)

def signatures():
    found = {}
    import kmeanskit._kernels as pkg, pkgutil, importlib
    modules = [importlib.import_module(f"kmeanskit._kernels.{m.name}")
               for m in pkgutil.iter_modules(pkg.__path__)] + [metrics]
    for module in modules:
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = [str(s) for s in obj.signatures]
    return found

X, y = make_blobs(3000, 3, 4, random_state=0)
for dtype in (np.float64, np.float32):
    run_all(X.astype(dtype), y)
before = signatures()

odd = {}
with tempfile.TemporaryDirectory() as tmp:
    for dtype in (np.float64, np.float32):
        path = f"{tmp}/X{np.dtype(dtype).name}.npy"
        np.save(path, X.astype(dtype))
        odd[f"read-only memmap {np.dtype(dtype).name}"] = np.load(path, mmap_mode="r")
        readonly = X.astype(dtype)
        readonly.flags.writeable = False
        odd[f"read-only {np.dtype(dtype).name}"] = readonly
        odd[f"strided {np.dtype(dtype).name}"] = np.repeat(X.astype(dtype), 2, axis=0)[::2]
        odd[f"Fortran {np.dtype(dtype).name}"] = np.asfortranarray(X.astype(dtype))
    odd["int64"] = np.rint(X * 10).astype(np.int64)
    odd["float16"] = X.astype(np.float16)
    for what, data in odd.items():
        run_all(data, y)
    after = signatures()
print(json.dumps({"before": before, "after": after}))
"""


def test_odd_inputs_compile_no_kernel_again():
    result = subprocess.run(
        [sys.executable, "-c", _RUN], capture_output=True, text=True, timeout=900, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    before, after = found["before"], found["after"]
    assert sum(len(s) for s in before.values()) > 20  # the runs reached the kernels
    added = {name: sorted(set(after[name]) - set(before.get(name, []))) for name in after}
    assert {name: sigs for name, sigs in added.items() if sigs} == {}
    for name, sigs in after.items():
        for sig in sigs:  # Array(dtype, ndim, layout, readonly, ...): C-contiguous, writeable
            assert not re.search(r"Array\(\w+, \d+, '[AF]'|Array\(\w+, \d+, 'C', True", sig), (
                name,
                sig,
            )
