"""Login for API tokens, the current user, and user administration (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ciimap.auth import login as login_service
from ciimap.auth import service
from ciimap.auth.schemas import LoginIn, MeRead, RevokedOut, TokenOut, UserCreate, UserRead, UserUpdate
from ciimap.core.deps import Admin, DbSession, Reader
from ciimap.core.openapi import NOT_FOUND, TOO_MANY, UNAUTHENTICATED
from ciimap.core.schemas import Int32

router = APIRouter(tags=["Auth"])

#: Routes reachable without authentication (the route-permission test checks this list).
PUBLIC_PATHS = {"/api/auth/login"}


@router.post("/auth/login", response_model=TokenOut, responses={**UNAUTHENTICATED, **TOO_MANY})
def login(data: LoginIn, db: DbSession, request: Request) -> Any:
    """Exchange a username and password for a bearer token (shown once).

    After repeated failures for a username or from an address the answer is 429 with ``Retry-After``."""
    user = login_service.login(
        db, login_service.attempt_from(request, data.username, via="api"), data.password
    )
    tok, secret = service.create_token(db, user, data.token_name, days=data.days)
    return TokenOut(token=secret, prefix=tok.prefix, expires_at=tok.expires_at)


@router.get("/auth/me", response_model=MeRead)
def me(principal: Reader) -> Any:
    perms = sorted(service.PERMISSIONS[principal.role])
    return MeRead(
        username=principal.username, role=principal.role, locale=principal.locale, permissions=perms
    )


@router.get("/users", response_model=list[UserRead])
def list_users(db: DbSession, principal: Admin) -> Any:
    return service.list_users(db)


@router.post("/users", response_model=UserRead, status_code=201, responses=NOT_FOUND)
def create_user(data: UserCreate, db: DbSession, principal: Admin) -> Any:
    return service.create_user(db, **data.model_dump())


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: Int32, data: UserUpdate, db: DbSession, principal: Admin) -> Any:
    """Change role, name, language, active flag or password; the last active admin cannot be
    disabled or demoted (409)."""
    user = service.get_user_by_id(db, user_id)
    return service.update_user(db, user=user, fields_set=data.model_fields_set, **data.model_dump())


@router.post("/users/{user_id}/revoke-tokens", response_model=RevokedOut)
def revoke_tokens(user_id: Int32, db: DbSession, principal: Admin) -> Any:
    """Revoke every API token of the user (scripts using them get 401 from now on)."""
    return RevokedOut(revoked=service.revoke_tokens(db, service.get_user_by_id(db, user_id)))
