"""``ciimap assess ...`` (测评), ``ciimap rectify ...`` (整改) and ``ciimap compliance conclude`` (the
conclusion of a score and risk counts, nothing stored). Listed in ``compliance/cli.py``'s ``GROUPS``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from ciimap.compliance import assessment, rectification, scoring, service
from ciimap.compliance.cli_options import DATE, JSON_OPT, day, validated
from ciimap.compliance.models import (
    LABELS,
    LINK_TARGETS,
    AssessmentKind,
    AssessmentState,
    Method,
    ObjectKind,
    RectStatus,
    ResultCode,
    RiskLevel,
)
from ciimap.compliance.schemas import (
    AssessmentDetail,
    AssessmentIn,
    AssessmentRead,
    BulkIn,
    BulkRead,
    ConcludeRead,
    EvidenceRead,
    ItemRow,
    ProgressRead,
    RectificationIn,
    RectificationRead,
    RectificationUpdate,
    ResultIn,
    ResultRead,
    RiskIn,
    RiskRead,
    ScoreRead,
    TestObjectIn,
    TestObjectRead,
)
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table, to_data
from ciimap.core.schemas import INT32_MAX

assess_app = typer.Typer(
    help="Assessments (测评): items × test objects, results, evidence, scores", no_args_is_help=True
)
rectify_app = typer.Typer(
    help="Rectification (整改) of 不符合 / 部分符合 results and risks", no_args_is_help=True
)

ID = typer.Argument(..., min=1, max=INT32_MAX, help="assessment id")
LINK_OPT = typer.Option(
    [], "--link", help=f"map record as TYPE:ID ({' | '.join(LINK_TARGETS)}), repeatable", show_default=False
)


def register(compliance_app: typer.Typer) -> None:
    """``ciimap compliance conclude``."""
    compliance_app.command("conclude")(conclude_cmd)


def _links(values: list[str] | None) -> list[dict[str, Any]]:
    out = []
    for v in values or []:
        kind, sep, ident = v.partition(":")
        if not sep or kind not in LINK_TARGETS or not ident.isdigit() or not 0 < int(ident) <= INT32_MAX:
            raise Invalid(f"--link {v!r}: expected TYPE:ID with TYPE one of {', '.join(LINK_TARGETS)}")
        out.append({"target_type": kind, "target_id": int(ident)})
    return out


def _show(row: dict[str, Any], as_json: bool) -> None:
    data = to_data(row, AssessmentDetail)
    if as_json:
        print_json(data)
        return
    for key in ("id", "system", "cycle", "kind", "body", "state", "catalog", "started_on", "next_due"):
        typer.echo(f"{key}: {data[key]}")
    typer.echo(
        f"level: {data['level']} (S{data['s_level']}A{data['a_level']}) from {data['level_source']}"
        + (f", extensions {', '.join(data['extensions'])}" if data["extensions"] else "")
    )
    typer.echo(f"items: {data['items']}  test objects: {data['objects']}  unset: {data['unset']}")
    typer.echo("results: " + ", ".join(f"{LABELS[k][0]} {v}" for k, v in data["results"].items()))
    if data["state"] == "closed":
        typer.echo(f"closed: {data['closed_on']} score {data['score']} conclusion {data['conclusion']}")
    for o in data["test_objects"]:
        typer.echo(
            f"object {o['id']}: {o['name']} ({o['kind']}{', asset ' + str(o['asset_id']) if o['asset_id'] else ''})"
        )
    for r in data["risks"]:
        typer.echo(f"risk {r['id']}: {LABELS[r['level']][0]} {r['item_id'] or ''} {r['description']}")


@assess_app.command("new")
def new(
    system: str = typer.Argument(..., help="system id, name or code"),
    kind: AssessmentKind = typer.Option("self", "--kind", help="self | external"),
    body: str | None = typer.Option(None, "--body", help="测评机构 (with --kind external)"),
    cycle: str | None = typer.Option(
        None, "--cycle", help="2026, 2026-H1, 2026-Q3 (default: by the level's rule)"
    ),
    started_on: dt.datetime | None = typer.Option(None, "--started-on", formats=DATE, help="default today"),
    catalog: str = typer.Option("22239-2019", "--catalog", help="catalog id"),
    assets: bool = typer.Option(False, "--assets", help="every asset of the system becomes a test object"),
    notes: str | None = typer.Option(None, "--notes"),
    as_json: bool = JSON_OPT,
) -> None:
    """Start an assessment; the applicable items come from the system's filed grading (or mlps_* fields)."""
    with get_database().unit_of_work() as db:
        sys_ = service.resolve_system(db, system)
        data = validated(
            AssessmentIn,
            system_id=sys_.id,
            kind=kind,
            body=body,
            cycle=cycle,
            started_on=day(started_on),
            catalog=catalog,
            notes=notes,
            include_assets=assets,
        )
        row = assessment.describe(db, assessment_id=assessment.create_assessment(db, data=data).id)
    _show(row, as_json)


@assess_app.command("list")
def list_cmd(
    system: str | None = typer.Option(None, "--system", help="system id, name or code"),
    state: AssessmentState | None = typer.Option(None, "--state", help="open | closed"),
    kind: AssessmentKind | None = typer.Option(None, "--kind", help="self | external"),
    as_json: bool = JSON_OPT,
) -> None:
    """Assessments, per system, newest first."""
    with get_database().read_session() as db:
        system_id = service.resolve_system(db, system).id if system is not None else None
        rows = assessment.list_assessments(db, system_id=system_id, state=state, kind=kind)
    if as_json:
        print_json([to_data(r, AssessmentRead) for r in rows])
        return
    print_table(
        rows,
        [
            "id",
            "system",
            "cycle",
            "kind",
            "state",
            "level",
            "items",
            "objects",
            "started_on",
            "score",
            "conclusion",
        ],
        title=f"测评 Assessments: {len(rows)}",
    )


@assess_app.command("show")
def show(assessment_id: int = ID, as_json: bool = JSON_OPT) -> None:
    """One assessment: result counts, test objects, risk register."""
    with get_database().read_session() as db:
        row = assessment.describe(db, assessment_id=assessment_id)
    _show(row, as_json)


@assess_app.command("items")
def items_cmd(
    assessment_id: int = ID,
    category: str | None = typer.Option(None, "--category", help="e.g. 安全计算环境"),
    result: str | None = typer.Option(None, "--result", help="pass | partial | fail | na | unset"),
    as_json: bool = JSON_OPT,
) -> None:
    """The items with their results per test object."""
    with get_database().read_session() as db:
        rows = assessment.items(db, assessment_id=assessment_id, category=category, result=result)
    if as_json:
        print_json([to_data(r, ItemRow) for r in rows])
        return
    flat = [
        {
            **r,
            "results": " ".join(f"{c['object_id']}:{c['result']}" for c in r["results"]),
            "score": None if r["score"] is None else round(r["score"], 2),
        }
        for r in rows
    ]
    print_table(flat, ["id", "category", "control_point", "score", "results"], title=f"Items: {len(rows)}")


@assess_app.command("object")
def object_cmd(
    assessment_id: int = ID,
    asset: int | None = typer.Option(None, "--asset", min=1, max=INT32_MAX, help="asset id"),
    name: str | None = typer.Option(None, "--name", help="name (a policy document, a room...)"),
    kind: ObjectKind | None = typer.Option(None, "--kind", help="document | room | person | other"),
    description: str | None = typer.Option(None, "--description"),
    as_json: bool = JSON_OPT,
) -> None:
    """Add a test object (测评对象)."""
    data = validated(TestObjectIn, asset_id=asset, name=name, kind=kind, description=description)
    with get_database().unit_of_work() as db:
        obj = assessment.add_object(db, assessment_id=assessment_id, data=data)
        out = to_data(obj, TestObjectRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"object {out['id']}: {out['name']} ({out['kind']})")


@assess_app.command("result")
def result_cmd(
    assessment_id: int = ID,
    item: str = typer.Argument(..., help="item id (22239-2019:8.1.4.1.a) or key"),
    object_id: int = typer.Option(..., "--object", min=1, max=INT32_MAX, help="test object id"),
    result: ResultCode = typer.Option(..., "--result", help="pass (符合) | partial | fail | na"),
    method: Method | None = typer.Option(
        None, "--method", help="interview (访谈) | check (核查) | test (测试)"
    ),
    assessor: str | None = typer.Option(None, "--assessor"),
    notes: str | None = typer.Option(None, "--notes"),
    link: list[str] = LINK_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Save one item × test object result."""
    data = validated(
        ResultIn,
        item=item,
        object_id=object_id,
        result=result,
        method=method,
        assessor=assessor,
        notes=notes,
        links=_links(link),
    )
    with get_database().unit_of_work() as db:
        out = to_data(assessment.set_result(db, assessment_id=assessment_id, data=data), ResultRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"result {out['id']}: {out['item_id']} on {out['object']}: {out['result_zh']}")
    for rid in out["verified_rectifications"]:
        typer.echo(f"rectification {rid} verified")


@assess_app.command("bulk")
def bulk_cmd(
    assessment_id: int = ID,
    result: ResultCode = typer.Option(..., "--result", help="pass | partial | fail | na"),
    item: list[str] | None = typer.Option(None, "--item", help="item id or key (repeatable; default all)"),
    category: str | None = typer.Option(None, "--category"),
    control_point: str | None = typer.Option(None, "--control-point"),
    object_id: list[int] | None = typer.Option(
        None, "--object", min=1, max=INT32_MAX, help="test object id (repeatable; default all)"
    ),
    method: Method | None = typer.Option(None, "--method"),
    assessor: str | None = typer.Option(None, "--assessor"),
    notes: str | None = typer.Option(None, "--notes"),
    only_unset: bool = typer.Option(False, "--only-unset", help="leave pairs with a result alone"),
    as_json: bool = JSON_OPT,
) -> None:
    """One result for many items × test objects (one transaction)."""
    data = validated(
        BulkIn,
        result=result,
        items=list(item) if item else None,
        category=category,
        control_point=control_point,
        object_ids=list(object_id) if object_id else None,
        method=method,
        assessor=assessor,
        notes=notes,
        only_unset=only_unset,
    )
    with get_database().unit_of_work() as db:
        out = to_data(assessment.bulk_set(db, assessment_id=assessment_id, data=data), BulkRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"{out['created']} created, {out['updated']} updated, {out['unchanged']} unchanged")


@assess_app.command("evidence")
def evidence_cmd(
    result_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="result id"),
    file: Path = typer.Argument(..., help="evidence file"),
    as_json: bool = JSON_OPT,
) -> None:
    """Attach an evidence file to a result (stored under data_dir with its SHA-256)."""
    with get_database().unit_of_work() as db:
        out = to_data(assessment.attach_evidence(db, result_id=result_id, source=file), EvidenceRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"evidence {out['id']}: {out['filename']} sha256 {out['sha256']} ({out['size']} bytes)")


@assess_app.command("risk")
def risk_cmd(
    assessment_id: int = ID,
    level: RiskLevel = typer.Option(..., "--level", help="high | medium | low"),
    description: str = typer.Option(..., "--description"),
    item: str | None = typer.Option(None, "--item", help="item id or key"),
    object_id: int | None = typer.Option(None, "--object", min=1, max=INT32_MAX),
    compensating: str | None = typer.Option(None, "--compensating", help="缓解措施"),
    link: list[str] = LINK_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Add a risk to the assessment's register (high and medium ones count in the conclusion)."""
    data = validated(
        RiskIn,
        level=level,
        description=description,
        item=item,
        object_id=object_id,
        compensating=compensating,
        links=_links(link),
    )
    with get_database().unit_of_work() as db:
        out = to_data(assessment.add_risk(db, assessment_id=assessment_id, data=data), RiskRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"risk {out['id']}: {LABELS[out['level']][0]} {out['description']}")


@assess_app.command("score")
def score_cmd(assessment_id: int = ID, as_json: bool = JSON_OPT) -> None:
    """Control-point and overall scores, risk counts and the conclusion they give now."""
    with get_database().read_session() as db:
        out = to_data(assessment.score(db, assessment_id=assessment_id), ScoreRead)
    if as_json:
        print_json(out)
        return
    print_table(
        out["control_points"],
        ["category", "control_point", "items", "items_scored", "score"],
        title=f"score {out['score']} conclusion {out['conclusion']} "
        f"(high {out['high_risks']}, medium {out['medium_risks']}; {out['profile']})",
    )


@assess_app.command("close")
def close_cmd(
    assessment_id: int = ID,
    closed_on: dt.datetime | None = typer.Option(None, "--closed-on", formats=DATE, help="default today"),
    as_json: bool = JSON_OPT,
) -> None:
    """Close an assessment: score, risk counts and conclusion are kept; results are fixed."""
    with get_database().unit_of_work() as db:
        assessment.close(db, assessment_id=assessment_id, closed_on=day(closed_on))
        row = assessment.describe(db, assessment_id=assessment_id)
    _show(row, as_json)


def conclude_cmd(
    score: float = typer.Option(..., "--score", help="overall score 0–100"),
    high_risks: int = typer.Option(..., "--high-risks", help="number of high risks"),
    medium_risks: int = typer.Option(..., "--medium-risks", help="number of medium risks"),
    as_json: bool = JSON_OPT,
) -> None:
    """测评结论 (优 / 良 / 中 / 差) of a score and risk counts by the scoring profile. Nothing is stored."""
    out = to_data(scoring.conclude(score, high_risks, medium_risks), ConcludeRead)
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"{out['conclusion']} (score {out['score']}, high {high_risks}, medium {medium_risks}; {out['profile']})"
    )


# --- rectify ------------------------------------------------------------------------------------------------


def _rect_show(row: dict[str, Any], as_json: bool) -> None:
    data = to_data(row, RectificationRead)
    if as_json:
        print_json(data)
        return
    for key in (
        "id",
        "system",
        "title",
        "status",
        "owner",
        "owner_contact_id",
        "due_date",
        "overdue",
        "plan",
    ):
        typer.echo(f"{key}: {data[key]}")
    if data["verification_note"]:
        typer.echo(f"verification: {data['verification_note']}")


@rectify_app.command("new")
def rect_new(
    result: int | None = typer.Option(
        None, "--result", min=1, max=INT32_MAX, help="a 不符合 / 部分符合 result id"
    ),
    risk: int | None = typer.Option(None, "--risk", min=1, max=INT32_MAX, help="a high or medium risk id"),
    title: str | None = typer.Option(None, "--title"),
    owner_contact: int | None = typer.Option(
        None, "--owner-contact", min=1, max=INT32_MAX, help="contact id"
    ),
    owner: str | None = typer.Option(None, "--owner", help="owner as free text"),
    plan: str | None = typer.Option(None, "--plan"),
    due: dt.datetime | None = typer.Option(None, "--due", formats=DATE),
    link: list[str] = LINK_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """A rectification item of a result or a risk."""
    data = validated(
        RectificationIn,
        result_id=result,
        risk_id=risk,
        title=title,
        owner_contact_id=owner_contact,
        owner=owner,
        plan=plan,
        due_date=day(due),
        links=_links(link),
    )
    with get_database().unit_of_work() as db:
        row = rectification.describe(db, rectification_id=rectification.create(db, data=data).id)
    _rect_show(row, as_json)


@rectify_app.command("list")
def rect_list(
    system: str | None = typer.Option(None, "--system", help="system id, name or code"),
    status: RectStatus | None = typer.Option(
        None, "--status", help="open | in_progress | done | verified | cancelled"
    ),
    overdue: bool = typer.Option(False, "--overdue", help="only open items past their due date"),
    progress: bool = typer.Option(False, "--progress", help="progress per system instead of the items"),
    as_json: bool = JSON_OPT,
) -> None:
    """Rectification items (or, with --progress, 整改进度 per system)."""
    with get_database().read_session() as db:
        system_id = service.resolve_system(db, system).id if system is not None else None
        if progress:
            prog = rectification.progress(db, system_id=system_id)
        else:
            rows = rectification.list_rectifications(db, system_id=system_id, status=status, overdue=overdue)
    if progress:
        if as_json:
            print_json([to_data(r, ProgressRead) for r in prog])
            return
        flat = [{**r, **r["by_status"]} for r in prog]
        print_table(
            flat,
            [
                "system",
                "total",
                "open",
                "in_progress",
                "done",
                "verified",
                "cancelled",
                "overdue",
                "percent_verified",
            ],
            title="整改进度 Rectification progress",
        )
        return
    if as_json:
        print_json([to_data(r, RectificationRead) for r in rows])
        return
    print_table(
        rows,
        ["id", "system", "status", "due_date", "overdue", "owner", "title"],
        title=f"整改 Rectifications: {len(rows)}",
    )


@rectify_app.command("update")
def rect_update(
    rectification_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="rectification id"),
    status: RectStatus | None = typer.Option(None, "--status"),
    title: str | None = typer.Option(None, "--title"),
    owner_contact: int | None = typer.Option(None, "--owner-contact", min=1, max=INT32_MAX),
    owner: str | None = typer.Option(None, "--owner"),
    plan: str | None = typer.Option(None, "--plan"),
    due: dt.datetime | None = typer.Option(None, "--due", formats=DATE),
    verification_note: str | None = typer.Option(None, "--verification-note"),
    as_json: bool = JSON_OPT,
) -> None:
    """Change status, owner, plan or due date (verified needs --verification-note)."""
    changes = validated(
        RectificationUpdate,
        status=status,
        title=title,
        owner_contact_id=owner_contact,
        owner=owner,
        plan=plan,
        due_date=day(due),
        verification_note=verification_note,
    )
    with get_database().unit_of_work() as db:
        rectification.update(db, rectification_id=rectification_id, changes=changes)
        row = rectification.describe(db, rectification_id=rectification_id)
    _rect_show(row, as_json)
