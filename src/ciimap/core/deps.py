"""FastAPI dependencies: the per-request unit of work, input checks and the authenticated principal with a
permission (``Reader``, ``Writer``, ``Admin``, ``Auditor``: every route takes one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.schemas import NUL_MESSAGE


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


class Principal(Protocol):
    """The authenticated caller a route receives. The auth domain's ``Principal`` is one; which callers
    exist and how a request proves who it is are the auth domain's (``auth/deps.py``), plugged in by
    :func:`use_authenticator` where the app is built."""

    @property
    def user_id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def csrf_token(self) -> str | None: ...
    @property
    def organization_id(self) -> int | None: ...
    def can(self, permission: str) -> bool: ...
    def require(self, permission: str) -> None: ...


#: ``authenticate(request, session)``: the caller, or ``NotAuthenticated``.
Authenticator = Callable[[Request, Session], Principal]
_authenticator: list[Authenticator] = []


def use_authenticator(authenticate: Authenticator) -> None:
    """Make ``authenticate`` the one that every route's principal dependency calls (``create_app``)."""
    _authenticator[:] = [authenticate]


def requires(permission: str) -> Callable[..., Principal]:
    """Dependency: the caller is authenticated and its role has ``permission``."""

    def dep(request: Request, db: DbSession) -> Principal:
        if not _authenticator:
            raise RuntimeError("no authenticator: create_app() installs the auth domain's")
        principal = _authenticator[0](request, db)
        principal.require(permission)
        return principal

    dep.__name__ = f"requires_{permission}"
    dep.permission = permission  # type: ignore[attr-defined]
    return dep


Reader = Annotated[Principal, Depends(requires("read"), scope="function")]
Writer = Annotated[Principal, Depends(requires("write"), scope="function")]
Admin = Annotated[Principal, Depends(requires("admin"), scope="function")]
Auditor = Annotated[Principal, Depends(requires("audit"), scope="function")]
