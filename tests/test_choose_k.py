"""choose_k: the four views, the recommendation, the result object."""

import json
import math

import numpy as np
import pytest
from conftest import blobs

import kmeanskit
from kmeanskit import _choose_k


@pytest.fixture(scope="module")
def four_blobs():
    return blobs(n=600, d=2, k=4, cluster_std=0.5, seed=0)[0]


@pytest.fixture(scope="module")
def result(four_blobs):
    return kmeanskit.choose_k(four_blobs, range(1, 8), n_seeds=3, n_refs=3)


def test_kneedle_finds_the_knee():
    ks = np.arange(1, 10)
    curve = np.where(ks <= 4, 100.0 - 22.0 * (ks - 1), 34.0 - 1.0 * (ks - 4))
    assert _choose_k.kneedle(ks, curve) == 4
    assert _choose_k.kneedle(ks, 10.0 - ks) is None  # a straight line has no knee
    assert _choose_k.kneedle([1, 2], [5.0, 1.0]) is None


def test_gap_rule():
    ks = [1, 2, 3, 4]
    # Gap(2) >= Gap(3) - s(3): the first k where one more cluster does not pay.
    assert _choose_k._gap_pick(ks, [0.1, 0.9, 0.95, 1.2], [0.1, 0.1, 0.1, 0.1]) == 2
    assert _choose_k._gap_pick(ks, [0.1, 0.5, 0.9, 1.3], [0.01] * 4) == 4


def test_recommends_the_true_k(result):
    assert result.k == 4
    assert result.elbow == 4 and result.best_silhouette == 4 and result.gap_k == 4
    assert "silhouette, gap statistic and elbow agree" in result.why


def test_table(result, four_blobs):
    assert result.k_values == list(range(1, 8))
    assert [row["k"] for row in result.table] == result.k_values
    # k = 1: every row in one cluster.
    assert result.inertia[0] == pytest.approx(((four_blobs - four_blobs.mean(0)) ** 2).sum())
    assert math.isnan(result.silhouette[0]) and math.isnan(result.stability[0])
    assert all(a >= b for a, b in zip(result.inertia, result.inertia[1:], strict=False))
    assert result.stability[3] == 1.0  # four separated blobs: every seed agrees
    assert result.n_rows == 600 and result.sample_size == 600
    doc = json.loads(json.dumps(result.to_dict()))  # NaN became null
    assert doc["silhouette"][0] is None and doc["table"][0]["stability"] is None
    text = result.format_table().splitlines()
    assert text[0].split() == ["k", "inertia", "silhouette", "gap", "gap_sd", "stability"]
    assert text[4].endswith("*") and text[4].split()[0] == "4"


def test_reproducible_and_sampled(four_blobs):
    a = kmeanskit.choose_k(four_blobs, [2, 4, 6], n_seeds=2, n_refs=2, sample_size=200)
    b = kmeanskit.choose_k(four_blobs, [2, 4, 6], n_seeds=2, n_refs=2, sample_size=200)
    assert a == b
    assert a.sample_size == 200 and a.k == 4


def test_bad_ranges(four_blobs):
    with pytest.raises(ValueError, match=r"between 1 and the number of rows \(600\)"):
        kmeanskit.choose_k(four_blobs, [2, 601])
    with pytest.raises(ValueError, match="between 1"):
        kmeanskit.choose_k(four_blobs, [])


def test_plot_is_a_png(tmp_path, result):
    pytest.importorskip("matplotlib")
    result.plot(tmp_path / "k.png")
    data = (tmp_path / "k.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
