"""Outgoing notification events: the one hook between incidents and the ``notify`` domain.

:func:`emit` appends events to ``incident_event`` in the caller's transaction; :mod:`ciimap.incidents.relay`
routes the rows with ``consumed_at IS NULL`` into ``notify``'s outbox and sets ``consumed_at`` (at once
for a few events, after the sweep's commit for a sweep's thousands). The idempotency key is
unique: emitting a key twice (a sweep run twice, a retried request) stores one event. Public channels
get the grade and the link, not indicators or personal data (the title is the incident's own).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NotRequired, TypedDict

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ciimap.core.db import utcnow
from ciimap.incidents import relay
from ciimap.incidents.models import NotificationEvent


class Event(TypedDict):
    """One outgoing event. ``kind``: opened, graded, state, reminder, overdue, report_sent."""

    kind: str
    incident_id: int
    grade: str
    system_ids: list[int]
    service_ids: list[int]
    title: str
    idempotency_key: str
    organization_id: NotRequired[int | None]
    drill: NotRequired[bool]


def emit(session: Session, batch: Iterable[Event]) -> None:
    """Record events (one statement); a key already recorded is skipped. ``link`` is ``/incidents/<id>``."""
    now = utcnow()
    rows = [
        {
            "kind": e["kind"],
            "incident_id": e["incident_id"],
            "organization_id": e.get("organization_id"),
            "grade": e["grade"],
            "drill": bool(e.get("drill", False)),
            "system_ids": list(e["system_ids"] or []),
            "service_ids": list(e["service_ids"] or []),
            "title": e["title"][:300],
            "link": f"/incidents/{e['incident_id']}",
            "idempotency_key": e["idempotency_key"],
            "created_at": now,
        }
        for e in batch
    ]
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # Core, not the ORM bulk path: a sweep may emit 10,000 events at once (bench/incidents_sweep.py)
    table: Any = NotificationEvent.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.connection().execute(stmt, rows)
    if len(rows) <= relay.INLINE:
        relay.relay(session, limit=relay.INLINE)
