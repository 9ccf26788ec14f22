"""Posture REST route: ``GET /api/posture`` (the dashboard's posture cards)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ciimap.core.deps import DbSession, Reader
from ciimap.posture import service
from ciimap.posture.schemas import Posture

router = APIRouter(tags=["Posture"])


@router.get("/posture", response_model=Posture)
def get_posture(db: DbSession, principal: Reader) -> Any:
    """How exposed the operator is now: critical business services at risk, KEV findings on CII
    systems, single points of failure, overdue work, open warnings and incidents, with 30-day trends
    (warnings and incidents: the caller's organisation only when bound to one)."""
    return service.posture(db, viewer_org=principal.organization_id)
