"""The command line never loses the user's data: outputs never replace inputs, are written
atomically with the usual file mode, optional extras are checked before any work, and
option mistakes are usage errors before the data is read."""

import os
import stat

import numpy as np
import pytest
from conftest import blobs

import kmeanskit
from kmeanskit import cli


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def last_error(capsys, *args):
    code, _, err = run(capsys, *args)
    return code, err.splitlines()[-1]


@pytest.fixture
def csv(tmp_path):
    X, _ = blobs(n=200, d=2, k=3)
    path = tmp_path / "data.csv"
    path.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in X.tolist()))
    return path


@pytest.fixture
def no_fit(monkeypatch):
    """Any fit is a failure of the test: the check must come first."""

    def fail(self, *args, **kwargs):
        raise AssertionError("the fit ran before the check")

    monkeypatch.setattr(kmeanskit.KMeans, "fit", fail)
    monkeypatch.setattr(kmeanskit.MiniBatchKMeans, "fit", fail)


def test_fewer_distinct_rows_than_k_warns_and_writes(capsys, tmp_path):
    """The built-in duplicates set with k=8: a start inertia of 0 once divided by zero."""
    data, model, labels = tmp_path / "d.csv", tmp_path / "m.json", tmp_path / "l.csv"
    assert run(capsys, "datasets", "duplicates", "-o", data)[0] == 0
    code, out, err = run(capsys, "fit", data, "-k", 8, "-o", model, "--labels", labels)
    assert code == 0, err
    assert err.startswith(f"warning: {data} has only 3 distinct rows, fewer than k=8")
    assert "error" not in err
    assert kmeanskit.load_model(model).n_clusters == 8
    assert len(labels.read_text().splitlines()) == 1001


# -- outputs never replace inputs ------------------------------------------------------


@pytest.mark.parametrize("option", ["-o", "--labels", "--plot"], ids=["model", "labels", "plot"])
def test_fit_refuses_to_write_over_its_data(capsys, tmp_path, csv, no_fit, option):
    before = csv.read_bytes()
    target = csv.with_suffix(".png") if option == "--plot" else csv
    if option == "--plot":
        os.link(csv, target)  # a hard link to the data, under a picture's name
    os.chdir(tmp_path)
    code, message = last_error(capsys, "fit", "data.csv", "-k", 3, option, f"./{target.name}")
    assert code == 2
    assert message.startswith(f"error: {option} ./{target.name} is the input data.csv")
    assert csv.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"data.csv", target.name})


def test_two_outputs_cannot_share_a_path(capsys, tmp_path, csv, no_fit):
    same = tmp_path / "same.out"
    code, message = last_error(capsys, "fit", csv, "-k", 3, "-o", same, "--labels", same)
    assert code == 2 and not same.exists()
    assert message.startswith(f"error: -o and --labels are both {same}")


def test_predict_and_choose_k_refuse_to_write_over_inputs(capsys, tmp_path, csv):
    model = tmp_path / "m.json"
    assert run(capsys, "fit", csv, "-k", 3, "-o", model, "-q")[0] == 0
    saved = model.read_bytes()
    assert last_error(capsys, "predict", model, csv, "--labels", model)[0] == 2
    assert last_error(capsys, "predict", model, csv, "--labels", csv)[0] == 2
    assert last_error(capsys, "choose-k", csv, "--k-range", "2..3", "--plot", model)[0] == 2
    assert model.read_bytes() == saved and csv.read_text().startswith("x1,x2\n")


def test_explore_export_refuses_to_write_over_its_data(capsys, csv):
    before = csv.read_bytes()
    assert last_error(capsys, "explore", csv, "--export", csv)[0] == 2
    assert csv.read_bytes() == before


# -- atomic outputs, usual mode ----------------------------------------------------------


def test_outputs_get_the_usual_mode(capsys, tmp_path, csv):
    old = os.umask(0o022)
    try:
        paths = [tmp_path / n for n in ("m.json", "l.csv", "p.png", "d.csv")]
        assert run(capsys, "fit", csv, "-k", 3, "-o", paths[0], "--labels", paths[1],
                   "--plot", paths[2], "-q")[0] == 0  # fmt: skip
        assert run(capsys, "datasets", "blobs", "-o", paths[3])[0] == 0
    finally:
        os.umask(old)
    assert [stat.S_IMODE(p.stat().st_mode) for p in paths] == [0o644] * 4


def test_a_failed_run_leaves_no_output_and_no_temporary_file(capsys, monkeypatch, tmp_path, csv):
    from kmeanskit import _plots

    def broken(fig, path):
        with open(path, "wb") as handle:
            handle.write(b"half a picture")
        raise KeyboardInterrupt

    monkeypatch.setattr(_plots, "save", broken)
    old_model = tmp_path / "m.json"
    old_model.write_text("the model of yesterday")
    code, _, err = run(capsys, "fit", csv, "-k", 3, "-o", old_model,
                       "--labels", tmp_path / "l.csv", "--plot", tmp_path / "p.png")  # fmt: skip
    assert code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "m.json"]
    assert old_model.read_text() == "the model of yesterday"


def test_save_model_writes_the_usual_mode(tmp_path):
    model = kmeanskit.KMeans(2, random_state=0).fit(np.arange(20.0).reshape(10, 2))
    old = os.umask(0o027)
    try:
        kmeanskit.save_model(model, tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


# -- extras and picture formats checked first ---------------------------------------------


def test_missing_plot_extra_is_found_before_reading(capsys, hide_module, tmp_path):
    hide_module("matplotlib")
    # The data file does not exist: a check after reading would say so instead.
    for command in (["fit", "-k", 2], ["choose-k"]):
        code, message = last_error(capsys, command[0], tmp_path / "nothing.csv", *command[1:],
                                   "--plot", tmp_path / "p.png")  # fmt: skip
        assert (code, message) == (
            2,
            "error: matplotlib is not installed; it comes with the 'plot' extra: "
            'pip install "kmeanskit[plot]"',
        )


def test_missing_parquet_extra_is_found_before_reading(capsys, hide_module, tmp_path):
    hide_module("pyarrow")
    code, message = last_error(capsys, "fit", tmp_path / "nothing.csv", "-k", 2,
                               "--labels", tmp_path / "l.parquet")  # fmt: skip
    assert code == 2 and message.startswith("error: pyarrow is not installed")


@pytest.mark.parametrize(
    "suffix, magic", [(".pdf", b"%PDF"), (".svg", b"<?xml"), (".PNG", b"\x89PNG")]
)
def test_plot_format_follows_the_suffix(capsys, tmp_path, csv, suffix, magic):
    pytest.importorskip("matplotlib")
    picture = tmp_path / f"p{suffix}"
    assert run(capsys, "fit", csv, "-k", 3, "--plot", picture, "-q")[0] == 0
    assert picture.read_bytes()[:5].startswith(magic)


@pytest.mark.parametrize("name", ["p.jpg", "p"])
def test_unknown_picture_suffix_is_a_usage_error(capsys, tmp_path, csv, no_fit, name):
    code, message = last_error(capsys, "fit", csv, "-k", 3, "--plot", tmp_path / name)
    assert code == 2
    assert "--plot" in message and ".png, .pdf or .svg" in message
    assert not (tmp_path / name).exists()


# -- mini-batch options ------------------------------------------------------------------


def test_batch_size_needs_mini_batch(capsys, csv, no_fit):
    code, message = last_error(capsys, "fit", csv, "-k", 3, "--batch-size", 64)
    assert code == 2
    assert "--batch-size" in message and "add --mini-batch" in message


def test_mini_batch_accepts_the_default_search_spelled_out(capsys, csv):
    code, _, err = run(capsys, "fit", csv, "-k", 3, "--mini-batch", "--search", "auto",
                       "--search-size", "auto", "-q")  # fmt: skip
    assert code == 0, err
    assert last_error(capsys, "fit", csv, "-k", 3, "--mini-batch", "--search", "breathe")[0] == 2


# -- unknown column on a wide file -------------------------------------------------------


def test_unknown_column_of_a_wide_file_is_one_short_line(capsys, tmp_path):
    names = [f"feature_{j}" for j in range(2000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    code, message = last_error(capsys, "fit", path, "-k", 1, "--drop", "feature_1999x")
    assert code == 2 and len(message) < 400
    assert "feature_0, feature_1" in message and "and 1990 more" in message
    assert "did you mean 'feature_1999'" in message
