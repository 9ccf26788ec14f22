"""Incidents: open (by hand, from a warning or an alert group), grade, move through the states, the
append-only timeline, roles, tasks, related incidents and the what-if from the incident's assets.

Every function takes ``viewer_org``: the organisation the caller is bound to (``None``: all). An incident
of another organisation is "not found" for such a caller, so nothing leaks between organisations.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.alerts.models import AlertGroup, AlertWarning
from ciimap.core import audit
from ciimap.core.db import utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.core.labels import labels
from ciimap.datagov import service as datagov
from ciimap.graph import impact as graph_impact
from ciimap.graph.schemas import Selector
from ciimap.incidents import clock, events, grading
from ciimap.incidents.models import (
    INCIDENT_ROLES,
    REPORTERS,
    STATES,
    TRANSITIONS,
    Deadline,
    Incident,
    OperatorType,
    Role,
    Task,
    TimelineEntry,
)
from ciimap.inventory import service as inventory
from ciimap.inventory.models import Organization, System
from ciimap.notify import service as notify

LIST_LIMIT = 200


@functools.cache
def categories() -> dict[str, Any]:
    """GB/T 20986-2023 categories and subcategories (``categories.yaml``)."""
    text = resources.files("ciimap.incidents").joinpath("categories.yaml").read_text("utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def actor() -> str:
    return audit.current_actor().name


def log(session: Session, incident_id: int, kind: str, text: str, **data: Any) -> None:
    """Append one timeline entry (the timeline is never updated or deleted)."""
    session.add(
        TimelineEntry(incident_id=incident_id, at=utcnow(), kind=kind, actor=actor(), text=text, data=data)
    )


def _event(session: Session, inc: Incident, kind: str, key: str) -> None:
    events.emit(session, [{
        "kind": kind, "incident_id": inc.id, "grade": inc.grade, "system_ids": inc.system_ids or [],
        "service_ids": inc.service_ids or [], "title": inc.title, "idempotency_key": key,
        "organization_id": inc.organization_id, "drill": inc.drill,
    }])  # fmt: skip


# --- operator types ---------------------------------------------------------------------------------------


def set_operator_type(session: Session, *, organization_id: int, operator_type: str) -> dict[str, Any]:
    if operator_type not in REPORTERS:
        raise Invalid(f"unknown operator type '{operator_type}' (choose from {', '.join(REPORTERS)})")
    if session.get(Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} does not exist")
    row = session.scalar(select(OperatorType).where(OperatorType.organization_id == organization_id))
    if row is None:
        row = OperatorType(organization_id=organization_id, operator_type=operator_type)
        session.add(row)
    else:
        row.operator_type = operator_type
    session.flush()
    return {"organization_id": organization_id, "operator_type": operator_type}


def list_operator_types(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Organization.id, Organization.name, OperatorType.operator_type)
        .outerjoin(OperatorType, OperatorType.organization_id == Organization.id)
        .order_by(Organization.id)
    ).all()
    return [{"organization_id": i, "organization": n, "operator_type": t} for i, n, t in rows]


def reporter_for(session: Session, inc: Incident) -> str:
    """The strictest clock that applies: the organisation's type, and ``cii`` when a CII system is hit."""
    kinds = ["other"]
    if inc.organization_id is not None:
        own = session.scalar(
            select(OperatorType.operator_type).where(OperatorType.organization_id == inc.organization_id)
        )
        kinds += [own] if own else []
    if inc.system_ids and session.scalar(
        select(func.count()).select_from(System).where(System.id.in_(inc.system_ids), System.is_cii)
    ):
        kinds.append("cii")
    rules = grading.criteria().reporters
    return min(kinds, key=lambda k: rules[k].first_report_minutes)  # type: ignore[index]


# --- incidents --------------------------------------------------------------------------------------------


def get(session: Session, incident_id: int, viewer_org: int | None) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None or (viewer_org is not None and inc.organization_id != viewer_org):
        raise NotFound(f"incident {incident_id} does not exist")
    return inc


def _check_category(category: str | None, subcategory: str | None) -> None:
    cats = categories()["categories"]
    if category is None:
        if subcategory is not None:
            raise Invalid("a subcategory needs its category")
        return
    if category not in cats:
        raise Invalid(f"unknown category '{category}' (choose from {', '.join(cats)})")
    subs = cats[category]["subcategories"]
    if subcategory is not None and subcategory not in subs:
        raise Invalid(f"unknown subcategory '{subcategory}' of {category} (choose from {', '.join(subs)})")


def _origin(
    session: Session, warning_id: int | None, alert_group_id: int | None, viewer_org: int | None = None
) -> dict[str, Any]:
    """Title, time, organisation and affected map records from the warning or alert group the incident
    opens from (a caller bound to an organisation cannot open one from another's warning)."""
    if warning_id is not None and alert_group_id is not None:
        raise Invalid("open from a warning or from an alert group, not both")
    if warning_id is not None:
        w = session.get(AlertWarning, warning_id)
        if w is None or (viewer_org is not None and w.organization_id != viewer_org):
            raise NotFound(f"warning {warning_id} does not exist")
        return {"origin": "warning", "title": w.title, "discovered_at": w.first_alert_at,
                "organization_id": w.organization_id,
                "asset_ids": w.asset_ids, "system_ids": w.system_ids, "service_ids": w.service_ids}  # fmt: skip
    if alert_group_id is not None:
        g = session.get(AlertGroup, alert_group_id)
        if g is None:
            raise NotFound(f"alert group {alert_group_id} does not exist")
        return {"origin": "alert_group", "title": g.rule_name or g.rule_id, "discovered_at": g.first_seen,
                "asset_ids": [g.target_asset_id] if g.target_asset_id else [],
                "system_ids": g.system_ids, "service_ids": g.service_ids}  # fmt: skip
    return {"origin": "manual"}


def _org_of_systems(session: Session, system_ids: list[int]) -> int | None:
    if not system_ids:
        return None
    orgs = set(session.scalars(select(System.organization_id).where(System.id.in_(system_ids))))
    orgs.discard(None)
    return orgs.pop() if len(orgs) == 1 else None


def open_incident(
    session: Session,
    *,
    viewer_org: int | None,
    title: str | None = None,
    organization_id: int | None = None,
    description: str | None = None,
    category: str | None = None,
    subcategory: str | None = None,
    discovered_at: dt.datetime | None = None,
    occurred_at: dt.datetime | None = None,
    warning_id: int | None = None,
    alert_group_id: int | None = None,
    asset_ids: list[int] | None = None,
    system_ids: list[int] | None = None,
    service_ids: list[int] | None = None,
    facts: grading.Facts | None = None,
    drill: bool = False,
) -> Incident:
    """Open an incident (state 发现); graded from ``facts`` when given (一般 otherwise)."""
    _check_category(category, subcategory)
    src = _origin(session, warning_id, alert_group_id, viewer_org)
    if viewer_org is not None:
        if organization_id not in (None, viewer_org):
            raise Invalid("you can open incidents only for your own organisation")
        organization_id = viewer_org
    systems = list(system_ids if system_ids is not None else src.get("system_ids") or [])
    if organization_id is None:
        organization_id = src.get("organization_id") or _org_of_systems(session, systems)
    elif session.get(Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} does not exist")
    name = title or src.get("title")
    if not name:
        raise Invalid("an incident needs a title")
    inc = Incident(
        organization_id=organization_id, title=name[:300], description=description, state="发现",
        category=category, subcategory=subcategory, grade="一般", facts={}, reached=[], drill=drill,
        origin=src["origin"], warning_id=warning_id, alert_group_id=alert_group_id,
        discovered_at=clock.aware(discovered_at or src.get("discovered_at") or utcnow()),
        occurred_at=clock.aware(occurred_at) if occurred_at else None, asset_ids=list(asset_ids if asset_ids is not None else src.get("asset_ids") or []),
        system_ids=systems,
        service_ids=list(service_ids if service_ids is not None else src.get("service_ids") or []),
        created_by=actor(),
    )  # fmt: skip
    session.add(inc)
    session.flush()
    origin = {"warning": f"（来自预警 {warning_id}）", "alert_group": f"（来自告警组 {alert_group_id}）"}
    log(session, inc.id, "created", f"事件已创建{origin.get(src['origin'], '')}{'（演练）' if drill else ''}",
        origin=src["origin"], warning_id=warning_id, alert_group_id=alert_group_id)  # fmt: skip
    _event(session, inc, "opened", f"incident:{inc.id}:opened")
    set_grade(session, inc, facts or grading.Facts())
    return inc


def set_grade(session: Session, inc: Incident, facts: grading.Facts) -> dict[str, Any]:
    """Grade by the annex criteria (highest reached wins, each reached one named) and set the clock."""
    out = grading.grade(facts)
    before = inc.grade
    inc.grade = out["grade"]
    inc.facts = facts.model_dump(exclude_none=True)
    inc.reached = out["reached"]
    inc.criteria_version = out["version"]
    # the reporter type is fixed when the clock first starts (the first-report deadline is set); until
    # then it follows the organisation's operator type and the systems affected
    if "first_report" not in clock.deadlines_of(session, inc.id):
        inc.reporter = reporter_for(session, inc)
    session.flush()
    why = (
        "；".join(f"{r['label']} {r['value']} → {r['grade']}" for r in out["reached"])
        or "未达到较大及以上任何标准"
    )
    log(
        session,
        inc.id,
        "grade",
        f"定级 {before} → {inc.grade}：{why}",
        grade=inc.grade,
        reached=out["reached"],
    )
    for note in clock.set_deadlines(session, inc):
        log(session, inc.id, "deadline", note)
    if before != inc.grade:
        _event(session, inc, "graded", f"incident:{inc.id}:graded:{inc.grade}")
    return out


def regrade(session: Session, *, incident_id: int, viewer_org: int | None, facts: grading.Facts) -> Incident:
    inc = get(session, incident_id, viewer_org)
    if inc.state == "关闭":
        raise Conflict(f"incident {incident_id} is closed")
    set_grade(session, inc, facts)
    return inc


def transition(session: Session, *, incident_id: int, viewer_org: int | None, to: str) -> Incident:
    """Move to ``to`` if allowed; entering 总结 ends handling (the summary-report clock starts)."""
    inc = get(session, incident_id, viewer_org)
    if to not in STATES:
        raise Invalid(f"unknown state '{to}' (choose from {', '.join(STATES)})")
    if to not in TRANSITIONS[inc.state]:
        allowed = "、".join(TRANSITIONS[inc.state]) or "none"
        raise Conflict(f"incident {incident_id}: {inc.state} → {to} is not allowed (allowed: {allowed})")
    before, inc.state = inc.state, to
    if to == "总结" and inc.handling_closed_at is None:
        inc.handling_closed_at = clock.aware(utcnow()).astimezone(clock.CST).date()
    if to == "关闭":
        inc.closed_at = utcnow()
    session.flush()
    log(session, inc.id, "state", f"状态 {before} → {to}", before=before, after=to)
    for note in clock.set_deadlines(session, inc):
        log(session, inc.id, "deadline", note)
    _event(session, inc, "state", f"incident:{inc.id}:state:{to}")
    return inc


_EDITABLE = ("title", "description", "category", "subcategory", "occurred_at", "asset_ids", "system_ids",
             "service_ids")  # fmt: skip


def update(session: Session, *, incident_id: int, viewer_org: int | None, **changes: Any) -> Incident:
    inc = get(session, incident_id, viewer_org)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    _check_category(changes.get("category", inc.category), changes.get("subcategory", inc.subcategory))
    diff = {k: v for k, v in changes.items() if getattr(inc, k) != v}
    for k, v in diff.items():
        setattr(inc, k, clock.aware(v) if isinstance(v, dt.datetime) else v)
    session.flush()
    if diff:
        log(
            session,
            inc.id,
            "change",
            "修改：" + "、".join(diff),
            changes={k: str(v) for k, v in diff.items()},
        )
    return inc


def comment(session: Session, *, incident_id: int, viewer_org: int | None, text: str) -> None:
    inc = get(session, incident_id, viewer_org)
    if not text.strip():
        raise Invalid("a comment needs text")
    log(session, inc.id, "comment", text)


def timeline(session: Session, *, incident_id: int, viewer_org: int | None) -> list[dict[str, Any]]:
    get(session, incident_id, viewer_org)
    rows = session.execute(
        select(TimelineEntry).where(TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.id)
    ).scalars()
    out: list[dict[str, Any]] = [
        {"id": t.id, "at": t.at, "kind": t.kind, "actor": t.actor, "text": t.text, "data": t.data}
        for t in rows
    ]
    # every delivery attempt of the notifications about the incident (notify's outbox), in time order
    for a in notify.attempts_for(session, f"incident:{incident_id}"):
        ok = a["status"] == "ok"
        text = f"通知 {a['channel']}：{'已送达' if ok else '失败'}" + (
            f"（{a['error']}）" if a["error"] else ""
        )
        out.append(
            {"id": None, "at": a["at"], "kind": "notification", "actor": "notify", "text": text, "data": a}
        )
    out.sort(key=lambda e: (clock.aware(e["at"]), e["id"] is None, e["id"] or 0))
    return out


# --- roles and tasks --------------------------------------------------------------------------------------


def assign_role(
    session: Session, *, incident_id: int, viewer_org: int | None, role: str, person: str
) -> Role:
    inc = get(session, incident_id, viewer_org)
    if role not in INCIDENT_ROLES:
        raise Invalid(f"unknown role '{role}' (choose from {', '.join(INCIDENT_ROLES)})")
    if session.scalar(
        select(Role.id).where(Role.incident_id == inc.id, Role.role == role, Role.person == person)
    ):
        raise Conflict(f"{person} already holds {role} on incident {inc.id}")
    row = Role(incident_id=inc.id, role=role, person=person)
    session.add(row)
    session.flush()
    log(session, inc.id, "role", f"{role}：{person}", role=role, person=person)
    return row


def add_task(
    session: Session, *, incident_id: int, viewer_org: int | None, title: str, owner: str | None = None,
    due_at: dt.datetime | None = None,
) -> Task:  # fmt: skip
    inc = get(session, incident_id, viewer_org)
    task = Task(incident_id=inc.id, title=title, owner=owner, due_at=clock.aware(due_at) if due_at else None)
    session.add(task)
    session.flush()
    log(session, inc.id, "task", f"任务：{title}（{owner or '未指派'}）", task_id=task.id)
    return task


def complete_task(session: Session, *, task_id: int, viewer_org: int | None) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    get(session, task.incident_id, viewer_org)
    if task.done_at is not None:
        raise Conflict(f"task {task_id} is already done")
    task.done_at = utcnow()
    session.flush()
    log(session, task.incident_id, "task", f"任务完成：{task.title}", task_id=task.id)
    return task


# --- reading ----------------------------------------------------------------------------------------------


def _deadline_out(d: Deadline) -> dict[str, Any]:
    def utc(t: dt.datetime | None) -> dt.datetime | None:
        return clock.aware(t) if t else None

    return {
        "kind": d.kind,
        "due_at": utc(d.due_at),
        "met_at": utc(d.met_at),
        "overdue_at": utc(d.overdue_at),
        "done": d.done,
    }


def to_dict(inc: Incident) -> dict[str, Any]:
    return {c: getattr(inc, c) for c in (
        "id", "organization_id", "title", "description", "state", "category", "subcategory", "grade", "facts",
        "reached", "criteria_version", "reporter", "drill", "origin", "warning_id", "alert_group_id",
        "discovered_at", "occurred_at", "handling_closed_at", "closed_at", "asset_ids", "system_ids",
        "service_ids", "created_by", "created_at", "updated_at",
    )}  # fmt: skip


def detail(session: Session, *, incident_id: int, viewer_org: int | None) -> dict[str, Any]:
    inc = get(session, incident_id, viewer_org)
    out = to_dict(inc)
    out["allowed"] = list(TRANSITIONS[inc.state])
    out["deadlines"] = [_deadline_out(d) for d in clock.deadlines_of(session, inc.id).values()]
    out["roles"] = [{"id": r.id, "role": r.role, "person": r.person} for r in
                    session.scalars(select(Role).where(Role.incident_id == inc.id).order_by(Role.id))]  # fmt: skip
    out["tasks"] = [{"id": t.id, "title": t.title, "owner": t.owner, "due_at": t.due_at, "done_at": t.done_at}
                    for t in session.scalars(select(Task).where(Task.incident_id == inc.id).order_by(Task.id))]  # fmt: skip
    out["data_at_risk"], out["data_at_risk_total"] = data_at_risk(session, inc)
    return out


#: Data resources listed on an incident (the total counts all of them).
DATA_AT_RISK_LIMIT = 50


def data_at_risk(session: Session, inc: Incident) -> tuple[list[dict[str, Any]], int]:
    """The data resources held or processed by the incident's assets, systems and business services
    (datagov), core and important data first: (up to :data:`DATA_AT_RISK_LIMIT`, the total)."""
    return datagov.at_risk(
        session, system_ids=inc.system_ids or [], asset_ids=inc.asset_ids or [],
        service_ids=inc.service_ids or [], limit=DATA_AT_RISK_LIMIT,
    )  # fmt: skip


def list_incidents(
    session: Session, *, viewer_org: int | None, state: str | None = None, grade: str | None = None,
    drill: bool | None = None, open_only: bool = False, limit: int = 50, offset: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """Newest first; ``total`` counts the filtered incidents."""
    cols = (Incident.id, Incident.title, Incident.state, Incident.grade, Incident.organization_id,
            Incident.drill, Incident.discovered_at, Incident.origin)  # fmt: skip
    where = []
    if viewer_org is not None:
        where.append(Incident.organization_id == viewer_org)
    if state is not None:
        where.append(Incident.state == state)
    if open_only:
        where.append(Incident.state != "关闭")
    if grade is not None:
        where.append(Incident.grade == grade)
    if drill is not None:
        where.append(Incident.drill.is_(drill))
    total = session.scalar(select(func.count()).select_from(Incident).where(*where))
    rows = session.execute(
        select(*cols).where(*where).order_by(Incident.id.desc()).limit(min(limit, LIST_LIMIT)).offset(offset)
    ).all()
    keys = [c.key for c in cols]
    return {"total": total, "items": [dict(zip(keys, r, strict=True)) for r in rows]}


def related(session: Session, *, incident_id: int, viewer_org: int | None) -> list[dict[str, Any]]:
    """Other incidents of the same organisation that share an asset or system (JSON lists read in Python:
    an incident lists a handful of ids)."""
    inc = get(session, incident_id, viewer_org)
    assets, systems = set(inc.asset_ids or []), set(inc.system_ids or [])
    if not assets and not systems:
        return []
    where = [Incident.id != inc.id]
    org = inc.organization_id
    where.append(Incident.organization_id == org if org is not None else Incident.organization_id.is_(None))
    if viewer_org is not None:
        where.append(Incident.organization_id == viewer_org)
    rows = session.execute(
        select(
            Incident.id,
            Incident.title,
            Incident.grade,
            Incident.state,
            Incident.asset_ids,
            Incident.system_ids,
        )
        .where(*where)
        .order_by(Incident.id.desc())
        .limit(5000)
    ).all()
    return [
        {"id": i, "title": t, "grade": g, "state": s}
        for i, t, g, s, a, y in rows
        if assets & set(a or []) or systems & set(y or [])
    ]


def what_if(session: Session, *, incident_id: int, viewer_org: int | None) -> dict[str, Any]:
    """What fails next when the incident's assets (else its systems) fail: the graph domain's what-if."""
    inc = get(session, incident_id, viewer_org)
    sels = [Selector(kind="asset", ref=str(a)) for a in inc.asset_ids or []]
    sels = sels or [Selector(kind="system", ref=str(s)) for s in inc.system_ids or []]
    if not sels:
        raise Invalid(f"incident {incident_id} names no asset or system; add them first")
    return graph_impact.impact_many(session, selectors=sels).model_dump(mode="json")


def affected(session: Session, inc: Incident) -> dict[str, list[dict[str, Any]]]:
    """The incident's assets, systems and business services with their names (the affected map)."""
    specs = {"asset_ids": (inventory.ASSETS, inc.asset_ids), "system_ids": (inventory.SYSTEMS, inc.system_ids),
             "service_ids": (inventory.BUSINESS_SERVICES, inc.service_ids)}  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {}
    for key, (spec, ids) in specs.items():
        names = labels(session, spec, set(ids or []))
        out[key.removesuffix("_ids")] = [{"id": i, "name": names.get(i, f"#{i}")} for i in ids or []]
    return out


def page(session: Session, *, incident_id: int, viewer_org: int | None) -> dict[str, Any]:
    """Everything the incident page shows (one call from the web layer)."""
    out = detail(session, incident_id=incident_id, viewer_org=viewer_org)
    inc = get(session, incident_id, viewer_org)
    out["affected"] = affected(session, inc)
    out["timeline"] = timeline(session, incident_id=incident_id, viewer_org=viewer_org)
    out["related"] = related(session, incident_id=incident_id, viewer_org=viewer_org)
    return out


def board(session: Session, *, viewer_org: int | None, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
    """Open incidents by state (the board), newest first, at most ``limit`` per state."""
    return {
        st: list_incidents(session, viewer_org=viewer_org, state=st, limit=limit)["items"]
        for st in STATES
        if st != "关闭"
    }


def open_counts(session: Session, *, viewer_org: int | None) -> dict[str, Any]:
    """Dashboard: open real incidents by grade, and deadlines due within the hour."""
    where = [Incident.state != "关闭", Incident.drill.is_(False)]
    if viewer_org is not None:
        where.append(Incident.organization_id == viewer_org)
    by = dict(
        session.execute(select(Incident.grade, func.count()).where(*where).group_by(Incident.grade)).all()
    )
    soon = clock.aware(utcnow()) + dt.timedelta(hours=1)
    due = session.scalar(
        select(func.count()).select_from(Deadline).join(Incident, Incident.id == Deadline.incident_id)
        .where(Deadline.done.is_(False), Deadline.due_at <= soon, *where)
    )  # fmt: skip
    now = clock.aware(utcnow())
    late, nxt = session.execute(
        select(func.count().filter(Deadline.due_at < now), func.min(Deadline.due_at))
        .select_from(Deadline).join(Incident, Incident.id == Deadline.incident_id)
        .where(Deadline.done.is_(False), *where)
    ).one()  # fmt: skip
    return {
        "by_grade": {g: int(by.get(g, 0)) for g in grading.criteria().grades},
        "due_within_hour": int(due or 0),
        "deadlines_overdue": int(late or 0),
        "next_deadline": clock.aware(nxt) if nxt is not None else None,
    }
