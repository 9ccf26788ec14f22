"""The site map in headless Chromium: the geographic view zooms (wheel) and pans (drag), has a legend and
switches colour modes; the logical tab draws the zones and their links. Screenshots kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from web.browser import shot, wait_js

pytestmark = pytest.mark.browser

CHART = "echarts.getInstanceByDom(document.getElementById('{id}'))"


def _login(page: Any, path: str) -> None:
    base = page.base
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(base + path)


def test_site_map_zooms_pans_clusters_and_has_a_legend(page: Any) -> None:
    _login(page, "/sitemap")
    wait_js(page, "document.getElementById('sitemap').dataset.ready === '1'")
    el = page.locator("#sitemap")
    z0 = float(el.get_attribute("data-zoom"))
    items0 = int(el.get_attribute("data-items"))
    legend = page.evaluate(CHART.format(id="sitemap") + ".getOption().legend[0].data")
    assert legend == ["P1 紧急", "P2 高", "P3 中", "P4 低", "无漏洞"]
    assert items0 >= 1
    shot(page, "sitemap-01-geo")

    box = el.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    for _ in range(6):  # zoom in with the wheel
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(80)
    wait_js(page, f"parseFloat(document.getElementById('sitemap').dataset.zoom) > {z0 * 1.5}")
    shot(page, "sitemap-02-zoomed")

    c0 = json.loads(el.get_attribute("data-center") or "null")
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 150, cy + 80, steps=8)
    page.mouse.up()
    wait_js(page, f"document.getElementById('sitemap').dataset.center !== {json.dumps(json.dumps(c0))}")
    shot(page, "sitemap-03-panned")

    page.select_option("#sitemap-mode", "alert")
    wait_js(page, CHART.format(id="sitemap") + ".getOption().legend[0].data.includes('有未关闭事件')")
    page.select_option("#sitemap-mode", "exposure")
    wait_js(page, CHART.format(id="sitemap") + ".getOption().legend[0].data.includes('面向互联网')")

    page.click("#sm-tab-logical")
    wait_js(page, "parseInt(document.getElementById('sitemap-logical').dataset.zones || '0') > 0")
    zones = page.evaluate(CHART.format(id="sitemap-logical") + ".getOption().series[0].data.map(d => d.name)")
    assert {"生产区", "办公区", "DMZ", "工控区"} <= set(zones)
    assert page.evaluate(CHART.format(id="sitemap-logical") + ".getOption().legend[0].data.length") >= 2
    page.wait_for_timeout(300)
    shot(page, "sitemap-04-logical")


def test_base_map_upload_draws_the_sites_on_it_and_a_site_click_opens_it(page: Any, tmp_path: Path) -> None:
    _login(page, "/sitemap")
    wait_js(page, "document.getElementById('sitemap').dataset.ready === '1'")
    assert page.evaluate(CHART.format(id="sitemap") + ".getOption().geo[0].map") == "grid"
    square = [[[100, 20], [125, 20], [125, 45], [100, 45], [100, 20]]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "测试底图"}, "geometry": {"type": "Polygon", "coordinates": square}}]}  # fmt: skip
    f = tmp_path / "approved.geojson"
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#basemap-form input[type=file]", str(f))
    page.fill("#basemap-form input[name=approval]", "GS(2026)0001号")
    with page.expect_navigation():  # the page reloads once the base map is saved
        page.click("#basemap-form button[type=submit]")
    wait_js(page, "document.getElementById('sitemap').dataset.ready === '1'")
    wait_js(page, CHART.format(id="sitemap") + ".getOption().geo[0].map === 'basemap'")
    assert "GS(2026)0001号" in page.inner_text("main")
    assert int(page.get_attribute("#sitemap", "data-items")) >= 1
    shot(page, "sitemap-05-basemap")

    # click the first site drawn on its own: its page opens
    target = page.evaluate(
        "(() => { const c = " + CHART.format(id="sitemap") + "; const o = c.getOption();"
        " for (const s of o.series) for (const d of (s.data || [])) if (d.ids && !d.cluster) {"
        " const p = c.convertToPixel('geo', d.value.slice(0, 2)); return {id: d.ids[0], x: p[0], y: p[1]}; }"
        " return null; })()"
    )
    assert target is not None
    box = page.locator("#sitemap").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_url(f"{page.base}/entities/sites/{target['id']}")
