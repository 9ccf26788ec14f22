"""Report forms of the 2025 measures (initial, supplement, summary), their export as Chinese DOCX and
PDF (the compliance domain's neutral document and renderers: python-docx, fpdf2 + Noto CJK), and the
record of every report sent (authority, time, sender, channel; hotline 12387 included).

An initial report may carry items 1 and 2 only ("file items 1–2 first" when cause or impact is not yet
known) and be completed by supplements. Drill incidents are never sent to real authorities.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.compliance.reports import Doc, Table, to_docx, to_pdf
from ciimap.core.db import utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.incidents import clock, events, grading, service
from ciimap.incidents.models import CHANNELS, REPORT_KINDS, Incident, Report, Submission

#: The eight content items of an incident report (initial and supplement).
ITEMS: dict[str, str] = {
    "1": "事发单位名称及发生事件的设施、系统、平台的基本情况",
    "2": "事件发现或发生时间、地点、事件类型、级别、影响范围及危害、已采取的应急处置措施及效果（勒索类事件须包括勒索金额、方式、日期）",
    "3": "事态发展趋势及可能进一步造成的影响和危害",
    "4": "初步分析的事件原因",
    "5": "进一步调查分析所需的线索（可能的攻击者、攻击路径、存在的漏洞等）",
    "6": "拟进一步采取的应对措施以及请求支援事项",
    "7": "事件的现场保护情况",
    "8": "其他应当报告的情况",
}
#: The content of the summary report (within 30 days after handling ends).
SUMMARY_ITEMS: dict[str, str] = {
    "1": "事件发生的原因",
    "2": "应急处置措施",
    "3": "危害情况",
    "4": "责任处理情况",
    "5": "整改情况",
    "6": "经验教训",
}
KIND_NAMES = {
    "initial": "网络安全事件初报",
    "supplement": "网络安全事件续报",
    "summary": "网络安全事件总结报告",
}
FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
CHANNEL_NAMES = {"12387": "12387 热线", "platform": "报告平台", "email": "电子邮件", "fax": "传真", "phone": "电话",
                 "in_person": "当面报送", "other": "其他"}  # fmt: skip


def items_of(kind: str) -> dict[str, str]:
    return SUMMARY_ITEMS if kind == "summary" else ITEMS


def _check(kind: str, items: dict[str, str]) -> dict[str, str]:
    if kind not in REPORT_KINDS:
        raise Invalid(f"unknown report kind '{kind}' (choose from {', '.join(REPORT_KINDS)})")
    known = items_of(kind)
    bad = sorted(set(items) - set(known))
    if bad:
        raise Invalid(f"a {kind} report has items {', '.join(known)}; not {', '.join(bad)}")
    clean = {k: v.strip() for k, v in items.items() if v and v.strip()}
    if kind == "initial" and not ("1" in clean and "2" in clean):
        raise Invalid(
            "an initial report needs at least items 1 and 2 (unit and system; time, type, grade, impact)"
        )
    if not clean:
        raise Invalid(f"a {kind} report needs at least one item")
    return clean


def _out(r: Report) -> dict[str, Any]:
    known = items_of(r.kind)
    return {"id": r.id, "incident_id": r.incident_id, "organization_id": r.organization_id, "kind": r.kind,
            "items": r.items, "missing": [k for k in known if k not in r.items], "created_by": r.created_by,
            "created_at": r.created_at, "updated_at": r.updated_at}  # fmt: skip


def draft(session: Session, *, incident_id: int, viewer_org: int | None, kind: str) -> dict[str, str]:
    """Items 1 and 2 pre-filled from the incident (the operator edits them before saving)."""
    inc = service.get(session, incident_id, viewer_org)
    if kind == "summary":
        return {}
    cats = service.categories()["categories"]
    cat = cats.get(inc.category or "", {})
    kind_name = cat.get("subcategories", {}).get(inc.subcategory or "", cat.get("name", "未分类"))
    why = "；".join(f"{r['label']} {r['value']}" for r in inc.reached) or "未达到较大及以上标准"
    return {
        "1": f"事件：{inc.title}。涉及系统 {', '.join(map(str, inc.system_ids or [])) or '待补充'}。",
        "2": f"发现时间 {clock.aware(inc.discovered_at).astimezone(clock.CST):%Y-%m-%d %H:%M}（北京时间）；"
        f"类型 {kind_name}；级别 {inc.grade}（{why}）。",
    }


def create(
    session: Session, *, incident_id: int, viewer_org: int | None, kind: str, items: dict[str, str]
) -> dict[str, Any]:
    inc = service.get(session, incident_id, viewer_org)
    clean = _check(kind, items)
    r = Report(incident_id=inc.id, organization_id=inc.organization_id, kind=kind, items=clean,
               created_by=service.actor())  # fmt: skip
    session.add(r)
    session.flush()
    service.log(
        session, inc.id, "report", f"{KIND_NAMES[kind]}已起草（第 {', '.join(clean)} 项）", report_id=r.id
    )
    return _out(r)


def _report(session: Session, report_id: int, viewer_org: int | None) -> tuple[Report, Incident]:
    r = session.get(Report, report_id)
    if r is None:
        raise NotFound(f"report {report_id} does not exist")
    return r, service.get(session, r.incident_id, viewer_org)


def edit(
    session: Session, *, report_id: int, viewer_org: int | None, items: dict[str, str]
) -> dict[str, Any]:
    r, inc = _report(session, report_id, viewer_org)
    if session.scalar(select(Submission.id).where(Submission.report_id == r.id).limit(1)):
        raise Conflict(f"report {report_id} has been sent; file a supplement instead")
    r.items = _check(r.kind, {**r.items, **items})
    session.flush()
    service.log(session, inc.id, "report", f"{KIND_NAMES[r.kind]}已修改", report_id=r.id)
    return _out(r)


def get(session: Session, *, report_id: int, viewer_org: int | None) -> dict[str, Any]:
    return _out(_report(session, report_id, viewer_org)[0])


def listing(session: Session, *, incident_id: int, viewer_org: int | None) -> list[dict[str, Any]]:
    service.get(session, incident_id, viewer_org)
    rows = session.scalars(select(Report).where(Report.incident_id == incident_id).order_by(Report.id))
    return [_out(r) for r in rows]


def send(
    session: Session, *, report_id: int, viewer_org: int | None, authority: str, channel: str,
    sent_at: dt.datetime | None = None, sent_by: str | None = None, reference: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Record that the report was sent; closes the deadline it meets (first report, escalation, summary)."""
    r, inc = _report(session, report_id, viewer_org)
    if inc.drill:
        raise Conflict(
            f"incident {inc.id} is a drill (演练): drill reports are never sent to real authorities"
        )
    if channel not in CHANNELS:
        raise Invalid(f"unknown channel '{channel}' (choose from {', '.join(CHANNELS)})")
    if not authority.strip():
        raise Invalid("name the authority the report went to")
    at = clock.aware(sent_at or utcnow())
    rule = grading.criteria().reporters[inc.reporter or "other"]  # type: ignore[index]
    kind = {"initial": "first_report", "summary": "summary_report"}.get(r.kind)
    if r.kind == "initial" and authority in rule.escalation_to:
        kind = "escalation"
    on_time = clock.mark_met(session, inc, kind, at) if kind else None
    sub = Submission(report_id=r.id, incident_id=inc.id, organization_id=inc.organization_id,
                     authority=authority.strip()[:200], channel=channel, sent_at=at,
                     sent_by=sent_by or service.actor(), reference=reference, on_time=on_time)  # fmt: skip
    session.add(sub)
    session.flush()
    late = {True: "（按时）", False: "（超时）", None: ""}[on_time]
    service.log(session, inc.id, "report", f"{KIND_NAMES[r.kind]}已报送 {sub.authority}，渠道 {CHANNEL_NAMES[channel]}{late}",
                report_id=r.id, submission_id=sub.id)  # fmt: skip
    events.emit(session, [{"kind": "report_sent", "incident_id": inc.id, "grade": inc.grade,
                           "system_ids": inc.system_ids or [], "service_ids": inc.service_ids or [],
                           "title": inc.title, "idempotency_key": f"incident:{inc.id}:submission:{sub.id}",
                           "organization_id": inc.organization_id}])  # fmt: skip
    return submission_out(sub)


def submission_out(s: Submission) -> dict[str, Any]:
    return {"id": s.id, "report_id": s.report_id, "incident_id": s.incident_id, "organization_id": s.organization_id,
            "authority": s.authority, "channel": s.channel, "sent_at": s.sent_at, "sent_by": s.sent_by,
            "reference": s.reference, "on_time": s.on_time}  # fmt: skip


def submissions(session: Session, *, incident_id: int, viewer_org: int | None) -> list[dict[str, Any]]:
    service.get(session, incident_id, viewer_org)
    rows = session.scalars(
        select(Submission).where(Submission.incident_id == incident_id).order_by(Submission.id)
    )
    return [submission_out(s) for s in rows]


def document(session: Session, *, report_id: int, viewer_org: int | None) -> Doc:
    r, inc = _report(session, report_id, viewer_org)
    doc = Doc(
        title=KIND_NAMES[r.kind], filename=re.sub(r"[^\w\-]+", "_", f"{KIND_NAMES[r.kind]}-{inc.id}-{r.id}")
    )
    doc.kv([("事件编号", str(inc.id)), ("事件名称", inc.title), ("事件级别", inc.grade),
            ("发现时间", f"{clock.aware(inc.discovered_at).astimezone(clock.CST):%Y-%m-%d %H:%M}（北京时间）"),
            ("报告类型", KIND_NAMES[r.kind]), ("填报人", r.created_by)])  # fmt: skip
    rows = [[k, label, r.items.get(k, "（待续报）")] for k, label in items_of(r.kind).items()]
    doc.table(Table(headers=["序号", "报告内容", "情况"], rows=rows, widths=[0.6, 3.2, 6.2]))
    return doc


def export(session: Session, *, report_id: int, viewer_org: int | None, fmt: str) -> tuple[bytes, str, str]:
    """(content, file name, media type) of the report as DOCX or PDF."""
    if fmt not in FORMATS:
        raise Invalid(f"reports are written as docx or pdf, not '{fmt}'")
    doc = document(session, report_id=report_id, viewer_org=viewer_org)
    data = to_docx(doc) if fmt == "docx" else to_pdf(doc)
    return data, f"{doc.filename}.{fmt}", FORMATS[fmt]
