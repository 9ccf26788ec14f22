"""Inventory REST routes: generic CRUD for every map entity."""

from __future__ import annotations

from ciimap.core.crud_api import crud_router
from ciimap.inventory import service as _service

router = [crud_router(spec) for spec in _service.SPECS]
