"""``/api/crypto``: inventory and flags (readers), manual entries (writers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32
from ciimap.crypto import service
from ciimap.crypto.schemas import ManualCreate

router = APIRouter(prefix="/crypto", tags=["Crypto"])


@router.get(
    "/inventory",
    responses=NOT_FOUND,
    summary="Crypto inventory per system and layer (rebuilt when imports changed)",
)
def inventory(db: DbSession, principal: Reader, system_id: Int32 | None = None) -> Any:
    return service.inventory(db, system_id=system_id)


@router.get("/flags", summary="Weak crypto settings and systems without national (GM) algorithms")
def flags(db: DbSession, principal: Reader, expiring_days: int | None = Query(None, ge=0, le=3650)) -> Any:
    return service.flags(db, expiring_days=expiring_days)


@router.post(
    "/manual", status_code=201, responses=NOT_FOUND, summary="Record a certified product, key or certificate"
)
def add_manual(body: ManualCreate, db: DbSession, principal: Writer) -> Any:
    return service.add_manual(db, **body.model_dump())
