"""The findings page: vulnerability findings by risk with filters, offset paging and triage.

Filters and order are the vulns service's (``list_findings``: highest score first, as in
/api/vulns/findings); the page only parses the query and renders. A status change posts to the same
triage service as ``POST /api/vulns/findings/{id}/triage`` (audited there).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid, NotFound
from ciimap.vulns import groups, listing, service, triage
from ciimap.vulns.listing import PRIORITIES, TRIAGE_STATES
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: query parameter → allowed values (None: a whole number).
FILTERS: dict[str, tuple[str, ...] | None] = {
    "severity": listing.SEVERITIES,
    "status": TRIAGE_STATES,
    "priority": PRIORITIES,
    "kev": ("yes", "no"),
    "asset_id": None,
    "system_id": None,
    "site_id": None,
}


def parse_filters(params: dict[str, str]) -> dict[str, Any]:
    """Query strings → list_findings keywords; a bad value raises Invalid naming the parameter."""
    out: dict[str, Any] = {}
    for key, allowed in FILTERS.items():
        raw = (params.get(key) or "").strip()
        if not raw:
            continue
        if allowed is None:
            if not raw.isdigit():
                raise Invalid(f"{key}: expected a whole number, got '{raw}'")
            out[key] = int(raw)
        elif raw not in allowed:
            raise Invalid(f"{key}: expected one of {', '.join(allowed)}, got '{raw}'")
        else:
            out[key] = raw == "yes" if key == "kev" else raw
    return out


@router.get("/findings")
def findings_page(request: Request, db: DbSession, principal: Reader) -> Any:
    params = dict(request.query_params)
    page = int(params["page"]) if params.get("page", "").isdigit() and int(params["page"]) > 0 else 1
    view = params.get("group") if params.get("group") in groups.GROUP_BY else ""
    error = None
    try:
        filters = parse_filters(params)
    except Invalid as e:  # as on entity lists: the message above an unfiltered list
        error, filters = e.message, {}
    advisory = (params.get("advisory") or "").strip()[:64]
    if advisory:
        filters["advisory"] = advisory
    rows: list[dict[str, Any]] = []
    grouped: list[dict[str, Any]] = []
    if view:
        gp = groups.group_findings(db, by=view, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters)
        grouped, total = gp["groups"], gp["total"]
    else:
        found, total = service.list_findings(db, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows = listing.rows(db, found)
    keep = {k: v for k, v in params.items() if (k in FILTERS or k == "advisory") and v}
    filter_keep = dict(keep)
    if view:
        keep["group"] = view
    return render(
        request,
        "findings.html",
        principal,
        active="findings",
        rows=rows,
        grouped=grouped,
        view=view,
        group_by=groups.GROUP_BY,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        keep=keep,
        filter_keep=filter_keep,
        error=error,
        systems=listing.systems_with_findings(db),
        filters=FILTERS,
        states=TRIAGE_STATES,
        justifications=triage.JUSTIFICATIONS,
        today=dt.date.today().isoformat(),
    )


@router.post("/findings/{finding_id}/triage")
def set_status(
    request: Request,
    finding_id: int,
    db: DbSession,
    principal: Writer,
    state: Annotated[str, Form()],
    justification: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
) -> Any:
    """Change a finding's status; on success the page reloads, on error the reason shows in the row."""
    try:
        until = dt.date.fromisoformat(expires) if expires.strip() else None
        service.set_triage(
            db,
            finding_id=finding_id,
            state=state,
            justification=justification or None,
            detail=detail.strip() or None,
            expires=until,
            actor=principal.username,
        )
    except (Invalid, ValueError) as e:
        db.rollback()
        msg = e.message if isinstance(e, Invalid) else f"expires: {e}"
        return render(request, "partials/message.html", principal, status_code=422, error=msg)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


def _group_refs(raw: list[str]) -> list[tuple[str, str | int | None]]:
    out = []
    for g in raw:
        by, sep, key = g.partition(":")
        if not sep:
            raise Invalid(f"group: expected by:key, got '{g}'")
        out.append((by, groups.group_key(by, key)))
    return out


def _date(raw: str, name: str) -> dt.date | None:
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(f"{name}: not a date (YYYY-MM-DD): {raw}") from None


@router.post("/findings/bulk-triage")
async def bulk_triage(request: Request, db: DbSession, principal: Writer) -> Any:
    """Selected rows (``ids``) and whole groups (``groups``: by:key) → one all-or-nothing bulk triage
    (the service behind ``POST /api/vulns/findings/bulk-triage``); a refusal is one message."""
    form = await request.form()
    text = {
        k: str(form.get(k) or "") for k in ("state", "justification", "expires", "assignee", "due", "detail")
    }
    try:
        ids = []
        for raw in form.getlist("ids"):
            if not str(raw).isdigit():
                raise Invalid(f"finding id: expected a whole number, got '{raw}'")
            ids.append(int(str(raw)))
        refs = _group_refs([str(g) for g in form.getlist("groups")])
        filters = parse_filters({k[2:]: str(v) for k, v in form.items() if k.startswith("f_")})
        advisory = str(form.get("f_advisory") or "").strip()
        if advisory:
            filters["advisory"] = advisory
        out = groups.bulk_triage(
            db,
            finding_ids=ids,
            groups=refs,
            filters=filters,
            state=text["state"] or None,
            justification=text["justification"] or None,
            detail=text["detail"].strip() or None,
            expires=_date(text["expires"], "expires"),
            assignee=text["assignee"].strip() or None,
            due_date=_date(text["due"], "due"),
            actor=principal.username,
        )
    except (Invalid, NotFound) as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=422, error=e.message)
    return Response(status_code=204, headers={"HX-Refresh": "true", "X-Bulk-Findings": str(out["findings"])})
