"""Template rendering with the caller's language, CSRF token and role-aware navigation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ciimap import __version__
from ciimap.config import get_settings
from ciimap.core import entity
from ciimap.core.deps import Principal
from ciimap.web.changes import alert_reason, diff, node_path, record_label
from ciimap.web.entities import NODE_ENTITY, value_group
from ciimap.web.i18n import Translator, from_accept_language, normalise

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

#: Entity list pages in the navigation, grouped (entity names from the registry).
NAV_GROUPS = (
    ("nav.business", ("business-services", "systems", "organizations", "contacts")),
    ("nav.infrastructure", ("sites", "zones", "assets", "endpoints")),
    ("nav.supply", ("vendors", "products", "software", "edges")),
)


def _fmt(value: Any) -> str:
    """Compact cell rendering: timestamps to the minute, lists joined, None as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # name: value pairs, not JSON (web/changes.py labels them when it can)
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return str(value)


def _tojson_attr(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: '<' and '&' escaped so no tag can close it."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above; only used inside JSON script blocks


TEMPLATES.env.filters["fmt"] = _fmt
TEMPLATES.env.filters["jsdata"] = _tojson_attr
TEMPLATES.env.globals["node_entity"] = lambda t: NODE_ENTITY.get(t, t)
TEMPLATES.env.globals["diff"] = diff
TEMPLATES.env.globals["node_path"] = node_path
TEMPLATES.env.globals["record_label"] = record_label
TEMPLATES.env.globals["alert_reason"] = alert_reason
TEMPLATES.env.globals["value_group"] = value_group


def nav(principal: Principal | None, t: Translator) -> list[dict[str, Any]]:
    """Navigation entries the principal may use (auditors see no write actions)."""
    if principal is None:
        return []
    items: list[dict[str, Any]] = [
        {"href": "/", "label": t("nav.dashboard"), "key": "dashboard"},
        {"href": "/topology", "label": t("nav.topology"), "key": "topology"},
        {"href": "/sitemap", "label": t("nav.sitemap"), "key": "sitemap"},
        {"href": "/findings", "label": t("nav.findings"), "key": "findings"},
        {"href": "/compliance", "label": t("nav.compliance"), "key": "compliance"},
        {"href": "/crypto", "label": t("nav.crypto"), "key": "crypto"},
        {"href": "/data", "label": t("nav.data"), "key": "data"},
        {"href": "/incidents", "label": t("nav.incidents"), "key": "incidents"},
        {"href": "/alerts", "label": t("nav.alerts"), "key": "alerts"},
        {"href": "/warnings", "label": t("nav.warnings"), "key": "warnings"},
        {"href": "/intel", "label": t("nav.intel"), "key": "intel"},
        {"href": "/suppressions", "label": t("nav.suppressions"), "key": "suppressions"},
        {"href": "/changes", "label": t("nav.changes"), "key": "changes"},
    ]
    items.append(
        {
            "group": t("nav.risk"),
            "children": [
                {"href": "/risk/spof", "label": t("risk.spof"), "key": "risk-spof"},
                {
                    "href": "/risk/concentration",
                    "label": t("risk.concentration"),
                    "key": "risk-concentration",
                },
                {"href": "/risk/supply", "label": t("risk.supply"), "key": "risk-supply"},
                {"href": "/risk/feeds", "label": t("risk.feeds"), "key": "risk-feeds"},
                {"href": "/risk/rollouts", "label": t("risk.rollouts"), "key": "risk-rollouts"},
            ],
        }
    )
    if principal.can("write"):
        items.append({"href": "/imports", "label": t("nav.imports"), "key": "imports"})
    for group, names in NAV_GROUPS:
        children = [
            {"href": f"/entities/{n}", "label": t.label(entity.REGISTRY[n]), "key": n}
            for n in names
            if n in entity.REGISTRY
        ]
        items.append({"group": t(group), "children": children})
    if principal.can("admin"):
        items.append(
            {
                "group": t("nav.admin"),
                "children": [
                    {"href": "/admin/users", "label": t("nav.users"), "key": "users"},
                    {"href": "/admin/notify", "label": t("nav.notify"), "key": "notify"},
                    *(
                        [
                            {"href": "/entities/" + n, "label": t.label(entity.REGISTRY[n]), "key": n}
                            for n in ("scopes",)
                            if n in entity.REGISTRY
                        ]
                    ),
                    {"href": "/api/docs", "label": t("nav.api"), "key": "api"},
                ],
            }
        )
    elif principal.can("audit"):
        items.append(
            {
                "group": t("nav.audit"),
                "children": [{"href": "/api/docs", "label": t("nav.api"), "key": "api"}],
            }
        )
    return items


def locale_for(request: Request, principal: Principal | None) -> str:
    if principal is not None:
        return normalise(principal.locale)
    lang = request.query_params.get("lang") or from_accept_language(request.headers.get("accept-language"))
    return normalise(lang or get_settings().default_locale)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    active: str = "",
    **ctx: Any,
) -> HTMLResponse:
    t = Translator(locale_for(request, principal))
    base = {
        "request": request,
        "t": t,
        "locale": t.locale,
        "principal": principal,
        "active": active,
        "csrf": principal.csrf_token if principal else "",
        "nav": nav(principal, t),
        "version": __version__,
        "js_messages": t.js(),
    }
    return TEMPLATES.TemplateResponse(request, template, {**base, **ctx}, status_code=status_code)
