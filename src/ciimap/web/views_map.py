"""Dashboard, topology map and site map pages (their data comes from /api/ui/... as JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ciimap.core.deps import DbSession, Reader
from ciimap.inventory import overview
from ciimap.sitemap import basemap as sitemap
from ciimap.web import dashboard
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "dashboard.html",
        principal,
        active="dashboard",
        data=dashboard.summary(db, principal.organization_id),
    )


def _choices(db: DbSession) -> dict[str, Any]:
    return {**overview.place_choices(db), "levels": (1, 2, 3, 4, 5)}


@router.get("/topology")
def topology_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(request, "topology.html", principal, active="topology", **_choices(db))


@router.get("/sitemap")
def sitemap_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "sitemap.html",
        principal,
        active="sitemap",
        basemap=sitemap.basemap_meta(),
        sites=overview.site_map(db),
    )
