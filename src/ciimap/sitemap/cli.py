"""``ciimap sitemap``: the sites (``--json``), the geographic and logical views, and the approved base map
(``ciimap sitemap basemap set FILE --approval 审图号``, ``show``, ``clear``)."""

from __future__ import annotations

from pathlib import Path

import typer

from ciimap.core.db import get_database
from ciimap.core.errors import NotFound
from ciimap.core.output import print_json, print_table
from ciimap.inventory import overview
from ciimap.inventory.schemas import SiteOnMap
from ciimap.sitemap import basemap, logical, service

HELP = "Site map: sites with counts (--json), the geographic and logical views, the approved base map."
app = typer.Typer(help=HELP, invoke_without_command=True)
base_app = typer.Typer(help="The approved GeoJSON base map (审图号): set, show, clear.")
app.add_typer(base_app, name="basemap")
GROUPS = [("sitemap", app)]


@app.callback()
def sites(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every site with its coordinates and its asset, missing-asset and zone counts."""
    if ctx.invoked_subcommand is not None:
        return
    with get_database().read_session() as db:
        rows = [SiteOnMap.model_validate(x).model_dump(mode="json") for x in overview.site_map(db)]
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["id", "name", "city", "lat", "lon", "assets", "missing", "zones"], title="站点地图 Site map"
    )


@app.command("view")
def view_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Sites with risk, exposure, open incidents and warnings; bounds and clusters (the page's data)."""
    with get_database().read_session() as db:
        data = service.view(db)
    if as_json:
        print_json(data)
        return
    cols = ["id", "name", "city", "assets", "systems", "risk", "exposed", "incidents", "warning"]
    print_table(data["sites"], cols, title="站点地图 Site map")
    if data["bounds"]:
        b = data["bounds"]
        typer.echo(f"bounds: W {b['west']} S {b['south']} E {b['east']} N {b['north']}")


@app.command("logical")
def logical_cmd(
    site: int | None = typer.Option(None, "--site", help="only this site's zones"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Network zones with their risk and the links between them (edges per zone pair)."""
    with get_database().read_session() as db:
        data = logical.logical(db, site_id=site)
    if as_json:
        print_json(data)
        return
    print_table(
        data["zones"], ["id", "name", "kind", "assets", "risk", "exposure", "internal"], title="区域 Zones"
    )
    print_table(data["links"], ["source", "target", "count"], title="区域间连接 Links")


@base_app.command("set")
def basemap_set(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    approval: str | None = typer.Option(None, "--approval", help="the map's approval number (审图号)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate and store an approved GeoJSON FeatureCollection as the site map's base map (audited)."""
    with file.open("rb") as fh:
        data = fh.read(basemap.MAX_BASEMAP_BYTES + 1)
    with get_database().unit_of_work() as db:
        meta = basemap.save_basemap(db, data=data, filename=file.name, approval=approval)
    if as_json:
        print_json(meta)
        return
    typer.echo(f"base map {meta['filename']}: {meta['features']} features, 审图号 {meta['approval'] or '—'}")


@base_app.command("show")
def basemap_show(as_json: bool = typer.Option(False, "--json")) -> None:
    """The base map in use (exit 3 without one)."""
    meta = basemap.basemap_meta()
    if meta is None:
        raise NotFound("no base map uploaded")
    if as_json:
        print_json(meta)
        return
    typer.echo(f"{meta['filename']}: {meta['features']} features, 审图号 {meta['approval'] or '—'}")


@base_app.command("clear")
def basemap_clear() -> None:
    """Remove the base map (the site map draws on the plain grid again; audited)."""
    with get_database().unit_of_work() as db:
        removed = basemap.clear_basemap(db)
    typer.echo("base map removed" if removed else "no base map")
