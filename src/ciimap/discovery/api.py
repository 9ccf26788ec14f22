"""Discovery REST routes: scan scopes (admin), discovery requests (writers), schedules.

Scopes are the operator's permission to scan, so only admins change them; analysts may start
discoveries and schedules, which the service keeps inside the scopes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ciimap.core.deps import Admin, DbSession, Reader, Writer
from ciimap.core.jobs_schemas import JobRead
from ciimap.core.openapi import NOT_FOUND
from ciimap.discovery import schedules, service
from ciimap.discovery.schemas import (
    DiscoverRequest,
    ScheduleCreate,
    ScheduleRead,
    ScopeCreate,
    ScopeRead,
    ScopeUpdate,
)

router = APIRouter(tags=["Discovery"])


@router.get("/scan-scopes", response_model=list[ScopeRead])
def list_scopes(db: DbSession, principal: Reader) -> Any:
    return service.list_scopes(db)


@router.get("/scan-scopes/{name}", response_model=ScopeRead)
def get_scope(name: str, db: DbSession, principal: Reader) -> Any:
    return service.get_scope(db, name)


@router.post("/scan-scopes", response_model=ScopeRead, status_code=201)
def create_scope(data: ScopeCreate, db: DbSession, principal: Admin) -> Any:
    return service.create_scope(db, **data.model_dump(), actor=principal.username)


@router.patch("/scan-scopes/{name}", response_model=ScopeRead)
def update_scope(name: str, data: ScopeUpdate, db: DbSession, principal: Admin) -> Any:
    return service.update_scope(db, name, changes=data.model_dump(exclude_unset=True))


@router.delete("/scan-scopes/{name}", status_code=204)
def delete_scope(name: str, db: DbSession, principal: Admin) -> Response:
    service.delete_scope(db, name)
    return Response(status_code=204)


@router.post("/discover", response_model=JobRead, status_code=202)
def discover(data: DiscoverRequest, db: DbSession, principal: Writer) -> Any:
    """Queue a discovery job (refused with 403 when a target is outside every enabled scope)."""
    return service.request_discovery(db, **data.model_dump(), actor=principal.username)


@router.get("/scan-schedules", response_model=list[ScheduleRead])
def list_schedules(db: DbSession, principal: Reader) -> Any:
    return schedules.list_schedules(db)


@router.post("/scan-schedules", response_model=ScheduleRead, status_code=201, responses=NOT_FOUND)
def create_schedule(data: ScheduleCreate, db: DbSession, principal: Writer) -> Any:
    return schedules.create_schedule(db, **data.model_dump(), actor=principal.username)


@router.post("/scan-schedules/{name}/enable", response_model=ScheduleRead)
def enable_schedule(name: str, db: DbSession, principal: Writer) -> Any:
    return schedules.set_enabled(db, name, True)


@router.post("/scan-schedules/{name}/disable", response_model=ScheduleRead)
def disable_schedule(name: str, db: DbSession, principal: Writer) -> Any:
    return schedules.set_enabled(db, name, False)


@router.delete("/scan-schedules/{name}", status_code=204)
def delete_schedule(name: str, db: DbSession, principal: Writer) -> Response:
    schedules.delete_schedule(db, name)
    return Response(status_code=204)
