"""The deadline sweep (reminders before each reporting deadline, escalation when one passes).

The clock is not ours: a procrastinate periodic task every minute on PostgreSQL (``ciimap worker``),
APScheduler in the ``ciimap serve`` process on SQLite (``incidents/scheduling.py``). Both run
:func:`sweep_now`, which is idempotent (stored deadlines, idempotency keys), so an overlap is harmless.
Job kind ``incident-sweep`` runs it on demand (``ciimap incidents sweep``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs, tasks
from ciimap.core.audit import Actor, acting_as
from ciimap.core.db import get_database
from ciimap.incidents import clock, relay

log = logging.getLogger(__name__)
SWEEP_TASK = "ciimap.incidents.sweep"


@jobs.job("incident-sweep")
def sweep_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return clock.sweep(session)


def sweep_now() -> dict[str, int]:
    """One sweep in its own unit of work, as the scheduler; then the events it left unrelayed go to the
    notification outbox, a chunk per transaction (``relayed`` in the result)."""
    with acting_as(Actor("scheduler", via="job")):
        with get_database().unit_of_work() as s:
            out = clock.sweep(s)
        out["relayed"] = 0
        while True:
            with get_database().unit_of_work() as s:
                n = relay.relay(s)
            out["relayed"] += n
            if n < relay.CHUNK:
                return out


def _periodic_sweep(timestamp: int) -> None:
    out = sweep_now()
    if out["reminders"] or out["overdue"]:
        log.info("incident deadline sweep at %s: %s", timestamp, out)


@tasks.installer
def _install_tasks(app: Any) -> None:
    """PostgreSQL: the sweep is a procrastinate periodic task, every minute."""
    task = app.task(name=SWEEP_TASK, queue=tasks.QUEUE, queueing_lock=SWEEP_TASK)(_periodic_sweep)
    app.periodic(cron="* * * * *", periodic_id="incident-deadline-sweep")(task)
