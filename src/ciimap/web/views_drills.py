"""Emergency plan (应急预案) and drill (演练) pages: the plan list and the plan page with its fallback
checked against the map, the drill page (scenarios from the map, drills started, scores, report).

Thin: the data comes from :mod:`ciimap.incidents.plans` and :mod:`ciimap.incidents.drills` (also served
by ``/api/incidents/plans|drills`` and ``ciimap incidents plans|drills``). Mounted before the incident
pages, whose ``/incidents/{incident_id}`` would otherwise take ``/incidents/plans``. The forms post here
(htmx, with the session's CSRF token) and go through the same schemas and services as the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.core.schemas import Int32, Offset
from ciimap.incidents import drills, plans
from ciimap.incidents.schemas import DrillNotes, DrillStart, PlanIn
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/incidents/plans")
def plans_page(
    request: Request, db: DbSession, principal: Reader, overdue: bool = False, offset: Offset = 0
) -> Any:
    data = plans.listing(
        db, viewer_org=principal.organization_id, overdue_only=overdue, offset=offset, limit=50
    )
    return render(request, "incidents/plans.html", principal, active="incidents", data=data, overdue=overdue,
                  offset=offset, fallback_kinds=plans.FALLBACK_KINDS)  # fmt: skip


@router.get("/incidents/plans/{plan_id}")
def plan_page(request: Request, plan_id: Int32, db: DbSession, principal: Reader) -> Any:
    org = principal.organization_id
    return render(request, "incidents/plan.html", principal, active="incidents",
                  plan=plans.detail(db, plan_id=plan_id, viewer_org=org),
                  check=plans.check(db, plan_id=plan_id, viewer_org=org))  # fmt: skip


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.splitlines() if x.strip()]


def _steps(text: str) -> list[dict[str, str]]:
    out = []
    for line in _lines(text):
        role, sep, what = line.partition("=")
        if not sep:
            raise Invalid(f"步骤 '{line[:40]}' 应写作 角色=内容")
        out.append({"owner_role": role.strip(), "text": what.strip()})
    return out


def _contacts(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in _lines(text):
        if line.isdigit():
            out.append({"contact_id": int(line)})
        else:
            name, _, rest = line.partition(":")
            phone, _, role = rest.partition(":")
            out.append({"name": name.strip(), "phone": phone.strip() or None, "role": role.strip() or None})
    return out


def _error(request: Request, principal: Any, e: Exception) -> Any:
    msg = format_validation_error(e) if isinstance(e, ValidationError) else getattr(e, "message", str(e))
    return render(request, "partials/message.html", principal, status_code=422, error=msg)


@router.post("/incidents/plans/new")
async def new_plan(request: Request, db: DbSession, principal: Writer) -> Any:
    """Add a plan from the list page's form; then the plan's page (HX-Redirect)."""
    form = await request.form()
    f = {k: str(form.get(k) or "").strip() for k in ("title", "service_id", "system_id", "fallback_kind",
                                                       "fallback_ref", "fallback_note", "review_months", "steps",
                                                       "contacts", "last_reviewed")}  # fmt: skip
    try:
        raw = {k: v for k, v in f.items() if v and k not in ("steps", "contacts")}
        body = PlanIn.model_validate(
            raw | {"steps": _steps(f["steps"]), "contacts": _contacts(f["contacts"])}
        )
        fields = {k: getattr(body, k) for k in body.model_fields}
        fields["steps"] = [x.model_dump() for x in body.steps]
        fields["contacts"] = [x.model_dump() for x in body.contacts]
        p = plans.create(db, viewer_org=principal.organization_id, **fields)
    except (ValidationError, Invalid, Conflict, NotFound) as e:
        db.rollback()
        return _error(request, principal, e)
    return Response(status_code=204, headers={"HX-Redirect": f"/incidents/plans/{p.id}"})


@router.post("/incidents/plans/{plan_id}/review")
def review_plan(request: Request, plan_id: Int32, db: DbSession, principal: Writer) -> Any:
    plans.review(db, plan_id=plan_id, viewer_org=principal.organization_id)
    return Response(status_code=204, headers={"HX-Redirect": f"/incidents/plans/{plan_id}"})


@router.get("/incidents/drills")
def drills_page(
    request: Request, db: DbSession, principal: Reader, vendor: str | None = None, system: str | None = None
) -> Any:
    """Scenario candidates, a scenario preview (``?vendor=`` or ``?system=``) and the drills started."""
    preview, error = None, None
    if vendor or system:
        try:
            preview = drills.scenario(
                db,
                kind="vendor_update" if vendor else "ransomware",
                target=vendor or system or "",
                viewer_org=principal.organization_id,
            )
        except (Invalid, NotFound) as e:
            error = e.message
    return render(request, "incidents/drills.html", principal, active="incidents",
                  candidates=drills.vendor_candidates(db), preview=preview, error=error,
                  drills=drills.listing(db, viewer_org=principal.organization_id))  # fmt: skip


@router.get("/incidents/drills/{drill_id}")
def drill_page(request: Request, drill_id: Int32, db: DbSession, principal: Reader) -> Any:
    data = drills.detail(db, drill_id=drill_id, viewer_org=principal.organization_id)
    return render(request, "incidents/drill.html", principal, active="incidents", drill=data)


@router.post("/incidents/drills/start")
async def start_drill(request: Request, db: DbSession, principal: Writer) -> Any:
    form = await request.form()
    try:
        body = DrillStart.model_validate(
            {k: str(form.get(k) or "").strip() or None for k in ("kind", "target", "notes")}
        )
        d = drills.start(
            db, viewer_org=principal.organization_id, kind=body.kind, target=body.target, notes=body.notes
        )
    except (ValidationError, Invalid, Conflict, NotFound) as e:
        db.rollback()
        return _error(request, principal, e)
    return Response(status_code=204, headers={"HX-Redirect": f"/incidents/drills/{d.id}"})


@router.post("/incidents/drills/{drill_id}/notes")
async def drill_notes(request: Request, drill_id: Int32, db: DbSession, principal: Writer) -> Any:
    """The drill's notes (演练记录, in the after-action report) from the drill page's form."""
    form = await request.form()
    try:
        body = DrillNotes.model_validate({"notes": str(form.get("notes") or "")})
        drills.set_notes(db, drill_id=drill_id, viewer_org=principal.organization_id, notes=body.notes)
    except ValidationError as e:
        db.rollback()
        return _error(request, principal, e)
    return Response(status_code=204, headers={"HX-Redirect": f"/incidents/drills/{drill_id}"})
