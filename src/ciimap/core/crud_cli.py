"""Generic CLI commands (list/get/create/update/delete) for an EntitySpec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ciimap.core import entity as svc
from ciimap.core import export
from ciimap.core.db import get_database
from ciimap.core.entity import EntitySpec
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table, to_data


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are parsed as JSON when they look like JSON (numbers, lists, bools)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise Invalid(f"'{pair}' is not key=value")
        key, raw = pair.split("=", 1)
        key = key.strip()
        try:
            value: Any = json.loads(raw) if raw[:1] in '[{"-0123456789tfn' else raw
        except json.JSONDecodeError:
            value = raw
        out[key] = value
    return out


def _coerce_filters(spec: EntitySpec, pairs: list[str]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for key, value in parse_assignments(pairs).items():
        if key not in spec.filters:
            raise Invalid(f"cannot filter {spec.name} by '{key}' (filters: {', '.join(spec.filters)})")
        typ = spec.filters[key]
        try:
            filters[key] = (str(value).lower() in ("1", "true", "yes")) if typ is bool else typ(value)
        except (TypeError, ValueError):
            raise Invalid(f"filter {key}: '{value}' is not a {typ.__name__}") from None
    return filters


def crud_app(spec: EntitySpec, columns: list[str]) -> typer.Typer:
    app = typer.Typer(help=f"{spec.label_en or spec.name} ({spec.label_zh})", no_args_is_help=True)

    @app.command("list")
    def list_(
        filter_: list[str] = typer.Option([], "--filter", "-f", help="field=value (repeatable)"),
        q: str | None = typer.Option(None, "--q", "-q", help="prefix search"),
        limit: int = typer.Option(50, help="page size (max 500)"),
        offset: int = typer.Option(0),
        after: int | None = typer.Option(None, help="keyset cursor"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ) -> None:
        """List with filters, search and pagination."""
        with get_database().read_session() as db:
            page = svc.list_page(
                db, spec, filters=_coerce_filters(spec, filter_), q=q, limit=limit, offset=offset, after=after
            )
            items = [to_data(i, spec.read) for i in page["items"]]
        if as_json:
            print_json({**page, "items": items})
        else:
            print_table(items, columns, title=f"{spec.label_zh} {spec.label_en}: {page['total']}")

    @app.command("export")
    def export_(
        output: Path = typer.Option(..., "--output", "-o", help="file to write"),
        fmt: str = typer.Option("csv", "--format", help="csv or xlsx"),
        columns: str = typer.Option("", "--columns", help="comma-separated fields (default: all)"),
        filter_: list[str] = typer.Option([], "--filter", "-f", help="field=value (repeatable)"),
        q: str | None = typer.Option(None, "--q", "-q", help="search (substring from 3 characters)"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable summary"),
    ) -> None:
        """Export the list (same filters and search) as CSV or XLSX; audited."""
        filters = _coerce_filters(spec, filter_)
        cols = columns.split(",") if columns else None
        with get_database().unit_of_work() as db:
            job = export.begin(db, spec, fmt=fmt, filters=filters, q=q, columns=cols, interface="cli")
        body = export.rows(spec, filters=filters, q=q, columns=job["columns"], cell=export.plain_cell)
        stream = (
            export.csv_stream(job["columns"], body)
            if fmt == "csv"
            else export.xlsx_stream(job["columns"], body, title=spec.name)
        )
        with output.open("wb") as f:
            for chunk in stream:
                f.write(chunk)
        summary = {"file": str(output), "format": fmt, "rows": job["total"], "columns": job["columns"]}
        print_json(summary) if as_json else typer.echo(f"{job['total']:,} {spec.name} -> {output}")

    @app.command("get")
    def get(obj_id: int, as_json: bool = typer.Option(True, "--json/--table")) -> None:
        """Show one record."""
        with get_database().read_session() as db:
            data = to_data(svc.get(db, spec, obj_id), spec.read)
        print_json(data) if as_json else print_table([data], list(data))

    @app.command("create")
    def create(
        set_: list[str] = typer.Option([], "--set", "-s", help="field=value (repeatable)"),
        data: str | None = typer.Option(None, "--data", help="JSON object"),
    ) -> None:
        """Create a record from --set pairs and/or a --data JSON object."""
        payload = payload_from(set_, data)
        with get_database().unit_of_work() as db:
            out = to_data(svc.create(db, spec, payload), spec.read)
        print_json(out)

    @app.command("update")
    def update(
        obj_id: int,
        set_: list[str] = typer.Option([], "--set", "-s", help="field=value (repeatable)"),
        data: str | None = typer.Option(None, "--data", help="JSON object"),
    ) -> None:
        """Change fields of a record."""
        payload = payload_from(set_, data)
        with get_database().unit_of_work() as db:
            out = to_data(svc.update(db, spec, obj_id, payload), spec.read)
        print_json(out)

    @app.command("delete")
    def delete(obj_id: int) -> None:
        """Delete a record (audited)."""
        with get_database().unit_of_work() as db:
            svc.delete(db, spec, obj_id)
        typer.echo(f"deleted {spec.name} {obj_id}")

    return app


def payload_from(pairs: list[str], data: str | None) -> dict[str, Any]:
    """A command's input: a ``--data`` JSON object, overridden by ``--set key=value`` pairs."""
    payload: dict[str, Any] = {}
    if data:
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as e:
            raise Invalid(f"--data is not valid JSON: {e}") from None
        if not isinstance(payload, dict):
            raise Invalid("--data must be a JSON object")
    payload.update(parse_assignments(pairs))
    return payload
