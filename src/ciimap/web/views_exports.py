"""``GET /export/<list>``: CSV/XLSX of the findings, change feed, incidents, alert console and warnings
lists with the page's filters and the chosen columns (definitions in :mod:`ciimap.web.list_exports`;
check, audit and streaming in :mod:`ciimap.core.export`, as for the entity lists)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ciimap.core import export
from ciimap.core.deps import DbSession, Reader
from ciimap.web.i18n import Translator
from ciimap.web.list_exports import LISTS, ListExport
from ciimap.web.render import locale_for

#: Under ``/export/``: no list page's ``/<list>/{id}`` route can take the word "export" for an id.
router = APIRouter(include_in_schema=False)


def _route(lx: ListExport) -> Any:
    def export_list(
        request: Request,
        db: DbSession,
        principal: Reader,
        format: str = "csv",  # noqa: A002 (the query parameter's name)
        columns: str = "",
    ) -> Any:
        params = dict(request.query_params)
        org = principal.organization_id
        filters = lx.filters(params, org)
        t = Translator(locale_for(request, principal))
        job = export.begin_list(
            db,
            lx.name,
            fmt=format,
            known=list(lx.columns),
            columns=columns.split(",") if columns else None,
            filters=filters,
            interface="web",
        )
        cols = job["columns"]
        header = [t(lx.columns[c][0]) for c in cols]
        cells = [lx.columns[c][1] for c in cols]
        rows = export.paged(lambda s, offset, limit: lx.fetch(s, filters, org, offset, limit), batch=lx.batch)
        body = ([cell(r, t) for cell in cells] for r in rows)
        stream = (
            export.csv_stream(header, body)
            if format == "csv"
            else export.xlsx_stream(header, body, title=t(f"nav.{lx.name}"))
        )
        return StreamingResponse(
            stream,
            media_type=job["media_type"],
            headers={"Content-Disposition": f'attachment; filename="{job["filename"]}"'},
        )

    export_list.__name__ = f"export_{lx.name}"
    return export_list


for _lx in LISTS.values():
    router.add_api_route(f"/export/{_lx.name}", _route(_lx), methods=["GET"])
