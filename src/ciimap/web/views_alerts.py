"""Monitoring pages (监测预警): the alert console (groups, never raw lines; drill down to a group's raw
alerts and how each address was mapped), warnings (红/橙/黄/蓝 with their evidence; acknowledge and
close), suppressions (scoped, expiring, audited) and threat-intelligence indicators.

Thin: the data comes from ``alerts.console``, ``alerts.warnings``, ``alerts.suppress`` and
``intel.service`` — the functions the API and the CLI call. Live updates are htmx polling of the
``/alerts/rows`` and ``/warnings/rows`` fragments (every 15 s; no websocket).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ciimap.alerts import console, suppress, warnings
from ciimap.alerts.console import CRITICALITY, INDICATOR_TYPES, TLP_LEVELS, WARNING_LEVELS, WARNING_STATES
from ciimap.config import get_settings
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Conflict, Invalid, NotFound
from ciimap.intel import service as intel
from ciimap.sources import kinds
from ciimap.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
POLL_SECONDS = 15


def _int(params: dict[str, str], key: str) -> int | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(f"{key}: expected a whole number, got '{raw}'")
    return int(raw)


def _time(params: dict[str, str], key: str, local: bool = False) -> dt.datetime | None:
    """ISO date and time; without a zone: UTC, or the site's zone for form fields (``local``)."""
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    try:
        t = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{key}: expected a date and time like 2026-12-01T08:00, got '{raw}'") from None
    if not t.tzinfo:
        t = t.replace(tzinfo=ZoneInfo(get_settings().site_timezone) if local else dt.UTC)
    return t.astimezone(dt.UTC)


def _choice(params: dict[str, str], key: str, allowed: tuple[str, ...]) -> str | None:
    raw = (params.get(key) or "").strip()
    if raw and raw not in allowed:
        raise Invalid(f"{key}: expected one of {', '.join(allowed)}, got '{raw}'")
    return raw or None


def _page(params: dict[str, str]) -> int:
    raw = params.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


CONSOLE_KEYS = ("severity", "kind", "system_id", "service_id", "zone_id", "since", "until", "open")


def console_filters(params: dict[str, str]) -> dict[str, Any]:
    """The console's query string → ``console.console`` filters (the page and its export)."""
    return {
        "severity": _choice(params, "severity", CRITICALITY),
        "kind": _choice(params, "kind", kinds("alerts")),
        "system_id": _int(params, "system_id"),
        "service_id": _int(params, "service_id"),
        "zone_id": _int(params, "zone_id"),
        "since": _time(params, "since"),
        "until": _time(params, "until"),
        "open_only": params.get("open") == "1",
    }


def _console_data(db: DbSession, params: dict[str, str]) -> dict[str, Any]:
    page = _page(params)
    error = None
    try:
        filters = console_filters(params)
    except Invalid as e:  # the message above an unfiltered list, as on the other lists
        error, filters = e.message, {}
    data = console.console(db, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    keep = {k: v for k, v in params.items() if k in CONSOLE_KEYS and v}
    return {**data, "page": page, "keep": keep, "error": error, "poll": POLL_SECONDS}


@router.get("/alerts")
def console_page(request: Request, db: DbSession, principal: Reader) -> Any:
    data = _console_data(db, dict(request.query_params))
    return render(
        request,
        "alerts/console.html",
        principal,
        active="alerts",
        severities=CRITICALITY,
        kinds=kinds("alerts"),
        **{**console.choices(db), **data},
    )


@router.get("/alerts/rows")
def console_rows(request: Request, db: DbSession, principal: Reader) -> Any:
    """The console's table body, polled by htmx for live updates."""
    data = _console_data(db, dict(request.query_params))
    return render(request, "alerts/_groups.html", principal, **data)


@router.get("/alerts/groups/{group_id}")
def group_page(request: Request, group_id: int, db: DbSession, principal: Reader) -> Any:
    group = console.group_detail(db, group_id=group_id)
    return render(request, "alerts/group.html", principal, active="alerts", g=group)


def warning_filters(params: dict[str, str]) -> dict[str, Any]:
    """The warnings page's query string → ``warnings.list_warnings`` filters (the page and its export)."""
    return {
        "state": _choice(params, "state", WARNING_STATES),
        "level": _choice(params, "level", WARNING_LEVELS),
    }


def _warning_data(db: DbSession, params: dict[str, str], viewer_org: int | None = None) -> dict[str, Any]:
    page = _page(params)
    error = None
    filters: dict[str, Any]
    try:
        filters = warning_filters(params)
    except Invalid as e:
        error, filters = e.message, {}
    found = warnings.list_warnings(
        db, **filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, viewer_org=viewer_org
    )
    keep = {k: v for k, v in params.items() if k in ("state", "level") and v}
    return {
        "rows": found[:PAGE_SIZE],
        "more": len(found) > PAGE_SIZE,
        "page": page,
        "keep": keep,
        "error": error,
        "poll": POLL_SECONDS,
    }


@router.get("/warnings")
def warnings_page(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "alerts/warnings.html",
        principal,
        active="warnings",
        levels=warnings.levels(),
        states=WARNING_STATES,
        **_warning_data(db, dict(request.query_params), principal.organization_id),
    )


@router.get("/warnings/rows")
def warnings_rows(request: Request, db: DbSession, principal: Reader) -> Any:
    return render(
        request,
        "alerts/_warnings.html",
        principal,
        **_warning_data(db, dict(request.query_params), principal.organization_id),
    )


@router.get("/warnings/{warning_id}")
def warning_page(request: Request, warning_id: int, db: DbSession, principal: Reader) -> Any:
    w = console.warning_evidence(db, warning_id=warning_id, viewer_org=principal.organization_id)
    return render(request, "alerts/warning.html", principal, active="warnings", w=w)


@router.post("/warnings/{warning_id}/{action}")
def warning_action(request: Request, warning_id: int, action: str, db: DbSession, principal: Writer) -> Any:
    """Acknowledge or close through the warnings service (audited there); the page reloads."""
    if action not in ("ack", "close"):
        raise NotFound(f"no action {action!r} on a warning")
    try:
        if action == "ack":
            warnings.acknowledge(db, warning_id=warning_id, viewer_org=principal.organization_id)
        else:
            warnings.close(db, warning_id=warning_id, viewer_org=principal.organization_id)
    except Conflict as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=409, error=e.message)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


@router.get("/suppressions")
def suppressions_page(request: Request, db: DbSession, principal: Reader) -> Any:
    state = request.query_params.get("state", "")
    active = {"active": True, "expired": False}.get(state)
    return render(
        request,
        "alerts/suppressions.html",
        principal,
        active="suppressions",
        rows=suppress.list_(db, active=active),
        state=state,
        kinds=kinds("alerts"),
        prefill={
            k: request.query_params.get(k, "")
            for k in ("rule_id", "asset_id", "address", "attacker_ip", "kind")
        },
    )


@router.post("/suppressions")
def add_suppression(
    request: Request,
    db: DbSession,
    principal: Writer,
    rule_id: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    asset_id: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    attacker_ip: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    expires_at: Annotated[str, Form()] = "",
) -> Any:
    """Create a scoped suppression (audited by the service); errors show beside the form."""
    try:
        aid = _int({"asset_id": asset_id}, "asset_id")
        until = _time({"expires_at": expires_at}, "expires_at", local=True)
        suppress.add(
            db,
            rule_id=rule_id,
            reason=reason,
            asset_id=aid,
            address=address.strip() or None,
            attacker_ip=attacker_ip.strip() or None,
            kind=kind or None,
            expires_at=until,
        )
    except (Invalid, NotFound) as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=422, error=e.message)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


@router.post("/suppressions/{suppression_id}/delete")
def remove_suppression(request: Request, suppression_id: int, db: DbSession, principal: Writer) -> Any:
    suppress.remove(db, suppression_id=suppression_id)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


@router.get("/intel")
def intel_page(request: Request, db: DbSession, principal: Reader) -> Any:
    params = dict(request.query_params)
    page = _page(params)
    error = None
    filters: dict[str, Any]
    try:
        filters = {
            "type": _choice(params, "type", INDICATOR_TYPES),
            "tlp": _choice(params, "tlp", TLP_LEVELS),
            "active_only": params.get("active") == "1",
        }
    except Invalid as e:
        error, filters = e.message, {}
    value = (params.get("value") or "").strip()
    found = intel.list_indicators(
        db, **filters, value=value or None, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    keep = {k: v for k, v in params.items() if k in ("type", "tlp", "active", "value") and v}
    return render(
        request,
        "alerts/intel.html",
        principal,
        active="intel",
        rows=found[:PAGE_SIZE],
        more=len(found) > PAGE_SIZE,
        page=page,
        keep=keep,
        error=error,
        types=INDICATOR_TYPES,
        tlps=TLP_LEVELS,
    )


@router.get("/intel/{indicator_id}")
def indicator_page(request: Request, indicator_id: int, db: DbSession, principal: Reader) -> Any:
    ind = intel.get_indicator(db, indicator_id=indicator_id)
    matches = console.indicator_alerts(db, value=ind["value"])
    return render(request, "alerts/indicator.html", principal, active="intel", ind=ind, matches=matches)
