"""Benchmark: the reporting-deadline sweep over N open incidents (default 10,000; target < 1 s).

Worst case: every incident is graded 重大 with both deadlines (first report, escalation) open and inside
the reminder horizon when the sweep runs, so each sweep records N reminders or overdue escalations on the
timeline and N notification events. The incidents are written in bulk (``core/bulk.py``). Measured:
the first sweep (everything due) and a second one at the same instant (idempotent: nothing new).

SQLite temp database by default; ``--pg-url`` for PostgreSQL (a fresh database created and dropped).

    .venv/bin/python bench/incidents_sweep.py --incidents 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ciimap.core import bulk
from ciimap.core.db import Database, set_database
from ciimap.core.migrate import upgrade
from ciimap.incidents import clock
from ciimap.incidents.models import Deadline, Incident, NotificationEvent

TARGET_SECONDS = 1.0
T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


def seed(
    db: Database, n: int, *, now: dt.datetime, open_deadlines: bool = True, spread_minutes: int = 90
) -> None:
    """``n`` incidents (重大, state 处置) found over ``spread_minutes`` before ``now`` (1-hour CII clock), with
    their two deadlines when ``open_deadlines``; else of every grade and state, without deadlines."""
    shift = 60 if spread_minutes < 0 else 0  # steady case: first-report deadlines from now over the next day

    def found(i: int) -> dt.datetime:
        return now - dt.timedelta(minutes=shift + i * spread_minutes / n)

    grades = ("特别重大", "重大", "较大", "一般")
    states = ("发现", "研判", "处置", "恢复", "总结", "关闭")
    with db.unit_of_work() as s:
        ids = bulk.allocate_ids(s, Incident.__table__, n)
        inc_rows: list[dict[str, Any]] = []
        dl_rows: list[dict[str, Any]] = []
        for i in range(n):
            iid = ids[i]
            inc_rows.append({
                "id": iid, "organization_id": None, "title": f"事件 {i}", "state": states[i % 6] if not open_deadlines else "处置",
                "grade": grades[i % 4] if not open_deadlines else "重大", "facts": {}, "reached": [],
                "reporter": "cii", "drill": False, "origin": "manual", "discovered_at": found(i),
                "asset_ids": [], "system_ids": [i % 50 + 1], "service_ids": [], "created_by": "bench",
                "created_at": now, "updated_at": now,
            })  # fmt: skip
            if open_deadlines:
                first = found(i) + dt.timedelta(minutes=60)
                dl_rows.append(
                    {
                        "incident_id": iid,
                        "kind": "first_report",
                        "due_at": first,
                        "done": False,
                        "next_at": clock.next_at(first, None),
                    }
                )
                esc = first + dt.timedelta(minutes=30)
                dl_rows.append({"incident_id": iid, "kind": "escalation", "due_at": esc, "done": False,
                                "next_at": clock.next_at(esc, None)})  # fmt: skip
        bulk.insert_rows(s, Incident.__table__, inc_rows)
        bulk.insert_rows(s, Deadline.__table__, dl_rows)


def database(pg_url: str | None, tmp: str, tag: str) -> tuple[Database, str | None]:
    dbname = None
    if pg_url:
        dbname = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
        with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        url = make_url(pg_url).set(database=dbname).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    set_database(db)
    return db, dbname


def drop(db: Database, pg_url: str | None, dbname: str | None) -> None:
    db.engine.dispose()
    if pg_url and dbname:
        with create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}"'))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--pg-url", help="a PostgreSQL server URL (a fresh database is created on it)")
    ap.add_argument(
        "--spread-minutes", type=int, default=90,
        help="incidents found over this many minutes before the sweep (90: every deadline needs action "
        "now, the worst case; -1440: deadlines spread over the next day, a steady minute's sweep)",
    )  # fmt: skip
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db, dbname = database(args.pg_url, tmp.name, "sweep")
    try:
        seed(db, args.incidents, now=T0, spread_minutes=args.spread_minutes)
        with db.unit_of_work() as s:
            t = time.perf_counter()
            first = clock.sweep(s, now=T0)
            first_s = time.perf_counter() - t
        with db.unit_of_work() as s:
            t = time.perf_counter()
            again = clock.sweep(s, now=T0)
            again_s = time.perf_counter() - t
        with db.read_session() as s:
            events = s.scalar(select(func.count()).select_from(NotificationEvent))
        print(json.dumps({
            "database": "postgresql" if args.pg_url else "sqlite", "open_incidents": args.incidents, "spread_minutes": args.spread_minutes,
            "sweep_seconds": round(first_s, 3), "target_seconds": TARGET_SECONDS,
            "ratio_to_target": round(first_s / TARGET_SECONDS, 3), "first_sweep": first,
            "second_sweep_seconds": round(again_s, 3), "second_sweep": again, "events": events,
        }, ensure_ascii=False, indent=2))  # fmt: skip
    finally:
        drop(db, args.pg_url, dbname)


if __name__ == "__main__":
    main()
