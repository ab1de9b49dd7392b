"""The command line, in process: every command, every error message and its exit code."""

import io
import json
import sys

import numpy as np
import pytest
from conftest import blobs

import kmeanskit
from kmeanskit import cli
from kmeanskit import io as kio


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path, X, y=None):
    header = "id," + ",".join(f"x{j + 1}" for j in range(X.shape[1])) + ",label"
    lines = [header] + [
        f"r{i}," + ",".join(repr(v) for v in row) + f",{0 if y is None else y[i]}"
        for i, row in enumerate(X.tolist())
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def data(tmp_path):
    X, y = blobs(n=300, d=2, k=4)
    return write_csv(tmp_path / "data.csv", X, y), X, y


def read_labels(path):
    rows = path.read_text().splitlines()
    assert rows[0] == "row,label"
    return np.array([int(r.split(",")[1]) for r in rows[1:]])


def test_fit_save_load_predict_round_trip(capsys, tmp_path, data):
    csv, X, _ = data
    model, fitted, predicted = tmp_path / "m.json", tmp_path / "fit.csv", tmp_path / "pred.csv"
    code, out, err = run(capsys, "fit", csv, "-k", 4, "--drop", "id,label", "-o", model,
                         "--labels", fitted, "-q")  # fmt: skip
    assert (code, out, err) == (0, "", "")
    labels = read_labels(fitted)
    np.testing.assert_array_equal(labels, kmeanskit.KMeans(4, random_state=0).fit(X).labels_)
    # predict matches the model's columns by name: id and label are not features.
    assert run(capsys, "predict", model, csv, "--labels", predicted)[0] == 0
    np.testing.assert_array_equal(read_labels(predicted), labels)
    with pytest.warns(UserWarning, match="fitted with feature names"):  # sklearn's behaviour
        np.testing.assert_array_equal(kmeanskit.load_model(model).predict(X), labels)
    code, out, _ = run(capsys, "predict", model, csv)
    assert code == 0 and out == fitted.read_text()


def test_fit_summary_json_and_verbose(capsys, data):
    csv, X, _ = data
    code, out, err = run(capsys, "fit", csv, "-k", 4, "--drop", "id", "--drop", "label", "--json")
    assert code == 0
    summary = json.loads(out)
    model = kmeanskit.KMeans(4, random_state=0).fit(X)
    assert summary["columns"] == ["x1", "x2"] and summary["rows"] == 300
    assert summary["inertia"] == model.inertia_ and summary["n_iter"] == model.n_iter_
    assert summary["centers"] == model.cluster_centers_.tolist()
    keys = [line.split()[0] for line in err.splitlines()]
    assert keys == ["data", "k", "iters", "stopped", "inertia", "search", "time"]
    assert summary["search_cycles"] == len(model.history_.search) > 0
    assert err.splitlines()[0] == f"data      {csv}: 300 rows x 2 columns (x1, x2)"
    code, out, err = run(capsys, "fit", csv, "-k", 4, "--columns", "x1,x2", "-v", "--n-init", 2)
    assert code == 0 and out == ""
    assert "Initialization complete (restart 1" in err and "Iteration 1, inertia" in err
    assert "(kept)" in err


def test_search_size_runs_the_search_on_a_sample(capsys, data):
    csv, X, _ = data
    code, out, err = run(capsys, "fit", csv, "-k", 4, "--columns", "x1,x2", "--search-size",
                         120, "--json")  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    model = kmeanskit.KMeans(4, random_state=0, search_size=120).fit(X)
    assert summary["search_size"] == 120 and summary["inertia"] == model.inertia_
    assert "on a sample of 120 rows" in err and "then Lloyd on every row" in err
    code, out, _ = run(capsys, "fit", csv, "-k", 4, "--columns", "x1,x2", "--search-size", "all",
                       "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["search_size"] == 300
    code, _, err = run(capsys, "fit", csv, "-k", 4, "--search-size", "many")
    assert code == 2 and "'many' is not auto, all or a number of rows" in err
    code, _, err = run(capsys, "fit", csv, "-k", 4, "--columns", "x1,x2", "--mini-batch",
                       "--search-size", 100)  # fmt: skip
    assert code == 2 and "--search-size is the global search's" in err


def test_scale_standard(capsys, tmp_path):
    X, _ = blobs(n=200, d=2, k=3)
    X[:, 1] *= 1000.0
    csv = write_csv(tmp_path / "d.csv", X)
    model = tmp_path / "m.json"
    assert run(capsys, "fit", csv, "-k", 3, "--drop", "id,label", "--scale", "standard",
               "-o", model, "--labels", tmp_path / "l.csv")[0] == 0  # fmt: skip
    doc = json.loads(model.read_text())
    np.testing.assert_allclose(doc["scaling"]["scale"], X.std(axis=0))
    scaled = (X - X.mean(axis=0)) / X.std(axis=0)
    expected = kmeanskit.KMeans(3, random_state=0).fit(scaled).labels_
    np.testing.assert_array_equal(read_labels(tmp_path / "l.csv"), expected)
    assert run(capsys, "predict", model, csv, "--labels", tmp_path / "p.csv")[0] == 0
    np.testing.assert_array_equal(read_labels(tmp_path / "p.csv"), expected)


def test_stdin_and_stdout(capsys, monkeypatch, data):
    csv, X, _ = data
    stdin = io.TextIOWrapper(io.BytesIO(csv.read_bytes()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "fit", "-", "-k", 4, "--drop", "id,label", "--labels", "-")
    assert code == 0
    labels = np.array([int(r.split(",")[1]) for r in out.splitlines()[1:]])
    np.testing.assert_array_equal(labels, kmeanskit.KMeans(4, random_state=0).fit(X).labels_)


def error_of(capsys, *args):
    code, out, err = run(capsys, *args)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return code, lines[0][len("error: ") :]


@pytest.mark.parametrize(
    "text, args, code, message",
    [
        ("a,b\n1,2\n3,4,5\n", [], 1, "{f}, line 3: 3 fields, but the header at line 1 has 2; "
         "fix the row (a stray or missing delimiter?)"),
        ("a,b\n1,2\n3,x\n", [], 1, "{f}, line 3, column 'b': 'x' is not a number; if this "
         "column is not a feature, leave it out with --drop b"),
        ("a,b\n1,2\n3,\n", [], 1, "{f}, line 3, column 'b': an empty or NaN cell; skip such "
         "rows with --drop-missing, or fill them in"),
        ("a,b\n1,2\nnan,4\n", [], 1, "{f}, line 3, column 'a': an empty or NaN cell; skip such "
         "rows with --drop-missing, or fill them in"),
        ("", [], 1, "{f} is empty: there are no rows to read"),
        ("a,b\n", [], 1, "{f} has a header but no data rows"),
        ("a,b\n1,2\n3,4\n", ["-k", 5], 1, "{f} has 2 rows, fewer than k=5: lower -k"),
        ("a,b\n1,2\n3,4\n", ["--drop", "c"], 2, "{f} has no column 'c'; its columns are: a, b"),
        ("a,b\n1,2\n3,4\n", ["--drop", "a", "--columns", "b"], 2,
         "--columns and --drop cannot be used together (see 'kmeanskit fit --help')"),
        ("a,b\n1,2\n3,4\n", ["-k", 0], 2, "invalid value for '-k' / '--n-clusters': 0 is not "
         "in the range x>=1 (see 'kmeanskit fit --help')"),
        ("a,b\n1,2\n3,4\n", ["--json", "--labels", "-"], 2, "--json and --labels - both write "
         "to standard output (see 'kmeanskit fit --help')"),
        ("a,b\n1,2\n3,4\n", ["-q", "-v"], 2,
         "-q and -v cannot be used together (see 'kmeanskit fit --help')"),
    ],
)  # fmt: skip
def test_fit_errors(capsys, tmp_path, text, args, code, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    k = [] if "-k" in args else ["-k", 2]
    assert error_of(capsys, "fit", path, *k, *args) == (code, message.format(f=path))


def test_missing_file_and_unknown_command(capsys, tmp_path):
    assert error_of(capsys, "fit", tmp_path / "no.csv", "-k", 2) == (
        1,
        f"{tmp_path / 'no.csv'}: no such file",
    )
    assert error_of(capsys, "frobnicate") == (
        2,
        "no such command 'frobnicate' (see 'kmeanskit --help')",
    )


def test_drop_missing_reports_skipped_rows(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n0,0\n1,\n0,1\n9,9\nNaN,8\n9,8\n")
    code, out, err = run(capsys, "fit", path, "-k", 2, "--drop-missing", "--labels", "-")
    assert code == 0
    assert err.splitlines()[0] == (
        "note: skipped 2 of 6 rows with an empty, NaN or infinite cell (the first at line 3)"
    )
    assert out.splitlines() == ["row,label", "0,0", "2,0", "3,1", "5,1"]


def test_fewer_distinct_rows_than_k_warns(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n1\n2\n2\n")
    code, out, err = run(capsys, "fit", path, "-k", 3, "-q")
    assert code == 0
    assert err.splitlines() == [
        f"warning: {path} has only 2 distinct rows, fewer than k=3: some clusters will be "
        "duplicates"
    ]


def test_strict_convergence(capsys, tmp_path, data):
    csv = data[0]
    model = tmp_path / "m.json"
    args = ["fit", csv, "-k", 4, "--drop", "id,label", "--max-iter", 1, "--tol", 0, "-o", model]
    code, out, err = run(capsys, *args, "--strict", "--init", "random")
    assert code == 3 and out == "" and not model.exists()
    assert err.splitlines()[-1] == (
        "error: did not converge: stopped at --max-iter 1 (raise --max-iter or --tol); "
        "nothing written"
    )
    assert err.splitlines()[0].startswith("warning: KMeans stopped at max_iter=1")
    code, _, err = run(capsys, *args, "--init", "random")
    assert code == 0 and model.exists() and "stopped   max_iter (converged: False)" in err


def test_interrupted(capsys, monkeypatch, data):
    def interrupt(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kmeanskit.KMeans, "fit", interrupt)
    code, _, err = run(capsys, "fit", data[0], "-k", 2, "--drop", "id,label")
    assert code == 130 and err.splitlines()[-1] == "error: interrupted"


def test_unexpected_error_and_debug(capsys, monkeypatch, data):
    def boom(self, *args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(kmeanskit.KMeans, "fit", boom)
    args = ["fit", data[0], "-k", 2, "--drop", "id,label"]
    assert error_of(capsys, *args) == (
        4,
        "unexpected RuntimeError: kaput (this is a bug: run again as 'kmeanskit --debug ...' "
        "for the traceback and report it)",
    )
    code, _, err = run(capsys, "--debug", *args)
    assert code == 4
    assert err.startswith("Traceback (most recent call last):") and "in boom" in err


def test_missing_plot_extra(capsys, hide_module, tmp_path, data):
    hide_module("matplotlib")
    assert error_of(
        capsys, "fit", data[0], "-k", 2, "--drop", "id,label", "--plot", tmp_path / "p.png"
    ) == (  # fmt: skip
        2,
        "matplotlib is not installed; it comes with the 'plot' extra: "
        'pip install "kmeanskit[plot]"',
    )


def test_fit_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    X, y = blobs(n=300, d=5, k=3)
    csv = write_csv(tmp_path / "d.csv", X, y)
    assert run(capsys, "fit", csv, "-k", 3, "--drop", "id,label", "--plot", tmp_path / "f.png",
               "-q")[0] == 0  # fmt: skip
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_errors(capsys, tmp_path, data):
    csv = data[0]
    model = tmp_path / "m.json"
    assert run(capsys, "fit", csv, "-k", 3, "--drop", "id,label", "-o", model, "-q")[0] == 0
    narrow = tmp_path / "n.csv"
    narrow.write_text("1\n2\n3\n")
    assert error_of(capsys, "predict", model, narrow) == (
        1,
        f"{narrow} has 1 feature columns, but the model was fitted on 2 (x1, x2): choose them "
        "with --columns or --drop",
    )
    other = tmp_path / "o.csv"
    other.write_text("x1,z\n1,2\n")
    assert error_of(capsys, "predict", model, other) == (
        2,
        f"{other} has no column 'x2', which the model was fitted on (model columns: x1, x2)",
    )
    text = model.read_text()
    model.write_text(text[: len(text) // 3])
    code, message = error_of(capsys, "predict", model, csv)
    assert code == 1 and message.startswith(f"{model}: truncated JSON at line")
    assert error_of(capsys, "predict", tmp_path / "none.json", csv) == (
        1,
        f"{tmp_path / 'none.json'}: no such model file",
    )


def test_evaluate(capsys, tmp_path, data):
    csv, X, y = data
    model, labels = tmp_path / "m.json", tmp_path / "l.csv"
    run(capsys, "fit", csv, "-k", 4, "--drop", "id,label", "-o", model, "--labels", labels, "-q")
    code, out, err = run(capsys, "evaluate", csv, "--model", model, "--truth", "label")
    assert code == 0 and err == ""
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert list(rows) == ["data", "model", "inertia", "silhouette", "calinski_harabasz",
                          "davies_bouldin", "ari", "nmi", "centroid_index"]  # fmt: skip
    fitted = kmeanskit.KMeans(4, random_state=0).fit(X)
    assert float(rows["inertia"]) == pytest.approx(fitted.inertia_, rel=1e-5)
    assert rows["silhouette"].endswith("(exact)")
    code, out, _ = run(capsys, "evaluate", csv, "--model", model, "--truth", labels, "--json")
    scores = json.loads(out)
    assert code == 0 and scores["ari"] == 1.0 and scores["centroid_index"] == 0
    assert scores["silhouette"] == pytest.approx(kmeanskit.metrics.silhouette(X, fitted.labels_))
    assert error_of(capsys, "evaluate", csv, "--model", model, "--truth", "species") == (
        2,
        f"{csv} has no column 'species'; its columns are: id, x1, x2, label",
    )


def test_choose_k(capsys, tmp_path, data):
    csv = data[0]
    code, out, _ = run(capsys, "choose-k", csv, "--drop", "id,label", "--k-range", "2..6",
                       "--seeds", 3, "--refs", 2, "--plot", tmp_path / "k.png")  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["k", "inertia", "silhouette", "gap", "gap_sd", "stability"]
    assert [line.split()[0] for line in lines[1:6]] == ["2", "3", "4", "5", "6"]
    assert lines[-1].startswith("recommended k=4: ")
    assert (tmp_path / "k.png").exists()
    code, out, _ = run(capsys, "choose-k", csv, "--drop", "id,label", "--k-range", "3,4",
                       "--seeds", 2, "--refs", 1, "--json")  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["k_values"] == [3, 4] and doc["k"] == 4
    assert error_of(capsys, "choose-k", csv, "--k-range", "2-x") == (
        2,
        "invalid value for '--k-range': '2-x': write A..B (e.g. 2..20) or a list (2,4,8) "
        "(see 'kmeanskit choose-k --help')",
    )
    assert error_of(capsys, "choose-k", csv, "--drop", "id,label", "--k-range", "2..301") == (
        1,
        f"{csv} has 300 rows, fewer than k=301: lower the --k-range",
    )


def test_datasets(capsys, tmp_path):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == sorted(kmeanskit.datasets.GENERATORS)
    path = tmp_path / "u.csv"
    assert run(capsys, "datasets", "uneven", "-n", 200, "-d", 3, "-k", 4, "-o", path)[0] == 0
    table = kio.read_table(str(path), label_column="label")
    X, y = kmeanskit.datasets.make_uneven(200, 3, 4, random_state=0)
    assert table.columns == ["x1", "x2", "x3"]
    np.testing.assert_allclose(table.X, X, rtol=1e-9)
    assert table.labels.tolist() == [str(v) for v in y]
    code, out, _ = run(capsys, "datasets", "rings", "-n", 30, "-k", 2, "--no-labels")
    assert code == 0 and out.splitlines()[0] == "x1,x2" and len(out.splitlines()) == 31
    assert error_of(capsys, "datasets", "moons", "-d", 3) == (
        2,
        "-d/--n-features does not apply to moons (see 'kmeanskit datasets --help')",
    )


def test_info_version_and_demo(capsys):
    code, out, _ = run(capsys, "info", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["kmeanskit"] == kmeanskit.__version__
    assert {"numpy", "numba", "scikit-learn", "cores", "numba_threads", "blas"} <= set(doc)
    from kmeanskit._kernels.gemm import provider

    assert doc["kernel_gemm"] == provider()
    assert run(capsys, "--version") == (0, f"kmeanskit, version {kmeanskit.__version__}\n", "")
    code, out, _ = run(capsys, "demo", "-n", 500, "-d", 2, "-k", 3)
    assert code == 0
    keys = [line.split()[0] for line in out.splitlines()]
    assert [key for key in keys if key != "search"] == [
        "data", "k", "iters", "stopped", "inertia", "clusters", "time"
    ]  # fmt: skip
    assert "clusters  0 of the 3 true clusters missed" in out
    assert out.startswith("data      500 x 2 float32 Gaussian blobs (seed 0)\nk         3\n")


def test_restart_progress_bar(capsys, monkeypatch, data):
    monkeypatch.setattr(cli, "_show_progress", lambda quiet: not quiet)
    code, out, err = run(capsys, "fit", data[0], "-k", 4, "--drop", "id,label", "--n-init", 3)
    assert code == 0 and out == ""
    assert "restarts: 100%" in err and "3/3" in err
    assert "Initialization complete" not in err  # the verbose lines only feed the bar
