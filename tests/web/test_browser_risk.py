"""The risk views in headless Chromium: findings grouped by advisory with the explanation and a bulk
triage of a whole group; an SBOM imported from the import page with a system chosen; the risk pages
(SPOF, concentration with its chart, supply chain, feeds, rollouts). Screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.inventory.models import Asset, Software, System
from ciimap.vulns import service
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding
from vulns.helpers import osv_subset
from web.browser import shot, wait_js

pytestmark = pytest.mark.browser
SBOM = Path(__file__).resolve().parents[1] / "data" / "web" / "python-app-sbom.cdx.json"


def _login(page: Any) -> str:
    base = page.base
    page.goto(base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return str(base)


def _findings(db: Any, tmp: Path) -> str:
    """Real OSV advisories for jinja2 and PyYAML matched on three seeded assets; the jinja2 advisory
    with the most findings is returned."""
    with db.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp, ("jinja2", "pyyaml")), rematch=False)
        for a in s.scalars(select(Asset).order_by(Asset.id).limit(3)):
            s.add(Software(asset_id=a.id, name="jinja2", version="2.10", purl="pkg:pypi/jinja2@2.10"))
            s.add(Software(asset_id=a.id, name="PyYAML", version="5.3", purl="pkg:pypi/pyyaml@5.3"))
        s.flush()
        service.match(s)
        f = s.scalars(select(Finding).where(Finding.package.like("%jinja2%")).order_by(Finding.id)).first()
        return str(f.advisory_id)


def test_grouped_findings_and_bulk_triage_of_a_group(page: Any, sqlite_database: Any, tmp_path: Path) -> None:
    advisory = _findings(sqlite_database, tmp_path)
    base = _login(page)
    page.goto(base + "/findings")
    page.wait_for_selector("#findings-table tbody tr[data-finding]")
    first = page.locator("#findings-table details.why").first
    first.locator("summary").click()
    assert first.locator("[data-why]").inner_text().strip()  # why this priority, in the row
    shot(page, "risk-findings-why")

    page.click('a[data-group="advisory"]')
    page.wait_for_selector("#groups-table tr.group-row")
    row = page.locator(f'#groups-table tr[data-group-key="{advisory}"]')
    assert int(row.locator("[data-count]").inner_text()) == 3  # one per asset
    row.locator("input.pick").check()
    wait_js(page, "document.getElementById('bulk-count').textContent.length > 0")
    page.select_option("#bulk-form select[name=state]", "confirmed")
    page.fill("#bulk-form input[name=assignee]", "张三")
    shot(page, "risk-findings-grouped")
    with page.expect_navigation():  # HX-Refresh reloads the page after the change
        page.click("#bulk-submit")
    page.wait_for_selector("#groups-table tr.group-row")
    with sqlite_database.read_session() as s:
        rows = list(s.scalars(select(Finding).where(Finding.advisory_id == advisory)))
        assert {f.status for f in rows} == {"confirmed"} and len(rows) == 3
        assert s.scalars(select(AuditLog).where(AuditLog.action == "bulk_triage")).first() is not None
    page.goto(base + f"/findings?advisory={advisory}")
    page.wait_for_selector("[data-assignee]")
    assert "张三" in page.inner_text("#findings-table")
    shot(page, "risk-findings-after-bulk")


def test_sbom_import_with_a_system_and_the_risk_pages(page: Any, sqlite_database: Any) -> None:
    with sqlite_database.read_session() as s:
        system = s.scalars(select(System).order_by(System.id)).first()
        sid, name = system.id, system.name
    base = _login(page)
    page.goto(base + "/imports")
    page.select_option("select[name=kind]", "sbom")
    page.fill("#import-target", f"system:{sid} {name}")
    page.set_input_files("input[name=files]", str(SBOM))
    shot(page, "risk-sbom-import-form")
    page.click("#import-form button[type=submit]")
    page.wait_for_selector(".job[data-status=succeeded], .job[data-status=failed]", timeout=60_000)
    assert page.get_attribute(".job", "data-status") == "succeeded", page.inner_text(".job")
    shot(page, "risk-sbom-imported")
    with sqlite_database.read_session() as s:
        assert s.scalars(select(Software).where(Software.system_id == sid)).first() is not None
    # a wrong target is one message, nothing queued
    page.fill("#import-target", "asset:999999")
    page.set_input_files("input[name=files]", str(SBOM))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-progress [role=alert]")
    assert "asset 999999 does not exist" in page.inner_text("#import-progress")

    for path, sel, name in (
        ("/risk/spof", "#spof-table", "spof"),
        ("/risk/concentration", "#concentration-table", "concentration"),
        ("/risk/supply", "#plans-table", "supply"),
        ("/risk/feeds", "#feeds-table", "feeds"),
        ("/risk/rollouts", "#rollouts-table", "rollouts"),
    ):
        page.goto(base + path)
        page.wait_for_selector(sel)
        assert page.locator(".risk-tabs a.active").count() == 1
        if path == "/risk/concentration":
            wait_js(
                page,
                "!!document.querySelector('#risk-chart canvas') || document.getElementById('risk-chart').hidden",
            )
        shot(page, f"risk-{name}")
