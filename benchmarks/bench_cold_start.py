"""First contact: what a new user waits for while kmeanskit's numba kernels compile.

numba compiles a kernel the first time it runs with a given dtype and caches the
machine code on disk (``NUMBA_CACHE_DIR`` says where). Every case here runs in a fresh
``python -c`` process; the cold ones get their own empty cache directory, the "after"
and "warm" ones reuse a directory that earlier cases filled. The table gives each
process's wall and CPU seconds, the ratio to scikit-learn's import + fit where that
comparison means something, whether the library's "compiling ... kernels" line
appeared on standard error, and how many compiled kernels the case added to the cache.

    python benchmarks/bench_cold_start.py --out /tmp/cold_start.md

Run it with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`` as the other benchmarks.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_header, publish, sgemm_gflops  # noqa: E402

N_ROWS, K = 3000, 5
TIMEOUT_S = 900
CASES = (
    "import",
    "help",
    "sklearn",
    "cold-fit",
    "float32",
    "gemm",
    "every-path",
    "warm-fit",
    "warm-import",
)
#: The logging line kmeanskit emits before compiling a dtype's kernels.
NOTICE = re.compile(r"compiling kmeanskit's (\w+) kernels")
MARK = "BENCH_JSON "

# -- the children's code ----------------------------------------------------------------
# Every child makes its data before the timed import, so that in-child timings split
# the library's import from its work; the process wall time includes both (and numpy).

_REPORT = f"""
layer = None
if "numba" in sys.modules:  # the threading layer numba chose, once a parallel kernel ran
    try:
        layer = sys.modules["numba"].threading_layer()
    except ValueError:
        pass
print({MARK!r} + json.dumps({{"import_s": t1 - t0, "work_s": t2 - t1, "layer": layer, **extra}}))
"""


def fit_code(library: str, n_features: int = 2, dtype: str = "float64") -> str:
    """Import + default fit of ``K`` clusters on ``N_ROWS`` normal rows (rng seed 0)."""
    if library == "sklearn":
        imp, fit = "import sklearn.cluster", "sklearn.cluster.KMeans"
    else:
        imp, fit = "import kmeanskit", "kmeanskit.KMeans"
    return f"""
import json, sys, time
import numpy as np
X = np.random.default_rng(0).normal(size=({N_ROWS}, {n_features})).astype(np.{dtype})
t0 = time.perf_counter()
{imp}
t1 = time.perf_counter()
{fit}({K}, random_state=0).fit(X)
t2 = time.perf_counter()
extra = {{}}
{_REPORT}
"""


def import_code(from_import: bool = False) -> str:
    """``import kmeanskit`` (and ``from kmeanskit import KMeans``) alone."""
    extra = "from kmeanskit import KMeans" if from_import else ""
    return f"""
import json, time
t0 = time.perf_counter()
import kmeanskit
{extra}
t1 = t2 = time.perf_counter()
print({MARK!r} + json.dumps({{"import_s": t1 - t0, "work_s": 0.0, "layer": None}}))
"""


# Every public path that runs kernels, on both dtypes and a GEMM-free and a GEMM shape.
EVERY_PATH_CODE = f"""
import json, sys, time
import numpy as np
data = [np.random.default_rng(0).normal(size=({N_ROWS}, d)) for d in (2, 16)]
t0 = time.perf_counter()
import kmeanskit
from kmeanskit import KMeans, MiniBatchKMeans
t1 = time.perf_counter()
extra = {{}}
for X64 in data:
    for X in (X64, X64.astype(np.float32)):
        start = time.perf_counter()
        for algorithm in ("lloyd", "elkan", "hamerly", "yinyang", "auto"):
            for search in ({{"search": None}}, {{}}):  # {{}}: the default search
                km = KMeans({K}, random_state=0, algorithm=algorithm, **search).fit(X)
                km.predict(X)
                km.transform(X)
                km.score(X)
        KMeans({K}, random_state=0).fit_predict(X)
        mb = MiniBatchKMeans({K}, random_state=0).fit(X)
        mb.partial_fit(X)
        mb.predict(X)
        kmeanskit.kmeans_plusplus(X, {K}, random_state=0)
        kmeanskit.k_means(X, {K}, random_state=0)
        kmeanskit.trace(X, {K}, random_state=0)
        extra[f"{{X.shape[1]}}-D {{X.dtype}}"] = time.perf_counter() - start
t2 = time.perf_counter()
{_REPORT}
"""


# -- running one child --------------------------------------------------------------------


@dataclass
class Run:
    """One child process: what it cost and what it said."""

    wall: float
    cpu: float
    ok: bool
    notices: list[str]
    new_kernels: int
    info: dict = field(default_factory=dict)
    error: str = ""


def cached_kernels(cache_dir: Path) -> int:
    """Compiled entries in numba's cache (one ``.nbc`` file per function and signature)."""
    return sum(1 for _ in cache_dir.rglob("*.nbc"))


def run_child(argv: list[str], cache_dir: Path, expect_json: bool = True) -> Run:
    """Run ``argv`` with ``NUMBA_CACHE_DIR=cache_dir``; wall and user+sys CPU seconds."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    before_kernels = cached_kernels(cache_dir)
    # RUSAGE_CHILDREN grows by a child's totals when it is reaped; only one runs at a time.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out = None, _text(exc.stdout)
        err = _text(exc.stderr) + f"\n[killed after the {TIMEOUT_S} s timeout]"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run = Run(
        wall=wall,
        cpu=cpu,
        ok=rc == 0,
        notices=NOTICE.findall(err),
        new_kernels=cached_kernels(cache_dir) - before_kernels,
    )
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    if run.ok and expect_json and lines:
        run.info = json.loads(lines[-1][len(MARK) :])
    elif run.ok and expect_json:
        run.ok = False
        err += "\n[the child exited 0 without printing its report]"
    if not run.ok:
        tail = err.strip().splitlines()[-15:] or ["(no stderr)"]
        run.error = "\n".join([f"exit status {rc}: {tail[-1].strip()}", "stderr tail:", *tail])
    return run


def _text(stream: bytes | str | None) -> str:
    if isinstance(stream, bytes):
        return stream.decode(errors="replace")
    return stream or ""


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def best(runs: list[Run]) -> Run:
    """The fastest successful run, or the first failure (which must be reported)."""
    failed = [r for r in runs if not r.ok]
    return failed[0] if failed else min(runs, key=lambda r: r.wall)


# -- the table -------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    run: Run
    expect_notice: set[str]
    ratio: bool = False  # an import + default fit: comparable with scikit-learn's
    notes: list[str] = field(default_factory=list)


def notice_cell(row: Row) -> str:
    seen = set(row.run.notices)
    shown = ", ".join(sorted(seen)) or "none"
    expected = ", ".join(sorted(row.expect_notice)) or "none"
    verdict = "as expected" if seen == row.expect_notice else f"**expected {expected}**"
    if len(row.run.notices) > len(seen):
        verdict += f"; {len(row.run.notices)} lines"
    return f"{shown} ({verdict})"


def table(rows: list[Row], reference: Run | None) -> list[str]:
    lines = [
        "| case | wall s | CPU s | ratio to scikit-learn import + fit | compile notice "
        "| kernels compiled | notes |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for row in rows:
        run = row.run
        if not run.ok:
            lines.append(
                f"| {row.case} | FAILED | - | - | - | - | after {run.wall:.1f} s: "
                f"{run.error.splitlines()[0].replace('|', '/')} (stderr below) |"
            )
            continue
        ratio = "-"
        if row.ratio and reference is not None and reference.ok:
            ratio = f"{run.wall / reference.wall:.1f}x"
        notes = [note for note in row.notes if note]
        if run.new_kernels and not run.notices:
            # The notice keys on one sentinel kernel per dtype; this shows what it misses.
            notes.append(f"**{run.new_kernels} kernel(s) compiled without the notice**")
        if "import_s" in run.info:
            inside = f"in the child: import {run.info['import_s']:.2f} s"
            if run.info["work_s"]:
                inside += f", work {run.info['work_s']:.2f} s"
            notes.insert(0, inside)
        lines.append(
            f"| {row.case} | {run.wall:.2f} | {run.cpu:.2f} | {ratio} | {notice_cell(row)} "
            f"| {run.new_kernels} | {'; '.join(notes) or '-'} |"
        )
    return lines


# -- the cases ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="cold cases: best of N, each with a fresh empty cache (warm ones: best of max(2, N))",
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma separated subset of {','.join(CASES)}"
    )
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {','.join(CASES)}")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def help_argv() -> tuple[list[str], str]:
    script = Path(sys.executable).with_name("kmeanskit")
    if script.exists():
        return [str(script), "--help"], f"`{script.name} --help` (console script)"
    return [sys.executable, "-m", "kmeanskit", "--help"], "`python -m kmeanskit --help`"


class Cases:
    """Runs the selected cases in order and collects their rows.

    ``filled`` is the latest cache directory that earlier cases filled: the warm cases
    reuse it (the every-path case's when it ran, as it holds every kernel).
    """

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.want = set(args.cases)
        self.cold_n, self.warm_n = args.repeats, max(2, args.repeats)
        self.root = root
        self.rows: list[Row] = []
        self.reference: Run | None = None
        self.filled: Path | None = None
        self.filled_by = ""

    def fresh(self) -> Path:
        """A new empty cache directory."""
        path = self.root / f"cache{len(list(self.root.iterdir()))}"
        path.mkdir()
        return path

    def add(self, case: str, run: Run, expect: set[str], *notes: str, ratio: bool = False) -> None:
        self.rows.append(Row(case, run, expect, ratio=ratio, notes=list(notes)))

    def run_all(self) -> None:
        self.imports()
        self.sklearn()
        self.chain()
        self.every_path()
        self.warm()

    def imports(self) -> None:
        if "import" in self.want:
            log("import kmeanskit, cold")
            runs = [run_child(python(import_code()), self.fresh()) for _ in range(self.cold_n)]
            self.add("1. `import kmeanskit`, empty cache", best(runs), set(), self._of(self.cold_n))
        if "help" in self.want:
            log("kmeanskit --help, cold")
            argv, shown = help_argv()
            runs = [run_child(argv, self.fresh(), expect_json=False) for _ in range(self.cold_n)]
            self.add(f"2. {shown}, empty cache", best(runs), set(), self._of(self.cold_n))

    def sklearn(self) -> None:
        if "sklearn" not in self.want:
            return
        log("scikit-learn import + fit")
        runs = [run_child(python(fit_code("sklearn")), self.fresh()) for _ in range(self.warm_n)]
        self.reference = best(runs)
        case = f"3. scikit-learn: `import sklearn.cluster` + `KMeans({K}).fit(X)`, {N_ROWS} x 2 float64"
        self.add(case, self.reference, set(), f"the reference; {self._of(self.warm_n)}", ratio=True)

    def chain(self) -> None:
        """Cases 4-6 share one cache per repeat: cold float64, then float32, then 64 features."""
        want = self.want
        if not {"cold-fit", "float32", "gemm"} & want:
            return
        runs: dict[str, list[Run]] = {"cold": [], "warm64": [], "float32": [], "gemm": []}
        later = {"float32": {"dtype": "float32"}, "gemm": {"n_features": 64}}
        for r in range(self.cold_n):
            log(f"cold float64 fit, then float32 and 64 features (repeat {r + 1})")
            cache = self.fresh()
            runs["cold"].append(run_child(python(fit_code("kmeanskit")), cache))
            if set(later) & want:
                # A warm float64 start in the same cache: what the later cases add to.
                runs["warm64"].append(run_child(python(fit_code("kmeanskit")), cache))
            for name, kwargs in later.items():
                if name in want:
                    runs[name].append(run_child(python(fit_code("kmeanskit", **kwargs)), cache))
            self.filled, self.filled_by = cache, "cases 4-6"
        of = self._of(self.cold_n)
        if "cold-fit" in want:
            case = (
                f"4. cold first fit: `import kmeanskit` + `KMeans({K}).fit(X)`, "
                f"{N_ROWS} x 2 float64, empty cache"
            )
            self.add(case, best(runs["cold"]), {"float64"}, of, ratio=True)
        warm64 = best(runs["warm64"]) if runs["warm64"] else None
        for name, case, expect in (
            (
                "float32",
                "5. then float32: the same fit of `X.astype(float32)`, cache of case 4",
                {"float32"},
            ),
            ("gemm", f"6. then the GEMM shape: {N_ROWS} x 64 float64, same cache", set()),
        ):
            if name in want:
                run = best(runs[name])
                self.add(case, run, expect, of, self._over(run, warm64), ratio=True)

    def every_path(self) -> None:
        if "every-path" not in self.want:
            return
        runs = []
        for r in range(self.cold_n):
            log(f"every public path, cold (repeat {r + 1})")
            cache = self.fresh()
            runs.append(run_child(python(EVERY_PATH_CODE), cache))
            self.filled, self.filled_by = cache, "case 7"
        run = best(runs)
        segments = [f"{k}: {v:.1f} s" for k, v in run.info.items() if k.endswith("float64")]
        segments += [f"{k}: {v:.1f} s" for k, v in run.info.items() if k.endswith("float32")]
        case = (
            "7. every public path from cold, one process: KMeans with each algorithm "
            "x (search=None, default), predict, transform, score, fit_predict; "
            "MiniBatchKMeans fit + partial_fit + predict; kmeans_plusplus; k_means; trace; "
            f"float64 and float32, {N_ROWS} x 2 and {N_ROWS} x 16"
        )
        self.add(case, run, {"float64", "float32"}, self._of(self.cold_n), *segments)

    def warm(self) -> None:
        if not {"warm-fit", "warm-import"} & self.want:
            return
        if self.filled is None:
            log("filling a cache for the warm cases (untimed)")
            self.filled = self.fresh()
            self.filled_by = "an untimed cold float64 fit (cases 4-7 not selected)"
            fill = run_child(python(fit_code("kmeanskit")), self.filled)
            if not fill.ok:
                self.add("(filling the cache for the warm cases)", fill, {"float64"})
        notes = (f"cache filled by {self.filled_by}", self._of(self.warm_n))
        if "warm-fit" in self.want:
            log("warm fit")
            code = python(fit_code("kmeanskit"))
            runs = [run_child(code, self.filled) for _ in range(self.warm_n)]
            case = (
                f"8. warm first fit: `import kmeanskit` + `KMeans({K}).fit(X)`, "
                f"{N_ROWS} x 2 float64, new process"
            )
            self.add(case, best(runs), set(), *notes, ratio=True)
        if "warm-import" in self.want:
            log("warm import")
            code = python(import_code(from_import=True))
            runs = [run_child(code, self.filled) for _ in range(self.warm_n)]
            case = "9. warm `import kmeanskit` + `from kmeanskit import KMeans`"
            self.add(case, best(runs), set(), *notes)

    @staticmethod
    def _of(n: int) -> str:
        return f"best of {n}"

    @staticmethod
    def _over(run: Run, warm64: Run | None) -> str:
        if warm64 is None or not run.ok:
            return ""
        if not warm64.ok:
            return f"the warm float64 start failed: {warm64.error.splitlines()[0]}"
        return (
            f"{run.wall - warm64.wall:+.2f} s wall over a warm float64 start in the same "
            f"cache ({warm64.wall:.2f} s)"
        )

    def layer(self) -> str | None:
        """The threading layer numba chose in the first fit child that ran a parallel kernel."""
        layers = [row.run.info.get("layer") for row in self.rows if row.run.info.get("layer")]
        return layers[0] if layers else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(
        ["python", *(sys.argv if argv is None else ["bench_cold_start.py", *argv])]
    )
    started = time.perf_counter()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    gflops_before = sgemm_gflops()
    with tempfile.TemporaryDirectory(prefix="kmeanskit-cold-") as tmp:
        cases = Cases(args, Path(tmp))
        cases.run_all()
    rows, reference, layer = cases.rows, cases.reference, cases.layer()
    gflops_after = sgemm_gflops()
    # Imported here, after the children ran, so that the header lists their BLAS libraries;
    # importing compiles nothing (the cold import cases check that: 0 kernels).
    import numba
    import sklearn.cluster  # noqa: F401

    import kmeanskit  # noqa: F401

    header = machine_header(gflops=gflops_before, loadavg=load_before)
    failures = [row for row in rows if not row.run.ok]
    lines = [
        "# kmeanskit: cold start (first contact)",
        "",
        f"Command: `{command}`",
        "",
        f"- numba {numba.__version__}; threading layer used by the fit children: "
        f"{layer or 'not reported'} (NUMBA_THREADING_LAYER config: "
        f"{numba.config.THREADING_LAYER!r}); NUMBA_NUM_THREADS = {numba.config.NUMBA_NUM_THREADS}",
        f"- Python executable: `{sys.executable}`",
        "",
        "Method: every case is a new process (`python -c CODE`, or the console script). "
        "*wall s*: `time.perf_counter()` around the process (interpreter start, imports, data, "
        "work). *CPU s*: the child's user + system time (`getrusage(RUSAGE_CHILDREN)` "
        "difference). Cold cases get an empty `NUMBA_CACHE_DIR`, so numba compiles what they "
        "run, as on a machine whose install has no kernels cached for its CPU (an editable or "
        "pure-Python install, or a wheel built on another CPU); Python's own bytecode and the "
        "OS file cache are warm. "
        f"X is `numpy.random.default_rng(0).normal(size=({N_ROWS}, d))`, made in the child "
        f"before the timed import; every fit is the library's default `KMeans({K}, "
        "random_state=0).fit(X)` (each library's own defaults: n_init, and kmeanskit's "
        "global search). *ratio*: wall seconds over scikit-learn's import + fit, for the cases "
        "that run the same thing. *compile notice*: the dtypes named by kmeanskit's "
        "`compiling kmeanskit's ... kernels` line on the child's standard error, against the "
        "dtypes whose kernels were not cached. *kernels compiled*: `.nbc` files the case added "
        "to numba's cache (one per function and signature).",
        "",
        header,
        f"GEMM after the run: {gflops_after:.1f} GFLOP/s (before: {gflops_before:.1f}). "
        f"Benchmark wall time: {time.perf_counter() - started:.0f} s.",
        "",
        *table(rows, reference),
        "",
    ]
    for row in failures:
        lines += [f"Failure of {row.case}:", "", "```", row.run.error, "```", ""]
    publish("\n".join(lines).rstrip() + "\n", args.out)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
