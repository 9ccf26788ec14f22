"""``ciimap serve``: migrate, bootstrap an admin, optionally load the demo operator, then serve."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import typer
import uvicorn
from sqlalchemy import func, select

from ciimap.alerts.jobs import maintain_in_process
from ciimap.alerts.live.cli import listen_command
from ciimap.auth import service as auth
from ciimap.auth.models import User
from ciimap.config import get_settings
from ciimap.core.db import get_database
from ciimap.core.jobs import recover_interrupted
from ciimap.core.migrate import upgrade
from ciimap.core.output import with_progress
from ciimap.demo.service import load_demo
from ciimap.discovery.scheduling import start_in_process
from ciimap.incidents import scheduling as incident_clock
from ciimap.inventory.models import Asset
from ciimap.notify import jobs as notify_jobs

app = typer.Typer()
GROUPS = [("", app)]


def bootstrap_admin() -> str | None:
    """Create user 'admin' when no user exists; return the password to show once (or None)."""
    with get_database().unit_of_work() as db:
        if db.scalar(select(func.count()).select_from(User)):
            return None
        password = os.environ.get("CIIMAP_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        auth.create_user(db, username="admin", password=password, role="admin", full_name="管理员")
        return password


def start_listener(udp: list[str], tcp: list[str]) -> subprocess.Popen[bytes] | None:
    """The syslog listener beside the server processes (``ciimap listen`` in a process of its own, so the
    web workers never share a socket or the batch writer); stopped with SIGTERM (it flushes) on exit."""
    if not udp and not tcp:
        return None
    proc = subprocess.Popen([sys.executable, "-m", "ciimap", *listen_command(udp, tcp)])

    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    atexit.register(stop)
    return proc


def database_is_empty() -> bool:
    with get_database().read_session() as db:
        return not db.scalar(select(func.count()).select_from(Asset))


def cli_command() -> str:
    """How the user runs ciimap here: ``ciimap`` when that is on PATH, else the path they used
    (``.venv/bin/ciimap`` after ``make run``), so printed hints work when pasted."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "ciimap"
    if not argv0.endswith("ciimap"):  # python -m ciimap
        return f"{Path(sys.executable).as_posix()} -m ciimap" if not shutil.which("ciimap") else "ciimap"
    on_path = shutil.which("ciimap")
    if on_path and Path(on_path).resolve() == Path(argv0).resolve():
        return "ciimap"
    rel = os.path.relpath(Path(argv0).resolve(), Path.cwd())
    return rel if not rel.startswith("..") and "/" in rel else str(Path(argv0).resolve())


def _load_demo_with_progress() -> None:
    """First start: load the demo before any server process starts, showing how far it is."""
    typer.echo("loading the demo operator (first start; nothing is served until it is loaded)...")
    result = with_progress(lambda progress: load_demo(scale=None, seed=42, progress=progress), title="demo")
    typer.echo(f"demo loaded: {result['organization']}, {result['scale']:,} assets in {result['seconds']} s")


#: Seconds a server process may take to start and to answer uvicorn's health check: importing the app
#: takes several seconds on a busy 2-core machine, and uvicorn's default (5 s) killed slow starters.
WORKER_HEALTHCHECK_SECONDS = 60


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000, min=1, max=65535),
    demo_if_empty: bool = typer.Option(
        False, "--demo-if-empty", help="load the demo operator into an empty map"
    ),
    syslog_udp: list[str] = typer.Option(
        [],
        "--syslog-udp",
        help="also receive syslog datagrams on HOST:PORT (default: $CIIMAP_SYSLOG_UDP; off)",
    ),
    syslog_tcp: list[str] = typer.Option(
        [],
        "--syslog-tcp",
        help="also receive syslog over TCP on HOST:PORT (default: $CIIMAP_SYSLOG_TCP; off)",
    ),
    workers: int = typer.Option(
        0,
        min=0,
        max=64,
        help="server processes (0: one per core, at most 2); they share "
        "one what-if graph through the data directory",
    ),
) -> None:
    """Serve the API (/api, docs at /api/docs) and the web UI."""
    # everything slow happens here, before any server process starts
    typer.echo("checking the database schema...")
    upgrade()
    if demo_if_empty and database_is_empty():
        _load_demo_with_progress()
    password = bootstrap_admin()
    cmd = cli_command()
    typer.echo(f"ciimap serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    if password:
        typer.echo(
            f"log in as: admin / {password}   (shown once; change it with '{cmd} user password admin')"
        )
    else:
        typer.echo(
            f"log in with an existing user (forgot the admin password? '{cmd} user password admin' "
            f"sets a new one; '{cmd} user create NAME --role admin' adds an admin)"
        )
    workers = workers or min(2, os.cpu_count() or 1)
    # worker processes start afresh: they find the database the way this process did
    os.environ["CIIMAP_DATABASE_URL"] = get_database().url
    if get_database().is_sqlite:
        if lost := recover_interrupted():
            typer.echo(
                f"jobs {', '.join(map(str, lost))} were cut off by the last server stop; marked failed"
            )
        # scheduled rescans: one clock, in this (the supervising) process; its jobs run here and
        # report live progress through the side store every worker reads (PG: procrastinate)
        clock = start_in_process()
        # raw-alert retention on the same clock, hourly (PG: a procrastinate periodic task)
        clock.add_job(maintain_in_process, "interval", hours=1, id="ciimap-alerts-maintain", coalesce=True)
        notify_jobs.start_in_process()  # the notification outbox, delivered by the same process
        incident_clock.start_in_process()  # the reporting-deadline sweep, same pattern
    typer.echo(f"{workers} server process(es)")
    settings = get_settings()
    udp = syslog_udp or [a.strip() for a in settings.syslog_udp.split(",") if a.strip()]
    tcp = syslog_tcp or [a.strip() for a in settings.syslog_tcp.split(",") if a.strip()]
    if start_listener(udp, tcp) is not None:
        typer.echo(f"syslog listener: udp {', '.join(udp) or '-'}, tcp {', '.join(tcp) or '-'}")
    uvicorn.run(
        "ciimap.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
