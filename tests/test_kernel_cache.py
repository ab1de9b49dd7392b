"""Every kernel stays cacheable on disk: a kernel numba cannot cache (it refers to a
ctypes pointer, or asks numba for its thread count, inside the jitted code) compiles
again in every process, seconds per fit on a cold start."""

from __future__ import annotations

import json
import subprocess
import sys

#: Fits, predictions and seedings that run the main kernels, in a fresh process; prints
#: the messages of numba's "Cannot cache" warnings as JSON.
_RUN = """
import json, warnings
import numpy as np
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import kmeanskit
    from kmeanskit.datasets import make_blobs
    for dtype in (np.float32, np.float64):
        X = make_blobs(3000, 5, 6, random_state=0, dtype=dtype)[0]
        for algorithm in ("lloyd", "auto"):
            km = kmeanskit.KMeans(6, random_state=0, algorithm=algorithm).fit(X)
            km.predict(X)
            km.score(X)
        kmeanskit.kmeans_plusplus(X, 6, random_state=0)
        kmeanskit.MiniBatchKMeans(6, random_state=0, batch_size=256).fit(X)
print(json.dumps([str(w.message) for w in caught if "cannot cache" in str(w.message).lower()]))
"""


def test_kernels_are_cached_on_disk():
    result = subprocess.run(
        [sys.executable, "-c", _RUN], capture_output=True, text=True, check=True, timeout=600
    )
    uncached = json.loads(result.stdout.strip().splitlines()[-1])
    assert uncached == []
