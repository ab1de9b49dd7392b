"""First contact: ``import kmeanskit`` and ``kmeanskit --help`` load none of the heavy
dependencies, and the command line says so when the kernels compile, once.

The import checks run in fresh interpreters: this process has imported everything.
"""

import json
import logging
import re
import subprocess
import sys

import pytest
from tqdm import tqdm

import kmeanskit
from kmeanskit import cli

HEAVY = ("numba", "sklearn", "scipy", "matplotlib", "dask", "pyarrow")
LINE = "compiling kmeanskit's float64 kernels for this machine, once (about 10 s)..."


def python(code):
    """Run ``code`` in a fresh interpreter; return what it printed as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_help_and_usage_errors_import_nothing_heavy():
    loaded = python(
        f"""
import contextlib, io, json, sys
from kmeanskit import cli
runs = [["--help"], ["--version"], ["fit"]]
runs += [[name, "--help"] for name in sorted(cli.cli.commands)]
codes = {{}}
for args in runs:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes[" ".join(args)] = cli.main(args)
heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps({{"codes": codes, "heavy": heavy}}))
"""
    )
    commands = {"fit", "predict", "evaluate", "choose-k", "explore", "demo", "datasets", "info"}
    assert commands <= {args.split()[0] for args in loaded["codes"]}
    assert loaded["codes"].pop("fit") == cli.USAGE_ERROR  # missing DATA and -k
    assert set(loaded["codes"].values()) == {0}
    assert loaded["heavy"] == []


def test_import_kmeanskit_is_lazy_and_every_public_name_resolves():
    seen = python(
        f"""
import json, sys
import kmeanskit
heavy = sorted(m for m in {HEAVY!r} + ("numpy",) if m in sys.modules)
namespace = {{}}
exec("from kmeanskit import *", namespace)
names = {{name: getattr(value, "__module__", getattr(value, "__name__", None))
         for name, value in namespace.items() if name != "__builtins__"}}
print(json.dumps({{"heavy": heavy, "dir": dir(kmeanskit), "names": names,
                  "KMeans": kmeanskit.KMeans.__module__ + "." + kmeanskit.KMeans.__name__}}))
"""
    )
    assert seen["heavy"] == []
    assert seen["KMeans"] == "kmeanskit._estimator.KMeans"
    assert set(kmeanskit.__all__) <= set(seen["dir"])
    assert set(seen["names"]) == set(kmeanskit.__all__)
    assert seen["names"]["metrics"] == "kmeanskit.metrics"  # the submodule itself
    assert seen["names"]["precompile"] == seen["names"]["kernels_ready"] == "kmeanskit._warmup"


def test_lazy_names_are_the_real_objects():
    from kmeanskit import metrics
    from kmeanskit._estimator import KMeans
    from kmeanskit._warmup import kernels_ready, precompile

    assert kmeanskit.KMeans is KMeans and kmeanskit.metrics is metrics
    assert kmeanskit.precompile is precompile and kmeanskit.kernels_ready is kernels_ready
    with pytest.raises(AttributeError, match="no attribute 'KMean'"):
        kmeanskit.KMean  # noqa: B018


def test_compile_note_is_printed_once_with_the_note_prefix(capsys):
    logger = logging.getLogger("kmeanskit")
    before = (logger.propagate, list(logger.handlers))
    embedding = logging.StreamHandler(sys.stderr)  # a program's own root handler
    logging.getLogger().addHandler(embedding)
    try:
        with cli._library_notes({}):
            logger.warning(LINE)
    finally:
        logging.getLogger().removeHandler(embedding)
    assert capsys.readouterr().err == f"note: {LINE}\n"
    assert (logger.propagate, logger.handlers) == before  # left as it was found


def test_compile_note_is_printed_above_a_progress_bar(capsys):
    with cli._library_notes({}):
        bar = tqdm(total=3, desc="restarts", file=sys.stderr)
        with cli._notes_above_bars(True):
            logging.getLogger("kmeanskit").warning(LINE)
        bar.close()
    # On a line of its own, not glued to the end of the bar's.
    assert re.split(r"[\r\n]", capsys.readouterr().err).count(f"note: {LINE}") == 1


@pytest.mark.parametrize("quiet", [False, True])
def test_commands_show_the_note_and_quiet_silences_it(capsys, monkeypatch, quiet):
    def compiling(path):  # what a cold cache makes the library log, then a data error
        logging.getLogger("kmeanskit").warning(LINE)
        raise ValueError(f"{path}: stop here")

    monkeypatch.setattr(cli, "_read_model", compiling)
    code = cli.main(["predict", "m.json", "d.csv", *(["-q"] if quiet else [])])
    err = capsys.readouterr().err
    assert code == cli.DATA_ERROR
    assert err == ("" if quiet else f"note: {LINE}\n") + "error: m.json: stop here\n"


def test_demo_says_it_compiles_after_the_data_line_before_the_fit():
    # The kernels are taken for not cached, so that the library announces a compile
    # (they are compiled, or compile, all the same: the line is what is tested).
    code = """
import sys
import kmeanskit._kernels.cache as cache
from kmeanskit import cli
cache.cached_for = lambda dtype: False
sys.exit(cli.main(["demo", "-n", "500", "-d", "2", "-k", "3"]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    note = "note: compiling kmeanskit's float32 kernels for this machine, once (about "
    assert lines[0].startswith("data      500 x 2 float32")
    assert lines[1].startswith(note) and lines[1].endswith(" s)...")
    assert lines[2] == "k         3"
    assert sum(line.startswith(note) for line in lines) == 1
