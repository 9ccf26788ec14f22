"""The regulator's roll-up (保护工作部门): per operator, incidents by grade, reports received and whether
deadlines were met. Drill incidents are left out. Only callers bound to no organisation see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from ciimap.core.errors import PermissionDenied
from ciimap.incidents import grading
from ciimap.incidents.models import Deadline, Incident, OperatorType, Submission
from ciimap.inventory.models import Organization


def rollup(session: Session, *, viewer_org: int | None) -> dict[str, Any]:
    if viewer_org is not None:
        raise PermissionDenied(
            "the cross-operator roll-up is for regulators, not users bound to one organisation"
        )
    real = Incident.drill.is_(False)
    orgs: dict[int | None, dict[str, Any]] = {}

    def row(org: int | None) -> dict[str, Any]:
        return orgs.setdefault(org, {
            "organization_id": org, "organization": None, "operator_type": None,
            "by_grade": dict.fromkeys(grading.criteria().grades, 0), "open": 0,
            "reports_received": 0, "reports_on_time": 0, "reports_late": 0,
            "deadlines_met": 0, "deadlines_missed": 0, "deadlines_open": 0,
        })  # fmt: skip

    open_ = func.sum(case((Incident.state != "关闭", 1), else_=0))
    q = select(Incident.organization_id, Incident.grade, func.count(), open_).where(real)
    for org, grade, n, n_open in session.execute(q.group_by(Incident.organization_id, Incident.grade)):
        r = row(org)
        r["by_grade"][grade] = int(n)
        r["open"] += int(n_open or 0)
    sq = select(Submission.organization_id, Submission.on_time, func.count()).join(
        Incident, Incident.id == Submission.incident_id
    )
    for org, on_time, n in session.execute(
        sq.where(real).group_by(Submission.organization_id, Submission.on_time)
    ):
        r = row(org)
        r["reports_received"] += int(n)
        if on_time is True:
            r["reports_on_time"] += int(n)
        elif on_time is False:
            r["reports_late"] += int(n)
    state = case(
        (or_(Deadline.overdue_at.is_not(None), Deadline.met_at > Deadline.due_at), "missed"),
        (Deadline.met_at.is_not(None), "met"),
        (Deadline.done.is_(False), "open"),
        else_="closed",
    )
    dq = select(Incident.organization_id, state, func.count()).join(
        Incident, Incident.id == Deadline.incident_id
    )
    for org, st, n in session.execute(dq.where(real).group_by(Incident.organization_id, state)):
        if st != "closed":
            row(org)[f"deadlines_{st}"] += int(n)
    names = dict(session.execute(select(Organization.id, Organization.name)).all())
    types = dict(session.execute(select(OperatorType.organization_id, OperatorType.operator_type)).all())
    for org, r in orgs.items():
        r["organization"] = names.get(org) if org is not None else None
        r["operator_type"] = types.get(org) if org is not None else None
    items = sorted(orgs.values(), key=lambda r: (r["organization_id"] is None, r["organization_id"] or 0))
    totals = {g: sum(r["by_grade"][g] for r in items) for g in grading.criteria().grades}
    return {"operators": items, "by_grade": totals}


def map_overlay(
    session: Session, *, system_ids: list[int], asset_ids: list[int], viewer_org: int | None
) -> dict[str, dict[int, dict[str, Any]]]:
    """Topology overlay: per system and asset of the map (among those given) with open real incidents
    (not 关闭, drills left out, the caller's organisation only when it is bound to one), the most severe
    grade's code (``I``–``IV``) and how many. One query over the open incidents' id lists."""
    want = {"systems": set(system_ids), "assets": set(asset_ids)}
    out: dict[str, dict[int, dict[str, Any]]] = {"systems": {}, "assets": {}}
    if not system_ids and not asset_ids:
        return out
    c = grading.criteria()
    where = [Incident.state != "关闭", Incident.drill.is_(False)]
    if viewer_org is not None:
        where.append(Incident.organization_id == viewer_org)
    rows = session.execute(select(Incident.grade, Incident.system_ids, Incident.asset_ids).where(*where))
    for grade, systems, assets in rows:
        for key, ids in (("systems", systems), ("assets", assets)):
            for ref in set(ids or ()) & want[key]:
                cur = out[key].get(ref)
                if cur is None:
                    out[key][ref] = {"grade": grade, "count": 1}
                    continue
                cur["count"] += 1
                if c.rank(grade) < c.rank(cur["grade"]):
                    cur["grade"] = grade
    for part in out.values():
        for v in part.values():
            v["code"] = c.codes[v["grade"]]
    return out


def open_asset_ids(session: Session, *, viewer_org: int | None) -> set[int]:
    """Asset ids named by open real incidents (the caller's organisation only when it is bound to one):
    the site map asks :func:`map_overlay` about those assets only."""
    where = [Incident.state != "关闭", Incident.drill.is_(False)]
    if viewer_org is not None:
        where.append(Incident.organization_id == viewer_org)
    out: set[int] = set()
    for (ids,) in session.execute(select(Incident.asset_ids).where(*where)):
        out.update(int(i) for i in ids or ())
    return out
