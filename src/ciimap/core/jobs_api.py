"""Job status for the API and UI (progress bars poll this)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.core import jobs
from ciimap.core.deps import DbSession, Reader
from ciimap.core.jobs_schemas import JobRead
from ciimap.core.schemas import Int32

router = APIRouter(prefix="/jobs", tags=["Jobs"])


@router.get("", response_model=list[JobRead])
def list_jobs(
    db: DbSession,
    principal: Reader,
    kind: str | None = None,
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Any:
    return jobs.list_jobs(db, kind=kind, status=status, limit=limit)


@router.get("/{job_id}", response_model=JobRead)
def get_job(job_id: Int32, db: DbSession, principal: Reader) -> Any:
    return jobs.get(db, job_id)
