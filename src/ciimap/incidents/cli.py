"""``ciimap incidents ...``: assess, incidents, timeline, roles, tasks, evidence, reports, operators, sweep.

The CLI acts for the whole installation (no organisation binding): ``viewer_org`` is ``None``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table
from ciimap.incidents import clock, evidence, grading, overview, reports, service

app = typer.Typer(help="Incident handling and reporting (事件处置 + 信息通报)", no_args_is_help=True)
report_app = typer.Typer(
    help="Report forms (初报, 续报, 总结报告), export, reports sent", no_args_is_help=True
)
evidence_app = typer.Typer(help="Evidence files with SHA-256 and custody", no_args_is_help=True)
operator_app = typer.Typer(help="Operator type per organisation (the reporting clock)", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(evidence_app, name="evidence")
app.add_typer(operator_app, name="operator")
GROUPS = [("incidents", app)]
JSON_OPT = typer.Option(False, "--json", help="machine-readable output")


def _out(data: Any) -> None:
    print_json(to_jsonable_python(data))


def _when(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{option} '{value}' is not an ISO 8601 time (e.g. 2025-11-02T10:00:00+08:00)"
        ) from None


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None


def _facts(**kw: Any) -> grading.Facts:
    try:
        return grading.Facts(**kw)
    except ValidationError as e:
        err = e.errors()[0]
        name = "--" + str(err["loc"][0]).replace("_", "-") if err["loc"] else "facts"
        raise Invalid(f"{name}: {err['msg']}") from None


PI = typer.Option(None, "--pi-leaked", help="people whose personal information leaked")
LOSS = typer.Option(None, "--economic-loss", help="direct economic loss, yuan")
OUT = typer.Option(None, "--cii-outage-minutes", help="CII outage overall, minutes")
MAIN = typer.Option(None, "--cii-main-function-outage-minutes", help="CII main functions down, minutes")
PEOPLE = typer.Option(None, "--people-affected", help="people whose essential services are disrupted")
PLEVEL = typer.Option(None, "--portal-level", help="provincial or city")
PMIN = typer.Option(
    None, "--portal-outage-minutes", help="government portal / news site unreachable, minutes"
)
DATA = typer.Option(None, "--data-threat", help="core/important data stolen: particularly_serious or serious")


@app.command("assess")
def assess(
    reporter: str = typer.Option(..., "--reporter", help="cii, central_state_organ or other"),
    pi_leaked: int | None = PI,
    economic_loss: float | None = LOSS,
    cii_outage_minutes: float | None = OUT,
    cii_main_function_outage_minutes: float | None = MAIN,
    people_affected: int | None = PEOPLE,
    portal_level: str | None = PLEVEL,
    portal_outage_minutes: float | None = PMIN,
    discovered_at: str | None = typer.Option(None, "--discovered-at", help="ISO 8601 (naive = UTC)"),
    handling_closed_at: str | None = typer.Option(None, "--handling-closed-at", help="YYYY-MM-DD"),
    as_json: bool = JSON_OPT,
) -> None:
    """Grade an incident by the 2025 annex and give its reporting deadlines. Nothing is stored."""
    if reporter not in grading.REPORTERS:
        raise Invalid(f"--reporter '{reporter}' is not one of {', '.join(grading.REPORTERS)}")
    facts = _facts(
        pi_leaked=pi_leaked, economic_loss=economic_loss, cii_outage_minutes=cii_outage_minutes,
        cii_main_function_outage_minutes=cii_main_function_outage_minutes, people_affected=people_affected,
        portal_level=portal_level, portal_outage_minutes=portal_outage_minutes,
    )  # fmt: skip
    out = grading.assess(
        facts, reporter=reporter, discovered_at=_when(discovered_at, "--discovered-at"),
        handling_closed_at=_day(handling_closed_at, "--handling-closed-at"),
    )  # fmt: skip
    if as_json:
        print_json(out)
        return
    print_table(
        [{"field": k, "value": v} for k, v in out.items()], ["field", "value"], title="事件定级 Assessment"
    )


@app.command("list")
def list_(
    state: str | None = typer.Option(None, "--state"),
    grade: str | None = typer.Option(None, "--grade"),
    open_only: bool = typer.Option(False, "--open", help="only incidents not closed"),
    limit: int = typer.Option(50, "--limit", min=1, max=service.LIST_LIMIT),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = JSON_OPT,
) -> None:
    """Incidents, newest first."""
    with get_database().read_session() as db:
        data = service.list_incidents(
            db, viewer_org=None, state=state, grade=grade, open_only=open_only, limit=limit, offset=offset
        )
    if as_json:
        _out(data)
        return
    print_table(
        data["items"],
        ["id", "grade", "state", "title", "discovered_at", "drill"],
        title=f"事件 {data['total']}",
    )


@app.command("open")
def open_(
    title: str | None = typer.Option(None, "--title"),
    organization: int | None = typer.Option(None, "--organization"),
    warning: int | None = typer.Option(None, "--warning", help="open from this warning (keeps the link)"),
    alert_group: int | None = typer.Option(None, "--alert-group", help="open from this alert group"),
    category: str | None = typer.Option(None, "--category", help="GB/T 20986-2023 category key"),
    subcategory: str | None = typer.Option(None, "--subcategory"),
    discovered_at: str | None = typer.Option(None, "--discovered-at", help="ISO 8601; default now"),
    asset: list[int] = typer.Option([], "--asset"),
    system: list[int] = typer.Option([], "--system"),
    service_: list[int] = typer.Option([], "--service"),
    drill: bool = typer.Option(False, "--drill", help="a drill (演练): never counted or reported"),
    as_json: bool = JSON_OPT,
) -> None:
    """Open an incident (state 发现). Grade it with ``ciimap incidents grade``."""
    with get_database().unit_of_work() as db:
        inc = service.open_incident(
            db, viewer_org=None, title=title, organization_id=organization, warning_id=warning,
            alert_group_id=alert_group, category=category, subcategory=subcategory,
            discovered_at=_when(discovered_at, "--discovered-at"), asset_ids=asset or None,
            system_ids=system or None, service_ids=service_ or None, drill=drill,
        )  # fmt: skip
        data = service.detail(db, incident_id=inc.id, viewer_org=None)
    if as_json:
        _out(data)
        return
    typer.echo(f"incident {data['id']} opened: {data['title']} ({data['grade']})")


@app.command("show")
def show(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """One incident with its deadlines, roles and tasks."""
    with get_database().read_session() as db:
        data = service.detail(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    typer.echo(f"#{data['id']} {data['title']}  [{data['grade']}] {data['state']}")
    print_table(data["deadlines"], ["kind", "due_at", "met_at", "overdue_at"], title="时限 Deadlines")


@app.command("grade")
def grade(
    incident_id: int,
    pi_leaked: int | None = PI,
    economic_loss: float | None = LOSS,
    cii_outage_minutes: float | None = OUT,
    cii_main_function_outage_minutes: float | None = MAIN,
    people_affected: int | None = PEOPLE,
    portal_level: str | None = PLEVEL,
    portal_outage_minutes: float | None = PMIN,
    data_threat: str | None = DATA,
    as_json: bool = JSON_OPT,
) -> None:
    """Grade by the annex criteria (the highest reached wins; each reached criterion is named)."""
    facts = _facts(
        pi_leaked=pi_leaked, economic_loss=economic_loss, cii_outage_minutes=cii_outage_minutes,
        cii_main_function_outage_minutes=cii_main_function_outage_minutes, people_affected=people_affected,
        portal_level=portal_level, portal_outage_minutes=portal_outage_minutes, data_threat=data_threat,
    )  # fmt: skip
    with get_database().unit_of_work() as db:
        service.regrade(db, incident_id=incident_id, viewer_org=None, facts=facts)
        data = service.detail(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    why = "; ".join(f"{r['label']} → {r['grade']}" for r in data["reached"]) or "no criterion reached"
    typer.echo(f"incident {incident_id}: {data['grade']} ({why})")


@app.command("move")
def move(incident_id: int, state: str) -> None:
    """Move to STATE (发现 → 研判 → 处置 → 恢复 → 总结 → 关闭)."""
    with get_database().unit_of_work() as db:
        inc = service.transition(db, incident_id=incident_id, viewer_org=None, to=state)
        typer.echo(f"incident {inc.id}: {inc.state}")


@app.command("comment")
def comment(incident_id: int, text: str) -> None:
    """Add a comment to the timeline."""
    with get_database().unit_of_work() as db:
        service.comment(db, incident_id=incident_id, viewer_org=None, text=text)


@app.command("timeline")
def timeline(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """The append-only timeline."""
    with get_database().read_session() as db:
        rows = service.timeline(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(rows, ["at", "kind", "actor", "text"], title=f"时间线 #{incident_id}")


@app.command("role")
def role(
    incident_id: int, role_: str = typer.Argument(..., metavar="ROLE"), person: str = typer.Argument(...)
) -> None:
    """Assign ROLE (指挥, 处置, 联络, 记录) to PERSON."""
    with get_database().unit_of_work() as db:
        service.assign_role(db, incident_id=incident_id, viewer_org=None, role=role_, person=person)


@app.command("task")
def task(
    incident_id: int,
    title: str,
    owner: str | None = typer.Option(None, "--owner"),
    due: str | None = typer.Option(None, "--due", help="ISO 8601"),
) -> None:
    """Add a task with an owner and a due time."""
    with get_database().unit_of_work() as db:
        t = service.add_task(db, incident_id=incident_id, viewer_org=None, title=title, owner=owner,
                             due_at=_when(due, "--due"))  # fmt: skip
        typer.echo(f"task {t.id} added")


@app.command("task-done")
def task_done(task_id: int) -> None:
    """Mark a task done."""
    with get_database().unit_of_work() as db:
        service.complete_task(db, task_id=task_id, viewer_org=None)


@app.command("related")
def related(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """Incidents of the same organisation sharing an asset or system."""
    with get_database().read_session() as db:
        rows = service.related(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(rows, ["id", "grade", "state", "title"], title="相关事件 Related")


@app.command("what-if")
def what_if(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """What fails next when the incident's assets fail (the graph what-if)."""
    with get_database().read_session() as db:
        data = service.what_if(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    print_table([{"type": "service", **s} for s in data["services"]] + [{"type": "system", **s} for s in data["systems"]],
                ["type", "name", "status"], title="影响 What fails next")  # fmt: skip


@app.command("sweep")
def sweep(as_json: bool = JSON_OPT) -> None:
    """Run the deadline sweep now (reminders, escalation of passed deadlines)."""
    with get_database().unit_of_work() as db:
        out = clock.sweep(db)
    if as_json:
        _out(out)
        return
    typer.echo(f"checked {out['checked']}, reminders {out['reminders']}, overdue {out['overdue']}")


@app.command("overview")
def overview_(as_json: bool = JSON_OPT) -> None:
    """Open incidents by grade and deadlines due within the hour."""
    with get_database().read_session() as db:
        data = service.open_counts(db, viewer_org=None)
    if as_json:
        _out(data)
        return
    print_table([{"grade": g, "open": n} for g, n in data["by_grade"].items()], ["grade", "open"],
                title=f"一小时内到期 due within the hour: {data['due_within_hour']}")  # fmt: skip


@app.command("rollup")
def rollup(as_json: bool = JSON_OPT) -> None:
    """Regulator view: per operator, incidents by grade, reports received, deadlines met."""
    with get_database().read_session() as db:
        data = overview.rollup(db, viewer_org=None)
    if as_json:
        _out(data)
        return
    rows = [{**r, **r["by_grade"]} for r in data["operators"]]
    cols = [
        "organization",
        "operator_type",
        *data["by_grade"],
        "reports_received",
        "deadlines_met",
        "deadlines_missed",
    ]
    print_table(rows, cols, title="监管视图 Regulator roll-up")


@app.command("categories")
def categories(as_json: bool = JSON_OPT) -> None:
    """GB/T 20986-2023 categories and subcategories."""
    data = service.categories()
    if as_json:
        _out(data)
        return
    rows = [{"category": k, "name": c["name"], "subcategory": s, "sub_name": n}
            for k, c in data["categories"].items() for s, n in c["subcategories"].items()]  # fmt: skip
    print_table(rows, ["category", "name", "subcategory", "sub_name"], title=str(data["version"]))


# --- operators ---------------------------------------------------------------------------------------------


@operator_app.command("set")
def operator_set(organization_id: int, operator_type: str) -> None:
    """Set an organisation's operator type: cii, central_state_organ or other."""
    with get_database().unit_of_work() as db:
        service.set_operator_type(db, organization_id=organization_id, operator_type=operator_type)


@operator_app.command("list")
def operator_list(as_json: bool = JSON_OPT) -> None:
    """Organisations and their operator types."""
    with get_database().read_session() as db:
        rows = service.list_operator_types(db)
    if as_json:
        _out(rows)
        return
    print_table(rows, ["organization_id", "organization", "operator_type"], title="运营者类型 Operator types")


# --- evidence ----------------------------------------------------------------------------------------------


@evidence_app.command("add")
def evidence_add(
    incident_id: int, file: Path, description: str | None = typer.Option(None, "--description")
) -> None:
    """Store FILE as evidence (SHA-256, custody starts with you)."""
    with get_database().unit_of_work() as db:
        ev = evidence.attach(
            db, incident_id=incident_id, viewer_org=None, source=file, description=description
        )
        typer.echo(f"evidence {ev.id}: {ev.filename} sha256 {ev.sha256}")


@evidence_app.command("list")
def evidence_list(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """Evidence files with their chain of custody."""
    with get_database().read_session() as db:
        rows = evidence.listing(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(rows, ["id", "filename", "sha256", "size"], title="证据 Evidence")


@evidence_app.command("handle")
def evidence_handle(evidence_id: int, action: str, note: str | None = typer.Option(None, "--note")) -> None:
    """Record that you handled the evidence (ACTION: transferred, analysed, returned, ...)."""
    with get_database().unit_of_work() as db:
        evidence.hand_over(db, evidence_id=evidence_id, viewer_org=None, action=action, note=note)


# --- reports -----------------------------------------------------------------------------------------------


def _items(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, text = v.partition("=")
        if not sep:
            raise Invalid(f"--item '{v}' must be N=TEXT (e.g. --item 1=单位及系统情况)")
        out[key.strip()] = text
    return out


@report_app.command("create")
def report_create(
    incident_id: int,
    kind: str = typer.Option("initial", "--kind", help="initial, supplement or summary"),
    item: list[str] = typer.Option([], "--item", help="N=TEXT; an initial report needs at least 1 and 2"),
    from_draft: bool = typer.Option(False, "--draft", help="start from items 1–2 filled from the incident"),
    as_json: bool = JSON_OPT,
) -> None:
    """Save a report form (the eight content items; file items 1–2 first, supplement later)."""
    with get_database().unit_of_work() as db:
        base = reports.draft(db, incident_id=incident_id, viewer_org=None, kind=kind) if from_draft else {}
        data = reports.create(
            db, incident_id=incident_id, viewer_org=None, kind=kind, items={**base, **_items(item)}
        )
    if as_json:
        _out(data)
        return
    typer.echo(f"report {data['id']} saved ({kind}); missing items: {', '.join(data['missing']) or 'none'}")


@report_app.command("list")
def report_list(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """Report forms of an incident."""
    with get_database().read_session() as db:
        rows = reports.listing(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(rows, ["id", "kind", "created_by", "created_at", "missing"], title="报告 Reports")


@report_app.command("send")
def report_send(
    report_id: int,
    authority: str = typer.Option(..., "--authority", help="e.g. 保护工作部门, 公安机关, 省级网信部门"),
    channel: str = typer.Option(
        ..., "--channel", help="12387, platform, email, fax, phone, in_person, other"
    ),
    sent_at: str | None = typer.Option(None, "--sent-at", help="ISO 8601; default now"),
    reference: str | None = typer.Option(None, "--reference"),
    as_json: bool = JSON_OPT,
) -> None:
    """Record that a report was sent (to whom, when, by whom, how)."""
    with get_database().unit_of_work() as db:
        data = reports.send(db, report_id=report_id, viewer_org=None, authority=authority, channel=channel,
                            sent_at=_when(sent_at, "--sent-at"), reference=reference)  # fmt: skip
    if as_json:
        _out(data)
        return
    typer.echo(
        f"report {report_id} sent to {data['authority']} via {data['channel']} (on time: {data['on_time']})"
    )


@report_app.command("sent")
def report_sent(incident_id: int, as_json: bool = JSON_OPT) -> None:
    """Every report sent for an incident."""
    with get_database().read_session() as db:
        rows = reports.submissions(db, incident_id=incident_id, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(
        rows, ["id", "report_id", "authority", "channel", "sent_at", "sent_by", "on_time"], title="报送记录"
    )


@report_app.command("export")
def report_export(
    report_id: int,
    fmt: str = typer.Option("docx", "--format", help="docx or pdf"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file to write (default: its own name)"),
) -> None:
    """Write the report as Chinese DOCX or PDF."""
    with get_database().read_session() as db:
        data, name, _media = reports.export(db, report_id=report_id, viewer_org=None, fmt=fmt)
    target = output or Path(name)
    target.write_bytes(data)
    typer.echo(f"wrote {target} ({len(data)} bytes)")


# --- emergency plans and drills (ciimap.incidents.drills_cli) ----------------------------------------------

from ciimap.incidents.drills_cli import drills_app, plans_app  # noqa: E402

app.add_typer(plans_app, name="plans")
app.add_typer(drills_app, name="drills")
