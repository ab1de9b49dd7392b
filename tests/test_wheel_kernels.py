"""``pip install .`` ships the compiled kernels: building the wheel (as pip does, in an
isolated build environment) runs ``hatch_build.py``, which compiles every kernel into
numba cache files inside the wheel, so the first fit after installing compiles nothing.
A build that silently left them out (the hook's compile failing) fails here."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / "hatch_build.py").exists(), reason="not a source checkout")
def test_wheel_carries_the_compiled_kernels(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    (wheel,) = tmp_path.glob("kmeanskit-*.whl")
    assert not wheel.name.endswith("-py3-none-any.whl")  # machine code: a platform wheel
    names = zipfile.ZipFile(wheel).namelist()
    indexes = {Path(n).name.split("-")[0] for n in names if n.endswith(".nbi")}
    # the assignment, seeding, statistics and metrics kernels, each with its index
    for kernel in ("assign.assign_pass", "seeding.init_closest", "stats.chunk_moments"):
        assert kernel in indexes, sorted(indexes)
    assert any(n.startswith("kmeanskit/__pycache__/metrics.") for n in names)
    assert sum(n.endswith(".nbc") for n in names) > 50
