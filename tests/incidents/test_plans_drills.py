"""Emergency plans (应急预案) and drills (演练) on a small map.

The map: 主调度系统 runs on host-a (which has the kernel-level agent 鹰盾EDR, auto-updating); 坏备系统
depends on 主调度系统 (a fallback that fails in the same what-if); 同机备系统 runs on host-a too (shares
its single point of failure); 异地备系统 runs on host-b (independent). 调度业务 needs 主调度系统,
备用业务 needs 异地备系统. 库主备 is a redundancy group of the database system over host-c / host-d.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.incidents import drills, overview, plans, reports, service
from ciimap.incidents.models import Incident, Plan, TimelineEntry
from ciimap.inventory.models import (
    Asset,
    BusinessService,
    Contact,
    Edge,
    Organization,
    Product,
    Software,
    System,
    Vendor,
)


def _edge(
    s: Any, st: str, si: int, dt_: str, di: int, group: str | None = None, kind: str = "depends_on"
) -> None:
    s.add(Edge(src_type=st, src_id=si, kind=kind, dst_type=dt_, dst_id=di, redundancy_group=group))


@pytest.fixture
def fmap(database: Database) -> dict[str, int]:
    with database.unit_of_work() as s:
        org = Organization(name="丙电网公司")
        s.add(org)
        s.flush()
        sysn = {n: System(name=n, organization_id=org.id, is_cii=n == "主调度系统")
                for n in ("主调度系统", "坏备系统", "同机备系统", "异地备系统", "数据库系统")}  # fmt: skip
        s.add_all(sysn.values())
        hosts = {
            n: Asset(name=n, kind="server", organization_id=org.id)
            for n in ("host-a", "host-b", "host-c", "host-d")
        }
        s.add_all(hosts.values())
        svc = {n: BusinessService(name=n, organization_id=org.id, criticality="high", rto_minutes=r)
               for n, r in (("调度业务", 120), ("备用业务", 240))}  # fmt: skip
        s.add_all(svc.values())
        ven, other = Vendor(name="鹰盾科技"), Vendor(name="普通厂商")
        s.add_all([ven, other])
        s.flush()
        edr = Product(
            vendor_id=ven.id, name="鹰盾EDR", auto_update=True, update_privilege="kernel", layer="security"
        )
        db = Product(vendor_id=other.id, name="普通数据库", auto_update=False)
        plain = Product(vendor_id=other.id, name="普通软件", auto_update=True, update_privilege="user")
        s.add_all([edr, db, plain])
        s.flush()
        s.add(Software(asset_id=hosts["host-a"].id, product_id=edr.id, name="鹰盾EDR"))
        s.add(Software(asset_id=hosts["host-b"].id, product_id=db.id, name="普通数据库"))
        _edge(s, "system", sysn["主调度系统"].id, "asset", hosts["host-a"].id, kind="runs_on")
        _edge(s, "system", sysn["同机备系统"].id, "asset", hosts["host-a"].id, kind="runs_on")
        _edge(s, "system", sysn["异地备系统"].id, "asset", hosts["host-b"].id, kind="runs_on")
        _edge(s, "system", sysn["坏备系统"].id, "system", sysn["主调度系统"].id)
        _edge(s, "system", sysn["数据库系统"].id, "asset", hosts["host-c"].id, "库主备", kind="runs_on")
        _edge(s, "system", sysn["数据库系统"].id, "asset", hosts["host-d"].id, "库主备", kind="runs_on")
        _edge(s, "business_service", svc["调度业务"].id, "system", sysn["主调度系统"].id)
        _edge(s, "business_service", svc["备用业务"].id, "system", sysn["异地备系统"].id)
        c = Contact(name="王五", phone="13800000000", organization_id=org.id)
        s.add(c)
        s.flush()
        return {"org": org.id, "vendor": ven.id, "other_vendor": other.id, "contact": c.id,
                **{k: v.id for k, v in sysn.items()}, **{k: v.id for k, v in hosts.items()},
                **{k: v.id for k, v in svc.items()}}  # fmt: skip


def _plan(s: Any, m: dict, **kw: Any) -> Plan:
    return plans.create(s, viewer_org=None, title=kw.pop("title", "调度系统应急预案"), system_id=m["主调度系统"],
                        service_id=m["调度业务"], **kw)  # fmt: skip


def test_plan_crud_is_audited_and_resolves_contacts(database: Database, fmap: dict) -> None:
    with database.unit_of_work() as s:
        p = _plan(s, fmap, steps=[{"text": "切换到异地备系统", "owner_role": "处置"}, {"text": "通知业务部门", "owner_role": "联络"}],
                  contacts=[{"contact_id": fmap["contact"]}, {"name": "值班室", "phone": "010-1"}],
                  fallback_kind="system", fallback_ref=str(fmap["异地备系统"]), review_months=6)  # fmt: skip
        pid = p.id
    with database.unit_of_work() as s:
        d = plans.detail(s, plan_id=pid, viewer_org=None)
        assert [x["owner_role"] for x in d["steps"]] == ["处置", "联络"]
        assert d["contacts"][0]["name"] == "王五" and d["contacts"][0]["phone"] == "13800000000"
        assert d["contacts"][1] == {
            "contact_id": None,
            "name": "值班室",
            "phone": "010-1",
            "email": None,
            "role": None,
        }
        assert d["system"] == "主调度系统" and d["service"] == "调度业务"
        assert d["organization_id"] == fmap["org"]  # taken from the system it covers
        assert plans.detail(s, plan_id=pid, viewer_org=fmap["org"])["id"] == pid  # its bound users see it
        plans.update(s, plan_id=pid, viewer_org=None, title="调度系统应急预案（修订）")
        with pytest.raises(NotFound):
            plans.update(s, plan_id=pid, viewer_org=None, contacts=[{"contact_id": 999999}])
        with pytest.raises(Invalid):
            plans.update(s, plan_id=pid, viewer_org=None, system_id=None, service_id=None)
        with pytest.raises(NotFound):
            plans.detail(s, plan_id=pid, viewer_org=fmap["org"] + 1000)  # other organisation: not found
        other = Organization(name="戊公司")
        s.add(other)
        s.flush()
        with pytest.raises(NotFound, match="system"):  # nor can its users write plans over our systems
            plans.create(s, viewer_org=other.id, title="越权预案", system_id=fmap["主调度系统"])
    with database.unit_of_work() as s:
        plans.delete(s, plan_id=pid, viewer_org=None)
    with database.read_session() as s:
        actions = [a for (a,) in s.execute(
            select(AuditLog.action).where(AuditLog.entity_type == "incident_plan", AuditLog.entity_id == str(pid))
            .order_by(AuditLog.id))]  # fmt: skip
        assert actions[0] == "create" and "update" in actions and actions[-1] == "delete", actions


def test_fallback_check_finds_a_fallback_that_fails_in_the_same_what_if(
    database: Database, fmap: dict
) -> None:
    with database.unit_of_work() as s:
        bad = _plan(s, fmap, fallback_kind="system", fallback_ref="坏备系统").id
        shared = _plan(s, fmap, fallback_kind="system", fallback_ref="同机备系统").id
        good = _plan(s, fmap, fallback_kind="system", fallback_ref=str(fmap["异地备系统"])).id
        group = _plan(s, fmap, fallback_kind="redundancy_group", fallback_ref="库主备").id
        none = _plan(s, fmap).id
    with database.read_session() as s:
        r = plans.check(s, plan_id=bad, viewer_org=None)
        assert r["status"] == "fails" and r["ok"] is False
        assert r["fallback"][0]["name"] == "坏备系统" and r["fallback"][0]["status"] == "failed"
        r = plans.check(s, plan_id=shared, viewer_org=None)
        assert r["status"] == "shared_spof" and r["fallback"][0]["status"] == "ok"
        assert {"type": "asset", "id": fmap["host-a"], "name": "host-a"} in r["shared_spof"]
        r = plans.check(s, plan_id=good, viewer_org=None)
        assert r["status"] == "ok" and r["ok"] is True and r["shared_spof"] == []
        r = plans.check(s, plan_id=group, viewer_org=None)
        assert r["status"] == "ok" and sorted(f["name"] for f in r["fallback"]) == ["host-c", "host-d"]
        assert plans.check(s, plan_id=none, viewer_org=None)["status"] == "no_fallback"
    with database.unit_of_work() as s:  # both alternatives of the group now share one switch: not redundant
        sw = Asset(name="switch-1", kind="network")
        s.add(sw)
        s.flush()
        _edge(s, "asset", fmap["host-c"], "asset", sw.id)
        _edge(s, "asset", fmap["host-d"], "asset", sw.id)
    with database.read_session() as s:
        r = plans.check(s, plan_id=group, viewer_org=None)
        assert r["status"] == "not_redundant", r


def test_plan_review_overdue_and_review_resets_it(database: Database, fmap: dict) -> None:
    with database.unit_of_work() as s:
        old = _plan(s, fmap, review_months=12, last_reviewed=plans.today() - dt.timedelta(days=400)).id
        fresh = _plan(s, fmap, review_months=12, last_reviewed=plans.today()).id
    with database.unit_of_work() as s:
        assert plans.detail(s, plan_id=old, viewer_org=None)["review_state"] == "overdue"
        assert plans.detail(s, plan_id=fresh, viewer_org=None)["review_state"] == "ok"
        assert [p["id"] for p in plans.listing(s, viewer_org=None, overdue_only=True)["items"]] == [old]
        p = plans.review(s, plan_id=old, viewer_org=None)
        assert p.next_review == plans.add_months(plans.today(), 12)
        assert plans.listing(s, viewer_org=None, overdue_only=True)["total"] == 0
    assert plans.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert plans.add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


def test_scenarios_list_the_services_that_go_down(database: Database, fmap: dict) -> None:
    with database.read_session() as s:
        cands = drills.vendor_candidates(s)
        assert [v["name"] for v in cands] == ["鹰盾科技"]  # 普通厂商 updates with user rights only
        assert [p["name"] for p in cands[0]["products"]] == ["鹰盾EDR"]
        v = drills.scenario(s, kind="vendor_update", target="鹰盾科技")
        assert [n["name"] for n in v["services_down"]] == [
            "调度业务"
        ]  # 备用业务 on host-b (no agent) survives
        assert v["plans"] == []  # no plan written yet
        assert {n["name"] for n in v["systems_down"]} == {"主调度系统", "坏备系统", "同机备系统"}
        assert fmap["host-a"] in v["asset_ids"]
        r = drills.scenario(s, kind="ransomware", target=str(fmap["异地备系统"]))
        assert [n["name"] for n in r["services_down"]] == ["备用业务"]
        with pytest.raises(Invalid, match="kernel or admin"):
            drills.scenario(s, kind="vendor_update", target="普通厂商")


def test_drill_incident_is_marked_not_counted_and_never_sent(database: Database, fmap: dict) -> None:
    with database.unit_of_work() as s:
        d = drills.start(s, viewer_org=None, kind="vendor_update", target=str(fmap["vendor"]))
        inc = s.get(Incident, d.incident_id)
        assert inc is not None and inc.drill and inc.title.startswith("【演练】")
        assert inc.service_ids == [fmap["调度业务"]] and fmap["主调度系统"] in inc.system_ids
        assert inc.organization_id == fmap["org"]
        assert d.scenario["services_down"][0]["name"] == "调度业务"
        service.regrade(
            s, incident_id=inc.id, viewer_org=None, facts=service.grading.Facts(pi_leaked=10_000_000)
        )
        assert inc.grade == "重大"
        assert service.open_counts(s, viewer_org=None)["by_grade"]["重大"] == 0
        assert overview.rollup(s, viewer_org=None)["by_grade"]["重大"] == 0
        r = reports.create(
            s, incident_id=inc.id, viewer_org=None, kind="initial", items={"1": "甲", "2": "乙"}
        )
        with pytest.raises(Conflict, match="drill"):
            reports.send(s, report_id=r["id"], viewer_org=None, authority="保护工作部门", channel="12387")


def test_timing_scores_from_a_known_timeline_and_the_report(database: Database, fmap: dict) -> None:
    t0 = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)
    with database.unit_of_work() as s:
        d = drills.start(s, viewer_org=None, kind="ransomware", target="主调度系统", notes="切换演练顺利")
        iid, did = d.incident_id, d.id
        inc = s.get(Incident, iid)
        assert inc is not None
        inc.discovered_at = t0
        service.regrade(s, incident_id=iid, viewer_org=None, facts=service.grading.Facts(pi_leaked=1_000_000))
        r = reports.create(s, incident_id=iid, viewer_org=None, kind="initial", items={"1": "甲", "2": "乙"})
        for st in ("研判", "处置", "恢复"):
            service.transition(s, incident_id=iid, viewer_org=None, to=st)
    with database.unit_of_work() as s:  # put the timeline at known times
        minutes = {"grade": 12, "report": 45, "state": 100}
        rows = list(
            s.scalars(
                select(TimelineEntry).where(TimelineEntry.incident_id == iid).order_by(TimelineEntry.id)
            )
        )
        grades = [e for e in rows if e.kind == "grade"]
        grades[1].at = t0 + dt.timedelta(minutes=minutes["grade"])
        next(e for e in rows if e.kind == "report" and e.data.get("report_id") == r["id"]).at = (
            t0 + dt.timedelta(minutes=45)
        )
        next(e for e in rows if e.kind == "state" and e.data.get("after") == "恢复").at = t0 + dt.timedelta(
            minutes=150
        )
    with database.read_session() as s:
        sc = drills.score(s, drill_id=did, viewer_org=None)
        assert sc["time_to_grade_minutes"] == 12 and sc["grade"] == "较大"
        # 主调度系统 is CII: the stored first-report deadline is 60 minutes after discovery
        assert sc["deadline_source"] == "stored" and sc["first_report_deadline_minutes"] == 60
        assert sc["time_to_first_report_minutes"] == 45 and sc["first_report_on_time"] is True
        assert sc["time_to_restore_minutes"] == 150 and sc["rto_minutes"] == 120
        assert sc["restored_within_rto"] is False
        data, name, _ = drills.export(s, drill_id=did, viewer_org=None, fmt="docx")
        text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        cells = "\n".join(
            c.text for t in Document(io.BytesIO(data)).tables for row in t.rows for c in row.cells
        )
        assert "网络安全应急演练复盘报告" in text and "切换演练顺利" in text and "调度业务" in cells
        assert "150 分钟" in cells and "RTO 120 分钟" in cells and "勒索软件攻击" in cells
        pdf, pname, _ = drills.export(s, drill_id=did, viewer_org=None, fmt="pdf")
        assert pdf.startswith(b"%PDF") and pname.endswith(".pdf")


def test_score_before_anything_happened(database: Database, fmap: dict) -> None:
    with database.unit_of_work() as s:
        d = drills.start(s, viewer_org=None, kind="ransomware", target="异地备系统")
        sc = drills.score(s, drill_id=d.id, viewer_org=None)
        assert sc["time_to_grade_minutes"] is None and sc["first_report_on_time"] is None
        assert sc["deadline_source"] == "hypothetical" and sc["first_report_deadline_minutes"] == 240


def test_pages_api_and_forms(client: Any, database: Database, fmap: dict, admin_headers: dict) -> None:
    """The plan page shows the fallback check; the drill page previews a scenario and its form starts a
    drill; the API serves the same; a bound user of another organisation gets 404."""
    from conftest import make_user
    from web.test_pages import login

    r = client.post("/api/incidents/plans", headers=admin_headers, json={
        "title": "调度预案", "system_id": fmap["主调度系统"], "fallback_kind": "system", "fallback_ref": "坏备系统",
        "steps": [{"text": "切换", "owner_role": "处置"}], "contacts": [{"contact_id": fmap["contact"]}]})  # fmt: skip
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["contacts"][0]["name"] == "王五"
    assert client.get(f"/api/incidents/plans/{pid}/check", headers=admin_headers).json()["status"] == "fails"
    assert client.post("/api/incidents/plans", headers=admin_headers, json={"title": "x"}).status_code == 422
    bad = client.patch(
        f"/api/incidents/plans/{pid}", headers=admin_headers, json={"fallback_ref": "没有这个系统"}
    )
    assert bad.status_code == 404
    page = client.get(f"/incidents/plans/{pid}", headers=admin_headers)
    assert page.status_code == 200 and 'data-status="fails"' in page.text and "备用同时失效" in page.text
    assert "调度预案" in client.get("/incidents/plans", headers=admin_headers).text
    assert "鹰盾科技" in client.get("/incidents/drills", headers=admin_headers).text
    prev = client.get(f"/incidents/drills?vendor={fmap['vendor']}", headers=admin_headers)
    assert prev.status_code == 200 and f'data-service="{fmap["调度业务"]}"' in prev.text
    assert f'data-plan="{pid}"' in prev.text  # the plan of 主调度系统, which goes down, is exercised
    assert "普通厂商" in client.get("/incidents/drills?vendor=普通厂商", headers=admin_headers).text
    make_user(database, "analyst", "analyst")
    csrf = login(client, "analyst")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    r = client.post(
        "/incidents/drills/start", data={"kind": "ransomware", "target": "异地备系统"}, headers=hx
    )
    assert r.status_code == 204, r.text
    did = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    assert (
        client.post(
            "/incidents/drills/start", data={"kind": "ransomware", "target": "无"}, headers=hx
        ).status_code
        == 422
    )
    r = client.post("/incidents/plans/new", data={"title": "表单预案", "service_id": str(fmap["调度业务"]),
                                                   "steps": "处置=切换\n联络=通知", "contacts": "值班室:010-1:联络"},
                    headers=hx)  # fmt: skip
    assert r.status_code == 204, r.text
    assert (
        client.post("/incidents/plans/new", data={"title": "坏", "steps": "没有角色"}, headers=hx).status_code
        == 422
    )
    r = client.post(f"/incidents/drills/{did}/notes", data={"notes": "切换耗时偏长"}, headers=hx)
    assert r.status_code == 204, r.text
    page = client.get(f"/incidents/drills/{did}")
    assert "切换耗时偏长" in page.text
    assert page.status_code == 200 and "备用业务" in page.text and 'data-score="restore"' in page.text
    api = client.get(f"/api/incidents/drills/{did}").json()
    assert api["scenario"]["services_down"][0]["name"] == "备用业务" and api["score"]["drill_id"] == did
    doc = client.get(f"/api/incidents/drills/{did}/report?fmt=docx")
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    with database.unit_of_work() as s:
        other = Organization(name="丁公司")
        s.add(other)
        s.flush()
        oid = other.id
    make_user(database, "bound", "analyst")
    with database.unit_of_work() as s:
        from ciimap.auth.models import User

        u = s.scalar(select(User).where(User.username == "bound"))
        u.organization_id = oid
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    login(client, "bound")
    assert client.get(f"/api/incidents/plans/{pid}").status_code == 404
    assert client.get(f"/api/incidents/drills/{did}").status_code == 404
    assert client.get(f"/incidents/plans/{pid}").status_code == 404
    assert client.get("/api/incidents/plans").json()["total"] == 0


def test_cli_plans_and_drills_json(database: Database, fmap: dict, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from ciimap.incidents.cli import app

    def run(*argv: str) -> Any:
        res = CliRunner().invoke(app, list(argv))
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout) if "--json" in argv else res.stdout

    p = run("plans", "add", "调度预案", "--system", str(fmap["主调度系统"]), "--step",
            "处置=切换", "--contact", "值班室:010-1:联络", "--fallback", "system:坏备系统", "--json")  # fmt: skip
    assert p["contacts"][0]["name"] == "值班室" and p["review_state"] == "ok"
    assert run("plans", "check", str(p["id"]), "--json")["status"] == "fails"
    assert run("plans", "list", "--json")["items"][0]["id"] == p["id"]
    assert run("drills", "scenarios", "--json")["vendor_update"][0]["name"] == "鹰盾科技"
    sc = run("drills", "scenarios", "--vendor", "鹰盾科技", "--json")
    assert [n["name"] for n in sc["services_down"]] == ["调度业务"]
    d = run("drills", "start", "--vendor", "鹰盾科技", "--json")
    assert d["services_down"] == 1
    assert run("drills", "score", str(d["id"]), "--json")["incident_id"] == d["incident_id"]
    out = tmp_path / "复盘.docx"
    assert run("drills", "report", str(d["id"]), "-o", str(out), "--json")["bytes"] == out.stat().st_size > 0
    with database.read_session() as s:
        assert s.get(Incident, d["incident_id"]).drill is True  # type: ignore[union-attr]
