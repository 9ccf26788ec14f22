"""``/api/incidents``: incidents, grading, the reporting clock, reports, evidence and the regulator view.

Every handler passes the caller's organisation (``principal.organization_id``) as ``viewer_org``: users
bound to an organisation see only its incidents, reports and evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse, Response

from ciimap.core import uploads
from ciimap.core.deps import Admin, DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Offset
from ciimap.incidents import clock, evidence, grading, overview, reports, service
from ciimap.incidents.grading import Facts
from ciimap.incidents.models import Grade, Reporter, ReportKind, State
from ciimap.incidents.schemas import (
    CommentIn,
    HandOverIn,
    IncidentCreate,
    IncidentUpdate,
    OperatorTypeIn,
    ReportEdit,
    ReportIn,
    RoleIn,
    SubmissionIn,
    TaskIn,
    TransitionIn,
)

router = APIRouter(prefix="/incidents", tags=["Incidents"])


class AssessQuery(Facts):
    reporter: Reporter
    discovered_at: dt.datetime | None = None
    handling_closed_at: dt.date | None = None


@router.get("/assess", summary="Grade and deadlines for given facts (2025 measures); nothing stored")
def assess(q: Annotated[AssessQuery, Query()], principal: Reader) -> Any:
    facts = Facts(**q.model_dump(exclude={"reporter", "discovered_at", "handling_closed_at"}))
    out = grading.assess(
        facts, reporter=q.reporter, discovered_at=q.discovered_at, handling_closed_at=q.handling_closed_at
    )
    return {**out, "reached": grading.grade(facts)["reached"]}


@router.get("", summary="Incidents, newest first (bound users: their organisation's only)")
def list_incidents(
    db: DbSession,
    principal: Reader,
    state: State | None = None,
    grade: Grade | None = None,
    drill: bool | None = None,
    open_only: bool = False,
    limit: int = Query(50, ge=1, le=service.LIST_LIMIT),
    offset: Offset = 0,
) -> Any:
    return service.list_incidents(
        db, viewer_org=principal.organization_id, state=state, grade=grade, drill=drill, open_only=open_only,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.post(
    "", status_code=201, responses=NOT_FOUND, summary="Open an incident (by hand, from a warning or group)"
)
def open_incident(body: IncidentCreate, db: DbSession, principal: Writer) -> Any:
    fields = {k: getattr(body, k) for k in body.model_fields}  # facts stays a model
    inc = service.open_incident(db, viewer_org=principal.organization_id, **fields)
    return service.detail(db, incident_id=inc.id, viewer_org=principal.organization_id)


@router.get("/categories", summary="GB/T 20986-2023 categories and subcategories")
def categories(principal: Reader) -> Any:
    return service.categories()


@router.get("/criteria", summary="The grading criteria and reporting deadlines in force (versioned data)")
def criteria(principal: Reader) -> Any:
    return grading.criteria().model_dump()


@router.get("/overview", summary="Open incidents by grade and deadlines due within the hour (dashboard)")
def counts(db: DbSession, principal: Reader) -> Any:
    return service.open_counts(db, viewer_org=principal.organization_id)


@router.get("/rollup", summary="Regulator view: per operator, incidents by grade, reports, deadlines met")
def rollup(db: DbSession, principal: Reader) -> Any:
    return overview.rollup(db, viewer_org=principal.organization_id)


@router.get("/operators", summary="Operator type per organisation (sets the reporting clock)")
def operators(db: DbSession, principal: Reader) -> Any:
    return service.list_operator_types(db)


@router.put(
    "/operators/{organization_id}", responses=NOT_FOUND, summary="Set an organisation's operator type"
)
def set_operator(organization_id: Int32, body: OperatorTypeIn, db: DbSession, principal: Admin) -> Any:
    return service.set_operator_type(db, organization_id=organization_id, operator_type=body.operator_type)


@router.post("/sweep", summary="Run the deadline sweep now (it also runs every minute)")
def sweep(db: DbSession, principal: Admin) -> Any:
    return clock.sweep(db)


@router.get("/{incident_id}", responses=NOT_FOUND, summary="One incident with deadlines, roles and tasks")
def get_incident(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.detail(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.patch("/{incident_id}", responses=NOT_FOUND, summary="Change title, category, affected records")
def update_incident(incident_id: Int32, body: IncidentUpdate, db: DbSession, principal: Writer) -> Any:
    changes = body.model_dump(exclude_unset=True)
    service.update(db, incident_id=incident_id, viewer_org=principal.organization_id, **changes)
    return service.detail(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.post("/{incident_id}/transition", responses=NOT_FOUND, summary="Move to the next state")
def transition(incident_id: Int32, body: TransitionIn, db: DbSession, principal: Writer) -> Any:
    service.transition(db, incident_id=incident_id, viewer_org=principal.organization_id, to=body.to)
    return service.detail(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.post(
    "/{incident_id}/grade", responses=NOT_FOUND, summary="Grade by the annex criteria (sets the clock)"
)
def regrade(incident_id: Int32, body: Facts, db: DbSession, principal: Writer) -> Any:
    service.regrade(db, incident_id=incident_id, viewer_org=principal.organization_id, facts=body)
    return service.detail(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.post(
    "/{incident_id}/comments", status_code=201, responses=NOT_FOUND, summary="Comment on the timeline"
)
def comment(incident_id: Int32, body: CommentIn, db: DbSession, principal: Writer) -> Any:
    service.comment(db, incident_id=incident_id, viewer_org=principal.organization_id, text=body.text)
    return {"ok": True}


@router.get("/{incident_id}/timeline", responses=NOT_FOUND, summary="The append-only timeline")
def timeline(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.timeline(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.post(
    "/{incident_id}/roles", status_code=201, responses=NOT_FOUND, summary="Assign 指挥/处置/联络/记录"
)
def assign_role(incident_id: Int32, body: RoleIn, db: DbSession, principal: Writer) -> Any:
    r = service.assign_role(
        db, incident_id=incident_id, viewer_org=principal.organization_id, **body.model_dump()
    )
    return {"id": r.id, "role": r.role, "person": r.person}


@router.post("/{incident_id}/tasks", status_code=201, responses=NOT_FOUND, summary="Add a task")
def add_task(incident_id: Int32, body: TaskIn, db: DbSession, principal: Writer) -> Any:
    t = service.add_task(
        db, incident_id=incident_id, viewer_org=principal.organization_id, **body.model_dump()
    )
    return {"id": t.id, "title": t.title, "owner": t.owner, "due_at": t.due_at, "done_at": t.done_at}


@router.post("/tasks/{task_id}/done", responses=NOT_FOUND, summary="Mark a task done")
def task_done(task_id: Int32, db: DbSession, principal: Writer) -> Any:
    t = service.complete_task(db, task_id=task_id, viewer_org=principal.organization_id)
    return {"id": t.id, "title": t.title, "owner": t.owner, "due_at": t.due_at, "done_at": t.done_at}


@router.get("/{incident_id}/related", responses=NOT_FOUND, summary="Incidents sharing an asset or system")
def related(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.related(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.get(
    "/{incident_id}/what-if", responses=NOT_FOUND, summary="What fails next from the incident's assets"
)
def what_if(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.what_if(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.post(
    "/{incident_id}/evidence", status_code=201, responses=NOT_FOUND, summary="Upload an evidence file"
)
def add_evidence(incident_id: Int32, db: DbSession, principal: Writer, file: UploadFile = File(...)) -> Any:
    up = uploads.store([file])
    try:
        ev = evidence.attach(
            db, incident_id=incident_id, viewer_org=principal.organization_id, source=up.paths[0],
            filename=file.filename,
        )  # fmt: skip
    finally:
        uploads.discard(up.folder)
    return {"id": ev.id, "filename": ev.filename, "sha256": ev.sha256, "size": ev.size}


@router.get("/{incident_id}/evidence", responses=NOT_FOUND, summary="Evidence files with their custody")
def list_evidence(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return evidence.listing(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.get(
    "/evidence/{evidence_id}/file",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"description": "The file", "content": {"application/octet-stream": {}}}},
    summary="Download an evidence file",
)
def evidence_file(evidence_id: Int32, db: DbSession, principal: Reader) -> Any:
    path, name = evidence.file(db, evidence_id=evidence_id, viewer_org=principal.organization_id)
    return FileResponse(path, filename=name, media_type="application/octet-stream")


@router.post("/evidence/{evidence_id}/custody", responses=NOT_FOUND, summary="Record who handled the file")
def hand_over(evidence_id: Int32, body: HandOverIn, db: DbSession, principal: Writer) -> Any:
    return evidence.hand_over(
        db, evidence_id=evidence_id, viewer_org=principal.organization_id, **body.model_dump()
    )


@router.get("/{incident_id}/reports", responses=NOT_FOUND, summary="Report forms of an incident")
def list_reports(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return reports.listing(db, incident_id=incident_id, viewer_org=principal.organization_id)


@router.get(
    "/{incident_id}/reports/draft", responses=NOT_FOUND, summary="Items 1–2 pre-filled from the incident"
)
def draft(incident_id: Int32, db: DbSession, principal: Reader, kind: ReportKind = "initial") -> Any:
    items = reports.draft(db, incident_id=incident_id, viewer_org=principal.organization_id, kind=kind)
    return {"kind": kind, "labels": reports.items_of(kind), "items": items}


@router.post("/{incident_id}/reports", status_code=201, responses=NOT_FOUND, summary="Save a report form")
def create_report(incident_id: Int32, body: ReportIn, db: DbSession, principal: Writer) -> Any:
    return reports.create(
        db, incident_id=incident_id, viewer_org=principal.organization_id, kind=body.kind, items=body.items
    )


@router.patch("/reports/{report_id}", responses=NOT_FOUND, summary="Edit a report not sent yet")
def edit_report(report_id: Int32, body: ReportEdit, db: DbSession, principal: Writer) -> Any:
    return reports.edit(db, report_id=report_id, viewer_org=principal.organization_id, items=body.items)


@router.post(
    "/reports/{report_id}/send", status_code=201, responses=NOT_FOUND, summary="Record a report sent"
)
def send_report(report_id: Int32, body: SubmissionIn, db: DbSession, principal: Writer) -> Any:
    return reports.send(db, report_id=report_id, viewer_org=principal.organization_id, **body.model_dump())


@router.get(
    "/reports/{report_id}/export",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {
            "description": "The report file (Content-Disposition names it, RFC 5987 for Chinese names)",
            "content": {media: {} for media in reports.FORMATS.values()},
        },
    },
    summary="The report as Chinese DOCX or PDF",
)
def export_report(
    report_id: Int32, db: DbSession, principal: Reader, fmt: Literal["docx", "pdf"] = "docx"
) -> Response:
    data, name, media = reports.export(db, report_id=report_id, viewer_org=principal.organization_id, fmt=fmt)
    fallback = f"incident-report-{report_id}.{fmt}"  # for clients that do not read filename*
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=data, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/{incident_id}/submissions", responses=NOT_FOUND, summary="Every report sent for the incident")
def submissions(incident_id: Int32, db: DbSession, principal: Reader) -> Any:
    return reports.submissions(db, incident_id=incident_id, viewer_org=principal.organization_id)
