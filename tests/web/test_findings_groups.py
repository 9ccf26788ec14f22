"""Findings grouped by advisory, asset and system; the priority explanation in the row; bulk triage
(API and page form): counts, KEV flag, all-or-nothing, audited once, writers only — on both databases."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.vulns.models import Finding, Triage
from web import test_findings_page
from web.test_findings_page import KEV_ADVISORY
from web.test_pages import login

vulnmap = test_findings_page.vulnmap  # the findings page's map (fixture)


def _active(database) -> list[Finding]:
    with database.read_session() as s:
        rows = list(s.scalars(select(Finding).where(Finding.active.is_(True))))
        s.expunge_all()
        return rows


def _bulk_events(database) -> list[AuditLog]:
    with database.read_session() as s:
        rows = list(s.scalars(select(AuditLog).where(AuditLog.action == "bulk_triage")))
        s.expunge_all()
        return rows


def test_groups_count_findings_with_top_priority_and_kev(client, vulnmap, database):
    login(client, "auditor")
    active = _active(database)
    for by, attr in (("advisory", "advisory_id"), ("asset", "asset_id"), ("system", "system_id")):
        page = client.get("/api/vulns/findings/groups", params={"by": by}).json()
        want = Counter(getattr(f, attr) for f in active)
        assert {g["key"]: g["findings"] for g in page["groups"]} == dict(want), by
        assert page["total"] == len(want)
        for g in page["groups"]:
            mine = [f for f in active if getattr(f, attr) == g["key"]]
            assert g["priority"] == min(f.priority for f in mine)
            assert g["score"] == max(f.score for f in mine)
        scores = [g["score"] for g in page["groups"]]
        assert scores == sorted(scores, reverse=True)  # riskiest group first
    adv = client.get("/api/vulns/findings/groups", params={"by": "advisory"}).json()["groups"]
    assert [g["key"] for g in adv if g["kev"]] == [KEV_ADVISORY]
    assets = client.get("/api/vulns/findings/groups", params={"by": "asset"}).json()["groups"]
    assert {g["key"]: g["label"] for g in assets} == {vulnmap["web"]: "web01", vulnmap["db"]: "db01"}
    kev_only = client.get("/api/vulns/findings/groups", params={"by": "asset", "kev": True}).json()
    assert [g["key"] for g in kev_only["groups"]] == [vulnmap["web"]]
    assert client.get("/api/vulns/findings/groups", params={"by": "vendor"}).status_code == 422
    # the page shows the same groups, with the switch
    html = client.get("/findings", params={"group": "asset"}).text
    assert f'data-group-key="{vulnmap["web"]}"' in html and f'data-group-key="{vulnmap["db"]}"' in html
    assert 'data-group="system"' in html and "按资产" in html and "bulk-form" not in html  # auditor


def test_row_shows_why_it_has_its_priority(client, vulnmap, database):
    login(client, "analyst")
    html = client.get("/findings").text
    assert html.count("data-why") == len(vulnmap["order"]) and "KEV" in html
    api = client.get(f"/api/vulns/findings/{vulnmap['order'][0]}").json()
    assert api["finding"]["explanation_zh"] in html


def test_bulk_triage_api_sets_everything_audited_once(client, vulnmap, database):
    csrf = login(client, "analyst")
    h = {"X-CSRF-Token": csrf}
    body = {
        "finding_ids": [vulnmap["medium"]],
        "groups": [{"by": "asset", "key": vulnmap["web"]}],
        "state": "confirmed",
        "assignee": "张三",
        "due_date": "2099-01-31",
        "detail": "本周修复",
    }
    r = client.post("/api/vulns/findings/bulk-triage", json=body, headers=h)
    assert r.status_code == 200, r.text
    chosen = set(vulnmap["jinja"]) | {vulnmap["medium"]}
    assert r.json()["findings"] == len(chosen)
    with database.read_session() as s:
        rows = {f.id: f for f in s.scalars(select(Finding).where(Finding.id.in_(chosen)))}
        assert {f.status for f in rows.values()} == {"confirmed"}
        keys = {f.triage_key for f in rows.values()}
        ts = list(s.scalars(select(Triage).where(Triage.key.in_(keys))))
        assert len(ts) == len(keys) and {(t.assignee, str(t.due_date), t.detail) for t in ts} == {
            ("张三", "2099-01-31", "本周修复")
        }
    events = _bulk_events(database)
    assert len(events) == 1 and sorted(events[0].after["finding_ids"]) == sorted(chosen)
    assert events[0].actor == "analyst"
    # the page shows assignee and due date in the row
    html = client.get("/findings", params={"asset_id": vulnmap["web"]}).text
    assert "data-assignee" in html and "张三" in html and "2099-01-31" in html
    # assignee only: the state stays
    r = client.post(
        "/api/vulns/findings/bulk-triage",
        json={"groups": [{"by": "advisory", "key": KEV_ADVISORY}], "assignee": "李四"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["state"] is None
    with database.read_session() as s:
        assert {f.status for f in s.scalars(select(Finding).where(Finding.advisory_id == KEV_ADVISORY))} == {
            "confirmed"
        }


def test_bulk_triage_is_all_or_nothing_and_for_writers_only(client, vulnmap, database):
    before = {f.id: f.status for f in _active(database)}
    csrf = login(client, "analyst")
    h = {"X-CSRF-Token": csrf}
    missing = client.post(
        "/api/vulns/findings/bulk-triage",
        json={"finding_ids": [vulnmap["order"][0], 999_999], "state": "confirmed"},
        headers=h,
    )
    assert missing.status_code == 404 and "999999" in missing.json()["error"]
    bad = client.post(
        "/api/vulns/findings/bulk-triage",
        json={"finding_ids": vulnmap["order"], "state": "risk_accepted"},  # no expiry date
        headers=h,
    )
    assert bad.status_code == 422
    past = client.post(
        "/api/vulns/findings/bulk-triage",
        json={"finding_ids": vulnmap["order"], "due_date": "2000-01-01"},
        headers=h,
    )
    assert past.status_code == 422
    nothing = client.post("/api/vulns/findings/bulk-triage", json={"state": "confirmed"}, headers=h)
    assert nothing.status_code == 422
    # the page form: one message, nothing kept
    form = client.post(
        "/findings/bulk-triage",
        data={"ids": [str(vulnmap["order"][0]), "999999"], "state": "fixed"},
        headers=h,
    )
    assert form.status_code == 422 and 'role="alert"' in form.text
    assert {f.id: f.status for f in _active(database)} == before and not _bulk_events(database)
    # auditors may not
    client.post("/logout", headers=h)
    h = {"X-CSRF-Token": login(client, "auditor")}
    assert (
        client.post(
            "/api/vulns/findings/bulk-triage",
            json={"finding_ids": vulnmap["order"], "state": "fixed"},
            headers=h,
        ).status_code
        == 403
    )
    assert (
        client.post("/findings/bulk-triage", data={"ids": vulnmap["order"][0]}, headers=h).status_code == 403
    )
    assert {f.id: f.status for f in _active(database)} == before


def test_bulk_triage_from_the_page_form_with_a_group(client, vulnmap, database):
    h = {"X-CSRF-Token": login(client, "admin")}
    r = client.post(
        "/findings/bulk-triage",
        data={
            "groups": f"system:{vulnmap['system']}",
            "state": "confirmed",
            "assignee": "王五",
            "f_kev": "yes",
        },
        headers=h,
    )
    assert r.status_code == 204 and r.headers["HX-Refresh"] == "true" and r.headers["X-Bulk-Findings"] == "1"
    with database.read_session() as s:
        changed = {f.id for f in s.scalars(select(Finding).where(Finding.status == "confirmed"))}
    # only the KEV finding of the system (the page's filter applies to the group)
    assert len(changed) == 1 and changed < set(vulnmap["jinja"])


def test_cli_groups_and_bulk_triage(vulnmap, database):
    import json

    from typer.testing import CliRunner

    from ciimap.cli import app as cli_app

    runner = CliRunner()
    r = runner.invoke(cli_app, ["vulns", "groups", "--by", "asset", "--json"])
    assert r.exit_code == 0, r.output
    page = json.loads(r.stdout)
    assert {g["key"] for g in page["groups"]} == {vulnmap["web"], vulnmap["db"]}
    r = runner.invoke(
        cli_app,
        ["vulns", "bulk-triage", "--group", f"asset:{vulnmap['db']}", "--assignee", "赵六", "--json"],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["findings"] == len(vulnmap["order"]) - len(vulnmap["jinja"]) and out["assignee"] == "赵六"
    bad = runner.invoke(cli_app, ["vulns", "bulk-triage", "--group", "asset", "--state", "confirmed"])
    assert bad.exit_code != 0 and len(_bulk_events(database)) == 1
