"""REST routes under /api/alerts (thin: parse, call the service, render)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from ciimap import sources
from ciimap.alerts import service
from ciimap.alerts.schemas import AlertDetail, AlertImportQueued, AlertRead, CandidateRead
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid
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


@router.get("", response_model=list[AlertRead])
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
        limit=limit,
        offset=offset,
    )


@router.get("/unmanaged", response_model=list[CandidateRead])
def unmanaged(
    db: DbSession, principal: Reader, limit: int = Query(100, ge=1, le=1000), offset: Offset = 0
) -> Any:
    """Internal addresses seen in alerts that match no asset (unmanaged-asset candidates)."""
    return service.unmanaged(db, limit=limit, offset=offset)


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
    """Save the uploaded files and queue an ``import`` job (poll /api/jobs/{id}); one run."""
    source = sources.get(kind, family="alerts")
    opts = source.options(_options(options)).model_dump(mode="json", exclude_unset=True)
    with uploads.store(files).until_queued() as up:
        job = jobs.submit(
            db,
            "import",
            {"kind": kind, "paths": [str(p) for p in up.paths], "options": opts, "scope": None},
            actor=principal.username,
            upload_dir=up.folder,
        )
    return {"job_id": job.id, "kind": kind, "files": [p.name for p in up.paths]}
