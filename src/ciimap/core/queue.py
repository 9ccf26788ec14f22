"""The PostgreSQL job queue: procrastinate wiring.

On PostgreSQL, ``jobs.submit`` writes the ``job`` row (status, progress) and defers the procrastinate
task ``ciimap.run_job(job_id)``; any ``ciimap worker`` — on this machine or another one pointed at the
same database — picks it up and calls :func:`ciimap.core.jobs.execute`. procrastinate's own tables
(``procrastinate_*``) live next to ciimap's and are created by :func:`ensure_queue_schema`, which
``ciimap db upgrade`` / ``ciimap serve`` call. Scheduled rescans use a procrastinate periodic task.

procrastinate (~70 ms to import) is imported by the functions that talk to the queue, so every module may
import this one at its top (``core.jobs`` does) without slowing a command that never queues a job.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url

from ciimap.core.db import get_database, make_engine
from ciimap.core.tasks import INSTALLERS, LOST, QUEUE, REAP, RUN_JOB, TICK

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

__all__ = ["LOST", "QUEUE", "REAP", "RUN_JOB", "TICK", "defer", "get_app", "make_app", "run_worker"]
#: pg advisory lock key so two processes applying the schema at once do not collide.
_SCHEMA_LOCK = 0x63696D61  # "cima"

_apps: dict[str, procrastinate.App] = {}
_lock = threading.Lock()


def libpq_url(url: str) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) → libpq conninfo URL for psycopg/procrastinate."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def reap_stalled(
    app: procrastinate.App, *, on_lost: Callable[[list[int]], int], seconds_since_heartbeat: float = 60
) -> list[int]:
    """procrastinate jobs whose worker stopped sending heartbeats: finish them as failed and hand the
    ciimap job ids to ``on_lost`` (which fails the job rows: ``jobs.mark_lost``).

    Retrying is not safe for scans (half-done work, rate limits), so a person restarts them.
    """
    from procrastinate.jobs import Status

    manager = app.job_manager
    stalled = await manager.get_stalled_jobs(
        task_name=RUN_JOB, seconds_since_heartbeat=seconds_since_heartbeat
    )
    ids = []
    for pj in stalled:
        await manager.finish_job(pj, status=Status.FAILED, delete_job=False)
        ids.append(int(str(pj.task_kwargs["job_id"])))
    if ids:
        log.warning("jobs %s lost their worker; marked failed", ids)
        await asyncio.to_thread(on_lost, ids)
    return ids


def make_app(url: str | None = None, *, max_size: int = 4) -> procrastinate.App:
    """A procrastinate App on the ciimap database with the tasks of every registered installer."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(url or get_database().url), min_size=1, max_size=max_size
    )
    app = procrastinate.App(connector=connector)
    for install in INSTALLERS:
        install(app)
    return app


def get_app() -> procrastinate.App:
    """This process's App for deferring (opened synchronously once, one per database URL)."""
    url = get_database().url
    with _lock:
        app = _apps.get(url)
        if app is None:
            app = make_app(url).open()
            _apps[url] = app
        return app


def close() -> None:
    with _lock:
        for app in _apps.values():
            app.close()
        _apps.clear()


def defer(job_id: int) -> int:
    """Queue ``ciimap.run_job(job_id)``; returns the procrastinate job id."""
    return get_app().configure_task(name=RUN_JOB, queue=QUEUE).defer(job_id=job_id)


def ensure_queue_schema(url: str | None = None) -> bool:
    """Create procrastinate's schema on PostgreSQL if missing; True when it was applied now.

    procrastinate's ``schema_manager.apply_schema()`` runs plain CREATE statements and fails when
    the schema exists, so we check for its jobs table first, under an advisory lock (several
    ``ciimap serve`` processes may start together). A no-op on SQLite.
    """
    url = url or get_database().url
    if not url.startswith("postgresql"):
        return False
    from procrastinate.schema import SchemaManager

    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            if conn.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None:
                return False
            sql = SchemaManager.get_schema()
            conn.connection.driver_connection.execute(sql)  # type: ignore[union-attr]
            log.info("applied procrastinate's schema")
            return True
    finally:
        engine.dispose()


def run_worker(*, concurrency: int = 2, wait: bool = True, name: str | None = None, **kw: Any) -> None:
    """Run a worker in the foreground until stopped (or, with ``wait=False``, until the queue is empty)."""
    app = make_app(max_size=concurrency + 2)
    app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=wait, name=name, **kw)
