"""``ciimap serve``: migrate, bootstrap an admin, optionally load the demo operator, then serve."""

from __future__ import annotations

import os
import secrets

import typer

from ciimap.core.db import get_database


def bootstrap_admin() -> str | None:
    """Create user 'admin' when no user exists; return the password to show once (or None)."""
    from sqlalchemy import func, select

    from ciimap.auth import service
    from ciimap.auth.models import User

    with get_database().unit_of_work() as db:
        if db.scalar(select(func.count()).select_from(User)):
            return None
        password = os.environ.get("CIIMAP_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        service.create_user(db, username="admin", password=password, role="admin", full_name="管理员")
        return password


def database_is_empty() -> bool:
    from sqlalchemy import func, select

    from ciimap.inventory.models import Asset

    with get_database().read_session() as db:
        return not db.scalar(select(func.count()).select_from(Asset))


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1"),
        port: int = typer.Option(8000),
        demo_if_empty: bool = typer.Option(False, "--demo-if-empty", help="load the demo operator into an empty map"),
        workers: int = typer.Option(0, help="server processes (0: one per core, at most 2); they share "
                                    "one what-if graph through the data directory"),
    ) -> None:
        """Serve the API (/api, docs at /api/docs) and the web UI."""
        import uvicorn

        from ciimap.core.migrate import upgrade

        upgrade()
        if demo_if_empty and database_is_empty():
            from ciimap.demo.service import load_demo

            typer.echo("loading the demo operator (first start)...")
            load_demo(scale=None, seed=42)
        password = bootstrap_admin()
        typer.echo(f"ciimap serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
        if password:
            typer.echo(f"log in as: admin / {password}   (shown once; change it with 'ciimap user password admin')")
        else:
            typer.echo("log in with an existing user; create one with 'ciimap user create NAME --role admin'")
        workers = workers or min(2, os.cpu_count() or 1)
        # worker processes start afresh: they find the database the way this process did
        os.environ["CIIMAP_DATABASE_URL"] = get_database().url
        if get_database().is_sqlite:
            from ciimap.core.jobs import recover_interrupted

            if lost := recover_interrupted():
                typer.echo(f"jobs {', '.join(map(str, lost))} were cut off by the last server stop; marked failed")
            # scheduled rescans: one clock, in this (the supervising) process; its jobs run here and
            # report live progress through the side store every worker reads (PG: procrastinate)
            from ciimap.discovery.scheduling import start_in_process

            start_in_process()
        typer.echo(f"{workers} server process(es)")
        uvicorn.run("ciimap.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", proxy_headers=False)
