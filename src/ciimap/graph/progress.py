"""Recording a rollout: save a plan, start it, report ring health, advance after soak, halt on a failed gate.

Every state change is an audited ORM change plus a ``graph_rollout_event`` row; ring membership is
bulk-inserted with one ``record_bulk`` audit entry carrying a digest of the (ring, asset) pairs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ciimap.core import audit
from ciimap.core.audit import current_actor
from ciimap.core.db import INSERT_BATCH, chunks, utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.core.schemas import as_utc
from ciimap.graph.models import RolloutEvent, RolloutMember, RolloutPlan, RolloutRing
from ciimap.graph.rollout import Proposal, propose


def create_plan(
    session: Session,
    *,
    product: str | None = None,
    channel: str | None = None,
    name: str | None = None,
    version: str | None = None,
    soak_hours: dict[str, float] | None = None,
    gates: dict[str, dict[str, float]] | None = None,
) -> RolloutPlan:
    """Compute a ring plan and save it (status ``planned``)."""
    p: Proposal = propose(session, product=product, channel=channel, soak_hours=soak_hours, gates=gates)
    plan = RolloutPlan(
        name=name or f"{p.label} {version or ''}".strip(),
        version=version,
        product_id=p.product_ids[0] if product else None,
        update_channel=channel,
        status="planned",
        params={
            "product": product,
            "channel": channel,
            "soak_hours": soak_hours,
            "gates": gates,
            "product_ids": p.product_ids,
        },
        summary={"targets": p.targets, "redundancy_moves": p.moves},
        created_by=current_actor().name,
    )
    session.add(plan)
    session.flush()
    digest = hashlib.sha256()
    rows: list[dict[str, int]] = []
    for k, r in enumerate(p.rings):
        ring = RolloutRing(
            plan_id=plan.id,
            position=k,
            name=r.name,
            asset_count=len(r.members),
            status="pending" if r.members or r.name == "lab" else "skipped",
            soak_hours=r.soak_hours,
            gates=r.gates,
            observed={},
            rationale=r.rationale,
        )
        session.add(ring)
        session.flush()
        rows.extend({"plan_id": plan.id, "ring_id": ring.id, "asset_id": a} for a in r.members)
        digest.update(f"{r.name}:{','.join(map(str, r.members))};".encode())
    for part in chunks(rows, INSERT_BATCH):
        session.execute(insert(RolloutMember), part)
    audit.record_bulk(
        session,
        "create",
        "graph_rollout_member",
        count=len(rows),
        digest=digest.hexdigest(),
        detail={"plan_id": plan.id},
    )
    _event(session, plan, None, "plan", {"targets": p.targets, "rings": [r.name for r in p.rings]})
    return plan


def get_plan(session: Session, plan_id: int) -> RolloutPlan:
    plan = session.get(RolloutPlan, plan_id)
    if plan is None:
        raise NotFound(f"no rollout plan {plan_id}")
    return plan


def list_plans(session: Session) -> list[RolloutPlan]:
    return list(session.scalars(select(RolloutPlan).order_by(RolloutPlan.id.desc())))


def rings(session: Session, plan: RolloutPlan) -> list[RolloutRing]:
    return list(
        session.scalars(
            select(RolloutRing).where(RolloutRing.plan_id == plan.id).order_by(RolloutRing.position)
        )
    )


def ring_members(session: Session, ring: RolloutRing) -> list[int]:
    return list(
        session.scalars(
            select(RolloutMember.asset_id)
            .where(RolloutMember.ring_id == ring.id)
            .order_by(RolloutMember.asset_id)
        )
    )


def _event(
    session: Session, plan: RolloutPlan, ring: RolloutRing | None, kind: str, detail: dict[str, Any]
) -> None:
    session.add(
        RolloutEvent(
            plan_id=plan.id,
            ring_id=ring.id if ring else None,
            kind=kind,
            detail=detail,
            actor=current_actor().name,
        )
    )
    session.flush()


def _current(session: Session, plan: RolloutPlan) -> RolloutRing:
    if plan.status != "in_progress":
        raise Conflict(f"rollout {plan.id} is {plan.status}, not in progress")
    return next(r for r in rings(session, plan) if r.position == plan.current_ring)


def _open_ring(session: Session, plan: RolloutPlan, after: int) -> RolloutRing | None:
    nxt = next((r for r in rings(session, plan) if r.position > after and r.status == "pending"), None)
    if nxt is not None:
        nxt.status, nxt.started_at = "in_progress", utcnow()
        plan.current_ring = nxt.position
    return nxt


def start(session: Session, *, plan_id: int) -> RolloutPlan:
    plan = get_plan(session, plan_id)
    if plan.status != "planned":
        raise Conflict(f"rollout {plan.id} is {plan.status}; only a planned rollout can start")
    plan.status = "in_progress"
    ring = _open_ring(session, plan, -1)
    _event(session, plan, ring, "start", {"ring": ring.name if ring else None})
    return plan


def report_health(
    session: Session, *, plan_id: int, metrics: dict[str, float], note: str | None = None
) -> RolloutPlan:
    """Record observed health of the current ring; a value above its gate halts the rollout."""
    plan = get_plan(session, plan_id)
    ring = _current(session, plan)
    unknown = sorted(set(metrics) - set(ring.gates))
    if unknown:
        raise Invalid(
            f"ring {ring.name} has no gate for {', '.join(unknown)} (gates: {', '.join(ring.gates)})"
        )
    ring.observed = {**ring.observed, **{k: float(v) for k, v in metrics.items()}}
    broken = [
        (k, float(v), float(ring.gates[k])) for k, v in sorted(metrics.items()) if float(v) > ring.gates[k]
    ]
    _event(
        session, plan, ring, "health", {"metrics": metrics, "note": note, "broken": [b[0] for b in broken]}
    )
    if broken:
        reason = "; ".join(f"ring {ring.name}: {k} = {v:g} exceeds gate {lim:g}" for k, v, lim in broken)
        ring.status, ring.finished_at = "failed", utcnow()
        plan.status, plan.halted_reason = "halted", reason
        _event(session, plan, ring, "halt", {"reason": reason, "automatic": True})
    return plan


def advance(
    session: Session,
    *,
    plan_id: int,
    force: bool = False,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> RolloutPlan:
    """Close the current ring (soak elapsed, every gate reported and within bounds) and open the next."""
    plan = get_plan(session, plan_id)
    ring = _current(session, plan)
    now = now or utcnow()
    problems = [f"no health report for {k}" for k in ring.gates if k not in ring.observed]
    started = ring.started_at or now
    if started.tzinfo is None:  # SQLite returns naive datetimes
        started = started.replace(tzinfo=dt.UTC)
    until = started + dt.timedelta(hours=ring.soak_hours)
    if now < until:
        problems.append(f"soaking until {until.isoformat(timespec='minutes')}")
    if problems and not force:
        raise Conflict(f"ring {ring.name} cannot advance: {'; '.join(problems)} (use --force to override)")
    ring.status, ring.finished_at = "passed", now
    nxt = _open_ring(session, plan, ring.position)
    if nxt is None:
        plan.status, plan.current_ring = "completed", None
    _event(
        session,
        plan,
        ring,
        "advance",
        {
            "to": nxt.name if nxt else None,
            "forced": bool(problems and force),
            "overridden": problems if force else [],
            "note": note,
        },
    )
    return plan


def halt(session: Session, *, plan_id: int, reason: str) -> RolloutPlan:
    plan = get_plan(session, plan_id)
    if plan.status not in ("planned", "in_progress"):
        raise Conflict(f"rollout {plan.id} is already {plan.status}")
    plan.status, plan.halted_reason = "halted", reason
    _event(session, plan, None, "halt", {"reason": reason, "automatic": False})
    return plan


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Timestamps in answers carry their zone (SQLite returns them naive)."""
    return as_utc(value) if value is not None else None


def status(session: Session, *, plan_id: int) -> dict[str, Any]:
    """Plan, rings with progress, and the event log."""
    plan = get_plan(session, plan_id)
    events = session.scalars(
        select(RolloutEvent).where(RolloutEvent.plan_id == plan.id).order_by(RolloutEvent.id)
    )
    counts = dict(
        session.execute(
            select(RolloutMember.ring_id, func.count())
            .where(RolloutMember.plan_id == plan.id)
            .group_by(RolloutMember.ring_id)
        ).all()
    )
    return {
        "id": plan.id,
        "name": plan.name,
        "status": plan.status,
        "version": plan.version,
        "product_id": plan.product_id,
        "update_channel": plan.update_channel,
        "current_ring": plan.current_ring,
        "halted_reason": plan.halted_reason,
        "summary": plan.summary,
        "created_by": plan.created_by,
        "rings": [
            {
                "position": r.position,
                "name": r.name,
                "status": r.status,
                "asset_count": counts.get(r.id, 0),
                "soak_hours": r.soak_hours,
                "gates": r.gates,
                "observed": r.observed,
                "rationale": r.rationale,
                "started_at": _utc(r.started_at),
                "finished_at": _utc(r.finished_at),
            }
            for r in rings(session, plan)
        ],
        "events": [
            {"ts": _utc(e.ts), "kind": e.kind, "ring_id": e.ring_id, "actor": e.actor, "detail": e.detail}
            for e in events
        ],
    }
