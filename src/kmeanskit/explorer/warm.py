"""The kernels' warm-up behind a server that already listens, and what it tells.

The first use of kmeanskit in an environment compiles its numba kernels (tens of
seconds on a small machine). The explorer listens at once and compiles in a background
thread; the page asks ``/api/status`` and shows a busy state meanwhile, and the terminal
shows the library's own line ("compiling kmeanskit's float64 kernels ...") before the
ready line. Until the warm-up is done, every endpoint that runs K-means answers 503.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import kmeanskit

#: The logger kmeanskit announces a compile through.
LOGGER = "kmeanskit"
STARTING = "Loading kmeanskit's kernels…"
COMPILING = "Compiling kmeanskit's kernels for this machine, once…"


def _shown(logger: logging.Logger) -> bool:
    """Whether a handler (other than a NullHandler) shows what ``logger`` logs."""
    node: logging.Logger | None = logger
    while node is not None:
        if any(not isinstance(h, logging.NullHandler) for h in node.handlers):
            return True
        node = node.parent if node.propagate else None
    return False


def _sentence(line: str) -> str:
    """A log line as the page shows it: capitalised, with a real ellipsis."""
    line = line.strip().replace("...", "…")
    return line[:1].upper() + line[1:]


class _Capture(logging.Handler):
    """Hands the warm-up thread's log records (and only those) to its ``WarmUp``."""

    def __init__(self, warm: WarmUp) -> None:
        super().__init__(logging.INFO)
        self.warm = warm

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName == self.warm.thread_name:
            self.warm._logged(record.getMessage())


class WarmUp:
    """Runs ``fn`` once in a daemon thread and says how it goes.

    Parameters
    ----------
    fn : callable, optional
        Called without arguments; ``kmeanskit.precompile`` when None. Tests pass one that
        blocks on an event.
    """

    def __init__(self, fn: Callable[[], Any] | None = None) -> None:
        self._fn = fn
        self._cond = threading.Condition()
        self.state = "starting"  # then "compiling" (when it really compiles), "ready", "failed"
        self.message = STARTING
        self.error: str | None = None
        self.lines: list[str] = []  # what the library logged, for the terminal
        self.thread_name = f"kmeanskit-warm-up-{id(self):x}"
        # Whether a logging handler shows the library's line already (else serve() does).
        self.logged_elsewhere = _shown(logging.getLogger(LOGGER))
        self._on_line: Callable[[str], None] | None = None
        self._on_done: Callable[[WarmUp], None] | None = None
        self._t0 = time.monotonic()
        self._t1: float | None = None
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def done(self) -> bool:
        return self.state in ("ready", "failed")

    def start(self) -> None:
        """Start the thread (once)."""
        with self._cond:
            if self._thread is not None:
                return
            self._t0 = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is done (ready or failed); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.done, timeout)

    def watch(
        self, on_line: Callable[[str], None] | None, on_done: Callable[[WarmUp], None]
    ) -> None:
        """Call ``on_line`` with every line the library logged (those before too) and
        ``on_done`` once it is done (at once if it is)."""
        with self._cond:
            lines = list(self.lines)
            self._on_line = on_line
            done = self.done
            if not done:
                self._on_done = on_done
        if on_line is not None:
            for line in lines:
                on_line(line)
        if done:
            on_done(self)

    def status(self) -> dict[str, Any]:
        """What ``/api/status`` answers."""
        with self._cond:
            end = self._t1 if self._t1 is not None else time.monotonic()
            return {
                "ready": self.ready,
                "state": self.state,
                "message": self.message,
                "seconds": round(end - self._t0, 1),
                "error": self.error,
            }

    # -- the thread ------------------------------------------------------------------

    def _logged(self, line: str) -> None:
        with self._cond:
            self.lines.append(line)
            if "compiling" in line.lower():
                self.state = "compiling"
            self.message = _sentence(line)
            on_line = self._on_line
        if on_line is not None:
            on_line(line)

    def _run(self) -> None:
        logger = logging.getLogger(LOGGER)
        capture = _Capture(self)
        logger.addHandler(capture)
        try:
            # Said before the library's own line, which names the dtype and the time, in
            # case that line is silenced (a logging level above WARNING).
            if not kmeanskit.kernels_ready():
                with self._cond:
                    self.state, self.message = "compiling", COMPILING
            (self._fn or kmeanskit.precompile)()
        except Exception as exc:  # whatever it is, the page and the terminal say it
            self._finish("failed", f"{type(exc).__name__}: {exc}")
        else:
            self._finish("ready")
        finally:
            logger.removeHandler(capture)

    def _finish(self, state: str, error: str | None = None) -> None:
        with self._cond:
            self.state, self.error, self._t1 = state, error, time.monotonic()
            if error is None:
                self.message = "kmeanskit's kernels are ready."
            else:
                self.message = f"kmeanskit's kernels could not be compiled ({error})."
            on_done, self._on_done = self._on_done, None
            self._cond.notify_all()
        if on_done is not None:
            on_done(self)


__all__ = ["WarmUp"]
