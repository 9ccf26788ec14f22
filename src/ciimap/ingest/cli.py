"""``ciimap import KIND FILE...``, ``ciimap changes``, ``ciimap runs list``, ``ciimap unmanaged`` and
``ciimap ghosts`` (``ciimap assets why/link/unlink``: ``assets_cli.py``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from ciimap import sources
from ciimap.core import jobs
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid, check_choice
from ciimap.core.importer import FAMILIES, named_options
from ciimap.core.output import err_console, print_json, print_table, to_data
from ciimap.ingest import changes, service
from ciimap.ingest.schemas import AssetBrief, ChangeRead, RunRead

top = typer.Typer()
runs_app = typer.Typer(help="Import and scan runs (history)", no_args_is_help=True)
GROUPS = [("", top), ("runs", runs_app)]


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise Invalid(f"--map '{p}': expected COLUMN=field")
        col, field = p.split("=", 1)
        out[col.strip()] = field.strip()
    return out


def run_import(kind: str, files: list[Path], options: Any, *, scope: str | None = None) -> Any:
    """One import run through the one runner, with a progress bar on stderr: what every
    ``... import KIND FILE...`` command does (assets, alerts, intelligence)."""
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with bar:
        task = bar.add_task(f"{kind} import", total=None)
        progress = jobs.Progress(
            None, callback=lambda done, total, _m: bar.update(task, completed=done, total=total)
        )
        with get_database().unit_of_work() as db:
            return service.import_files(
                db, kind=kind, paths=files, progress=progress, options=options, scope=scope
            )


@top.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("assets"))),
    files: list[Path] = typer.Argument(..., help="files to import (one run)"),
    asset: int | None = typer.Option(None, "--asset", help="attach an SBOM / osquery result to this asset"),
    system: int | None = typer.Option(None, "--system", help="attach an SBOM to this system"),
    map_: list[str] = typer.Option([], "--map", help="register column mapping COLUMN=field (repeatable)"),
    encoding: str | None = typer.Option(
        None, "--encoding", help="register encoding (default: UTF-8, else GBK/GB18030)"
    ),
    scope: str | None = typer.Option(
        None, "--scope", help="run scope for change detection (default: from the file)"
    ),
    keys: str | None = typer.Option(
        None, "--keys", help="identity keys, strongest first, e.g. serial,mac,ip"
    ),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="any option of the source as NAME=VALUE (see 'ciimap sources --json')"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Import files as one all-or-nothing run and print what changed ('ciimap sources' lists the kinds)."""
    source = sources.get(kind, family="assets")
    options: dict[str, Any] = {}
    if asset is not None:
        options["asset_id"] = asset
    if system is not None:
        options["system_id"] = system
    if map_:
        options["mapping"] = _mapping(map_)
    if encoding:
        options["encoding"] = encoding
    if keys:
        options["identity_keys"] = [k.strip() for k in keys.split(",") if k.strip()]
    options.update(named_options(option))
    result = run_import(kind, files, source.options(options), scope=scope)
    if as_json:
        print_json(result)
        return
    print_table(
        [
            {
                k: result[k]
                for k in (
                    "run_id",
                    "kind",
                    "scope",
                    "assets_created",
                    "assets_updated",
                    "assets_unchanged",
                    "missing",
                    "changes",
                )
            }
        ],
        [
            "run_id",
            "kind",
            "scope",
            "assets_created",
            "assets_updated",
            "assets_unchanged",
            "missing",
            "changes",
        ],
        title="import",
    )


@top.command("sources")
def sources_(
    family: str | None = typer.Option(None, "--family", help="assets | feeds | alerts | intel"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    markdown: bool = typer.Option(False, "--markdown", help="the table of docs/importing.md"),
) -> None:
    """Every source ciimap imports: kind, names and options (the registry in ciimap/sources.py)."""
    check_choice("--family", family, FAMILIES)
    if markdown:
        typer.echo(service.sources_markdown(), nl=False)
        return
    items = service.describe_sources(family)
    if as_json:
        print_json(items)
    else:
        print_table(items, ["kind", "family", "label_zh", "label_en", "summary"], title="sources")


@top.command("changes")
def changes_(
    run: int | None = typer.Option(None, "--run", help="only this run"),
    since: dt.datetime | None = typer.Option(None, "--since", help="only events at/after this time (ISO)"),
    kind: str | None = typer.Option(None, "--kind", help="asset_new, port_opened, port_closed, ..."),
    asset: int | None = typer.Option(None, "--asset"),
    limit: int = typer.Option(100),
    offset: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Change events between runs over the same scope."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    with get_database().read_session() as db:
        page = changes.list_changes(
            db, run_id=run, kind=kind, asset_id=asset, since=since, limit=limit, offset=offset
        )
        items = [to_data(e, ChangeRead) for e in page["items"]]
    if as_json:
        print_json({**page, "items": items})
    else:
        print_table(
            items, ["id", "run_id", "asset_id", "kind", "subject", "before", "after", "at"], title="changes"
        )


@runs_app.command("list")
def runs_list(
    kind: str | None = typer.Option(None),
    scope: str | None = typer.Option(None),
    limit: int = typer.Option(50),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Import/scan runs, newest first (failed runs included, with their error)."""
    with get_database().read_session() as db:
        items = [to_data(r, RunRead) for r in changes.list_runs(db, kind=kind, scope=scope, limit=limit)]
    if as_json:
        print_json(items)
    else:
        print_table(
            items, ["id", "kind", "scope", "status", "started_at", "finished_at", "error"], title="runs"
        )


def _assets(fn: Any, title: str, as_json: bool) -> None:
    with get_database().read_session() as db:
        items = [to_data(a, AssetBrief) for a in fn(db)]
    if as_json:
        print_json(items)
    else:
        print_table(
            items, ["id", "name", "hostname", "primary_ip", "kind", "lifecycle_status", "source"], title=title
        )


@top.command("unmanaged")
def unmanaged_(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Observed assets absent from the declared register."""
    _assets(changes.unmanaged, "unmanaged assets", as_json)


@top.command("ghosts")
def ghosts_(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Declared assets never observed by a scan or agent."""
    _assets(changes.ghosts, "ghost assets", as_json)
