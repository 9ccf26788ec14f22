"""Inventory commands: ``ciimap assets list --json`` and the same for every map entity, and the
map's figures: ``ciimap overview`` (``ciimap sitemap``: ciimap/sitemap/cli.py)."""

from __future__ import annotations

import typer

from ciimap.core.crud_cli import crud_app
from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table
from ciimap.inventory import overview, service
from ciimap.inventory.schemas import Overview

app = typer.Typer()  # top-level commands: overview

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

#: One group per map entity (``ciimap assets``, ``ciimap systems``, ...): list/get/create/update/delete.
#: Other domains add commands to a group from their own module (``ciimap assets why``: ingest/assets_cli.py),
#: listed in ``ciimap.cli.SUBCOMMANDS``.
GROUPS = [*((spec.name, crud_app(spec, COLUMNS[spec.name])) for spec in service.SPECS), ("", app)]


@app.command("overview")
def overview_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts and 30-day trends over the whole map (the dashboard's figures)."""
    with get_database().read_session() as db:
        data = Overview.model_validate(overview.overview(db)).model_dump(mode="json")
    if as_json:
        print_json(data)
        return
    print_table(
        [{"figure": k, "count": v} for k, v in data["counts"].items()],
        ["figure", "count"],
        title="总览 Overview",
    )
    for name in ("assets_by_kind", "assets_by_lifecycle", "systems_by_mlps"):
        print_table(
            [{"value": k, "count": n} for k, n in data["charts"][name]], ["value", "count"], title=name
        )
