"""The explorer's HTTP server, spoken to with plain http.client: the API returns what the
library computes, bad requests get a clear 4xx, and while the kernels warm up the
status says so and runs get 503."""

import http.client
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import numpy as np
import pytest
from naive import naive_inertia
from warm_ups import COMPILE_LINE, Blocking

import kmeanskit
from kmeanskit import cli
from kmeanskit import io as kio
from kmeanskit.datasets import make_blobs
from kmeanskit.explorer import ExplorerServer, Store, export_page, serve
from kmeanskit.explorer.data import PRESETS
from kmeanskit.explorer.server import MAX_UPLOAD

ISSUE_PRESETS = [
    "blobs",
    "uniform",
    "anisotropic",
    "unequal-variance",
    "uneven",
    "moons",
    "rings",
    "smiley",
    "smiley-outliers",
    "packed-discs",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("explore") / "three.csv"
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.3, size=(30, 3)) for c in (0, 4, 8)])
    np.savetxt(path, X, delimiter=",", header="a,b,c", comments="")
    srv = ExplorerServer(Store(kio.read_table(str(path))), 0, 3)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    assert srv.warm.wait(600) and srv.warm.ready, srv.warm.status()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(srv, method, path, body=None, headers=None, host=None, reply_headers=None):
    port = srv.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host or f"127.0.0.1:{port}")
    for key, value in (headers or {}).items():
        conn.putheader(key, value)
    if body is not None and "Content-Length" not in (headers or {}):
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body is not None:
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) before reading the body
    resp = conn.getresponse()
    if reply_headers is not None:
        reply_headers.update(resp.getheaders())
    data = resp.read()
    conn.close()
    ctype = resp.getheader("Content-Type", "")
    return resp.status, json.loads(data) if "json" in ctype and data else data


def get(srv, path, **kw):
    return request(srv, "GET", path, **kw)


def test_trace_is_the_library_trace(server):
    status, body = get(server, "/api/trace?data=blobs&k=5&init=random&seed=3")
    assert status == 200
    X, _ = make_blobs(400, 2, 5, cluster_std=1.0, spread=10.0, random_state=0)
    assert body == json.loads(
        json.dumps(kmeanskit.trace(X, 5, init="random", random_state=3).as_dict())
    )


def test_config_presets_and_every_dataset(server):
    status, cfg = get(server, "/api/config")
    assert status == 200 and cfg["file"].endswith("three.csv") and cfg["k"] == 3
    assert [p["name"] for p in cfg["presets"]][: len(ISSUE_PRESETS)] == ISSUE_PRESETS
    assert {t["key"] for t in cfg["traps"]} >= {"wrong-k", "empty", "one-blob", "mixed-units"}
    for name in PRESETS:
        status, data = get(server, f"/api/dataset?data={name}&n=50&dseed=2")
        assert status == 200 and data["n"] == 50 and len(data["X"]) == 50 and data["d"] == 2
    _, a = get(server, "/api/dataset?data=blobs&n=50&noise=0.5")
    _, b = get(server, "/api/dataset?data=blobs&n=50")
    assert a["X"] != b["X"]


def test_file_from_the_command_line_is_fitted_in_full_and_projected(server):
    status, data = get(server, "/api/dataset?data=file")
    assert status == 200 and data["d"] == 3 and data["projection"]["pca"]
    assert data["projection"]["axes"][0].startswith("PC1 (")
    comps = np.array(data["projection"]["comps"])
    assert np.allclose(comps @ comps.T, np.eye(2), atol=1e-12)
    _, t = get(server, "/api/trace?data=file&k=3&seed=1")
    assert np.array(t["centers"]).shape == (3, 3)


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_page_and_cli_fit_give_the_same_run(server, capsys, init):
    _, t = get(server, f"/api/trace?data=file&k=3&init={quote(init)}&seed=2")
    args = ["--init", init, "--n-init", "1", "--search", "none", "--seed", "2", "--tol", "0"]
    args += ["--max-iter", "100"]
    assert cli.main(["fit", server.store.file.source, "-k", "3", *args, "--json", "-q"]) == 0
    fit = json.loads(capsys.readouterr().out)
    assert (fit["inertia"], fit["centers"], fit["n_iter"]) == (
        t["inertia"],
        t["centers"],
        t["n_iter"],
    )


def test_lab_runs_every_seed_with_both_inits(server):
    status, lab = get(server, "/api/lab?data=uneven&k=5&seeds=4")
    assert status == 200 and lab["seeds"] == [0, 1, 2, 3]
    X = PRESETS["uneven"].make(500, 0)[0]
    for init in ("random", "k-means++"):
        for run in lab[init]:
            t = kmeanskit.trace(X, 5, init=init, random_state=run["seed"])
            assert run["inertia"] == t.inertia and run["labels"] == t.labels.tolist()
    for run, start in zip(lab["search"], lab["k-means++"], strict=True):
        km = kmeanskit.KMeans(5, random_state=run["seed"], tol=0.0).fit(X)
        assert run["inertia"] == km.inertia_ and run["labels"] == km.labels_.tolist()
        assert run["lloyd_inertia"] == start["inertia"]  # the same start, before the search
        assert run["inertia"] <= start["inertia"]


def test_elbow_starts_at_the_total_sum_of_squares(server):
    status, elbow = get(server, "/api/elbow?data=moons&kmax=4")
    X = PRESETS["moons"].make(400, 0)[0]
    assert status == 200 and elbow["k"] == [1, 2, 3, 4]
    total = naive_inertia(X, X.mean(axis=0, keepdims=True), np.zeros(len(X), dtype=int))
    assert elbow["inertia"][0] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize(
    "query, words",
    [
        ("k=0", "k="),
        ("k=abc", "not a whole number"),
        ("k=20&n=10", "more than the 10 points"),
        ("init=bogus", "init="),
        ("data=nope", "not a preset"),
        ("noise=-1", "noise="),
        ("init=manual&k=2&centers=1,2", "needs k=2 centres"),
        ("init=manual&k=1&centers=a,b", "x,y;x,y"),
        ("data=upload:missing", "upload"),
    ],
)
def test_bad_parameters_get_400_with_a_message(server, query, words):
    status, body = get(server, f"/api/trace?data=blobs&{query}")
    assert status == 400 and words in body["error"]


def test_host_header_is_checked(server):
    port = server.server_address[1]
    assert get(server, "/", host=f"evil.example:{port}")[0] == 403
    assert get(server, "/", host="127.0.0.1")[0] == 403
    assert get(server, "/", host=f"localhost:{port}")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/api/nope",
        "/static/../server.py",
        "/static/%2e%2e/data.py",
        "/static/",
        "/etc/passwd",
    ],
)
def test_unknown_paths_and_traversal_are_404(server, path):
    assert get(server, path)[0] == 404


def test_static_files_and_headers(server):
    status, body = get(server, "/")
    assert status == 200 and b'<canvas id="plot"' in body
    assert not re.search(rb"(src|href)=\"(https?:)?//", body)
    status, body = get(server, "/static/app.js")
    assert status == 200 and b"kmeansState" in body


def test_upload_good_bad_and_too_big(server):
    status, up = request(server, "POST", "/api/upload", b"x,y\n1,2\n3,4\n5,7\n")
    assert status == 200 and (up["n"], up["d"], up["columns"]) == (3, 2, ["x", "y"])
    status, t = get(server, f"/api/trace?data=upload:{up['id']}&k=2")
    assert status == 200 and len(t["labels"]) == 3
    bad = b"x,y\n1,2\n3,oops\n"
    status, err = request(server, "POST", "/api/upload", bad, {"X-Filename": "mine.csv"})
    assert status == 400
    assert "mine.csv, line 3, column 'y': 'oops' is not a number" in err["error"]
    big = {"Content-Length": str(MAX_UPLOAD + 1)}
    assert request(server, "POST", "/api/upload", b"x", big)[0] == 413
    other = {"Origin": "http://evil.example"}
    assert request(server, "POST", "/api/upload", b"x\n1\n", other)[0] == 403
    assert request(server, "POST", "/api/other", b"")[0] == 404
    assert request(server, "PUT", "/api/upload", b"")[0] == 405


def test_server_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"


def test_export_is_one_self_contained_page(tmp_path):
    path = tmp_path / "page.html"
    offline = export_page(path, Store(), {"data": "moons", "k": "2"})
    html = path.read_text()
    assert len(offline["traces"]) == 36 and offline["lab"]["k"] == 2
    assert "window.KMEANS_OFFLINE" in html and "<style>" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert 'src="static/' not in html
    assert html.count("<script") == html.count("</script>") == 4


# -- the warm-up: the first start in an environment compiles the kernels ---------------

RUNS = ("/api/trace?data=blobs&k=3", "/api/lab?data=blobs&k=3&seeds=2", "/api/elbow?data=blobs")


@contextmanager
def running(warm_up):
    srv = ExplorerServer(Store(), 0, warm_up=warm_up)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv
    finally:
        if isinstance(warm_up, Blocking):
            warm_up.release.set()
        srv.shutdown()
        srv.server_close()


def test_status_and_runs_while_the_kernels_compile_then_after(server):
    warm = Blocking()
    with running(warm) as srv:
        assert warm.started.wait(30)
        status, st = get(srv, "/api/status")
        assert status == 200 and st["ready"] is False and st["state"] == "compiling"
        message = "Compiling kmeanskit's float64 kernels for this machine, once (about 10 s)…"
        assert st["message"] == message and st["error"] is None and st["seconds"] >= 0
        for path in RUNS:  # refused at once, with what is happening and when to retry
            headers = {}
            status, body = request(srv, "GET", path, reply_headers=headers)
            assert status == 503 and body["warming"] is True and headers["Retry-After"] == "1"
            assert body["error"] == (
                "not ready: Compiling kmeanskit's float64 kernels for this machine, once "
                "(about 10 s); retry when /api/status says ready"
            )
        # What the page needs to fill its form answers meanwhile (it runs no kernel).
        assert get(srv, "/api/config")[0] == 200
        assert get(srv, "/api/dataset?data=moons")[0] == 200
        warm.release.set()
        assert srv.warm.wait(30)
        status, st = get(srv, "/api/status")
        assert st["ready"] is True and st["state"] == "ready" and st["error"] is None
        status, t = get(srv, "/api/trace?data=blobs&k=5&init=random&seed=3")
        assert status == 200 and t == get(server, "/api/trace?data=blobs&k=5&init=random&seed=3")[1]


def test_a_failed_warm_up_is_reported():
    warm = Blocking(RuntimeError("no LLVM for this CPU"))
    with running(warm) as srv:
        warm.release.set()
        assert srv.warm.wait(30)
        status, st = get(srv, "/api/status")
        assert status == 200 and st["ready"] is False and st["state"] == "failed"
        assert st["error"] == "RuntimeError: no LLVM for this CPU"
        assert "could not be compiled (RuntimeError: no LLVM for this CPU)" in st["message"]
        for path in RUNS:
            status, body = get(srv, path)
            assert status == 500 and "could not be compiled" in body["error"]
            assert "no LLVM for this CPU" in body["error"] and "see the terminal" in body["error"]


def _stderr_until(capsys, seen, text, timeout=30):
    deadline = time.monotonic() + timeout
    while text not in seen[0] and time.monotonic() < deadline:
        seen[0] += capsys.readouterr().err
        time.sleep(0.02)
    return seen[0]


@pytest.mark.parametrize("handler", [False, True])
def test_terminal_says_ready_only_after_the_warm_up(capsys, caplog, monkeypatch, handler):
    logger = logging.getLogger("kmeanskit")
    if not handler:  # logging unconfigured: serve() prints the library's line itself
        monkeypatch.setattr(logger, "propagate", False)
    warm = Blocking()
    srv = ExplorerServer(Store(), 0, warm_up=warm)
    thread = threading.Thread(target=serve, args=(srv, False), daemon=True)
    thread.start()
    try:
        assert warm.started.wait(30)
        assert get(srv, "/api/status")[1]["state"] == "compiling"  # it serves meanwhile
        seen = [""]
        if not handler:
            assert COMPILE_LINE in _stderr_until(capsys, seen, COMPILE_LINE)
        time.sleep(0.2)
        seen[0] += capsys.readouterr().err
        assert "kmeanskit explorer on" not in seen[0]
        warm.release.set()
        err = _stderr_until(capsys, seen, "(Ctrl-C to stop)")
        ready = f"kmeanskit explorer on {srv.url}  (Ctrl-C to stop)"
        assert ready in err
        if handler:  # the configured handler shows it, once; serve() does not repeat it
            assert COMPILE_LINE not in err
            assert [r.getMessage() for r in caplog.records].count(COMPILE_LINE) == 1
        else:
            assert err.index(COMPILE_LINE) < err.index(ready)
    finally:
        warm.release.set()
        srv.shutdown()
        thread.join(30)


def test_cached_kernels_no_compile_line_and_ready_at_once(capsys, monkeypatch):
    monkeypatch.setattr(logging.getLogger("kmeanskit"), "propagate", False)
    srv = ExplorerServer(Store(), 0, warm_up=lambda: 0.0)
    thread = threading.Thread(target=serve, args=(srv, False), daemon=True)
    thread.start()
    try:
        err = _stderr_until(capsys, [""], "(Ctrl-C to stop)")
        assert err == f"kmeanskit explorer on {srv.url}  (Ctrl-C to stop)\n"
        assert get(srv, "/api/status")[1]["ready"] is True
    finally:
        srv.shutdown()
        thread.join(30)


def test_failed_warm_up_is_said_in_the_terminal(capsys):
    warm = Blocking(RuntimeError("no LLVM for this CPU"))
    warm.release.set()
    srv = ExplorerServer(Store(), 0, warm_up=warm)
    thread = threading.Thread(target=serve, args=(srv, False), daemon=True)
    thread.start()
    try:
        err = _stderr_until(capsys, [""], "(Ctrl-C to stop)")
        assert "could not be compiled (RuntimeError: no LLVM for this CPU)" in err
        assert "cannot run K-means" in err
    finally:
        srv.shutdown()
        thread.join(30)


def test_cli_export_and_bad_data(tmp_path, capsys):
    path = tmp_path / "p.html"
    assert cli.main(["explore", "--export", str(path), "-k", "4"]) == 0
    assert path.stat().st_size > 10_000
    assert cli.main(["explore", str(tmp_path / "missing.csv"), "--no-open"]) == 1
    assert "no such file" in capsys.readouterr().err


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_cli_serves_until_ctrl_c_then_exits_130():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmeanskit", "explore", "--no-open"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A terminal's Ctrl-C: the default SIGINT. An ignored SIGINT is inherited, and
        # on cold CI runs pytest was found ignoring it by the time this test ran.
        preexec_fn=_default_sigint,
    )
    try:
        # A cold environment first says that it compiles; the address comes when ready.
        lines = [proc.stderr.readline()]
        if lines[0].startswith("compiling kmeanskit's"):
            lines.append(proc.stderr.readline())
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", lines[-1])
        assert url, lines
        conn = http.client.HTTPConnection("127.0.0.1", int(url.group(1)), timeout=30)
        conn.request("GET", "/api/status")
        assert json.loads(conn.getresponse().read())["ready"] is True
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert "interrupted" in proc.stderr.read()
    finally:
        proc.kill()


# -- reliability: what the server refuses, and that it always answers (issue 19) -------


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/trace?data=blobs&seed=99999999999999999999", "seed"),
        ("/api/trace?data=blobs&k=99999999999999999999", "k"),
        ("/api/dataset?data=blobs&dseed=-99999999999999999999", "dseed"),
        ("/api/dataset?data=blobs&n=1e400", "n"),
        ("/api/lab?data=blobs&seeds=99999999999999999999", "seeds"),
        ("/api/elbow?data=blobs&kmax=99999999999999999999", "kmax"),
        ("/api/dataset?data=blobs&noise=1e400", "noise"),
        ("/api/trace?data=blobs&max_iter=" + "9" * 5000, "max_iter"),
    ],
)
def test_huge_numbers_get_400_naming_the_parameter_and_its_range(server, path, name):
    status, body = get(server, path)
    assert status == 400, body
    assert body["error"].startswith(f"{name}=") and (
        "between" in body["error"] or "whole" in body["error"]
    )


def test_a_field_over_the_csv_limit_gets_400(server):
    body = b"x,y\n1," + b"2" * 200_000 + b"\n3,4\n"
    status, err = request(server, "POST", "/api/upload", body, {"X-Filename": "long.csv"})
    assert status == 400 and "long.csv" in err["error"]


def test_a_bug_in_a_handler_is_a_json_500_not_an_empty_reply(server, monkeypatch, capsys):
    def boom(params):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(server.store, "trace", boom)
    status, body = get(server, "/api/trace?data=blobs")
    assert status == 500 and "ZeroDivisionError" in body["error"] and "bug" in body["error"]


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW", "OPTIONS", "PUT"])
def test_unsupported_methods_get_json_405_with_allow(server, method):
    headers = {}
    status, body = request(server, method, "/api/trace", reply_headers=headers)
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    assert "method" in body["error"]


def test_a_bad_request_line_gets_json(server):
    import socket

    with socket.create_connection(server.server_address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/9.9\r\n\r\n")
        reply = sock.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"application/json" in head and "error" in json.loads(body)


@pytest.fixture
def quick_timeout(monkeypatch):
    from kmeanskit.explorer.server import Handler

    monkeypatch.setattr(Handler, "timeout", 1)
    monkeypatch.setattr(Handler, "body_seconds", 2)


def test_a_short_body_does_not_hold_a_thread(quick_timeout):
    import socket

    with running(lambda: 0.0) as srv:
        port = srv.server_address[1]
        with socket.create_connection(srv.server_address, timeout=20) as sock:
            head = f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 1000"
            sock.sendall(head.encode() + b"\r\n\r\n0123456789")
            t0 = time.monotonic()
            reply = sock.recv(65536)
            assert time.monotonic() - t0 < 10
        assert reply.startswith(b"HTTP/1.1 408") and b"application/json" in reply
        # A slow drip (one byte a second, under the socket timeout) is cut off as well.
        with socket.create_connection(srv.server_address, timeout=20) as sock:
            sock.sendall(head.encode() + b"\r\n\r\n")
            t0 = time.monotonic()
            sock.settimeout(0.5)
            reply = b""
            while not reply and time.monotonic() - t0 < 10:
                try:
                    sock.sendall(b"1")
                    reply = sock.recv(65536)
                except TimeoutError:
                    pass
        assert reply.startswith(b"HTTP/1.1 408")


def test_twenty_parallel_connections_all_get_answers():
    import socket

    srv = ExplorerServer(Store(), 0, warm_up=lambda: 0.0)
    try:
        # Connections that arrive while the server is not accepting wait in the listen
        # backlog: with 5 places, the 7th and later are not even connected.
        socks = [socket.create_connection(srv.server_address, timeout=3) for _ in range(20)]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        port = srv.server_address[1]
        for sock in socks:
            sock.sendall(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        replies = [sock.recv(65536) for sock in socks]
        assert all(r.startswith(b"HTTP/1.1 200") for r in replies)
        for sock in socks:
            sock.close()
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.2:{port}"},
        {"Origin": "http://localhost:1"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:1"},
    ],
)
@pytest.mark.parametrize("path", ["/api/trace?data=blobs", "/api/lab?data=blobs&seeds=1"])
def test_requests_from_other_origins_that_compute_get_403(server, headers, path):
    port = server.server_address[1]
    headers = {key: value.format(port=port) for key, value in headers.items()}
    status, body = get(server, path, headers=headers)
    assert status == 403 and "explorer page" in body["error"]
    status, body = request(server, "POST", "/api/upload", b"x\n1\n", headers)
    assert status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost:{port}"},
    ],
)
def test_the_page_itself_and_plain_clients_are_allowed(server, headers):
    port = server.server_address[1]
    headers = {key: value.format(port=port) for key, value in headers.items()}
    assert get(server, "/api/trace?data=blobs&k=2", headers=headers)[0] == 200
    # Navigating to the page from another site's link is fine: it computes nothing.
    assert get(server, "/", headers={"Sec-Fetch-Site": "cross-site"})[0] == 200


@pytest.mark.parametrize(
    "path, lower",
    [
        ("/api/lab?data=uniform&n=20000&k=40&seeds=48&max_iter=500", "seeds"),
        ("/api/elbow?data=uniform&n=20000&kmax=40", "kmax"),
    ],
)
def test_work_over_the_cap_gets_400_naming_the_limit(server, path, lower):
    from kmeanskit.explorer.data import MAX_WORK

    t0 = time.monotonic()
    status, body = get(server, path)
    assert time.monotonic() - t0 < 5  # refused before any work starts
    assert status == 400 and f"{MAX_WORK:,}" in body["error"] and lower in body["error"]


def test_the_page_states_the_work_limit(server):
    from kmeanskit.explorer.data import MAX_WORK

    _, page = get(server, "/")
    assert f"{MAX_WORK / 1e9:g} billion".encode() in page


def test_export_escapes_html_in_the_data(tmp_path):
    store = Store()
    evil = "<!--<script>"
    store.upload(f"{evil},</script>b\n1,2\n3,4\n5,6\n".encode(), "evil.csv")
    key = next(iter(store.uploads))
    path = tmp_path / "page.html"
    export_page(path, store, {"data": f"upload:{key}", "k": "2"}, n_seeds=1)
    html = path.read_text()
    start = html.index("window.KMEANS_OFFLINE = ") + len("window.KMEANS_OFFLINE = ")
    end = html.index(";</script>", start)
    data = html[start:end]
    assert "<" not in data
    assert json.loads(data)["dataset"]["columns"] == [evil, "</script>b"]
    assert html.count("<script") == html.count("</script>") == 4
