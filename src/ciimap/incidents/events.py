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

from sqlalchemy import DateTime, Select, String, cast, func, literal, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ciimap.core.db import utcnow
from ciimap.incidents import relay
from ciimap.incidents.models import Incident, NotificationEvent


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


def emit_staged(session: Session, staged: Select[Any], *, count: int) -> None:
    """The bulk path of :func:`emit` for the deadline sweep: ``staged`` selects ``(seq, kind, incident_id,
    idempotency_key)``; the rest of each event (grade, systems, services, title, organisation, drill) is
    copied from its incident inside the database by one ``INSERT … SELECT`` (no JSON read back and
    serialised again), in ``seq`` order, a key already recorded skipped. Relayed at once, as ``emit``
    does, when ``count`` is at most :data:`relay.INLINE`."""
    if not count:
        return
    s = staged.subquery()
    i: Any = Incident.__table__
    now = literal(utcnow(), DateTime(timezone=True))
    empty: Any = literal_column("'[]'")
    sel = (
        select(
            s.c.kind,
            i.c.id,
            i.c.organization_id,
            i.c.grade,
            func.coalesce(i.c.drill, False),
            func.coalesce(i.c.system_ids, empty),
            func.coalesce(i.c.service_ids, empty),
            func.substr(i.c.title, 1, 300),
            literal("/incidents/") + cast(i.c.id, String),
            s.c.idempotency_key,
            now,
        )  # fmt: skip
        .join(s, s.c.incident_id == i.c.id)
        .where(s.c.idempotency_key.is_not(None))  # SQLite's INSERT … SELECT … ON CONFLICT needs a WHERE
        .order_by(s.c.seq)
    )
    cols = ["kind", "incident_id", "organization_id", "grade", "drill", "system_ids", "service_ids",
            "title", "link", "idempotency_key", "created_at"]  # fmt: skip
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table: Any = NotificationEvent.__table__
    stmt = insert(table).from_select(cols, sel).on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.connection().execute(stmt)
    if count <= relay.INLINE:
        relay.relay(session, limit=relay.INLINE)
