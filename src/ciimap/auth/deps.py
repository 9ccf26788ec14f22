"""How a request proves who it is: a bearer token or a session cookie (with its CSRF token on changes).

``create_app`` installs :func:`authenticate` into ``ciimap.core.deps`` (``use_authenticator``), whose
``Reader``/``Writer``/``Admin``/``Auditor`` every route takes; core itself knows no user or session.
"""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.orm import Session

from ciimap.auth import service as auth
from ciimap.auth.service import Principal
from ciimap.core.audit import Actor, bind_actor, set_actor
from ciimap.core.errors import NotAuthenticated

SESSION_COOKIE = "ciimap_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def authenticate(request: Request, db: Session) -> Principal:
    """The caller of this request, and the actor its changes are audited under."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = auth.principal_from_token(db, header[7:].strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthenticated("authentication required (log in or send 'Authorization: Bearer <token>')")
        principal = auth.principal_from_session(db, cookie)
        if request.method not in SAFE_METHODS:
            auth.check_csrf(
                principal, request.headers.get(CSRF_HEADER) or request.state.__dict__.get("csrf_form")
            )
    request.state.principal = principal
    actor = Actor(
        principal.username,
        request_id=request.headers.get("x-request-id") or uuid.uuid4().hex[:16],
        via="api" if request.url.path.startswith("/api") else "web",
    )
    set_actor(actor)
    bind_actor(db, actor)
    return principal
