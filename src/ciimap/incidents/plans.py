"""Emergency plans (应急预案) per business service and/or system: ordered steps with owner roles,
contacts (inventory contacts or free text), the fallback the plan relies on, and a review cycle.

"Fallback checked against the map": :func:`check` runs the graph what-if for the plan's primary target
(its system, else its business service) and reports whether the fallback (a system, an asset, or a
redundancy group) survives it, is still redundant, and shares no single point of failure with the
primary (the graph domain's killer sets: nodes whose failure alone makes both fail).

Every change is audited by the one audit mechanism (``Plan`` is ``__audited__``). Like the rest of the
domain, every function takes ``viewer_org``: a plan of another organisation is "not found".
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid, NotFound
from ciimap.graph import impact as graph_impact
from ciimap.graph.build import build_graph
from ciimap.graph.propagate import propagate
from ciimap.graph.schemas import Selector
from ciimap.graph.spof import killer_sets
from ciimap.graph.structure import Graph
from ciimap.incidents import clock, service
from ciimap.incidents.models import FALLBACK_KINDS, Plan
from ciimap.inventory.models import BusinessService, Contact, Edge, Organization, System

LIST_LIMIT = 200
#: A review due within this many days is shown as "due soon".
DUE_SOON_DAYS = 30
#: At most this many shared single points of failure are listed (the count is exact).
SPOF_SHOWN = 50


def today() -> dt.date:
    """Today in Beijing (review dates are calendar days of the operator)."""
    return clock.aware(utcnow()).astimezone(clock.CST).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (hand-written: no
    date library in the dependencies does calendar months)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_state(plan: Plan, on: dt.date | None = None) -> str:
    """``overdue`` (next review before today), ``due_soon`` (within 30 days) or ``ok``."""
    now = on or today()
    if plan.next_review < now:
        return "overdue"
    if plan.next_review <= now + dt.timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "ok"


def get(session: Session, plan_id: int, viewer_org: int | None) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None or (viewer_org is not None and plan.organization_id != viewer_org):
        raise NotFound(f"plan {plan_id} does not exist")
    return plan


def _check_refs(session: Session, fields: dict[str, Any]) -> None:
    for key, model, what in (
        ("service_id", BusinessService, "business service"),
        ("system_id", System, "system"),
    ):
        ref = fields.get(key)
        if ref is not None and session.get(model, ref) is None:
            raise NotFound(f"{what} {ref} does not exist")
    for c in fields.get("contacts") or []:
        cid = c.get("contact_id")
        if cid is None and not c.get("name"):
            raise Invalid("a plan contact needs a contact_id or a name")
        if cid is not None and session.get(Contact, cid) is None:
            raise NotFound(f"contact {cid} does not exist")
    kind, ref = fields.get("fallback_kind"), fields.get("fallback_ref")
    if (kind is None) != (ref is None):
        raise Invalid("a fallback needs both its kind (system, asset, redundancy_group) and its reference")
    if kind is not None and kind not in FALLBACK_KINDS:
        raise Invalid(f"unknown fallback kind '{kind}' (choose from {', '.join(FALLBACK_KINDS)})")
    if kind in ("system", "asset"):
        _fallback_id(session, kind, str(ref))
    elif kind == "redundancy_group" and not session.scalar(
        select(func.count()).select_from(Edge).where(Edge.redundancy_group == ref)
    ):
        raise NotFound(f"no redundancy group '{ref}' on the map")


def _org_of(session: Session, system_id: int | None, service_id: int | None) -> int | None:
    if system_id is not None:
        return session.scalar(select(System.organization_id).where(System.id == system_id))
    if service_id is not None:
        return session.scalar(select(BusinessService.organization_id).where(BusinessService.id == service_id))
    return None


def _own(session: Session, fields: dict[str, Any], viewer_org: int | None) -> None:
    """A bound caller writes plans only over its own organisation's systems and services (another
    organisation's are "not found", as everywhere in the domain)."""
    if viewer_org is None:
        return
    for key, what in (("system_id", "system"), ("service_id", "business service")):
        ref = fields.get(key)
        if ref is None:
            continue
        org = _org_of(session, ref, None) if key == "system_id" else _org_of(session, None, ref)
        if org not in (None, viewer_org):
            raise NotFound(f"{what} {ref} does not exist")


def _fallback_id(session: Session, kind: str, ref: str) -> int:
    return graph_impact._ids_by_ref(session, kind, ref)[0]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Pydantic models of steps/contacts as plain dicts, empty contact keys dropped."""
    out = dict(fields)
    if out.get("steps") is not None:
        out["steps"] = [
            {"text": s["text"].strip(), "owner_role": s["owner_role"].strip()} for s in out["steps"]
        ]
    if out.get("contacts") is not None:
        out["contacts"] = [{k: v for k, v in c.items() if v is not None} for c in out["contacts"]]
    return out


def create(session: Session, *, viewer_org: int | None, **fields: Any) -> Plan:
    fields = _clean(fields)
    if not (fields.get("title") or "").strip():
        raise Invalid("a plan needs a title")
    if fields.get("service_id") is None and fields.get("system_id") is None:
        raise Invalid("a plan covers a business service, a system or both: name at least one")
    org = fields.get("organization_id")
    if viewer_org is not None:
        if org not in (None, viewer_org):
            raise Invalid("you can write plans only for your own organisation")
        org = viewer_org
    elif org is not None and session.get(Organization, org) is None:
        raise NotFound(f"organization {org} does not exist")
    _check_refs(session, fields)
    _own(session, fields, viewer_org)
    if org is None:  # the organisation of what the plan covers (so its bound users see it)
        org = _org_of(session, fields.get("system_id"), fields.get("service_id"))
    months = int(fields.get("review_months") or 12)
    if not 1 <= months <= 120:
        raise Invalid("review_months must be between 1 and 120")
    last = fields.get("last_reviewed")
    plan = Plan(
        organization_id=org, title=fields["title"].strip()[:300], service_id=fields.get("service_id"),
        system_id=fields.get("system_id"), steps=fields.get("steps") or [], contacts=fields.get("contacts") or [],
        fallback_kind=fields.get("fallback_kind"), fallback_ref=fields.get("fallback_ref"),
        fallback_note=fields.get("fallback_note"), review_months=months, last_reviewed=last,
        next_review=add_months(last or today(), months), created_by=service.actor(),
    )  # fmt: skip
    session.add(plan)
    session.flush()
    return plan


_EDITABLE = ("title", "service_id", "system_id", "steps", "contacts", "fallback_kind", "fallback_ref",
             "fallback_note", "review_months")  # fmt: skip


def update(session: Session, *, plan_id: int, viewer_org: int | None, **changes: Any) -> Plan:
    plan = get(session, plan_id, viewer_org)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    changes = _clean(changes)
    merged = {k: changes.get(k, getattr(plan, k)) for k in _EDITABLE}
    if merged["service_id"] is None and merged["system_id"] is None:
        raise Invalid("a plan covers a business service, a system or both: name at least one")
    _check_refs(session, {k: changes[k] for k in ("service_id", "system_id", "contacts") if k in changes}
                | {"fallback_kind": merged["fallback_kind"], "fallback_ref": merged["fallback_ref"]})  # fmt: skip
    _own(session, changes, viewer_org)
    for k, v in changes.items():
        setattr(plan, k, v)
    if "review_months" in changes:
        plan.next_review = add_months(plan.last_reviewed or plan.created_at.date(), plan.review_months)
    session.flush()
    return plan


def review(
    session: Session, *, plan_id: int, viewer_org: int | None, reviewed_on: dt.date | None = None
) -> Plan:
    """Record a review: the next one is due ``review_months`` later."""
    plan = get(session, plan_id, viewer_org)
    day = reviewed_on or today()
    if day > today():
        raise Invalid(f"a review cannot be recorded in the future ({day})")
    plan.last_reviewed = day
    plan.next_review = add_months(day, plan.review_months)
    session.flush()
    return plan


def delete(session: Session, *, plan_id: int, viewer_org: int | None) -> None:
    session.delete(get(session, plan_id, viewer_org))
    session.flush()


def _names(session: Session, plans: list[Plan]) -> tuple[dict[int, str], dict[int, str]]:
    svc = {p.service_id for p in plans if p.service_id}
    sys_ = {p.system_id for p in plans if p.system_id}
    sn = (
        dict(
            session.execute(
                select(BusinessService.id, BusinessService.name).where(BusinessService.id.in_(svc))
            ).all()
        )
        if svc
        else {}
    )
    yn = (
        dict(session.execute(select(System.id, System.name).where(System.id.in_(sys_))).all()) if sys_ else {}
    )
    return sn, yn


def to_dict(plan: Plan, names: tuple[dict[int, str], dict[int, str]]) -> dict[str, Any]:
    sn, yn = names
    return {
        "id": plan.id, "organization_id": plan.organization_id, "title": plan.title,
        "service_id": plan.service_id, "service": sn.get(plan.service_id) if plan.service_id else None,
        "system_id": plan.system_id, "system": yn.get(plan.system_id) if plan.system_id else None,
        "steps": plan.steps, "contacts": plan.contacts, "fallback_kind": plan.fallback_kind,
        "fallback_ref": plan.fallback_ref, "fallback_note": plan.fallback_note, "review_months": plan.review_months,
        "last_reviewed": plan.last_reviewed, "next_review": plan.next_review, "review_state": review_state(plan),
        "created_by": plan.created_by, "created_at": plan.created_at, "updated_at": plan.updated_at,
    }  # fmt: skip


def listing(
    session: Session, *, viewer_org: int | None, overdue_only: bool = False, service_id: int | None = None,
    system_id: int | None = None, limit: int = 50, offset: int = 0,
) -> dict[str, Any]:  # fmt: skip
    where = []
    if viewer_org is not None:
        where.append(Plan.organization_id == viewer_org)
    if overdue_only:
        where.append(Plan.next_review < today())
    if service_id is not None:
        where.append(Plan.service_id == service_id)
    if system_id is not None:
        where.append(Plan.system_id == system_id)
    total = session.scalar(select(func.count()).select_from(Plan).where(*where))
    rows = list(
        session.scalars(
            select(Plan)
            .where(*where)
            .order_by(Plan.next_review, Plan.id)
            .limit(min(limit, LIST_LIMIT))
            .offset(offset)
        )
    )
    names = _names(session, rows)
    return {"total": total, "items": [to_dict(p, names) for p in rows]}


def detail(session: Session, *, plan_id: int, viewer_org: int | None) -> dict[str, Any]:
    """One plan with its contacts resolved (inventory contacts by name, phone, email)."""
    plan = get(session, plan_id, viewer_org)
    out = to_dict(plan, _names(session, [plan]))
    ids = [c["contact_id"] for c in plan.contacts or [] if c.get("contact_id") is not None]
    known = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
    resolved = []
    for c in plan.contacts or []:
        row = known.get(c.get("contact_id"))  # type: ignore[arg-type]
        if row is not None:
            resolved.append({"contact_id": row.id, "name": row.name, "phone": row.phone, "email": row.email,
                             "role": c.get("role") or row.title})  # fmt: skip
        else:
            resolved.append({"contact_id": c.get("contact_id"), "name": c.get("name") or f"#{c.get('contact_id')}",
                             "phone": c.get("phone"), "email": None, "role": c.get("role")})  # fmt: skip
    out["contacts"] = resolved
    return out


# --- the fallback checked against the map -----------------------------------------------------------------


def _primary(plan: Plan) -> Selector:
    if plan.system_id is not None:
        return Selector(kind="system", ref=str(plan.system_id))
    return Selector(kind="service", ref=str(plan.service_id))


def _fallback_nodes(session: Session, g: Graph, plan: Plan) -> list[int]:
    kind, ref = plan.fallback_kind, plan.fallback_ref or ""
    if kind == "redundancy_group":
        groups = [gi for gi, name in g.group_name.items() if name == ref]
        sentinel = g.sentinel
        return sorted({int(m) for gi in groups for m in g.members_of(gi) if int(m) != sentinel})
    i = g.index(str(kind), _fallback_id(session, str(kind), ref))
    return [] if i is None else [i]


def _ref(session: Session, g: Graph, i: int, names: dict[int, str]) -> dict[str, Any]:
    t = g.type_name(i)
    return {
        "type": t,
        "id": int(g.dbid[i]) if t != "channel" else g.label(i),
        "name": names.get(i) or g.label(i),
    }


def check(session: Session, *, plan_id: int, viewer_org: int | None) -> dict[str, Any]:
    """Run the what-if for the plan's primary target and judge the fallback against it.

    ``status`` (worst first): ``missing`` (the fallback is not on the map), ``fails`` (it fails in the
    same what-if), ``shared_spof`` (a node whose failure alone fails both the primary and the
    fallback), ``not_redundant`` (a redundancy group with fewer than two alternatives, or whose
    alternatives all fail with one node), ``degraded`` (it keeps working with less), ``ok``; and
    ``no_fallback`` for a plan that names none. Nothing is stored: the map may change any time.
    """
    plan = get(session, plan_id, viewer_org)
    primary = _primary(plan)
    out: dict[str, Any] = {"plan_id": plan.id, "primary": primary.model_dump(), "fallback_kind": plan.fallback_kind,
                           "fallback_ref": plan.fallback_ref, "findings": [], "fallback": [], "shared_spof": [],
                           "shared_spof_total": 0, "checked_at": utcnow()}  # fmt: skip
    if plan.fallback_kind is None:
        return out | {"status": "no_fallback", "ok": None}
    if plan.system_id is None and plan.service_id is None:  # both removed from the inventory since
        out["findings"].append({"code": "missing", "text": "预案覆盖的业务和系统已从资产台账中删除"})
        return out | {"status": "missing", "ok": False}
    g = build_graph(session)
    out["map_version"] = g.version
    try:
        seeds = graph_impact.resolve(session, g, primary)
        nodes = _fallback_nodes(session, g, plan)
    except (NotFound, Invalid) as e:
        out["findings"].append({"code": "missing", "text": f"主目标或备用在图中不存在：{e.message}"})
        return out | {"status": "missing", "ok": False}
    if not nodes:
        out["findings"].append(
            {"code": "missing", "text": f"备用 {plan.fallback_ref} 不在依赖图中（已退役？）"}
        )
        return out | {"status": "missing", "ok": False}
    prop = propagate(g, seeds)
    ks = killer_sets(g, np.unique(np.concatenate([seeds, np.array(nodes, np.int64)])))
    primary_k = set().union(*(ks.get(int(s), frozenset()) for s in seeds))
    fb_k = set.intersection(*(set(ks.get(n, frozenset())) for n in nodes))
    shared = sorted(
        (primary_k & fb_k) - set(nodes) - {int(s) for s in seeds},
        key=lambda x: (g.type_name(x) == "asset", x),
    )
    names = graph_impact.asset_names(session, g, [*nodes, *shared[:SPOF_SHOWN]])
    status_of = {n: "failed" if prop.failed[n] else "degraded" if prop.degraded[n] else "ok" for n in nodes}
    out["fallback"] = [_ref(session, g, n, names) | {"status": status_of[n]} for n in nodes]
    out["shared_spof"] = [_ref(session, g, x, names) for x in shared[:SPOF_SHOWN]]
    out["shared_spof_total"] = len(shared)
    codes: list[str] = []
    alive = [n for n in nodes if not prop.failed[n]]
    label = plan.fallback_ref
    if not alive:
        codes.append("fails")
        out["findings"].append({"code": "fails", "text": f"备用 {label} 在同一影响分析中随主目标一起失效"})
    if shared:
        codes.append("shared_spof")
        sample = "、".join(f"{s['type']}:{s['name'] or s['id']}" for s in out["shared_spof"][:5])
        out["findings"].append(
            {"code": "shared_spof", "text": f"主目标与备用共用 {len(shared)} 个单点故障：{sample}"}
        )
    if plan.fallback_kind == "redundancy_group":
        if len(nodes) < 2:
            codes.append("not_redundant")
            out["findings"].append(
                {"code": "not_redundant", "text": f"冗余组 {label} 只有 {len(nodes)} 个备选"}
            )
        elif alive and len(alive) < 2:
            codes.append("not_redundant")
            out["findings"].append(
                {"code": "not_redundant", "text": f"冗余组 {label} 在主目标失效后只剩 1 个备选，不再冗余"}
            )
        elif fb_k - set(nodes):
            codes.append("not_redundant")
            out["findings"].append(
                {"code": "not_redundant", "text": f"冗余组 {label} 的全部备选共用单点故障，实际不冗余"}
            )
    if alive and any(status_of[n] == "degraded" for n in alive):
        codes.append("degraded")
        out["findings"].append({"code": "degraded", "text": f"备用 {label} 在主目标失效时降级运行"})
    order = ["fails", "shared_spof", "not_redundant", "degraded"]
    status = next((c for c in order if c in codes), "ok")
    return out | {"status": status, "ok": status in ("ok", "degraded")}
