"""Browser fixtures shared by every ``tests/web/test_browser*.py`` file: a live server on the seeded SQLite
map and a Debian Chromium page driven by Playwright that fails the test on any request leaving 127.0.0.1,
any JavaScript error and any Content-Security-Policy violation. Screenshots go to test-artifacts/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import make_user
from web.browser import ARGS, ARTIFACTS, CHROMIUM
from web.seed import seed


@pytest.fixture
def server(sqlite_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import uvicorn

    from ciimap.app import create_app
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    seed(sqlite_database, assets=120, systems=6)
    make_user(sqlite_database, "admin", "admin")
    sock = socket.socket()  # bound here and handed over: no window for the other xdist worker to take it
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    t = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)
    sock.close()


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (make sysdeps-test)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    errors: list[str] = []
    csp: list[str] = []  # Chromium reports every blocked inline script/style/eval on the console
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        ctx.set_default_timeout(60_000)  # two busy CI cores: Playwright's 30 s default is too tight

        def guard(route: Any) -> None:
            url = route.request.url
            if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        ctx.route("**/*", guard)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: "Content Security Policy" in m.text and csp.append(f"{pg.url}: {m.text}"))
        pg.base = server  # type: ignore[attr-defined]
        yield pg
        browser.close()
    assert not blocked, f"the UI tried to reach the network: {blocked}"
    assert not errors, f"JavaScript errors: {errors}"
    assert not csp, f"Content-Security-Policy violations: {csp}"
