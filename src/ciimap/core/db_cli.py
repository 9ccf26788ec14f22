"""``ciimap db upgrade|check|revision``: the database schema (Alembic, loaded only by these commands)."""

from __future__ import annotations

import typer
from alembic import command

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
