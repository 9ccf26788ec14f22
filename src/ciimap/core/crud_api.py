"""Generic REST routes (list/filter/search/paginate, read, create, update, delete) per EntitySpec."""

import inspect
from typing import Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import StreamingResponse

from ciimap.core import entity as svc
from ciimap.core import export, listing
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.entity import EntitySpec
from ciimap.core.schemas import Int32, Offset, Page


def _list_endpoint(spec: EntitySpec) -> Any:
    fast = listing.json_fields(spec) is not None

    def endpoint(db: DbSession, principal: Reader, **kwargs: Any) -> Any:
        filters = {k: kwargs.pop(k) for k in list(kwargs) if k in spec.filters}
        if fast:  # plain column projection: JSON straight from the rows (same output, see listing)
            return Response(
                listing.page_json(db, spec, filters=filters, **kwargs), media_type="application/json"
            )
        return svc.list_page(db, spec, filters=filters, **kwargs)

    params = [
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
        inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=Reader),
        inspect.Parameter(
            "q",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str | None,
            default=Query(None, description="case-insensitive prefix search over " + ", ".join(spec.search)),
        ),
        inspect.Parameter(
            "limit", inspect.Parameter.KEYWORD_ONLY, annotation=int, default=Query(50, ge=1, le=svc.MAX_LIMIT)
        ),
        inspect.Parameter("offset", inspect.Parameter.KEYWORD_ONLY, annotation=Offset, default=0),
        inspect.Parameter(
            "after",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Int32 | None,
            default=Query(None, description="keyset cursor (next_after of the previous page)"),
        ),
        inspect.Parameter("with_total", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=Query(True)),
    ]
    for fname, ftype in spec.filters.items():
        kind = Int32 if ftype is int else ftype  # an id or a port: bounded like every integer input
        params.append(
            inspect.Parameter(
                fname, inspect.Parameter.KEYWORD_ONLY, annotation=kind | None, default=Query(None)
            )
        )
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def _export_endpoint(spec: EntitySpec) -> Any:
    def endpoint(db: DbSession, principal: Reader, **kwargs: Any) -> Any:
        fmt, columns, q = kwargs.pop("format"), kwargs.pop("columns"), kwargs.pop("q")
        filters = {k: v for k, v in kwargs.items() if k in spec.filters and v is not None}
        cols = columns.split(",") if columns else None
        job = export.begin(db, spec, fmt=fmt, filters=filters, q=q, columns=cols, interface="api")
        body = export.rows(spec, filters=filters, q=q, columns=job["columns"], cell=export.plain_cell)
        stream = (
            export.csv_stream(job["columns"], body)
            if fmt == "csv"
            else export.xlsx_stream(job["columns"], body, title=spec.name)
        )
        return StreamingResponse(
            stream,
            media_type=job["media_type"],
            headers={"Content-Disposition": f'attachment; filename="{job["filename"]}"'},
        )

    params = [
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=DbSession),
        inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=Reader),
        inspect.Parameter(
            "format",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str,
            default=Query("csv", pattern="^(csv|xlsx)$", description="csv or xlsx"),
        ),
        inspect.Parameter(
            "columns",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str,
            default=Query("", max_length=2000, description="comma-separated fields (default: all)"),
        ),
        inspect.Parameter(
            "q",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str | None,
            default=Query(None, max_length=200, description="the list's search"),
        ),
    ]
    for fname, ftype in spec.filters.items():
        kind = Int32 if ftype is int else ftype
        params.append(
            inspect.Parameter(
                fname, inspect.Parameter.KEYWORD_ONLY, annotation=kind | None, default=Query(None)
            )
        )
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def crud_router(spec: EntitySpec) -> APIRouter:
    router = APIRouter(prefix=f"/{spec.name}", tags=[spec.label_en or spec.name])
    read, create, update = spec.read, spec.create, spec.update

    router.add_api_route(
        "",
        _list_endpoint(spec),
        methods=["GET"],
        response_model=Page[read],  # type: ignore[valid-type]
        summary=f"List {spec.name}",
    )

    router.add_api_route(
        "/export",
        _export_endpoint(spec),
        methods=["GET"],
        summary=f"Export {spec.name} as CSV or XLSX (the list's filters and search; audited)",
        response_class=StreamingResponse,
        responses={200: {"content": {t: {} for t in export.FORMATS.values()}}},
    )

    @router.get("/{obj_id}", response_model=read, summary=f"Get one of {spec.name}")
    def get_one(obj_id: Int32, db: DbSession, principal: Reader) -> Any:
        return svc.get(db, spec, obj_id)

    @router.post("", response_model=read, status_code=201, summary=f"Create one of {spec.name}")
    def create_one(db: DbSession, principal: Writer, data: create = Body(...)) -> Any:  # type: ignore[valid-type]
        return svc.create(db, spec, data)

    @router.patch("/{obj_id}", response_model=read, summary=f"Update one of {spec.name}")
    def update_one(obj_id: Int32, db: DbSession, principal: Writer, changes: update = Body(...)) -> Any:  # type: ignore[valid-type]
        return svc.update(db, spec, obj_id, changes)

    @router.delete("/{obj_id}", status_code=204, summary=f"Delete one of {spec.name}")
    def delete_one(obj_id: Int32, db: DbSession, principal: Writer) -> Response:
        svc.delete(db, spec, obj_id)
        return Response(status_code=204)

    return router
