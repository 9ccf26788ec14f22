"""HTML error pages for the web UI: 404 (unknown page or missing record) and 403 (role too weak).

/api paths keep their JSON errors; app.py's error handlers call :func:`error_page` only for page
paths. The page is in the caller's language: the principal comes from the request (set by the auth
dependency) or, for paths no route matched, from the session cookie.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ciimap.auth import service as auth
from ciimap.auth.deps import SESSION_COOKIE
from ciimap.auth.service import Principal
from ciimap.core.db import get_database
from ciimap.core.errors import CiimapError
from ciimap.web.render import render


def is_page_path(path: str) -> bool:
    return not (path == "/api" or path.startswith(("/api/", "/static/")))


def _principal(request: Request) -> Principal | None:
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        with get_database().read_session() as db:
            return auth.principal_from_session(db, cookie)
    except CiimapError:  # expired or unknown session: show the page without navigation
        return None


def error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
    return render(
        request, "error.html", _principal(request), status_code=status, status=status, detail=detail
    )
