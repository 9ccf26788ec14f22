"""``ciimap db upgrade|check|revision``: the database schema (Alembic, loaded only by these commands)."""

from __future__ import annotations

import json

import typer
from alembic import command

from ciimap.core import textsearch
from ciimap.core.db import get_database
from ciimap.core.migrate import alembic_config, check, upgrade

app = typer.Typer(help="Database schema", no_args_is_help=True)
GROUPS = [("db", app)]


@app.command("upgrade")
def _upgrade() -> None:
    """Apply all migrations."""
    upgrade()
    typer.echo("database is up to date")


@app.command("check")
def _check() -> None:
    """Fail if models and migrations differ."""
    check()
    typer.echo("models match migrations")


@app.command("revision")
def _revision(message: str) -> None:
    """Autogenerate a migration from model changes (developers)."""
    command.revision(alembic_config(), message=message, autogenerate=True)


@app.command("search-index")
def _search_index(as_json: bool = typer.Option(False, "--json", help="print the result as JSON")) -> None:
    """Create the substring-search indexes that are missing (PostgreSQL: after CREATE EXTENSION pg_trgm)."""
    with get_database().unit_of_work() as s:
        result = textsearch.ensure(s.connection())
    if as_json:
        typer.echo(json.dumps(result))
    elif result["refused"]:
        typer.echo(f"pg_trgm is not available: {result['refused']}", err=True)
        raise typer.Exit(1)
    else:
        typer.echo(f"created: {', '.join(result['created']) or 'nothing, every index exists'}")
