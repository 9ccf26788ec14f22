"""``ciimap incidents plans ...`` (应急预案) and ``ciimap incidents drills ...`` (演练).

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
from ciimap.incidents import drills, plans
from ciimap.incidents.models import FALLBACK_KINDS
from ciimap.incidents.schemas import PlanContact, PlanStep

plans_app = typer.Typer(
    help="Emergency plans (应急预案): steps, contacts, fallback, review", no_args_is_help=True
)
drills_app = typer.Typer(
    help="Drills (演练): scenarios from the map, drill incidents, scores", no_args_is_help=True
)
JSON_OPT = typer.Option(False, "--json", help="machine-readable output")


def _out(data: Any) -> None:
    print_json(to_jsonable_python(data))


def _step(value: str) -> dict[str, Any]:
    role, sep, text = value.partition("=")
    if not sep or not role.strip() or not text.strip():
        raise Invalid(f"--step '{value}' must be ROLE=TEXT (e.g. --step 处置=切换到备用系统)")
    try:
        return PlanStep(owner_role=role.strip(), text=text.strip()).model_dump()
    except ValidationError as e:
        raise Invalid(f"--step '{value[:40]}': {e.errors()[0]['msg']}") from None


def _contact(value: str) -> dict[str, Any]:
    """``42`` (an inventory contact id) or ``NAME[:PHONE[:ROLE]]`` (free text)."""
    if value.strip().isdigit():
        return {"contact_id": int(value)}
    name, _, rest = value.partition(":")
    phone, _, role = rest.partition(":")
    try:
        c = PlanContact(name=name.strip() or None, phone=phone.strip() or None, role=role.strip() or None)
    except ValidationError as e:
        raise Invalid(f"--contact '{value[:40]}': {e.errors()[0]['msg']}") from None
    return c.model_dump()


def _fallback(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    kind, sep, ref = value.partition(":")
    if not sep or kind not in FALLBACK_KINDS or not ref.strip():
        raise Invalid(f"--fallback '{value}' must be system:REF, asset:REF or redundancy_group:NAME")
    return kind, ref.strip()


@plans_app.command("list")
def plans_list(
    overdue: bool = typer.Option(False, "--overdue", help="only plans whose review is overdue"),
    limit: int = typer.Option(50, "--limit", min=1, max=plans.LIST_LIMIT),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = JSON_OPT,
) -> None:
    """Emergency plans, next review first."""
    with get_database().read_session() as db:
        data = plans.listing(db, viewer_org=None, overdue_only=overdue, limit=limit, offset=offset)
    if as_json:
        _out(data)
        return
    print_table(data["items"], ["id", "title", "service", "system", "next_review", "review_state"],
                title=f"应急预案 {data['total']}")  # fmt: skip


@plans_app.command("show")
def plans_show(plan_id: int, as_json: bool = JSON_OPT) -> None:
    """One plan with its steps and contacts."""
    with get_database().read_session() as db:
        data = plans.detail(db, plan_id=plan_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    typer.echo(f"#{data['id']} {data['title']}  复审 {data['next_review']} ({data['review_state']})")
    print_table(
        [{"n": i + 1, **s} for i, s in enumerate(data["steps"])], ["n", "owner_role", "text"], title="步骤"
    )
    print_table(data["contacts"], ["name", "phone", "role"], title="联系人")


@plans_app.command("add")
def plans_add(
    title: str,
    service_: int | None = typer.Option(None, "--service", help="business service id"),
    system: int | None = typer.Option(None, "--system", help="system id"),
    organization: int | None = typer.Option(None, "--organization"),
    step: list[str] = typer.Option([], "--step", help="ROLE=TEXT, in order"),
    contact: list[str] = typer.Option([], "--contact", help="contact id, or NAME[:PHONE[:ROLE]]"),
    fallback: str | None = typer.Option(
        None, "--fallback", help="system:REF, asset:REF or redundancy_group:NAME"
    ),
    fallback_note: str | None = typer.Option(None, "--fallback-note"),
    review_months: int = typer.Option(12, "--review-months", min=1, max=120),
    last_reviewed: str | None = typer.Option(None, "--last-reviewed", help="YYYY-MM-DD"),
    as_json: bool = JSON_OPT,
) -> None:
    """Add an emergency plan for a business service and/or a system."""
    kind, ref = _fallback(fallback)
    try:
        last = dt.date.fromisoformat(last_reviewed) if last_reviewed else None
    except ValueError:
        raise Invalid(f"--last-reviewed '{last_reviewed}' is not a date (YYYY-MM-DD)") from None
    with get_database().unit_of_work() as db:
        p = plans.create(
            db, viewer_org=None, title=title, organization_id=organization, service_id=service_, system_id=system,
            steps=[_step(s) for s in step], contacts=[_contact(c) for c in contact], fallback_kind=kind,
            fallback_ref=ref, fallback_note=fallback_note, review_months=review_months, last_reviewed=last,
        )  # fmt: skip
        data = plans.detail(db, plan_id=p.id, viewer_org=None)
    if as_json:
        _out(data)
        return
    typer.echo(f"plan {data['id']} added: {data['title']} (next review {data['next_review']})")


@plans_app.command("review")
def plans_review(
    plan_id: int, on: str | None = typer.Option(None, "--on", help="YYYY-MM-DD; default today")
) -> None:
    """Record that the plan was reviewed (the next review is due a cycle later)."""
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise Invalid(f"--on '{on}' is not a date (YYYY-MM-DD)") from None
    with get_database().unit_of_work() as db:
        p = plans.review(db, plan_id=plan_id, viewer_org=None, reviewed_on=day)
        typer.echo(f"plan {p.id}: next review {p.next_review}")


@plans_app.command("delete")
def plans_delete(plan_id: int) -> None:
    """Delete a plan (audited)."""
    with get_database().unit_of_work() as db:
        plans.delete(db, plan_id=plan_id, viewer_org=None)


@plans_app.command("check")
def plans_check(plan_id: int, as_json: bool = JSON_OPT) -> None:
    """Check the plan's fallback against the map (what-if of its primary target; shared SPOFs).
    Exit 0 whatever the verdict: read ``status`` (ok, degraded, fails, shared_spof, not_redundant, ...)."""
    with get_database().read_session() as db:
        data = plans.check(db, plan_id=plan_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    typer.echo(f"plan {plan_id}: {data['status']}")
    for f in data["findings"]:
        typer.echo(f"  - {f['text']}")


@drills_app.command("scenarios")
def drills_scenarios(
    vendor: str | None = typer.Option(None, "--vendor", help="faulty-update scenario for this vendor"),
    system: str | None = typer.Option(None, "--system", help="ransomware scenario on this system"),
    as_json: bool = JSON_OPT,
) -> None:
    """Scenarios from the map: without options, the vendors whose products auto-update with kernel/admin
    rights; with --vendor or --system, the scenario with the services and systems that go down."""
    if vendor and system:
        raise Invalid("give --vendor or --system, not both")
    with get_database().read_session() as db:
        if vendor or system:
            data: Any = drills.scenario(
                db, kind="vendor_update" if vendor else "ransomware", target=vendor or system or ""
            )
        else:
            data = {"vendor_update": drills.vendor_candidates(db)}
    if as_json:
        _out(data)
        return
    if "vendor_update" in data:
        rows = [{"id": v["id"], "vendor": v["name"], "products": ", ".join(p["name"] for p in v["products"])}
                for v in data["vendor_update"]]  # fmt: skip
        print_table(rows, ["id", "vendor", "products"], title="演练场景：厂商推送故障更新")
        return
    typer.echo(data["title"])
    rows = [{"type": "service", **n} for n in data["services_down"]] + [
        {"type": "system", **n} for n in data["systems_down"]
    ]
    print_table(rows, ["type", "name", "status", "path"], title="中断 Goes down")


@drills_app.command("start")
def drills_start(
    vendor: str | None = typer.Option(None, "--vendor"),
    system: str | None = typer.Option(None, "--system"),
    organization: int | None = typer.Option(None, "--organization"),
    notes: str | None = typer.Option(None, "--notes"),
    as_json: bool = JSON_OPT,
) -> None:
    """Start a drill: opens a drill incident (演练, never counted nor reported) with the scenario's impact."""
    if bool(vendor) == bool(system):
        raise Invalid("give --vendor (faulty update) or --system (ransomware)")
    kind = "vendor_update" if vendor else "ransomware"
    with get_database().unit_of_work() as db:
        d = drills.start(db, viewer_org=None, kind=kind, target=vendor or system or "", organization_id=organization,
                         notes=notes)  # fmt: skip
        data = drills.to_dict(d)
    if as_json:
        _out(data)
        return
    typer.echo(f"drill {data['id']} started: incident {data['incident_id']} {data['title']}")


@drills_app.command("list")
def drills_list(as_json: bool = JSON_OPT) -> None:
    """Drills, newest first."""
    with get_database().read_session() as db:
        rows = drills.listing(db, viewer_org=None)
    if as_json:
        _out(rows)
        return
    print_table(
        rows, ["id", "kind", "target_name", "incident_id", "services_down", "started_at"], title="演练"
    )


@drills_app.command("score")
def drills_score(drill_id: int, as_json: bool = JSON_OPT) -> None:
    """Timing scores from the drill incident's timeline (grade, first report vs deadline, restore)."""
    with get_database().read_session() as db:
        data = drills.score(db, drill_id=drill_id, viewer_org=None)
    if as_json:
        _out(data)
        return
    print_table([{"field": k, "value": v} for k, v in data.items()], ["field", "value"], title="演练评分")


@drills_app.command("report")
def drills_report(
    drill_id: int,
    fmt: str = typer.Option("docx", "--format", help="docx or pdf"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file to write (default: its own name)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Write the after-action report (演练复盘报告) as Chinese DOCX or PDF."""
    with get_database().read_session() as db:
        data, name, _media = drills.export(db, drill_id=drill_id, viewer_org=None, fmt=fmt)
    target = output or Path(name)
    target.write_bytes(data)
    if as_json:
        _out({"path": str(target), "bytes": len(data)})
        return
    typer.echo(f"wrote {target} ({len(data)} bytes)")
