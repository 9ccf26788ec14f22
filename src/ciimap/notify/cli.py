"""``ciimap notify ...``: channels, rules, test, outbox, attempts and the foreground deliverer."""

from __future__ import annotations

import typer

from ciimap.core.audit import current_actor
from ciimap.core.db import get_database
from ciimap.core.errors import CiimapError
from ciimap.core.output import err_console, print_json, print_table, to_data
from ciimap.notify import outbox, service
from ciimap.notify.models import CHANNEL_KINDS, MESSAGE_STATUSES
from ciimap.notify.schemas import AttemptRead, ChannelRead, MessageRead, RuleRead

app = typer.Typer(help="Notifications (通知): channels, routing rules, outbox", no_args_is_help=True)
channel_app = typer.Typer(help="Notification channels (admins)", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules: which events go to which channel", no_args_is_help=True)
app.add_typer(channel_app, name="channel")
app.add_typer(rules_app, name="rules")
GROUPS = [("notify", app)]
CHANNEL_COLS = ["name", "kind", "url", "has_secret", "rate_per_minute", "full_content", "enabled"]
RULE_COLS = [
    "name",
    "channel",
    "kinds",
    "grades",
    "min_grade",
    "system_ids",
    "business_service_ids",
    "enabled",
]
MSG_COLS = ["id", "channel", "subject", "grade", "status", "attempts", "next_attempt_at", "last_error"]
ATTEMPT_COLS = ["at", "channel", "message_id", "status", "response_code", "error"]


class NotAccepted(CiimapError):
    """The receiver refused the test message (exit 1)."""


@channel_app.command("add")
def channel_add(
    name: str = typer.Argument(..., help="channel name"),
    kind: str = typer.Option(..., "--kind", help=f"one of: {' | '.join(CHANNEL_KINDS)}"),
    url: str = typer.Option(..., "--url", help="robot/webhook URL, or smtp://host:587?from=..&to=.."),
    secret: str | None = typer.Option(
        None, "--secret", help="signing secret (DingTalk, Feishu, webhook) or SMTP password"
    ),
    rate_per_minute: int | None = typer.Option(None, "--rate-per-minute", min=0, help="0 = unlimited"),
    full_content: bool | None = typer.Option(
        None, "--full-content/--public-content", help="send title and body (default: email and webhook only)"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a channel; the secret is stored for sending and never shown again."""
    with get_database().unit_of_work() as s:
        ch = service.add_channel(
            s,
            name=name,
            kind=kind,
            url=url,
            secret=secret,
            rate_per_minute=rate_per_minute,
            full_content=full_content,
            actor=current_actor().name,
        )
        data = to_data(service.channel_view(ch), ChannelRead)
    if as_json:
        print_json(data)
    else:
        typer.echo(f"channel {data['name']} added ({data['kind']}, {data['url']})")


@channel_app.command("list")
def channel_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Channels with masked URLs (secrets are never shown)."""
    with get_database().read_session() as s:
        rows = [to_data(r, ChannelRead) for r in service.list_channels(s)]
    print_json(rows) if as_json else print_table(rows, CHANNEL_COLS)


@channel_app.command("remove")
def channel_remove(name: str) -> None:
    """Remove a channel, its rules and its outbox."""
    with get_database().unit_of_work() as s:
        service.remove_channel(s, name)
    typer.echo(f"channel {name} removed")


@app.command("test")
def test(
    name: str = typer.Argument(..., help="channel name"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Send a test message now; exit 0 only when the receiver accepted it."""
    with get_database().unit_of_work() as s:
        result = service.send_test(s, name)
    if as_json:
        print_json(result)
    if not result["ok"]:
        raise NotAccepted(f"channel {name}: not accepted: {result['error']}")
    if not as_json:
        typer.echo(f"channel {name}: accepted (response {result['response_code']})")


@rules_app.command("add")
def rule_add(
    name: str = typer.Argument(...),
    channel: str = typer.Option(..., "--channel"),
    kind: list[str] = typer.Option([], "--kind", help="event kind (repeat); none = any"),
    grade: list[str] = typer.Option([], "--grade", help="grade, e.g. 重大 (repeat); none = any"),
    min_grade: str | None = typer.Option(
        None, "--min-grade", help="this grade or more severe: 特别重大, 重大, 较大 or 一般; none = any"
    ),
    system_id: list[int] = typer.Option([], "--system-id", help="system id (repeat); none = any"),
    service_id: list[int] = typer.Option([], "--service-id", help="business service id (repeat); none = any"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Route events to a channel: each given list must hold the event's value."""
    with get_database().unit_of_work() as s:
        rule = service.add_rule(
            s,
            name=name,
            channel=channel,
            kinds=kind,
            grades=grade,
            min_grade=min_grade,
            system_ids=system_id,
            business_service_ids=service_id,
        )
    data = to_data(rule, RuleRead)
    print_json(data) if as_json else typer.echo(f"rule {name} added → {channel}")


@rules_app.command("list")
def rule_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Routing rules."""
    with get_database().read_session() as s:
        rows = [to_data(r, RuleRead) for r in service.list_rules(s)]
    print_json(rows) if as_json else print_table(rows, RULE_COLS)


@rules_app.command("remove")
def rule_remove(name: str) -> None:
    """Remove a routing rule."""
    with get_database().unit_of_work() as s:
        service.remove_rule(s, name)
    typer.echo(f"rule {name} removed")


@app.command("outbox")
def outbox_list(
    status: str | None = typer.Option(None, "--status", help=" | ".join(MESSAGE_STATUSES)),
    subject: str | None = typer.Option(None, "--subject", help="e.g. incident:42"),
    limit: int = typer.Option(100, min=1, max=service.MAX_LIST),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Messages in the outbox, newest first."""
    with get_database().read_session() as s:
        rows = [
            to_data(r, MessageRead)
            for r in service.list_messages(s, status=status, subject=subject, limit=limit)
        ]
    print_json(rows) if as_json else print_table(rows, MSG_COLS)


@app.command("attempts")
def attempts(
    subject: str = typer.Option(..., "--subject", help="e.g. incident:42"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every delivery attempt about a subject, oldest first."""
    with get_database().read_session() as s:
        rows = [to_data(r, AttemptRead) for r in service.attempts_for(s, subject)]
    print_json(rows) if as_json else print_table(rows, ATTEMPT_COLS)


@app.command("deliver")
def deliver(
    until_empty: bool = typer.Option(False, "--until-empty", help="exit when nothing is pending"),
    seconds: float | None = typer.Option(None, "--seconds", min=0, help="exit after this long"),
    interval: float = typer.Option(2.0, "--interval", min=0.1, help="seconds between polls when idle"),
) -> None:
    """Deliver the outbox in the foreground (ciimap serve and ciimap worker do it in the background)."""
    err_console.print("ciimap notify deliver: Ctrl-C to stop")
    totals = outbox.run(seconds=seconds, until_empty=until_empty, interval=interval)
    typer.echo(f"claimed {totals['claimed']}, sent {totals['sent']}, failed {totals['failed']}")
