"""Make docs/explorer.png: the explorer page mid-run, with the lab's seeds below.

    PYTHONPATH=src python scripts/screenshot_explorer.py [docs/explorer.png]

Needs Playwright and Debian's Chromium (/usr/bin/chromium), like the browser tests.
"""

import sys
import threading

from playwright.sync_api import sync_playwright

from kmeanskit.explorer import ExplorerServer, Store

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUERY = "data=uneven&k=5&init=random&seed=3&f=5&voronoi=1&trails=1"


def main(out: str = "docs/explorer.png") -> None:
    server = ExplorerServer(Store())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_context(
            bypass_csp=True, viewport={"width": 1280, "height": 900}
        ).new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/?{QUERY}")
        page.wait_for_function("(s => s && s.ready && s.nFrames > 0)(window.kmeansState)")
        page.click("#lab-run")
        page.wait_for_function("(s => s && s.ready && s.lab)(window.kmeansState)")
        page.screenshot(path=out, full_page=True)
        browser.close()
    server.shutdown()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
