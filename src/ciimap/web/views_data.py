"""Data classification pages (数据分类分级): the catalogue list (filters, paging), a resource page with
the grading form and its history, and the registers with their exports.

Thin: the data comes from :mod:`ciimap.datagov.service` and :mod:`ciimap.datagov.registers` (also served
by ``/api/data/...`` and ``ciimap data ...``); the grading form posts to the same ``grade_resource``
service (audited there), the exports link to ``GET /api/data/register/export``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Invalid
from ciimap.core.schemas import Int32
from ciimap.datagov import registers, service
from ciimap.datagov.schemas import GradingIn
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LEVEL_FILTERS = (*service.LEVELS, "ungraded")


def _filters(params: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    level = (params.get("level") or "").strip()
    if level:
        if level not in LEVEL_FILTERS:
            raise Invalid(f"level: unknown value '{level}'")
        out["level"] = level
    for key in ("category", "q"):
        v = (params.get(key) or "").strip()
        if v:
            out[key] = v[:200]
    for key in ("pi", "sensitive_pi"):
        v = (params.get(key) or "").strip()
        if v in ("yes", "no"):
            out[key] = v == "yes"
    if params.get("flagged") == "yes":
        out["flagged"] = True
    if params.get("review_overdue") == "yes":
        out["review_overdue"] = True
    sid = (params.get("system_id") or "").strip()
    if sid:
        if not sid.isdigit() or len(sid) > 9:
            raise Invalid(f"system_id: expected a whole number, got '{sid[:20]}'")
        out["system_id"] = int(sid)
    return out


@router.get("/data")
def catalogue_page(request: Request, db: DbSession, principal: Reader, page: Int32 = 1) -> Any:
    params = dict(request.query_params)
    error = None
    try:
        filters = _filters(params)
    except Invalid as e:
        filters, error = {}, e.message
    page = max(page, 1)
    data = service.list_resources(db, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    keep = {k: v for k, v in params.items() if k != "page" and v}
    return render(
        request,
        "data/catalogue.html",
        principal,
        active="data",
        data=data,
        page=page,
        pages=(data["total"] + PAGE_SIZE - 1) // PAGE_SIZE,
        keep=keep,
        levels=LEVEL_FILTERS,
        categories=service.categories(),
        cards=service.cards(db, systems=False),
        error=error,
    )


@router.get("/data/registers")
def registers_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "data/registers.html",
        principal,
        active="data",
        rows=registers.register(db),
        marks=service.system_marks(db),
        suggestions=service.suggestions(db),
        flows=service.list_flows(db, cross_border=True),
        thresholds={t["code"]: t for t in service.rules_info()["thresholds"]},
    )


@router.get("/data/{resource_id}")
def resource_page(request: Request, resource_id: Int32, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "data/resource.html",
        principal,
        active="data",
        d=service.describe(db, resource_id=resource_id),
        objects=service.OBJECTS,
        degrees=service.DEGREES,
        factors=service.FACTOR_NAMES,
        rules=service.rules_info(),
    )


@router.post("/data/{resource_id}/grade")
async def grade_form(request: Request, resource_id: Int32, db: DbSession, principal: Writer) -> Any:
    """A grading round from the form: one impact per object with a degree chosen; on success the page
    reloads (the new round on top of the history), on error the reason shows under the form."""
    form = await request.form()
    impacts = [
        {"object": o, "degree": str(form.get(f"impact_{o}"))}
        for o in service.OBJECTS
        if form.get(f"impact_{o}")
    ]
    factors = {
        f: str(form.get(f"factor_{f}") or "").strip() for f in service.FACTOR_NAMES if form.get(f"factor_{f}")
    }
    raw: dict[str, Any] = {"impacts": impacts, "factors": factors}
    for key in ("notes", "review_due"):
        v = str(form.get(key) or "").strip()
        if v:
            raw[key] = v
    try:
        if not impacts:
            raise Invalid("choose the degree of harm for at least one impact object")
        service.grade_resource(db, resource_id=resource_id, data=GradingIn.model_validate(raw))
    except ValidationError as e:
        db.rollback()
        return render(
            request, "partials/message.html", principal, status_code=422, error=format_validation_error(e)
        )
    except Invalid as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=422, error=e.message)
    return Response(status_code=204, headers={"HX-Refresh": "true"})
