"""Schema migrations (Alembic, batch mode so the same scripts run on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import typer
from alembic import command
from alembic.config import Config

from ciimap.core.db import get_database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or get_database().url).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "heads")
    from ciimap.core.queue import ensure_queue_schema  # PostgreSQL: procrastinate's job-queue tables

    ensure_queue_schema(url)


def check(url: str | None = None) -> None:
    """Raise if the models differ from the migrations (alembic check)."""
    command.check(alembic_config(url))


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema", no_args_is_help=True)

    @db_app.command("upgrade")
    def _upgrade() -> None:
        """Apply all migrations."""
        upgrade()
        typer.echo("database is up to date")

    @db_app.command("check")
    def _check() -> None:
        """Fail if models and migrations differ."""
        check()
        typer.echo("models match migrations")

    @db_app.command("revision")
    def _revision(message: str) -> None:
        """Autogenerate a migration from model changes (developers)."""
        command.revision(alembic_config(), message=message, autogenerate=True)

    app.add_typer(db_app, name="db")
