"""Names and installers of the PostgreSQL queue's procrastinate tasks.

Kept apart from ``core/queue.py`` so that registering a task costs no procrastinate import (every
command loads the job modules; only PostgreSQL processes need procrastinate). A domain adds its tasks
with ``@tasks.installer`` in its ``jobs`` module; ``queue.make_app`` runs every installer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

QUEUE = "ciimap"
RUN_JOB = "ciimap.run_job"
TICK = "ciimap.tick_schedules"
REAP = "ciimap.reap_stalled"
LOST = "worker lost while running this job (stopped hard or crashed); start it again"

#: ``fn(app)`` for each registered installer (``app`` is a ``procrastinate.App``).
INSTALLERS: list[Callable[[Any], None]] = []


def installer(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register ``fn(app)``, called on every procrastinate App this process makes."""
    if fn not in INSTALLERS:
        INSTALLERS.append(fn)
    return fn
