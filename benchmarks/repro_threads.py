"""Bit-identical results for any thread count: kmeanskit vs scikit-learn, side by side.

Prints a hash of cluster_centers_ and labels_ and the inertia for n_threads = 1, 2, 4
(scikit-learn: 1 and 2 threads). Run with ``NUMBA_NUM_THREADS=4`` so that numba may
start 4 threads on a 2-core machine.
"""

import hashlib
import warnings

import numpy as np
from sklearn.cluster import KMeans as SkKMeans
from threadpoolctl import threadpool_limits

from kmeanskit import KMeans
from kmeanskit.datasets import make_blobs


def digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def main() -> None:
    warnings.simplefilter("ignore")
    for d, dtype in ((2, np.float32), (64, np.float32), (64, np.float64)):
        X, _ = make_blobs(200_000, d, 64, random_state=0, dtype=dtype)
        print(f"X 200000 x {d} {np.dtype(dtype).name}, k=64, random_state=0")
        for t in (1, 2, 4):
            km = KMeans(64, random_state=0, n_threads=t).fit(X)
            print(
                f"  kmeanskit n_threads={t}: centers {digest(km.cluster_centers_)} "
                f"labels {digest(km.labels_)} inertia {km.inertia_!r}"
            )
        for t in (1, 2):
            with threadpool_limits(t):
                sk = SkKMeans(64, random_state=0).fit(X)
            print(
                f"  sklearn   threads={t}:   centers {digest(sk.cluster_centers_)} "
                f"labels {digest(sk.labels_)} inertia {sk.inertia_!r}"
            )


if __name__ == "__main__":
    main()
