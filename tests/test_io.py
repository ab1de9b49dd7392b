"""The reading layer: formats, sniffing, header, BOM, and errors with file, line, column."""

import io
import sys

import numpy as np
import pytest

from kmeanskit import io as kio


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_sniffed_and_header_detected(tmp_path, delim):
    text = delim.join(["a", "b", "c"]) + "\n"
    text += "\n".join(delim.join(str(3 * i + j + 0.5) for j in range(3)) for i in range(4)) + "\n"
    table = kio.read_table(write(tmp_path, "d.txt", text))
    assert table.columns == ["a", "b", "c"]
    np.testing.assert_array_equal(table.X, np.arange(12).reshape(4, 3) + 0.5)
    assert table.X.flags.c_contiguous and table.X.dtype == np.float64


def test_no_header_and_bom(tmp_path):
    table = kio.read_table(write(tmp_path, "d.csv", "\ufeff1,2\n3,4\n"))
    assert table.columns is None
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4]])
    named = kio.read_table(write(tmp_path, "e.csv", "\ufeffx,y\n1,2\n"))
    assert named.columns == ["x", "y"]


def test_text_column_in_first_row_is_not_a_header(tmp_path):
    path = write(tmp_path, "d.csv", "1,2,setosa\n3,4,virginica\n")
    with pytest.raises(kio.DataError, match=r"line 1, column 'column 3': 'setosa'"):
        kio.read_table(path)
    table = kio.read_table(path, drop=["3"])
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4]])


def test_exact_floats_and_blank_lines(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * 10.0 ** rng.integers(-8, 8, size=(50, 3))
    text = (
        "p,q,r\n"
        + "\n".join(
            ",".join(repr(v) for v in row) + ("\n" if i % 7 == 0 else "")
            for i, row in enumerate(X.tolist())
        )
        + "\n\n"
    )
    table = kio.read_table(write(tmp_path, "d.csv", text))
    np.testing.assert_array_equal(table.X, X)  # repr round trip: bit for bit
    np.testing.assert_array_equal(table.row_ids, np.arange(50))


def test_ragged_row_names_the_line(tmp_path):
    path = write(tmp_path, "d.csv", "a,b\n1,2\n3,4\n5,6,7\n")
    with pytest.raises(kio.DataError, match=r"d.csv, line 4: 3 fields, but the header at line 1"):
        kio.read_table(path)


def test_non_numeric_cell_says_which_column_to_drop(tmp_path):
    path = write(tmp_path, "d.csv", "id,x\n1,2\n2,abc\n")
    with pytest.raises(kio.DataError) as err:
        kio.read_table(path)
    assert str(err.value) == (
        f"{path}, line 3, column 'x': 'abc' is not a number; if this column is not a "
        "feature, leave it out with --drop x"
    )


@pytest.mark.parametrize("cell", ["", "NaN", "NA", "null"])
def test_missing_cell_suggests_drop_missing(tmp_path, cell):
    path = write(tmp_path, "d.csv", f"x,y\n1,2\n3,{cell}\n5,6\n")
    with pytest.raises(
        kio.DataError, match=r"line 3, column 'y': an empty or NaN cell.*--drop-missing"
    ):
        kio.read_table(path)
    table = kio.read_table(path, drop_missing=True)
    np.testing.assert_array_equal(table.X, [[1, 2], [5, 6]])
    np.testing.assert_array_equal(table.row_ids, [0, 2])
    assert (table.n_skipped, table.first_skipped, table.n_source_rows) == (1, "line 3", 3)


def test_infinite_value(tmp_path):
    path = write(tmp_path, "d.csv", "x\n1\ninf\n")
    with pytest.raises(kio.DataError, match=r"line 3, column 'x': an infinite value"):
        kio.read_table(path)


def test_errors_in_later_blocks_have_exact_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(kio, "BLOCK_ROWS", 4)
    rows = [f"{i},{i}" for i in range(20)]
    rows[13] = "13,oops"
    path = write(tmp_path, "d.csv", "a,b\n" + "\n".join(rows[:6]) + "\n\n" + "\n".join(rows[6:]))
    with pytest.raises(kio.DataError, match=r"line 16, column 'b': 'oops'"):
        kio.read_table(path)
    rows[13] = "13,"
    path = write(tmp_path, "e.csv", "a,b\n" + "\n".join(rows))
    table = kio.read_table(path, drop_missing=True)
    assert table.first_skipped == "line 15" and table.X.shape == (19, 2)
    np.testing.assert_array_equal(table.X[:, 0], [i for i in range(20) if i != 13])


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(kio.DataError, match="is empty: there are no rows to read"):
        kio.read_table(write(tmp_path, "d.csv", text))


def test_header_only(tmp_path):
    with pytest.raises(kio.DataError, match="has a header but no data rows"):
        kio.read_table(write(tmp_path, "d.csv", "a,b\n"))


def test_not_utf8(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("x\n1\n\xe9\n".encode("latin-1"))
    with pytest.raises(kio.DataError, match="not UTF-8 text"):
        kio.read_table(str(path))


def test_columns_drop_match_and_label(tmp_path):
    path = write(tmp_path, "d.csv", "id,x,y,kind\n7,1,2,a\n8,3,4,b\n")
    assert kio.read_table(path, columns=["y", "2"]).columns == ["y", "x"]
    table = kio.read_table(path, drop=["id"], label_column="kind")
    assert table.columns == ["x", "y"]
    assert table.labels.tolist() == ["a", "b"]
    matched = kio.read_table(path, match_columns=["y", "x"], label_column="kind")
    np.testing.assert_array_equal(matched.X, [[2, 1], [4, 3]])
    with pytest.raises(kio.ColumnError, match="has no column 'z'; its columns are: id, x, y, kind"):
        kio.read_table(path, drop=["z"])
    with pytest.raises(kio.ColumnError, match="no column 'w', which the model was fitted on"):
        kio.read_table(path, match_columns=["x", "w"])


def test_stdin_with_bom(monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO("\ufeffa;b\n1;2\n3;4\n".encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stream)
    table = kio.read_table("-")
    assert table.source == "<stdin>" and table.columns == ["a", "b"]
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4]])
    assert not stream.buffer.closed  # standard input is left open


def test_quoted_multiline_field(tmp_path):
    path = write(tmp_path, "d.csv", 'note,x\n"two\nlines",1\nplain,2\n')
    table = kio.read_table(path, drop=["note"])
    np.testing.assert_array_equal(table.X, [[1], [2]])


def test_npy(tmp_path):
    X = np.arange(12, dtype=np.int32).reshape(6, 2)
    np.save(tmp_path / "a.npy", X)
    table = kio.read_table(str(tmp_path / "a.npy"), columns=["2"])
    np.testing.assert_array_equal(table.X, X[:, [1]])
    np.save(tmp_path / "v.npy", np.arange(3.0))
    assert kio.read_table(str(tmp_path / "v.npy")).X.shape == (3, 1)
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(kio.DataError, match="not a plain numeric .npy array"):
        kio.read_table(str(tmp_path / "o.npy"))
    np.save(tmp_path / "c.npy", np.zeros((2, 2, 2)))
    with pytest.raises(kio.DataError, match=r"shape \(2, 2, 2\); it must be 2-D"):
        kio.read_table(str(tmp_path / "c.npy"))
    np.save(tmp_path / "n.npy", np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(kio.DataError, match="row 1, column 'column 2'"):
        kio.read_table(str(tmp_path / "n.npy"))


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"x": [1.0, 2.0, None], "n": [1, 2, 3], "s": ["a", "b", "c"]})
    pq.write_table(table, tmp_path / "d.parquet")
    path = str(tmp_path / "d.parquet")
    with pytest.raises(kio.DataError, match=r"column 's': holds string values.*--drop s"):
        kio.read_table(path)
    with pytest.raises(kio.DataError, match=r"row 3, column 'x': an empty or NaN cell"):
        kio.read_table(path, drop=["s"])
    got = kio.read_table(path, drop=["s"], drop_missing=True)
    assert got.columns == ["x", "n"]
    np.testing.assert_array_equal(got.X, [[1, 1], [2, 2]])


def test_missing_extra_names_it(hide_module):
    hide_module("pyarrow")
    with pytest.raises(ImportError, match=r'pip install "kmeanskit\[parquet\]"'):
        kio.require("pyarrow.parquet", "parquet")


def test_count_distinct_rows():
    X = np.repeat(np.arange(3.0)[:, None], 10, axis=0)
    assert kio.count_distinct_rows(X, stop_at=5) == 3
    assert kio.count_distinct_rows(np.arange(100.0)[:, None], stop_at=5) >= 5


def test_write_and_read_labels(tmp_path, capsys):
    kio.write_labels(tmp_path / "l.csv", np.array([2, 0, 1]), np.array([0, 5, 9]))
    assert (tmp_path / "l.csv").read_text() == "row,label\n0,2\n5,0\n9,1\n"
    rows, labels = kio.read_labels(tmp_path / "l.csv")
    assert rows.tolist() == [0, 5, 9] and labels.tolist() == ["2", "0", "1"]
    kio.write_labels("-", np.array([1]), stdout=sys.stdout)
    assert capsys.readouterr().out == "row,label\n0,1\n"
    (tmp_path / "t.txt").write_text("setosa\nversicolor\n")
    assert kio.read_labels(tmp_path / "t.txt")[1].tolist() == ["setosa", "versicolor"]
    pq = pytest.importorskip("pyarrow.parquet")
    kio.write_labels(tmp_path / "l.parquet", np.array([3, 4]))
    assert pq.read_table(tmp_path / "l.parquet").to_pydict() == {"row": [0, 1], "label": [3, 4]}


def test_progress_bar_on_large_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(kio, "PROGRESS_MIN_BYTES", 0)
    path = write(tmp_path, "d.csv", "a,b\n" + "1,2\n" * 1000)
    table = kio.read_table(path, progress=True)
    assert table.X.shape == (1000, 2)
    err = capsys.readouterr().err
    assert f"reading {path}" in err and "100%" in err
