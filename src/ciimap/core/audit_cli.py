"""``ciimap audit ...``: read and verify the tamper-evident trail."""

from __future__ import annotations

import typer

from ciimap.core import audit
from ciimap.core.audit_schemas import AuditRead
from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table, to_data

app = typer.Typer(help="Audit trail (hash-chained)", no_args_is_help=True)
GROUPS = [("audit", app)]


@app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the hash chain; exit 1 if any record was edited or deleted."""
    with get_database().read_session() as db:
        res = audit.verify(db)
    if as_json:
        print_json({"ok": res.ok, "checked": res.checked, "problems": res.problems})
    elif res.ok:
        typer.echo(f"audit chain intact: {res.checked} records verified")
    else:
        for p in res.problems:
            typer.echo(f"TAMPERED: {p}", err=True)
    if not res.ok:
        raise typer.Exit(1)


@app.command("list")
def list_(
    entity_type: str | None = typer.Option(None),
    entity_id: str | None = typer.Option(None),
    actor: str | None = typer.Option(None),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List audit records, newest first."""
    with get_database().read_session() as db:
        page = audit.query_log(
            db, entity_type=entity_type, entity_id=entity_id, actor=actor, limit=limit, offset=offset
        )
        items = [to_data(i, AuditRead) for i in page["items"]]
    if as_json:
        print_json({**page, "items": items})
    else:
        print_table(items, ["id", "ts", "actor", "via", "action", "entity_type", "entity_id"])
