"""Compliance pages (等级保护 + 关基保护): the overview, a page per system and the assessment workspace.

Thin: the data comes from :mod:`ciimap.compliance.overview` (also served by
``GET /api/compliance/overview`` and ``ciimap compliance overview``); the workspace saves through the
compliance API (``PUT /api/compliance/assessments/{id}/results``, ``POST .../results/bulk``) from
``static/js/compliance.js`` with the session's CSRF token.

The system page's htmx forms (grading, workflow steps, a new assessment, rectification items) post
here: the form strings go through the API's input schemas and the same services (audited there); a
bad value is one message next to the form (422), nothing of the request is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from ciimap.compliance import assessment, overview, rectification
from ciimap.compliance import service as grading
from ciimap.compliance.schemas import (
    AdvanceIn,
    AssessmentIn,
    GradingIn,
    Judgement,
    RectificationIn,
    RectificationUpdate,
)
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, Invalid
from ciimap.core.schemas import Int32
from ciimap.web.i18n import Translator
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)

#: Keyboard digit → result code on the workspace (1 符合, 2 部分符合, 3 不符合, 0 不适用).
RESULT_KEYS = {"1": "pass", "2": "partial", "3": "fail", "0": "na"}


@router.get("/compliance")
def compliance_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "compliance/overview.html",
        principal,
        active="compliance",
        data=overview.overview(db),
        conclusion_key=overview.CONCLUSION_KEYS,
    )


@router.get("/compliance/obligations")
def obligations_page(request: Request, db: DbSession, principal: Reader) -> Any:
    """CII obligations as a calendar: by month, each with its due date and state (overdue first to see)."""
    return render(
        request,
        "compliance/obligations.html",
        principal,
        active="compliance",
        data=overview.obligation_calendar(db, today=dt.date.today()),
    )


@router.get("/compliance/systems/{system_id}")
def system_page(request: Request, system_id: Int32, db: DbSession, principal: Reader) -> Any:
    data = overview.for_system(db, system_id=system_id)
    forms = None
    if principal.can("write"):
        forms = {
            **overview.form_choices(db, system_id=system_id),
            "open_grading": any(g["state"] in grading.NEXT for g in data["gradings"]),
        }
    return render(
        request,
        "compliance/system.html",
        principal,
        active="compliance",
        data=data,
        forms=forms,
        conclusion_key=overview.CONCLUSION_KEYS,
    )


# --- the system page's forms (htmx) ---------------------------------------------------------------


def _given(form: FormData, *names: str) -> dict[str, Any]:
    """The non-empty form fields among ``names`` (an empty field is "not given")."""
    out: dict[str, Any] = {}
    for name in names:
        value = str(form.get(name) or "").strip()
        if value:
            out[name] = value
    return out


def _refused(request: Request, principal: Any, db: Any, e: Exception) -> Any:
    """The reason next to the form (422); nothing of this request is kept."""
    db.rollback()
    msg = format_validation_error(e) if isinstance(e, ValidationError) else getattr(e, "message", str(e))
    return render(request, "partials/message.html", principal, status_code=422, error=msg)


def _done(to: str | None = None) -> Response:
    return Response(status_code=204, headers={"HX-Redirect": to} if to else {"HX-Refresh": "true"})


@router.get("/compliance/grade-preview")
def grade_preview(request: Request, principal: Reader) -> Any:
    """The levels and rationale of the judgements chosen on the grading form (nothing stored)."""
    try:
        j = Judgement.model_validate(
            _given(request.query_params, "s_object", "s_degree", "a_object", "a_degree")  # type: ignore[arg-type]
        )
    except ValidationError:
        return render(request, "compliance/_grade_preview.html", principal, result=None)
    return render(
        request,
        "compliance/_grade_preview.html",
        principal,
        result=grading.grade(j, object_type=request.query_params.get("object_type") or None),
    )


@router.post("/compliance/systems/{system_id}/gradings")
async def start_grading(request: Request, system_id: Int32, db: DbSession, principal: Writer) -> Any:
    """初步定级: a new grading round from the S/A judgements (levels, rationale and warnings computed)."""
    form = await request.form()
    try:
        data = GradingIn.model_validate(
            {
                "system_id": system_id,
                **_given(
                    form, "s_object", "s_degree", "a_object", "a_degree", "object_type", "notes", "graded_on"
                ),
                "extensions": [str(x) for x in form.getlist("extensions")],
            }
        )
        grading.create_grading(db, data=data)
    except (ValidationError, Invalid, Conflict) as e:
        return _refused(request, principal, db, e)
    return _done()


@router.post("/compliance/gradings/{grading_id}/advance")
async def advance_grading(request: Request, grading_id: Int32, db: DbSession, principal: Writer) -> Any:
    """One workflow step: 专家评审, 主管部门核准, 公安机关备案 (number, date, police unit) or withdrawal."""
    form = await request.form()
    try:
        data = AdvanceIn.model_validate(
            {
                **_given(
                    form, "to", "on", "note", "authority", "filing_number", "filing_date", "police_unit"
                ),
                "skip_approval": form.get("skip_approval") in ("on", "true", "1"),
            }
        )
        grading.advance(db, grading_id=grading_id, data=data)
    except (ValidationError, Invalid, Conflict) as e:
        return _refused(request, principal, db, e)
    return _done()


@router.post("/compliance/systems/{system_id}/assessments")
async def start_assessment(request: Request, system_id: Int32, db: DbSession, principal: Writer) -> Any:
    """A new assessment (测评) of the system for a cycle; then its workspace."""
    form = await request.form()
    try:
        data = AssessmentIn.model_validate(
            {
                "system_id": system_id,
                **_given(form, "kind", "body", "cycle", "started_on", "catalog", "notes"),
                "include_assets": form.get("include_assets") in ("on", "true", "1"),
            }
        )
        a = assessment.create_assessment(db, data=data)
    except (ValidationError, Invalid, Conflict) as e:
        return _refused(request, principal, db, e)
    return _done(f"/compliance/assessments/{a.id}")


@router.post("/compliance/systems/{system_id}/rectifications")
async def new_rectification(request: Request, system_id: Int32, db: DbSession, principal: Writer) -> Any:
    """A rectification item (整改) of a 不符合 / 部分符合 result or a high / medium risk of the system."""
    form = await request.form()
    kind, _sep, ref = str(form.get("source") or "").partition(":")
    try:
        if kind not in ("result", "risk") or not ref.isdigit():
            raise Invalid("source: choose a result or a risk to rectify")
        data = RectificationIn.model_validate(
            {f"{kind}_id": int(ref), **_given(form, "title", "owner", "plan", "due_date")}
        )
        rect = rectification.create(db, data=data)
        if rect.system_id != system_id:
            raise Invalid(f"{kind} {ref} belongs to another system")
    except (ValidationError, Invalid, Conflict) as e:
        return _refused(request, principal, db, e)
    return _done()


@router.post("/compliance/rectifications/{rectification_id}/edit")
async def edit_rectification(
    request: Request, rectification_id: Int32, db: DbSession, principal: Writer
) -> Any:
    """Owner, plan, due date, status and verification of a rectification item."""
    form = await request.form()
    try:
        changes = RectificationUpdate.model_validate(
            _given(form, "status", "title", "owner", "plan", "due_date", "verification_note")
        )
        rectification.update(db, rectification_id=rectification_id, changes=changes)
    except (ValidationError, Invalid, Conflict) as e:
        return _refused(request, principal, db, e)
    return _done()


@router.get("/compliance/assessments/{assessment_id}")
def workspace_page(request: Request, assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    data = overview.workspace(db, assessment_id=assessment_id)
    a = data["assessment"]
    zh = locale_for(request, principal) == "zh-CN"
    editable = a["state"] == "open" and principal.can("write")
    return render(
        request,
        "compliance/workspace.html",
        principal,
        active="compliance",
        a=a,
        items=data["items"],
        objects=a["test_objects"],
        editable=editable,
        ws_data={
            "assessment_id": a["id"],
            "editable": editable,
            "keys": RESULT_KEYS,
            "items": {it["key"]: _item_js(it, zh) for it in data["items"]},
        },
        results=overview.RESULT_CODES,
        result_keys=RESULT_KEYS,
        methods=overview.METHODS,
        conclusion_key=overview.CONCLUSION_KEYS,
    )


def _item_js(it: dict[str, Any], zh: bool) -> dict[str, Any]:
    """What the side panel of the workspace shows for an item (in the page's language)."""
    p = it["proposal"]
    t = Translator("zh-CN" if zh else "en")
    return {
        "id": it["id"],
        "summary": it["summary_zh"] if zh else it["summary_en"],
        "proposal": None
        if p is None
        else {
            "result": p["result"],
            "title": p["title_zh"] if zh else p["title_en"],
            "text": p["explanation_zh"] if zh else p["explanation_en"],
            "records": [
                f"{r['label']} ({t('cmp.why.' + r['reason'], **r['params'])})" for r in p["records"][:10]
            ],
            "records_total": p["records_total"],
        },
    }
