"""Login for API tokens, the current user, and user administration (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ciimap.auth import service
from ciimap.auth.models import User
from ciimap.auth.schemas import LoginIn, MeRead, TokenOut, UserCreate, UserRead, UserUpdate
from ciimap.core.deps import Admin, DbSession, Reader
from ciimap.core.errors import NotFound

router = APIRouter(tags=["Auth"])

#: Routes reachable without authentication (the route-permission test checks this list).
PUBLIC_PATHS = {"/api/auth/login"}


@router.post("/auth/login", response_model=TokenOut)
def login(data: LoginIn, db: DbSession) -> Any:
    """Exchange a username and password for a bearer token (shown once)."""
    user = service.authenticate(db, data.username, data.password)
    tok, secret = service.create_token(db, user, data.token_name, days=data.days)
    return TokenOut(token=secret, prefix=tok.prefix, expires_at=tok.expires_at)


@router.get("/auth/me", response_model=MeRead)
def me(principal: Reader) -> Any:
    perms = sorted(service.PERMISSIONS[principal.role])
    return MeRead(username=principal.username, role=principal.role, locale=principal.locale, permissions=perms)


@router.get("/users", response_model=list[UserRead])
def list_users(db: DbSession, principal: Admin) -> Any:
    return service.list_users(db)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(data: UserCreate, db: DbSession, principal: Admin) -> Any:
    return service.create_user(db, **data.model_dump())


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, data: UserUpdate, db: DbSession, principal: Admin) -> Any:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    changes = data.model_dump(exclude_unset=True)
    if "password" in changes:
        service.set_password(db, user, changes.pop("password"))
    for k, v in changes.items():
        setattr(user, k, v)
    db.flush()
    return user
