"""User administration pages (admin only): create users, change roles, enable/disable, reset
passwords and revoke API tokens. Every change goes through ciimap.auth.service (the same functions as
/api/users and ``ciimap user``), so the rules — password length, the last active admin — and the
audit trail are the same from every interface.

Forms are htmx posts (the session's CSRF token travels in the X-CSRF-Token header); each answer is
the whole page again with a success or error message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from ciimap.auth import service as auth
from ciimap.core.deps import Admin, DbSession, Principal
from ciimap.core.errors import Conflict, Invalid
from ciimap.web.i18n import Translator
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)


def _t(request: Request, principal: Principal, key: str, **kw: Any) -> str:
    """A message in the admin's language (for the confirmation and error banners)."""
    return Translator(locale_for(request, principal))(key, **kw)


def _page(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Any:
    return render(
        request,
        "users.html",
        principal,
        status_code=status,
        active="users",
        users=auth.list_users(db),
        tokens=auth.live_token_counts(db),
        roles=auth.ROLES,
        locales=auth.LOCALES,
        min_password=auth.MIN_PASSWORD,
        message=message,
        error=error,
        form=form or {},
    )


def _failed(
    request: Request,
    db: Session,
    principal: Principal,
    e: Invalid | Conflict,
    form: dict[str, str] | None = None,
) -> Any:
    """Show the reason (translated for the rules people meet most); nothing of the change is kept."""
    db.rollback()
    if isinstance(e, auth.LastAdmin):
        message = _t(request, principal, "users.last_admin")
    elif isinstance(e, auth.WeakPassword):
        message = _t(request, principal, "users.password_rule", n=auth.MIN_PASSWORD)
    else:
        message = e.message
    return _page(request, db, principal, error=message, status=e.http_status, form=form)


@router.get("/admin/users")
def users_page(request: Request, db: DbSession, principal: Admin) -> Any:
    return _page(request, db, principal)


@router.post("/admin/users")
def create_user(
    request: Request,
    db: DbSession,
    principal: Admin,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "analyst",
    full_name: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "zh-CN",
) -> Any:
    form = {"username": username, "full_name": full_name, "role": role, "locale": locale}
    try:
        user = auth.create_user(
            db,
            username=username.strip(),
            password=password,
            role=role,
            full_name=full_name.strip() or None,
            locale=locale,
        )
    except (Invalid, Conflict) as e:
        return _failed(request, db, principal, e, form)
    return _page(request, db, principal, message=_t(request, principal, "users.created", name=user.username))


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request, user_id: int, db: DbSession, principal: Admin, role: Annotated[str, Form()]
) -> Any:
    user = auth.get_user_by_id(db, user_id)
    try:
        auth.update_user(db, user=user, role=role)
    except (Invalid, Conflict) as e:
        return _failed(request, db, principal, e)
    return _page(
        request, db, principal, message=_t(request, principal, "users.role_changed", name=user.username)
    )


@router.post("/admin/users/{user_id}/active")
def set_active(
    request: Request, user_id: int, db: DbSession, principal: Admin, active: Annotated[str, Form()]
) -> Any:
    user = auth.get_user_by_id(db, user_id)
    enable = active.lower() in ("true", "on", "1")
    try:
        auth.update_user(db, user=user, is_active=enable)
    except (Invalid, Conflict) as e:
        return _failed(request, db, principal, e)
    key = "users.enabled" if enable else "users.disabled"
    return _page(request, db, principal, message=_t(request, principal, key, name=user.username))


@router.post("/admin/users/{user_id}/password")
def reset_password(
    request: Request, user_id: int, db: DbSession, principal: Admin, password: Annotated[str, Form()]
) -> Any:
    user = auth.get_user_by_id(db, user_id)
    try:
        auth.set_password(db, user, password)
    except Invalid as e:
        return _failed(request, db, principal, e)
    return _page(
        request, db, principal, message=_t(request, principal, "users.password_reset", name=user.username)
    )


@router.post("/admin/users/{user_id}/revoke-tokens")
def revoke_tokens(request: Request, user_id: int, db: DbSession, principal: Admin) -> Any:
    user = auth.get_user_by_id(db, user_id)
    n = auth.revoke_tokens(db, user)
    return _page(
        request,
        db,
        principal,
        message=_t(request, principal, "users.tokens_revoked", name=user.username, n=n),
    )
