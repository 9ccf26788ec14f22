"""Site map routes: the geographic view, the logical view and the approved base map (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from ciimap.core.deps import Admin, DbSession, Reader
from ciimap.core.errors import NotFound
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Text
from ciimap.sitemap import basemap, logical, service

router = APIRouter(prefix="/sitemap", tags=["Site map"])


@router.get("/view")
def get_view(db: DbSession, principal: Reader) -> dict[str, Any]:
    """Sites with risk, exposure, open incidents and warnings; bounds, graticule step, cluster ladder."""
    return service.view(db, viewer_org=principal.organization_id)


@router.get("/logical")
def get_logical(db: DbSession, principal: Reader, site_id: Int32 | None = None) -> dict[str, Any]:
    """Network zones with their risk and the links between them (edges aggregated per zone pair)."""
    return logical.logical(db, site_id=site_id)


@router.get("/basemap", responses=NOT_FOUND)
def get_basemap_meta(principal: Reader) -> dict[str, Any]:
    """The base map in use: file name, features, approval number (审图号); 404 without one."""
    meta = basemap.basemap_meta()
    if meta is None:
        raise NotFound("no base map uploaded")
    return meta


@router.put("/basemap")
async def put_basemap(
    db: DbSession,
    principal: Admin,
    file: Annotated[UploadFile, File()],
    approval: Annotated[Text | None, Form()] = None,
) -> dict[str, Any]:
    """Store an approved GeoJSON base map (replacing any earlier one); 413 over the size limit, 422 when
    it is not a GeoJSON FeatureCollection in longitude/latitude."""
    data = await file.read(basemap.MAX_BASEMAP_BYTES + 1)
    return basemap.save_basemap(db, data=data, filename=file.filename or "basemap.geojson", approval=approval)


@router.delete("/basemap", status_code=204, responses=NOT_FOUND)
def delete_basemap(db: DbSession, principal: Admin) -> Response:
    """Remove the base map: the site map draws on the plain grid again."""
    if not basemap.clear_basemap(db):
        raise NotFound("no base map uploaded")
    return Response(status_code=204)
