"""Job kind ``discover``: run nmap inside a scope and import the result (see service.run_discovery)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs
from ciimap.discovery import service


@jobs.job("discover")
def discover(session: Session, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return service.run_discovery(session, params=params, progress=progress, job_id=progress.job_id)
