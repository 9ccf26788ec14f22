"""``ciimap intel import|list|show``."""

from __future__ import annotations

from pathlib import Path

import typer

from ciimap import sources
from ciimap.core.db import get_database
from ciimap.core.importer import named_options
from ciimap.core.output import print_json, print_table
from ciimap.ingest.cli import run_import
from ciimap.intel import service

app = typer.Typer(help="Threat intelligence (威胁情报): STIX 2.1 and MISP indicators", no_args_is_help=True)
GROUPS = [("intel", app)]


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("intel"))),
    files: list[Path] = typer.Argument(..., help="files to import (one run)"),
    valid_days: int | None = typer.Option(
        None, "--valid-days", help="expiry in days for indicators the file gives none"
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="any option of the source as NAME=VALUE"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Import intelligence files as one run, then match the new indicators against stored alerts."""
    source = sources.get(kind, family="intel")
    options = named_options(option)
    if valid_days is not None:
        options["valid_days"] = valid_days
    result = run_import(kind, files, source.options(options))
    if as_json:
        print_json(result)
        return
    row = {**{k: result[k] for k in ("run_id", "kind", "indicators", "complex")}}
    row["retro_hunt_alerts"] = result["retro_hunt"]["alerts"]
    print_table([row], list(row), title="intel import")
    for w in result["warnings"]:
        typer.echo(f"warning: {w}", err=True)


@app.command("list")
def list_(
    type_: str | None = typer.Option(None, "--type", help="ip | domain | url | hash | other"),
    active: bool = typer.Option(False, "--active", help="only indicators matchable now (not expired)"),
    source: str | None = typer.Option(None, "--source", help=" | ".join(sources.kinds("intel"))),
    tlp: str | None = typer.Option(None, "--tlp", help="clear | green | amber | amber+strict | red"),
    value: str | None = typer.Option(None, "--value", help="exactly this value"),
    limit: int = typer.Option(100, min=1, max=100000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Indicators newest first."""
    if source is not None:
        sources.get(source, family="intel")
    with get_database().read_session() as db:
        items = service.list_indicators(
            db,
            type=type_,
            active_only=active,
            source=source,
            tlp=tlp,
            value=value,
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(items)
        return
    print_table(
        items, ["id", "type", "value", "tlp", "source", "valid_until", "active", "name"], title="intel"
    )


@app.command("show")
def show(
    indicator_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """One indicator: its object, the alerts and assets that matched it, the advisories it names."""
    with get_database().read_session() as db:
        data = service.get_indicator(db, indicator_id=indicator_id)
    if as_json:
        print_json(data)
        return
    print_table([data], ["id", "type", "value", "tlp", "source", "confidence", "valid_until", "alerts"])
    for key in ("assets", "advisories", "findings"):
        if data[key]:
            print_table(data[key], list(data[key][0]), title=key)
