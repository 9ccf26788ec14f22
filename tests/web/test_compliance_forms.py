"""The compliance system page's forms (issue 12: everything from the browser), both databases: start a
grading from the S/A judgements (preview of the level and rationale, warnings after saving), move it
through 专家评审 → 主管部门核准 → 公安机关备案, start an assessment, create and update a rectification
item. Each goes through the API's schemas and the services (audited); bad input is one message (422)
and nothing is stored; read-only users see no form and cannot post."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from ciimap.compliance.models import Assessment, Grading, Rectification
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.inventory import models as m
from conftest import make_user
from web.compliance_seed import build
from web.test_pages import login


@pytest.fixture
def cmap(database: Database) -> dict[str, Any]:
    for name in ("analyst", "auditor"):
        make_user(database, name, name)
    return build(database)


def _post(client: Any, csrf: str, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data=data, headers={"X-CSRF-Token": csrf, "HX-Request": "true"})


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _audited(db: Database, entity_type: str, entity_id: int) -> int:
    with db.read_session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
            )
            or 0
        )


def test_grading_from_the_page_through_the_workflow(client: Any, database: Database, cmap: dict) -> None:
    csrf = login(client, "analyst")
    office = cmap["office"]
    html = client.get(f"/compliance/systems/{office}").text
    assert (
        'id="cmp-grading-form"' in html
        and "公民、法人和其他组织的合法权益" in html
        and "特别严重损害" in html
    )
    preview = client.get(
        "/compliance/grade-preview",
        params={"s_object": "order", "s_degree": "serious", "a_object": "rights", "a_degree": "general"},
    ).text
    assert 'data-level="3"' in preview and "第三级" in preview and "S3A1" in preview
    # bad input: one message naming the field, nothing stored
    bad = _post(
        client,
        csrf,
        f"/compliance/systems/{office}/gradings",
        {"s_object": "galaxy", "s_degree": "serious", "a_object": "order", "a_degree": "general"},
    )
    assert bad.status_code == 422 and "s_object" in bad.text
    assert _count(database, Grading, Grading.system_id == office) == 0
    r = _post(
        client,
        csrf,
        f"/compliance/systems/{office}/gradings",
        {
            "s_object": "rights",
            "s_degree": "serious",
            "a_object": "rights",
            "a_degree": "general",
            "object_type": "information_system",
            "extensions": ["cloud", "iot"],
            "notes": "初步定级",
        },
    )
    assert r.status_code == 204 and r.headers["HX-Refresh"] == "true"
    with database.read_session() as s:
        g = s.scalars(select(Grading).where(Grading.system_id == office)).one()
        gid, level, exts = g.id, (g.s_level, g.a_level, g.level), sorted(g.extensions)
    assert level == (2, 1, 2) and exts == ["cloud", "iot"]
    assert _audited(database, "compliance_grading", gid) >= 1
    html = client.get(f"/compliance/systems/{office}").text
    hit = re.search(rf'<tr data-grading="{gid}" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert hit is not None and hit.group(1) == "draft"
    row = hit.group(2)
    assert "初步定级" in row and f'data-advance="{gid}"' in row and "第二级" in row
    # workflow: review, approval (authority), filing (number, date, police unit)
    steps = [
        {"to": "review"},
        {"to": "approved", "authority": "市能源局"},
    ]
    for step in steps:
        assert _post(client, csrf, f"/compliance/gradings/{gid}/advance", step).status_code == 204
    today = dt.date.today().isoformat()
    missing = _post(
        client, csrf, f"/compliance/gradings/{gid}/advance", {"to": "filed", "filing_number": "X-1"}
    )
    assert missing.status_code == 422 and "filing needs" in missing.text
    wrong = _post(client, csrf, f"/compliance/gradings/{gid}/advance", {"to": "review"})
    assert wrong.status_code == 422 and "cannot go to review" in wrong.text
    filed = _post(
        client,
        csrf,
        f"/compliance/gradings/{gid}/advance",
        {
            "to": "filed",
            "filing_number": "11010000001-00009",
            "filing_date": today,
            "police_unit": "市公安局网安支队",
        },
    )
    assert filed.status_code == 204
    with database.read_session() as s:
        g = s.get(Grading, gid)
        system = s.get(m.System, office)
        assert g is not None and system is not None
        assert (g.state, g.authority, g.filing_number, g.police_unit) == (
            "filed",
            "市能源局",
            "11010000001-00009",
            "市公安局网安支队",
        )
        assert [st["state"] for st in g.steps] == ["draft", "review", "approved", "filed"]
        assert (system.mlps_level, system.filing_number) == (2, "11010000001-00009")
    html = client.get(f"/compliance/systems/{office}").text
    hit = re.search(rf'<tr data-grading="{gid}" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert hit is not None and hit.group(1) == "filed"
    row = hit.group(2)
    assert "公安机关备案" in row and "市公安局网安支队" in row and "data-advance" not in row


def test_cii_warning_after_grading_from_the_page(client: Any, database: Database, cmap: dict) -> None:
    csrf = login(client, "analyst")
    with database.unit_of_work() as s:
        s.get(m.System, cmap["office"]).is_cii = True
    r = _post(
        client,
        csrf,
        f"/compliance/systems/{cmap['office']}/gradings",
        {"s_object": "rights", "s_degree": "general", "a_object": "rights", "a_degree": "general"},
    )
    assert r.status_code == 204  # a warning, not a block
    html = client.get(f"/compliance/systems/{cmap['office']}").text
    assert re.search(r'<div class="warn-text" data-warning="cii_below_level_3">⚠ 关键信息基础设施', html)


def test_assessment_and_rectification_from_the_page(client: Any, database: Database, cmap: dict) -> None:
    csrf = login(client, "analyst")
    scada = cmap["scada"]
    html = client.get(f"/compliance/systems/{scada}").text
    assert 'id="cmp-assessment-form"' in html and 'id="cmp-rect-form"' in html
    # the open assessment's 部分符合 result is offered; the one already rectified is not
    options = re.findall(r'<option value="(result|risk):(\d+)">', html)
    assert options and str(cmap["fail_result"]) not in {i for k, i in options if k == "result"}
    kind, ref = options[0]
    bad = _post(
        client,
        csrf,
        f"/compliance/systems/{scada}/rectifications",
        {"source": f"{kind}:{ref}", "due_date": "soon"},
    )
    assert bad.status_code == 422 and "due_date" in bad.text
    before = _count(database, Rectification)
    r = _post(
        client,
        csrf,
        f"/compliance/systems/{scada}/rectifications",
        {"source": f"{kind}:{ref}", "owner": "安全部", "plan": "启用双因素认证", "due_date": "2030-06-30"},
    )
    assert r.status_code == 204 and _count(database, Rectification) == before + 1
    with database.read_session() as s:
        rect = s.scalars(select(Rectification).order_by(Rectification.id.desc()).limit(1)).one()
        rid = rect.id
        assert (rect.owner_text, rect.plan, rect.due_date, rect.status) == (
            "安全部",
            "启用双因素认证",
            dt.date(2030, 6, 30),
            "open",
        )
    assert _audited(database, "compliance_rectification", rid) >= 1
    again = _post(client, csrf, f"/compliance/systems/{scada}/rectifications", {"source": f"{kind}:{ref}"})
    assert again.status_code == 422 and "already has open rectification" in again.text
    # update: in progress, then verified needs a verification note
    edit = f"/compliance/rectifications/{rid}/edit"
    assert (
        _post(
            client, csrf, edit, {"status": "in_progress", "owner": "安全部", "plan": "先堡垒机"}
        ).status_code
        == 204
    )
    refused = _post(client, csrf, edit, {"status": "verified"})
    assert refused.status_code == 422 and "verification_note" in refused.text
    ok = _post(client, csrf, edit, {"status": "verified", "verification_note": "复测通过"})
    assert ok.status_code == 204
    with database.read_session() as s:
        rect = s.get(Rectification, rid)
        assert rect is not None and (rect.status, rect.plan, rect.verification_note) == (
            "verified",
            "先堡垒机",
            "复测通过",
        )
    # a new assessment of the other system from the page: then its workspace
    n = _count(database, Assessment)
    no_body = _post(client, csrf, f"/compliance/systems/{scada}/assessments", {"kind": "external"})
    assert no_body.status_code == 422 and "body" in no_body.text and _count(database, Assessment) == n
    ungraded = _post(client, csrf, f"/compliance/systems/{cmap['office']}/assessments", {"kind": "self"})
    assert (
        ungraded.status_code == 422 and "has no level" in ungraded.text and _count(database, Assessment) == n
    )
    made = _post(
        client,
        csrf,
        f"/compliance/systems/{scada}/assessments",
        {
            "kind": "external",
            "body": "某测评机构",
            "cycle": "2027",
            "catalog": "22239-2019",
            "include_assets": "on",
        },
    )
    assert made.status_code == 204, made.text
    assert made.headers["HX-Redirect"].startswith("/compliance/assessments/")
    aid = int(made.headers["HX-Redirect"].rsplit("/", 1)[1])
    with database.read_session() as s:
        a = s.get(Assessment, aid)
        assert a is not None and (a.system_id, a.kind, a.body, a.cycle) == (
            scada,
            "external",
            "某测评机构",
            "2027",
        )
    assert client.get(made.headers["HX-Redirect"]).status_code == 200


def test_read_only_users_get_no_forms_and_cannot_post(client: Any, database: Database, cmap: dict) -> None:
    csrf = login(client, "auditor")
    html = client.get(f"/compliance/systems/{cmap['office']}").text
    assert "cmp-grading-form" not in html and "cmp-rect-form" not in html and "data-advance" not in html
    r = _post(
        client,
        csrf,
        f"/compliance/systems/{cmap['office']}/gradings",
        {"s_object": "order", "s_degree": "general", "a_object": "rights", "a_degree": "general"},
    )
    assert r.status_code == 403
    assert _count(database, Grading, Grading.system_id == cmap["office"]) == 0


def test_evidence_reasons_in_the_page_language(client: Any, database: Database, cmap: dict) -> None:
    csrf = login(client, "auditor")
    html = client.get(f"/compliance/systems/{cmap['scada']}").text
    assert '<span class="muted" data-reason="cleartext_login">明文登录服务</span>' in html
    assert "clear-text login service" not in html
    # the open assessment's workspace is where proposals are confirmed or overridden
    assert f'<a id="cmp-confirm-link" href="/compliance/assessments/{cmap["open"]}">在2026测评工作台' in html
    r = client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    html = client.get(f"/compliance/systems/{cmap['scada']}").text
    assert '<span class="muted" data-reason="cleartext_login">clear-text login service</span>' in html


def test_obligations_calendar_page(client: Any, database: Database, cmap: dict) -> None:
    """Item 7's calendar view: the dated obligations by month with their state, linked from the overview;
    the CII system's yearly test and risk assessment is on it."""
    csrf = login(client, "auditor")
    assert 'href="/compliance/obligations"' in client.get("/compliance").text
    page = client.get("/compliance/obligations")
    assert page.status_code == 200
    html = page.text
    months = re.findall(r'<section class="panel" data-month="(\d{4}-\d{2})">', html)
    assert months and months == sorted(months)
    rows = re.findall(r'<tr data-obligation="([^"]+)" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert any("年度检测评估" in body and "调度系统" in body for _k, _s, body in rows)
    states = {st for _k, st, _b in rows}
    assert states <= {"upcoming", "due", "overdue", "done"}
    overdue = re.search(
        r'data-card="obl-overdue"><div class="card-label">已逾期</div><div class="card-value">(\d+)<', html
    )
    assert overdue is not None
    api = client.get("/api/compliance/obligations", headers={"X-CSRF-Token": csrf}).json()
    assert int(overdue.group(1)) == sum(1 for r in api if r["state"] == "overdue")
    client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    html = client.get("/compliance/obligations").text
    assert "CII obligations calendar" in html and "yearly test and risk assessment" in html
