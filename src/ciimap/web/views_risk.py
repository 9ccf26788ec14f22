"""Risk pages: single points of failure, concentration (with the update-channel privilege), supply chain
and substitution plans, feed freshness and rollout rings.

Thin: the data comes from the services behind ``/api/graph/spof``, ``/api/graph/concentration``,
``/api/supply/plans``, ``/api/supply/vendors``, ``/api/vulns/feeds`` and ``/api/graph/rollouts`` (CLI:
``ciimap impact spof``, ``ciimap impact concentration``, ``ciimap supply plans``, ``ciimap feeds list``,
``ciimap rollout``); the pages only page and render. A plan's status change posts to the same
``update_plan`` service as ``PATCH /api/supply/plans/{id}`` (audited there).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid, NotFound
from ciimap.graph import progress
from ciimap.graph.build import CRIT_NAMES
from ciimap.graph.concentration import concentration
from ciimap.graph.spof import spof_report
from ciimap.supply import plans
from ciimap.supply import service as supply
from ciimap.vulns import service as vulns
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
#: Update privileges that let a vendor's push run with administrator or kernel rights.
PRIVILEGED = ("admin", "kernel")


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def paged(items: list[Any], page: int, size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of an in-memory list (the risk services return whole, ranked lists)."""
    total = len(items)
    pages = max((total + size - 1) // size, 1)
    page = min(page, pages)
    return {"items": items[(page - 1) * size : page * size], "total": total, "page": page, "pages": pages}


@router.get("/risk/spof")
def spof_page(request: Request, db: DbSession, principal: Reader) -> Any:
    crit = request.query_params.get("min_criticality") or "high"
    error = None
    try:
        rows = spof_report(db, min_criticality=crit, asset_limit=20)
    except Invalid as e:
        error, crit = e.message, "high"
        rows = spof_report(db, min_criticality=crit, asset_limit=20)
    ranked = sorted(rows, key=lambda r: -sum(r.counts.values()))
    return render(
        request,
        "risk/spof.html",
        principal,
        active="risk-spof",
        page=paged(ranked, _page(request)),
        crit=crit,
        error=error,
        levels=tuple(reversed(CRIT_NAMES)),
        chart=[{"name": r.service.name, "value": sum(r.counts.values())} for r in ranked[:20]],
    )


@router.get("/risk/concentration")
def concentration_page(request: Request, db: DbSession, principal: Reader) -> Any:
    kind = "products" if request.query_params.get("view") == "products" else "vendors"
    rep = concentration(db)
    rows = rep.products if kind == "products" else rep.vendors
    ranked = sorted(rows, key=lambda r: (-r.critical_services, -r.cii_systems, -r.assets, r.name))
    privileged = [r for r in rep.vendors if r.auto_update and r.update_privilege in PRIVILEGED]
    return render(
        request,
        "risk/concentration.html",
        principal,
        active="risk-concentration",
        view=kind,
        totals=rep.totals,
        page=paged(ranked, _page(request)),
        findings=rep.findings[:50],
        privileged=sorted(privileged, key=lambda r: (-r.critical_services, -r.assets)),
        chart=[{"name": r.name, "value": r.critical_services} for r in ranked[:15] if r.critical_services],
    )


@router.get("/risk/supply")
def supply_page(request: Request, db: DbSession, principal: Reader) -> Any:
    status = request.query_params.get("status") or None
    error = None
    try:
        items = plans.list_plans(db, status=status)
    except Invalid as e:
        error, status = e.message, None
        items = plans.list_plans(db)
    vendors = sorted(supply.list_vendors(db, used_only=True), key=lambda v: (-v["cii_systems"], -v["assets"]))
    return render(
        request,
        "risk/supply.html",
        principal,
        active="risk-supply",
        page=paged(items, _page(request)),
        progress=plans.progress(db),
        vendors=vendors[:50],
        vendor_total=len(vendors),
        statuses=plans.PLAN_STATUS,
        status=status,
        error=error,
    )


@router.post("/risk/supply/plans/{plan_id}")
def update_plan(
    request: Request,
    plan_id: int,
    db: DbSession,
    principal: Writer,
    status: Annotated[str, Form()],
    due_date: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Any:
    """Change a plan item's status, due date and notes (the API's validation; one message on refusal)."""
    changes: dict[str, Any] = {"status": status, "notes": notes.strip() or None}
    if due_date.strip():
        changes["due_date"] = due_date.strip()
    try:
        plans.update_plan(db, plan_id=plan_id, changes=changes)
    except (Invalid, NotFound) as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=422, error=e.message)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


@router.get("/risk/feeds")
def feeds_page(request: Request, db: DbSession, principal: Reader) -> Any:
    rows = vulns.list_feeds(db)
    return render(
        request,
        "risk/feeds.html",
        principal,
        active="risk-feeds",
        latest=[r for r in rows if r["latest"]],
        page=paged(rows, _page(request)),
        stale_days=vulns.stale_days(),
        today=dt.date.today(),
    )


@router.get("/risk/rollouts")
def rollouts_page(request: Request, db: DbSession, principal: Reader) -> Any:
    plan_list = progress.list_plans(db)
    raw = request.query_params.get("plan", "")
    chosen = int(raw) if raw.isdigit() else (plan_list[0].id if plan_list else None)
    detail, error = None, None
    if chosen is not None:
        try:
            detail = progress.status(db, plan_id=chosen)
        except NotFound as e:
            error = e.message
    return render(
        request,
        "risk/rollouts.html",
        principal,
        active="risk-rollouts",
        page=paged(plan_list, _page(request)),
        detail=detail,
        error=error,
    )
