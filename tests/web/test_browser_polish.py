"""Polish in the browser: every list page fits a 1440 px screen (no horizontal scroll), and the column
chooser hides a column and keeps the export links on the chosen columns. Screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ciimap.core import entity
from ciimap.ingest.models import CHANGE_KINDS, ChangeEvent, ImportRun
from ciimap.inventory import models as m
from conftest import make_user
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


#: Long values without a break (a software id, a path): what pushes a table wider than the screen.
LONG = "com.example.scada.historian.connector-enterprise-edition-2024.3.17-build20241107"


@pytest.fixture
def rich(server: str, sqlite_database: Any) -> None:
    """The demo operator (500 assets, its alert history) instead of the small seed, and change events
    with long values of every kind."""
    from ciimap.demo import service as demo

    with sqlite_database.unit_of_work() as s:
        demo.load(s, scale=500, seed=7, reset=True, alerts=True)
    make_user(sqlite_database, "admin", "admin")  # the reset removed the users (they reference organisations)
    with sqlite_database.unit_of_work() as s:
        run = ImportRun(kind="nmap", scope="10.0.0.0/8")
        s.add(run)
        s.flush()
        assets = list(s.scalars(select(m.Asset.id).order_by(m.Asset.id).limit(40)))
        for i, aid in enumerate(assets):
            kind = CHANGE_KINDS[i % len(CHANGE_KINDS)]
            port = {"state": "open", "service": "https", "product": LONG, "version": "9.8.7"}
            s.add(ChangeEvent(run_id=run.id, asset_id=aid, kind=kind, subject=f"10.20.{i}.40 tcp/8443 {LONG}",
                              before=port, after={**port, "state": "closed", "version": LONG}))  # fmt: skip


#: Lists with a column chooser (besides every entity list).
CHOOSER = {"/findings", "/changes", "/alerts", "/warnings", "/incidents", "/data", "/crypto", "/compliance"}


def _login(page: Any) -> None:
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{page.base}/")


def test_no_list_page_scrolls_sideways_at_1440(rich: None, page: Any) -> None:
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
        if url in CHOOSER or url.startswith("/entities/"):
            wait_js(page, "document.querySelector('table[data-list]').dataset.listReady === '1'")
            assert page.locator(".col-chooser").count() == 1, url
    assert not wide, f"pages wider than 1440 px: {wide}"


def test_column_chooser_hides_a_column_and_exports_the_rest(rich: None, page: Any) -> None:
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
    assert href.startswith("/export/changes?") and "columns=at%2Ckind%2Casset%2Cdetail" in href
    shot(page, "polish-column-chooser")
    page.reload()  # remembered for this user and list
    wait_js(page, "document.querySelector('table[data-list=changes]').dataset.listReady === '1'")
    assert page.evaluate(
        "document.querySelector('table[data-list=changes] th[data-col=subject]').classList.contains('col-off')"
    )
    with page.expect_download() as dl:
        page.click("a[data-export=csv]")
    lines = Path(dl.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "时间,类型,资产,变化" and len(lines) > 40
