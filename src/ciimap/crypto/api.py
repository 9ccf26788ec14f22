"""``/api/crypto``: inventory and flags (readers), manual entries (writers)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32
from ciimap.crypto import assessment, profiles, reports, service
from ciimap.crypto.schemas import AssessmentIn, ManualCreate, UnitIn

router = APIRouter(prefix="/crypto", tags=["Crypto"])


@router.get(
    "/inventory",
    responses=NOT_FOUND,
    summary="Crypto inventory per system and layer (rebuilt when imports changed)",
)
def inventory(db: DbSession, principal: Reader, system_id: Int32 | None = None, detail: bool = True) -> Any:
    """``detail=false``: every system's layers as counts per kind (set-based), not every item."""
    return service.inventory(db, system_id=system_id, detail=detail)


@router.get("/flags", summary="Weak crypto settings and systems without national (GM) algorithms")
def flags(db: DbSession, principal: Reader, expiring_days: int | None = Query(None, ge=0, le=3650)) -> Any:
    return service.flags(db, expiring_days=expiring_days)


@router.post(
    "/manual", status_code=201, responses=NOT_FOUND, summary="Record a certified product, key or certificate"
)
def add_manual(body: ManualCreate, db: DbSession, principal: Writer) -> Any:
    return service.add_manual(db, **body.model_dump())


@router.get("/assessments", responses=NOT_FOUND, summary="密评 assessments with their totals")
def list_assessments(db: DbSession, principal: Reader, system_id: Int32 | None = None) -> Any:
    return assessment.list_assessments(db, system_id=system_id)


@router.post("/assessments", status_code=201, responses=NOT_FOUND, summary="Start a 密评 assessment")
def create_assessment(body: AssessmentIn, db: DbSession, principal: Writer) -> Any:
    return assessment.create(db, data=body)


@router.get("/assessments/{assessment_id}", responses=NOT_FOUND, summary="A 密评 with units and score")
def get_assessment(assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    return assessment.describe(db, assessment_id=assessment_id)


@router.put(
    "/assessments/{assessment_id}/units",
    responses=NOT_FOUND,
    summary="Record one unit: test objects (D/A/K, Ra, Rk) or a management result",
)
def set_unit(assessment_id: Int32, body: UnitIn, db: DbSession, principal: Writer) -> Any:
    return assessment.set_unit(db, assessment_id=assessment_id, data=body)


@router.delete(
    "/assessments/{assessment_id}/units/{unit_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Drop a unit",
)
def delete_unit(assessment_id: Int32, unit_id: Int32, db: DbSession, principal: Writer) -> None:
    assessment.delete_unit(db, assessment_id=assessment_id, unit_id=unit_id)


@router.get("/profiles", summary="密评 scoring profiles (versioned data; replaceable)")
def list_profiles(principal: Reader) -> Any:
    return [p.model_dump() for p in profiles.profiles().values()]


@router.get(
    "/assessments/{assessment_id}/report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "DOCX, PDF or XLSX"}, **NOT_FOUND},
    summary="The 密评 report (Chinese first)",
)
def report(
    assessment_id: Int32,
    db: DbSession,
    principal: Reader,
    format: Literal["docx", "pdf", "xlsx"] = "docx",  # noqa: A002
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    body, name, media = reports.render(db, assessment_id=assessment_id, fmt=format, lang=lang)
    return Response(
        body, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    )
