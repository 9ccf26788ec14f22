"""REST routes under /api/data (thin: parse, call the service, return a schema)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from ciimap import sources
from ciimap.compliance import reports
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Offset, Text
from ciimap.datagov import registers, service
from ciimap.datagov.models import DATA_LEVELS, DataLevel
from ciimap.datagov.schemas import (
    AtRisk,
    CategoryRead,
    FlowIn,
    FlowRead,
    GradeResult,
    GradingIn,
    GradingRead,
    HoldingIn,
    HoldingRead,
    ImportQueued,
    RegisterRow,
    ResourceDetail,
    ResourceIn,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    RulesRead,
    Suggestion,
    SystemMark,
)

router = APIRouter(prefix="/data", tags=["Data classification and grading"])

LevelFilter = Literal["core", "important", "general", "ungraded"]
RegisterLevel = Literal["core", "important"]


@router.get("/grade", response_model=GradeResult)
def grade(
    principal: Reader,
    impact: list[Text] = Query(..., min_length=1, max_length=18, description="OBJECT:DEGREE, repeatable"),
) -> Any:
    """The level of a set of impacts (highest wins, 就高从严) with the rationale; nothing is stored."""
    return service.grade([service.parse_impact(i) for i in impact])


@router.get("/rules", response_model=RulesRead)
def rules(principal: Reader) -> Any:
    """The grading rules in force (object × degree → level, review months, thresholds)."""
    return service.rules_info()


@router.get("/categories", response_model=list[CategoryRead])
def categories(principal: Reader) -> Any:
    return service.categories()


@router.get("/resources", response_model=ResourcePage)
def list_resources(
    db: DbSession,
    principal: Reader,
    level: LevelFilter | None = None,
    category: Text | None = Query(None, max_length=64),
    pi: bool | None = None,
    sensitive_pi: bool | None = None,
    system_id: Int32 | None = None,
    q: Text | None = Query(None, max_length=200),
    review_overdue: bool = False,
    flagged: bool = False,
    limit: int = Query(50, ge=1, le=service.MAX_LIMIT),
    offset: Offset = 0,
) -> Any:
    """The data catalogue, newest first, with the total."""
    return service.list_resources(
        db,
        level=level,
        category=category,
        pi=pi,
        sensitive_pi=sensitive_pi,
        system_id=system_id,
        q=q,
        review_overdue=review_overdue,
        flagged=flagged,
        limit=limit,
        offset=offset,
    )


@router.post("/resources", response_model=ResourceRead, status_code=201)
def create_resource(db: DbSession, principal: Writer, data: ResourceIn) -> Any:
    return service.create_resource(db, data=data)


@router.get("/resources/{resource_id}", response_model=ResourceDetail, responses=NOT_FOUND)
def get_resource(resource_id: Int32, db: DbSession, principal: Reader) -> Any:
    """One resource with holdings, flows, grading history (newest first) and threshold flags."""
    return service.describe(db, resource_id=resource_id)


@router.patch("/resources/{resource_id}", response_model=ResourceRead, responses=NOT_FOUND)
def update_resource(resource_id: Int32, db: DbSession, principal: Writer, changes: ResourceUpdate) -> Any:
    return service.update_resource(db, resource_id=resource_id, changes=changes)


@router.delete("/resources/{resource_id}", status_code=204, responses=NOT_FOUND)
def delete_resource(resource_id: Int32, db: DbSession, principal: Writer) -> Response:
    service.delete_resource(db, resource_id=resource_id)
    return Response(status_code=204)


@router.post(
    "/resources/{resource_id}/holdings", response_model=HoldingRead, status_code=201, responses=NOT_FOUND
)
def add_holding(resource_id: Int32, db: DbSession, principal: Writer, data: HoldingIn) -> Any:
    h = service.add_holding(db, resource_id=resource_id, data=data)
    return next(x for x in service.describe(db, resource_id=resource_id)["holdings"] if x["id"] == h.id)


@router.delete("/resources/{resource_id}/holdings/{holding_id}", status_code=204, responses=NOT_FOUND)
def remove_holding(resource_id: Int32, holding_id: Int32, db: DbSession, principal: Writer) -> Response:
    service.remove_holding(db, resource_id=resource_id, holding_id=holding_id)
    return Response(status_code=204)


@router.post("/resources/{resource_id}/flows", response_model=FlowRead, status_code=201, responses=NOT_FOUND)
def add_flow(resource_id: Int32, db: DbSession, principal: Writer, data: FlowIn) -> Any:
    f = service.add_flow(db, resource_id=resource_id, data=data)
    return next(x for x in service.describe(db, resource_id=resource_id)["flows"] if x["id"] == f.id)


@router.get("/flows", response_model=list[FlowRead])
def list_flows(
    db: DbSession,
    principal: Reader,
    cross_border: bool | None = None,
    system_id: Int32 | None = None,
    limit: int = Query(100, ge=1, le=10000),
) -> Any:
    return service.list_flows(db, cross_border=cross_border, system_id=system_id, limit=limit)


@router.delete("/flows/{flow_id}", status_code=204, responses=NOT_FOUND)
def remove_flow(flow_id: Int32, db: DbSession, principal: Writer) -> Response:
    service.remove_flow(db, flow_id=flow_id)
    return Response(status_code=204)


@router.post(
    "/resources/{resource_id}/gradings", response_model=GradingRead, status_code=201, responses=NOT_FOUND
)
def grade_resource(resource_id: Int32, db: DbSession, principal: Writer, data: GradingIn) -> Any:
    """A new grading round (re-grading keeps the earlier rounds as history)."""
    return service.grade_resource(db, resource_id=resource_id, data=data)


@router.get("/resources/{resource_id}/gradings", response_model=list[GradingRead], responses=NOT_FOUND)
def list_gradings(resource_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.list_gradings(db, resource_id=resource_id)


def _levels(level: RegisterLevel | None) -> tuple[str, ...]:
    return DATA_LEVELS[:2] if level is None else (level,)


@router.get("/register", response_model=list[RegisterRow])
def register(db: DbSession, principal: Reader, level: RegisterLevel | None = None) -> Any:
    """The important-data catalogue (重要数据目录) and core data, with threshold flags."""
    return registers.register(db, levels=_levels(level))


@router.get(
    "/register/export",
    response_class=Response,
    responses={
        200: {
            "description": "The register as XLSX, DOCX or PDF",
            "content": {reports.MEDIA_TYPES[f]: {} for f in ("xlsx", "docx", "pdf")},
        }
    },
)
def export_register(
    db: DbSession,
    principal: Reader,
    fmt: Literal["xlsx", "docx", "pdf"] = Query("xlsx", alias="format"),
    lang: Literal["zh", "en"] = "zh",
    level: RegisterLevel | None = None,
) -> Response:
    data, name, media = registers.export(db, fmt=fmt, lang=lang, levels=_levels(level))
    disposition = f"attachment; filename=\"data-register.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/marks", response_model=list[SystemMark])
def marks(db: DbSession, principal: Reader, min_level: DataLevel = "important") -> Any:
    """Systems holding data of ``min_level`` or higher (the topology's data overlay)."""
    return service.system_marks(db, min_level=min_level)


@router.get("/suggestions", response_model=list[Suggestion])
def suggestions(db: DbSession, principal: Reader) -> Any:
    """Systems whose MLPS S judgement looks lower than their data implies (nothing is changed)."""
    return service.suggestions(db)


@router.get("/at-risk", response_model=list[AtRisk])
def at_risk(
    db: DbSession,
    principal: Reader,
    system_id: list[Int32] = Query([], max_length=1000),
    asset_id: list[Int32] = Query([], max_length=1000),
    service_id: list[Int32] = Query([], max_length=1000),
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Data resources held by the named systems, assets or business services, highest level first."""
    items, _total = service.at_risk(
        db, system_ids=system_id, asset_ids=asset_id, service_ids=service_id, limit=limit
    )
    return items


@router.post("/import", response_model=ImportQueued, status_code=202)
def upload(
    db: DbSession,
    principal: Writer,
    kind: str = Form("datacat", description="datacat"),
    files: list[UploadFile] = File(...),
    encoding: Text | None = Form(None, max_length=40),
) -> Any:
    """Save the uploaded catalogue files and queue an ``import`` job (poll /api/jobs/{id})."""
    source = sources.get(kind, family="data")
    opts = source.options({"encoding": encoding} if encoding else {}).model_dump(
        mode="json", exclude_unset=True
    )
    with uploads.store(files).until_queued() as up:
        job = jobs.submit(
            db,
            "import",
            {"kind": kind, "paths": [str(p) for p in up.paths], "options": opts, "scope": None},
            actor=principal.username,
            upload_dir=up.folder,
        )
    return {"job_id": job.id, "kind": kind, "files": [p.name for p in up.paths]}
