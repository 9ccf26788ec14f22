"""The FastAPI application: API under /api, web pages at /.

The API's routers and the web pages are listed here as plain imports (:data:`ROUTERS`); importing
``ciimap.registry`` registers every table and job kind the server runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

import ciimap.registry  # noqa: F401 - registers every table and job kind the server runs
from ciimap import __version__
from ciimap.alerts import api as alerts_api
from ciimap.alerts.live import api as alerts_live_api
from ciimap.auth import api as auth_api
from ciimap.auth.deps import authenticate
from ciimap.compliance import api as compliance_api
from ciimap.core import audit_api, jobs_api, openapi, uploads
from ciimap.core.asgi import RefuseOversized, SecurityHeaders
from ciimap.core.deps import Reader, input_without_nul, use_authenticator
from ciimap.core.errors import CiimapError, NotAuthenticated
from ciimap.crypto import api as crypto_api
from ciimap.datagov import api as datagov_api
from ciimap.discovery import api as discovery_api
from ciimap.graph import api as graph_api
from ciimap.incidents import api as incidents_api
from ciimap.incidents import drills_api as incidents_drills_api
from ciimap.ingest import api as ingest_api
from ciimap.intel import api as intel_api
from ciimap.inventory import api as inventory_api
from ciimap.notify import api as notify_api
from ciimap.posture import api as posture_api
from ciimap.sitemap import api as sitemap_api
from ciimap.supply import api as supply_api
from ciimap.vulns import api as vulns_api
from ciimap.web import api as web_api
from ciimap.web import pages
from ciimap.web.errors import error_page, is_page_path

#: Every API router, mounted under /api (a module's ``router`` may be a list of routers).
ROUTERS: tuple[APIRouter | list[APIRouter], ...] = (
    auth_api.router,
    audit_api.router,
    jobs_api.router,
    inventory_api.router,
    ingest_api.router,
    discovery_api.router,
    graph_api.router,
    sitemap_api.router,
    supply_api.router,
    vulns_api.router,
    compliance_api.router,
    alerts_live_api.router,  # before alerts_api: its /alerts/{alert_id} would take /alerts/webhook-tokens
    alerts_api.router,
    crypto_api.router,
    incidents_drills_api.router,  # before incidents_api: its /incidents/{incident_id} would take /plans
    incidents_api.router,
    intel_api.router,
    datagov_api.router,
    notify_api.router,
    posture_api.router,
    web_api.router,
)


def _error_json(status: int, message: str, detail: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(status_code=status, content=body)


_HTML_STATUSES = (403, 404)


def _is_page(request: Request) -> bool:
    """A web page (not /api, not /static): errors there are HTML pages, not JSON."""
    return is_page_path(request.url.path)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CiimapError)
    async def _domain(request: Request, exc: CiimapError) -> Any:
        if isinstance(exc, NotAuthenticated) and not request.url.path.startswith("/api"):
            return RedirectResponse(url=f"/login?next={request.url.path}", status_code=303)
        if exc.http_status in _HTML_STATUSES and _is_page(request):
            return error_page(request, exc.http_status, exc.message)
        resp = _error_json(exc.http_status, exc.message, exc.detail)
        resp.headers.update(getattr(exc, "headers", None) or {})  # Retry-After on 429
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        """Unknown page paths get the HTML 404 page; /api answers with the one error body (an unknown
        route, a wrong method, a body that is not JSON)."""
        if exc.status_code == 404 and _is_page(request):
            return error_page(request, 404)
        if exc.status_code == 413:  # the request body is over max_body_size (uploads.body_limit)
            return _error_json(413, uploads.too_large_message())
        if request.url.path.startswith("/api/") and isinstance(exc.detail, str):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":  # loc is (body, character offset)
                where = err.get("loc", ("body", "?"))[-1]
                parts.append(f"body: not valid JSON ({err.get('ctx', {}).get('error')} at character {where})")
                continue
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "input"
            parts.append(f"{loc}: {err.get('msg')}")
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return _error_json(422, "; ".join(parts) or "invalid input", detail)


#: Swagger UI, started by a static file instead of FastAPI's inline script (the CSP forbids inline script).
_SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ciimap API</title><link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


def _docs_router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/api/openapi.json")
    def openapi(principal: Reader) -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/api/docs")
    def docs(principal: Reader) -> HTMLResponse:
        return HTMLResponse(_SWAGGER_PAGE)

    return router


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        """Security headers go outermost, so even the 500 page of ServerErrorMiddleware has them."""
        return SecurityHeaders(RefuseOversized(super().build_middleware_stack()))


def create_app() -> FastAPI:
    use_authenticator(authenticate)  # who the caller is: the auth domain's answer
    app = _App(
        title="ciimap",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=uploads.body_limit(),
        dependencies=[Depends(input_without_nul)],
        description="Security map for critical-information-infrastructure operators (挂图作战).",
    )
    _install_error_handlers(app)
    for entry in ROUTERS:
        for router in entry if isinstance(entry, list) else [entry]:
            app.include_router(router, prefix="/api")
    app.include_router(_docs_router(app))
    pages.mount(app)
    openapi.install(app)
    return app
