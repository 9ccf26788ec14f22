"""Job kind ``alerts-maintain``: day partitions ahead and retention of raw alerts
(``alerts/partitions.py``). On PostgreSQL a procrastinate periodic task runs it every hour."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from ciimap.alerts import partitions
from ciimap.core import jobs, tasks

log = logging.getLogger(__name__)
MAINTAIN = "ciimap.alerts_maintain"


@jobs.job("alerts-maintain")
def maintain_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """params: optional {"retention_days": N}. Works in its own short transactions (batches)."""
    keep = params.get("retention_days")
    return partitions.maintain(keep=None if keep is None else int(keep))


def _maintain(timestamp: int) -> None:
    out = partitions.maintain()
    if out["created"] or out["dropped"] or out["deleted"]:
        log.info(
            "alerts maintenance at %s: created %s, dropped %s, deleted %s rows",
            timestamp,
            out["created"],
            out["dropped"],
            out["deleted"],
        )


def maintain_in_process() -> None:
    """SQLite: the ``ciimap serve`` clock's hourly call (a failure is logged, the clock keeps going)."""
    try:
        _maintain(0)
    except Exception:
        log.exception("alerts maintenance failed")


@tasks.installer
def _install_tasks(app: Any) -> None:
    """PostgreSQL: partitions ahead and retention every hour (idempotent; one at a time)."""
    task = app.task(name=MAINTAIN, queue=tasks.QUEUE, queueing_lock=MAINTAIN)(_maintain)
    app.periodic(cron="7 * * * *", periodic_id="alerts-maintain")(task)
