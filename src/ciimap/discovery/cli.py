"""``ciimap discover``, ``ciimap scopes ...`` and ``ciimap schedules ...`` (thin: parse, call, render)."""

from __future__ import annotations

import typer

from ciimap.core.audit import current_actor
from ciimap.core.db import get_database
from ciimap.core.jobs_cli import finish, wait_with_progress
from ciimap.core.jobs_schemas import JobRead
from ciimap.core.output import err_console, print_json, print_table, to_data
from ciimap.discovery import schedules, service
from ciimap.discovery.nmap import PROFILES
from ciimap.discovery.schemas import ScheduleRead, ScopeRead

discover_app = typer.Typer()
scopes_app = typer.Typer(help="Scan scopes: where discovery may scan (admins)", no_args_is_help=True)
schedules_app = typer.Typer(help="Scheduled rescans inside a scope", no_args_is_help=True)
GROUPS = [("", discover_app), ("scopes", scopes_app), ("schedules", schedules_app)]
SCOPE_COLS = ["name", "cidrs", "allowed_ports", "max_rate", "enabled", "created_by", "description"]
SCHED_COLS = [
    "name",
    "scope_id",
    "targets",
    "profile",
    "ports",
    "interval_minutes",
    "cron",
    "enabled",
    "last_run_at",
    "next_run_at",
    "last_job_id",
]


@discover_app.command("discover")
def discover(
    targets: list[str] = typer.Argument(..., help="IPs, CIDRs, ranges (10.0.0.5-20) or /etc/hosts names"),
    scope: str | None = typer.Option(
        None, "--scope", help="scan scope (default: the one containing the targets)"
    ),
    profile: str = typer.Option("services", "--profile", help=f"one of: {', '.join(PROFILES)}"),
    ports: str | None = typer.Option(None, "--ports", help="e.g. 22,80,443,8000-8100"),
    rate: int | None = typer.Option(None, "--rate", min=1, help="packets/s (at most the scope's max rate)"),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="wait for the job and show progress"),
    timeout: float = typer.Option(4 * 3600, help="seconds to wait"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Scan targets inside a configured scope with nmap and import what it finds into the map."""
    with get_database().unit_of_work() as s:
        job = service.request_discovery(
            s,
            targets=targets,
            scope=scope,
            profile=profile,
            ports=ports,
            rate=rate,
            actor=current_actor().name,
        )
        data = to_data(job, JobRead)
    if not wait:
        if as_json:
            print_json(data)
        else:
            typer.echo(
                f"queued job {data['id']} (scope {data['params']['scope']}); follow it with "
                f"'ciimap jobs wait {data['id']}'"
            )
        if get_database().is_sqlite:
            err_console.print("note: on SQLite the job runs inside this process, which exits when it is done")
        return
    result = wait_with_progress(data["id"], timeout=timeout, show=not as_json)
    if as_json or result["status"] != "succeeded":
        finish(result, as_json)
        return
    res = result["result"] or {}
    typer.echo(
        f"job {result['id']} done: scope {res.get('scan_scope')}, assets created {res.get('assets_created', 0)}, "
        f"changes {res.get('changes', 0)}, nmap XML kept at {res.get('xml')}"
    )


@scopes_app.command("add")
def scopes_add(
    name: str,
    cidr: list[str] = typer.Option(..., "--cidr", help="CIDR, address or range; repeat for several"),
    ports: str | None = typer.Option(None, "--ports", help="allowed ports (default: any)"),
    max_rate: int = typer.Option(100, "--max-rate", min=1, help="packets/s ceiling"),
    description: str | None = typer.Option(None, "--description"),
    disabled: bool = typer.Option(False, "--disabled"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Allow scanning of address blocks (admin decision, audited)."""
    with get_database().unit_of_work() as s:
        sc = service.create_scope(
            s,
            name=name,
            cidrs=cidr,
            allowed_ports=ports,
            max_rate=max_rate,
            description=description,
            enabled=not disabled,
            actor=current_actor().name,
        )
        data = to_data(sc, ScopeRead)
    print_json(data) if as_json else typer.echo(f"scan scope {name} added: {', '.join(data['cidrs'])}")


@scopes_app.command("list")
def scopes_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List scan scopes."""
    with get_database().read_session() as s:
        rows = [to_data(x, ScopeRead) for x in service.list_scopes(s)]
    print_json(rows) if as_json else print_table(rows, SCOPE_COLS)


def _set_scope_enabled(name: str, enabled: bool) -> None:
    with get_database().unit_of_work() as s:
        service.update_scope(s, name, changes={"enabled": enabled})
    typer.echo(f"scan scope {name} {'enabled' if enabled else 'disabled'}")


@scopes_app.command("enable")
def scopes_enable(name: str) -> None:
    """Enable a scan scope."""
    _set_scope_enabled(name, True)


@scopes_app.command("disable")
def scopes_disable(name: str) -> None:
    """Disable a scan scope (discoveries and schedules inside it are refused)."""
    _set_scope_enabled(name, False)


@scopes_app.command("remove")
def scopes_remove(name: str) -> None:
    """Delete a scan scope and its schedules."""
    with get_database().unit_of_work() as s:
        service.delete_scope(s, name)
    typer.echo(f"scan scope {name} removed")


@schedules_app.command("add")
def schedules_add(
    name: str,
    scope: str = typer.Option(..., "--scope"),
    target: list[str] = typer.Option([], "--target", help="repeat; default: the whole scope"),
    profile: str = typer.Option("services", "--profile"),
    ports: str | None = typer.Option(None, "--ports"),
    rate: int | None = typer.Option(None, "--rate", min=1),
    every: int | None = typer.Option(None, "--every", min=1, help="interval in minutes"),
    cron: str | None = typer.Option(None, "--cron", help="cron line in UTC, e.g. '0 2 * * *'"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Rescan a scope (or some targets in it) on an interval or a cron line."""
    with get_database().unit_of_work() as s:
        sched = schedules.create_schedule(
            s,
            name=name,
            scope=scope,
            targets=target,
            profile=profile,
            ports=ports,
            rate=rate,
            interval_minutes=every,
            cron=cron,
            actor=current_actor().name,
        )
        data = to_data(sched, ScheduleRead)
    print_json(data) if as_json else typer.echo(f"schedule {name} added; next run {data['next_run_at']}")


@schedules_app.command("list")
def schedules_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List scan schedules."""
    with get_database().read_session() as s:
        rows = [to_data(x, ScheduleRead) for x in schedules.list_schedules(s)]
    print_json(rows) if as_json else print_table(rows, SCHED_COLS)


@schedules_app.command("remove")
def schedules_remove(name: str) -> None:
    """Delete a scan schedule."""
    with get_database().unit_of_work() as s:
        schedules.delete_schedule(s, name)
    typer.echo(f"schedule {name} removed")


@schedules_app.command("run-due")
def schedules_run_due(as_json: bool = typer.Option(False, "--json")) -> None:
    """Queue the schedules that are due now (what the scheduler does every minute)."""
    out = schedules.tick()
    print_json(out) if as_json else typer.echo(f"queued jobs: {out['queued'] or 'none'}")
