"""REST routes under /api/intel (thin: parse, call the service, render)."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile

from ciimap import sources
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid
from ciimap.core.schemas import Int32, Offset, Text, check_value
from ciimap.intel import service
from ciimap.intel.models import IndicatorType, Tlp
from ciimap.intel.schemas import IndicatorDetail, IndicatorRead, IntelImportQueued

router = APIRouter(prefix="/intel", tags=["Threat intelligence"])


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


@router.get("/indicators", response_model=list[IndicatorRead])
def list_indicators(
    db: DbSession,
    principal: Reader,
    type: IndicatorType | None = None,  # noqa: A002 - the filter's public name
    active: bool = False,
    source: Literal["stix", "misp"] | None = None,
    tlp: Tlp | None = None,
    value: Text | None = Query(None, max_length=1000),
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    """Indicators newest first; ``active=true``: only those matchable now (not expired)."""
    return service.list_indicators(
        db, type=type, active_only=active, source=source, tlp=tlp, value=value, limit=limit, offset=offset
    )


@router.get("/indicators/{indicator_id}", response_model=IndicatorDetail)
def get_indicator(indicator_id: Int32, db: DbSession, principal: Reader) -> Any:
    """One indicator with its raw object, the alerts and assets that matched it, and the advisories
    of the CVEs named with it."""
    return service.get_indicator(db, indicator_id=indicator_id)


@router.post("/import", response_model=IntelImportQueued, status_code=202)
def upload(
    db: DbSession,
    principal: Writer,
    kind: str = Form(..., description="stix | misp"),
    files: list[UploadFile] = File(...),
    options: Text | None = Form(None, description='JSON, e.g. {"valid_days": 90}'),
) -> Any:
    """Save the uploaded files and queue an ``import`` job (poll /api/jobs/{id}); one run, followed by
    the retro-hunt over stored alerts."""
    source = sources.get(kind, family="intel")
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
