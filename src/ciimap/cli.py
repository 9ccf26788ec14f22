"""The ``ciimap`` command: a Typer root that mounts each domain's commands (see plugins.py)."""

from __future__ import annotations

import getpass
import sys

import typer

from ciimap.core.audit import Actor, set_actor
from ciimap.core.db import Database, set_database
from ciimap.core.errors import CiimapError
from ciimap.core.output import err_console
from ciimap.plugins import cli_apps

app = typer.Typer(help="ciimap — security map for CII operators (挂图作战)", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _root(
    database: str | None = typer.Option(None, "--database", envvar="CIIMAP_DATABASE_URL",
                                        help="SQLAlchemy URL (default: SQLite in ./var)"),
) -> None:
    if database:
        set_database(Database(database))
    set_actor(Actor(f"cli:{getpass.getuser()}", via="cli"))


def _mount() -> None:
    from ciimap.core.migrate import register as register_db_commands
    from ciimap.serve import register as register_serve

    register_db_commands(app)
    register_serve(app)
    for name, sub in cli_apps():
        if name:
            app.add_typer(sub, name=name)
        else:
            for cmd in sub.registered_commands:
                app.registered_commands.append(cmd)


_mount()


def main() -> None:
    """Entry point: domain errors become a one-line message and a non-zero exit, never a traceback."""
    try:
        app(standalone_mode=False)
    except CiimapError as e:
        err_console.print(f"[red]error:[/red] {e.message}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:  # click usage errors and the like
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, OSError):
            err_console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
            sys.exit(1)
        raise
