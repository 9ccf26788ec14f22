"""REST routes under /api/feeds and /api/vulns (thin: parse, call the service, render)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from ciimap import sources
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.jobs_schemas import JobRead
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import DateText, Int32, Offset
from ciimap.vulns import groups, service, vex
from ciimap.vulns.schemas import (
    BulkTriageIn,
    BulkTriageRead,
    FeedImportRead,
    FindingDetail,
    FindingGroupPage,
    FindingPage,
    TriageIn,
    TriageRead,
    WhereRead,
)

feeds = APIRouter(prefix="/feeds", tags=["Feeds"])
vulns = APIRouter(prefix="/vulns", tags=["Vulnerabilities"])
router = [feeds, vulns]


@feeds.get("", response_model=list[FeedImportRead])
def list_feeds(db: DbSession, principal: Reader) -> Any:
    """Imports, newest first; ``warning`` is set on a stale latest import (never blocks)."""
    return service.list_feeds(db)


@feeds.post("/{kind}/import", response_model=JobRead, status_code=202)
async def import_feed(
    kind: str,
    db: DbSession,
    principal: Writer,
    file: UploadFile = File(...),
    snapshot_date: DateText | None = Form(None),
    allow_shrink: bool = Form(False),
) -> Any:
    """Upload a feed file (OSV as a zip); the import and the re-match run as a job."""
    sources.get(kind, family="feeds")
    up = await uploads.store_async([file])
    with up.until_queued():
        return jobs.submit(
            db,
            "vulns.feed_import",
            {
                "kind": kind,
                "path": str(up.paths[0]),
                "snapshot_date": snapshot_date,
                "allow_shrink": allow_shrink,
            },
            actor=principal.username,
            upload_dir=up.folder,
        )


@vulns.post("/match", response_model=JobRead, status_code=202)
def match(db: DbSession, principal: Writer) -> Any:
    """Queue a full re-match."""
    return jobs.submit(db, "vulns.match", {}, actor=principal.username)


@vulns.get("/findings", response_model=FindingPage)
def list_findings(
    db: DbSession,
    principal: Reader,
    priority: str | None = None,
    asset_id: Int32 | None = None,
    system_id: Int32 | None = None,
    status: str | None = None,
    advisory: str | None = None,
    severity: str | None = None,
    kev: bool | None = None,
    site_id: Int32 | None = None,
    include_inactive: bool = False,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Findings by risk (highest score first), filtered like the web page's findings list."""
    rows, total = service.list_findings(
        db,
        priority=priority,
        asset_id=asset_id,
        system_id=system_id,
        status=status,
        advisory=advisory,
        severity=severity,
        kev=kev,
        site_id=site_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@vulns.get("/findings/groups", response_model=FindingGroupPage)
def finding_groups(
    db: DbSession,
    principal: Reader,
    by: str = Query("advisory", description="advisory | asset | system"),
    priority: str | None = None,
    asset_id: Int32 | None = None,
    system_id: Int32 | None = None,
    status: str | None = None,
    severity: str | None = None,
    kev: bool | None = None,
    site_id: Int32 | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Active findings grouped by advisory, asset or system, riskiest group first: count, assets,
    highest priority and score, KEV flag, earliest due date."""
    return groups.group_findings(
        db,
        by=by,
        limit=limit,
        offset=offset,
        priority=priority,
        asset_id=asset_id,
        system_id=system_id,
        status=status,
        severity=severity,
        kev=kev,
        site_id=site_id,
    )


@vulns.post("/findings/bulk-triage", response_model=BulkTriageRead, responses=NOT_FOUND)
def bulk_triage(body: BulkTriageIn, db: DbSession, principal: Writer) -> Any:
    """Set status, assignee, due date and note on chosen findings and whole groups at once: every
    finding exists and the decision is valid, or nothing changes; one audit event names them all."""
    return groups.bulk_triage(
        db,
        finding_ids=body.finding_ids,
        groups=[(g.by, groups.group_key(g.by, "" if g.key is None else str(g.key))) for g in body.groups],
        filters=body.filters.model_dump(exclude_none=True),
        state=body.state,
        justification=body.justification,
        detail=body.detail,
        expires=body.expires,
        assignee=body.assignee,
        due_date=body.due_date,
        actor=principal.username,
    )


@vulns.get("/findings/{finding_id}", response_model=FindingDetail)
def get_finding(finding_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.finding_detail(db, finding_id)


@vulns.post("/findings/{finding_id}/triage", response_model=TriageRead)
def triage(finding_id: Int32, body: TriageIn, db: DbSession, principal: Writer) -> Any:
    return service.set_triage(
        db,
        finding_id=finding_id,
        state=body.state,
        justification=body.justification,
        detail=body.detail,
        expires=body.expires,
        actor=principal.username,
    )


@vulns.get("/where", response_model=WhereRead, responses=NOT_FOUND)
def where(q: str, db: DbSession, principal: Reader) -> Any:
    """Where is this advisory (any alias) or package[@version] / purl used?"""
    return service.where(db, query=q)


@vulns.get("/vex")
def export_vex(
    db: DbSession, principal: Reader, system_id: Int32 | None = None, asset_id: Int32 | None = None
) -> Any:
    """CycloneDX 1.5 VEX document."""
    return vex.export(db, system_id=system_id, asset_id=asset_id)
