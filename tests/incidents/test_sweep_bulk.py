"""The deadline sweep's set-based path (issue 15, performance: 10,000 due deadlines < 1 s): a constant
number of statements whatever the number of due deadlines, the events' JSON copied inside the database
(never read back), and the staging table safe across a rolled-back sweep and two sweeps in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ciimap.core import bulk
from ciimap.core.db import IN_BATCH, Database
from ciimap.incidents import clock
from ciimap.incidents.models import Deadline, Incident, NotificationEvent, TimelineEntry

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


def _seed(database: Database, n: int, system: int) -> list[int]:
    """``n`` 重大 incidents found an hour before T0 with a passed first-report deadline and an escalation
    due in 20 minutes (a reminder is due)."""
    with database.unit_of_work() as s:
        ids = bulk.allocate_ids(s, Incident.__table__, n)
        bulk.insert_rows(s, Incident.__table__, [
            {"id": i, "organization_id": None, "title": f"事件 {i}", "state": "处置", "grade": "重大", "facts": {},
             "reached": [], "reporter": "cii", "drill": i % 2 == 0, "origin": "manual",
             "discovered_at": T0 - dt.timedelta(minutes=70), "asset_ids": [], "system_ids": [system, i],
             "service_ids": [7], "created_by": "t", "created_at": T0, "updated_at": T0}
            for i in ids
        ])  # fmt: skip
        due1, due2 = T0 - dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=20)
        bulk.insert_rows(s, Deadline.__table__, [
            {"incident_id": i, "kind": k, "due_at": due, "done": False, "next_at": clock.next_at(due, None)}
            for i in ids for k, due in (("first_report", due1), ("escalation", due2))
        ])  # fmt: skip
    return ids


def _statements(database: Database, n: int, system: int) -> tuple[int, list[str]]:
    _seed(database, n, system)
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.unit_of_work() as s:
            out = clock.sweep(s, now=T0)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert out == {"checked": 2 * n, "reminders": n, "overdue": n}
    return len(seen), seen


def test_sweep_statements_do_not_grow_with_due_deadlines(database: Database, world: dict) -> None:
    small, _ = _statements(database, 15, world["cii"])  # 30 events: more than emit relays inline
    large, stmts = _statements(database, IN_BATCH + 50, world["cii"])
    assert large == small  # set-based: no chunk of incidents read back, no statement per chunk
    reads = [q for q in stmts if q.lstrip().upper().startswith("SELECT") and "FROM incident " in q]
    assert reads == []  # the incidents' titles and JSON id lists are copied by INSERT … SELECT


def test_bulk_events_copy_the_incident_fields(database: Database, world: dict) -> None:
    ids = _seed(database, 25, world["cii"])  # more than emit relays inline
    with database.unit_of_work() as s:
        clock.sweep(s, now=T0)
    with database.read_session() as s:
        ev = {e.idempotency_key: e for e in s.scalars(select(NotificationEvent))}
        assert len(ev) == 50
        i = ids[0]
        over, rem = ev[f"incident:{i}:first_report:overdue"], ev[f"incident:{i}:escalation:reminder:30"]
        for e in (over, rem):
            assert (e.incident_id, e.grade, e.drill, e.title, e.link) == (i, "重大", i % 2 == 0, f"事件 {i}",
                                                                          f"/incidents/{i}")  # fmt: skip
            assert (e.system_ids, e.service_ids, e.consumed_at) == ([world["cii"], i], [7], None)
        assert (over.kind, rem.kind) == ("overdue", "reminder")
        tl = s.execute(
            select(TimelineEntry.kind, TimelineEntry.actor, TimelineEntry.text, TimelineEntry.data)
            .where(TimelineEntry.incident_id == i)
            .order_by(TimelineEntry.id)
        ).all()
        due1 = (T0 - dt.timedelta(minutes=10)).isoformat()
        due2 = (T0 + dt.timedelta(minutes=20)).isoformat()
        assert [tuple(r) for r in tl] == [
            ("overdue", "scheduler", f"首报已超时（时限 {due1}），升级处理", {"deadline": "first_report", "due_at": due1}),
            ("reminder", "scheduler", f"升级上报将于 30 分钟内到期（{due2}）", {"deadline": "escalation", "due_at": due2}),
        ]  # fmt: skip
        d = {x.kind: x for x in s.scalars(select(Deadline).where(Deadline.incident_id == i))}
        assert d["first_report"].done and d["first_report"].overdue_at is not None
        assert (d["escalation"].done, d["escalation"].reminded_minutes) == (False, 30)
        assert clock.aware(d["escalation"].next_at) == T0 + dt.timedelta(minutes=10)  # the 10-minute reminder


def test_sweep_after_a_rolled_back_sweep_and_twice_in_one_transaction(
    database: Database, world: dict
) -> None:
    _seed(database, 5, world["cii"])
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        clock.sweep(s, now=T0)
        raise RuntimeError("after the sweep, before the commit")
    with database.unit_of_work() as s:
        assert clock.sweep(s, now=T0) == {"checked": 10, "reminders": 5, "overdue": 5}
        assert clock.sweep(s, now=T0 + dt.timedelta(minutes=11)) == {
            "checked": 5,
            "reminders": 5,
            "overdue": 0,
        }
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(NotificationEvent)) == 15
        assert s.scalar(select(func.count()).select_from(TimelineEntry)) == 15
