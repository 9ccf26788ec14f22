"""Domestic substitution plans (国产化替代): one row per item to replace, progress per system.

Substitution is done step by step, so each item carries its own milestones and status; the
progress view rolls items up per system and across the organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.inventory import models as inv
from ciimap.supply import foreign
from ciimap.supply.models import PLAN_STATUS, SubstitutionPlan
from ciimap.supply.schemas import PlanIn, PlanRead, Progress

#: Allowed status changes. ``done`` is final: a regression is a new item, so history stays true.
TRANSITIONS: dict[str, set[str]] = {
    "planned": {"in_progress", "cancelled"},
    "in_progress": {"planned", "testing", "cancelled"},
    "testing": {"in_progress", "done", "cancelled"},
    "done": set(),
    "cancelled": {"planned"},
}
OPEN = ("planned", "in_progress", "testing")
FIELDS = tuple(PlanIn.model_fields)


def _today() -> dt.date:
    return dt.date.today()


def _parse(data: dict[str, Any]) -> PlanIn:
    try:
        return PlanIn.model_validate(data)
    except ValidationError as e:
        raise Invalid(format_validation_error(e)) from None


def _need(session: Session, model: type, obj_id: int | None, label: str) -> Any:
    if obj_id is None:
        return None
    obj = session.get(model, obj_id)
    if obj is None:
        raise Invalid(f"{label}: {model.__tablename__} {obj_id} does not exist")  # type: ignore[attr-defined]
    return obj


def _check_refs(session: Session, plan: PlanIn) -> None:
    """References exist, belong to the plan's system, and the candidate is domestic."""
    _need(session, inv.System, plan.system_id, "system_id")
    _need(session, inv.Contact, plan.owner_id, "owner_id")
    sw = _need(session, inv.Software, plan.current_software_id, "current_software_id")
    if sw is not None:
        host = session.get(inv.Asset, sw.asset_id) if sw.asset_id else None
        asset_sys = host.system_id if host is not None else None
        if plan.system_id not in (sw.system_id, asset_sys):
            raise Invalid(f"current_software_id: software {sw.id} is not part of system {plan.system_id}")
        if plan.current_product_id is None:
            plan.current_product_id = sw.product_id
        elif sw.product_id not in (None, plan.current_product_id):
            raise Invalid(
                f"current_product_id: software {sw.id} is product {sw.product_id}, "
                f"not {plan.current_product_id}"
            )
    asset = _need(session, inv.Asset, plan.current_asset_id, "current_asset_id")
    if asset is not None and asset.system_id != plan.system_id:
        raise Invalid(f"current_asset_id: asset {asset.id} is not part of system {plan.system_id}")
    current = _need(session, inv.Product, plan.current_product_id, "current_product_id")
    if plan.layer is None:
        if current is None:
            raise Invalid("layer: required when the current item has no product")
        plan.layer = current.layer  # type: ignore[assignment]
    cand = _need(session, inv.Product, plan.candidate_product_id, "candidate_product_id")
    if cand is not None:
        vendor = session.get_one(inv.Vendor, cand.vendor_id)
        if not vendor.is_domestic:
            raise Invalid(
                f"candidate_product_id: product {cand.id} '{cand.name}' is from vendor "
                f"'{vendor.name}' ({vendor.country or 'country unknown'}), which is not domestic"
            )
        if cand.id == plan.current_product_id:
            raise Invalid("candidate_product_id: the candidate is the product being replaced")


def _check_done(plan: PlanIn) -> None:
    if plan.status == "done" and not all(m.done for m in plan.milestones):
        left = ", ".join(m.name for m in plan.milestones if not m.done)
        raise Invalid(f"status: cannot be 'done' while milestones are open ({left})")


def _store(session: Session, obj: SubstitutionPlan, plan: PlanIn) -> SubstitutionPlan:
    today = _today()
    milestones = []
    for m in plan.milestones:
        if m.done and m.done_on is None:
            m.done_on = today
        milestones.append(m.model_dump(mode="json"))
    for key in FIELDS:
        value = milestones if key == "milestones" else getattr(plan, key)
        if getattr(obj, key, None) != value:
            setattr(obj, key, value)
    if plan.status == "done" and obj.completed_on is None:
        obj.completed_on = today
    elif plan.status != "done":
        obj.completed_on = None
    session.add(obj)
    session.flush()
    return obj


def _no_duplicate(session: Session, plan: PlanIn, own_id: int | None) -> None:
    p = SubstitutionPlan
    stmt = select(p.id).where(
        p.system_id == plan.system_id,
        p.status.in_(OPEN),
        p.current_product_id.is_(None)
        if plan.current_product_id is None
        else p.current_product_id == plan.current_product_id,
        p.current_software_id.is_(None)
        if plan.current_software_id is None
        else p.current_software_id == plan.current_software_id,
        p.current_asset_id.is_(None)
        if plan.current_asset_id is None
        else p.current_asset_id == plan.current_asset_id,
    )
    other = [i for i in session.scalars(stmt) if i != own_id]
    if other and plan.status in OPEN:
        raise Conflict(f"an open substitution plan for this item already exists (plan {other[0]})")


def create_plan(session: Session, *, data: dict[str, Any]) -> SubstitutionPlan:
    """Add a substitution item (audited)."""
    plan = _parse(data)
    _check_refs(session, plan)
    _check_done(plan)
    _no_duplicate(session, plan, None)
    return _store(session, SubstitutionPlan(), plan)


def get_plan(session: Session, *, plan_id: int) -> SubstitutionPlan:
    obj = session.get(SubstitutionPlan, plan_id)
    if obj is None:
        raise NotFound(f"substitution plan {plan_id} does not exist")
    return obj


def update_plan(session: Session, *, plan_id: int, changes: dict[str, Any]) -> SubstitutionPlan:
    """Change an item; status moves only along TRANSITIONS (audited)."""
    obj = get_plan(session, plan_id=plan_id)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise Invalid(f"unknown plan field(s): {', '.join(sorted(unknown))} (fields: {', '.join(FIELDS)})")
    new_status = changes.get("status", obj.status)
    if new_status != obj.status and new_status in PLAN_STATUS and new_status not in TRANSITIONS[obj.status]:
        allowed = ", ".join(sorted(TRANSITIONS[obj.status])) or "none"
        raise Invalid(f"status: cannot go from '{obj.status}' to '{new_status}' (allowed: {allowed})")
    plan = _parse({**{k: getattr(obj, k) for k in FIELDS}, **changes})
    _check_refs(session, plan)
    _check_done(plan)
    _no_duplicate(session, plan, obj.id)
    return _store(session, obj, plan)


def delete_plan(session: Session, *, plan_id: int) -> None:
    session.delete(get_plan(session, plan_id=plan_id))
    session.flush()


def _warnings(p: SubstitutionPlan, prods: dict[int, foreign.ProductInfo], overdue: bool) -> list[str]:
    out = []
    cand = prods.get(p.candidate_product_id) if p.candidate_product_id else None
    cur = prods.get(p.current_product_id) if p.current_product_id else None
    if overdue:
        out.append(f"overdue since {p.due_date}")
    if cand is None and p.status in ("in_progress", "testing"):
        out.append("no candidate replacement chosen")
    if cand is not None and cand.layer != p.layer:
        out.append(f"candidate is a {cand.layer} product, the item is {p.layer}")
    if cand is not None and not cand.is_domestic:
        out.append(f"candidate vendor '{cand.vendor}' is no longer marked domestic")
    if cur is not None and cur.is_domestic:
        out.append(f"current product is already from a domestic vendor ('{cur.vendor}')")
    return out


def is_overdue(p: SubstitutionPlan, today: dt.date) -> bool:
    return p.status in OPEN and p.due_date is not None and p.due_date < today


def describe(session: Session, *, plan_id: int) -> dict[str, Any]:
    """One item as the list shows it (names, overdue, warnings)."""
    get_plan(session, plan_id=plan_id)
    return list_plans(session, plan_id=plan_id)[0]


def list_plans(
    session: Session,
    *,
    system_id: int | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    plan_id: int | None = None,
) -> list[dict[str, Any]]:
    """Items with names resolved in bulk (systems, products, owners), warnings and overdue flags."""
    if status is not None and status not in PLAN_STATUS:
        raise Invalid(f"unknown status '{status}' (statuses: {', '.join(PLAN_STATUS)})")
    stmt = select(SubstitutionPlan).order_by(SubstitutionPlan.system_id, SubstitutionPlan.id)
    if system_id is not None:
        stmt = stmt.where(SubstitutionPlan.system_id == system_id)
    if status is not None:
        stmt = stmt.where(SubstitutionPlan.status == status)
    if plan_id is not None:
        stmt = stmt.where(SubstitutionPlan.id == plan_id)
    items = list(session.scalars(stmt))
    prods, sysmap, today = foreign.products(session), foreign.systems(session), _today()
    owner_ids = {p.owner_id for p in items if p.owner_id}
    owners = (
        {
            r[0]: r[1]
            for r in session.execute(
                select(inv.Contact.id, inv.Contact.name).where(inv.Contact.id.in_(owner_ids))
            )
        }
        if owner_ids
        else {}
    )
    out = []
    for p in items:
        late = is_overdue(p, today)
        if overdue is not None and late != overdue:
            continue
        cur, cand = prods.get(p.current_product_id or 0), prods.get(p.candidate_product_id or 0)
        row = PlanRead.model_validate(p).model_dump(mode="json")
        row.update(
            system=sysmap.get(p.system_id, ("", False))[0],
            current=cur.name if cur else None,
            current_vendor=cur.vendor if cur else None,
            candidate=cand.name if cand else None,
            candidate_vendor=cand.vendor if cand else None,
            overdue=late,
            owner=owners.get(p.owner_id) if p.owner_id else None,
            milestones_done=sum(1 for m in p.milestones or [] if m.get("done")),
            warnings=_warnings(p, prods, late),
        )
        out.append(row)
    return out


def progress(session: Session) -> dict[str, Any]:
    """Per system and in total: items done / total (cancelled items excluded), milestones, overdue."""
    today = _today()
    sysmap = foreign.systems(session)
    per: dict[int | None, Progress] = {}
    total = Progress(system_id=None, system="合计 total")
    for p in session.scalars(select(SubstitutionPlan)):
        name, cii = sysmap.get(p.system_id, ("", False))
        row = per.get(p.system_id) or per.setdefault(
            p.system_id, Progress(system_id=p.system_id, system=name, is_cii=cii)
        )
        for acc in (row, total):
            _count(acc, p, today)
    rows = sorted(per.values(), key=lambda r: r.system)
    for acc in [*rows, total]:
        live = acc.items - acc.cancelled
        acc.percent = round(100 * acc.done / live, 1) if live else 0.0
    return {"systems": [r.model_dump() for r in rows], "total": total.model_dump()}


def _count(acc: Progress, p: SubstitutionPlan, today: dt.date) -> None:
    acc.items += 1
    acc.done += p.status == "done"
    acc.cancelled += p.status == "cancelled"
    acc.active += p.status in OPEN
    acc.overdue += is_overdue(p, today)
    if p.status != "cancelled":
        acc.milestones += len(p.milestones or [])
        acc.milestones_done += sum(1 for m in p.milestones or [] if m.get("done"))
