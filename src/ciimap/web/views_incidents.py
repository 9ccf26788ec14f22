"""Incident pages (事件处置): the list and board, the incident page (timeline, tasks, live countdown to each
deadline, the affected part of the map, reports with editor and export) and the regulator roll-up.

Thin: the data comes from :mod:`ciimap.incidents.service` / ``reports`` / ``overview`` (also served by
``/api/incidents`` and ``ciimap incidents``); changes go through the incidents API from
``static/js/incidents.js`` with the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.core.schemas import Int32, Offset
from ciimap.incidents import evidence, grading, overview, reports, service
from ciimap.incidents.schemas import (
    CHANNELS,
    GRADES,
    INCIDENT_ROLES,
    REPORT_KINDS,
    STATES,
    Grade,
    IncidentCreate,
    State,
)
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/incidents")
def incidents_page(
    request: Request,
    db: DbSession,
    principal: Reader,
    state: State | None = None,
    grade: Grade | None = None,
    offset: Offset = 0,
) -> Any:
    org = principal.organization_id
    return render(
        request, "incidents/list.html", principal, active="incidents",
        data=service.list_incidents(db, viewer_org=org, state=state, grade=grade, offset=offset, limit=50),
        board=service.board(db, viewer_org=org, limit=20), counts=service.open_counts(db, viewer_org=org),
        states=STATES, grades=GRADES, state=state, grade=grade, offset=offset,
    )  # fmt: skip


@router.get("/incidents/rollup")
def rollup_page(request: Request, db: DbSession, principal: Reader) -> Any:
    data = overview.rollup(db, viewer_org=principal.organization_id)
    return render(request, "incidents/rollup.html", principal, active="incidents", data=data, grades=GRADES)


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    org = principal.organization_id
    data = service.page(db, incident_id=incident_id, viewer_org=org)
    return render(
        request, "incidents/incident.html", principal, active="incidents", inc=data,
        reports=reports.listing(db, incident_id=incident_id, viewer_org=org),
        submissions=reports.submissions(db, incident_id=incident_id, viewer_org=org),
        evidence=evidence.listing(db, incident_id=incident_id, viewer_org=org),
        item_labels={k: reports.items_of(k) for k in REPORT_KINDS},
        draft=reports.draft(db, incident_id=incident_id, viewer_org=org, kind="initial"),
        roles=INCIDENT_ROLES, channels=CHANNELS, report_kinds=REPORT_KINDS,
        criteria=grading.criteria().criteria, editable=principal.can("write") and data["state"] != "关闭",
    )  # fmt: skip


@router.post("/incidents/open")
async def open_incident(request: Request, db: DbSession, principal: Writer) -> Any:
    """Open an incident from the list page's form (by hand), a warning's or an alert group's page: the
    same schema and service as ``POST /api/incidents``; then the incident's page (HX-Redirect)."""
    form = await request.form()
    fields = {
        k: str(form.get(k) or "").strip() for k in ("title", "description", "warning_id", "alert_group_id")
    }
    try:
        body = IncidentCreate.model_validate(
            {k: v for k, v in fields.items() if v} | {"drill": form.get("drill") in ("on", "true", "1")}
        )
        fields_in = {k: getattr(body, k) for k in body.model_fields}
        inc = service.open_incident(db, viewer_org=principal.organization_id, **fields_in)
    except (ValidationError, Invalid, Conflict, NotFound) as e:
        db.rollback()
        msg = format_validation_error(e) if isinstance(e, ValidationError) else getattr(e, "message", str(e))
        return render(request, "partials/message.html", principal, status_code=422, error=msg)
    return Response(status_code=204, headers={"HX-Redirect": f"/incidents/{inc.id}"})
