"""The ``ciimap`` command: a Typer root that mounts each domain's commands (see plugins.py)."""

from __future__ import annotations

import getpass
import sys

import typer

from ciimap.core.audit import Actor, set_actor
from ciimap.core.db import Database, get_database, set_database
from ciimap.core.errors import CiimapError
from ciimap.core.output import err_console
from ciimap.plugins import cli_apps

app = typer.Typer(
    help="ciimap — security map for CII operators (挂图作战)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


#: Commands that manage the schema themselves: no "migrate on first use" check before them.
_SCHEMA_COMMANDS = frozenset({"db", "serve"})


@app.callback()
def _root(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None, "--database", envvar="CIIMAP_DATABASE_URL", help="SQLAlchemy URL (default: SQLite in ./var)"
    ),
) -> None:
    if database:
        set_database(Database(database))
    set_actor(Actor(f"cli:{getpass.getuser()}", via="cli"))
    if ctx.invoked_subcommand not in _SCHEMA_COMMANDS:
        # checked when the command first touches the database (so --help stays instant): the embedded
        # SQLite default migrates itself; a PostgreSQL database that is behind is one line, exit 1
        from ciimap.core.migrate import check_on_first_use

        check_on_first_use(get_database())


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


def main(argv: list[str] | None = None) -> None:
    """Entry point. Exit codes scripts can trust: 0 success; 1 refused input, a failed check or job,
    a tampered audit trail; 2 usage errors (click prints the usage); 3 not found; 4 conflict;
    5 permission denied; 130 interrupted. Errors are one line, never a traceback."""
    try:
        # standalone mode: click prints usage errors and exits 2, and typer.Exit(n) exits n
        app(args=argv, prog_name="ciimap")
    except CiimapError as e:
        _fail(e.message, e.exit_code)
    except KeyboardInterrupt:
        err_console.print("aborted")
        sys.exit(130)
    except OSError as e:
        _fail(str(e), 1)
    except Exception as e:
        from sqlalchemy.exc import OperationalError

        if isinstance(e, OperationalError):  # the database cannot be reached, is locked, or is full
            _fail(f"database: {str(e.orig).splitlines()[0] if e.orig else e}", 1)
        raise


def _fail(message: str, code: int) -> None:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)
