"""Wheel build hook: compile kmeanskit's numba kernels for this machine into the wheel.

numba compiles the kernels on first use (tens of seconds) and caches the machine code
in ``__pycache__`` beside each module, keyed by the source's content hash and the CPU.
Building a wheel (``pip install .`` builds one) runs ``kmeanskit.precompile`` on a copy
of the package and ships the cache files it wrote, so the first fit after installing
loads them instead of compiling. The wheel is then specific to this platform; on
another CPU the cache does not match and the kernels compile on first use as usual.
``KMEANSKIT_PRECOMPILE=0`` builds a pure-Python wheel without them; a failed compile
only leaves them out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_COMPILE = (
    "from kmeanskit._warmup import precompile; precompile(('float64', 'float32'), every_path=True)"
)


class KernelCacheHook(BuildHookInterface):
    """Adds numba's cache of every kernel to a standard (not editable) wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("KMEANSKIT_PRECOMPILE", "1") == "0":
            return
        self._tmp = Path(tempfile.mkdtemp(prefix="kmeanskit-kernels-"))
        package = self._tmp / "kmeanskit"
        shutil.copytree(
            Path(self.root) / "src" / "kmeanskit",
            package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
        # The copy first, then exactly what this build sees: pip's isolated build
        # environment reaches its packages through paths of its own.
        env["PYTHONPATH"] = os.pathsep.join([str(self._tmp), *filter(None, sys.path)])
        print(
            "kmeanskit: compiling the kernels for this machine into the wheel "
            "(a minute; KMEANSKIT_PRECOMPILE=0 skips it)",
            file=sys.stderr,
            flush=True,
        )
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _COMPILE],
            cwd=self._tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = result.stderr.strip().splitlines()[-3:]
            print(
                "kmeanskit: kernels not precompiled; they compile on first use instead "
                f"({' / '.join(tail)})",
                file=sys.stderr,
            )
            return
        files = sorted(package.rglob("*.nb[ic]"))
        for path in files:
            build_data["force_include"][str(path)] = str(path.relative_to(self._tmp))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        print(
            f"kmeanskit: {len(files)} kernel cache files in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
