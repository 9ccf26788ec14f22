"""The web UI in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Logs in, checks the dashboard charts, the topology graph, a what-if highlight, an nmap import with live
progress, the API docs and the language switch. Every request leaving 127.0.0.1 is blocked and must never
happen, and the console must show no Content-Security-Policy violation (the policy is strict: core/asgi.py).
Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from web.browser import NMAP, shot, wait_js

pytestmark = pytest.mark.browser


def test_login_dashboard_topology_whatif_import_and_language(page: Any) -> None:
    base = page.base
    page.goto(base + "/topology")
    assert "/login" in page.url
    shot(page, "01-login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/topology")

    page.goto(base + "/")
    wait_js(page, "document.body.dataset.charts >= 4")
    assert page.locator(".chart canvas").count() >= 4
    assert page.inner_text("[data-card=assets] .card-value") == "120"
    box = page.locator("#chart-trend").bounding_box()  # an echarts tooltip: HTML with style attributes
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
    page.wait_for_timeout(1000)  # time to draw it; a tooltip written as HTML would be a CSP violation
    shot(page, "02-dashboard")

    page.goto(base + "/topology?view=assets")  # every asset (the default is the command map)
    page.wait_for_selector("#cy[data-state=ready]")
    state = page.evaluate(
        "({n: ciimapTopo.cy.nodes().length, e: ciimapTopo.cy.edges().length,"
        " vis: ciimapTopo.cy.nodes(':visible').length})"
    )
    assert state["n"] >= 120 + 6 and state["e"] > 120 and state["vis"] == state["n"]
    shot(page, "03-topology")

    # select asset 1 (the only, non-redundant host of system 1) and ask what breaks
    page.evaluate("ciimapTopo.cy.getElementById('asset:1').emit('tap')")
    page.wait_for_selector("#side h3")
    assert page.inner_text("#side h3") == "host-00001"
    if page.locator("#whatif").count():
        page.click("#whatif")
        page.wait_for_selector("[data-list=failed] li")
        failed = page.evaluate("ciimapTopo.cy.nodes('.failed').map(n => n.id())")
        assert "system:1" in failed and "business_service:1" in failed
        assert page.locator("[data-list=failed] li > a", has_text="业务系统01").count() == 1
        shot(page, "04-whatif")
    else:
        pytest.fail("what-if button missing: the graph capability (ciimap.graph.impact) is not installed")

    page.goto(base + "/imports")
    page.select_option("select[name=kind]", "nmap")
    page.set_input_files("input[name=files]", str(NMAP))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector(".job[data-status=succeeded], .job[data-status=failed]", timeout=60_000)
    shot(page, "05-import")
    assert page.get_attribute(".job", "data-status") == "succeeded", page.inner_text(".job")

    page.goto(base + "/entities/assets?q=127.0.0")  # the scan's five loopback hosts are on the map now
    assert int(page.get_attribute("[data-total]", "data-total")) == 5
    assert page.locator("#entity-table tbody tr").count() == 5
    shot(page, "06-assets")

    page.goto(base + "/sitemap")
    page.wait_for_selector("#sitemap canvas")
    shot(page, "07-sitemap")

    resp = page.goto(base + "/api/docs")  # Swagger UI under the strict CSP (no inline script)
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() >= 10
    shot(page, "08-api-docs")

    page.goto(base + "/")
    page.click("#lang-switch")
    wait_js(page, "document.documentElement.lang === 'en'")
    assert "Dashboard" in page.inner_text(".sidebar")
    shot(page, "09-english")


def test_assessment_workspace_keyboard_entry_is_saved(page: Any, sqlite_database: Any) -> None:
    """On the workspace: a digit sets the focused cell's result, j/k/h/l move, ``a`` accepts the map's
    proposal; every change is saved through the API (re-fetched) and shown after a reload."""
    from web.compliance_seed import PROPOSED_ITEM, build

    ids = build(sqlite_database)
    base, aid = page.base, ids["open"]
    obj0, obj1 = ids["objects"][0], ids["objects"][1]
    page.goto(f"{base}/login?next=/compliance/assessments/{aid}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/compliance/assessments/{aid}")
    page.wait_for_load_state("networkidle")
    row = f'#ws-grid tr[data-item-id="{PROPOSED_ITEM}"]'
    page.wait_for_selector(row)
    wait_js(page, "!!(window.ciimap && document.getElementById('ws-data'))")
    cell0, cell1 = f'{row} td[data-object="{obj0}"]', f'{row} td[data-object="{obj1}"]'
    page.click(cell0)
    wait_js(page, "!document.getElementById('ws-focus').hidden")
    assert "telnet" in page.inner_text("#ws-proposal-text")  # the map's proposal beside the item
    page.keyboard.press("2")  # 部分符合; the focus moves down a row
    wait_js(page, f"document.querySelector('{cell0}').dataset.saved === 'true'")
    page.keyboard.press("k")  # back up
    page.keyboard.press("l")  # right: the next test object
    wait_js(page, f"document.activeElement === document.querySelector('{cell1}')")
    page.keyboard.press("a")  # accept the proposal: 不符合
    wait_js(page, f"document.querySelector('{cell1}').dataset.saved === 'true'")
    assert page.inner_text(cell0) == "部分符合" and page.inner_text(cell1) == "不符合"
    shot(page, "compliance-workspace")
    grid = page.request.get(f"{base}/api/compliance/assessments/{aid}/items?result=fail").json()
    saved = {c["object_id"]: c["result"] for r in grid if r["id"] == PROPOSED_ITEM for c in r["results"]}
    assert saved == {obj0: "partial", obj1: "fail"}
    page.reload()
    page.wait_for_selector(row)
    assert page.inner_text(cell0) == "部分符合" and page.inner_text(cell1) == "不符合"
    # bulk: the rows of one control point, only the cells without a result, to 不适用
    wait_js(page, "!!window.ciimap")
    page.select_option("#ws-cp", "身份鉴别")
    shown = page.locator("#ws-grid tbody tr:not([hidden])").count()
    assert 0 < shown < 20 and page.is_visible(row)
    page.select_option("#ws-bulk-result", "na")
    page.once("dialog", lambda d: d.accept())
    page.click("#ws-bulk")
    wait_js(page, "!!document.getElementById('ws-status').textContent")
    grid = page.request.get(f"{base}/api/compliance/assessments/{aid}/items").json()
    cp = [r for r in grid if r["control_point"] == "身份鉴别"]
    assert len(cp) == shown and all(len(r["results"]) == len(ids["objects"]) for r in cp)
    kept = {c["object_id"]: c["result"] for r in cp if r["id"] == PROPOSED_ITEM for c in r["results"]}
    assert kept[obj0] == "partial" and kept[obj1] == "fail"  # only unset cells were set
    assert {c["result"] for r in cp for c in r["results"]} == {"na", "partial", "fail"}
    assert page.inner_text(f'{row} td[data-object="{ids["objects"][2]}"]') == "不适用"
    page.goto(f"{base}/compliance")  # the overview links the open assessment and the system page
    page.click(f'#cmp-systems tr[data-system="{ids["scada"]}"] a[href="/compliance/systems/{ids["scada"]}"]')
    page.wait_for_selector("#cmp-rectifications tr[data-rectification]")
    shot(page, "compliance-system")


def test_grading_form_and_rectification_from_the_system_page(page: Any, sqlite_database: Any) -> None:
    """The system page's forms in a browser: the S/A judgements preview the level and rationale, saving
    starts the grading round, the workflow form moves it to 专家评审;
    a rectification item is created from a 部分符合 result and then edited."""
    from ciimap.inventory import models as m
    from web.compliance_seed import build

    ids = build(sqlite_database)
    with sqlite_database.unit_of_work() as s:
        s.get(m.System, ids["office"]).is_cii = True
    base = page.base
    page.goto(f"{base}/login?next=/compliance/systems/{ids['office']}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/compliance/systems/{ids['office']}")
    form = "#cmp-grading-form form"
    wait_js(page, "document.getElementById('cmp-grading-form').open")  # open: the system has no level yet
    page.select_option(f"{form} select[name=s_object]", "order")
    page.select_option(f"{form} select[name=s_degree]", "serious")
    page.select_option(f"{form} select[name=a_object]", "rights")
    page.select_option(f"{form} select[name=a_degree]", "general")
    wait_js(page, "document.querySelector('#cmp-grade-preview [data-level]')?.dataset.level === '3'")
    assert "第三级" in page.inner_text("#cmp-grade-preview")
    page.check(f"{form} input[name=extensions][value=cloud]")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#cmp-gradings tr[data-grading]")  # the page reloads with the new round
    row = page.locator("#cmp-gradings tr[data-grading]").first
    assert "初步定级" in row.inner_text() and "第三级" in row.inner_text()
    shot(page, "compliance-grading-form")
    gid = row.get_attribute("data-grading")
    page.click(f'details[data-advance="{gid}"] summary')
    page.select_option(f'details[data-advance="{gid}"] select[name=to]', "review")
    page.click(f'details[data-advance="{gid}"] button[type=submit]')
    wait_js(page, f"document.querySelector('tr[data-grading=\"{gid}\"]')?.dataset.state === 'review'")
    assert "专家评审" in page.locator(f'tr[data-grading="{gid}"] td').nth(1).inner_text()
    g = page.request.get(f"{base}/api/compliance/gradings/{gid}").json()
    assert (g["state"], g["level"], g["extensions"]) == ("review", 3, ["cloud"])
    # bad input stays on the page as one message
    page.click(f'details[data-advance="{gid}"] summary')
    page.select_option(f'details[data-advance="{gid}"] select[name=to]', "approved")
    page.fill(f'details[data-advance="{gid}"] input[name=filing_number]', "X-1")
    page.click(f'details[data-advance="{gid}"] button[type=submit]')
    page.wait_for_selector(f'details[data-advance="{gid}"] .form-result .alert-error')
    # a rectification item on the system with results
    page.goto(f"{base}/compliance/systems/{ids['scada']}")
    before = page.locator("#cmp-rectifications tr[data-rectification]").count()
    page.click("#cmp-rect-form summary")
    rect = "#cmp-rect-form form"
    page.fill(f"{rect} input[name=owner]", "安全部")
    page.fill(f"{rect} textarea[name=plan]", "启用双因素认证")
    page.fill(f"{rect} input[name=due_date]", "2030-06-30")
    page.click(f"{rect} button[type=submit]")
    wait_js(
        page,
        f"document.querySelectorAll('#cmp-rectifications tr[data-rectification]').length === {before + 1}",
    )
    made = page.locator("#cmp-rectifications tr[data-rectification]", has_text="启用双因素认证")
    assert (
        "安全部" in made.inner_text() and "2030-06-30" in made.inner_text() and "待整改" in made.inner_text()
    )
    rid = made.get_attribute("data-rectification")
    page.click(f'details[data-edit="{rid}"] summary')
    page.select_option(f'details[data-edit="{rid}"] select[name=status]', "in_progress")
    page.click(f'details[data-edit="{rid}"] button[type=submit]')
    # the row's own status (the edit form's <select> also holds the word, so match the attribute)
    wait_js(
        page, f"document.querySelector('tr[data-rectification=\"{rid}\"]')?.dataset.status === 'in_progress'"
    )
    assert "整改中" in page.locator(f'tr[data-rectification="{rid}"] td').nth(4).inner_text()
    r = page.request.get(f"{base}/api/compliance/rectifications/{rid}").json()
    assert (r["status"], r["owner"], r["plan"]) == ("in_progress", "安全部", "启用双因素认证")
    shot(page, "compliance-rectification-form")


def test_crypto_workspace_lines_and_results_are_saved(page: Any, sqlite_database: Any) -> None:
    """On the 密评 workspace: test objects typed one per line (NAME:DAK[:ra=X]) are saved with Ctrl+Enter,
    a management result with its select; both through the API (re-fetched) and shown after a reload."""
    import datetime as dt

    from ciimap.crypto import assessment
    from ciimap.crypto.schemas import AssessmentIn
    from ciimap.inventory.models import System

    with sqlite_database.unit_of_work() as s:
        sysm = System(name="密评系统", mlps_level=3)
        s.add(sysm)
        s.flush()
        data = AssessmentIn(system_id=sysm.id, assessed_on=dt.date(2026, 11, 30), assessor="张三")
        aid = assessment.create(s, data=data)["id"]
    base = page.base
    page.goto(f"{base}/login?next=/crypto/assessments/{aid}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/crypto/assessments/{aid}")
    wait_js(page, "!!(window.ciimap && document.getElementById('ws-data'))")
    row = 'tr[data-layer="应用和数据"][data-name="重要数据存储机密性"]'
    page.fill(f"{row} textarea", "数据库:101:ra=0.5\n备份:111")
    page.focus(f"{row} textarea")
    page.keyboard.press("Control+Enter")
    wait_js(page, f"document.querySelector('{row} .cry-score').textContent === '0.6250'")
    mrow = 'tr[data-layer="管理制度"][data-name="密钥管理规则"]'
    page.select_option(f"{mrow} select", "部分符合")
    wait_js(page, f"document.querySelector('{mrow} .cry-score').textContent === '0.5000'")
    shot(page, "crypto-workspace")
    got = page.request.get(f"{base}/api/crypto/assessments/{aid}").json()
    units = {u["unit"]: u for u in got["units"]}
    assert units["重要数据存储机密性"]["score"] == 0.625 and units["密钥管理规则"]["result"] == "部分符合"
    page.reload()
    assert "数据库:101:ra=0.5" in page.input_value(f"{row} textarea")


def test_alert_console_drill_down_and_warning_acknowledged(
    page: Any, sqlite_database: Any, tmp_path: Path
) -> None:
    """The console shows groups (filtered by system and severity), polls for new groups (htmx), drills
    down to raw lines with their mapping; the warnings page shows the four levels, a warning's
    evidence, and acknowledging it through the page changes its state."""
    from ciimap.alerts.models import AlertGroup
    from web.alert_seed import build

    ids = build(sqlite_database, tmp_path, existing=True)
    base = page.base
    page.goto(f"{base}/login?next=/alerts")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/alerts")
    with sqlite_database.read_session() as s:
        total = s.query(AlertGroup).count()
    assert page.locator("#group-rows tr[data-group]").count() == total
    assert page.get_attribute("#group-rows", "hx-trigger") == "every 15s"
    shot(page, "alerts-console")
    page.select_option("select[name=system_id]", str(ids["system"]))
    page.select_option("select[name=severity]", "high")
    page.click("#alert-filters button[type=submit]")
    page.wait_for_url(f"**/alerts?*system_id={ids['system']}*")
    rows = page.locator("#group-rows tr[data-group]")
    assert 0 < rows.count() < total
    with page.expect_response(lambda r: "/alerts/rows?" in r.url, timeout=60_000):
        pass  # the live poll replaces the rows (every 15 s)
    assert page.locator("#group-rows tr[data-group]").count() == rows.count()
    page.click("#group-rows tr[data-group] td a")
    page.wait_for_selector("#raw-alerts tr[data-alert]")
    page.click("#raw-alerts tr[data-alert] summary")
    assert "event_type" in page.inner_text("#raw-alerts pre.raw")
    assert page.locator('#raw-alerts [data-matched="ip"]').count() >= 1
    shot(page, "alerts-group")

    page.goto(f"{base}/warnings")
    assert page.locator("#warn-levels .warn-level").count() == 4
    assert "红色预警" in page.inner_text("#warn-levels")
    page.click("#warning-rows tr[data-level=red] a >> nth=0")
    page.wait_for_selector("#raw-alerts tr[data-alert]")
    assert "已确认" not in page.inner_text("#warning-state")
    shot(page, "warning-evidence")
    page.click("#warning-ack")
    wait_js(page, "!!document.getElementById('warning-state')?.textContent.includes('已确认')")
    assert page.locator("#warning-ack").count() == 0
    shot(page, "warning-acknowledged")
