"""``ciimap grading ...`` (定级 and 备案 per system) and ``ciimap compliance grade`` (the level of two
judgements, nothing stored). The ``assess`` and ``rectify`` groups and ``compliance conclude`` live in
``assess_cli.py`` and are listed in ``GROUPS`` here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from ciimap.compliance import assess_cli, evidence, obligations_cli, overview, reports, service
from ciimap.compliance.catalogs import commands as catalog_commands
from ciimap.compliance.cli_options import DATE, JSON_OPT, day, validated
from ciimap.compliance.models import (
    EXTENSIONS,
    LABELS,
    AdvanceTo,
    GradingState,
    HarmDegree,
    HarmObject,
    ObjectType,
)
from ciimap.compliance.schemas import (
    AdvanceIn,
    EvidenceSummary,
    GradeResult,
    GradingIn,
    GradingRead,
    GradingUpdate,
    Judgement,
    SystemEvidence,
)
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table, to_data
from ciimap.core.schemas import INT32_MAX
from ciimap.web.i18n import Translator

#: Evidence records' reasons rendered through the web catalogs (as the API does).
REASON_TEXT = {"why": Translator("en"), "why_zh": Translator("zh-CN")}

app = typer.Typer(help="Grading and filing (定级备案, GB/T 22240-2020) per system", no_args_is_help=True)
compliance_app = typer.Typer(help="Compliance (等级保护 + 关基保护)", no_args_is_help=True)
GROUPS = [
    ("grading", app),
    ("compliance", compliance_app),
    ("assess", assess_cli.assess_app),
    ("rectify", assess_cli.rectify_app),
    ("obligations", obligations_cli.obligations_app),
    ("keyposts", obligations_cli.keyposts_app),
    ("training", obligations_cli.training_app),
]
catalog_commands.register(compliance_app)  # catalog, catalogs, catalog-export, catalog-import
assess_cli.register(compliance_app)  # conclude

S_OBJECT = typer.Option(..., "--s-object", help="S: object harmed: rights | order | national")
S_DEGREE = typer.Option(..., "--s-degree", help="S: degree: general | serious | especially_serious")
A_OBJECT = typer.Option(..., "--a-object", help="A: object harmed: rights | order | national")
A_DEGREE = typer.Option(..., "--a-degree", help="A: degree: general | serious | especially_serious")


def _extensions(values: list[str] | None) -> list[str] | None:
    """``--extension``: Typer has no choices for list options, so they are checked here (usage error, exit 2)."""
    for v in values or []:
        if v not in EXTENSIONS:
            raise typer.BadParameter(f"{v!r} is not one of {', '.join(EXTENSIONS)}")
    return values


def _show(row: dict[str, Any], as_json: bool) -> None:
    data = to_data(row, GradingRead)
    if as_json:
        print_json(data)
        return
    for key in (
        "id",
        "system",
        "round",
        "state",
        "level",
        "s_level",
        "a_level",
        "object_type",
        "extensions",
        "graded_on",
        "filing_due",
        "due_status",
        "filing_number",
        "filing_date",
        "police_unit",
        "matrix",
    ):
        typer.echo(f"{key}: {data[key]}")
    typer.echo(f"rationale: {data['rationale_zh']}")
    typer.echo(f"           {data['rationale_en']}")
    if data["notes"]:
        typer.echo(f"notes: {data['notes']}")
    for step in data["steps"]:
        typer.echo(
            f"step: {step['on']} {step['state']} ({LABELS[step['state']][0]}) by {step['by']}"
            + (f": {step['note']}" if step["note"] else "")
        )
    for w in data["warnings"]:
        typer.echo(f"warning: {w['zh']} / {w['en']}")


def _table(rows: list[dict[str, Any]], title: str) -> None:
    flat = [
        {
            **r,
            "level": f"{r['level']} (S{r['s_level']}A{r['a_level']})",
            "warnings": "; ".join(w["code"] for w in r["warnings"]),
        }
        for r in rows
    ]
    print_table(
        flat,
        [
            "id",
            "system",
            "round",
            "state",
            "level",
            "graded_on",
            "filing_due",
            "due_status",
            "filing_number",
            "warnings",
        ],
        title=title,
    )


@compliance_app.command("grade")
def grade_cmd(
    s_object: HarmObject = S_OBJECT,
    s_degree: HarmDegree = S_DEGREE,
    a_object: HarmObject = A_OBJECT,
    a_degree: HarmDegree = A_DEGREE,
    as_json: bool = JSON_OPT,
) -> None:
    """S level, A level and final level = max(S, A) by GB/T 22240-2020, with the rationale. Nothing is stored."""
    result = service.grade(
        Judgement(s_object=s_object, s_degree=s_degree, a_object=a_object, a_degree=a_degree)
    )
    if as_json:
        print_json(to_data(result, GradeResult))
        return
    typer.echo(f"level {result.level} (S{result.s_level}A{result.a_level}), {result.matrix}")
    typer.echo(result.rationale_zh)
    typer.echo(result.rationale_en)


@app.command("matrix")
def matrix_cmd(as_json: bool = JSON_OPT) -> None:
    """The grading matrix in force (built-in GB/T 22240-2020, or the file in CIIMAP_GRADING_MATRIX)."""
    info = service.matrix_info()
    if as_json:
        print_json(info)
        return
    rows = [
        {"object": f"{o} {LABELS[o][0]}", **{d: lv for d, lv in row.items()}}
        for o, row in info["levels"].items()
    ]
    print_table(
        rows,
        ["object", *next(iter(info["levels"].values()))],
        title=f"{info['id']}@{info['version']} ({info['source']})",
    )


@app.command("new")
def new(
    system: str = typer.Argument(..., help="system id, name or code"),
    s_object: HarmObject = S_OBJECT,
    s_degree: HarmDegree = S_DEGREE,
    a_object: HarmObject = A_OBJECT,
    a_degree: HarmDegree = A_DEGREE,
    object_type: ObjectType = typer.Option(
        "information_system",
        "--object-type",
        help="information_system | network_infrastructure | data_resource",
    ),
    extension: list[str] = typer.Option(
        [], "--extension", callback=_extensions, help="cloud | mobile | iot | ics | big_data (repeatable)"
    ),
    notes: str | None = typer.Option(None, "--notes", help="your own reasoning"),
    graded_on: dt.datetime | None = typer.Option(
        None, "--graded-on", formats=DATE, help="grading date (default today)"
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Start a grading round (初步定级) for a system; a re-grading once the previous round is filed."""
    with get_database().unit_of_work() as db:
        sys_ = service.resolve_system(db, system)
        data = validated(
            GradingIn,
            system_id=sys_.id,
            s_object=s_object,
            s_degree=s_degree,
            a_object=a_object,
            a_degree=a_degree,
            object_type=object_type,
            extensions=list(extension),
            notes=notes,
            graded_on=day(graded_on),
        )
        row = service.describe(db, grading_id=service.create_grading(db, data=data).id)
    _show(row, as_json)


@app.command("edit")
def edit(
    grading_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="grading id"),
    s_object: HarmObject | None = typer.Option(None, "--s-object"),
    s_degree: HarmDegree | None = typer.Option(None, "--s-degree"),
    a_object: HarmObject | None = typer.Option(None, "--a-object"),
    a_degree: HarmDegree | None = typer.Option(None, "--a-degree"),
    object_type: ObjectType | None = typer.Option(None, "--object-type"),
    extension: list[str] | None = typer.Option(
        None, "--extension", callback=_extensions, help="replaces the extensions (repeatable)"
    ),
    notes: str | None = typer.Option(None, "--notes"),
    graded_on: dt.datetime | None = typer.Option(None, "--graded-on", formats=DATE),
    as_json: bool = JSON_OPT,
) -> None:
    """Change a draft grading; levels, rationale and deadline are recomputed."""
    changes = validated(
        GradingUpdate,
        s_object=s_object,
        s_degree=s_degree,
        a_object=a_object,
        a_degree=a_degree,
        object_type=object_type,
        extensions=list(extension) if extension else None,
        notes=notes,
        graded_on=day(graded_on),
    )
    with get_database().unit_of_work() as db:
        row = service.describe(
            db, grading_id=service.update_grading(db, grading_id=grading_id, changes=changes).id
        )
    _show(row, as_json)


@app.command("advance")
def advance(
    grading_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="grading id"),
    to: AdvanceTo = typer.Option(..., "--to", help="review | approved | filed | withdrawn"),
    on: dt.datetime | None = typer.Option(None, "--on", formats=DATE, help="day of the step (default today)"),
    note: str | None = typer.Option(None, "--note", help="expert opinion, approval reference, reason..."),
    authority: str | None = typer.Option(None, "--authority", help="主管部门 (with --to approved)"),
    skip_approval: bool = typer.Option(
        False, "--skip-approval", help="file straight from review: no 主管部门"
    ),
    filing_number: str | None = typer.Option(None, "--filing-number", help="备案证明编号"),
    filing_date: dt.datetime | None = typer.Option(None, "--filing-date", formats=DATE),
    police_unit: str | None = typer.Option(None, "--police-unit", help="受理备案的公安机关"),
    as_json: bool = JSON_OPT,
) -> None:
    """Advance a grading: review (专家评审) → approved (主管部门核准) → filed (公安机关备案); or withdrawn."""
    data = validated(
        AdvanceIn,
        to=to,
        on=day(on),
        note=note,
        authority=authority,
        skip_approval=skip_approval,
        filing_number=filing_number,
        filing_date=day(filing_date),
        police_unit=police_unit,
    )
    with get_database().unit_of_work() as db:
        row = service.describe(db, grading_id=service.advance(db, grading_id=grading_id, data=data).id)
    _show(row, as_json)


@app.command("list")
def list_cmd(
    system: str | None = typer.Option(None, "--system", help="system id, name or code"),
    state: GradingState | None = typer.Option(
        None, "--state", help="draft | review | approved | filed | withdrawn"
    ),
    current: bool = typer.Option(False, "--current", help="only each system's current (latest filed) round"),
    as_json: bool = JSON_OPT,
) -> None:
    """Every grading round (history included), with deadlines and warnings."""
    with get_database().read_session() as db:
        system_id = service.resolve_system(db, system).id if system is not None else None
        rows = service.list_gradings(db, system_id=system_id, state=state, current_only=current)
    if as_json:
        print_json([to_data(r, GradingRead) for r in rows])
        return
    _table(rows, f"定级 Gradings: {len(rows)}")


@app.command("show")
def show(
    grading_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="grading id"), as_json: bool = JSON_OPT
) -> None:
    """One grading with its rationale, steps (who, when) and warnings."""
    with get_database().read_session() as db:
        row = service.describe(db, grading_id=grading_id)
    _show(row, as_json)


@app.command("due")
def due(
    within: int = typer.Option(30, "--within", min=0, max=3650, help="days ahead (overdue ones always)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Filings (备案) overdue or due within N days, soonest first, with warnings."""
    with get_database().read_session() as db:
        rows = service.due(db, within_days=within)
    if as_json:
        print_json([to_data(r, GradingRead) for r in rows])
        return
    _table(rows, f"备案期限 Filings due: {len(rows)}")


@compliance_app.command("overview")
def overview_cmd(as_json: bool = JSON_OPT) -> None:
    """Compliance overview: per system level, filing state, latest conclusion and score (trend), open
    and overdue rectifications (the data of the /compliance page and GET /api/compliance/overview)."""
    with get_database().read_session() as db:
        data = overview.overview(db)
    if as_json:
        print_json(to_data(data))
        return
    rows = [
        {
            "id": r["id"],
            "system": r["name"],
            "level": r["level"],
            "cii": "CII" if r["is_cii"] else "",
            "filing": LABELS[r["grading"]["state"]][0] if r["grading"] else "",
            "conclusion": (r["latest"] or {}).get("conclusion"),
            "score": " → ".join(f"{t['score']:.1f}" for t in r["trend"] if t["score"] is not None),
            "rect_open": r["rectifications"]["open"],
            "rect_overdue": r["rectifications"]["overdue"],
        }
        for r in data["systems"]
    ]
    cols = ["id", "system", "level", "cii", "filing", "conclusion", "score", "rect_open", "rect_overdue"]
    print_table(rows, cols, title="合规总览 Compliance overview")
    c = data["counts"]
    typer.echo(
        f"systems {c['systems']}, graded {c['graded']}, filed {c['filed']}, assessed {c['assessed']}, "
        f"rectifications open {c['open_rectifications']} (overdue {c['overdue_rectifications']})"
    )


# --- evidence from the map (docs/compliance-evidence.md) ----------------------------------------------


@compliance_app.command("evidence")
def evidence_cmd(
    system: str | None = typer.Argument(None, help="system id, name or code"),
    all_systems: bool = typer.Option(False, "--all", help="a summary line per system"),
    fresh: bool = typer.Option(False, "--fresh", help="recompute even when the map has not changed"),
    as_json: bool = JSON_OPT,
) -> None:
    """Evidence from the map: the result each rule proposes (符合/部分符合/不符合/无证据) with the
    records behind it. Nothing is stored: an assessor confirms or overrides the proposals."""
    if all_systems == (system is not None):
        raise typer.BadParameter("give a SYSTEM or --all (one of the two)")
    with get_database().read_session() as db:
        if all_systems:
            data = to_data(evidence.summary(db, fresh=fresh), EvidenceSummary)
        else:
            sid = service.resolve_system(db, system or "").id
            found = evidence.for_system(db, system_id=sid, fresh=fresh)
            data = to_data(evidence.with_reasons(found, REASON_TEXT), SystemEvidence)
    if as_json:
        print_json(data)
        return
    if all_systems:
        rows = [
            {
                "id": r["system"]["id"],
                "system": r["system"]["name"],
                "level": r["system"]["level"],
                "cii": "CII" if r["system"]["is_cii"] else "",
                **{code: evidence.rules.PROPOSED_ZH[res] for code, res in r["results"].items()},
            }
            for r in data["systems"]
        ]
        print_table(rows, ["id", "system", "level", "cii", *evidence.rules.RULE_CODES], title="证据 Evidence")
        return
    s = data["system"]
    typer.echo(f"{s['name']} (id {s['id']}, level {s['level'] or '-'}{', CII' if s['is_cii'] else ''})")
    for p in data["proposals"]:
        typer.echo(f"\n[{p['result_zh']} {p['result']}] {p['title_zh']} / {p['title_en']}")
        typer.echo(f"  {p['explanation_zh']}")
        typer.echo(f"  {p['explanation_en']}")
        typer.echo("  items: " + (", ".join(i["id"] for i in p["items"]) or "-"))
        for r in p["records"][:10]:
            typer.echo(f"  - {r['type']} {r['id']}: {r['label']} ({r['why_zh']} / {r['why']})")
        if p["records_total"] > 10:
            typer.echo(f"  ... {p['records_total'] - 10} more (--json lists up to {len(p['records'])})")


# --- ciimap report ... (issue 12 item 8: docs/compliance-reports.md) ------------------------------------

report_app = typer.Typer(
    help="Reports: grading (定级报告), assessment summary, rectification plan (DOCX, PDF, XLSX)",
    no_args_is_help=True,
)
GROUPS.append(("report", report_app))
REPORT_OUT = typer.Option(..., "-o", "--output", help="the file to write")
REPORT_LANG = typer.Option("zh", "--lang", help="zh (default) or en")


def _write_report(kind: str, ref_id: int, fmt: str, out: Path, lang: str) -> None:
    with get_database().read_session() as db:
        data, name, _media = reports.render(db, kind=kind, ref_id=ref_id, fmt=fmt, lang=lang)
    try:
        out.write_bytes(data)
    except OSError as e:
        raise Invalid(f"{out}: cannot write the report: {e.strerror or e}") from None
    typer.echo(f"wrote {out} ({len(data)} bytes; {name})")


@report_app.command("grading")
def report_grading(
    grading_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="grading id"),
    fmt: str = typer.Option(..., "--format", help="docx | pdf"),
    out: Path = REPORT_OUT,
    lang: str = REPORT_LANG,
) -> None:
    """定级报告: the system, the S/A judgements with rationale, the level, the workflow and the filing."""
    _write_report("grading", grading_id, fmt, out, lang)


@report_app.command("assessment")
def report_assessment(
    assessment_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="assessment id"),
    fmt: str = typer.Option(..., "--format", help="docx | pdf | xlsx (the item results and risks)"),
    out: Path = REPORT_OUT,
    lang: str = REPORT_LANG,
) -> None:
    """测评报告 summary: scores per category and control point, item results, risks, conclusion."""
    _write_report("assessment", assessment_id, fmt, out, lang)


@report_app.command("rectification")
def report_rectification(
    system_id: int = typer.Argument(..., min=1, max=INT32_MAX, help="system id"),
    fmt: str = typer.Option(..., "--format", help="docx | pdf | xlsx"),
    out: Path = REPORT_OUT,
    lang: str = REPORT_LANG,
) -> None:
    """整改计划 of a system: items, owners, due dates, status and progress."""
    _write_report("rectification", system_id, fmt, out, lang)
