"""The posture cards on the dashboard of the living demo, in Chromium: non-zero figures, sparklines
drawn (ECharts canvas), each card and part link opening its filtered page, and a screenshot."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import make_user
from web.browser import shot, wait_js

pytestmark = pytest.mark.browser


@pytest.fixture
def server(sqlite_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """As tests/web/conftest.py's ``server``, on the demo operator (with its history, advisories, alerts
    and incident) instead of the small seeded map."""
    import uvicorn

    from ciimap.app import create_app
    from ciimap.config import get_settings
    from ciimap.demo import service as demo

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    with sqlite_database.unit_of_work() as s:
        demo.load(s, scale=1500, seed=42, alerts=True, history=True, advisories=True, governance=True)
    make_user(sqlite_database, "admin", "admin")
    sock = socket.socket()
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


def _value(page: Any, key: str) -> int:
    return int(page.get_attribute(f"[data-posture={key}] .card-value", "data-value"))


def test_posture_cards_on_the_demo(page: Any) -> None:
    base = page.base
    page.goto(base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    wait_js(page, "Number(document.getElementById('posture').dataset.sparks) >= 4")
    # above the inventory counts
    assert page.evaluate(
        "document.getElementById('posture').compareDocumentPosition(document.getElementById('cards')) & 4"
    )
    for key in ("services_at_risk", "kev_cii", "spof", "warnings", "incidents", "changes"):
        assert _value(page, key) > 0, key
    assert page.locator("#posture .spark canvas").count() >= 4
    assert "关键业务" in page.inner_text("[data-posture=services_at_risk] .card-label")
    assert "最近报告时限" in page.inner_text("[data-posture=incidents]")
    assert page.locator("[data-posture=services_at_risk] .spark-none").count() == 1  # no invented history
    shot(page, "posture-dashboard")
    box = page.locator("[data-posture=kev_cii] .spark").bounding_box()  # a canvas tooltip, no CSP trouble
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(300)
    shot(page, "posture-dashboard-tooltip")

    kev = _value(page, "kev_cii")
    page.click("[data-posture=kev_cii] .posture-main")
    page.wait_for_url(base + "/findings?kev=yes")
    assert page.locator("table tbody tr").count() > 0
    assert kev > 0
    page.go_back()
    page.click("[data-posture=warnings] .posture-main")
    page.wait_for_url(base + "/warnings")
    assert page.locator("table tbody tr").count() > 0
    page.go_back()
    page.click("[data-posture=incidents] .posture-main")
    page.wait_for_url(base + "/incidents")
    assert "Log4" in page.inner_text("main") or page.locator("a[href^='/incidents/']").count() > 0
    page.go_back()
    page.click("[data-posture=overdue] a[data-part=obligations]")
    page.wait_for_url(base + "/compliance/obligations")
    page.go_back()
    page.click("[data-posture=changes] .posture-main")
    page.wait_for_url(base + "/changes")
    assert page.locator("table tbody tr").count() > 0
    shot(page, "posture-changes")
