"""REST routes of grading (定级) and filing (备案) under /api/compliance (thin: parse, call a service, return)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ciimap.compliance import service
from ciimap.compliance.models import GradingState, HarmDegree, HarmObject
from ciimap.compliance.schemas import (
    AdvanceIn,
    GradeResult,
    GradingIn,
    GradingRead,
    GradingUpdate,
    Judgement,
    MatrixRead,
)
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32

router = APIRouter(prefix="/compliance", tags=["Compliance"])


@router.get(
    "/grading/matrix", response_model=MatrixRead, summary="The grading matrix in force (GB/T 22240-2020)"
)
def matrix(principal: Reader) -> Any:
    return service.matrix_info()


@router.get(
    "/grade", response_model=GradeResult, summary="S, A and final level of two judgements (nothing stored)"
)
def grade(
    principal: Reader,
    s_object: HarmObject = Query(..., description="object harmed when business information is damaged (S)"),
    s_degree: HarmDegree = Query(...),
    a_object: HarmObject = Query(..., description="object harmed when the service is disrupted (A)"),
    a_degree: HarmDegree = Query(...),
) -> Any:
    return service.grade(
        Judgement(s_object=s_object, s_degree=s_degree, a_object=a_object, a_degree=a_degree)
    )


@router.get(
    "/gradings", response_model=list[GradingRead], responses=NOT_FOUND, summary="Gradings, every round"
)
def list_gradings(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    state: GradingState | None = None,
    current: bool = Query(False, description="only each system's current (latest filed) round"),
) -> Any:
    return service.list_gradings(db, system_id=system_id, state=state, current_only=current)


@router.get(
    "/gradings/due",
    response_model=list[GradingRead],
    summary="Open gradings whose filing (备案) is overdue or due within `within` days",
)
def due(db: DbSession, principal: Reader, within: int = Query(30, ge=0, le=3650)) -> Any:
    return service.due(db, within_days=within)


@router.get("/gradings/{grading_id}", response_model=GradingRead, responses=NOT_FOUND, summary="One grading")
def get_grading(grading_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.describe(db, grading_id=grading_id)


@router.post(
    "/gradings",
    response_model=GradingRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Start a grading round (初步定级) for a system",
)
def create_grading(db: DbSession, principal: Writer, data: GradingIn) -> Any:
    return service.describe(db, grading_id=service.create_grading(db, data=data).id)


@router.patch(
    "/gradings/{grading_id}",
    response_model=GradingRead,
    responses=NOT_FOUND,
    summary="Change a draft grading",
)
def update_grading(grading_id: Int32, db: DbSession, principal: Writer, changes: GradingUpdate) -> Any:
    return service.describe(
        db, grading_id=service.update_grading(db, grading_id=grading_id, changes=changes).id
    )


@router.post(
    "/gradings/{grading_id}/advance",
    response_model=GradingRead,
    responses=NOT_FOUND,
    summary="Advance a grading: review (专家评审), approved (主管部门核准), filed (公安机关备案) or withdrawn",
)
def advance(grading_id: Int32, db: DbSession, principal: Writer, data: AdvanceIn) -> Any:
    return service.describe(db, grading_id=service.advance(db, grading_id=grading_id, data=data).id)


# --- evidence from the map (docs/compliance-evidence.md) ----------------------------------------------

from ciimap.compliance import evidence  # noqa: E402  (appended section: kept apart from the routes above)
from ciimap.compliance.schemas import EvidenceSummary, SystemEvidence  # noqa: E402


@router.get(
    "/evidence",
    response_model=EvidenceSummary,
    summary="Evidence from the map: the result each rule proposes, per system (nothing stored)",
)
def evidence_summary(
    db: DbSession,
    principal: Reader,
    fresh: bool = Query(False, description="recompute even when the map has not changed"),
) -> Any:
    return evidence.summary(db, fresh=fresh)


@router.get(
    "/systems/{system_id}/evidence",
    response_model=SystemEvidence,
    responses=NOT_FOUND,
    summary="Evidence from the map for one system: proposed results with the records behind them",
)
def system_evidence(
    system_id: Int32,
    db: DbSession,
    principal: Reader,
    fresh: bool = Query(False, description="recompute even when the map has not changed"),
) -> Any:
    return evidence.for_system(db, system_id=system_id, fresh=fresh)
