"""The ``kmeanskit`` command. Uses the public API only (plus the standard library and click).

Data goes to standard output, messages and progress bars to standard error. Every error is
one line on standard error starting with ``error: ``, and the exit code says what kind it
was (see ``EXIT_CODES``); ``kmeanskit --debug ...`` also prints the traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

import kmeanskit
from kmeanskit import _outputs  # the standard library only: checks paths before numpy loads

# numpy, numba and scikit-learn load in the commands that use them (kmeanskit's names
# are lazy too), so that --help and usage errors answer at once.
if TYPE_CHECKING:
    from kmeanskit import io as kio
    from kmeanskit import model_io

OK, DATA_ERROR, USAGE_ERROR, NOT_CONVERGED, INTERNAL_ERROR, INTERRUPTED = 0, 1, 2, 3, 4, 130

EXIT_CODES = """\b
Exit codes:
  0    success
  1    data error: a file cannot be read or used (bad cell, ragged row,
       missing value, empty file, k larger than the rows, bad model file)
  2    usage error: bad option or value, unknown column, missing extra
  3    did not converge (fit --strict only)
  4    unexpected error (a bug: rerun with --debug and report the traceback)
  130  interrupted (Ctrl-C)"""

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


class CommandError(Exception):
    """An error with its exit code; printed as one ``error:`` line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# -- small helpers ------------------------------------------------------------------


def _err(prefix: str, message: str) -> None:
    click.echo(f"{prefix}: " + " ".join(str(message).split()), err=True)


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def _names(values: tuple[str, ...] | str | None) -> list[str]:
    if not values:
        return []
    if isinstance(values, str):
        values = (values,)
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _read(
    data: str, columns: str, drop: tuple[str, ...], drop_missing: bool, quiet: bool, **kw: Any
) -> kio.Table:
    from kmeanskit import io as kio

    if columns and drop:
        raise click.UsageError("--columns and --drop cannot be used together")
    table = kio.read_table(
        data,
        columns=_names(columns) or None,
        drop=_names(drop),
        drop_missing=drop_missing,
        progress=_show_progress(quiet),
        **kw,
    )
    if table.n_skipped and not quiet:
        _err(
            "note",
            f"skipped {table.n_skipped} of {table.n_source_rows} rows with an empty, NaN or "
            f"infinite cell (the first at {table.first_skipped})",
        )
    return table


def _describe(table: kio.Table) -> str:
    n, d = table.X.shape
    names = f" ({', '.join(table.columns)})" if table.columns and d <= 8 else ""
    return f"{table.source}: {n} rows x {d} columns{names}"


def _read_model(path: str) -> model_io.ModelFile:
    from kmeanskit import io as kio
    from kmeanskit import model_io

    try:
        return model_io.read_model(path)
    except FileNotFoundError:
        raise kio.DataError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise kio.DataError(f"{path} is a folder, not a model file") from None


def _check_width(table: kio.Table, model: model_io.ModelFile) -> None:
    from kmeanskit import io as kio

    d = model.model.n_features_in_
    if table.X.shape[1] != d:
        names = f" ({', '.join(model.feature_names)})" if model.feature_names else ""
        raise kio.DataError(
            f"{table.source} has {table.X.shape[1]} feature columns, but the model was fitted "
            f"on {d}{names}: choose them with --columns or --drop"
        )


@contextlib.contextmanager
def _caught_warnings(quiet: bool, skip: str | None = None) -> Iterator[None]:
    """Turn Python warnings into ``warning:`` lines on standard error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
    seen = set()
    for w in caught:
        if not issubclass(w.category, (UserWarning, RuntimeWarning)):
            continue  # library deprecations are for developers, not for this output
        text = " ".join(str(w.message).split())
        if text not in seen and not (skip and skip in text):
            seen.add(text)
            _err("warning", text)


@contextlib.contextmanager
def _notes_above_bars(bars: bool) -> Iterator[None]:
    """While progress bars are drawn, print the library's notes above them rather than
    at the end of a bar's line."""
    if not bars:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[logging.getLogger("kmeanskit")]):
        yield


class _FitOutput(io.TextIOBase):
    """Takes KMeans' verbose lines: echoes them (-v) and ticks a progress bar per restart."""

    def __init__(self, echo: bool, bar: Any) -> None:
        self.echo, self.bar, self.pending = echo, bar, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            if self.bar is not None and line.startswith("Initialization complete"):
                self.bar.update(1)
            if self.echo:
                click.echo(line, err=True)
        return len(text)


def _data_options(f: Callable) -> Callable:
    f = click.option(
        "--drop-missing",
        is_flag=True,
        help="Skip rows with an empty, NaN or infinite cell (and say how many).",
    )(f)
    f = click.option(
        "--drop",
        multiple=True,
        metavar="NAMES",
        help="Leave these columns out (names or 1-based numbers, comma-separated).",
    )(f)
    f = click.option(
        "--columns",
        default="",
        metavar="NAMES",
        help="Use only these columns (names or 1-based numbers, comma-separated).",
    )(f)
    return f


_threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="Threads.  [default: all cores]"
)


def _scale_option(help: str) -> Callable:
    return click.option(
        "--scale",
        type=click.Choice(["none", "standard"]),
        default="none",
        show_default=True,
        help=help,
    )


def _quiet_notes(ctx: click.Context, param: click.Parameter, quiet: bool) -> bool:
    """-q also silences the library's notes (the kernel compile line)."""
    handler = (ctx.obj or {}).get("notes")
    if quiet and handler is not None:
        handler.setLevel(logging.ERROR)
    return quiet


def _quiet_option(help: str) -> Callable:
    return click.option("-q", "--quiet", is_flag=True, callback=_quiet_notes, help=help)


def _json_option(help: str) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help=help)


# -- the group ----------------------------------------------------------------------


@click.group(context_settings=_CONTEXT, epilog=EXIT_CODES)
@click.version_option(kmeanskit.__version__, prog_name="kmeanskit")
@click.option("--debug", is_flag=True, help="On an error, also print the traceback.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """K-means done properly: fast, exact, reproducible.

    DATA is a CSV/TSV file (delimiter and header detected), a Parquet file, a .npy
    file, or - for standard input. Data goes to standard output; messages and
    progress go to standard error.
    """
    ctx.ensure_object(dict)["debug"] = debug


@cli.command(short_help="Cluster a data file; write model, labels, plot.", epilog=EXIT_CODES)
@click.argument("data")
@click.option(
    "-k",
    "--n-clusters",
    "k",
    type=click.IntRange(min=1),
    required=True,
    metavar="K",
    help="Number of clusters.",
)
@click.option(
    "--init",
    type=click.Choice(["k-means++", "random", "farthest", "afk-mc2"]),
    default="k-means++",
    show_default=True,
    help="How to pick the initial centres.",
)
@click.option(
    "--search",
    type=click.Choice(["auto", "breathe", "none"]),
    default="auto",
    show_default=True,
    help="Global search after Lloyd to escape its local optimum; none: plain Lloyd.",
)
@click.option(
    "--search-size",
    default="auto",
    show_default=True,
    metavar="ROWS",
    callback=lambda ctx, param, value: _parse_search_size(value),
    help="Rows the seeding, restarts and search run on before Lloyd on every row: auto "
    "(every row up to max(20000, 256 k), a sample above), all, or a number.",
)
@click.option(
    "--n-init",
    type=click.IntRange(min=1),
    default=None,
    help="Restarts; the best is kept.  [default: 1 for k-means++, 10 for random]",
)
@click.option(
    "--max-iter",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Most iterations per restart.",
)
@click.option(
    "--tol",
    type=click.FloatRange(min=0),
    default=1e-4,
    show_default=True,
    help="Stop when the centres move less than this (relative to the variance).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed: the same seed gives the same result.",
)
@click.option(
    "--mini-batch",
    is_flag=True,
    help="Mini-batch k-means: each step moves the centres on a random batch of rows "
    "(faster on large data, a little higher inertia). Then the most iterations are "
    "passes over the data, and --tol is off unless given.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    metavar="N",
    default=1024,
    show_default=True,
    help="Rows per step with --mini-batch.",
)
@_threads_option
@_data_options
@_scale_option("Standardise every column first (stored in the model).")
@click.option("-o", "--output", "model_path", metavar="MODEL.json", help="Write the model file.")
@click.option(
    "--labels",
    "labels_path",
    metavar="PATH|-",
    help="Write row,label as CSV (or .parquet); - for standard output.",
)
@click.option(
    "--plot",
    "plot_path",
    metavar="PICTURE",
    help="Draw the clusters and the inertia per iteration (.png, .pdf or .svg).",
)
@_json_option("Print the summary as JSON on stdout.")
@click.option(
    "--strict", is_flag=True, help="Exit with 3 (and write nothing) if the fit did not converge."
)
@_quiet_option("Print no summary and no notes.")
@click.option("-v", "--verbose", is_flag=True, help="Also print every iteration and restart.")
@click.option(
    "--memory-budget",
    default=None,
    metavar="SIZE",
    callback=lambda ctx, param, value: _parse_size(value),
    help="Stream .npy / Parquet files larger than this from disk instead of loading them "
    "(e.g. 500M, 8G).  [default: a quarter of the RAM]",
)
def fit(
    data: str,
    k: int,
    init: str,
    search: str,
    search_size: int | str | None,
    n_init: int | None,
    max_iter: int,
    tol: float,
    seed: int,
    threads: int | None,
    columns: str,
    drop: tuple[str, ...],
    drop_missing: bool,
    scale: str,
    model_path: str | None,
    labels_path: str | None,
    plot_path: str | None,
    as_json: bool,
    strict: bool,
    quiet: bool,
    verbose: bool,
    mini_batch: bool = False,
    batch_size: int = 1024,
    memory_budget: int | None = None,
) -> int:
    """Cluster DATA into K clusters; write the model, the labels and a picture.

    \b
    Examples:
      kmeanskit fit data.csv -k 8 -o model.json --labels labels.csv
      kmeanskit fit data.csv -k 8 --drop id --scale standard --plot fit.png
      cat data.csv | kmeanskit fit - -k 3 --labels - > labels.csv
      kmeanskit fit big.parquet -k 100 --mini-batch --batch-size 4096 -o model.json

    A .npy or Parquet file larger than --memory-budget is streamed from disk (full-batch
    Lloyd, the same result as in memory, seeded by k-means||) instead of loaded.
    """
    from kmeanskit import io as kio
    from kmeanskit import model_io

    if quiet and verbose:
        raise click.UsageError("-q and -v cannot be used together")
    if as_json and labels_path == "-":
        raise click.UsageError("--json and --labels - both write to standard output")
    _check_mini_batch(mini_batch, search, search_size)
    outputs = [("-o", model_path), ("--labels", labels_path), ("--plot", plot_path)]
    _outputs.check([data], outputs, pictures=["--plot"])
    budget = memory_budget if memory_budget is not None else kmeanskit.StreamedArray.memory_budget()
    if _streams(data, budget):
        in_memory_only = scale != "none" or drop or drop_missing or plot_path or mini_batch
        if in_memory_only or init != "k-means++":
            raise click.UsageError(
                f"{data} is larger than the memory budget ({budget} bytes) and is streamed: "
                "--scale, --drop, --drop-missing, --plot, --mini-batch and --init other than "
                "k-means++ need it in memory (raise --memory-budget, or leave them out)"
            )
        model = kmeanskit.KMeans(
            k, n_init=n_init or 1, max_iter=max_iter, tol=tol, random_state=seed,
            search=None if search == "none" else search, n_threads=threads,
            verbose=int(verbose),
        )  # fmt: skip
        source = kmeanskit.StreamedArray(data, columns=_names(columns) or None)
        start = time.perf_counter()
        with _caught_warnings(quiet):
            model.fit(source)
        return _streamed_done(model, source, budget, time.perf_counter() - start, strict,
                              max_iter, model_path, labels_path, as_json, quiet)  # fmt: skip
    table = _read(data, columns, drop, drop_missing, quiet)
    n, d = table.X.shape
    if k > n:
        raise kio.DataError(f"{table.source} has {n} rows, fewer than k={k}: lower -k")
    distinct = kio.count_distinct_rows(table.X, k)
    if distinct < k:
        _err(
            "warning",
            f"{table.source} has only {distinct} distinct rows, fewer than "
            f"k={k}: some clusters will be duplicates",
        )
    scaling = model_io.Scaling.standard(table.X) if scale == "standard" else None
    X = scaling.transform(table.X) if scaling is not None else table.X
    restarts = n_init or (1 if init == "k-means++" else 10)
    bar = None
    if restarts > 1 and _show_progress(quiet):
        from tqdm import tqdm

        bar = tqdm(total=restarts, desc="restarts", unit="restart", file=sys.stderr)
    model = kmeanskit.KMeans(
        k,
        init=init,
        n_init=restarts,
        max_iter=max_iter,
        tol=tol,
        random_state=seed,
        search=None if search == "none" else search,
        search_size=search_size,
        n_threads=threads,
        verbose=int(verbose or bar is not None),
    )
    if mini_batch:
        params = {p: getattr(model, p) for p in _SHARED_PARAMS}
        source = click.get_current_context().get_parameter_source
        if source("tol") is ParameterSource.DEFAULT:
            # The per-step centre shift shrinks as the centres see more rows: the Lloyd
            # default would stop after a few steps. 0 is scikit-learn's default here.
            params["tol"] = 0.0
        model = kmeanskit.MiniBatchKMeans(k, batch_size=batch_size, **params)
    start = time.perf_counter()
    with _caught_warnings(quiet, skip="distinct clusters" if distinct < k else None):
        with (
            _notes_above_bars(bar is not None),
            contextlib.redirect_stdout(_FitOutput(verbose, bar)),
        ):
            model.fit(X)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    note = None
    if not mini_batch:
        curve = [it.inertia for it in model.history_]
    else:
        # Saved (and summarised) as a k-means model: the same centres, no step history.
        curve = [step.batch_inertia for step in model.history_]
        note = (
            f"{model.n_steps_} steps of {model.history_[0].batch_size} rows, seeded on "
            f"{model.init_size_} rows; the model is a k-means model with these centres"
        )
        mini = {"n_steps": model.n_steps_, "batch_size": batch_size, "init_size": model.init_size_}
        model = model.as_kmeans()
    if strict and not model.converged_:
        raise CommandError(
            f"did not converge: stopped at --max-iter {max_iter} (raise --max-iter or --tol); "
            "nothing written",
            NOT_CONVERGED,
        )
    centers = model.cluster_centers_
    if scaling is not None:
        centers = scaling.inverse_transform(centers)
    with _outputs.staged() as stage:
        if model_path:
            kmeanskit.save_model(
                model, stage(model_path), scaling=scaling, feature_names=table.columns
            )
        if labels_path:
            kio.write_labels(stage(labels_path), model.labels_, table.row_ids, stdout=sys.stdout)
        if plot_path:
            kio.write_fit_plot(
                stage(plot_path),
                table.X,
                model.labels_,
                centers,
                curve,
                feature_names=table.columns,
                title=os.path.basename(table.source),
            )
    summary = {
        "data": table.source,
        "rows": n,
        "columns": table.columns or d,
        "skipped_rows": table.n_skipped,
        "k": k,
        "n_iter": model.n_iter_,
        "stop_reason": model.stop_reason_,
        "converged": model.converged_,
        "inertia": model.inertia_,
        "search_cycles": len(model.history_.search) if hasattr(model, "history_") else 0,
        "search_size": getattr(model, "search_size_", n),
        "seconds": seconds,
        "model": model_path,
        "labels": labels_path,
        "plot": plot_path,
        "centers": centers.tolist(),
    }
    if mini_batch:
        summary["mini_batch"] = mini
    if as_json:
        click.echo(json.dumps(summary))
    if not quiet:
        _fit_summary(table, model, seconds, model_path, labels_path, plot_path, verbose, note)
    return OK


def _check_mini_batch(mini_batch: bool, search: str, search_size: int | str | None) -> None:
    """Options that apply only with, or only without, --mini-batch (before any work)."""
    if not mini_batch:
        source = click.get_current_context().get_parameter_source
        if source("batch_size") is not ParameterSource.DEFAULT:
            raise click.UsageError(
                "--batch-size is the rows per step of --mini-batch: add --mini-batch, "
                "or leave --batch-size out"
            )
        return
    # The defaults spelled out (--search auto, --search-size auto) ask for nothing more.
    if search == "breathe":
        raise click.UsageError("--search runs after Lloyd: it does not apply to --mini-batch")
    if search_size != "auto":
        raise click.UsageError("--search-size is the global search's: not for --mini-batch")


def _parse_search_size(value: str) -> int | str | None:
    """``--search-size``: 'auto', 'all' (None: every row) or a number of rows."""
    text = value.strip().lower()
    if text in ("auto", "all"):
        return "auto" if text == "auto" else None
    if not text.isdigit() or int(text) < 1:
        raise click.BadParameter(f"{value!r} is not auto, all or a number of rows")
    return int(text)


def _parse_size(value: str | None) -> int | None:
    """Bytes from ``500M``, ``8G``, ``1.5T`` or a plain number of bytes."""
    if value is None:
        return None
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1] if text[-1:] in ("K", "M", "G", "T") else ""
    try:
        size = int(float(text[: len(text) - len(unit)]) * units[unit])
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a size: use e.g. 500M or 8G") from exc
    if size < 0:
        raise click.BadParameter(f"{value!r} is negative: use e.g. 500M or 8G")
    return size


def _streams(data: str, budget: int) -> bool:
    """Whether DATA is a .npy / Parquet file larger than the budget."""
    return (
        data != "-"
        and data.lower().endswith((".npy", ".parquet", ".pq"))
        and os.path.isfile(data)
        and os.path.getsize(data) > budget
    )


def _streamed_done(
    model: Any,
    source: Any,
    budget: int,
    seconds: float,
    strict: bool,
    max_iter: int,
    model_path: str | None,
    labels_path: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Write and report a fit streamed from disk."""
    from kmeanskit import io as kio

    if strict and not model.converged_:
        raise CommandError(
            f"did not converge: stopped at --max-iter {max_iter} (raise --max-iter or --tol); "
            "nothing written",
            NOT_CONVERGED,
        )
    with _outputs.staged() as stage:
        if model_path:
            kmeanskit.save_model(model, stage(model_path), feature_names=source.columns)
        if labels_path:
            kio.write_labels(stage(labels_path), model.labels_, stdout=sys.stdout)
    n, d = source.shape
    note = f"streamed from disk: larger than the memory budget of {budget} bytes"
    if as_json:
        click.echo(
            json.dumps(
                {
                    "data": source.path,
                    "rows": n,
                    "columns": source.columns or d,
                    "streamed": True,
                    "k": model.n_clusters,
                    "n_iter": model.n_iter_,
                    "stop_reason": model.stop_reason_,
                    "converged": model.converged_,
                    "inertia": model.inertia_,
                    "seconds": seconds,
                    "model": model_path,
                    "labels": labels_path,
                    "centers": model.cluster_centers_.tolist(),
                }  # fmt: skip
            )
        )
    if not quiet:
        for name, value in (
            ("data", f"{source.path}: {n} rows x {d} columns ({note})"),
            ("k", str(model.n_clusters)),
            ("iters", str(model.n_iter_)),
            ("stopped", f"{model.stop_reason_} (converged: {model.converged_})"),
            ("inertia", f"{model.inertia_:.6g}"),
            ("time", f"{seconds:.3f} s"),
            ("model", model_path),
            ("labels", "standard output" if labels_path == "-" else labels_path),
        ):
            if value:
                click.echo(f"{name:<9} {value}", err=True)
    return OK


#: Parameters ``fit --mini-batch`` passes on from the KMeans it would have built.
_SHARED_PARAMS = ("init", "n_init", "max_iter", "tol", "random_state", "n_threads", "verbose")


def _fit_summary(
    table: kio.Table,
    model: Any,
    seconds: float,
    model_path: str | None,
    labels_path: str | None,
    plot_path: str | None,
    verbose: bool,
    mini_batch_note: str | None = None,
) -> None:
    lines = [
        ("data", _describe(table)),
        ("k", str(model.n_clusters)),
        ("iters", _iterations(model)),
        ("stopped", f"{model.stop_reason_} (converged: {model.converged_})"),
        ("inertia", f"{model.inertia_:.6g}"),
        ("time", f"{seconds:.3f} s"),
    ]
    if mini_batch_note:
        lines.insert(3, ("batches", mini_batch_note))
    note = _search_note(model)
    if note:
        lines.insert(5, ("search", note))
    for name, path in (("model", model_path), ("labels", labels_path), ("plot", plot_path)):
        if path:
            lines.append((name, "standard output" if path == "-" else path))
    if verbose and hasattr(model, "history_"):
        for r in model.history_.restarts:
            best = " (kept)" if r.restart == model.history_.best_restart else ""
            lines.append(
                (
                    f"restart {r.restart}",
                    f"seed {r.seed}, {r.n_iter} iters, {r.stop_reason}, "
                    f"inertia {r.inertia:.6g}{best}",
                )
            )
    for name, value in lines:
        click.echo(f"{name:<9} {value}", err=True)


@cli.command(short_help="Label the rows of a data file with a model.", epilog=EXIT_CODES)
@click.argument("model_path", metavar="MODEL")
@click.argument("data")
@click.option(
    "--labels",
    "labels_path",
    default="-",
    show_default=True,
    metavar="PATH|-",
    help="Where to write row,label (CSV, or Parquet for .parquet).",
)
@_data_options
@_quiet_option("Print no notes.")
def predict(
    model_path: str,
    data: str,
    labels_path: str,
    columns: str,
    drop: tuple[str, ...],
    drop_missing: bool,
    quiet: bool,
) -> int:
    """Label the rows of DATA with the nearest centre of MODEL.

    Columns are matched to the model's by name when DATA has a header.

    \b
    Example:
      kmeanskit predict model.json new.csv > labels.csv
    """
    from kmeanskit import io as kio

    _outputs.check([model_path, data], [("--labels", labels_path)])
    mf = _read_model(model_path)
    table = _read(data, columns, drop, drop_missing, quiet, match_columns=mf.feature_names)
    _check_width(table, mf)
    labels = mf.predict(table.X)
    kio.write_labels(labels_path, labels, table.row_ids, stdout=sys.stdout)  # atomic
    if not quiet and labels_path != "-":
        _err("note", f"wrote {len(labels)} labels to {labels_path}")
    return OK


@cli.command(short_help="Score a model on data (silhouette, ARI, ...).", epilog=EXIT_CODES)
@click.argument("data")
@click.option("--model", "model_path", required=True, metavar="MODEL", help="The model file.")
@click.option(
    "--truth",
    metavar="COLUMN|FILE",
    help="True labels: a column of DATA, or a file (one label per row, or row,label).",
)
@_data_options
@click.option(
    "--sample-size",
    type=click.IntRange(min=3),
    default=None,
    help="Rows for the silhouette.  [default: all up to 10000, else 10000]",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@_json_option("Print the scores as JSON.")
@_quiet_option("Print no notes.")
def evaluate(
    data: str,
    model_path: str,
    truth: str | None,
    columns: str,
    drop: tuple[str, ...],
    drop_missing: bool,
    sample_size: int | None,
    seed: int,
    as_json: bool,
    quiet: bool,
) -> int:
    """Score MODEL on DATA: inertia, silhouette, Calinski-Harabasz, Davies-Bouldin,
    and with --truth the ARI, NMI and centroid index.

    Scores are computed in the model's units (scaled if it was fitted with --scale).

    \b
    Example:
      kmeanskit evaluate data.csv --model model.json --truth species
    """
    mf = _read_model(model_path)
    truth_file = truth if truth and os.path.isfile(truth) else None
    table = _read(
        data,
        columns,
        drop,
        drop_missing,
        quiet,
        match_columns=mf.feature_names,
        label_column=None if truth_file else truth,
    )
    _check_width(table, mf)
    true_labels = table.labels if truth_file is None else _truth_from_file(truth_file, table)
    X = mf.transform(table.X)
    labels = mf.predict(table.X)
    n = X.shape[0]
    size = "auto" if sample_size is None else sample_size
    scores = kmeanskit.metrics.evaluate(
        X, labels, mf.model.cluster_centers_, true_labels, sample_size=size, random_state=seed
    )
    used = min(n, kmeanskit.metrics.SILHOUETTE_SAMPLE if sample_size is None else sample_size)
    if as_json:
        out = {
            "data": table.source,
            "rows": n,
            "model": model_path,
            "k": int(mf.model.n_clusters),
            "silhouette_rows": used,
            **scores,
        }
        click.echo(json.dumps(out))
        return OK
    click.echo(f"{'data':<18}{_describe(table)}")
    click.echo(f"{'model':<18}{model_path} (k={mf.model.n_clusters})")
    for name, value in scores.items():
        if value is None:
            text = "- (needs 2 or more clusters)"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = f"{value:.6g}"
        if name == "silhouette" and value is not None:
            text += " (exact)" if used >= n else f" (on a sample of {used} rows)"
        click.echo(f"{name:<18}{text}")
    return OK


def _truth_from_file(path: str, table: kio.Table) -> Any:
    from kmeanskit import io as kio

    row_ids, labels = kio.read_labels(path)
    if row_ids is None:
        if len(labels) != table.n_source_rows:
            raise kio.DataError(
                f"{path} has {len(labels)} labels, but {table.source} has "
                f"{table.n_source_rows} data rows"
            )
        return labels[table.row_ids]
    where = {int(r): i for i, r in enumerate(row_ids)}
    missing = [int(r) for r in table.row_ids if int(r) not in where]
    if missing:
        raise kio.DataError(f"{path} has no label for row {missing[0]}")
    return labels[[where[int(r)] for r in table.row_ids]]


def _k_range(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        if ".." in value:
            lo, hi = (int(v) for v in value.split(".."))
            ks = list(range(lo, hi + 1))
        else:
            ks = [int(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r}: write A..B (e.g. 2..20) or a list (2,4,8)") from None
    if not ks or min(ks) < 1:
        raise click.BadParameter(f"{value!r}: needs at least one k, every k >= 1")
    return ks


@cli.command("choose-k", short_help="Try a range of k and recommend one.", epilog=EXIT_CODES)
@click.argument("data")
@click.option(
    "--k-range",
    "ks",
    default="2..10",
    show_default=True,
    metavar="A..B|LIST",
    callback=_k_range,
    help="The k to try: 2..20, or a list such as 2,4,8.",
)
@_data_options
@_scale_option("Standardise every column first.")
@click.option(
    "--n-init",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Restarts of the fit on all rows.",
)
@click.option(
    "--seeds",
    "n_seeds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Fits per k compared for the stability.",
)
@click.option(
    "--refs",
    "n_refs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Reference sets of the gap statistic.",
)
@click.option(
    "--sample-size",
    type=click.IntRange(min=10),
    default=2000,
    show_default=True,
    help="Rows for silhouette, gap and stability.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of everything.")
@_threads_option
@click.option(
    "--plot", "plot_path", metavar="PICTURE", help="Draw the four views (.png, .pdf or .svg)."
)
@_json_option("Print the table as JSON.")
@_quiet_option("Print no notes and no progress.")
def choose_k(
    data: str,
    ks: list[int],
    columns: str,
    drop: tuple[str, ...],
    drop_missing: bool,
    scale: str,
    n_init: int,
    n_seeds: int,
    n_refs: int,
    sample_size: int,
    seed: int,
    threads: int | None,
    plot_path: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Try every k of a range and recommend one.

    For each k: inertia (the elbow, by Kneedle), silhouette, gap statistic and
    stability across seeds (mean pairwise ARI). Prints the table and the
    recommended k with the reason.

    \b
    Example:
      kmeanskit choose-k data.csv --k-range 2..20 --plot choose-k.png
    """
    from kmeanskit import io as kio
    from kmeanskit import model_io

    _outputs.check([data], [("--plot", plot_path)], pictures=["--plot"])
    table = _read(data, columns, drop, drop_missing, quiet)
    n = table.X.shape[0]
    if max(ks) > n:
        raise kio.DataError(
            f"{table.source} has {n} rows, fewer than k={max(ks)}: lower the --k-range"
        )
    X = model_io.Scaling.standard(table.X).transform(table.X) if scale == "standard" else table.X
    with _caught_warnings(quiet), _notes_above_bars(_show_progress(quiet)):
        result = kmeanskit.choose_k(
            X,
            ks,
            n_init=n_init,
            random_state=seed,
            n_seeds=n_seeds,
            n_refs=n_refs,
            sample_size=sample_size,
            n_threads=threads,
            progress=_show_progress(quiet),
        )
    if plot_path:
        result.plot(plot_path)  # atomic
    if as_json:
        click.echo(json.dumps({"data": table.source, **result.to_dict()}))
        return OK
    click.echo(result.format_table())
    click.echo(f"recommended k={result.k}: {result.why}")
    return OK


@cli.command(short_help="Fit generated blobs and print a summary.")
@click.option("-n", "--n-samples", default=100_000, show_default=True, help="Rows to generate.")
@click.option("-d", "--n-features", default=16, show_default=True, help="Features per row.")
@click.option("-k", "--n-clusters", default=32, show_default=True, help="Clusters to find.")
@click.option("--seed", default=0, show_default=True, help="Seed of the data and the fit.")
@click.option("--threads", default=None, type=int, help="Threads (default: all cores).")
def demo(n_samples: int, n_features: int, n_clusters: int, seed: int, threads: int | None) -> None:
    """Fit KMeans on generated Gaussian blobs and print a summary of the fit."""
    import numpy as np

    from kmeanskit.datasets import make_blobs

    X, y = make_blobs(n_samples, n_features, n_clusters, random_state=seed, dtype="float32")
    click.echo(f"data      {n_samples} x {n_features} float32 Gaussian blobs (seed {seed})")
    compiles = not kmeanskit.kernels_ready(X.dtype)  # the first run in this environment
    start = time.perf_counter()
    model = kmeanskit.KMeans(n_clusters, random_state=seed, n_threads=threads).fit(X)
    seconds = time.perf_counter() - start
    click.echo(f"k         {n_clusters}")
    click.echo(f"iters     {_iterations(model)}")
    click.echo(f"stopped   {model.stop_reason_} (converged: {model.converged_})")
    click.echo(f"inertia   {model.inertia_:.6g}")
    note = _search_note(model)
    if note:
        click.echo(f"search    {note}")
    truth = np.array([X[y == j].mean(axis=0) for j in range(n_clusters) if np.any(y == j)])
    missed = kmeanskit.metrics.centroid_index(model.cluster_centers_, truth)
    click.echo(f"clusters  {missed} of the {len(truth)} true clusters missed (centroid index)")
    compiling = " (including compiling the kernels for this machine, once)" if compiles else ""
    click.echo(f"time      {seconds:.3f} s{compiling}")


def _search_note(model: Any) -> str | None:
    """What the global search did, for the summaries (None when it did not run)."""
    history = getattr(model, "history_", None)
    cycles = getattr(history, "search", None)
    if not cycles:
        return None
    start = history.restarts[history.best_restart].inertia
    if cycles[0].method == "optimal-1d":
        what = "the 1-D optimum (dynamic programming)"
    else:
        what = f"{len(cycles)} cycles, {sum(c.accepted for c in cycles)} kept"
    sample = getattr(history, "search_size", None)
    if sample is None:
        end = model.inertia_
        return f"{what}: inertia {start:.6g} -> {end:.6g} ({_lower(start, end)})"
    # The restarts and cycles ran on the sample: compare inertias of the sample only.
    end = min(c.best_inertia for c in cycles)
    return (
        f"{what} on a sample of {sample} rows: inertia there {start:.6g} -> {end:.6g} "
        f"({_lower(start, end)}); then Lloyd on every row"
    )


def _lower(start: float, end: float) -> str:
    """How much lower ``end`` is, in percent of ``start``."""
    # A start of 0 is a perfect fit (fewer distinct rows than k): nothing to improve.
    share = 1 - end / start if start > 0 else 0.0
    return f"{100 * share:.2f}% lower"


def _iterations(model: Any) -> str:
    """``n_iter_``, and the iterations of the restarts and search cycles when a search ran."""
    history = getattr(model, "history_", None)
    cycles = getattr(history, "search", None)
    if not cycles:
        return str(model.n_iter_)
    tried = sum(r.n_iter for r in history.restarts) + sum(c.n_iter for c in cycles)
    return f"{model.n_iter_} in the kept run; {tried} in the restarts and search cycles"


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0].replace("``", "")


_SIZED = ("n_features", "n_clusters", "n_rings")


def _dataset_names() -> click.Choice:
    from kmeanskit.datasets import GENERATORS

    return click.Choice(sorted(GENERATORS))


def _dataset_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """NAME checked here rather than by a ``click.Choice`` type, which would need the
    names (and numpy, which kmeanskit.datasets imports) to build the command."""
    return None if value is None else _dataset_names().convert(value, param, ctx)


@cli.command(short_help="Write a built-in data set as CSV.")
@click.argument(
    "name",
    required=False,
    metavar="[NAME]",
    callback=_dataset_name,
    shell_complete=lambda ctx, param, text: _dataset_names().shell_complete(ctx, param, text),
)
@click.option(
    "-n", "--n-samples", type=click.IntRange(min=1), default=1000, show_default=True, help="Rows."
)
@click.option(
    "-d",
    "--n-features",
    type=click.IntRange(min=1),
    default=None,
    help="Features (blobs, uneven, anisotropic).",
)
@click.option(
    "-k",
    "--n-clusters",
    type=click.IntRange(min=1),
    default=None,
    help="Clusters (blobs, uneven, anisotropic) or rings (rings).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed.")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="PATH|-",
    help="Where to write the CSV.",
)
@click.option("--no-labels", is_flag=True, help="Leave out the true cluster (column 'label').")
def datasets(
    name: str | None,
    n_samples: int,
    n_features: int | None,
    n_clusters: int | None,
    seed: int,
    output: str,
    no_labels: bool,
) -> int:
    """Write a built-in data set as CSV (x1, x2, ..., label); list them without NAME.

    \b
    Example:
      kmeanskit datasets smiley -n 2000 -o smiley.csv
    """
    from kmeanskit.datasets import GENERATORS

    _outputs.check([], [("-o", output)])
    if name is None:
        for key in sorted(GENERATORS):
            click.echo(f"{key:<12} {_first_line(GENERATORS[key].__doc__)}")
        return OK
    import inspect

    make = GENERATORS[name]
    accepted = inspect.signature(make).parameters
    kwargs: dict[str, Any] = {"random_state": seed}
    for option, value in (("n_features", n_features), ("n_clusters", n_clusters)):
        if value is None:
            continue
        target = "n_rings" if option == "n_clusters" and "n_rings" in accepted else option
        if target not in accepted:
            flag = "-d/--n-features" if option == "n_features" else "-k/--n-clusters"
            raise click.UsageError(f"{flag} does not apply to {name}")
        kwargs[target] = value
    X, y = make(n_samples, **kwargs)
    header = [f"x{j + 1}" for j in range(X.shape[1])] + ([] if no_labels else ["label"])
    lines = [",".join(header)]
    rows = X.tolist()
    if no_labels:
        lines += [",".join(f"{v:.10g}" for v in row) for row in rows]
    else:
        pairs = zip(rows, y.tolist(), strict=True)
        lines += [",".join(f"{v:.10g}" for v in row) + f",{c}" for row, c in pairs]
    text = "\n".join(lines) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        with _outputs.atomic(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return OK


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@cli.command(short_help="Versions, BLAS and threads, for bug reports.")
@_json_option("Print as JSON.")
def info(as_json: bool) -> int:
    """Versions, BLAS and threads: paste this into a bug report."""
    import numba
    from threadpoolctl import threadpool_info

    from kmeanskit._kernels.gemm import provider

    deps = ["numpy", "numba", "scipy", "scikit-learn", "threadpoolctl", "click", "tqdm"]
    extras = {"pyarrow": "parquet", "matplotlib": "plot", "mkl": "mkl"}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = [
        {
            k: p.get(k)
            for k in ("internal_api", "version", "num_threads", "architecture", "filepath")
        }
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    report = {
        "kmeanskit": kmeanskit.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        **{d: _version(d) for d in deps},
        **{d: _version(d) for d in extras},
        "cores": cores,
        "numba_threads": int(numba.config.NUMBA_NUM_THREADS),
        "kernel_gemm": provider(),
        "blas": blas,
    }
    if as_json:
        click.echo(json.dumps(report))
        return OK
    for key, value in report.items():
        if key == "blas":
            continue
        if key in extras and value is None:
            value = f'not installed (pip install "kmeanskit[{extras[key]}]")'
        click.echo(f"{key:<14} {value}")
    for lib in blas or [{}]:
        text = (
            f"{lib.get('internal_api')} {lib.get('version')}, {lib.get('num_threads')} threads, "
            f"{lib.get('architecture')} ({lib.get('filepath')})"
            if lib
            else "none found"
        )
        click.echo(f"{'blas':<14} {text}")
    return OK


@cli.command(short_help="Step through K-means in a local web page.")
@click.argument("data", required=False)
@click.option(
    "-k",
    "--n-clusters",
    type=click.IntRange(1, 40),
    default=None,
    help="Clusters to start with.  [default: the data set's]",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option("--no-open", is_flag=True, help="Print the address but do not open a browser.")
@click.option(
    "--export",
    "export_path",
    metavar="PAGE.html",
    help="Write one self-contained page (data and runs inlined) and exit.",
)
@_data_options
def explore(
    data: str | None,
    n_clusters: int | None,
    port: int,
    no_open: bool,
    export_path: str | None,
    columns: str,
    drop: tuple[str, ...],
    drop_missing: bool,
) -> int:
    """Watch K-means assign and update, step by step, in your browser.

    Serves a page on 127.0.0.1 only (nothing leaves the machine; no CDN, no fonts,
    no analytics). DATA (optional) is read like 'fit' reads it; without it, pick a
    built-in data set on the page. Every frame is computed by kmeanskit.trace, the
    same code as 'fit'.

    \b
    Examples:
      kmeanskit explore
      kmeanskit explore smiley.csv -k 4 --drop label
      kmeanskit explore --export kmeans.html -k 5
    """
    from kmeanskit import io as kio
    from kmeanskit.explorer import ExplorerServer, Store, export_page, serve
    from kmeanskit.explorer.data import MAX_ROWS

    _outputs.check([data], [("--export", export_path)])
    table = None
    if data is not None:
        table = _read(data, columns, drop, drop_missing, quiet=False)
        n = table.X.shape[0]
        if n > MAX_ROWS:
            raise kio.DataError(
                f"{table.source} has {n} rows; the explorer draws at most {MAX_ROWS}: "
                "explore a sample, or use 'kmeanskit fit' for the whole file"
            )
        if n_clusters is not None and n_clusters > n:
            raise kio.DataError(f"{table.source} has {n} rows, fewer than k={n_clusters}: lower -k")
    store = Store(table)
    if export_path is not None:
        params = {"data": "file" if table is not None else "blobs"}
        if n_clusters is not None:
            params["k"] = str(n_clusters)
        elif table is None:
            params["k"] = "5"
        with _outputs.atomic(export_path) as tmp:
            export_page(tmp, store, params)
        click.echo(f"wrote {export_path}", err=True)
        return OK
    try:
        server = ExplorerServer(store, port, n_clusters)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None
    serve(server, open_browser=not no_open)
    return OK


# -- entry point ----------------------------------------------------------------------


def _code_for(exc: BaseException) -> tuple[int, str]:
    """Exit code and message of an exception that escaped a command."""
    if isinstance(exc, CommandError):
        return exc.code, str(exc)
    if isinstance(exc, click.UsageError):
        message = exc.format_message().rstrip(".")
        message = message[:1].lower() + message[1:]
        if exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        return USAGE_ERROR, message
    if isinstance(exc, click.ClickException):
        return exc.exit_code, exc.format_message()
    # Only kmeanskit.io raises a ColumnError: if it is not loaded, this is not one (and
    # an error on the way to a command does not import numpy to find that out).
    kio = sys.modules.get("kmeanskit.io")
    if kio is not None and isinstance(exc, kio.ColumnError):
        return USAGE_ERROR, str(exc)
    if isinstance(exc, _outputs.OutputPathError):
        return USAGE_ERROR, str(exc)
    if isinstance(exc, ImportError) and "kmeanskit[" in str(exc):
        return USAGE_ERROR, str(exc)
    if isinstance(exc, ValueError):  # DataError, ModelFileError, and KMeans' input checks
        return DATA_ERROR, str(exc)
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else ""
        return DATA_ERROR, f"{name}: {exc.strerror or exc}" if name else str(exc)
    return INTERNAL_ERROR, (
        f"unexpected {type(exc).__name__}: {exc} (this is a bug: run again as "
        "'kmeanskit --debug ...' for the traceback and report it)"
    )


@contextlib.contextmanager
def _library_notes(state: dict[str, Any]) -> Iterator[None]:
    """Print what the library logs as ``note:`` lines on standard error while a command
    runs: the line it logs before its kernels compile (once per environment), so that
    the wait that follows is explained.

    The library configures no logging, so the command does, and only for its own run.
    The records stop at this handler: Python's last resort (no handler anywhere) or a
    root handler of an embedding program would print them a second time.
    """
    logger = logging.getLogger("kmeanskit")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    state["notes"] = handler  # for -q (_quiet_notes)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    state: dict[str, Any] = {"debug": "--debug" in args}
    try:
        with _library_notes(state):
            rv = cli.main(args=args, prog_name="kmeanskit", standalone_mode=False, obj=state)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        return USAGE_ERROR
    except click.exceptions.Abort:
        _err("error", "interrupted")
        return INTERRUPTED
    except KeyboardInterrupt:
        _err("error", "interrupted")
        return INTERRUPTED
    except SystemExit as exc:  # click exits 1 on a closed pipe
        return exc.code if isinstance(exc.code, int) else DATA_ERROR
    except Exception as exc:
        code, message = _code_for(exc)
        if state["debug"]:
            traceback.print_exc(file=sys.stderr)
        _err("error", message)
        return code
    return rv if isinstance(rv, int) else OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
