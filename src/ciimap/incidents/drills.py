"""Drills (演练): tabletop scenarios generated from the map, drill incidents, timing scores and the
after-action report.

Scenarios:

- ``vendor_update`` — "a kernel-level agent's vendor pushes a faulty update": the vendor's products that
  auto-update with kernel (or admin) rights fail at once (the graph what-if on those products, not on the
  vendor's every product); the business services and systems that go down or degrade are listed.
- ``ransomware`` — ransomware on a chosen system: the what-if on that system.

Starting a drill opens a drill incident (``Incident.drill``: never counted in statistics, never sent to
real authorities — :func:`ciimap.incidents.reports.send` refuses it) with the scenario's affected
assets, systems and services, and stores the expected impact on the ``Drill`` row.

Scores come from the drill incident's timeline: time to grade (the first grading after the automatic one
at opening), time to the first initial report drafted against the first-report deadline (the stored one
when the drill was graded 较大 or above, else the deadline the reporter type would have had), and time
to restore (entering 恢复) against the shortest RTO of the services that go down.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ciimap.compliance.reports import Doc, Table, to_docx, to_pdf
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid, NotFound
from ciimap.graph import impact as graph_impact
from ciimap.graph.schemas import Selector
from ciimap.incidents import clock, grading, service
from ciimap.incidents.models import DRILL_KINDS, Drill, Plan, Report, TimelineEntry
from ciimap.inventory.models import BusinessService, Product, System, Vendor

#: Update privileges that make a pushed update able to take a host down.
PRIVILEGED = ("kernel", "admin")
KIND_NAMES = {"vendor_update": "厂商推送故障更新（内核级代理）", "ransomware": "勒索软件攻击"}
FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
LIST_LIMIT = 200


def vendor_candidates(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """Vendors with products that auto-update with kernel or admin rights (the supply domain's fields),
    most privileged first: the candidates for the faulty-update scenario."""
    rows = session.execute(
        select(Vendor.id, Vendor.name, Vendor.is_domestic, Product.id, Product.name, Product.update_privilege)
        .join(Product, Product.vendor_id == Vendor.id)
        .where(Product.auto_update.is_(True), Product.update_privilege.in_(PRIVILEGED))
        .order_by(Vendor.name, Product.name)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for vid, vname, domestic, pid, pname, priv in rows:
        v = out.setdefault(vid, {"id": vid, "name": vname, "is_domestic": domestic, "products": []})
        v["products"].append({"id": pid, "name": pname, "update_privilege": priv})
    ranked = sorted(
        out.values(),
        key=lambda v: (not any(p["update_privilege"] == "kernel" for p in v["products"]), v["name"]),
    )
    return ranked[:limit]


def _node(n: Any) -> dict[str, Any]:
    return {"id": n.id, "name": n.name, "status": n.status, "is_cii": n.is_cii, "path": n.path_text}


def scenario(session: Session, *, kind: str, target: str, viewer_org: int | None = None) -> dict[str, Any]:
    """The scenario for a vendor (``vendor_update``) or a system (``ransomware``): what goes down, and the
    emergency plans (of the caller's organisation) that cover a service or system that goes down."""
    if kind not in DRILL_KINDS:
        raise Invalid(f"unknown drill scenario '{kind}' (choose from {', '.join(DRILL_KINDS)})")
    if kind == "vendor_update":
        vid = graph_impact._ids_by_ref(session, "vendor", target.strip())[0]
        vendor = session.get(Vendor, vid)
        assert vendor is not None
        products = session.execute(
            select(Product.id, Product.name, Product.update_privilege)
            .where(
                Product.vendor_id == vid,
                Product.auto_update.is_(True),
                Product.update_privilege.in_(PRIVILEGED),
            )
            .order_by(Product.id)
        ).all()
        if not products:
            raise Invalid(
                f"vendor '{vendor.name}' has no product that auto-updates with kernel or admin rights"
            )
        selectors = [Selector(kind="product", ref=str(p[0])) for p in products]
        tgt = {"kind": "vendor", "id": vid, "name": vendor.name}
        title = f"{vendor.name} 推送故障更新（{'、'.join(p[1] for p in products)}）"
        extra = {"products": [{"id": p[0], "name": p[1], "update_privilege": p[2]} for p in products]}
    else:
        sid = graph_impact._ids_by_ref(session, "system", target.strip())[0]
        system = session.get(System, sid)
        assert system is not None
        selectors = [Selector(kind="system", ref=str(sid))]
        tgt = {"kind": "system", "id": sid, "name": system.name}
        title = f"{system.name} 遭勒索软件加密"
        extra = {}
    res = graph_impact.impact_many(session, selectors=selectors)
    hit_sys = [n.id for n in res.systems if n.status == "failed"]
    hit_svc = [n.id for n in res.services if n.status == "failed"]
    return {
        "kind": kind, "kind_name": KIND_NAMES[kind], "target": tgt, "title": title, **extra,
        "selectors": [s.model_dump() for s in selectors],
        "services_down": [_node(n) for n in res.services if n.status == "failed"],
        "services_degraded": [_node(n) for n in res.services if n.status == "degraded"],
        "systems_down": [_node(n) for n in res.systems if n.status == "failed"],
        "systems_degraded": [_node(n) for n in res.systems if n.status == "degraded"],
        "asset_ids": [n.id for n in res.assets if n.status == "failed"],
        "counts": res.counts, "assets_total": res.assets_total, "map_version": res.map_version,
        "plans": _plans_for(session, hit_sys, hit_svc, viewer_org),
    }  # fmt: skip


def _plans_for(
    session: Session, system_ids: list[int], service_ids: list[int], viewer_org: int | None
) -> list[dict[str, Any]]:
    """Emergency plans covering any of these systems or services (the plans the drill exercises)."""
    if not system_ids and not service_ids:
        return []
    where = [or_(Plan.system_id.in_(system_ids), Plan.service_id.in_(service_ids))]
    if viewer_org is not None:
        where.append(Plan.organization_id == viewer_org)
    rows = session.execute(select(Plan.id, Plan.title).where(*where).order_by(Plan.id).limit(100)).all()
    return [{"id": i, "title": t} for i, t in rows]


def get(session: Session, drill_id: int, viewer_org: int | None) -> Drill:
    d = session.get(Drill, drill_id)
    if d is None or (viewer_org is not None and d.organization_id != viewer_org):
        raise NotFound(f"drill {drill_id} does not exist")
    return d


def start(
    session: Session, *, viewer_org: int | None, kind: str, target: str, organization_id: int | None = None,
    notes: str | None = None,
) -> Drill:  # fmt: skip
    """Generate the scenario and open its drill incident (marked 演练) with the affected map records."""
    sc = scenario(session, kind=kind, target=target, viewer_org=viewer_org)
    system_ids = [n["id"] for n in sc["systems_down"] + sc["systems_degraded"]]
    if kind == "ransomware" and sc["target"]["id"] not in system_ids:
        system_ids.insert(0, sc["target"]["id"])
    inc = service.open_incident(
        session, viewer_org=viewer_org, title=f"【演练】{sc['title']}", organization_id=organization_id,
        description=f"演练场景：{sc['kind_name']}。预期停止的业务 {len(sc['services_down'])} 项，系统 {len(sc['systems_down'])} 个。",
        asset_ids=sc["asset_ids"], system_ids=system_ids,
        service_ids=[n["id"] for n in sc["services_down"] + sc["services_degraded"]], drill=True,
    )  # fmt: skip
    d = Drill(organization_id=inc.organization_id, kind=kind, target_kind=sc["target"]["kind"],
              target_id=sc["target"]["id"], target_name=sc["target"]["name"][:200], incident_id=inc.id,
              scenario=sc, notes=notes, started_at=utcnow(), created_by=service.actor())  # fmt: skip
    session.add(d)
    session.flush()
    service.log(session, inc.id, "comment", f"演练开始：{sc['kind_name']}（演练 {d.id}）", drill_id=d.id)
    return d


def set_notes(session: Session, *, drill_id: int, viewer_org: int | None, notes: str) -> Drill:
    d = get(session, drill_id, viewer_org)
    d.notes = notes
    session.flush()
    return d


def _minutes(a: dt.datetime | None, b: dt.datetime) -> float | None:
    return None if a is None else round((clock.aware(a) - clock.aware(b)).total_seconds() / 60, 1)


def score(session: Session, *, drill_id: int, viewer_org: int | None) -> dict[str, Any]:
    """Timing scores from the drill incident's timeline (minutes from discovery; None: not yet)."""
    d = get(session, drill_id, viewer_org)
    inc = service.get(session, d.incident_id, viewer_org)
    entries = list(session.scalars(
        select(TimelineEntry).where(TimelineEntry.incident_id == inc.id).order_by(TimelineEntry.id)
    ))  # fmt: skip
    t0 = clock.aware(inc.discovered_at)
    # grading done by the team: after the "drill started" entry (the grading at opening is automatic)
    mark = next((e.id for e in entries if (e.data or {}).get("drill_id") == d.id), 0)
    graded_at = next((e.at for e in entries if e.kind == "grade" and e.id > mark), None)
    initial = set(
        session.scalars(select(Report.id).where(Report.incident_id == inc.id, Report.kind == "initial"))
    )
    first_report_at = next(
        (e.at for e in entries if e.kind == "report" and (e.data or {}).get("report_id") in initial), None
    )
    restored_at = next(
        (e.at for e in entries if e.kind == "state" and (e.data or {}).get("after") == "恢复"), None
    )
    stored = clock.deadlines_of(session, inc.id).get("first_report")
    if stored is not None:
        due, source = clock.aware(stored.due_at), "stored"
    else:
        reporter = inc.reporter or service.reporter_for(session, inc)
        minutes = grading.criteria().reporters[reporter].first_report_minutes  # type: ignore[index]
        due, source = t0 + dt.timedelta(minutes=minutes), "hypothetical"
    down = [n["id"] for n in (d.scenario or {}).get("services_down", [])]
    rtos = (
        [
            r
            for r in session.scalars(select(BusinessService.rto_minutes).where(BusinessService.id.in_(down)))
            if r
        ]
        if down
        else []
    )
    rto = min(rtos) if rtos else None
    to_restore = _minutes(restored_at, t0)
    deadline_minutes = _minutes(due, t0)
    to_report = _minutes(first_report_at, t0)
    return {
        "drill_id": d.id, "incident_id": inc.id, "discovered_at": t0,
        "graded_at": clock.aware(graded_at) if graded_at else None, "time_to_grade_minutes": _minutes(graded_at, t0),
        "grade": inc.grade,
        "first_report_at": clock.aware(first_report_at) if first_report_at else None,
        "time_to_first_report_minutes": to_report, "first_report_due_at": due,
        "first_report_deadline_minutes": deadline_minutes, "deadline_source": source,
        "first_report_on_time": None if to_report is None else to_report <= (deadline_minutes or 0),
        "restored_at": clock.aware(restored_at) if restored_at else None, "time_to_restore_minutes": to_restore,
        "rto_minutes": rto, "restored_within_rto": None if to_restore is None or rto is None else to_restore <= rto,
    }  # fmt: skip


def to_dict(d: Drill) -> dict[str, Any]:
    sc = d.scenario or {}
    return {"id": d.id, "organization_id": d.organization_id, "kind": d.kind, "target_kind": d.target_kind,
            "target_id": d.target_id, "target_name": d.target_name, "incident_id": d.incident_id,
            "title": sc.get("title"), "services_down": len(sc.get("services_down", [])),
            "systems_down": len(sc.get("systems_down", [])), "notes": d.notes, "started_at": d.started_at,
            "created_by": d.created_by}  # fmt: skip


def listing(
    session: Session, *, viewer_org: int | None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    stmt = select(Drill).order_by(Drill.id.desc()).limit(min(limit, LIST_LIMIT)).offset(offset)
    if viewer_org is not None:
        stmt = stmt.where(Drill.organization_id == viewer_org)
    return [to_dict(d) for d in session.scalars(stmt)]


def detail(session: Session, *, drill_id: int, viewer_org: int | None) -> dict[str, Any]:
    d = get(session, drill_id, viewer_org)
    return to_dict(d) | {
        "scenario": d.scenario,
        "score": score(session, drill_id=drill_id, viewer_org=viewer_org),
    }


def _fmt(t: Any) -> str:
    return "—" if t is None else f"{clock.aware(t).astimezone(clock.CST):%Y-%m-%d %H:%M}"


def _mins(v: float | None) -> str:
    return "未完成" if v is None else f"{v:g} 分钟"


def document(session: Session, *, drill_id: int, viewer_org: int | None) -> Doc:
    """The after-action report (演练复盘报告): scenario, expected impact, timings and notes."""
    d = get(session, drill_id, viewer_org)
    sc, s = d.scenario or {}, score(session, drill_id=drill_id, viewer_org=viewer_org)
    doc = Doc(title="网络安全应急演练复盘报告", filename=re.sub(r"[^\w\-]+", "_", f"演练复盘报告-{d.id}"))
    doc.kv([("演练编号", str(d.id)), ("演练事件编号", str(d.incident_id)), ("演练场景", KIND_NAMES.get(d.kind, d.kind)),
            ("场景对象", d.target_name), ("场景说明", sc.get("title", "")), ("开始时间", f"{_fmt(d.started_at)}（北京时间）"),
            ("组织人", d.created_by), ("说明", "本事件为演练，不计入统计，不向真实监管部门报送。")])  # fmt: skip
    doc.h("一、预期影响（依据资产地图影响分析）")
    rows = [[n["name"] or str(n["id"]), "中断" if n["status"] == "failed" else "降级", n["path"]]
            for n in sc.get("services_down", []) + sc.get("services_degraded", [])]  # fmt: skip
    doc.p(f"停止的关键业务 {len(sc.get('services_down', []))} 项，降级 {len(sc.get('services_degraded', []))} 项；"
          f"停止的系统 {len(sc.get('systems_down', []))} 个，降级 {len(sc.get('systems_degraded', []))} 个。")  # fmt: skip
    if rows:
        doc.table(Table(headers=["关键业务", "状态", "依赖路径"], rows=rows, widths=[2.5, 1.0, 6.5]))
    sys_rows = [[n["name"] or str(n["id"]), "中断" if n["status"] == "failed" else "降级", "是" if n["is_cii"] else "否"]
                for n in sc.get("systems_down", []) + sc.get("systems_degraded", [])]  # fmt: skip
    if sys_rows:
        doc.table(Table(headers=["系统", "状态", "关键信息基础设施"], rows=sys_rows, widths=[5.0, 2.0, 3.0]))
    if sc.get("plans"):
        doc.p("适用的应急预案：" + "；".join(f"#{p['id']} {p['title']}" for p in sc["plans"]))
    doc.h("二、处置时效")
    on_time = {True: "按时", False: "超时", None: "—"}
    doc.table(Table(headers=["指标", "用时", "目标", "结果"], rows=[
        ["定级用时", _mins(s["time_to_grade_minutes"]), "—", s["grade"]],
        ["首次报告（初报起草）用时", _mins(s["time_to_first_report_minutes"]),
         f"{s['first_report_deadline_minutes']:g} 分钟（{'已设时限' if s['deadline_source'] == 'stored' else '按报告主体推定'}）",
         on_time[s["first_report_on_time"]]],
        ["恢复用时（进入恢复状态）", _mins(s["time_to_restore_minutes"]),
         "—" if s["rto_minutes"] is None else f"RTO {s['rto_minutes']} 分钟", on_time[s["restored_within_rto"]]],
    ], widths=[3.5, 2.0, 3.0, 1.5]))  # fmt: skip
    doc.h("三、演练记录与改进建议")
    doc.p(d.notes or "（无）")
    return doc


def export(session: Session, *, drill_id: int, viewer_org: int | None, fmt: str) -> tuple[bytes, str, str]:
    """(content, file name, media type) of the after-action report as DOCX or PDF."""
    if fmt not in FORMATS:
        raise Invalid(f"after-action reports are written as docx or pdf, not '{fmt}'")
    doc = document(session, drill_id=drill_id, viewer_org=viewer_org)
    data = to_docx(doc) if fmt == "docx" else to_pdf(doc)
    return data, f"{doc.filename}.{fmt}", FORMATS[fmt]
