"""Generic list and detail pages for every registered entity (one template pair for all)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from ciimap.core import entity, export
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Conflict, Invalid
from ciimap.web import domains, entities, forms
from ciimap.web.i18n import Translator
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)


@router.get("/entities/{name}")
def list_page(
    request: Request,
    name: str,
    db: DbSession,
    principal: Reader,
    after: int | None = None,
    page: int = 1,
    limit: int = Query(entities.PAGE_SIZE, ge=10, le=200),
) -> Any:
    spec = entity.get_spec(name)
    params = dict(request.query_params)
    error = None
    try:
        view = entities.list_view(db, spec, params=params, after=after, limit=limit)
    except Invalid as e:  # a bad filter value: show the message above an unfiltered list
        error = e.message
        view = entities.list_view(db, spec, params={}, after=None)
    keep = {k: v for k, v in params.items() if k not in ("after", "page") and v}
    template = (
        "entities/rows.html" if request.headers.get("hx-target") == "entity-table" else "entities/list.html"
    )
    return render(
        request,
        template,
        principal,
        active=name,
        spec=spec,
        view=view,
        page=max(page, 1),
        keep=keep,
        error=error,
    )


@router.get("/entities/{name}/export")
def export_list(
    request: Request,
    name: str,
    db: DbSession,
    principal: Reader,
    format: str = "csv",  # noqa: A002 (the query parameter's name)
    columns: str = "",
) -> Any:
    """The list as CSV or XLSX: the same filters and search as the page, the chosen columns, labels
    and values in the user's language (audited; rows streamed by :mod:`ciimap.core.export`)."""
    spec = entity.get_spec(name)
    params = dict(request.query_params)
    filters = entities.parse_filters(spec, params)
    q = (params.get("q") or "").strip() or None
    t = Translator(locale_for(request, principal))
    job = export.begin(
        db,
        spec,
        fmt=format,
        filters=filters,
        q=q,
        columns=columns.split(",") if columns else None,
        interface="web",
    )
    header = [t.field(c) for c in job["columns"]]
    body = export.rows(
        spec, filters=filters, q=q, columns=job["columns"], cell=entities.export_cell(t, spec.name)
    )
    stream = (
        export.csv_stream(header, body)
        if format == "csv"
        else export.xlsx_stream(header, body, title=t.label(spec))
    )
    return StreamingResponse(
        stream,
        media_type=job["media_type"],
        headers={"Content-Disposition": f'attachment; filename="{job["filename"]}"'},
    )


def _form(request: Request, principal: Any, spec: Any, obj: Any, error: str | None, status: int = 200) -> Any:
    return render(
        request,
        "entities/form.html",
        principal,
        active=spec.name,
        spec=spec,
        obj=obj,
        fields=forms.fields(spec, obj),
        error=error,
        status_code=status,
    )


@router.get("/entities/{name}/new")
def new_form(request: Request, name: str, principal: Writer) -> Any:
    return _form(request, principal, entity.get_spec(name), None, None)


@router.get("/entities/{name}/{obj_id}/edit")
def edit_form(request: Request, name: str, obj_id: int, db: DbSession, principal: Writer) -> Any:
    spec = entity.get_spec(name)
    return _form(request, principal, spec, entity.get(db, spec, obj_id), None)


@router.post("/entities/{name}/new")
async def create(request: Request, name: str, db: DbSession, principal: Writer) -> Any:
    spec = entity.get_spec(name)
    principal.require(spec.write_permission)
    data = forms.parse(spec, {k: str(v) for k, v in (await request.form()).items()}, partial=False)
    try:
        obj = entity.create(db, spec, data)
    except (Invalid, Conflict) as e:  # show the message on the form; nothing of this request is kept
        db.rollback()
        return _form(request, principal, spec, None, e.message, status=422)
    return Response(status_code=204, headers={"HX-Redirect": f"/entities/{name}/{obj.id}"})


@router.post("/entities/{name}/{obj_id}/edit")
async def update(request: Request, name: str, obj_id: int, db: DbSession, principal: Writer) -> Any:
    spec = entity.get_spec(name)
    principal.require(spec.write_permission)
    data = forms.parse(spec, {k: str(v) for k, v in (await request.form()).items()}, partial=True)
    try:
        entity.update(db, spec, obj_id, data)
    except (Invalid, Conflict) as e:
        db.rollback()
        return _form(request, principal, spec, entity.get(db, spec, obj_id), e.message, status=422)
    return Response(status_code=204, headers={"HX-Redirect": f"/entities/{name}/{obj_id}"})


@router.get("/entities/{name}/{obj_id}")
def detail_page(request: Request, name: str, obj_id: int, db: DbSession, principal: Reader) -> Any:
    spec = entity.get_spec(name)
    view = entities.detail_view(db, spec, obj_id, with_history=principal.can("audit"))
    extra = {}
    if name == "assets":
        extra = domains.asset_extras(db, obj_id)
    return render(
        request,
        "entities/detail.html",
        principal,
        active=name,
        spec=spec,
        view=view,
        extra=extra,
        node_type=entities.node_type(spec),
    )
