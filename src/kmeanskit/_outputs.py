"""Output files: never over an input, never half-written, extras checked before any work.

Standard library only, so that the command line can check its paths before numpy loads.
Every writer (model files, labels, pictures, data sets, exported pages) goes through
``staged``: the bytes go to a temporary file beside the target, renamed into place only
when the whole command succeeded, so a failure or Ctrl-C leaves the old files as they were.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence

#: Picture formats matplotlib writes without a third-party backend, by file suffix.
PICTURE_FORMATS = ("png", "pdf", "svg")


class OutputPathError(ValueError):
    """An output path is unusable (an input, another output, an unknown suffix): a usage
    error, raised before any work."""


def picture_format(path: str | os.PathLike) -> str:
    """The format of a picture file from its suffix (``png``, ``pdf`` or ``svg``)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if suffix not in PICTURE_FORMATS:
        known = ", ".join(f".{f}" for f in PICTURE_FORMATS[:-1]) + f" or .{PICTURE_FORMATS[-1]}"
        raise ValueError(f"{os.fspath(path)}: the picture's name must end in {known}")
    return suffix


def _same_file(a: str, b: str) -> bool:
    # realpath catches ./x and x, symbolic links and not-yet-existing files; samefile
    # catches hard links and different mount paths of one existing file.
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check(
    inputs: Iterable[str | None],
    outputs: Sequence[tuple[str, str | None]],
    pictures: Sequence[str] = (),
) -> None:
    """Refuse outputs that would lose data or work, before anything is read.

    Parameters
    ----------
    inputs : paths read by the command (None and ``"-"`` are skipped)
    outputs : (option, path) of every output (None and ``"-"`` are skipped)
    pictures : the options among ``outputs`` that write pictures (need matplotlib)

    Raises
    ------
    OutputPathError
        An output is an input, two outputs are one file, a folder is missing, or a
        picture has an unknown suffix.
    ImportError
        An extra that an input or output needs is not installed (names the extra).
    """
    files = [(option, os.fspath(p)) for option, p in outputs if p is not None and p != "-"]
    sources = [os.fspath(p) for p in inputs if p is not None and p != "-"]
    for i, (option, path) in enumerate(files):
        for source in sources:
            if _same_file(path, source):
                raise OutputPathError(
                    f"{option} {path} is the input {source}: writing it would destroy the "
                    "input; choose another output path"
                )
        for other, earlier in files[:i]:
            if _same_file(path, earlier):
                raise OutputPathError(
                    f"{other} and {option} are both {path}: one would overwrite the other; "
                    "give each output its own path"
                )
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise OutputPathError(f"{option} {path}: no folder {folder}; create it first")
        if option in pictures:
            try:
                picture_format(path)
            except ValueError as exc:
                raise OutputPathError(f"{option} {exc}") from None
    _require_extras(sources + [p for _, p in files], [p for o, p in files if o in pictures])


def _require_extras(paths: Iterable[str], pictures: Iterable[str]) -> None:
    from kmeanskit.io import require

    if any(True for _ in pictures):
        require("matplotlib", "plot")
    if any(p.lower().endswith((".parquet", ".pq")) for p in paths):
        require("pyarrow.parquet", "parquet")


def _temporary(path: str) -> str:
    """A new empty file beside ``path``, with the mode a new file gets (0666 less umask)."""
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "no such folder to write in", path)
    while True:
        # The name keeps the target's suffix: writers that pick a format by suffix
        # (pyarrow, matplotlib) see the same one.
        tmp = os.path.join(folder, f".kmeanskit-{secrets.token_hex(4)}-{name}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextlib.contextmanager
def staged() -> Iterator[Callable[[str | os.PathLike], str]]:
    """Yield ``stage(path)``, which returns a temporary path to write ``path``'s bytes to.

    When the block ends normally every staged file is renamed onto its target; when it
    raises (Ctrl-C included), every staged file is removed and no target is touched.
    ``"-"`` (standard output) is returned as it is.
    """
    pending: list[tuple[str, str]] = []

    def stage(path: str | os.PathLike) -> str:
        path = os.fspath(path)
        if path == "-":
            return path
        pending.append((_temporary(path), path))
        return pending[-1][0]

    try:
        yield stage
        for tmp, path in pending:
            os.replace(tmp, path)
    finally:
        for tmp, _ in pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic(path: str | os.PathLike) -> Iterator[str]:
    """One file written atomically: yields the temporary path to write to."""
    with staged() as stage:
        yield stage(path)
