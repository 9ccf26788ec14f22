"""The clock for scheduled rescans in SQLite (in-process) mode: APScheduler's BackgroundScheduler.

On PostgreSQL the clock is a procrastinate periodic task (``core/queue.py``), run by ``ciimap worker``;
this module is then not started. Either way the work is ``schedules.tick()``.
"""

from __future__ import annotations

import logging
from typing import Any

from ciimap.discovery import schedules

log = logging.getLogger(__name__)
_scheduler: Any = None


def _tick() -> None:
    try:
        out = schedules.tick()
        if out["queued"]:
            log.info("scheduled discovery queued jobs %s", out["queued"])
    except Exception:  # a failing tick must not kill the scheduler thread
        log.exception("scheduled discovery tick failed")


def start_in_process(interval_seconds: int = 60) -> Any:
    """Start the background clock (idempotent). Returns the APScheduler instance."""
    global _scheduler
    if _scheduler is not None:
        return _scheduler
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = BackgroundScheduler(timezone="UTC", daemon=True)
    sched.add_job(
        _tick,
        "interval",
        seconds=interval_seconds,
        id="ciimap-scan-schedules",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    sched.start()
    _scheduler = sched
    return sched


def stop_in_process() -> None:
    global _scheduler
    if _scheduler is not None:
        _scheduler.shutdown(wait=False)
        _scheduler = None
