"""The explorer page in Chromium (Playwright): it draws what the library computes.

The math is checked in Python on the state the page exposes (``window.kmeansState``).
Every test also checks that no request left 127.0.0.1 and that the console stayed clean.
"""

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from naive import naive_inertia, sq_distances
from warm_ups import Blocking

import kmeanskit
from kmeanskit.explorer import ExplorerServer, Store, export_page
from kmeanskit.explorer.data import PRESETS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(
        f"{CHROMIUM} is missing (scripts/test installs it: apt-get install -y chromium)",
        allow_module_level=True,
    )
if not os.environ.get("CI"):
    pytest.importorskip("playwright.sync_api", reason='pip install "kmeanskit[test]"')
from playwright.sync_api import sync_playwright  # noqa: E402

READY = "s => s && s.ready"


@pytest.fixture(scope="module")
def server():
    srv = ExplorerServer(Store(), 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    # The kernels compile before the clock (the first time in an environment).
    assert srv.warm.wait(600) and srv.warm.ready, srv.warm.status()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page; after the test: no request left 127.0.0.1, no console error."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    requests, errors = [], []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("console", lambda m: m.type in ("error", "warning") and errors.append(m.text))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.base = f"http://127.0.0.1:{server.server_address[1]}/"
    pg.expected_errors = []  # Chromium logs every 4xx answer, even an expected one
    yield pg
    context.close()
    outside = [u for u in requests if urlsplit(u).scheme not in ("file", "data")]
    outside = [u for u in outside if urlsplit(u).hostname != "127.0.0.1"]
    assert outside == []
    assert [e for e in errors if e not in pg.expected_errors] == []


def state(page):
    return page.evaluate("window.kmeansState")


def wait(page, condition="true"):
    page.wait_for_function(f"(s => s && s.ready && ({condition}))(window.kmeansState)")
    return state(page)


def open_run(page, query):
    page.goto(page.base + "?" + query)
    return wait(page, "s.nFrames > 0")


def check_frame(s):
    """Assign: every point with its nearest centroid. Update: every centroid its cluster's
    mean. Both to 1e-9, and the inertia shown is the inertia of that state."""
    X, labels, C = np.array(s["points"]), np.array(s["labels"]), np.array(s["centers"])
    d = sq_distances(X, C)
    if s["kind"] == "assign":
        assert np.all(d[np.arange(len(X)), labels] <= d.min(axis=1) + 1e-9)
    else:
        for j in np.unique(labels):
            assert np.allclose(C[j], X[labels == j].mean(axis=0), rtol=0, atol=1e-9)
    assert s["inertia"] == pytest.approx(naive_inertia(X, C, labels), rel=1e-9)


def test_every_preset_loads(page):
    for name, preset in PRESETS.items():
        s = open_run(page, f"data={name}")
        assert s["params"]["data"] == name and len(s["points"]) == preset.n
        assert s["kind"] == "init" and s["labels"] is None and len(s["centers"]) == preset.k
        assert page.locator("#caption").inner_text() == preset.caption


def test_step_through_a_run(page):
    s = open_run(page, "data=uneven&k=5&init=random&seed=1")
    n = 0
    while not s["badge"]:
        before = s
        nxt = "assign" if s["kind"] in ("init", "update") else "update"
        if n % 3 == 2:
            page.keyboard.press(nxt[0])  # the shortcuts: a, u
        else:
            page.click(f"#{nxt}")
        s = wait(page, f"s.frame === {before['frame'] + 1}")
        assert s["kind"] == nxt
        check_frame(s)
        history = [v for v in s["inertiaHistory"] if v is not None]
        assert all(b <= a * (1 + 1e-12) for a, b in zip(history, history[1:], strict=False))
        assert s["status"].startswith(f"iteration {s['iteration']} - {nxt} - ")
        if nxt == "assign":
            assert f"{len(s['changed'])} points changed - inertia" in s["status"]
        if n % 2 == 0:  # step back restores the state before, exactly
            page.keyboard.press("b") if n % 4 == 0 else page.click("#back")
            back = wait(page, f"s.frame === {before['frame']}")
            for key in ("labels", "centers", "inertia", "kind", "inertiaHistory", "status"):
                assert back[key] == before[key]
            page.click(f"#{nxt}")
            s = wait(page, f"s.frame === {before['frame'] + 1}")
        n += 1
    X = PRESETS["uneven"].make(500, 0)[0]
    t = kmeanskit.trace(X, 5, init="random", random_state=1)
    assert s["badge"] == "converged: no point changed cluster" and s["stopReason"] == t.stop_reason
    assert s["labels"] == t.labels.tolist() and s["centers"] == t.centers.tolist()
    assert page.locator("#status").get_attribute("aria-live") == "polite"


def test_full_step_play_and_run_to_end(page):
    s = open_run(page, "data=blobs&k=5&init=random&seed=2")
    page.click("#step")
    s = wait(page, "s.frame === 2")
    assert s["kind"] == "update"
    page.click("#play")
    s = wait(page, "s.badge !== ''")
    page.click("#reset")
    wait(page, "s.frame === 0")
    page.click("#end")
    s = wait(page, "s.badge !== ''")
    assert s["frame"] == s["nFrames"] - 1


def test_url_reproduces_the_run(page, browser):
    open_run(page, "data=moons&k=3&init=random&seed=4&n=300&noise=0.2&dseed=7")
    for _ in range(3):
        page.click("#step")
    page.check("#voronoi")
    s = wait(page, "s.frame === 6")
    url = page.url
    assert "f=6" in url and "voronoi=1" in url
    other = browser.new_context(bypass_csp=True).new_page()
    other.goto(url)
    other.wait_for_function("(s => s && s.ready && s.nFrames > 0)(window.kmeansState)")
    t = other.evaluate("window.kmeansState")
    for key in ("params", "frame", "labels", "centers", "inertiaHistory", "points"):
        assert t[key] == s[key]
    assert other.is_checked("#voronoi")
    other.context.close()


def test_lab_shows_the_spread_of_seeds(page):
    open_run(page, "data=blobs&k=5")
    page.click("#lab-run")
    s = wait(page, "s.lab !== null")
    lab = s["lab"]
    columns = (("random", "#lab-random"), ("k-means++", "#lab-kpp"), ("search", "#lab-search"))
    for init, box in columns:
        inertias = lab[init]["inertias"]
        assert len(inertias) == 12 and page.locator(f"{box} figure").count() == 12
        assert lab[init]["best"] == int(np.argmin(inertias))
        best = page.locator(f"{box} figure.best figcaption").first.inner_text()
        assert best.startswith(f"seed {lab[init]['best']} ")
    assert lab["random"]["distinct"] > 1  # random starts end in different optima
    # The global search never ends above the Lloyd run it started from (same seeds as the
    # k-means++ column), and its worst seed is no worse than k-means++'s worst.
    search, kpp = lab["search"]["inertias"], lab["k-means++"]["inertias"]
    assert all(a <= b * (1 + 1e-9) for a, b in zip(search, kpp, strict=True))
    assert max(search) <= max(kpp)
    page.select_option("#lab-seeds", "24")
    page.click("#lab-run")
    s = wait(page, "s.lab && s.lab.random.inertias.length === 24")
    page.locator("#lab-random figure").nth(5).click()
    s = wait(page, "s.params.seed === 5 && s.params.init === 'random' && s.nFrames > 0")
    page.click("#elbow-run")
    s = wait(page, "s.elbow !== null")
    X = np.array(s["points"])
    total = naive_inertia(X, X.mean(axis=0, keepdims=True), np.zeros(len(X), dtype=int))
    assert s["elbow"]["inertia"][0] == pytest.approx(total, rel=1e-9)


def test_traps_empty_cluster_and_one_blob(page):
    open_run(page, "data=blobs")
    page.click("button[data-trap=empty]")
    s = wait(page, "s.params.init === 'manual' && s.nFrames > 0 && s.lab !== null")
    page.click("#assign")
    s = wait(page, "s.frame === 1")
    assert s["empty"] == [4]
    page.click("#update")
    s = wait(page, "s.frame === 2")
    ((cluster, row),) = s["relocated"]
    assert cluster == 4 and s["labels"][row] == 4
    check_frame(s)
    assert "empty cluster 4 moved onto point" in s["status"]
    page.click("button[data-trap=mixed-units]")
    s = wait(page, "s.params.data === 'mixed-units' && s.nFrames > 0")
    page.check("#std")
    s = wait(page, "s.params.std === true && s.nFrames > 0")
    X = np.array(s["points"])
    assert np.allclose(X.std(axis=0), 1.0) and "standardised" in s["axes"][0]


def test_manual_start_click_to_place_and_drag(page):
    open_run(page, "data=blobs&k=2")
    page.select_option("#init", "manual")
    wait(page, "s.params.init === 'manual'")
    box = page.locator("#plot").bounding_box()
    page.mouse.click(box["x"] + 200, box["y"] + 200)
    page.mouse.click(box["x"] + 400, box["y"] + 450)
    s = wait(page, "s.nFrames > 0")
    first = s["centers"]
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 250, steps=4)
    page.mouse.up()
    s = wait(page, f"s.nFrames > 0 && s.centers[0][0] !== {first[0][0]}")
    assert s["centers"][0][0] > first[0][0] and s["centers"][0][1] < first[0][1]
    assert s["centers"][1] == first[1] and "centers=" in page.url


def test_upload_shows_line_and_column_of_a_bad_cell(page):
    open_run(page, "data=blobs")
    bad = b"a,b\n1,2\n3,4\n5,six\n"
    page.expected_errors.append(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )
    page.set_input_files(
        "#upload", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.wait_for_function("document.getElementById('upload-error').textContent !== ''")
    text = page.locator("#upload-error").inner_text()
    assert "bad.csv, line 4, column 'b': 'six' is not a number" in text
    rng = np.random.default_rng(1)
    rows = "\n".join(",".join(f"{v:.6f}" for v in r) for r in rng.normal(size=(40, 3)))
    good = ("p,q,r\n" + rows + "\n").encode()
    page.set_input_files(
        "#upload", files=[{"name": "three.csv", "mimeType": "text/csv", "buffer": good}]
    )
    s = wait(page, "s.params.data.startsWith('upload:') && s.nFrames > 0")
    assert len(s["points"][0]) == 3 and s["axes"][0].startswith("PC1")
    page.click("#assign")
    check_frame(wait(page, "s.frame === 1"))


def test_exported_page_works_offline(page, tmp_path):
    path = tmp_path / "page.html"
    export_page(path, Store(), {"data": "smiley", "k": "4"})
    page.goto(Path(path).as_uri() + "#init=random&seed=3")
    s = wait(page, "s.nFrames > 0")
    assert s["offline"] and s["params"]["init"] == "random" and s["params"]["seed"] == 3
    page.click("#step")
    check_frame(wait(page, "s.frame === 2"))
    page.click("#lab-run")
    s = wait(page, "s.lab !== null")
    assert len(s["lab"]["random"]["inertias"]) == 12
    assert page.is_disabled("#regenerate") and page.is_disabled("#upload")
    assert page.locator("#warming").is_hidden() and not s["locked"]  # never waits
    assert "kmeanskit explore" in page.get_attribute("#regenerate", "title")
    pixels = page.evaluate(
        "(() => { const c = document.getElementById('plot');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++; return n; })()"
    )
    assert pixels > 1000


# -- the first start in an environment: the kernels compile behind a busy state --------

CONTROLS = "button, input, select, textarea"


@pytest.fixture
def warming(server):
    """A second server whose warm-up blocks until ``srv.warm_up.release`` is set (the
    module's server has compiled the real kernels already)."""
    blocking = Blocking()
    srv = ExplorerServer(Store(), 0, warm_up=blocking)
    srv.warm_up = blocking
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    assert blocking.started.wait(30)
    yield srv
    blocking.release.set()
    srv.shutdown()
    srv.server_close()


def enabled_controls(page):
    return page.evaluate(
        f"[...document.querySelectorAll('{CONTROLS}')].filter((e) => !e.disabled)"
        ".map((e) => e.id || e.textContent)"
    )


def test_busy_state_while_the_kernels_compile(page, warming):
    page.goto(f"http://127.0.0.1:{warming.server_address[1]}/?data=blobs&k=5")
    s = wait_locked(page, "s.warm && s.warm.state === 'compiling'")
    text = "Compiling kmeanskit's float64 kernels for this machine, once (about 10 s)…"
    busy = page.locator("#warming")
    assert busy.is_visible() and page.locator("#warming-text").inner_text() == text
    assert page.locator("#status").inner_text() == text and s["status"] == text
    assert page.locator("#warming-time").inner_text().endswith("s so far")
    # Every control really disabled (the traps' buttons too), shortcuts inert.
    assert page.locator("button[data-trap]").count() > 0
    for sel in ("#step", "#play", "#assign", "#end", "#lab-run", "#preset", "#k", "#upload"):
        assert page.is_disabled(sel)
    assert enabled_controls(page) == []
    page.keyboard.press("s")
    page.keyboard.press("l")
    # The busy state covers the plot: no blank plot on show.
    b, plot = busy.bounding_box(), page.locator("#plot").bounding_box()
    assert b["x"] <= plot["x"] and b["y"] <= plot["y"]
    assert b["x"] + b["width"] >= plot["x"] + plot["width"]
    assert b["y"] + b["height"] >= plot["y"] + plot["height"]
    wait_locked(page, "s.warm.seconds >= 1")  # it keeps asking, twice a second
    warming.warm_up.release.set()
    s = wait(page, "s.nFrames > 0")
    assert busy.is_hidden() and not s["locked"] and s["frame"] == 0 and s["lab"] is None
    assert page.is_enabled("#step") and page.is_enabled("#play") and page.is_enabled("#assign")
    assert page.is_disabled("#back") and page.is_disabled("#update")  # frame 0: as ever
    assert s["status"].startswith("initial centres (k-means++, seed 0)")
    assert len(s["centers"]) == 5 and len(s["points"]) == PRESETS["blobs"].n
    assert drawn_pixels(page) > 1000
    page.click("#step")
    check_frame(wait(page, "s.frame === 2"))


def test_a_failed_warm_up_is_shown_and_controls_stay_disabled(page, warming):
    warming.warm_up.error = RuntimeError("no LLVM for this CPU")
    page.goto(f"http://127.0.0.1:{warming.server_address[1]}/")
    wait_locked(page, "s.warm && s.warm.state === 'compiling'")
    warming.warm_up.release.set()
    s = wait_locked(page, "s.error !== null || (s.warm && s.warm.state === 'failed')")
    text = page.locator("#warming-text").inner_text()
    assert "could not be compiled (RuntimeError: no LLVM for this CPU)" in text
    assert page.locator("#warming .spinner").is_hidden()
    assert enabled_controls(page) == [] and not s["ready"]


def wait_locked(page, condition):
    page.wait_for_function(f"(s => s && s.locked && ({condition}))(window.kmeansState)")
    return state(page)


def drawn_pixels(page):
    return page.evaluate(
        "(() => { const c = document.getElementById('plot');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++; return n; })()"
    )
