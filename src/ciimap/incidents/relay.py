"""From incident events to the notification outbox: ``incident_event`` rows not yet consumed are
routed by :func:`ciimap.notify.service.publish` (rules by grade, system, business service and kind) and
marked consumed, in the same transaction, so an event is queued exactly once and delivered at least once.

Interactive changes (a few events) are relayed at once by :func:`ciimap.incidents.events.emit`; the
deadline sweep, which can emit thousands at a time, relays after its own commit in chunks
(:func:`ciimap.incidents.jobs.sweep_now`). Drill events carry ``drill`` in their attributes and a
``【演练】`` title prefix: a rule sees them like any other, and nothing is ever sent to an authority.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ciimap.core.db import utcnow
from ciimap.incidents.models import NotificationEvent
from ciimap.notify import service as notify

#: Events relayed per transaction by the sweep.
CHUNK = 500
#: ``emit`` relays at once when it recorded at most this many events.
INLINE = 20


def relay(session: Session, *, limit: int = CHUNK) -> int:
    """Queue up to ``limit`` unconsumed events into the outbox and mark them consumed; returns how many."""
    events = list(
        session.scalars(
            select(NotificationEvent)
            .where(NotificationEvent.consumed_at.is_(None))
            .order_by(NotificationEvent.id)
            .limit(limit)
        )
    )
    for e in events:
        title = f"【演练】{e.title}" if e.drill else e.title
        notify.publish(
            session,
            kind=f"incident.{e.kind}",
            subject=f"incident:{e.incident_id}",
            attrs={
                "grade": e.grade,
                "system_ids": list(e.system_ids or []),
                "business_service_ids": list(e.service_ids or []),
                "drill": e.drill,
            },
            title=title,
            body=title,
            link=e.link,
            idempotency_key=e.idempotency_key,
        )
    if events:
        session.execute(
            update(NotificationEvent)
            .where(NotificationEvent.id.in_([e.id for e in events]))
            .values(consumed_at=utcnow())
        )
    return len(events)
