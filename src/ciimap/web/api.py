"""JSON for the browser: topology graph, neighbours, what-if, site map, dashboard, locale, base map.

Mounted under /api/ui. Thin handlers: parse, call a service, return data.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from ciimap.auth import service as auth
from ciimap.core.deps import Admin, DbSession, Reader
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Text
from ciimap.graph import command, topology
from ciimap.inventory import overview
from ciimap.sitemap import basemap as sitemap
from ciimap.web import dashboard, domains

router = APIRouter(prefix="/ui", tags=["Web UI"])


@router.get("/topology")
def get_topology(
    db: DbSession,
    principal: Reader,
    site_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    mlps_level: int | None = Query(None, ge=1, le=5),
    q: str | None = None,
    budget: int = Query(3000, ge=1, le=topology.MAX_BUDGET),
    overlays: bool = True,
) -> Response:
    """Nodes (with preset positions) and edges of the security map for the filter."""
    graph = topology.build(
        db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, q=q or None, budget=budget
    )
    if overlays:
        domains.annotate_nodes(db, graph["nodes"], viewer_org=principal.organization_id)
    return _json(graph)


def _json(data: dict[str, Any]) -> Response:
    """Plain json.dumps: thousands of nodes of str/int/float need no jsonable_encoder pass (5x faster)."""
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
    )


@router.get("/topology/overview")
def get_topology_overview(
    db: DbSession,
    principal: Reader,
    site_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    mlps_level: int | None = Query(None, ge=1, le=5),
    hot: int = Query(command.HOT, ge=0, le=500),
) -> Response:
    """The command map (services → systems → clusters, the riskiest assets) with the overlays."""
    graph = command.overview(db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, hot=hot)
    domains.annotate_command(db, graph, viewer_org=principal.organization_id)
    return _json(graph)


@router.get("/topology/cluster", responses=NOT_FOUND)
def get_topology_cluster(
    db: DbSession,
    principal: Reader,
    id: Text,  # noqa: A002
    budget: int = Query(command.CLUSTER_BUDGET, ge=1, le=command.MAX_CLUSTER_BUDGET),
    include: Int32 | None = None,
) -> Response:
    """A cluster's assets (most important first, at most ``budget``) with the overlays."""
    graph = command.cluster_assets(db, id, budget=budget, include=include)
    domains.annotate_nodes(db, graph["nodes"], viewer_org=principal.organization_id)
    return _json(graph)


@router.get("/topology/search")
def get_topology_search(
    db: DbSession, principal: Reader, q: Text, limit: int = Query(20, ge=1, le=200)
) -> list[dict[str, Any]]:
    return command.search(db, q, limit=limit)


@router.get("/topology/path", responses=NOT_FOUND)
def get_topology_path(db: DbSession, principal: Reader, src: Text, dst: Text) -> dict[str, Any]:
    return command.path(db, src, dst)


@router.get("/topology/neighbours", responses=NOT_FOUND)
def get_neighbours(db: DbSession, principal: Reader, type: str, id: Int32) -> dict[str, Any]:  # noqa: A002
    """Direct neighbours of a node, for expand-on-click."""
    graph = topology.neighbours(db, kind=type, ref=id)
    domains.annotate_nodes(db, graph["nodes"], viewer_org=principal.organization_id)
    return graph


@router.get("/impact", responses=NOT_FOUND)
def get_impact(db: DbSession, principal: Reader, type: str, id: Int32) -> dict[str, Any]:  # noqa: A002
    """What breaks if this node fails: failed and degraded node ids, with dependency paths."""
    return domains.impact(db, kind=type, ref=id)


@router.get("/sites")
def get_sites(db: DbSession, principal: Reader) -> dict[str, Any]:
    return {"sites": overview.site_map(db), "basemap": sitemap.basemap_meta()}


@router.get("/dashboard")
def get_dashboard(db: DbSession, principal: Reader) -> dict[str, Any]:
    return dashboard.summary(db, principal.organization_id)


@router.get(
    "/basemap",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}, "description": "GeoJSON"}, **NOT_FOUND},
)
def get_basemap(principal: Reader) -> Response:
    return Response(sitemap.load_basemap(), media_type="application/geo+json")


@router.post("/basemap")
async def upload_basemap(
    db: DbSession,
    principal: Admin,
    file: Annotated[UploadFile, File()],
    approval: Annotated[Text | None, Form()] = None,
) -> dict[str, Any]:
    """Admin only: store an approved GeoJSON base map (审图号 in ``approval``)."""
    data = await file.read(sitemap.MAX_BASEMAP_BYTES + 1)
    return sitemap.save_basemap(db, data=data, filename=file.filename or "basemap.geojson", approval=approval)


class LocaleIn(BaseModel):
    locale: Literal["zh-CN", "en"]


@router.patch("/locale", status_code=204)
def set_locale(data: LocaleIn, db: DbSession, principal: Reader) -> Response:
    """Switch the caller's own UI language (any role; it changes only the caller's preference)."""
    auth.set_locale(db, user_id=principal.user_id, locale=data.locale)
    return Response(status_code=204, headers={"HX-Refresh": "true"})
