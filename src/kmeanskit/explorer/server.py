"""The explorer's local web server (standard library only) and the offline export.

It binds to 127.0.0.1 only, answers only requests whose Host header names that address
(a guard against DNS rebinding), serves the files of ``static/`` by exact name and a
small JSON API; it reads no file but the one given on the command line.

It listens at once and warms the kernels up in the background (``warm.py``): until
that is done ``/api/status`` says what is happening and the endpoints that run K-means
answer 503 (the page waits for ``ready`` and shows a busy state meanwhile).
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kmeanskit.explorer.data import BadRequest, Store, presets, search_runs, traps
from kmeanskit.explorer.warm import WarmUp

STATIC = Path(__file__).parent / "static"
#: Largest upload accepted (bytes); larger ones get 413.
MAX_UPLOAD = 20 * 2**20
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
#: The scripts of the page, in load order (the export inlines them in this order).
SCRIPTS = ("plot.js", "lab.js", "app.js")
#: The endpoints that run the kernels: refused until the warm-up is done.
COMPUTE = frozenset({"trace", "lab", "elbow"})


class ExplorerServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that serves one ``Store``.

    It listens as soon as it is made and starts ``warm_up`` (by default
    ``kmeanskit.precompile``) in a background thread; ``self.warm`` tells how that goes.
    """

    daemon_threads = True
    # The standard library's 5 overflows when the page (or a test) opens many at once.
    request_queue_size = 64

    def __init__(
        self,
        store: Store,
        port: int = 0,
        k: int | None = None,
        warm_up: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.store = store
        self.warm = WarmUp(warm_up)
        self.warm.start()
        self.default_k = k
        self.static = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES}
        port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    @property
    def url(self) -> str:
        start = "?data=file" if self.store.file is not None else ""
        if self.default_k is not None:
            start += ("&" if start else "?") + f"k={self.default_k}"
        return f"http://127.0.0.1:{self.server_address[1]}/{start}"

    def config(self) -> dict[str, Any]:
        file = self.store.file
        return {
            "offline": False,
            "file": None if file is None else file.source,
            "k": self.default_k,
            "presets": presets(),
            "traps": traps(self.store),
            "max_upload": MAX_UPLOAD,
        }


class Handler(BaseHTTPRequestHandler):
    server: ExplorerServer
    protocol_version = "HTTP/1.1"
    server_version = "kmeanskit-explorer"
    #: Seconds a connection may stay silent (the socket timeout): no thread waits forever.
    timeout = 10
    #: Seconds the whole body of an upload may take to arrive.
    body_seconds = 30
    _replied = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the terminal shows the URL, not every request

    # -- replies ---------------------------------------------------------------------

    def _send(
        self,
        code: int,
        body: bytes,
        ctype: str,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._replied = True
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", _CSP)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(
        self, code: int, obj: Any, close: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(obj, allow_nan=False).encode()
        self._send(code, body, "application/json", close, headers)

    def _error(
        self, code: int, message: str, close: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        self._json(code, {"error": message}, close, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's errors (bad request line, unknown method, ...) as JSON."""
        if self.request_version in ("", "HTTP/0.9"):  # an unreadable request line
            self.request_version = "HTTP/1.0"  # so that the status line and headers are sent
        if code == 501:  # an unsupported method: the 405 the docs promise
            self._not_allowed()
            return
        self._error(code, message or explain or "bad request", close=True)

    def _guarded(self, handle: Callable[[], None]) -> None:
        """Run ``handle``; any exception that escapes it becomes a JSON 500."""
        self._replied = False
        try:
            handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left; nobody to tell
        except Exception as exc:
            self.close_connection = True
            _say(f"kmeanskit explorer: {self.command} {self.path[:200]} failed (a bug):")
            traceback.print_exc()
            if not self._replied:
                self._error(500, f"{type(exc).__name__}: {exc} (this is a bug)", close=True)

    def _origin_ok(self) -> bool:
        """Refuse (403) requests made by a page of another origin (or site)."""
        origin = self.headers.get("Origin")
        site = self.headers.get("Sec-Fetch-Site")
        other = origin is not None and origin.removeprefix("http://") not in self.server.hosts
        if other or site in ("cross-site", "same-site"):
            self._error(403, "the API answers only the explorer page itself", close=True)
            return False
        return True

    def _host_ok(self) -> bool:
        if self.headers.get("Host", "") not in self.server.hosts:
            self._error(403, "this server answers only http://127.0.0.1:PORT", close=True)
            return False
        return True

    # -- methods ---------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        self._guarded(self._get)

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _get(self) -> None:
        if not self._host_ok():
            return
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", "/index.html"):
            path = "/static/index.html"
        if path.startswith("/static/"):
            name = path[len("/static/") :]
            file = self.server.static.get(name)
            if file is None:
                self._error(404, f"no such file: {path}")
                return
            self._send(200, file.read_bytes(), _TYPES[file.suffix])
            return
        if not path.startswith("/api/"):
            self._error(404, f"no such page: {path}")
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        self._api(path[len("/api/") :], params)

    def _kernels_ok(self) -> bool:
        """Answer 503 while the kernels warm up (500 if that failed); True when ready.

        A refusal rather than a wait: a request held for tens of seconds looks like the
        hang this replaces, and the page never asks before ``/api/status`` says ready."""
        warm = self.server.warm
        if warm.ready:
            return True
        if warm.state == "failed":
            self._error(500, f"{warm.message} Runs cannot be computed: see the terminal.")
            return False
        message = warm.message.rstrip("…. ")
        error = f"not ready: {message}; retry when /api/status says ready"
        self._json(503, {"error": error, "warming": True}, headers={"Retry-After": "1"})
        return False

    def _api(self, name: str, params: dict[str, str]) -> None:
        store = self.server.store
        routes = {
            "status": lambda: self.server.warm.status(),
            "config": lambda: self.server.config(),
            "dataset": lambda: store.dataset(params).as_dict(),
            "trace": lambda: store.trace(params),
            "lab": lambda: store.lab(params),
            "elbow": lambda: store.elbow(params),
        }
        if name not in routes:
            self._error(404, f"no such API: /api/{name}")
            return
        if not self._origin_ok():
            return
        if name in COMPUTE and not self._kernels_ok():
            return
        try:
            result = routes[name]()
        except ValueError as exc:  # BadRequest and the library's own input checks
            self._error(400, str(exc))
            return
        self._json(200, result)

    def _read_body(self, length: int) -> bytes | None:
        """The body, or None (after a 408) when it does not arrive in ``body_seconds``."""
        deadline = time.monotonic() + self.body_seconds
        chunks, left = [], length
        try:
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(left, 2**16))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except TimeoutError:
            pass
        if left > 0:
            self._error(408, f"the body did not arrive ({length - left} of {length} bytes)", True)
            return None
        return b"".join(chunks)

    def _post(self) -> None:
        if not self._host_ok():
            return
        if urlsplit(self.path).path != "/api/upload":
            self._error(404, f"no such API: {self.path}", close=True)
            return
        if not self._origin_ok():
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._error(411, "send the file with a Content-Length", close=True)
            return
        if int(length) > MAX_UPLOAD:
            self._error(
                413, f"the file is over the {MAX_UPLOAD // 2**20} MB upload limit", close=True
            )
            return
        body = self._read_body(int(length))
        if body is None:
            return
        name = re.sub(r"[^\w.\- ]", "_", self.headers.get("X-Filename", "upload.csv"))[:100]
        try:
            self._json(200, self.server.store.upload(body, name or "upload.csv"))
        except BadRequest as exc:
            self._error(400, str(exc))

    def _not_allowed(self) -> None:
        message = f"method {self.command} is not allowed: use GET, HEAD or POST"
        self._error(405, message, close=True, headers={"Allow": "GET, HEAD, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def serve(server: ExplorerServer, open_browser: bool = True) -> None:
    """Open the browser, serve until interrupted, and print the address once the kernels
    are warm (the page shows a busy state until then).

    The library's "compiling ..." line goes to the terminal through the ``kmeanskit``
    logger; with no logging handler configured, it is printed here.
    """

    def done(warm: WarmUp) -> None:
        if warm.ready:
            _say(f"kmeanskit explorer on {server.url}  (Ctrl-C to stop)")
        else:
            _say(f"kmeanskit explorer on {server.url}, but {warm.message}")
            _say("The page cannot run K-means until that is fixed (Ctrl-C to stop).")

    server.warm.watch(None if server.warm.logged_elsewhere else _say, done)
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _summary(trace: dict[str, Any], seed: int) -> dict[str, Any]:
    keys = ("inertia", "n_iter", "stop_reason", "labels", "centers")
    return {"seed": seed, **{key: trace[key] for key in keys}}


def _script(text: str) -> str:
    return text.replace("</", "<\\/")


def _data(obj: Any) -> str:
    """JSON to inline in a <script>: no "<" at all, so neither "</script>" nor "<!--" nor
    "<script" can end or confuse the script element ("<" only occurs inside strings)."""
    return json.dumps(obj).replace("<", "\\u003c")


def export_page(
    path: str | Path, store: Store, params: dict[str, str], n_seeds: int = 12
) -> dict[str, Any]:
    """Write one self-contained HTML page (scripts, styles and data inlined).

    No Python runs behind it, so it carries precomputed runs: the data of ``params``, its
    k with the three seeded inits for seeds 0..n_seeds-1, and the elbow.
    """
    data = store.dataset(params)
    k = Store.number(params, "k", 3, 1, 40)
    traces = {}
    for init in ("k-means++", "random", "farthest"):
        for seed in range(n_seeds):
            run = {**params, "k": str(k), "init": init, "seed": str(seed)}
            traces[f"{init}|{seed}"] = store.trace(run)
    lab = {"k": k, "seeds": list(range(n_seeds))}
    for init in ("random", "k-means++"):
        lab[init] = [_summary(traces[f"{init}|{seed}"], seed) for seed in range(n_seeds)]
    lab["search"] = search_runs(data.X, k, n_seeds)
    offline = {
        "offline": True,
        "file": None,
        "k": k,
        "presets": presets(),
        "traps": [],
        "params": {**params, "k": str(k)},
        "dataset": data.as_dict(),
        "traces": traces,
        "lab": lab,
        "elbow": store.elbow(params),
    }
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    html = html.replace('<link rel="stylesheet" href="static/style.css">', f"<style>{css}</style>")
    # No Python behind the page: forbid every network request, inline code only.
    csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
    meta = f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
    html = html.replace('<meta charset="utf-8">', f'<meta charset="utf-8">\n{meta}', 1)
    data_tag = f"<script>window.KMEANS_OFFLINE = {_data(offline)};</script>"
    scripts = "".join(
        f"<script>{_script((STATIC / name).read_text(encoding='utf-8'))}</script>"
        for name in SCRIPTS
    )
    tags = "".join(f'<script src="static/{name}"></script>' for name in SCRIPTS)
    if tags not in html:
        raise RuntimeError("index.html does not load the scripts in SCRIPTS order")
    html = html.replace(tags, data_tag + scripts)
    Path(path).write_text(html, encoding="utf-8")
    return offline


__all__ = ["MAX_UPLOAD", "ExplorerServer", "export_page", "serve"]
