"""A worker killed in the middle of a Dask fit: the scheduler recomputes what it held
(its groups of rows, their labels) from their lineage, and the result is still the
in-memory one, bit for bit."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from conftest import blobs, rows_as_init

from kmeanskit import KMeans
from kmeanskit.backends.dask import DaskBackend

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def _kill_one_worker(client):
    """Kill the process of one worker (no clean shutdown) and wait until it is gone."""
    workers = sorted(client.scheduler_info()["workers"])
    victim = workers[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while victim in client.scheduler_info()["workers"]:
        if time.monotonic() > deadline:
            raise AssertionError("the killed worker did not leave the cluster")
        time.sleep(0.05)
    return victim


def test_worker_killed_mid_fit(monkeypatch):
    X, _ = blobs(n=20000, d=8, k=6, dtype=np.float32, seed=11, cluster_std=3.0)
    init = rows_as_init(X, 6)
    ref = KMeans(6, init=init, n_init=1, max_iter=50).fit(X)
    assert ref.n_iter_ >= 3  # the kill falls in the middle of the fit

    killed = []
    step = DaskBackend.step

    def step_then_kill(self, data, centers):
        out = step(self, data, centers)
        if not killed:
            killed.append(_kill_one_worker(client))
        return out

    monkeypatch.setattr(DaskBackend, "step", step_then_kill)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = KMeans(6, init=init, n_init=1, max_iter=50).fit(da.from_array(X, chunks=3000))
        labels = got.labels_.compute()
    assert killed
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_)
    assert got.inertia_ == ref.inertia_
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(labels, ref.labels_)
