"""``ciimap worker``: a PostgreSQL queue worker, on any machine that reaches the database.

A worker runs every domain's jobs, so it imports ``ciimap.registry`` (every job kind and procrastinate
task); this module is the one command that needs them all, outside ``core``.
"""

from __future__ import annotations

import logging

import typer

from ciimap import registry
from ciimap.core import queue
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import err_console

app = typer.Typer()
GROUPS = [("", app)]


@app.command("worker")
def worker(
    concurrency: int = typer.Option(2, min=1, max=64, help="jobs run at once by this worker"),
    burst: bool = typer.Option(False, "--burst", help="exit when the queue is empty"),
    name: str | None = typer.Option(None, help="worker name shown in procrastinate's tables"),
) -> None:
    """Run a PostgreSQL queue worker (any machine that reaches the database may run one)."""
    if get_database().is_sqlite:
        raise Invalid("'ciimap worker' needs PostgreSQL; on SQLite jobs run inside the ciimap process itself")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queue.ensure_queue_schema()
    err_console.print(
        f"ciimap worker: concurrency {concurrency}, queue '{queue.QUEUE}'"
        + (" (burst)" if burst else "; Ctrl-C to stop")
        + f"; {len(registry.JOBS)} domains' jobs"
    )
    queue.run_worker(concurrency=concurrency, wait=not burst, name=name)
