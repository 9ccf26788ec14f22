"""The reporting clock: deadlines stored per incident, and the sweep that reminds and escalates.

Deadlines are written once when an incident is graded reportable (first report, escalation for 重大 and
特别重大) and when handling ends (summary report), then only marked met or passed: they are never
recomputed from a changing clock, so a restart or a criteria change does not move them. The sweep
(``jobs.py``: a procrastinate periodic task on PostgreSQL, APScheduler in ``ciimap serve`` on SQLite)
reads only open deadlines within the reminder horizon (index ``done, due_at``), records reminders and
overdue escalations on the timeline in bulk, and emits notification events (``events.emit``) with
idempotency keys, so running it twice records nothing twice. ``bench/incidents_sweep.py`` times it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from ciimap.core.bulk import insert_tuples
from ciimap.core.db import utcnow
from ciimap.incidents import events, grading
from ciimap.incidents.models import Deadline, Incident, TimelineEntry

#: China Standard Time (no daylight saving): the summary report is due at the end of a Beijing day.
CST = dt.timezone(dt.timedelta(hours=8), "CST")
LABELS = {"first_report": "首报", "escalation": "升级上报", "summary_report": "总结报告"}


def aware(t: dt.datetime) -> dt.datetime:
    """As UTC: naive times are UTC (as stored on SQLite); aware ones are converted (SQLite would drop the
    offset of a non-UTC time and store its wall-clock reading)."""
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def summary_due_at(closed: dt.date) -> dt.datetime:
    """End of the Beijing day ``summary_report_days`` after handling ended."""
    day = closed + dt.timedelta(days=grading.criteria().summary_report_days)
    return aware(dt.datetime.combine(day, dt.time(23, 59, 59), CST))


def deadlines_of(session: Session, incident_id: int) -> dict[str, Deadline]:
    rows = session.execute(select(Deadline).where(Deadline.incident_id == incident_id)).scalars()
    return {d.kind: d for d in rows}


def set_deadlines(session: Session, inc: Incident) -> list[str]:
    """Add the deadlines the incident's grade calls for and does not have yet; close the ones a lower
    grade no longer calls for. Returns timeline texts of what changed. Existing due times never move."""
    c = grading.criteria()
    have = deadlines_of(session, inc.id)
    rule = c.reporters[inc.reporter or "other"]  # type: ignore[index]
    discovered = aware(inc.discovered_at)
    want: dict[str, dt.datetime] = {}
    if c.must_report(inc.grade):
        want["first_report"] = discovered + dt.timedelta(minutes=rule.first_report_minutes)
        if inc.handling_closed_at is not None:
            want["summary_report"] = summary_due_at(inc.handling_closed_at)
    if c.escalates(inc.grade):
        first = have["first_report"].due_at if "first_report" in have else want["first_report"]
        want["escalation"] = aware(first) + dt.timedelta(minutes=rule.escalation_minutes)
    notes: list[str] = []
    for kind, due in want.items():
        if kind not in have:
            session.add(
                Deadline(incident_id=inc.id, kind=kind, due_at=due, done=False, next_at=next_at(due, None))
            )
            notes.append(f"{LABELS[kind]}时限 {due.isoformat()}")
    for kind, d in have.items():
        if kind not in want and not d.done:
            d.done = True
            notes.append(f"{LABELS[kind]}时限不再适用（定级 {inc.grade}）")
    session.flush()
    return notes


def mark_met(session: Session, inc: Incident, kind: str, at: dt.datetime) -> bool | None:
    """A report of ``kind`` went out at ``at``: close that deadline. Whether it was on time (None: none)."""
    d = deadlines_of(session, inc.id).get(kind)
    if d is None:
        return None
    on_time = aware(at) <= aware(d.due_at)
    if d.met_at is None:
        d.met_at = at
        d.done = True
    return on_time


def _lead(reminded: int | None) -> dt.timedelta:
    """How long before its due time a deadline's next reminder is (zero: none left, the due time)."""
    pending = [o for o in grading.criteria().reminder_minutes if reminded is None or o < reminded]
    return dt.timedelta(minutes=max(pending)) if pending else dt.timedelta(0)


def next_at(due: dt.datetime, reminded: int | None) -> dt.datetime:
    """When a deadline needs the sweep next: its next reminder not yet recorded, else its due time."""
    return aware(due) - _lead(reminded)


#: The sweep's staging table (per connection, emptied and dropped by every sweep): the due deadlines'
#: actions, staged with one COPY / executemany, then applied set-based (UPDATE … FROM, INSERT … SELECT),
#: so no JSON of a thousand incidents is read back and serialised again (``bench/incidents_sweep.py``).
_STAGE = Table(
    "incident_sweep_stage",
    MetaData(),
    Column("seq", Integer, primary_key=True),
    Column("deadline_id", Integer),
    Column("incident_id", Integer),
    Column("overdue", Boolean),
    Column("kind", String(16)),  # reminder / overdue; NULL: only the deadline's next look moves
    Column("idempotency_key", String(100)),
    Column("text", Text),
    Column("data", JSON),
    Column("reminded_minutes", Integer),
    Column("next_at", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
)


def _stage(session: Session) -> Any:
    """The staging table, empty. ``IF NOT EXISTS`` + DELETE: SQLite's driver runs DDL outside the
    transaction, so a table left by a rolled-back sweep on this connection is reused, not re-created."""
    conn = session.connection()
    ddl = str(CreateTable(_STAGE).compile(dialect=conn.dialect)).strip()
    conn.exec_driver_sql(ddl.replace("CREATE TEMPORARY TABLE", "CREATE TEMPORARY TABLE IF NOT EXISTS", 1))
    conn.execute(delete(_STAGE))
    return _STAGE


def sweep(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Record reminders before each open deadline and an escalation when one has passed."""
    now = aware(now or utcnow())
    offsets = sorted(grading.criteria().reminder_minutes)  # smallest first
    rows = session.execute(
        select(Deadline.id, Deadline.incident_id, Deadline.kind, Deadline.due_at, Deadline.reminded_minutes)
        .where(Deadline.done.is_(False), Deadline.next_at <= now)
        .order_by(Deadline.id)
    ).all()
    if not rows:
        return {"checked": 0, "reminders": 0, "overdue": 0}
    leads: dict[int | None, dt.timedelta] = {}  # _lead() per reminder step recorded
    staged: list[tuple[Any, ...]] = []
    reminders = overdue = 0
    for seq, (did, iid, kind, due_at, done_min) in enumerate(rows, 1):
        due = aware(due_at)
        iso = due.isoformat()
        data = {"deadline": kind, "due_at": iso}
        if due <= now:
            overdue += 1
            text = f"{LABELS[kind]}已超时（时限 {iso}），升级处理"
            staged.append(
                (seq, did, iid, True, "overdue", f"incident:{iid}:{kind}:overdue", text, data, None, None)
            )
            continue
        left = (due - now).total_seconds() / 60
        step = next((o for o in offsets if left <= o and (done_min is None or o < done_min)), None)
        mark = step if step is not None else done_min
        if mark not in leads:
            leads[mark] = _lead(mark)
        nxt = due - leads[mark]
        if step is None:
            staged.append((seq, did, iid, False, None, None, None, None, mark, nxt))
            continue
        reminders += 1
        text = f"{LABELS[kind]}将于 {step} 分钟内到期（{iso}）"
        key = f"incident:{iid}:{kind}:reminder:{step}"
        staged.append((seq, did, iid, False, "reminder", key, text, data, mark, nxt))
    st = _stage(session)
    insert_tuples(session, st, [c.name for c in st.c], staged)
    conn = session.connection()
    d: Any = Deadline.__table__
    conn.execute(
        update(d)
        .where(d.c.id.in_(select(st.c.deadline_id).where(st.c.overdue.is_(True))))
        .values(done=True, overdue_at=now)
    )
    conn.execute(
        update(d)
        .where(d.c.id == st.c.deadline_id, st.c.overdue.is_(False))
        .values(reminded_minutes=st.c.reminded_minutes, next_at=st.c.next_at)
    )
    t: Any = TimelineEntry.__table__
    at = literal(now, DateTime(timezone=True))
    conn.execute(
        insert(t).from_select(
            ["incident_id", "at", "kind", "actor", "text", "data"],
            select(st.c.incident_id, at, st.c.kind, literal("scheduler", String), st.c.text, st.c.data)
            .where(st.c.kind.is_not(None))
            .order_by(st.c.seq),
        )
    )
    events.emit_staged(
        session,
        select(st.c.seq, st.c.kind, st.c.incident_id, st.c.idempotency_key).where(st.c.kind.is_not(None)),
        count=reminders + overdue,
    )
    conn.execute(delete(st))
    return {"checked": len(rows), "reminders": reminders, "overdue": overdue}
