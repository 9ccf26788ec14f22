"""What-if in the browser vs the API: a what-if on the largest vendor of the 5,000-asset demo operator,
from the click on "如果它失效？" to the highlighted map and the filled side panel, in headless Chromium.

Baseline (issue 16): at most 2x the API's own time, measured in the same run (the /api/ui/impact round
trip the page makes, timed from the same browser, and the server's own elapsed_ms).

    .venv/bin/python bench/web_whatif.py             # demo operator, 5,000 assets, 3 runs
    .venv/bin/python bench/web_whatif.py --runs 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from web_topology import ARGS, _port

RATIO = 2.0


def prepare(scale: int) -> tuple[int, str, int]:
    """Load the demo operator; return the largest vendor (id, name, assets)."""
    from ciimap.auth import service as auth
    from ciimap.core.db import get_database
    from ciimap.core.migrate import upgrade
    from ciimap.demo.service import load_demo
    from ciimap.graph.concentration import concentration
    from ciimap.registry import load_all

    load_all()
    upgrade()
    t0 = time.perf_counter()
    load_demo(scale=scale, seed=42)
    print(f"demo operator loaded: scale {scale:,} in {time.perf_counter() - t0:.1f}s")
    with get_database().unit_of_work() as s:
        auth.create_user(s, username="bench", password="bench-password", role="analyst")
    with get_database().read_session() as s:
        top = max(concentration(s).vendors, key=lambda v: v.assets)
    print(f"largest vendor: {top.name} (id {top.id}, {top.assets:,} assets)")
    return top.id, top.name, top.assets


def measure(base: str, vendor: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    ui: list[float] = []
    api: list[float] = []
    server: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(base + "/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-password")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        for i in range(runs):
            page.goto(f"{base}/topology?view=assets")
            page.wait_for_selector("#cy[data-state=ready]", timeout=120_000)
            page.evaluate(f"ciimapTopology.cy.getElementById('vendor:{vendor}').emit('tap')")
            page.wait_for_selector("#whatif")
            # the API alone, from the same browser: the request the page makes
            a = page.evaluate(f"""async () => {{ const t0 = performance.now();
                const r = await ciimap.api('/api/ui/impact?type=vendor&id={vendor}');
                return {{ms: performance.now() - t0, server: r.elapsed_ms}}; }}""")
            t0 = time.perf_counter()
            page.click("#whatif")
            page.wait_for_selector("#side [data-f=impact][data-state=ready]", timeout=120_000)
            ms = (time.perf_counter() - t0) * 1000
            st = page.evaluate("ciimapTopology.state.whatif")
            head = page.inner_text("[data-f=headline]")
            ui.append(ms)
            api.append(a["ms"])
            server.append(a["server"])
            print(
                f"run {i + 1}: click → highlighted map and filled panel {ms:.0f} ms "
                f"(in page {st['ms']:.0f} ms: fetch {st['fetchMs']:.0f}, highlight {st['highlightMs']:.0f}, "
                f"panel {st['panelMs']:.0f}; painted at {st['paintedMs']:.0f} ms); "
                f"API round trip {a['ms']:.0f} ms (server {a['server']:.0f} ms); "
                f"{st['shown']:,} nodes lit, {st['missing']:,} not on this view; '{head}'"
            )
        page.wait_for_timeout(400)
        page.screenshot(path=str(Path(__file__).resolve().parent / "out" / "web_whatif.png"))
        browser.close()
    return ui, api, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=5000, help="demo assets")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="ciimap-bench-whatif-")
    os.environ["CIIMAP_DATABASE_URL"] = f"sqlite:///{d}/bench.db"
    os.environ["CIIMAP_DATA_DIR"] = d
    (Path(__file__).resolve().parent / "out").mkdir(exist_ok=True)
    vendor, _name, _assets = prepare(a.scale)
    import uvicorn

    from ciimap.app import create_app

    port = _port()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    try:
        ui, api, server = measure(f"http://127.0.0.1:{port}", vendor, a.runs)
    finally:
        srv.should_exit = True
    m_ui, m_api = statistics.median(ui), statistics.median(api)
    ratio = m_ui / m_api
    print(
        f"what-if on the largest vendor: browser {m_ui:.0f} ms, API round trip {m_api:.0f} ms "
        f"(server {statistics.median(server):.0f} ms), medians over {len(ui)} runs → ratio {ratio:.2f} "
        f"(baseline ≤ {RATIO:.0f}x: {'PASS' if ratio <= RATIO else 'FAIL'})"
    )
    sys.exit(0 if ratio <= RATIO else 1)


if __name__ == "__main__":
    main()
