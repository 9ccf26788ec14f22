"""Alert jobs: ``alerts-maintain`` (day partitions ahead and retention of raw alerts,
``alerts/partitions.py``; on PostgreSQL a procrastinate periodic task runs it every hour), and the
split import of a large upload on PostgreSQL: ``alerts-import`` cuts it into parts, each an
``alerts-import-part`` job for any worker; the last part groups and evaluates (``alerts/parallel.py``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ciimap.alerts import parallel, partitions
from ciimap.core import jobs, tasks
from ciimap.core.audit import current_actor
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.ingest.service import import_files

log = logging.getLogger(__name__)
MAINTAIN = "ciimap.alerts_maintain"
ALERTS_IMPORT = "alerts-import"


@jobs.job("alerts-maintain")
def maintain_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """params: optional {"retention_days": N}. Works in its own short transactions (batches)."""
    keep = params.get("retention_days")
    return partitions.maintain(keep=None if keep is None else int(keep))


@jobs.job(ALERTS_IMPORT)
def import_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """params: {"kind", "paths", "options"}. PostgreSQL: files over ``$CIIMAP_ALERT_SPLIT_MB`` are
    split and their parts queued for the workers; otherwise (and always on SQLite) one run here."""
    kind, paths = str(params.get("kind")), params.get("paths") or []
    if not isinstance(paths, list) or not paths:
        raise Invalid("alerts-import job needs a non-empty 'paths' list")
    files = [Path(p) for p in paths]
    options = dict(params.get("options") or {})
    split = not get_database().is_sqlite and progress.job_id is not None
    if split and any(parallel.parts_for(f.stat().st_size) > 1 for f in files):
        return parallel.queue_parts(
            session,
            batch=progress.job_id or 0,
            kind=kind,
            paths=files,
            options=options,
            actor=current_actor().name,
        )
    return dict(import_files(session, kind=kind, paths=files, progress=progress, options=options))


@jobs.job("alerts-import-part")
def import_part_job(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    """params: {"kind", "path", "options" (with ``first_line`` and ``part_of``), "parts"}."""
    kind, options = str(params.get("kind")), dict(params.get("options") or {})
    batch, parts = options.get("part_of"), params.get("parts")
    if not isinstance(batch, int) or not isinstance(parts, int):
        raise Invalid("alerts-import-part job needs options.part_of and parts")
    result = dict(
        import_files(
            session, kind=kind, paths=[Path(str(params.get("path")))], progress=progress, options=options
        )
    )
    result["fold"] = parallel.after_part(session, kind=kind, batch=batch, parts=parts)
    return result


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
