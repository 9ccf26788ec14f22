"""``/api/incidents/plans`` (应急预案) and ``/api/incidents/drills`` (演练).

A router of its own, mounted before the incidents router (whose ``/incidents/{incident_id}`` would
otherwise take ``/incidents/plans``). Every handler passes the caller's organisation as ``viewer_org``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Offset
from ciimap.incidents import drills, plans
from ciimap.incidents.models import DrillKind
from ciimap.incidents.schemas import DrillNotes, DrillStart, PlanIn, PlanReviewIn, PlanUpdate

router = APIRouter(prefix="/incidents", tags=["Incidents: plans and drills"])


def _dump(body: Any, *, every: bool = False) -> dict[str, Any]:
    """The fields given (``every``: all, defaults included), steps and contacts as plain dicts."""
    out = {k: getattr(body, k) for k in (body.model_fields if every else body.model_fields_set)}
    for key in ("steps", "contacts"):
        if out.get(key) is not None:
            out[key] = [x.model_dump() for x in out[key]]
    return out


@router.get("/plans", summary="Emergency plans (应急预案), next review first")
def list_plans(
    db: DbSession,
    principal: Reader,
    overdue: bool = False,
    service_id: Int32 | None = None,
    system_id: Int32 | None = None,
    limit: int = Query(50, ge=1, le=plans.LIST_LIMIT),
    offset: Offset = 0,
) -> Any:
    return plans.listing(db, viewer_org=principal.organization_id, overdue_only=overdue, service_id=service_id,
                         system_id=system_id, limit=limit, offset=offset)  # fmt: skip


@router.post("/plans", status_code=201, responses=NOT_FOUND, summary="Add an emergency plan")
def create_plan(body: PlanIn, db: DbSession, principal: Writer) -> Any:
    p = plans.create(db, viewer_org=principal.organization_id, **_dump(body, every=True))
    return plans.detail(db, plan_id=p.id, viewer_org=principal.organization_id)


@router.get("/plans/{plan_id}", responses=NOT_FOUND, summary="One plan with steps and contacts")
def get_plan(plan_id: Int32, db: DbSession, principal: Reader) -> Any:
    return plans.detail(db, plan_id=plan_id, viewer_org=principal.organization_id)


@router.patch("/plans/{plan_id}", responses=NOT_FOUND, summary="Change a plan (audited)")
def update_plan(plan_id: Int32, body: PlanUpdate, db: DbSession, principal: Writer) -> Any:
    plans.update(db, plan_id=plan_id, viewer_org=principal.organization_id, **_dump(body))
    return plans.detail(db, plan_id=plan_id, viewer_org=principal.organization_id)


@router.delete("/plans/{plan_id}", status_code=204, responses=NOT_FOUND, summary="Delete a plan (audited)")
def delete_plan(plan_id: Int32, db: DbSession, principal: Writer) -> Response:
    plans.delete(db, plan_id=plan_id, viewer_org=principal.organization_id)
    return Response(status_code=204)


@router.post("/plans/{plan_id}/review", responses=NOT_FOUND, summary="Record a review of the plan")
def review_plan(plan_id: Int32, body: PlanReviewIn, db: DbSession, principal: Writer) -> Any:
    plans.review(db, plan_id=plan_id, viewer_org=principal.organization_id, reviewed_on=body.reviewed_on)
    return plans.detail(db, plan_id=plan_id, viewer_org=principal.organization_id)


@router.get(
    "/plans/{plan_id}/check", responses=NOT_FOUND, summary="The plan's fallback checked against the map"
)
def check_plan(plan_id: Int32, db: DbSession, principal: Reader) -> Any:
    return plans.check(db, plan_id=plan_id, viewer_org=principal.organization_id)


@router.get("/drills/scenarios", responses=NOT_FOUND, summary="Drill scenarios from the map")
def scenarios(
    db: DbSession,
    principal: Reader,
    kind: DrillKind | None = None,
    target: str | None = Query(None, min_length=1, max_length=200),
) -> Any:
    """Without ``kind``: the vendors with privileged auto-updating products; with ``kind`` and ``target``
    (a vendor or a system, id or name): the scenario with what goes down."""
    if kind is None or target is None:
        return {"vendor_update": drills.vendor_candidates(db)}
    return drills.scenario(db, kind=kind, target=target, viewer_org=principal.organization_id)


@router.get("/drills", summary="Drills, newest first")
def list_drills(
    db: DbSession, principal: Reader, limit: int = Query(50, ge=1, le=drills.LIST_LIMIT), offset: Offset = 0
) -> Any:
    return drills.listing(db, viewer_org=principal.organization_id, limit=limit, offset=offset)


@router.post(
    "/drills", status_code=201, responses=NOT_FOUND, summary="Start a drill (opens a drill incident)"
)
def start_drill(body: DrillStart, db: DbSession, principal: Writer) -> Any:
    d = drills.start(db, viewer_org=principal.organization_id, kind=body.kind, target=body.target,
                     organization_id=body.organization_id, notes=body.notes)  # fmt: skip
    return drills.detail(db, drill_id=d.id, viewer_org=principal.organization_id)


@router.get("/drills/{drill_id}", responses=NOT_FOUND, summary="One drill with its scenario and scores")
def get_drill(drill_id: Int32, db: DbSession, principal: Reader) -> Any:
    return drills.detail(db, drill_id=drill_id, viewer_org=principal.organization_id)


@router.put("/drills/{drill_id}/notes", responses=NOT_FOUND, summary="The drill's notes (after-action)")
def drill_notes(drill_id: Int32, body: DrillNotes, db: DbSession, principal: Writer) -> Any:
    drills.set_notes(db, drill_id=drill_id, viewer_org=principal.organization_id, notes=body.notes)
    return drills.detail(db, drill_id=drill_id, viewer_org=principal.organization_id)


@router.get(
    "/drills/{drill_id}/score", responses=NOT_FOUND, summary="Timing scores from the drill's timeline"
)
def drill_score(drill_id: Int32, db: DbSession, principal: Reader) -> Any:
    return drills.score(db, drill_id=drill_id, viewer_org=principal.organization_id)


@router.get(
    "/drills/{drill_id}/report",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {"description": "The after-action report", "content": {m: {} for m in drills.FORMATS.values()}},
    },
    summary="The after-action report (演练复盘报告) as Chinese DOCX or PDF",
)
def drill_report(
    drill_id: Int32, db: DbSession, principal: Reader, fmt: Literal["docx", "pdf"] = "docx"
) -> Response:
    data, name, media = drills.export(db, drill_id=drill_id, viewer_org=principal.organization_id, fmt=fmt)
    disposition = f"attachment; filename=\"drill-report-{drill_id}.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=data, media_type=media, headers={"Content-Disposition": disposition})
