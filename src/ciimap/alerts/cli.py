"""``ciimap alerts import|list|show|unmanaged``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ciimap import sources
from ciimap.alerts import service
from ciimap.core.db import get_database
from ciimap.core.importer import named_options
from ciimap.core.output import print_json, print_table
from ciimap.ingest import service as runner

app = typer.Typer(
    help="Alerts from sensors (Suricata, Wazuh, syslog, CEF) on the map (监测)", no_args_is_help=True
)
GROUPS = [("alerts", app)]


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("alerts"))),
    files: list[Path] = typer.Argument(..., help="files to import (one run)"),
    timezone: str | None = typer.Option(
        None, "--timezone", help="zone of times without one (default: the site's)"
    ),
    option: list[str] = typer.Option([], "--option", "-o", help="any option of the source as NAME=VALUE"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Import alert files as one run; prints events and rejected lines (never lost: kept raw)."""
    source = sources.get(kind, family="alerts")
    options = named_options(option)
    if timezone:
        options["timezone"] = timezone
    with get_database().unit_of_work() as db:
        result = runner.import_files(db, kind=kind, paths=files, options=source.options(options))
    if as_json:
        print_json(result)
        return
    cols = ["run_id", "kind", "events", "rejected", "skipped", "mapped", "candidates"]
    print_table([{k: result[k] for k in cols}], cols, title="alerts import")


@app.command("list")
def list_(
    severity: str | None = typer.Option(None, help="low | medium | high | critical"),
    priority: str | None = typer.Option(None, help="low | medium | high | critical"),
    asset: int | None = typer.Option(None, "--asset"),
    system: int | None = typer.Option(None, "--system"),
    service_id: int | None = typer.Option(None, "--service"),
    zone: int | None = typer.Option(None, "--zone"),
    since: dt.datetime | None = typer.Option(None, "--since", help="only alerts at/after this time (ISO)"),
    kind: str | None = typer.Option(None, "--kind", help=" | ".join(sources.kinds("alerts"))),
    rejected: bool | None = typer.Option(
        None, "--rejected/--accepted", help="only rejected / accepted lines"
    ),
    limit: int = typer.Option(100, min=1, max=100000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Alerts newest first, with the threat-intelligence values each matched (intel_matches)."""
    with get_database().read_session() as db:
        items = service.list_alerts(
            db,
            severity=severity,
            priority=priority,
            asset_id=asset,
            system_id=system,
            service_id=service_id,
            zone_id=zone,
            since=since,
            kind=kind,
            rejected=rejected,
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(items)
        return
    cols = ["id", "time", "kind", "severity", "priority", "src_ip", "dest_ip", "dest_asset_id", "rule_name"]
    print_table(items, cols, title="alerts")


@app.command("show")
def show(
    alert_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """One alert: its raw line and how it was mapped."""
    with get_database().read_session() as db:
        data = service.get_alert(db, alert_id=alert_id)
    if as_json:
        print_json(data)
        return
    print_table(
        [{k: v for k, v in data.items() if k != "mapping"}],
        ["id", "time", "kind", "severity", "priority", "raw"],
    )
    print_json(data["mapping"])


@app.command("unmanaged")
def unmanaged(
    limit: int = typer.Option(100, min=1, max=100000),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Internal addresses in alerts that match no asset (unmanaged-asset candidates)."""
    with get_database().read_session() as db:
        items = service.unmanaged(db, limit=limit)
    if as_json:
        print_json(items)
        return
    print_table(items, ["ip", "alerts", "first_seen", "last_seen", "zone_id"], title="unmanaged candidates")
