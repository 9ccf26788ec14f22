"""``ciimap obligations ...`` (CII obligations and their calendar), ``ciimap keyposts ...`` (关键岗位) and
``ciimap training ...`` (培训). Listed in ``compliance/cli.py``'s ``GROUPS``; the work is in
``obligations.py`` (docs/compliance-obligations.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from ciimap.compliance import obligations, service
from ciimap.compliance.cli_options import DATE, JSON_OPT, day, validated
from ciimap.compliance.models import ObligationKind, ObligationState
from ciimap.compliance.schemas import (
    DoneIn,
    DoneRead,
    KeyPostIn,
    KeyPostRead,
    KeyPostUpdate,
    ObligationRead,
    TrainingIn,
    TrainingRead,
)
from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table, to_data
from ciimap.core.schemas import INT32_MAX

obligations_app = typer.Typer(
    help="CII obligations (关基保护义务) and their calendar: due dates and states", no_args_is_help=True
)
keyposts_app = typer.Typer(help="Key posts (关键岗位): responsible person and staff", no_args_is_help=True)
training_app = typer.Typer(help="Training (培训) of key-post staff: sessions and hours", no_args_is_help=True)

AS_OF = typer.Option(None, "--as-of", formats=DATE, help="the day states are computed for (default today)")
POST = typer.Argument(..., min=1, max=INT32_MAX, help="key post id")
CONTACT = typer.Argument(..., min=1, max=INT32_MAX, help="contact id")
COLUMNS = ["due_on", "state", "kind", "title_zh", "done_on", "done_by"]


def _today(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()


def _print(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        print_json([to_data(r, ObligationRead) for r in rows])
        return
    print_table(rows, COLUMNS, title=title)


@obligations_app.command("list")
def list_cmd(
    state: ObligationState | None = typer.Option(None, "--state", help="upcoming | due | overdue | done"),
    kind: ObligationKind | None = typer.Option(
        None, "--kind", help="cii_test | mlps_assessment | filing | key_post | training"
    ),
    system: str | None = typer.Option(None, "--system", help="system id, name or code"),
    as_of: dt.datetime | None = AS_OF,
    as_json: bool = JSON_OPT,
) -> None:
    """Every obligation with its due date and state (key-post staffing last: it has no date)."""
    with get_database().read_session() as db:
        system_id = service.resolve_system(db, system).id if system is not None else None
        rows = obligations.obligations(db, today=_today(as_of), state=state, kind=kind, system_id=system_id)
    _print(rows, as_json, f"关基保护义务 Obligations: {len(rows)}")


@obligations_app.command("calendar")
def calendar_cmd(
    start: dt.datetime | None = typer.Option(
        None, "--from", formats=DATE, help="default 1 January last year"
    ),
    end: dt.datetime | None = typer.Option(None, "--to", formats=DATE, help="default a year from today"),
    as_of: dt.datetime | None = AS_OF,
    as_json: bool = JSON_OPT,
) -> None:
    """Every dated obligation due in the range, by due date, with its state."""
    with get_database().read_session() as db:
        rows = obligations.calendar(db, today=_today(as_of), start=day(start), end=day(end))
    _print(rows, as_json, f"义务日历 Calendar: {len(rows)}")


@obligations_app.command("done")
def done_cmd(
    system: str = typer.Argument(..., help="CII system id, name or code"),
    year: int = typer.Option(..., "--year", help="the year the test is for"),
    done_on: dt.datetime | None = typer.Option(None, "--on", formats=DATE, help="default today"),
    by: str | None = typer.Option(None, "--by", help="who did it (default: you)"),
    note: str | None = typer.Option(None, "--note"),
    assessment: int | None = typer.Option(None, "--assessment", min=1, max=INT32_MAX, help="assessment id"),
    as_json: bool = JSON_OPT,
) -> None:
    """Record that a CII system's yearly security test and risk assessment was done."""
    today = dt.date.today()
    with get_database().unit_of_work() as db:
        sys_ = service.resolve_system(db, system)
        data = validated(
            DoneIn,
            system_id=sys_.id,
            period=str(year),
            done_on=day(done_on) or today,
            done_by=by,
            note=note,
            assessment_id=assessment,
        )
        row = to_data(obligations.record_done(db, data=data, today=today), DoneRead)
    if as_json:
        print_json(row)
        return
    typer.echo(f"recorded {row['id']}: {sys_.name} {row['period']} done {row['done_on']} by {row['done_by']}")


def _post_out(row: dict[str, Any], as_json: bool) -> None:
    data = to_data(row, KeyPostRead)
    if as_json:
        print_json(data)
        return
    resp = data["responsible"]["name"] if data["responsible"] else "-"
    typer.echo(
        f"{data['id']}: {data['name']}  负责人 {resp}  共同承担 {data['sharing']}/{data['min_sharing']}"
    )
    for m in data["members"]:
        typer.echo(f"  {m['id']}: {m['name']}")
    for v in data["violations"]:
        typer.echo(f"  violation: {v}")


@keyposts_app.command("add")
def post_add(
    name: str = typer.Argument(..., help="post name, e.g. 网络安全管理员"),
    responsible: int | None = typer.Option(None, "--responsible", min=1, max=INT32_MAX, help="contact id"),
    member: list[int] = typer.Option([], "--member", help="contact id sharing the duty (repeatable)"),
    organization: int | None = typer.Option(None, "--organization", min=1, max=INT32_MAX),
    system: str | None = typer.Option(None, "--system", help="system id, name or code"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = JSON_OPT,
) -> None:
    """Create a key post with its responsible person and the people sharing its duty."""
    with get_database().unit_of_work() as db:
        system_id = service.resolve_system(db, system).id if system is not None else None
        data = validated(
            KeyPostIn,
            name=name,
            responsible_id=responsible,
            members=member,
            organization_id=organization,
            system_id=system_id,
            description=description,
        )
        row = obligations.describe_post(db, post_id=obligations.create_post(db, data=data).id)
    _post_out(row, as_json)


@keyposts_app.command("set")
def post_set(
    post_id: int = POST,
    name: str | None = typer.Option(None, "--name"),
    responsible: int | None = typer.Option(None, "--responsible", min=1, max=INT32_MAX, help="contact id"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = JSON_OPT,
) -> None:
    """Rename a key post, change its responsible person or description."""
    data = validated(KeyPostUpdate, name=name, responsible_id=responsible, description=description)
    with get_database().unit_of_work() as db:
        obligations.update_post(db, post_id=post_id, changes=data)
        row = obligations.describe_post(db, post_id=post_id)
    _post_out(row, as_json)


@keyposts_app.command("member-add")
def member_add(post_id: int = POST, contact_id: int = CONTACT, as_json: bool = JSON_OPT) -> None:
    """A person shares the duty of the post."""
    with get_database().unit_of_work() as db:
        obligations.add_member(db, post_id=post_id, contact_id=contact_id)
        row = obligations.describe_post(db, post_id=post_id)
    _post_out(row, as_json)


@keyposts_app.command("member-remove")
def member_remove(post_id: int = POST, contact_id: int = CONTACT, as_json: bool = JSON_OPT) -> None:
    """A person no longer shares the duty of the post."""
    with get_database().unit_of_work() as db:
        obligations.remove_member(db, post_id=post_id, contact_id=contact_id)
        row = obligations.describe_post(db, post_id=post_id)
    _post_out(row, as_json)


@keyposts_app.command("list")
def post_list(
    organization: int | None = typer.Option(None, "--organization", min=1, max=INT32_MAX),
    violations: bool = typer.Option(False, "--violations", help="only posts that break the rule"),
    as_json: bool = JSON_OPT,
) -> None:
    """Key posts with their staff; a post with fewer people sharing the duty than the rule asks is a violation."""
    with get_database().read_session() as db:
        rows = obligations.list_posts(db, organization_id=organization)
    if violations:
        rows = [r for r in rows if r["violations"]]
    if as_json:
        print_json([to_data(r, KeyPostRead) for r in rows])
        return
    flat = [
        {
            **r,
            "responsible": r["responsible"]["name"] if r["responsible"] else "",
            "members": ", ".join(m["name"] for m in r["members"]),
            "violations": "; ".join(r["violations"]),
        }
        for r in rows
    ]
    print_table(
        flat,
        ["id", "name", "responsible", "members", "sharing", "violations"],
        title=f"关键岗位 Key posts: {len(rows)}",
    )


@training_app.command("add")
def training_add(
    contact_id: int = CONTACT,
    held_on: dt.datetime = typer.Option(..., "--on", formats=DATE, help="the day it was held"),
    hours: float = typer.Option(..., "--hours"),
    topic: str = typer.Option(..., "--topic"),
    notes: str | None = typer.Option(None, "--notes"),
    as_json: bool = JSON_OPT,
) -> None:
    """Record a training session of one person."""
    data = validated(
        TrainingIn, contact_id=contact_id, held_on=held_on.date(), hours=hours, topic=topic, notes=notes
    )
    with get_database().unit_of_work() as db:
        t = obligations.add_training(db, data=data, today=dt.date.today())
        row = next(r for r in obligations.list_training(db, contact_id=t.contact_id) if r["id"] == t.id)
    if as_json:
        print_json(to_data(row, TrainingRead))
        return
    typer.echo(f"recorded {row['id']}: {row['person']} {row['held_on']} {row['hours']:g} h {row['topic']}")


@training_app.command("list")
def training_list(
    contact: int | None = typer.Option(None, "--contact", min=1, max=INT32_MAX, help="contact id"),
    year: int | None = typer.Option(None, "--year"),
    as_json: bool = JSON_OPT,
) -> None:
    """Training sessions, newest first."""
    with get_database().read_session() as db:
        rows = obligations.list_training(db, contact_id=contact, year=year)
    if as_json:
        print_json([to_data(r, TrainingRead) for r in rows])
        return
    print_table(rows, ["id", "person", "held_on", "hours", "topic"], title=f"培训 Training: {len(rows)}")
