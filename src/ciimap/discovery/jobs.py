"""Job kind ``discover``: run nmap inside a scope and import the result (see service.run_discovery)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs, tasks
from ciimap.discovery import schedules, service

log = logging.getLogger(__name__)


@jobs.job("discover")
def discover(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return service.run_discovery(session, params=params, progress=progress, job_id=progress.job_id)


def _tick_schedules(timestamp: int) -> None:
    out = schedules.tick()
    if out["queued"]:
        log.info("scheduled discovery at %s queued jobs %s", timestamp, out["queued"])


@tasks.installer
def _install_tasks(app: Any) -> None:
    """PostgreSQL: scheduled rescans are a procrastinate periodic task, checked every minute."""
    tick = app.task(name=tasks.TICK, queue=tasks.QUEUE, queueing_lock=tasks.TICK)(_tick_schedules)
    app.periodic(cron="* * * * *", periodic_id="scan-schedules")(tick)
