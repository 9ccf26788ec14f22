"""Background delivery of the outbox: a procrastinate periodic task on PostgreSQL, a clock in ``ciimap
serve`` on SQLite (``start_in_process``). Either way the work is ``outbox.run``/``outbox.deliver_due``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs, tasks
from ciimap.notify import outbox

log = logging.getLogger(__name__)
TASK = "ciimap.notify_deliver"
#: The PostgreSQL task runs a minute at a time (started every minute, one at a time by its queueing
#: lock), polling the outbox every 2 s, so a message waits a few seconds, not a minute.
RUN_SECONDS = 55


def _deliver(timestamp: int) -> None:
    out = outbox.run(seconds=RUN_SECONDS)
    if out["claimed"]:
        log.info("notifications at %s: %s", timestamp, out)


@jobs.job("notify.deliver")
def deliver_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """Deliver what is due now (``ciimap jobs``-visible); the clocks below call :func:`drain` directly."""
    return drain()


@tasks.installer
def _install_tasks(app: Any) -> None:
    task = app.task(name=TASK, queue=tasks.QUEUE, queueing_lock=TASK)(_deliver)
    app.periodic(cron="* * * * *", periodic_id="notify-deliver")(task)


_scheduler: Any = None


def drain() -> dict[str, int]:
    """Deliver what is due now, pass after pass, until a pass claims nothing."""
    totals = {"claimed": 0, "sent": 0, "failed": 0}
    try:
        while (counts := outbox.deliver_due())["claimed"]:
            for k in totals:
                totals[k] += counts[k]
    except Exception:  # a failing pass (database busy) must not end the clock; the next tick retries
        log.exception("notification delivery pass failed")
    return totals


def start_in_process(interval_seconds: float = 2) -> Any:
    """SQLite: APScheduler runs :func:`drain` every few seconds in the supervising ``ciimap serve``
    process (one at a time; idempotent). Returns the scheduler."""
    global _scheduler
    if _scheduler is not None:
        return _scheduler
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = BackgroundScheduler(timezone="UTC", daemon=True)
    sched.add_job(
        drain,
        "interval",
        seconds=interval_seconds,
        id="ciimap-notify-deliver",
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
