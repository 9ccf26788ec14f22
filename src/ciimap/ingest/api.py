"""Ingest REST routes: upload-and-queue imports, runs, change events, why/link/unlink, unmanaged/ghosts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from ciimap import sources
from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid, NotFound
from ciimap.core.schemas import Int32, Offset, Text, check_value
from ciimap.ingest import changes, decisions
from ciimap.ingest.models import ImportRun
from ciimap.ingest.schemas import (
    AssetBrief,
    ChangePage,
    ImportQueued,
    LinkIn,
    RunRead,
    SourceRead,
    UnlinkIn,
)
from ciimap.ingest.service import describe_sources

router = APIRouter(tags=["Asset mapping"])


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
        check_value(opts)  # no NUL in its text, no integer beyond 64 bits
    except ValueError as e:
        raise Invalid(f"options: {e}") from None
    return opts


@router.post("/imports", response_model=ImportQueued, status_code=202)
def upload(
    db: DbSession,
    principal: Writer,
    kind: str = Form(...),
    files: list[UploadFile] = File(...),
    options: Text | None = Form(None, description='JSON, e.g. {"asset_id": 5}'),
    scope: Text | None = Form(None),
) -> Any:
    """Save the uploaded files under data_dir/uploads and queue an ``import`` job (poll /api/jobs/{id})."""
    source = sources.get(kind, family="assets")
    opts = source.options(_options(options)).model_dump(mode="json", exclude_unset=True)
    with uploads.store(files).until_queued() as up:
        job = jobs.submit(
            db,
            "import",
            {"kind": kind, "paths": [str(p) for p in up.paths], "options": opts, "scope": scope},
            actor=principal.username,
            upload_dir=up.folder,
        )
    return {"job_id": job.id, "kind": kind, "files": [p.name for p in up.paths]}


@router.get("/sources", response_model=list[SourceRead])
def list_sources(principal: Reader) -> Any:
    """Every import source (asset sources and vulnerability feeds): kind, names, and its options."""
    return describe_sources()


@router.get("/runs", response_model=list[RunRead])
def list_runs(
    db: DbSession,
    principal: Reader,
    kind: str | None = None,
    scope: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> Any:
    return changes.list_runs(db, kind=kind, scope=scope, limit=limit, offset=offset)


@router.get("/runs/{run_id}", response_model=RunRead)
def get_run(run_id: Int32, db: DbSession, principal: Reader) -> Any:
    run = db.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist")
    return run


@router.get("/changes", response_model=ChangePage)
def list_changes(
    db: DbSession,
    principal: Reader,
    run_id: Int32 | None = None,
    kind: str | None = None,
    asset_id: Int32 | None = None,
    since: dt.datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    return changes.list_changes(
        db, run_id=run_id, kind=kind, asset_id=asset_id, since=since, limit=limit, offset=offset
    )


@router.get("/assets/{asset_id}/why")
def why(asset_id: Int32, db: DbSession, principal: Reader) -> Any:
    return decisions.why(db, asset_id=asset_id)


@router.post("/assets/{asset_id}/link")
def link(asset_id: Int32, body: LinkIn, db: DbSession, principal: Writer) -> Any:
    return decisions.link(
        db, asset_id=asset_id, other_id=body.other_asset_id, key=body.key, value=body.value, note=body.note
    )


@router.post("/assets/{asset_id}/unlink")
def unlink(asset_id: Int32, body: UnlinkIn, db: DbSession, principal: Writer) -> Any:
    return decisions.unlink(db, asset_id=asset_id, key=body.key, value=body.value, note=body.note)


@router.get("/unmanaged", response_model=list[AssetBrief])
def unmanaged(
    db: DbSession, principal: Reader, limit: int = Query(500, ge=1, le=5000), offset: Offset = 0
) -> Any:
    return changes.unmanaged(db, limit=limit, offset=offset)


@router.get("/ghosts", response_model=list[AssetBrief])
def ghosts(
    db: DbSession, principal: Reader, limit: int = Query(500, ge=1, le=5000), offset: Offset = 0
) -> Any:
    return changes.ghosts(db, limit=limit, offset=offset)
