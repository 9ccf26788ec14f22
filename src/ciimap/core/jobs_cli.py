"""``ciimap jobs list|show|wait`` (the PostgreSQL queue worker, ``ciimap worker``, is ciimap/worker.py).

On SQLite, jobs run on threads inside the process that queued them (the web server or the CLI
command), so no worker is needed. On PostgreSQL, run ``ciimap worker`` on any machine that reaches
the database; every worker takes jobs from the same procrastinate queue.
"""

from __future__ import annotations

import time

import typer

from ciimap.core import jobs
from ciimap.core.db import get_database
from ciimap.core.errors import CiimapError
from ciimap.core.jobs_schemas import JobRead
from ciimap.core.output import err_console, print_json, print_table, to_data

app = typer.Typer(help="Background jobs: list, show, wait", no_args_is_help=True)
GROUPS = [("jobs", app)]
COLUMNS = ["id", "kind", "status", "progress", "total", "message", "created_by", "created_at", "finished_at"]


def _load(job_id: int) -> dict:
    with get_database().read_session() as s:
        return to_data(jobs.get(s, job_id), JobRead)


def wait_with_progress(job_id: int, *, timeout: float, show: bool = True) -> dict:
    """Poll a job until it finishes, drawing a rich progress bar on stderr; return its final state."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    _load(job_id)  # an unknown job is one line, before any progress bar is drawn
    start = time.monotonic()
    deadline = start + timeout
    with Progress(
        TextColumn("job {task.fields[job]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show,
        transient=False,
    ) as bar:
        task = bar.add_task("queued", total=100, job=job_id)
        while True:
            data = _load(job_id)
            total = data["total"] or 100
            desc = (data["message"] or data["status"])[:60]
            if data["status"] == "queued" and time.monotonic() - start > 10 and not get_database().is_sqlite:
                desc = "queued: waiting for a 'ciimap worker'"
            bar.update(task, completed=min(data["progress"], total), total=total, description=desc)
            if data["status"] in jobs.FINISHED:
                if data["status"] == "succeeded":
                    bar.update(task, completed=total)
                return data
            if time.monotonic() > deadline:
                raise CiimapError(
                    f"job {job_id} still {data['status']} after {timeout:.0f}s "
                    "(on PostgreSQL, is a 'ciimap worker' running?)"
                )
            time.sleep(0.25)


def finish(data: dict, as_json: bool) -> None:
    """Print a finished job; a failed job becomes a one-line error and a non-zero exit."""
    if as_json:
        print_json(data)
    if data["status"] != "succeeded":
        reason = (data["message"] or data["error"] or "no reason recorded").splitlines()[0]
        raise CiimapError(f"job {data['id']} ({data['kind']}) {data['status']}: {reason}")
    if not as_json:
        print_table([data], COLUMNS)


@app.command("list")
def list_(
    kind: str | None = typer.Option(None),
    status: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List recent jobs (newest first)."""
    with get_database().read_session() as s:
        rows = [to_data(j, JobRead) for j in jobs.list_jobs(s, kind=kind, status=status, limit=limit)]
    print_json(rows) if as_json else print_table(rows, COLUMNS)


@app.command("show")
def show(job_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one job: status, progress, parameters, result or error."""
    data = _load(job_id)
    if as_json:
        print_json(data)
        return
    print_table([data], COLUMNS)
    for key in ("params", "result", "error"):
        if data[key]:
            typer.echo(f"{key}: {data[key]}")


@app.command("wait")
def wait(
    job_id: int,
    timeout: float = typer.Option(3600, help="seconds"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Wait for a job to finish, with a progress bar; exit non-zero when it failed."""
    finish(wait_with_progress(job_id, timeout=timeout, show=not as_json), as_json)
