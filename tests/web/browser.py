"""What every browser test uses: where screenshots go, the Chromium flags, and two helpers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conftest import SHARED

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NMAP = SHARED / "nmap" / "loopback-sV-O.xml"


def wait_js(page: Any, expression: str, timeout: float = 60.0) -> None:
    """Poll ``expression`` until true: ``page.wait_for_function`` evaluates strings in the page, which the
    CSP (no 'unsafe-eval') refuses; ``page.evaluate`` runs through the debugger protocol instead."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error as e:  # the page is navigating (e.g. reloading after the language switch): ask again
            if "context was destroyed" not in str(e):
                raise
        assert time.monotonic() < deadline, f"still false after {timeout:.0f} s: {expression}"
        page.wait_for_timeout(100)


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
