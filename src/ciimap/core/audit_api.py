"""Reading and verifying the audit trail (admin and auditor)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.core import audit
from ciimap.core.deps import Auditor, DbSession
from ciimap.core.schemas import Offset, Page, ReadSchema, UtcDateTime

router = APIRouter(prefix="/audit", tags=["Audit"])


class AuditRead(ReadSchema):
    id: int
    ts: UtcDateTime
    actor: str
    via: str
    request_id: str | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
    hash: str


class VerifyRead(ReadSchema):
    ok: bool
    checked: int
    problems: list[str]


@router.get("", response_model=Page[AuditRead])
def list_audit(
    db: DbSession,
    principal: Auditor,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> Any:
    return audit.query_log(
        db, entity_type=entity_type, entity_id=entity_id, actor=actor, limit=limit, offset=offset
    )


@router.get("/verify", response_model=VerifyRead)
def verify(db: DbSession, principal: Auditor) -> Any:
    return audit.verify(db)
