"""``ciimap data ...``: the data catalogue, grading (GB/T 43697-2024), registers and the map's marks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from ciimap import sources
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.importer import named_options
from ciimap.core.output import print_json, print_table, to_data
from ciimap.datagov import registers, service
from ciimap.datagov.models import DATA_LEVELS, FACTORS, IMPACT_DEGREES, IMPACT_OBJECTS, label
from ciimap.datagov.schemas import (
    FlowIn,
    GradeResult,
    GradingIn,
    GradingRead,
    HoldingIn,
    Impact,
    ResourceIn,
    ResourceRead,
)
from ciimap.ingest.cli import run_import

app = typer.Typer(
    help="Data classification and grading (数据分类分级, GB/T 43697-2024): catalogue, grading, registers",
    no_args_is_help=True,
)
GROUPS = [("data", app)]

JSON_OPT = typer.Option(False, "--json", help="machine-readable output")
IMPACT_HELP = (
    f"OBJECT:DEGREE, repeatable; OBJECT: {', '.join(IMPACT_OBJECTS)}; DEGREE: {', '.join(IMPACT_DEGREES)}"
)


def _impacts(values: list[str]) -> list[Impact]:
    """``--impact`` values checked as the command line is parsed: a bad one is a usage error (exit 2)
    naming the value, as ``compliance grade`` refuses an unknown object or degree."""
    out = []
    for v in values:
        try:
            out.append(service.parse_impact(v))
        except Invalid as e:
            raise typer.BadParameter(e.message, param_hint="'--impact'") from None
    return out


def _factors(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, sep, text = v.partition("=")
        if not sep or name.strip() not in FACTORS:
            raise Invalid(f"--factor '{v}': expected NAME=TEXT with NAME one of {', '.join(FACTORS)}")
        out[name.strip()] = text.strip()
    return out


def _date(name: str, v: str | None) -> dt.date | None:
    if v is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise Invalid(f"{name} '{v}': expected a date YYYY-MM-DD") from None


@app.command("grade")
def grade_cmd(
    impact: list[str] = typer.Option(..., "--impact", help=IMPACT_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """The level of data by impact object × degree, highest wins (就高从严), with the rationale. Nothing is stored."""
    result = service.grade(_impacts(impact))
    if as_json:
        print_json(to_data(result, GradeResult))
        return
    typer.echo(f"{result.level} ({result.level_code}), {result.rules}")
    typer.echo(result.rationale_zh)
    typer.echo(result.rationale_en)


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=" | ".join(sources.kinds("data"))),
    files: list[Path] = typer.Argument(..., help="files to import (one run, all or nothing)"),
    encoding: str | None = typer.Option(None, "--encoding", help="default: UTF-8, else GBK/GB18030"),
    option: list[str] = typer.Option([], "--option", "-o", help="any option of the source as NAME=VALUE"),
    as_json: bool = JSON_OPT,
) -> None:
    """Import a data catalogue (数据资源目录) from CSV or XLSX with Chinese or English headers."""
    source = sources.get(kind, family="data")
    options = named_options(option)
    if encoding is not None:
        options["encoding"] = encoding
    result = run_import(kind, files, source.options(options))
    if as_json:
        print_json(result)
        return
    row = {
        k: result[k]
        for k in ("run_id", "rows", "created", "updated", "holdings", "flows", "contacts_created")
    }
    print_table([row], list(row), title="data import")


@app.command("list")
def list_(
    level: str | None = typer.Option(None, "--level", help=" | ".join((*DATA_LEVELS, "ungraded"))),
    category: str | None = typer.Option(None, "--category", help="a category code (its sub-categories too)"),
    pi: bool | None = typer.Option(None, "--pi/--no-pi", help="with / without personal information"),
    sensitive_pi: bool | None = typer.Option(None, "--sensitive-pi/--no-sensitive-pi"),
    system: int | None = typer.Option(None, "--system", help="held by this system id"),
    q: str | None = typer.Option(None, "--q", help="name or code contains"),
    review_overdue: bool = typer.Option(False, "--review-overdue", help="review date passed"),
    flagged: bool = typer.Option(
        False, "--flagged", help="reaching a threshold (e.g. PI of 10 million people)"
    ),
    limit: int = typer.Option(50, min=1, max=service.MAX_LIMIT),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JSON_OPT,
) -> None:
    """The data catalogue, newest first."""
    with get_database().read_session() as db:
        page = service.list_resources(
            db,
            level=level,
            category=category,
            pi=pi,
            sensitive_pi=sensitive_pi,
            system_id=system,
            q=q,
            review_overdue=review_overdue,
            flagged=flagged,
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(page)
        return
    print_table(
        page["items"],
        ["id", "code", "name", "category", "level", "contains_pi", "people", "owner", "review_due", "flags"],
        title=f"data resources: {page['total']}",
    )


def _detail(db: Any, resource_id: int) -> dict[str, Any]:
    d = service.describe(db, resource_id=resource_id)
    return {
        **d,
        "resource": to_data(d["resource"], ResourceRead),
        "gradings": [to_data(g, GradingRead) for g in d["gradings"]],
    }


@app.command("show")
def show(ref: str = typer.Argument(..., help="id or code"), as_json: bool = JSON_OPT) -> None:
    """One resource: holdings, flows, grading history, threshold flags."""
    with get_database().read_session() as db:
        data = _detail(db, service.resolve(db, ref).id)
    if as_json:
        print_json(data)
        return
    r = data["resource"]
    print_table([r], ["id", "code", "name", "category", "level", "graded_on", "review_due"])
    for key in ("holdings", "flows", "gradings"):
        if data[key]:
            cols = {"gradings": ["round", "level", "graded_on", "review_due", "graded_by"]}.get(
                key, list(data[key][0])
            )
            print_table(data[key], cols, title=key)
    for f in data["flags"]:
        typer.echo(f"flag: {f['zh']}")


@app.command("add")
def add(
    name: str = typer.Option(..., "--name"),
    code: str | None = typer.Option(None, "--code"),
    category: str | None = typer.Option(
        None, "--category", help="a category code (`ciimap data categories`)"
    ),
    description: str | None = typer.Option(None, "--description"),
    pi: bool = typer.Option(False, "--pi", help="contains personal information"),
    sensitive_pi: bool = typer.Option(
        False, "--sensitive-pi", help="contains sensitive personal information"
    ),
    records: int | None = typer.Option(None, "--records", min=0),
    people: int | None = typer.Option(None, "--people", min=0),
    owner: int | None = typer.Option(None, "--owner", help="contact id"),
) -> None:
    """Add a data resource to the catalogue (prints it as JSON)."""
    data = ResourceIn(
        name=name,
        code=code,
        category=category,
        description=description,
        contains_pi=pi or sensitive_pi,
        contains_sensitive_pi=sensitive_pi,
        records=records,
        people=people,
        owner_id=owner,
    )
    with get_database().unit_of_work() as db:
        r = service.create_resource(db, data=data)
        out = to_data(r, ResourceRead)
    print_json(out)


@app.command("delete")
def delete(ref: str = typer.Argument(..., help="id or code")) -> None:
    """Remove a resource with its holdings, flows and grading rounds (the audit log keeps them)."""
    with get_database().unit_of_work() as db:
        service.delete_resource(db, resource_id=service.resolve(db, ref).id)
    typer.echo("deleted")


@app.command("hold")
def hold(
    ref: str = typer.Argument(..., help="resource id or code"),
    system: int | None = typer.Option(None, "--system", help="system id"),
    asset: int | None = typer.Option(None, "--asset", help="asset id"),
    service_id: int | None = typer.Option(None, "--service", help="business service id"),
    processes: bool = typer.Option(False, "--processes", help="processes the data without storing it"),
) -> None:
    """Link a resource to the system, asset or business service that holds or processes it."""
    given = [
        (t, i)
        for t, i in (("system", system), ("asset", asset), ("business_service", service_id))
        if i is not None
    ]
    if len(given) != 1:
        raise Invalid("name exactly one of --system, --asset, --service")
    t, i = given[0]
    data = HoldingIn(holder_type=t, holder_id=i, role="processes" if processes else "holds")  # type: ignore[arg-type]
    with get_database().unit_of_work() as db:
        h = service.add_holding(db, resource_id=service.resolve(db, ref).id, data=data)
        out = {
            "id": h.id,
            "resource_id": h.resource_id,
            "holder_type": h.holder_type,
            "holder_id": h.holder_id,
            "role": h.role,
        }
    print_json(out)


@app.command("flow")
def flow(
    ref: str = typer.Argument(..., help="resource id or code"),
    src: int | None = typer.Option(None, "--from", help="source system id"),
    dst: int | None = typer.Option(None, "--to", help="destination system id"),
    recipient: str | None = typer.Option(None, "--recipient", help="an outside recipient"),
    cross_border: bool = typer.Option(False, "--cross-border", help="the data leaves China"),
    country: str | None = typer.Option(None, "--country", help="destination country (ISO 3166, e.g. SG)"),
    purpose: str | None = typer.Option(None, "--purpose"),
) -> None:
    """Record a flow of the resource between systems or to an outside recipient."""
    data = FlowIn(
        src_system_id=src,
        dst_system_id=dst,
        recipient=recipient,
        cross_border=cross_border,
        country=country,
        purpose=purpose,
    )
    with get_database().unit_of_work() as db:
        f = service.add_flow(db, resource_id=service.resolve(db, ref).id, data=data)
        fid = f.id
    print_json({"id": fid})


@app.command("flows")
def flows(
    cross_border: bool = typer.Option(False, "--cross-border", help="only flows leaving China"),
    system: int | None = typer.Option(None, "--system", help="from or to this system id"),
    limit: int = typer.Option(100, min=1, max=10000),
    as_json: bool = JSON_OPT,
) -> None:
    """Data flows between systems and to outside recipients."""
    with get_database().read_session() as db:
        rows = service.list_flows(
            db, cross_border=True if cross_border else None, system_id=system, limit=limit
        )
    if as_json:
        print_json(rows)
        return
    print_table(
        rows,
        ["id", "resource", "src_system", "dst_system", "recipient", "cross_border", "country"],
        title="flows",
    )


@app.command("grade-resource")
def grade_resource(
    ref: str = typer.Argument(..., help="resource id or code"),
    impact: list[str] = typer.Option(..., "--impact", help=IMPACT_HELP),
    factor: list[str] = typer.Option(
        [], "--factor", help=f"NAME=TEXT, repeatable; NAME: {', '.join(FACTORS)}"
    ),
    notes: str | None = typer.Option(None, "--notes"),
    graded_on: str | None = typer.Option(None, "--graded-on", help="YYYY-MM-DD (default today)"),
    review_due: str | None = typer.Option(None, "--review-due", help="YYYY-MM-DD (default: by the rules)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Grade (or re-grade) a resource: a new round with factors and rationale; earlier rounds stay."""
    data = GradingIn(
        impacts=_impacts(impact),
        factors=_factors(factor),  # type: ignore[arg-type]
        notes=notes,
        graded_on=_date("--graded-on", graded_on),
        review_due=_date("--review-due", review_due),
    )
    with get_database().unit_of_work() as db:
        g = service.grade_resource(db, resource_id=service.resolve(db, ref).id, data=data)
        out = to_data(g, GradingRead)
    if as_json:
        print_json(out)
        return
    typer.echo(f"round {out['round']}: {label(out['level'])}; review due {out['review_due']}")
    typer.echo(out["rationale_zh"])


@app.command("history")
def history(ref: str = typer.Argument(..., help="resource id or code"), as_json: bool = JSON_OPT) -> None:
    """The grading rounds of a resource, newest first."""
    with get_database().read_session() as db:
        rows = [
            to_data(g, GradingRead)
            for g in service.list_gradings(db, resource_id=service.resolve(db, ref).id)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["round", "level", "graded_on", "review_due", "graded_by", "mapping"], title="grading history"
    )


def _levels(level: str | None) -> tuple[str, ...]:
    if level is None:
        return DATA_LEVELS[:2]
    if level not in DATA_LEVELS[:2]:
        raise Invalid(f"--level must be core or important (got '{level}')")
    return (level,)


@app.command("register")
def register_cmd(
    level: str | None = typer.Option(None, "--level", help="core | important (default both)"),
    as_json: bool = JSON_OPT,
) -> None:
    """The important-data catalogue (重要数据目录) and core data, with threshold flags."""
    with get_database().read_session() as db:
        rows = registers.register(db, levels=_levels(level))
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["id", "code", "name", "level", "people", "systems", "cross_border", "flags"], title="register"
    )


@app.command("export")
def export(
    output: Path = typer.Argument(..., help="file to write"),
    fmt: str = typer.Option("xlsx", "--format", help="xlsx | docx | pdf"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    level: str | None = typer.Option(None, "--level", help="core | important (default both)"),
) -> None:
    """Write the register as XLSX or DOCX in the shape regulators ask for."""
    with get_database().unit_of_work() as db:
        content, name, _media = registers.export(db, fmt=fmt, lang=lang, levels=_levels(level))
    output.write_bytes(content)
    typer.echo(f"{output} ({name}, {len(content)} bytes)")


@app.command("marks")
def marks(as_json: bool = JSON_OPT) -> None:
    """Systems holding important or core data (the map's marks)."""
    with get_database().read_session() as db:
        rows = service.system_marks(db)
    if as_json:
        print_json(rows)
        return
    print_table(
        rows,
        ["system_id", "system", "level", "core", "important", "resources"],
        title="systems with important/core data",
    )


@app.command("suggestions")
def suggestions(as_json: bool = JSON_OPT) -> None:
    """Systems whose MLPS S judgement looks lower than their data implies (suggestions; nothing changes)."""
    with get_database().read_session() as db:
        rows = service.suggestions(db)
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["system_id", "system", "s_level", "data_level", "suggested_min_s", "zh"], title="suggestions"
    )


@app.command("categories")
def categories(as_json: bool = JSON_OPT) -> None:
    """The data category catalogue in force (categories.yaml or CIIMAP_DATA_CATEGORIES)."""
    rows = service.categories()
    if as_json:
        print_json(rows)
        return
    print_table(rows, ["code", "zh", "en", "parent", "pi", "sensitive_pi"], title="categories")


@app.command("rules")
def rules(as_json: bool = JSON_OPT) -> None:
    """The grading rules in force: object × degree → level, review months, thresholds."""
    info = service.rules_info()
    if as_json:
        print_json(info)
        return
    rows = [
        {"object": f"{o} {label(o)}", **{d: label(lv) for d, lv in row.items()}}
        for o, row in info["levels"].items()
    ]
    print_table(rows, ["object", *IMPACT_DEGREES], title=f"{info['id']}@{info['version']} ({info['source']})")
    typer.echo(json.dumps({"review_months": info["review_months"], "mlps_s_min": info["mlps_s_min"]}))
