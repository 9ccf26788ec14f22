"""Inventory commands: ``ciimap assets list --json`` and the same for every map entity."""

from __future__ import annotations

import typer

from ciimap.core.crud_cli import crud_app
from ciimap.inventory import service

NAME = ""  # mounts each entity as a top-level group (ciimap assets, ciimap systems, ...)
app = typer.Typer()

COLUMNS: dict[str, list[str]] = {
    "organizations": ["id", "name", "sector"],
    "contacts": ["id", "name", "department", "email", "phone"],
    "sites": ["id", "name", "kind", "city", "latitude", "longitude"],
    "zones": ["id", "name", "kind", "cidrs", "internet_facing", "site_id"],
    "business-services": ["id", "name", "criticality", "rto_minutes"],
    "systems": ["id", "name", "mlps_level", "is_cii", "criticality", "filing_number"],
    "vendors": ["id", "name", "country", "is_domestic"],
    "products": ["id", "name", "vendor_id", "layer", "auto_update", "update_privilege"],
    "assets": ["id", "name", "kind", "hostname", "primary_ip", "os_name", "zone_id", "lifecycle_status"],
    "endpoints": ["id", "asset_id", "address", "protocol", "port", "state", "name", "product", "version"],
    "software": ["id", "name", "version", "purl", "asset_id", "system_id"],
    "edges": ["id", "src_type", "src_id", "kind", "dst_type", "dst_id", "redundancy_group"],
}

GROUPS = [(spec.name, crud_app(spec, COLUMNS[spec.name])) for spec in service.SPECS]
#: Other domains add commands to these groups (e.g. ``ciimap assets why ID`` from ingest).
APPS: dict[str, typer.Typer] = dict(GROUPS)
