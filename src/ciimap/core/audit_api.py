"""Reading and verifying the audit trail (admin and auditor)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.core import audit
from ciimap.core.audit_schemas import AuditRead, VerifyRead
from ciimap.core.deps import Auditor, DbSession
from ciimap.core.schemas import Offset, Page

router = APIRouter(prefix="/audit", tags=["Audit"])


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
