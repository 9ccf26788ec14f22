"""``ciimap listen``, ``ciimap alerts follow`` and ``ciimap webhooks create|list|revoke``."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from ciimap.alerts.live import webhook
from ciimap.alerts.live.follow import FOLLOW_KINDS, follow
from ciimap.alerts.live.ingest import LiveRun
from ciimap.alerts.live.listener import ListenConfig, Listener, parse_address, serve_until
from ciimap.config import get_settings
from ciimap.core.audit import current_actor
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table

top = typer.Typer()
alerts_app = typer.Typer()
webhooks_app = typer.Typer(
    help="Webhook tokens for POST /api/alerts/webhook/{source} (admins)", no_args_is_help=True
)
GROUPS = [("", top), ("alerts", alerts_app), ("webhooks", webhooks_app)]

#: The kinds a listener parses messages as (syslog also reads CEF inside syslog).
LISTEN_KINDS = ("syslog", "cef")


def _addresses(given: list[str], setting: str, what: str) -> list[tuple[str, int]]:
    raw = given or [a.strip() for a in setting.split(",") if a.strip()]
    return [parse_address(a, what) for a in raw]


def _on_signals(stop: Any) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@top.command("listen")
def listen(
    udp: list[str] = typer.Option([], "--udp", help="HOST:PORT to receive syslog datagrams on (repeatable)"),
    tcp: list[str] = typer.Option([], "--tcp", help="HOST:PORT to accept syslog over TCP on (repeatable)"),
    kind: str = typer.Option("syslog", "--kind", help=" | ".join(LISTEN_KINDS)),
    timezone: str | None = typer.Option(None, "--timezone", help="zone of times without one"),
    batch: int = typer.Option(5000, "--batch", min=1, max=1_000_000, help="messages per batch at most"),
    interval: float = typer.Option(
        0.5, "--interval", min=0.01, max=60, help="seconds a message waits at most"
    ),
    idle: float = typer.Option(
        300, "--idle", min=0.1, help="seconds before a silent TCP connection is closed"
    ),
    max_connections: int = typer.Option(1000, "--max-connections", min=1, max=100_000),
    as_json: bool = typer.Option(False, "--json", help="machine-readable summary when it stops"),
) -> None:
    """Receive syslog over UDP and TCP (RFC 6587 framing) into alerts until SIGINT/SIGTERM.

    Without --udp/--tcp: the addresses in $CIIMAP_SYSLOG_UDP and $CIIMAP_SYSLOG_TCP."""
    settings = get_settings()
    if kind not in LISTEN_KINDS:
        raise Invalid(f"--kind: one of {', '.join(LISTEN_KINDS)}, not '{kind}'")
    config = ListenConfig(
        udp=_addresses(udp, settings.syslog_udp, "--udp"),
        tcp=_addresses(tcp, settings.syslog_tcp, "--tcp"),
        kind=kind,
        options={"timezone": timezone} if timezone else {},
        batch=batch,
        interval=interval,
        idle=idle,
        max_connections=max_connections,
    )
    if not config.udp and not config.tcp:
        raise Invalid("nothing to listen on: give --udp and/or --tcp (or set CIIMAP_SYSLOG_UDP/TCP)")
    names = [f"udp:{h}:{p}" for h, p in config.udp] + [f"tcp:{h}:{p}" for h, p in config.tcp]
    live = LiveRun(
        kind,
        scope=f"listen:{','.join(names)}",
        inputs=names,
        options=config.options,
        created_by=current_actor().name,
    )

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        _on_signals(stop)
        listener = Listener(config, live)
        started = asyncio.ensure_future(serve_until(listener, stop))
        while not listener.live.run_id and not started.done():
            await asyncio.sleep(0.05)
        if not started.done():
            where = ", ".join(f"{k} {h}:{p}" for k, v in listener.addresses.items() for h, p in v)
            print(f"listening on {where} (run {live.run_id}); stop with Ctrl-C", file=sys.stderr, flush=True)
        return await started

    status = asyncio.run(main())
    if as_json:
        print_json(status)
        return
    cols = ["run_id", "messages", "events", "rejected", "udp_dropped", "connections", "batches"]
    print_table([status], cols, title="listener stopped")


@alerts_app.command("follow")
def follow_cmd(
    file: Path = typer.Argument(..., help="the growing file (eve.json, alerts.json)"),
    source: str = typer.Option(..., "--source", help=" | ".join(FOLLOW_KINDS)),
    interval: float = typer.Option(0.5, "--interval", min=0.05, max=60, help="seconds between looks"),
    once: bool = typer.Option(False, "--once", help="read what is there now and stop"),
    from_end: bool = typer.Option(
        False, "--from-end", help="first follow of this file: skip what it holds already"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable summary when it stops"),
) -> None:
    """Follow a growing Suricata/Wazuh file into alerts (survives rotation; resumes where it stopped)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    result = follow(file, source, stop=stop, interval=interval, once=once, from_end=from_end)
    if as_json:
        print_json(result)
        return
    print_table([result], ["run_id", "path", "messages", "events", "rejected", "skipped"], title="follow")


@webhooks_app.command("create")
def create(
    name: str = typer.Argument(..., help="what the token is for (e.g. the sensor's name)"),
    source: str | None = typer.Option(
        None, "--source", help="the one alert source it may post (default: any)"
    ),
    days: int | None = typer.Option(None, "--days", help="expires after this many days (default: never)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Create a webhook token; its secret is printed this once only."""
    with get_database().unit_of_work() as db:
        tok, secret = webhook.create_token(db, name=name, source=source, days=days)
        data = {**webhook.token_dict(tok), "token": secret}
    if as_json:
        print_json(data)
        return
    print_table([data], ["id", "name", "source", "expires_at"], title="webhook token")
    typer.echo(f"token (shown once, store it now): {secret}")


@webhooks_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """Webhook tokens (never their secrets)."""
    with get_database().read_session() as db:
        items = webhook.list_tokens(db)
    if as_json:
        print_json(items)
        return
    print_table(items, ["id", "name", "source", "prefix", "state", "last_used_at"], title="webhook tokens")


@webhooks_app.command("revoke")
def revoke(
    token_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """Revoke a webhook token."""
    with get_database().unit_of_work() as db:
        data = webhook.revoke_token(db, token_id=token_id)
    if as_json:
        print_json(data)
        return
    print_table([data], ["id", "name", "state", "revoked_at"], title="revoked")


def listen_command(udp: list[str], tcp: list[str]) -> list[str]:
    """The ``ciimap listen`` arguments ``ciimap serve`` starts its listener with."""
    return ["listen", *(x for a in udp for x in ("--udp", a)), *(x for a in tcp for x in ("--tcp", a))]
