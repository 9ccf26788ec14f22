"""What-if on the topology page in headless Chromium: the headline equals the API's totals, the view is
fitted to what failed, the counts by type and the dependency chains are shown, and the export buttons
download the XLSX, DOCX and PDF brief."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from web.browser import shot

pytestmark = pytest.mark.browser


def _login(page: Any) -> None:
    page.goto(page.base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")


def test_whatif_on_the_largest_vendor(page: Any) -> None:
    _login(page)
    page.goto(page.base + "/topology?view=assets")  # the asset view has the products and vendors
    page.wait_for_selector("#cy[data-state=ready]")
    vendor = page.evaluate(
        "ciimapTopology.cy.nodes(\"[type='vendor']\").sort((a, b) => b.degree() - a.degree())[0].id()"
    )
    page.evaluate(f"ciimapTopology.cy.getElementById('{vendor}').emit('tap')")
    page.wait_for_selector("#side h3")
    before = page.evaluate("ciimapTopology.cy.extent()")
    page.click("#whatif")
    page.wait_for_selector("#side [data-f=impact][data-state=ready]")
    page.wait_for_timeout(400)  # the fit animation
    api = page.evaluate(f"ciimap.api('/api/ui/impact?type=vendor&id={vendor.split(':')[1]}')")
    failed = sum(api["counts"]["failed"].values())
    degraded = sum(api["counts"]["degraded"].values())
    assert failed > 0
    assert page.inner_text("[data-f=headline]") == f"影响范围：{failed} 个失效，{degraded} 个降级"
    for ty in ("business_service", "system", "asset"):
        cells = page.locator(f"[data-f=counts] tr[data-type={ty}] td").all_inner_texts()
        assert cells == [str(api["counts"]["failed"].get(ty, 0)), str(api["counts"]["degraded"].get(ty, 0))]
    shown = page.locator("[data-f=counts] tr[data-type] td:first-of-type").all_inner_texts()
    assert sum(int(x) for x in shown) == failed  # the table adds up to the headline
    assert page.locator("[data-list=failed] li .path").count() > 0  # the dependency chains are kept
    # the view moved to what failed: every failed node on the map is inside the viewport
    fit = page.evaluate(
        "(() => { const cy = ciimapTopology.cy, e = cy.extent(), bb = cy.nodes('.failed, .degraded, .root')"
        ".boundingBox(); return {e, bb, n: cy.nodes('.failed').length}; })()"
    )
    e, bb = fit["e"], fit["bb"]
    assert fit["n"] > 0 and e != before
    assert (
        e["x1"] <= bb["x1"] + 1
        and e["y1"] <= bb["y1"] + 1
        and e["x2"] >= bb["x2"] - 1
        and e["y2"] >= bb["y2"] - 1
    )
    shot(page, "whatif-vendor")

    files = {}
    for fmt in ("xlsx", "docx", "pdf"):
        with page.expect_download() as dl:
            page.click(f"[data-export={fmt}]")
        path = dl.value.path()
        files[fmt] = Path(path).read_bytes()
        assert dl.value.suggested_filename.endswith("." + fmt)
    assert files["pdf"].startswith(b"%PDF")
    summary = list(load_workbook(io.BytesIO(files["xlsx"]))["汇总"].iter_rows(values_only=True))
    assert sum(int(r[1]) for r in summary[1:]) == failed  # every hit type, the same totals as the API
    assert "假设失效影响分析报告" in [p.text for p in Document(io.BytesIO(files["docx"])).paragraphs]
    shot(page, "whatif-exported")
