"""The topology for command in headless Chromium: the default view is the aggregate map with readable
labels on every business service and system (checked on cytoscape's rendered style, not the data), the
riskiest assets are on it although they were inserted last, hover cards, a cluster expands to its assets
and collapses back, search flies to the hit (opening its cluster), a path between two nodes is
highlighted, each overlay has its legend, and the asset view fills its budget by importance."""

from __future__ import annotations

from typing import Any

import pytest

from ciimap.vulns.models import Advisory, AdvisoryAlias, Finding, KevEntry
from web.browser import shot, wait_js

pytestmark = pytest.mark.browser

RISKY = [117, 118, 119, 120]  # the last assets inserted carry the most risk


def _findings(db: Any) -> None:
    with db.unit_of_work() as s:
        adv = Advisory(advisory_id="CVE-2024-3400", source="nvd")
        low = Advisory(advisory_id="CVE-2020-0001", source="nvd")
        s.add_all([adv, low])
        s.flush()
        s.add(KevEntry(cve_id="CVE-2024-3400"))
        s.add(AdvisoryAlias(alias="CVE-2024-3400", advisory_pk=adv.id))
        rows = [(a, adv, "P1") for a in RISKY] + [(a, low, "P4") for a in range(1, 40)]
        for i, (asset_id, a, prio) in enumerate(rows):
            s.add(
                Finding(
                    target_type="software",
                    target_id=1000 + i,
                    asset_id=asset_id,
                    system_id=1 + (asset_id - 1) % 6,
                    advisory_pk=a.id,
                    advisory_id=a.advisory_id,
                    package="pkg:generic/x",
                    match_kind="purl",
                    priority=prio,
                    active=True,
                    triage_key=f"k{i}",
                )
            )


def _login(page: Any) -> None:
    page.goto(page.base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(page.base + "/")


LABELS = """(() => {
  const cy = ciimapTopology.cy, z = cy.zoom(), w = cy.width(), h = cy.height();
  return cy.nodes("[type='business_service'], [type='system']").map((n) => {
    const bb = n.renderedBoundingBox({ includeLabels: false });
    return { id: n.id(), label: n.data('label'), shown: n.style('label'), visible: n.visible(),
      opacity: Number(n.style('text-opacity')) * Number(n.style('opacity')), px: parseFloat(n.style('font-size')) * z,
      min: parseFloat(n.style('min-zoomed-font-size')), inside: bb.x2 > 0 && bb.x1 < w && bb.y2 > 0 && bb.y1 < h };
  });
})()"""


def _open(page: Any, db: Any) -> None:
    _findings(db)
    _login(page)
    page.goto(page.base + "/topology")
    page.wait_for_selector("#cy[data-state=ready]")


# Each test takes its screenshot last: headless Chromium's renderer has crashed ("Target crashed") a few
# seconds after a DevTools screenshot once the map was changed again, which no real browser does.


def test_default_view_labels_and_riskiest_assets(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    assert page.evaluate("ciimapTopo.view") == "overview"
    counts = page.evaluate("ciimapTopology.cy.nodes().map(n => n.data('type'))")
    assert (
        counts.count("business_service") == 2 and counts.count("system") == 6 and counts.count("cluster") > 6
    )

    # every business service and system is labelled at the default zoom: label drawn, readable, on screen
    labels = page.evaluate(LABELS)
    assert len(labels) == 8
    for n in labels:
        assert n["shown"] and n["shown"] == n["label"], n
        assert n["visible"] and n["opacity"] > 0.9 and n["inside"], n
        assert n["px"] >= 11 and n["px"] >= n["min"], n  # rendered font size in screen pixels
    clusters = page.evaluate(
        "ciimapTopology.cy.nodes(\"[type='cluster']\").map(n => [n.style('label'), n.data('count')])"
    )
    assert all(lbl.endswith(f" · {c}") for lbl, c in clusters)
    assert sum(c for _l, c in clusters) == 120  # every asset is counted in a cluster

    # the riskiest assets (inserted last) are on the default view, red, next to their cluster
    risky = page.evaluate(
        "ciimapTopology.cy.nodes('[?hot]').map(n => [n.id(), n.data('vuln'), n.hasClass('ov-vuln-P1'), n.visible()])"
    )
    assert {r[0] for r in risky} >= {f"asset:{a}" for a in RISKY}
    assert all(r[1] == "P1" and r[2] and r[3] for r in risky if int(r[0].split(":")[1]) in RISKY)
    worst = page.evaluate("ciimapTopology.cy.nodes(\"[type='cluster'][vuln='P1']\").map(n => n.data('kev'))")
    assert worst and all(k >= 1 for k in worst)  # cluster risk colour = worst priority inside, KEV counted
    shot(page, "topology-command-default")


def test_hover_card(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    cid = page.evaluate("ciimapTopology.cy.nodes(\"[type='cluster'][vuln='P1']\")[0].id()")
    page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').emit('mouseover')")
    page.wait_for_selector("#topo-card:not([hidden])")
    text = page.inner_text("#topo-card")
    assert "资产集群" in text and "资产数" in text and "P1" in text and "有 KEV 漏洞的资产" in text
    page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').emit('mouseout')")
    assert page.is_hidden("#topo-card")
    page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').emit('mouseover')")
    page.wait_for_selector("#topo-card:not([hidden])")
    shot(page, "topology-command-hover")


def test_cluster_expands_by_importance_and_collapses(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    cid = page.evaluate("ciimapTopology.cy.nodes(\"[type='cluster'][vuln='P1']\")[0].id()")
    before = page.evaluate("ciimapTopology.cy.nodes().length")
    positions = page.evaluate("ciimapTopology.cy.nodes().map(n => [n.id(), n.position('y')])")
    page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').emit('tap')")
    page.click("#side [data-act=expand]")
    wait_js(page, f"ciimapTopology.cy.getElementById('{cid}').hasClass('open')")
    size = page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').data('count')")
    after = page.evaluate("ciimapTopology.cy.nodes().length")
    hot_inside = page.evaluate(f"ciimapTopology.cy.nodes('[?hot][cluster=\"{cid}\"]').length")
    assert after - before == size - hot_inside
    assert "按重要性" in page.inner_text("#topo-status")
    page.evaluate(f"ciimapTopology.cy.getElementById('{cid}').emit('tap')")
    page.click("#side [data-act=expand]")
    wait_js(page, f"!ciimapTopology.cy.getElementById('{cid}').hasClass('open')")
    assert page.evaluate("ciimapTopology.cy.nodes().length") == before
    # what moved down to make room is back in place
    assert page.evaluate("ciimapTopology.cy.nodes().map(n => [n.id(), n.position('y')])") == positions
    page.evaluate(f"ciimapTopology.expand('{cid}')")
    wait_js(page, f"ciimapTopology.cy.getElementById('{cid}').hasClass('open')")
    page.wait_for_timeout(500)
    shot(page, "topology-command-expanded")


def test_search_flies_to_the_hit(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    page.fill("#topo-find input[name=find]", "host-00050")
    page.press("#topo-find input[name=find]", "Enter")
    wait_js(page, "ciimapTopo.flown === 'asset:50'")
    hit = page.evaluate(
        "(() => { const cy = ciimapTopology.cy, n = cy.getElementById('asset:50'), p = n.renderedPosition();"
        " return {found: n.hasClass('found'), x: p.x, y: p.y, w: cy.width(), h: cy.height(), z: cy.zoom(),"
        " label: n.style('label')}; })()"
    )
    assert hit["found"] and hit["label"] == "host-00050"  # its cluster was opened to show it
    assert abs(hit["x"] - hit["w"] / 2) < 5 and abs(hit["y"] - hit["h"] / 2) < 5
    assert "host-00050" in page.inner_text("#side h3")
    shot(page, "topology-command-search")


def test_path_between_two_nodes(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    page.evaluate("ciimapTopology.cy.getElementById('business_service:1').emit('tap')")
    page.click("#side [data-act=path-from]")
    page.evaluate("ciimapTopology.cy.getElementById('asset:120').emit('tap')")
    page.click("#side [data-act=path-to]")
    wait_js(page, "ciimapTopo.path !== null")
    page.wait_for_timeout(400)
    # asset 120 runs system 6 (business service 2); the shortest chain crosses the asset system 1 shares
    path = page.evaluate("ciimapTopo.path.path")
    assert path[0] == "business_service:1" and path[-1] == "asset:120" and "system:6" in path
    lit = page.evaluate("ciimapTopology.cy.nodes('.onpath').map(n => n.id())")
    assert set(lit) == set(path)
    assert page.evaluate("ciimapTopology.cy.edges('.onpath').length") == len(path) - 1
    assert "→" in page.inner_text("#topo-status")
    shot(page, "topology-command-path")


def test_a_legend_for_each_overlay(page: Any, sqlite_database: Any) -> None:
    _open(page, sqlite_database)
    for ov in ("vuln", "missing", "attack", "incident"):
        assert page.is_visible(f"[data-legend={ov}]"), ov
    assert not page.is_visible("[data-legend=cmp]")
    for ov in ("cmp", "data", "foreign", "unmanaged", "crypto"):
        page.check(f"[data-overlay={ov}]")
        assert page.is_visible(f"[data-legend={ov}]"), ov
    assert page.evaluate("ciimapTopology.cy.nodes('.ov-foreign').length") > 0
    page.uncheck("[data-overlay=missing]")
    assert not page.is_visible("[data-legend=missing]")
    shot(page, "topology-command-legends")


def test_asset_view_budget_filled_by_importance(page: Any, sqlite_database: Any) -> None:
    _findings(sqlite_database)
    _login(page)
    page.goto(page.base + "/topology?view=assets&budget=10")
    page.wait_for_selector("#cy[data-state=ready]")
    ids = set(page.evaluate("ciimapTopology.cy.nodes(\"[type='asset']\").map(n => n.id())"))
    assert len(ids) == 10
    # every seeded system serves a business service: the P1/KEV assets come first, although inserted last
    assert {f"asset:{a}" for a in RISKY} <= ids
    shot(page, "topology-command-asset-view")
