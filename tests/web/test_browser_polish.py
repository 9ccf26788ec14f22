"""Polish in the browser: every list page fits a 1440 px screen (no horizontal scroll), and the column
chooser hides a column and keeps the export links on the chosen columns. Screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ciimap.core import entity
from web.browser import shot, wait_js

pytestmark = pytest.mark.browser

LIST_PAGES = [
    "/findings",
    "/changes",
    "/alerts",
    "/warnings",
    "/suppressions",
    "/intel",
    "/incidents",
    "/incidents/plans",
    "/incidents/drills",
    "/data",
    "/data/registers",
    "/crypto",
    "/compliance",
    "/compliance/obligations",
    "/imports",
    "/admin/users",
    "/admin/notify",
]


def _login(page: Any) -> None:
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{page.base}/")


def test_no_list_page_scrolls_sideways_at_1440(page: Any) -> None:
    _login(page)
    assert page.viewport_size["width"] == 1440
    wide: dict[str, int] = {}
    urls = [f"/entities/{name}" for name in sorted(entity.REGISTRY)] + LIST_PAGES
    for url in urls:
        page.goto(page.base + url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        name = url.strip("/").replace("/", "-")
        shot(page, f"polish-{name}")
        if width > 1440:
            wide[url] = width
    assert not wide, f"pages wider than 1440 px: {wide}"


def test_column_chooser_hides_a_column_and_exports_the_rest(page: Any) -> None:
    _login(page)
    page.goto(page.base + "/changes")
    wait_js(page, "document.querySelector('table[data-list=changes]').dataset.listReady === '1'")
    page.click(".col-chooser summary")
    page.uncheck(".col-menu input[data-col=subject]")
    hidden = page.evaluate(
        "Array.from(document.querySelectorAll('table[data-list=changes] th')).filter(th => th.classList.contains('col-off')).map(th => th.dataset.col)"
    )
    assert hidden == ["subject"]
    href = page.get_attribute("a[data-export=csv]", "href")
    assert href.startswith("/changes/export?") and "columns=at%2Ckind%2Casset%2Cdetail" in href
    shot(page, "polish-column-chooser")
    page.reload()  # remembered for this user and list
    wait_js(page, "document.querySelector('table[data-list=changes]').dataset.listReady === '1'")
    assert page.evaluate(
        "document.querySelector('table[data-list=changes] th[data-col=subject]').classList.contains('col-off')"
    )
    with page.expect_download() as dl:
        page.click("a[data-export=csv]")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "时间,类型,资产,变化"
