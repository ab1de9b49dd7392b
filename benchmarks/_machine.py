"""Describe the machine a benchmark ran on, as a markdown section.

Readers need this to judge a table of timings: which CPU, how many cores, which BLAS
and OpenMP libraries with how many threads, which library versions, and how fast a
plain float32 GEMM ran on the machine *right now* (a busy machine shows up as a low
GFLOP/s number). Call :func:`machine_header` after the benchmarked libraries have
been imported and run once, so that every BLAS/OpenMP library they load is listed
and numba's threading layer is known.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

_LIBRARIES = ("numpy", "scipy", "numba", "sklearn", "faiss", "threadpoolctl", "kmeanskit")
_ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMBA_THREADING_LAYER",
)


def _cpuinfo() -> tuple[str, list[str]]:
    """CPU model name and the AVX-512 flags of the first processor in /proc/cpuinfo."""
    model, flags = None, None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and flags is None:
                    flags = sorted(f for f in value.split() if f.startswith("avx512"))
                if model is not None and flags is not None:
                    break
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), flags or []


def _version(name: str) -> str:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "?"))


def _gemm_provider() -> str:
    """Which GEMM kmeanskit's assignment kernel calls (MKL when installed)."""
    try:
        from kmeanskit._kernels.gemm import provider
    except ImportError:
        return "kmeanskit not installed"
    return provider()


def _numba_threading() -> tuple[str, str]:
    """(threading layer, NUMBA_NUM_THREADS); the layer is known once a parallel kernel ran."""
    try:
        import numba
    except ImportError:
        return "numba not installed", "-"
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = f"not initialised yet (config: {numba.config.THREADING_LAYER})"
    return str(layer), str(numba.config.NUMBA_NUM_THREADS)


def sgemm_gflops(n: int = 4096, repeats: int = 3, threads: int | None = None) -> float:
    """Best GFLOP/s of numpy's float32 ``(n, n) @ (n, n)`` over ``repeats`` runs.

    BLAS is limited to ``threads`` threads when given (the benchmark's thread count).
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)  # warm-up: thread pool start, page faults
        for _ in range(repeats):
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def _threadpool_table() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed: BLAS/OpenMP libraries unknown."]
    rows = [
        "| user_api | internal_api | library | version | architecture | threading | num_threads |",
        "|---|---|---|---|---|---|---|",
    ]
    for info in threadpool_info():
        rows.append(
            "| {} | {} | `{}` | {} | {} | {} | {} |".format(
                info.get("user_api", "?"),
                info.get("internal_api", "?"),
                os.path.basename(info.get("filepath", "?")),
                info.get("version") or "-",
                info.get("architecture") or "-",
                info.get("threading_layer") or "-",
                info.get("num_threads", "?"),
            )
        )
    return rows


def machine_header(
    threads: int | None = None,
    gflops: float | None = None,
    loadavg: tuple[float, float, float] | None = None,
) -> str:
    """A markdown section describing this machine, its libraries and its current speed.

    Parameters
    ----------
    threads : int or None
        Thread count the benchmark gives every library (shown, and used for the GEMM).
    gflops : float or None
        An sgemm GFLOP/s already measured; measured here when None.
    loadavg : tuple of 3 floats or None
        Load average taken before the benchmark started; read now when None.

    Returns
    -------
    str
        Markdown, ending with a newline.
    """
    model, avx512 = _cpuinfo()
    layer, numba_threads = _numba_threading()
    if gflops is None:
        gflops = sgemm_gflops(threads=threads)
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    try:
        load = ", ".join(f"{x:.2f}" for x in (loadavg or os.getloadavg()))
    except (OSError, AttributeError):
        load = "-"
    env = ", ".join(
        f"{name}={os.environ[name]!r}" if name in os.environ else f"{name} unset"
        for name in _ENV_VARS
    )
    extra = ""
    try:
        import faiss

        extra = f" (faiss compile options: {faiss.get_compile_options().strip()})"
    except (ImportError, AttributeError):
        pass
    lines = [
        "## Machine",
        "",
        f"- date: {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
        f"- CPU: {model}; `os.cpu_count()` = {os.cpu_count()}"
        + (f", usable by this process = {affinity}" if affinity is not None else ""),
        f"- AVX-512: {'yes (' + ' '.join(avx512) + ')' if avx512 else 'no'}",
        f"- OS: {platform.platform()}; Python {sys.version.split()[0]}",
        "- versions: " + ", ".join(f"{name} {_version(name)}" for name in _LIBRARIES) + extra,
        f"- numba threading layer: {layer}; NUMBA_NUM_THREADS = {numba_threads}",
        f"- kmeanskit's assignment GEMM: {_gemm_provider()}",
        f"- environment: {env}",
        f"- load average (1, 5, 15 min): {load}",
        f"- numpy float32 GEMM 4096x4096x4096 on {threads or 'default'} BLAS threads: "
        f"{gflops:.1f} GFLOP/s (best of 3)",
        "",
        "BLAS and OpenMP libraries loaded in this process (`threadpoolctl.threadpool_info()`):",
        "",
        *_threadpool_table(),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(machine_header())


def publish(text: str, out: Path | None) -> None:
    """Print a benchmark's markdown and, given ``--out``, write it there too."""
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr, flush=True)
