"""The command line as a real process: stdin/stdout piping and exit codes."""

import json
import subprocess
import sys

import numpy as np

COMMAND = [sys.executable, "-m", "kmeanskit"]


def kmeanskit(*args, stdin=None, cwd=None):
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_pipe_datasets_into_fit_then_predict_from_stdin(tmp_path):
    data = kmeanskit("datasets", "blobs", "-n", 300, "-k", 3, "--seed", 4)
    assert data.returncode == 0 and data.stderr == ""
    fit = kmeanskit(
        "fit",
        "-",
        "-k",
        3,
        "--drop",
        "label",
        "--labels",
        "-",
        "-o",
        "m.json",
        stdin=data.stdout,
        cwd=tmp_path,
    )
    assert fit.returncode == 0
    assert fit.stderr.splitlines()[0] == "data      <stdin>: 300 rows x 2 columns (x1, x2)"
    labels = fit.stdout.splitlines()
    assert labels[0] == "row,label" and len(labels) == 301
    predict = kmeanskit("predict", "m.json", "-", stdin=data.stdout, cwd=tmp_path)
    assert predict.returncode == 0 and predict.stdout == fit.stdout
    truth = np.array([int(line.rsplit(",", 1)[1]) for line in data.stdout.splitlines()[1:]])
    found = np.array([int(line.split(",")[1]) for line in labels[1:]])
    # Three separated blobs: the labels are the truth, renamed.
    assert len({(a, b) for a, b in zip(truth, found, strict=True)}) == 3


def test_data_error_exit_code_and_one_line(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3\n")
    result = kmeanskit("fit", "d.csv", "-k", 1, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "error: d.csv, line 3: 1 fields, but the header at line 1 has 2; fix the row "
        "(a stray or missing delimiter?)\n"
    )


def test_usage_error_exit_code(tmp_path):
    result = kmeanskit("fit", "-", "-k", "many", stdin="", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "error: invalid value for '-k' / '--n-clusters': 'many' is not a valid integer range "
        "(see 'kmeanskit fit --help')\n"
    )


def test_evaluate_json_on_stdout(tmp_path):
    data = kmeanskit("datasets", "moons", "-n", 200)
    (tmp_path / "moons.csv").write_text(data.stdout)
    fit = kmeanskit(
        "fit", "moons.csv", "-k", 2, "--drop", "label", "-o", "m.json", "-q", cwd=tmp_path
    )
    assert (fit.returncode, fit.stdout, fit.stderr) == (0, "", "")
    result = kmeanskit(
        "evaluate", "moons.csv", "--model", "m.json", "--truth", "label", "--json", cwd=tmp_path
    )
    assert result.returncode == 0 and result.stderr == ""
    scores = json.loads(result.stdout)
    assert scores["rows"] == 200 and scores["k"] == 2
    assert 0.0 < scores["ari"] < 1.0  # K-means cannot separate the moons
