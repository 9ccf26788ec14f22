"""Scheduled rescans: ScanSchedule rows and the 'queue what is due' step.

No home-made scheduler: the clock comes from procrastinate periodic tasks on PostgreSQL
(``core/queue.py``) or from APScheduler in the ``ciimap serve`` process on SQLite
(``discovery/scheduling.py``). Both call :func:`run_due`, which is idempotent per tick.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core import jobs
from ciimap.core.audit import Actor, acting_as
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import CiimapError, Conflict, Invalid, NotFound
from ciimap.discovery import service
from ciimap.discovery.models import ScanSchedule

log = logging.getLogger(__name__)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def next_run(*, interval_minutes: int | None, cron: str | None, after: dt.datetime) -> dt.datetime:
    """When a schedule runs next after ``after`` (UTC)."""
    after = _aware(after)
    if cron:
        from croniter import croniter

        return _aware(croniter(cron, after).get_next(dt.datetime))
    assert interval_minutes
    return after + dt.timedelta(minutes=interval_minutes)


def _validate_timing(interval_minutes: int | None, cron: str | None) -> None:
    if (interval_minutes is None) == (cron is None):
        raise Invalid("give exactly one of an interval (minutes) or a cron line")
    if interval_minutes is not None and interval_minutes < 1:
        raise Invalid("interval must be at least 1 minute")
    if cron is not None:
        from croniter import croniter

        if not croniter.is_valid(cron):
            raise Invalid(f"cron line '{cron}' is not valid (e.g. '0 2 * * *' = every day at 02:00 UTC)")


def create_schedule(
    session: Session,
    *,
    name: str,
    scope: str,
    targets: list[str] | None = None,
    profile: str = "services",
    ports: str | None = None,
    rate: int | None = None,
    interval_minutes: int | None = None,
    cron: str | None = None,
    enabled: bool = True,
    actor: str = "system",
    now: dt.datetime | None = None,
) -> ScanSchedule:
    """Create a schedule; the scope check runs now so a bad schedule is refused up front."""
    if session.scalar(select(ScanSchedule.id).where(ScanSchedule.name == name)) is not None:
        raise Conflict(f"scan schedule '{name}' already exists")
    _validate_timing(interval_minutes, cron)
    sc = service.get_scope(session, scope)
    service.plan(
        session, targets=list(targets or sc.cidrs), scope=scope, profile=profile, ports=ports, rate=rate
    )
    sched = ScanSchedule(
        name=name,
        scope_id=sc.id,
        targets=list(targets or []),
        profile=profile,
        ports=ports,
        rate=rate,
        interval_minutes=interval_minutes,
        cron=cron,
        enabled=enabled,
        created_by=actor,
        next_run_at=next_run(interval_minutes=interval_minutes, cron=cron, after=now or utcnow()),
    )
    session.add(sched)
    session.flush()
    return sched


def get_schedule(session: Session, name: str) -> ScanSchedule:
    sched = session.scalar(select(ScanSchedule).where(ScanSchedule.name == name))
    if sched is None:
        raise NotFound(f"scan schedule '{name}' does not exist")
    return sched


def list_schedules(session: Session) -> list[ScanSchedule]:
    return list(session.scalars(select(ScanSchedule).order_by(ScanSchedule.name)))


def set_enabled(
    session: Session, name: str, enabled: bool, *, now: dt.datetime | None = None
) -> ScanSchedule:
    sched = get_schedule(session, name)
    sched.enabled = enabled
    if enabled:
        sched.next_run_at = next_run(
            interval_minutes=sched.interval_minutes, cron=sched.cron, after=now or utcnow()
        )
    session.flush()
    return sched


def delete_schedule(session: Session, name: str) -> None:
    session.delete(get_schedule(session, name))
    session.flush()


def _busy(session: Session, job_id: int | None) -> bool:
    if job_id is None:
        return False
    j = session.get(jobs.Job, job_id)
    return j is not None and j.status in jobs.ACTIVE


def _queue_one(session: Session, sched: ScanSchedule, now: dt.datetime) -> int | None:
    scope = session.get(service.ScanScope, sched.scope_id)
    if scope is None or _busy(session, sched.last_job_id):
        return None
    try:
        job = service.request_discovery(
            session,
            targets=list(sched.targets or scope.cidrs),
            scope=scope.name,
            profile=sched.profile,
            ports=sched.ports,
            rate=sched.rate,
            actor=f"schedule:{sched.name}",
        )
    except CiimapError as e:  # scope disabled or narrowed since: skip this run, keep the schedule
        log.warning("schedule %s not run: %s", sched.name, e.message)
        return None
    sched.last_job_id = job.id
    return job.id


def run_due(session: Session, *, now: dt.datetime | None = None) -> list[int]:
    """Queue a discover job for every enabled schedule whose time has come; return the job ids.

    Rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so two ticks never queue one run twice.
    A schedule whose previous job is still queued or running is not queued again (no pile-up).
    """
    now = _aware(now or utcnow())
    stmt = (
        select(ScanSchedule)
        .where(ScanSchedule.enabled.is_(True), ScanSchedule.next_run_at <= now)
        .order_by(ScanSchedule.next_run_at)
        .with_for_update(skip_locked=True)
    )
    queued: list[int] = []
    for sched in session.scalars(stmt).all():
        job_id = _queue_one(session, sched, now)
        if job_id is not None:
            queued.append(job_id)
        sched.last_run_at = now
        sched.next_run_at = next_run(interval_minutes=sched.interval_minutes, cron=sched.cron, after=now)
    session.flush()
    return queued


def tick() -> dict[str, Any]:
    """One scheduler tick in its own unit of work (called by procrastinate or APScheduler)."""
    with acting_as(Actor("scheduler", via="job")), get_database().unit_of_work() as s:
        return {"queued": run_due(s)}
