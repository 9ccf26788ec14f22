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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ciimap.core.bulk import insert_rows
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
            session.add(Deadline(incident_id=inc.id, kind=kind, due_at=due, done=False))
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


def sweep(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Record reminders before each open deadline and an escalation when one has passed."""
    now = aware(now or utcnow())
    offsets = sorted(grading.criteria().reminder_minutes)  # smallest first
    horizon = now + dt.timedelta(minutes=max(offsets, default=0))
    rows = session.execute(
        select(
            Deadline.id,
            Deadline.kind,
            Deadline.due_at,
            Deadline.reminded_minutes,
            Incident.id,
            Incident.grade,
            Incident.title,
            Incident.system_ids,
            Incident.service_ids,
            Incident.organization_id,
            Incident.drill,
        )
        .join(Incident, Incident.id == Deadline.incident_id)
        .where(Deadline.done.is_(False), Deadline.due_at <= horizon)
    ).all()
    timeline: list[dict[str, Any]] = []
    out: list[events.Event] = []
    overdue: list[int] = []
    reminded: dict[int, list[int]] = {}
    for did, kind, due_at, done_min, iid, grade, title, sys_ids, svc_ids, org, drill in rows:
        due = aware(due_at)
        label = LABELS[kind]
        if due <= now:
            overdue.append(did)
            text = f"{label}已超时（时限 {due.isoformat()}），升级处理"
            entry_kind, key, event_kind = "overdue", f"incident:{iid}:{kind}:overdue", "overdue"
        else:
            left = (due - now).total_seconds() / 60
            step = next((o for o in offsets if left <= o), None)
            if step is None or (done_min is not None and done_min <= step):
                continue
            reminded.setdefault(step, []).append(did)
            text = f"{label}将于 {step} 分钟内到期（{due.isoformat()}）"
            entry_kind, key, event_kind = "reminder", f"incident:{iid}:{kind}:reminder:{step}", "reminder"
        data = {"deadline": kind, "due_at": due.isoformat()}
        timeline.append({"incident_id": iid, "at": now, "kind": entry_kind, "actor": "scheduler",
                         "text": text, "data": data})  # fmt: skip
        out.append({"kind": event_kind, "incident_id": iid, "grade": grade, "system_ids": sys_ids or [],
                    "service_ids": svc_ids or [], "title": title, "idempotency_key": key,
                    "organization_id": org, "drill": drill})  # fmt: skip
    if overdue:
        session.execute(
            update(Deadline).where(Deadline.id.in_(overdue)).values(done=True, overdue_at=now),
            execution_options={"synchronize_session": False},
        )
    for step, ids in reminded.items():
        session.execute(
            update(Deadline).where(Deadline.id.in_(ids)).values(reminded_minutes=step),
            execution_options={"synchronize_session": False},
        )
    if timeline:
        insert_rows(session, TimelineEntry.__table__, timeline)
    events.emit(session, out)
    return {"checked": len(rows), "reminders": sum(map(len, reminded.values())), "overdue": len(overdue)}
