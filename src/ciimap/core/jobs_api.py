"""Job status for the API and UI (progress bars poll this)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.core import jobs
from ciimap.core.deps import DbSession, Reader
from ciimap.core.schemas import Int32, ReadSchema, UtcDateTime

router = APIRouter(prefix="/jobs", tags=["Jobs"])


class JobRead(ReadSchema):
    id: int
    kind: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    progress: int
    total: int | None
    message: str | None
    created_by: str
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


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
