"""``ciimap crypto assess ...``: 密评 assessments stored per system (thin: parse, call the service, print)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from ciimap.core.db import get_database
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table
from ciimap.crypto import assessment, profiles, reports
from ciimap.crypto.schemas import AssessmentIn, ObjectIn, UnitIn

app = typer.Typer(
    help="密评 assessments: test objects (D/A/K, Ra, Rk), management results, score", no_args_is_help=True
)
JSON_OPT = typer.Option(False, "--json", help="machine-readable output")
TRUE = {"1": True, "y": True, "t": True, "✓": True, "0": False, "n": False, "f": False, "✗": False}


def _date(v: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise Invalid(f"--date '{v}' is not a date (YYYY-MM-DD)") from None


def parse_object(spec: str) -> ObjectIn:
    """``NAME:DAK[:ra=0.5][:rk=1][:covered_by=ID][:asset=ID]`` — DAK three of 1/0 (y/n), e.g. ``网关:101:ra=0.5``."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts[1]) != 3 or any(c.lower() not in TRUE for c in parts[1]):
        raise Invalid(f"--object '{spec}': expected NAME:DAK (e.g. 服务器A:101:ra=0.5), D/A/K each 1 or 0")
    d, a, k = (TRUE[c.lower()] for c in parts[1])
    extra: dict[str, Any] = {}
    for kv in parts[2:]:
        key, _, value = kv.partition("=")
        names = {"ra": "ra", "rk": "rk", "covered_by": "covered_by", "asset": "asset_id"}
        if key not in names:
            raise Invalid(f"--object '{spec}': unknown '{key}' (known: ra, rk, covered_by, asset)")
        try:
            extra[names[key]] = float(value) if key in ("ra", "rk") else int(value)
        except ValueError:
            raise Invalid(f"--object '{spec}': {key} '{value}' is not a number") from None
    try:
        return ObjectIn(name=parts[0], d=d, a=a, k=k, **extra)
    except ValidationError as e:
        raise Invalid(f"--object '{spec}': {format_validation_error(e)}") from None


@app.command("new")
def new(
    system: int = typer.Option(..., "--system", help="system id"),
    date: str = typer.Option(..., "--date", help="assessment date, YYYY-MM-DD"),
    assessor: str = typer.Option(..., "--assessor"),
    level: int | None = typer.Option(None, "--level", help="1-4; default: the system's MLPS level"),
    profile: str = typer.Option("2023", "--profile", help="scoring profile id (2023, 2021 or yours)"),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = JSON_OPT,
) -> None:
    """Start a 密评 assessment of a system (audited)."""
    try:
        data = AssessmentIn(
            system_id=system,
            assessed_on=_date(date),
            assessor=assessor,
            level=level,
            profile=profile,
            note=note,
        )
    except ValidationError as e:
        raise Invalid(format_validation_error(e)) from None
    with get_database().unit_of_work() as db:
        out = assessment.create(db, data=data)
    _show(out, as_json)


@app.command("unit")
def unit(
    assessment_id: int = typer.Argument(..., help="assessment id"),
    layer: str = typer.Option(..., "--layer", help="e.g. 应用和数据 or 管理制度"),
    unit_name: str = typer.Option(..., "--unit", help="official unit name, e.g. 重要数据存储机密性"),
    result: str | None = typer.Option(None, "--result", help="符合, 部分符合, 不符合 or 不适用"),
    objects: list[str] = typer.Option(
        [], "--object", help="NAME:DAK[:ra=X][:rk=Y][:covered_by=ID][:asset=ID]"
    ),
    high_risk: bool = typer.Option(False, "--high-risk", help="a high risk found in this unit"),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = JSON_OPT,
) -> None:
    """Record one unit (replaces what it held); a score below 1 opens a rectification item."""
    try:
        data = UnitIn(
            layer=layer,
            unit=unit_name,
            result=result,  # type: ignore[arg-type]
            objects=[parse_object(s) for s in objects],
            high_risk=high_risk,
            note=note,
        )
    except ValidationError as e:
        raise Invalid(format_validation_error(e)) from None
    with get_database().unit_of_work() as db:
        out = assessment.set_unit(db, assessment_id=assessment_id, data=data)
    if as_json:
        print_json(out)
        return
    print_table([out], ["unit_id", "layer", "unit", "score", "rectification_id"], title="密评 unit")


@app.command("list")
def list_(system: int | None = typer.Option(None, "--system"), as_json: bool = JSON_OPT) -> None:
    """Assessments, newest first, with total and pass/fail."""
    with get_database().unit_of_work() as db:
        rows = assessment.list_assessments(db, system_id=system)
    if as_json:
        print_json(rows)
        return
    cols = ["id", "system", "assessed_on", "assessor", "level", "profile", "total", "passed"]
    print_table(rows, cols, title=f"密评 assessments: {len(rows)}")


def _show(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    rows = [
        {"layer": u["layer"], "unit": u["unit"], "result": u["result"], "score": u["score"]}
        for u in out["units"]
    ]
    s = out["score"]
    print_table(
        rows, ["layer", "unit", "result", "score"], title=f"总分 Total: {s['total']} · passed: {s['passed']}"
    )


@app.command("show")
def show(assessment_id: int = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """One assessment: units, test objects, layer scores, total, pass/fail."""
    with get_database().unit_of_work() as db:
        out = assessment.describe(db, assessment_id=assessment_id)
    _show(out, as_json)


@app.command("units")
def units(level: int = typer.Option(..., "--level", help="1-4"), as_json: bool = JSON_OPT) -> None:
    """The units assessed at a level with their weights (names to use with --unit)."""
    rows = assessment.units_table(level)
    if as_json:
        print_json(rows)
        return
    print_table(rows, ["clause", "layer", "unit", "weight"], title=f"密评 units, level {level}")


@app.command("profiles")
def list_profiles(as_json: bool = JSON_OPT) -> None:
    """Scoring profiles (built-in 2023 and 2021, or yours from CIIMAP_CRYPTO_PROFILES)."""
    rows = [p.model_dump() for p in profiles.profiles().values()]
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["id", "version", "rule", "pass_mark", "high_risk_fails", "title"], title="密评 profiles"
    )


@app.command("report")
def report(
    assessment_id: int = typer.Argument(...),
    output: Path = typer.Option(..., "--output", "-o", help="file to write"),
    fmt: str = typer.Option("docx", "--format", help="docx, pdf or xlsx"),
    lang: str = typer.Option("zh", "--lang", help="zh or en"),
) -> None:
    """Write the 密评 report (Chinese first)."""
    with get_database().unit_of_work() as db:
        body, _name, _media = reports.render(db, assessment_id=assessment_id, fmt=fmt, lang=lang)
    output.write_bytes(body)
    print(json.dumps({"written": str(output), "bytes": len(body)}, ensure_ascii=False))
