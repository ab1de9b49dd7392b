"""The ``kmeanskit`` command. Uses the public API only."""

from __future__ import annotations

import sys
import time

import click

import kmeanskit
from kmeanskit.datasets import make_blobs


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kmeanskit.__version__, prog_name="kmeanskit")
def cli() -> None:
    """K-means done properly: fast, exact, reproducible."""


@cli.command()
@click.option("-n", "--n-samples", default=100_000, show_default=True, help="Rows to generate.")
@click.option("-d", "--n-features", default=16, show_default=True, help="Features per row.")
@click.option("-k", "--n-clusters", default=32, show_default=True, help="Clusters to find.")
@click.option("--seed", default=0, show_default=True, help="Seed of the data and the fit.")
@click.option("--threads", default=None, type=int, help="Threads (default: all cores).")
def demo(n_samples: int, n_features: int, n_clusters: int, seed: int, threads: int | None) -> None:
    """Fit KMeans on generated Gaussian blobs and print a summary of the fit."""
    X, _ = make_blobs(n_samples, n_features, n_clusters, random_state=seed, dtype="float32")
    click.echo(f"data      {n_samples} x {n_features} float32 Gaussian blobs (seed {seed})")
    start = time.perf_counter()
    model = kmeanskit.KMeans(n_clusters, random_state=seed, n_threads=threads).fit(X)
    seconds = time.perf_counter() - start
    click.echo(f"k         {n_clusters}")
    click.echo(f"iters     {model.n_iter_}")
    click.echo(f"stopped   {model.stop_reason_} (converged: {model.converged_})")
    click.echo(f"inertia   {model.inertia_:.6g}")
    click.echo(f"time      {seconds:.3f} s (first run includes compiling the kernels)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv``; return the exit code."""
    try:
        cli.main(args=argv, prog_name="kmeanskit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
