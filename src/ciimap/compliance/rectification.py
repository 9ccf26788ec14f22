"""Rectification (整改): a 不符合 / 部分符合 result or a high or medium risk becomes a work item with an
owner (a contact of the map or free text), a plan, a due date, a status and its verification, linked to
assets, findings and suppliers. A later assessment of the same system whose result for the same item
and test object is 符合 verifies it (``assessment.set_result``). docs/compliance-assessment.md.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ciimap.compliance import assessment
from ciimap.compliance import service as grading
from ciimap.compliance.models import (
    LABELS,
    RECT_OPEN,
    RECT_STATUSES,
    RECTIFIABLE,
    Assessment,
    AssessmentItem,
    ItemResult,
    Rectification,
    Risk,
    TestObject,
)
from ciimap.compliance.schemas import RectificationIn, RectificationUpdate
from ciimap.core.errors import Conflict, Invalid, NotFound, check_choice
from ciimap.inventory import models as inv

#: Final states: nothing changes any more.
FINAL = ("verified", "cancelled")
#: Risk levels that can become a rectification item.
RISK_LEVELS = ("high", "medium")


def _owner(session: Session, contact_id: int | None) -> None:
    if contact_id is not None and session.get(inv.Contact, contact_id) is None:
        raise NotFound(f"contact {contact_id} does not exist")


def _open_for(session: Session, column: Any, value: int) -> int | None:
    return session.scalar(
        select(Rectification.id).where(column == value, Rectification.status.in_(RECT_OPEN)).limit(1)
    )


def create(session: Session, *, data: RectificationIn) -> Rectification:
    """A rectification of a result (不符合 / 部分符合) or of a high or medium risk; one open item per source."""
    _owner(session, data.owner_contact_id)
    if data.result_id is not None:
        r = session.get(ItemResult, data.result_id)
        if r is None:
            raise NotFound(f"result {data.result_id} does not exist")
        if r.result not in RECTIFIABLE:
            raise Invalid(
                f"result {r.id} is {r.result} ({LABELS[r.result][0]}): only 不符合 (fail) and 部分符合 (partial) "
                "results are rectified"
            )
        if (dup := _open_for(session, Rectification.result_id, r.id)) is not None:
            raise Conflict(f"result {r.id} already has open rectification {dup}")
        a = assessment._get(session, r.assessment_id)
        item = session.get(AssessmentItem, r.item_row_id)
        obj = session.get(TestObject, r.object_id)
        assert item is not None and obj is not None
        rect = Rectification(
            system_id=a.system_id,
            assessment_id=a.id,
            result_id=r.id,
            item_key=item.item_key,
            item_id=item.item_id,
            object_asset_id=obj.asset_id,
            object_name=obj.name,
            title=data.title
            or f"{item.item_id} {item.category}/{item.control_point} @ {obj.name}: {LABELS[r.result][0]}",
        )
    else:
        assert data.risk_id is not None
        rk = session.get(Risk, data.risk_id)
        if rk is None:
            raise NotFound(f"risk {data.risk_id} does not exist")
        if rk.level not in RISK_LEVELS:
            raise Invalid(f"risk {rk.id} is {rk.level}: only high and medium risks are rectified")
        if (dup := _open_for(session, Rectification.risk_id, rk.id)) is not None:
            raise Conflict(f"risk {rk.id} already has open rectification {dup}")
        a = assessment._get(session, rk.assessment_id)
        item = session.get(AssessmentItem, rk.item_row_id) if rk.item_row_id else None
        obj = session.get(TestObject, rk.object_id) if rk.object_id else None
        rect = Rectification(
            system_id=a.system_id,
            assessment_id=a.id,
            risk_id=rk.id,
            item_key=item.item_key if item else None,
            item_id=item.item_id if item else None,
            object_asset_id=obj.asset_id if obj else None,
            object_name=obj.name if obj else None,
            title=data.title or f"{LABELS[rk.level][0]}: {rk.description[:250]}",
        )
    rect.owner_contact_id, rect.owner_text = data.owner_contact_id, data.owner
    rect.plan, rect.due_date, rect.status = data.plan, data.due_date, "open"
    session.add(rect)
    session.flush()
    assessment._add_links(session, "rectification", rect.id, data.links)
    session.flush()
    return rect


def update(session: Session, *, rectification_id: int, changes: RectificationUpdate) -> Rectification:
    """Change owner, plan, due date or status; ``verified`` needs a verification note; verified and
    cancelled items are final."""
    rect = session.get(Rectification, rectification_id, with_for_update=True)
    if rect is None:
        raise NotFound(f"rectification {rectification_id} does not exist")
    if rect.status in FINAL:
        raise Conflict(f"rectification {rect.id} is {rect.status}: it can no longer change")
    given = changes.model_dump(exclude_unset=True)
    for key in ("status", "title"):
        if key in given and given[key] is None:
            raise Invalid(f"{key} cannot be cleared")
    if "owner_contact_id" in given:
        _owner(session, given["owner_contact_id"])
        rect.owner_contact_id = given["owner_contact_id"]
    if "owner" in given:
        rect.owner_text = given["owner"]
    for key in ("title", "plan", "due_date", "verification_note"):
        if key in given:
            setattr(rect, key, given[key])
    if "status" in given:
        if given["status"] == "verified":
            if not rect.verification_note:
                raise Invalid("verifying by hand needs a verification_note (who checked what, how)")
            rect.verified_on = grading._today()
        rect.status = given["status"]
    session.flush()
    return rect


def _select() -> Any:
    return select(Rectification, inv.System.name).join(inv.System, inv.System.id == Rectification.system_id)


def _out(r: Rectification, system: str, links: list[dict[str, Any]]) -> dict[str, Any]:
    today = grading._today()
    return {
        "id": r.id,
        "system_id": r.system_id,
        "system": system,
        "assessment_id": r.assessment_id,
        "result_id": r.result_id,
        "risk_id": r.risk_id,
        "item_key": r.item_key,
        "item_id": r.item_id,
        "object_asset_id": r.object_asset_id,
        "object_name": r.object_name,
        "title": r.title,
        "owner_contact_id": r.owner_contact_id,
        "owner": r.owner_text,
        "plan": r.plan,
        "due_date": r.due_date,
        "overdue": r.status in RECT_OPEN and r.due_date is not None and r.due_date < today,
        "status": r.status,
        "verification_note": r.verification_note,
        "verified_on": r.verified_on,
        "verified_by_assessment_id": r.verified_by_assessment_id,
        "links": links,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _describe_rows(session: Session, rows: list[tuple[Rectification, str]]) -> list[dict[str, Any]]:
    links = assessment.links_of(session, "rectification", [r.id for r, _ in rows])
    return [_out(r, name, links.get(r.id, [])) for r, name in rows]


def describe(session: Session, *, rectification_id: int) -> dict[str, Any]:
    row = session.execute(_select().where(Rectification.id == rectification_id)).tuples().first()
    if row is None:
        raise NotFound(f"rectification {rectification_id} does not exist")
    return _describe_rows(session, [row])[0]


def list_rectifications(
    session: Session,
    *,
    system_id: int | None = None,
    status: str | None = None,
    overdue: bool = False,
    assessment_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rectification items by system name and due date (overdue: open ones past their due date)."""
    check_choice("status", status, RECT_STATUSES)
    q = _select().order_by(
        inv.System.name, Rectification.due_date.is_(None), Rectification.due_date, Rectification.id
    )
    if system_id is not None:
        if session.get(inv.System, system_id) is None:
            raise NotFound(f"system {system_id} does not exist")
        q = q.where(Rectification.system_id == system_id)
    if assessment_id is not None:
        q = q.where(Rectification.assessment_id == assessment_id)
    if status is not None:
        q = q.where(Rectification.status == status)
    if overdue:
        q = q.where(Rectification.status.in_(RECT_OPEN), Rectification.due_date < grading._today())
    return _describe_rows(session, list(session.execute(q).tuples()))


def progress(session: Session, *, system_id: int | None = None) -> list[dict[str, Any]]:
    """整改进度 per system: counts by status, overdue items and the share verified."""
    if system_id is not None and session.get(inv.System, system_id) is None:
        raise NotFound(f"system {system_id} does not exist")
    today = grading._today()
    q = (
        select(
            Rectification.system_id,
            inv.System.name,
            Rectification.status,
            func.count(),
            func.sum(
                case((and_(Rectification.status.in_(RECT_OPEN), Rectification.due_date < today), 1), else_=0)
            ),
        )
        .join(inv.System, inv.System.id == Rectification.system_id)
        .group_by(Rectification.system_id, inv.System.name, Rectification.status)
        .order_by(inv.System.name)
    )
    if system_id is not None:
        q = q.where(Rectification.system_id == system_id)
    out: dict[int, dict[str, Any]] = {}
    for sid, name, status, n, late in session.execute(q).tuples():
        entry = out.setdefault(
            sid, {"system_id": sid, "system": name, "total": 0, "by_status": Counter(), "overdue": 0}
        )
        entry["total"] += int(n)
        entry["by_status"][status] += int(n)
        entry["overdue"] += int(late or 0)
    rows = []
    for entry in out.values():
        by = entry["by_status"]
        todo = entry["total"] - by["cancelled"]
        entry["by_status"] = {s: int(by[s]) for s in RECT_STATUSES}
        entry["percent_verified"] = round(100 * by["verified"] / todo, 1) if todo else None
        rows.append(entry)
    return rows


def candidates(session: Session, *, system_id: int, limit: int = 500) -> dict[str, list[dict[str, Any]]]:
    """What can still become a rectification item on a system (the page's form offers these): the
    不符合 / 部分符合 results and the high / medium risks of its assessments that have no open item, newest
    assessment first, at most ``limit`` of each. Two statements."""
    if session.get(inv.System, system_id) is None:
        raise NotFound(f"system {system_id} does not exist")
    a, r, it, ob, rk, rc = Assessment, ItemResult, AssessmentItem, TestObject, Risk, Rectification
    taken = select(rc.id).where(rc.status.in_(RECT_OPEN))
    results = session.execute(
        select(r.id, r.result, it.item_id, it.category, it.control_point, ob.name, a.cycle)
        .join(a, a.id == r.assessment_id)
        .join(it, it.id == r.item_row_id)
        .join(ob, ob.id == r.object_id)
        .where(
            a.system_id == system_id,
            r.result.in_(RECTIFIABLE),
            ~taken.where(rc.result_id == r.id).exists(),
        )
        .order_by(a.id.desc(), it.ordinal, ob.id)
        .limit(limit)
    )
    risks = session.execute(
        select(rk.id, rk.level, rk.description, a.cycle)
        .join(a, a.id == rk.assessment_id)
        .where(
            a.system_id == system_id, rk.level.in_(RISK_LEVELS), ~taken.where(rc.risk_id == rk.id).exists()
        )
        .order_by(a.id.desc(), rk.id)
        .limit(limit)
    )
    return {
        "results": [
            {
                "result_id": i,
                "result": res,
                "item_id": item_id,
                "category": cat,
                "control_point": cp,
                "object_name": obj,
                "cycle": cycle,
            }
            for i, res, item_id, cat, cp, obj, cycle in results
        ],
        "risks": [
            {"risk_id": i, "level": level, "description": desc, "cycle": cycle}
            for i, level, desc, cycle in risks
        ],
    }


def open_external(
    session: Session, *, system_id: int, item_key: str, item_id: str | None, title: str
) -> tuple[Rectification, bool]:
    """A rectification item raised by another domain's assessment (密评: ``item_key`` "39786:<layer>/<unit>"),
    which has no compliance result row; one open item per system and key. Returns (item, created)."""
    rect = session.scalar(
        select(Rectification)
        .where(
            Rectification.system_id == system_id,
            Rectification.item_key == item_key,
            Rectification.status.in_(RECT_OPEN),
        )
        .limit(1)
    )
    if rect is not None:
        return rect, False
    rect = Rectification(system_id=system_id, item_key=item_key, item_id=item_id, title=title[:300])
    rect.status = "open"
    session.add(rect)
    session.flush()
    return rect, True


def verify_external(session: Session, *, system_id: int, item_key: str, note: str) -> list[int]:
    """Verify the open items of a system and key when another domain's later assessment finds it 符合."""
    rows = session.scalars(
        select(Rectification).where(
            Rectification.system_id == system_id,
            Rectification.item_key == item_key,
            Rectification.status.in_(RECT_OPEN),
        )
    ).all()
    for rect in rows:
        rect.status, rect.verification_note, rect.verified_on = "verified", note, grading._today()
    session.flush()
    return [r.id for r in rows]
