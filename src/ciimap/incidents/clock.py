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

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ciimap.core.bulk import insert_rows
from ciimap.core.db import chunks, utcnow
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


def next_at(due: dt.datetime, reminded: int | None) -> dt.datetime:
    """When a deadline needs the sweep next: its next reminder not yet recorded, else its due time."""
    pending = [o for o in grading.criteria().reminder_minutes if reminded is None or o < reminded]
    return aware(due) - dt.timedelta(minutes=max(pending)) if pending else aware(due)


def _incidents(session: Session, ids: set[int]) -> dict[int, tuple[Any, ...]]:
    out: dict[int, tuple[Any, ...]] = {}
    cols = (Incident.id, Incident.grade, Incident.title, Incident.system_ids, Incident.service_ids,
            Incident.organization_id, Incident.drill)  # fmt: skip
    for part in chunks(sorted(ids)):
        rows = session.connection().execute(select(*cols).where(Incident.id.in_(part)))
        out.update((r[0], tuple(r[1:])) for r in rows)
    return out


def sweep(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Record reminders before each open deadline and an escalation when one has passed."""
    now = aware(now or utcnow())
    offsets = sorted(grading.criteria().reminder_minutes)  # smallest first
    rows = session.execute(
        select(
            Deadline.id, Deadline.incident_id, Deadline.kind, Deadline.due_at, Deadline.reminded_minutes
        ).where(Deadline.done.is_(False), Deadline.next_at <= now)
    ).all()
    acts: list[
        tuple[int, str, dt.datetime, int | None]
    ] = []  # incident, kind, due, reminder step (None: overdue)
    overdue: list[int] = []
    reminded: list[dict[str, Any]] = []
    for did, iid, kind, due_at, done_min in rows:
        due = aware(due_at)
        if due <= now:
            overdue.append(did)
            acts.append((iid, kind, due, None))
            continue
        left = (due - now).total_seconds() / 60
        step = next((o for o in offsets if left <= o and (done_min is None or o < done_min)), None)
        if step is not None:
            acts.append((iid, kind, due, step))
        mark = step if step is not None else done_min
        reminded.append({"id": did, "reminded_minutes": mark, "next_at": next_at(due, mark)})
    for part in chunks(overdue):
        session.execute(
            update(Deadline).where(Deadline.id.in_(part)).values(done=True, overdue_at=now),
            execution_options={"synchronize_session": False},
        )
    if reminded:
        t: Any = Deadline.__table__
        stmt = (
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values(reminded_minutes=bindparam("b_r"), next_at=bindparam("b_n"))
        )
        session.connection().execute(
            stmt, [{"b_id": r["id"], "b_r": r["reminded_minutes"], "b_n": r["next_at"]} for r in reminded]
        )
    info = _incidents(session, {a[0] for a in acts})
    timeline: list[dict[str, Any]] = []
    out: list[events.Event] = []
    for iid, kind, due, step in acts:
        grade, title, sys_ids, svc_ids, org, drill = info[iid]
        if step is None:
            text = f"{LABELS[kind]}已超时（时限 {due.isoformat()}），升级处理"
            entry, key = "overdue", f"incident:{iid}:{kind}:overdue"
        else:
            text = f"{LABELS[kind]}将于 {step} 分钟内到期（{due.isoformat()}）"
            entry, key = "reminder", f"incident:{iid}:{kind}:reminder:{step}"
        data = {"deadline": kind, "due_at": due.isoformat()}
        timeline.append(
            {"incident_id": iid, "at": now, "kind": entry, "actor": "scheduler", "text": text, "data": data}
        )
        out.append({"kind": entry, "incident_id": iid, "grade": grade, "system_ids": sys_ids or [],
                    "service_ids": svc_ids or [], "title": title, "idempotency_key": key,
                    "organization_id": org, "drill": drill})  # fmt: skip
    insert_rows(session, TimelineEntry.__table__, timeline)
    events.emit(session, out)
    return {
        "checked": len(rows),
        "reminders": sum(1 for a in acts if a[3] is not None),
        "overdue": len(overdue),
    }
