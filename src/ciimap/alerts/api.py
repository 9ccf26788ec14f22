"""REST routes under /api/alerts (thin: parse, call the service, render)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from ciimap import sources
from ciimap.alerts import console, groups, service, suppress, warnings
from ciimap.alerts.jobs import ALERTS_IMPORT
from ciimap.alerts.schemas import (
    AlertDetail,
    AlertImportQueued,
    AlertRead,
    CandidateRead,
    GroupRead,
    SuppressionCreate,
    SuppressionRead,
    WarningEvaluated,
    WarningLevelRead,
    WarningRead,
)
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Offset, Text, check_value

router = APIRouter(prefix="/alerts", tags=["Alerts"])


def _options(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        opts = json.loads(raw)
    except json.JSONDecodeError as e:
        raise Invalid(f"options: not JSON ({e.msg})") from None
    if not isinstance(opts, dict):
        raise Invalid("options: must be a JSON object")
    try:
        check_value(opts)
    except ValueError as e:
        raise Invalid(f"options: {e}") from None
    return opts


@router.get("", response_model=list[AlertRead], responses=NOT_FOUND)
def list_alerts(
    db: DbSession,
    principal: Reader,
    severity: str | None = None,
    priority: str | None = None,
    asset_id: Int32 | None = None,
    system_id: Int32 | None = None,
    service_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    since: dt.datetime | None = None,
    kind: str | None = None,
    rejected: bool | None = None,
    group_id: Int32 | None = Query(None, description="only the alerts of this group (drill-down)"),
    before_time: dt.datetime | None = Query(None, description="keyset page: the last row's time..."),
    before_id: Int32 | None = Query(None, description="...and id (both or neither; instead of offset)"),
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Alerts newest first, with the threat-intelligence values each matched (``intel_matches``)."""
    return service.list_alerts(
        db,
        severity=severity,
        priority=priority,
        asset_id=asset_id,
        system_id=system_id,
        service_id=service_id,
        zone_id=zone_id,
        since=since,
        kind=kind,
        rejected=rejected,
        group_id=group_id,
        before_time=before_time,
        before_id=before_id,
        limit=limit,
        offset=offset,
    )


@router.get("/unmanaged", response_model=list[CandidateRead])
def unmanaged(
    db: DbSession, principal: Reader, limit: int = Query(100, ge=1, le=1000), offset: Offset = 0
) -> Any:
    """Internal addresses seen in alerts that match no asset (unmanaged-asset candidates)."""
    return service.unmanaged(db, limit=limit, offset=offset)


@router.get("/groups", response_model=list[GroupRead])
def list_groups(
    db: DbSession,
    principal: Reader,
    severity: str | None = None,
    system_id: Int32 | None = None,
    service_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    since: dt.datetime | None = None,
    open_only: bool = False,
    before_time: dt.datetime | None = Query(None, description="keyset page: the last group's last_seen..."),
    before_id: Int32 | None = Query(None, description="...and id (both or neither; instead of offset)"),
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Alert groups, newest last_seen first (what the console shows instead of raw lines)."""
    return groups.list_groups(
        db,
        severity=severity,
        system_id=system_id,
        service_id=service_id,
        zone_id=zone_id,
        since=since,
        open_only=open_only,
        before_time=before_time,
        before_id=before_id,
        limit=limit,
        offset=offset,
    )


@router.get("/suppressions", response_model=list[SuppressionRead])
def list_suppressions(db: DbSession, principal: Reader, active: bool | None = None) -> Any:
    return suppress.list_(db, active=active)


@router.post("/suppressions", response_model=SuppressionRead, status_code=201, responses=NOT_FOUND)
def add_suppression(body: SuppressionCreate, db: DbSession, principal: Writer) -> Any:
    """Suppress one rule on one target (asset or address), optionally from one attacker (audited)."""
    return suppress.add(db, **body.model_dump())


@router.delete("/suppressions/{suppression_id}", response_model=SuppressionRead)
def remove_suppression(suppression_id: Int32, db: DbSession, principal: Writer) -> Any:
    return suppress.remove(db, suppression_id=suppression_id)


@router.get("/warnings", response_model=list[WarningRead])
def list_warnings(
    db: DbSession,
    principal: Reader,
    state: str | None = None,
    level: str | None = None,
    rule: Text | None = None,
    since: dt.datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Early warnings (预警), newest last alert first."""
    return warnings.list_warnings(
        db, state=state, level=level, rule=rule, since=since, limit=limit, offset=offset,
        viewer_org=principal.organization_id,
    )  # fmt: skip


@router.get("/warnings/levels", response_model=list[WarningLevelRead])
def warning_levels(principal: Reader) -> Any:
    """红 / 橙 / 黄 / 蓝 and what each means."""
    return warnings.levels()


@router.post("/warnings/evaluate", response_model=WarningEvaluated)
def evaluate_warnings(db: DbSession, principal: Writer, since: dt.datetime | None = None) -> Any:
    """Evaluate the warning rules now (default: the day before the newest alert)."""
    return warnings.evaluate(db, since=since)


@router.get("/warnings/{warning_id}", response_model=WarningRead)
def get_warning(warning_id: Int32, db: DbSession, principal: Reader) -> Any:
    return warnings.get_warning(db, warning_id=warning_id, viewer_org=principal.organization_id)


@router.post("/warnings/{warning_id}/ack", response_model=WarningRead)
def ack_warning(warning_id: Int32, db: DbSession, principal: Writer) -> Any:
    return warnings.acknowledge(db, warning_id=warning_id, viewer_org=principal.organization_id)


@router.post("/warnings/{warning_id}/close", response_model=WarningRead)
def close_warning(warning_id: Int32, db: DbSession, principal: Writer) -> Any:
    return warnings.close(db, warning_id=warning_id, viewer_org=principal.organization_id)


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.get_alert(db, alert_id=alert_id)


@router.post("/import", response_model=AlertImportQueued, status_code=202)
def upload(
    db: DbSession,
    principal: Writer,
    kind: str = Form(..., description="suricata | wazuh | syslog | cef"),
    files: list[UploadFile] = File(...),
    options: Text | None = Form(None, description='JSON, e.g. {"timezone": "Asia/Shanghai"}'),
) -> Any:
    """Save the uploaded files and queue an ``alerts-import`` job (poll /api/jobs/{id}): one run, or on
    PostgreSQL, for files over ``$CIIMAP_ALERT_SPLIT_MB``, one run per part on the queue's workers."""
    source = sources.get(kind, family="alerts")
    opts = source.options(_options(options)).model_dump(mode="json", exclude_unset=True)
    with uploads.store(files).until_queued() as up:
        job = jobs.submit(
            db,
            ALERTS_IMPORT,  # PostgreSQL: a large file is split into parts for several workers
            {"kind": kind, "paths": [str(p) for p in up.paths], "options": opts},
            actor=principal.username,
            upload_dir=up.folder,
        )
    return {"job_id": job.id, "kind": kind, "files": [p.name for p in up.paths]}


@router.get("/console/groups", response_model=dict[str, Any])
def console_groups(
    db: DbSession,
    principal: Reader,
    severity: str | None = None,
    kind: str | None = None,
    system_id: Int32 | None = None,
    service_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    open_only: bool = False,
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """What the console shows: groups with names; ``severity`` is a minimum; ``more`` says whether a
    next page exists."""
    return console.console(
        db,
        severity=severity,
        kind=kind,
        system_id=system_id,
        service_id=service_id,
        zone_id=zone_id,
        since=since,
        until=until,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )


@router.get("/console/overlay", response_model=dict[str, Any])
def console_overlay(db: DbSession, principal: Reader) -> Any:
    """Under attack now (assets) and the warning level per system (the topology overlay)."""
    return console.overlay(db)


@router.get("/console/groups/{group_id}", response_model=dict[str, Any], responses=NOT_FOUND)
def console_group(group_id: Int32, db: DbSession, principal: Reader) -> Any:
    """One group with its raw alerts and how each address was mapped."""
    return console.group_detail(db, group_id=group_id)


@router.get("/console/warnings/{warning_id}", response_model=dict[str, Any], responses=NOT_FOUND)
def console_warning(warning_id: Int32, db: DbSession, principal: Reader) -> Any:
    """One warning with its evidence (the alerts of its scope) and names."""
    return console.warning_evidence(db, warning_id=warning_id, viewer_org=principal.organization_id)
