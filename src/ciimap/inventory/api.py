"""Inventory REST routes: generic CRUD for every map entity, and the map's overview figures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ciimap.core.crud_api import crud_router
from ciimap.core.deps import DbSession, Reader
from ciimap.inventory import overview
from ciimap.inventory import service as _service
from ciimap.inventory.schemas import Overview, SiteOnMap

figures = APIRouter(tags=["Map overview"])


@figures.get("/overview", response_model=Overview)
def get_overview(db: DbSession, principal: Reader) -> Any:
    """Counts and 30-day trends over the whole map (the dashboard's figures)."""
    return overview.overview(db)


@figures.get("/sitemap", response_model=list[SiteOnMap])
def get_sitemap(db: DbSession, principal: Reader) -> Any:
    """Every site with its coordinates (null when unknown) and its asset, missing and zone counts."""
    return overview.site_map(db)


router = [*(crud_router(spec) for spec in _service.SPECS), figures]
