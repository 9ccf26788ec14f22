"""FastAPI dependencies: the per-request unit of work and the authenticated principal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ciimap.auth import service as auth
from ciimap.auth.service import Principal
from ciimap.core.audit import Actor, bind_actor, set_actor
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid, NotAuthenticated
from ciimap.core.schemas import NUL_MESSAGE

SESSION_COOKIE = "ciimap_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_db() -> Iterator[Session]:
    """One unit of work per request: committed when the handler returns, rolled back on error."""
    with get_database().unit_of_work() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db, scope="function")]


FORM = "application/x-www-form-urlencoded"


async def input_without_nul(request: Request) -> None:
    """Every route's first dependency: a NUL character in the path, the query string or a web form
    is bad input (PostgreSQL cannot compare or store it; SQLite would store it), refused before
    anything else. JSON bodies are checked by ``Schema``, multipart text fields by ``Text``."""
    if "\x00" in request.url.path:
        raise Invalid(f"the path {NUL_MESSAGE}")
    fields = list(request.query_params.multi_items())
    if request.headers.get("content-type", "").startswith(FORM):
        fields += [
            (k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)
        ]  # parsed once
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            raise Invalid(f"{name.replace(chr(0), '?')}: {NUL_MESSAGE}")


def _authenticate(request: Request, db: Session) -> Principal:
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


def requires(permission: str) -> Callable[..., Principal]:
    """Dependency: the caller is authenticated and its role has ``permission``."""

    def dep(request: Request, db: DbSession) -> Principal:
        principal = _authenticate(request, db)
        principal.require(permission)
        return principal

    dep.__name__ = f"requires_{permission}"
    dep.permission = permission  # type: ignore[attr-defined]
    return dep


Reader = Annotated[Principal, Depends(requires("read"), scope="function")]
Writer = Annotated[Principal, Depends(requires("write"), scope="function")]
Admin = Annotated[Principal, Depends(requires("admin"), scope="function")]
Auditor = Annotated[Principal, Depends(requires("audit"), scope="function")]
