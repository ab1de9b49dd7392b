"""Read data files into a float64 matrix and write labels and pictures.

The reader is our own so that every error names the file, the line and the column, and
says how to fix it: delimited text (``,`` ``;`` tab ``|``, sniffed; a header is detected;
a UTF-8 byte order mark is skipped), standard input (``"-"``, delimited text), ``.npy``
(``numpy.load(allow_pickle=False)``) and Parquet (pyarrow, the ``parquet`` extra).
"""

from __future__ import annotations

import csv
import difflib
import importlib
import io as _stdio
import itertools
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kmeanskit._outputs import atomic

__all__ = [
    "ColumnError",
    "DataError",
    "Table",
    "count_distinct_rows",
    "read_labels",
    "read_table",
    "write_fit_plot",
    "write_labels",
]

#: Cells read as missing (case-insensitive, after stripping blanks).
MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none"})
#: Delimiters the sniffer chooses among, in order of preference on a tie.
DELIMITERS = (",", "\t", ";", "|")
#: Rows parsed and converted at a time: bounds the memory held as Python strings.
BLOCK_ROWS = 65_536
#: Files at least this large get a progress bar (when progress is on).
PROGRESS_MIN_BYTES = 32 * 2**20


class DataError(ValueError):
    """A data file cannot be used as it is; the message says where and how to fix it."""


class ColumnError(DataError):
    """An option names a column that the data does not have."""


def require(module: str, extra: str) -> Any:
    """Import an optional dependency, or raise ImportError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"{top} is not installed; it comes with the '{extra}' extra: "
            f'pip install "kmeanskit[{extra}]"'
        ) from exc


@dataclass
class Table:
    """Numeric data read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_columns), float64, C-contiguous, finite
    columns : list of str or None
        Names of the columns of X, from the file's header (None without one).
    row_ids : ndarray of shape (n_rows,), int64
        0-based position of each row among the data rows of the source (rows skipped
        for missing values leave gaps).
    source : str
        The file name, or ``"<stdin>"``.
    n_skipped : int
        Rows skipped because they had a missing or non-finite value.
    first_skipped : str or None
        Where the first skipped row was (``"line 7"``, ``"row 7"``).
    labels : ndarray of shape (n_rows,) or None
        The ``label_column``, as read (strings for text files).
    n_source_rows : int
        Data rows in the source, skipped ones included.
    """

    X: np.ndarray
    columns: list[str] | None
    row_ids: np.ndarray
    source: str
    n_skipped: int = 0
    first_skipped: str | None = None
    labels: np.ndarray | None = None
    n_source_rows: int = 0


# -- column selection -------------------------------------------------------------


def _find_column(token: str, names: Sequence[str], has_header: bool, source: str) -> int:
    token = token.strip()
    if token in names and has_header:
        return list(names).index(token)
    if token.isdigit() and 1 <= int(token) <= len(names):
        return int(token) - 1
    if not has_header:
        raise ColumnError(
            f"{source} has no column {token!r}; its columns are: numbers 1 to {len(names)} "
            "(no header)"
        )
    close = difflib.get_close_matches(token, names, n=3)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    raise ColumnError(f"{source} has no column {token!r}{hint}; its columns are: {_few(names)}")


def _few(names: Sequence[str], shown: int = 10) -> str:
    """The first names, and how many more: a wide file's header would fill the screen."""
    more = f", ... and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _select(
    names: Sequence[str],
    has_header: bool,
    source: str,
    columns: Sequence[str] | None,
    drop: Sequence[str],
    label_column: str | None,
    match_columns: Sequence[str] | None,
) -> tuple[list[int], int | None]:
    """Indices of the feature columns and of the label column."""
    label = None if label_column is None else _find_column(label_column, names, True, source)
    if columns:
        idx = [_find_column(c, names, has_header, source) for c in columns]
    elif match_columns is not None and has_header and not drop:
        missing = [c for c in match_columns if c not in names]
        if missing:
            raise ColumnError(
                f"{source} has no column {missing[0]!r}, which the model was fitted on "
                f"(model columns: {_few(match_columns)})"
            )
        idx = [list(names).index(c) for c in match_columns]
    else:
        gone = {_find_column(c, names, has_header, source) for c in drop}
        idx = [i for i in range(len(names)) if i not in gone]
    idx = [i for i in idx if i != label]
    if len(set(idx)) != len(idx):
        raise ColumnError(f"a column is chosen twice in {source}: {[names[i] for i in idx]}")
    if not idx:
        raise ColumnError(f"no feature columns left in {source} after --columns/--drop")
    return idx, label


# -- delimited text ----------------------------------------------------------------


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _sniff(lines: Sequence[str]) -> str:
    """The delimiter that splits the sample lines into the same number (> 1) of fields;
    failing that, the one that splits every line into the most fields (default ``,``)."""
    best, best_score = ",", (False, 1)
    for delim in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        score = (len(set(counts)) == 1, min(counts))
        if score[1] > 1 and score > best_score:
            best, best_score = delim, score
    return best


def _has_header(first: list[str], second: list[str] | None) -> bool:
    def text(c: str) -> bool:
        return c.strip().lower() not in MISSING and not _is_number(c)

    if all(text(c) for c in first):
        return True
    if second is None or len(second) != len(first):
        return False
    pairs = zip(first, second, strict=True)
    return any(text(a) and (_is_number(b) or not b.strip()) for a, b in pairs)


def _header_names(row: list[str], source: str) -> list[str]:
    names = [c.strip() or f"column {i + 1}" for i, c in enumerate(row)]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataError(
                f"{source}, line 1: column name {name!r} appears twice (columns "
                f"{seen[name] + 1} and {i + 1}); rename one"
            )
        seen[name] = i
    return names


class _Progress:
    """Counts characters read (close to bytes) into a tqdm bar."""

    def __init__(self, lines: Iterable[str], total: int, source: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"reading {source}")
        self.lines = lines

    def __iter__(self) -> Iterator[str]:
        done = 0
        for line in self.lines:
            done += len(line)
            if done >= 1 << 20:
                self.bar.update(done)
                done = 0
            yield line
        self.bar.update(max(0, self.bar.total - self.bar.n))  # the whole file was read
        self.bar.close()


def _open_text(source: str, stdin: Any) -> tuple[Any, str, int, bool]:
    """(text stream, display name, size in bytes, whether we wrapped standard input)."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin
        raw = getattr(stream, "buffer", None)
        if raw is None:
            return stream, "<stdin>", 0, False
        return _stdio.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), "<stdin>", 0, True
    return open(source, encoding="utf-8-sig", newline=""), source, os.path.getsize(source), False


def _convert(cells: list, lines: list[int | None], names: list[str], source: str) -> np.ndarray:
    """Cells (rows of strings) as float64; missing cells become NaN; text is an error."""
    try:
        return np.array(cells, dtype=np.float64).reshape(len(cells), len(names))
    except ValueError:
        pass
    out = np.empty((len(cells), len(names)))
    for r, row in enumerate(cells):
        row = (row,) if isinstance(row, str) else row
        for c, cell in enumerate(row):
            try:
                out[r, c] = float(cell)
            except ValueError:
                if cell.strip().lower() in MISSING:
                    out[r, c] = np.nan
                    continue
                where = f"line {lines[r]}" if lines[r] else f"record {r + 1}"
                raise DataError(
                    f"{source}, {where}, column {names[c]!r}: {cell.strip()!r} is not a "
                    f"number; if this column is not a feature, leave it out with "
                    f"--drop {_quote(names[c])}"
                ) from None
    return out


def _quote(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else repr(name)


def _read_text(
    source: str,
    stdin: Any,
    select: Any,
    progress: bool,
) -> tuple[list[str] | None, list[str], list[np.ndarray], list, list[list[int]]]:
    """Parse delimited text block by block.

    Returns the header (or None), the names of the feature columns, the float blocks, the
    label blocks, and for every block the line number of each row (0 when unknown).
    """
    handle, name, size, wrapped = _open_text(source, stdin)
    try:
        head: list[str] = []
        try:
            while len(head) < 20:
                line = handle.readline()
                if not line:
                    break
                head.append(line)
        except UnicodeDecodeError as exc:
            raise DataError(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8") from None
        sample = [ln for ln in head if ln.strip()]
        if not sample:
            raise DataError(f"{name} is empty: there are no rows to read")
        delim = _sniff(sample)
        rest: Iterable[str] = handle
        if progress and size >= PROGRESS_MIN_BYTES:
            rest = _Progress(handle, size, name)
            rest.bar.update(sum(len(line) for line in head))
        reader = csv.reader(itertools.chain(head, rest), delimiter=delim)
        return _parse_rows(reader, name, select)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    finally:
        if wrapped:
            handle.detach()  # leave standard input open
        elif source != "-":
            handle.close()


def _parse_rows(reader: Any, name: str, select: Any):  # noqa: ANN202
    first = next((row for row in reader if row), None)
    if first is None:
        raise DataError(f"{name} is empty: there are no rows to read")
    first_line = reader.line_num
    pending = [first]
    lines_of_pending = [first_line]
    second = next((row for row in reader if row), None)
    if second is not None:
        pending.append(second)
        lines_of_pending.append(reader.line_num)
    header = _has_header(first, second)
    names = _header_names(first, name) if header else [str(i + 1) for i in range(len(first))]
    if header:
        pending, lines_of_pending = pending[1:], lines_of_pending[1:]
    idx, label = select(names, header)
    feature_names = [names[i] if header else f"column {names[i]}" for i in idx]
    ncols = len(names)
    getter = None if idx == list(range(ncols)) else _getter(idx)
    blocks, label_blocks, line_blocks = [], [], []
    where = f"the header at line {first_line}" if header else f"line {first_line}"
    line = reader.line_num
    rows = pending
    row_lines: list[int] = lines_of_pending
    while True:
        if rows:
            if [] in rows:  # blank lines
                keep = [i for i, r in enumerate(rows) if r]
                rows = [rows[i] for i in keep]
                row_lines = [row_lines[i] for i in keep]
            if set(map(len, rows)) != {ncols}:
                r = next(i for i, r in enumerate(rows) if len(r) != ncols)
                at = f"line {row_lines[r]}" if row_lines[r] else f"record after line {line}"
                raise DataError(
                    f"{name}, {at}: {len(rows[r])} fields, but {where} has {ncols}; "
                    "fix the row (a stray or missing delimiter?)"
                )
            cells = rows if getter is None else list(map(getter, rows))
            blocks.append(_convert(cells, row_lines, feature_names, name))
            if label is not None:
                label_blocks.append(np.array([r[label].strip() for r in rows], dtype=object))
            line_blocks.append(row_lines)
        start = reader.line_num
        rows = list(itertools.islice(reader, BLOCK_ROWS))
        if not rows:
            break
        end = reader.line_num
        # One physical line per record (no quoted line breaks): exact line numbers.
        row_lines = list(range(start + 1, end + 1)) if end - start == len(rows) else [0] * len(rows)
        line = start
    return (names if header else None), feature_names, blocks, label_blocks, line_blocks


def _getter(idx: list[int]) -> Any:
    if len(idx) == 1:
        i = idx[0]
        return lambda row: (row[i],)
    from operator import itemgetter

    return itemgetter(*idx)


# -- binary formats ----------------------------------------------------------------


def _read_npy(path: str) -> tuple[np.ndarray, list[str]]:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path} is not a plain numeric .npy array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{path} holds {arr.dtype} values; KMeans needs numbers (int or float)")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DataError(
            f"{path} holds an array of shape {arr.shape}; it must be 2-D (rows x columns)"
        )
    if arr.shape[0] == 0:
        raise DataError(f"{path} is empty: there are no rows to read")
    return arr, [str(i + 1) for i in range(arr.shape[1])]


def _read_parquet(path: str, select: Any) -> tuple[np.ndarray, list[str], list[str], Any]:
    pq = require("pyarrow.parquet", "parquet")
    pa = require("pyarrow", "parquet")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path} is not a readable Parquet file ({exc})") from None
    names = list(table.column_names)
    if table.num_rows == 0:
        raise DataError(f"{path} is empty: there are no rows to read")
    idx, label = select(names, True)
    cols = []
    for i in idx:
        col = table.column(i)
        t = col.type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            raise DataError(
                f"{path}, column {names[i]!r}: holds {t} values, not numbers; if this column "
                f"is not a feature, leave it out with --drop {_quote(names[i])}"
            )
        cols.append(col.cast(pa.float64()).to_numpy(zero_copy_only=False))
    labels = None
    if label is not None:
        labels = np.array(table.column(label).to_pylist(), dtype=object)
    return np.column_stack(cols), names, [names[i] for i in idx], labels


# -- the public reader --------------------------------------------------------------


def read_table(
    source: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    drop: Sequence[str] = (),
    drop_missing: bool = False,
    label_column: str | None = None,
    match_columns: Sequence[str] | None = None,
    progress: bool = False,
    stdin: Any = None,
) -> Table:
    """Read a data file (or ``"-"`` for standard input) into a float64 matrix.

    Parameters
    ----------
    source : path or ``"-"``
        ``.parquet``/``.pq`` (pyarrow), ``.npy``, anything else delimited text.
    columns : list of str, optional
        Feature columns to keep, by header name or 1-based number.
    drop : list of str
        Columns to leave out (ignored when ``columns`` is given).
    drop_missing : bool
        Skip rows with an empty, NaN or infinite cell (and count them) instead of failing.
    label_column : str, optional
        A column to read as labels (any values), not as a feature.
    match_columns : list of str, optional
        Without ``columns`` and ``drop``: when the file has a header, take these columns
        by name (a model's feature names).
    progress : bool
        Show a progress bar on standard error for large text files.
    stdin : file, optional
        Stream read for ``"-"`` (default ``sys.stdin``).

    Returns
    -------
    Table

    Raises
    ------
    DataError
        With the file, line and column, and how to fix it. ``ColumnError`` (a subclass)
        when an option names a column the file does not have.
    """
    source = os.fspath(source)
    display = "<stdin>" if source == "-" else source
    if source != "-" and os.path.isdir(source):
        raise DataError(f"{source} is a folder, not a data file")
    if source != "-" and not os.path.isfile(source):
        raise DataError(f"{source}: no such file")
    if source != "-" and os.path.getsize(source) == 0:
        raise DataError(f"{source} is empty: there are no rows to read")

    def select(names: Sequence[str], header: bool) -> tuple[list[int], int | None]:
        return _select(names, header, display, columns, drop, label_column, match_columns)

    suffix = os.path.splitext(source)[1].lower()
    labels = None
    if suffix == ".npy":
        arr, names = _read_npy(source)
        idx, _ = select(names, False)
        X = np.array(arr[:, idx], dtype=np.float64, order="C")
        header, feature_names = None, [f"column {i + 1}" for i in idx]
        positions = None
        kind = "row"
    elif suffix in (".parquet", ".pq"):
        X, header, feature_names, labels = _read_parquet(source, select)
        positions = None
        kind = "row"
    else:
        header, feature_names, blocks, label_blocks, line_blocks = _read_text(
            source, stdin, select, progress
        )
        if not blocks:
            raise DataError(f"{display} has a header but no data rows")
        X = np.ascontiguousarray(np.concatenate(blocks)) if len(blocks) > 1 else blocks[0]
        labels = np.concatenate(label_blocks) if label_blocks else None
        positions = [ln for block in line_blocks for ln in block]
        kind = "line"
    n_source = X.shape[0]
    table = Table(
        X=X,
        columns=list(feature_names) if header is not None else None,
        row_ids=np.arange(n_source, dtype=np.int64),
        source=display,
        labels=labels,
        n_source_rows=n_source,
    )
    _handle_missing(table, feature_names, positions, kind, drop_missing)
    return table


def _handle_missing(
    table: Table, names: list[str], positions: list[int] | None, kind: str, drop_missing: bool
) -> None:
    finite = np.isfinite(table.X)
    if finite.all():
        return
    bad_rows = np.flatnonzero(~finite.all(axis=1))
    r = int(bad_rows[0])
    c = int(np.flatnonzero(~finite[r])[0])
    if positions is None:
        where = f"row {r + 1}"
    else:
        where = f"line {positions[r]}" if positions[r] else f"data row {r + 1}"
    if drop_missing:
        keep = np.ones(len(table.X), dtype=bool)
        keep[bad_rows] = False
        table.X = np.ascontiguousarray(table.X[keep])
        table.row_ids = table.row_ids[keep]
        if table.labels is not None:
            table.labels = table.labels[keep]
        table.n_skipped = int(bad_rows.size)
        table.first_skipped = where
        if table.X.shape[0] == 0:
            raise DataError(f"{table.source}: every row has a missing value; nothing is left")
        return
    value = table.X[r, c]
    what = "an empty or NaN cell" if np.isnan(value) else f"an infinite value ({value})"
    raise DataError(
        f"{table.source}, {where}, column {names[c]!r}: {what}; skip such rows with "
        "--drop-missing, or fill them in"
    )


def read_labels(source: str | os.PathLike) -> tuple[np.ndarray | None, np.ndarray]:
    """Labels from a file: one per line, or ``row,label`` rows as ``fit --labels`` writes.

    Returns
    -------
    row_ids : ndarray of int64, or None
        The ``row`` column when the file has a header with one.
    labels : ndarray of object
        The last column, as text.
    """
    source = os.fspath(source)
    try:
        with open(source, encoding="utf-8-sig", newline="") as handle:
            sample = [ln for ln in itertools.islice(handle, 20) if ln.strip()]
            if not sample:
                raise DataError(f"{source} is empty: there are no labels to read")
            handle.seek(0)
            rows = [r for r in csv.reader(handle, delimiter=_sniff(sample)) if r]
    except UnicodeDecodeError as exc:
        raise DataError(f"{source} is not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    names = [c.strip().lower() for c in rows[0]]
    numbers_below = len(rows) > 1 and all(_is_number(r[-1]) for r in rows[1:])
    header = (
        "row" in names
        or names[-1] in _LABEL_NAMES
        or (not _is_number(rows[0][-1]) and numbers_below)
    )
    body = rows[1:] if header else rows
    if any(len(r) != len(rows[0]) for r in body):
        i = next(i for i, r in enumerate(body) if len(r) != len(rows[0]))
        raise DataError(
            f"{source}, line {i + 1 + header}: {len(body[i])} fields, expected {len(rows[0])}"
        )
    labels = np.array([r[-1].strip() for r in body], dtype=object)
    if header and "row" in names[:-1]:
        i = names.index("row")
        try:
            return np.array([int(r[i]) for r in body], dtype=np.int64), labels
        except ValueError as exc:
            raise DataError(f"{source}: the 'row' column must hold row numbers ({exc})") from None
    return None, labels


_LABEL_NAMES = frozenset({"label", "labels", "truth", "class", "cluster", "target", "y"})


def count_distinct_rows(X: np.ndarray, stop_at: int) -> int:
    """Distinct rows of X, counting no further than ``stop_at`` (fast when there are many)."""
    seen: set[bytes] = set()
    X = np.ascontiguousarray(X)
    for start in range(0, X.shape[0], 4096):
        for row in X[start : start + 4096]:
            seen.add(row.tobytes())
        if len(seen) >= stop_at:
            return len(seen)
    return len(seen)


# -- writers -------------------------------------------------------------------------


def write_labels(
    path: str | os.PathLike,
    labels: np.ndarray,
    row_ids: np.ndarray | None = None,
    *,
    stdout: Any = None,
) -> None:
    """Write ``row,label`` as CSV (``"-"``: standard output) or Parquet (``.parquet``)."""
    path = os.fspath(path)
    labels = np.asarray(labels)
    row_ids = np.arange(len(labels)) if row_ids is None else np.asarray(row_ids)
    if path.lower().endswith((".parquet", ".pq")):
        pa = require("pyarrow", "parquet")
        pq = require("pyarrow.parquet", "parquet")
        table = pa.table({"row": row_ids.astype(np.int64), "label": labels.astype(np.int32)})
        with atomic(path) as tmp:
            pq.write_table(table, tmp)
        return
    text = "row,label\n" + "".join(map("{},{}\n".format, row_ids.tolist(), labels.tolist()))
    if path == "-":
        out = stdout if stdout is not None else sys.stdout
        out.write(text)
        out.flush()
        return
    with atomic(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def write_fit_plot(
    path: str | os.PathLike,
    X: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray,
    inertia_per_iteration: Sequence[float],
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """Save a picture (PNG, PDF or SVG, by the suffix of ``path``): the clusters (2-D, or the
    first two principal components) with their centres, and the inertia of every iteration.
    Needs matplotlib (the ``plot`` extra)."""
    from kmeanskit import _plots

    fig = _plots.fit_figure(
        X, labels, centers, inertia_per_iteration, feature_names=feature_names, title=title
    )
    _plots.save(fig, path)
