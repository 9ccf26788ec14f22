"""Web UI entry point: ``mount(app)`` adds /static, login/logout and every page router.

Pages are thin: they parse the request, call service functions and render a template. Sessions are
cookie-based (HttpOnly, SameSite=Lax, Secure on https deployments); every unsafe request from a page
carries the session's CSRF token in the ``X-CSRF-Token`` header (htmx ``hx-headers`` on <body>).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ciimap.auth import login as login_service
from ciimap.auth import service as auth
from ciimap.auth.deps import SESSION_COOKIE
from ciimap.config import get_settings
from ciimap.core.deps import DbSession, Reader
from ciimap.core.errors import NotAuthenticated, TooManyAttempts
from ciimap.web import (
    views_alerts,
    views_compliance,
    views_crypto,
    views_data,
    views_drills,
    views_entities,
    views_exports,
    views_findings,
    views_incidents,
    views_map,
    views_notify,
    views_ops,
    views_risk,
    views_users,
)
from ciimap.web.render import render

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never redirect to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Any:  # noqa: A002
    return render(request, "login.html", None, next=safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Any:  # noqa: A002
    try:
        user = login_service.login(
            db, login_service.attempt_from(request, username.strip(), via="web"), password
        )
    except (NotAuthenticated, TooManyAttempts) as e:  # audited by login() in its own transaction
        wait = e.retry_after if isinstance(e, TooManyAttempts) else None
        page = render(
            request,
            "login.html",
            None,
            status_code=e.http_status,
            next=safe_next(next),
            error=e.message,
            username=username,
            retry_after=wait,
        )
        if wait:
            page.headers["Retry-After"] = str(wait)
        return page
    settings = get_settings()
    secret, _csrf = auth.create_session(db, user, settings.session_hours)
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return resp


@router.post("/logout")
def logout(request: Request, db: DbSession, principal: Reader) -> Any:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.end_session(db, cookie)
    resp: Response = RedirectResponse("/login", status_code=303)
    if request.headers.get("hx-request"):
        resp = Response(status_code=204, headers={"HX-Redirect": "/login"})
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


def mount(app: FastAPI) -> None:
    """Static files and the page routers (called by ciimap.plugins.web_mount)."""
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(router)
    app.include_router(views_exports.router)
    app.include_router(views_map.router)
    app.include_router(views_entities.router)
    app.include_router(views_ops.router)
    app.include_router(views_users.router)
    app.include_router(views_notify.router)
    app.include_router(views_findings.router)
    app.include_router(views_risk.router)
    app.include_router(views_compliance.router)
    app.include_router(views_crypto.router)

    app.include_router(views_data.router)
    app.include_router(views_drills.router)  # before views_incidents: /incidents/{incident_id}
    app.include_router(views_incidents.router)
    app.include_router(views_alerts.router)
