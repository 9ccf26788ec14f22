"""The deadline sweep's clock in SQLite (in-process) mode: APScheduler's BackgroundScheduler, started by
``ciimap serve`` next to the scheduled-rescan clock (``discovery/scheduling.py``). On PostgreSQL the
clock is a procrastinate periodic task (``incidents/jobs.py``) and this module is not started."""

from __future__ import annotations

import logging
from typing import Any

from ciimap.incidents.jobs import sweep_now

log = logging.getLogger(__name__)
_scheduler: Any = None


def _tick() -> None:
    try:
        sweep_now()
    except Exception:  # a failing sweep must not kill the scheduler thread
        log.exception("incident deadline sweep failed")


def start_in_process(interval_seconds: int = 60) -> Any:
    """Start the background clock (idempotent). Returns the APScheduler instance."""
    global _scheduler
    if _scheduler is not None:
        return _scheduler
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = BackgroundScheduler(timezone="UTC", daemon=True)
    sched.add_job(
        _tick, "interval", seconds=interval_seconds, id="ciimap-incident-sweep", max_instances=1,
        coalesce=True, replace_existing=True,
    )  # fmt: skip
    sched.start()
    _scheduler = sched
    return sched


def stop_in_process() -> None:
    global _scheduler
    if _scheduler is not None:
        _scheduler.shutdown(wait=False)
        _scheduler = None
