"""Password, token and session logic. No web or CLI imports."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from ciimap.auth.models import ROLES, ApiToken, User, WebSession
from ciimap.core.db import utcnow
from ciimap.core.errors import Conflict, Invalid, NotAuthenticated, NotFound, PermissionDenied
from ciimap.inventory.models import Organization

_hasher = PasswordHasher()
TOKEN_PREFIX = "cii_"  # noqa: S105 — marks our tokens for secret scanners

# What each role may do. "read" covers every GET; "write" changes map data; "admin" manages users,
# scopes, scans and settings; "audit" reads the audit trail.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "admin", "audit"}),
    "analyst": frozenset({"read", "write"}),
    "auditor": frozenset({"read", "audit"}),
    "regulator": frozenset({"read"}),
}


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    locale: str
    csrf_token: str | None = None  # set for cookie sessions
    organization_id: int | None = None  # bound to one organisation (incidents and reports)

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"role '{self.role}' may not {permission}")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def _principal(user: User, csrf: str | None = None) -> Principal:
    return Principal(user.id, user.username, user.role, user.locale, csrf, user.organization_id)


LOCALES = ("zh-CN", "en")
MIN_PASSWORD = 8


class WeakPassword(Invalid):
    """The password breaks the rules (pages show a translated message for it)."""


class LastAdmin(Conflict):
    """The change would leave no active admin (pages show a translated message for it)."""


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise Invalid(f"unknown language '{locale}' (choose from {', '.join(LOCALES)})")


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"password must have at least {MIN_PASSWORD} characters")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str = "analyst",
    full_name: str | None = None,
    locale: str = "zh-CN",
    organization_id: int | None = None,
) -> User:
    if role not in ROLES:
        raise Invalid(f"unknown role '{role}' (choose from {', '.join(ROLES)})")
    if not username or len(username) > 64:
        raise Invalid("username must have 1 to 64 characters")
    _check_locale(locale)
    validate_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user '{username}' already exists")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} does not exist")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        full_name=full_name,
        locale=locale,
        organization_id=organization_id,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def get_user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password and end the user's web sessions (a reset must lock out an old login)."""
    validate_password(password)
    user.password_hash = _hasher.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def _guard_last_admin(session: Session, user: User, *, role: str, is_active: bool) -> None:
    """Refuse a change that would leave no active admin (nobody could manage users any more)."""
    if not (user.role == "admin" and user.is_active) or (role == "admin" and is_active):
        return
    others = (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
        )
        or 0
    )
    if not others:
        what = "disable" if not is_active else "demote"
        raise LastAdmin(f"cannot {what} '{user.username}': it is the last active admin")


def update_user(
    session: Session,
    *,
    user: User,
    role: str | None = None,
    full_name: str | None = None,
    locale: str | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    fields_set: set[str] | None = None,
) -> User:
    """Change a user's role, name, language, active flag or password (ORM changes: audited).

    ``fields_set`` names the fields given (so ``full_name=None`` can clear the name); by default
    every non-None argument is applied.
    """
    given = (
        fields_set
        if fields_set is not None
        else {
            k
            for k, v in (
                ("role", role),
                ("full_name", full_name),
                ("locale", locale),
                ("is_active", is_active),
                ("password", password),
            )
            if v is not None
        }
    )
    new_role = role if "role" in given and role is not None else user.role
    if new_role not in ROLES:
        raise Invalid(f"unknown role '{new_role}' (choose from {', '.join(ROLES)})")
    new_active = is_active if "is_active" in given and is_active is not None else user.is_active
    _guard_last_admin(session, user, role=new_role, is_active=new_active)
    if "password" in given and password is not None:
        set_password(session, user, password)
    if "full_name" in given:
        user.full_name = full_name
    if "locale" in given and locale is not None:
        _check_locale(locale)
        user.locale = locale
    user.role, user.is_active = new_role, new_active
    session.flush()
    return user


def set_locale(session: Session, *, user_id: int, locale: str) -> None:
    """Change one user's UI language (the caller's own preference: any role may)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user no longer exists")
    _check_locale(locale)
    user.locale = locale
    session.flush()


def live_token_counts(session: Session) -> dict[int, int]:
    """Per user id: API tokens neither revoked nor expired (for the users page)."""
    live = (ApiToken.revoked.is_(False)) & (ApiToken.expires_at.is_(None) | (ApiToken.expires_at > utcnow()))
    rows = session.execute(select(ApiToken.user_id, func.count()).where(live).group_by(ApiToken.user_id))
    return {int(uid): int(n) for uid, n in rows}


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every live API token of a user; returns how many (each revocation is audited)."""
    tokens = list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False)))
    )
    for tok in tokens:
        tok.revoked = True
    session.flush()
    return len(tokens)


def check_credentials(session: Session, username: str, password: str) -> tuple[User | None, str | None]:
    """``(user, None)`` when the password is right (the login is noted on the user); otherwise the
    user (or None) and why not: ``unknown_user``, ``disabled`` or ``wrong_password``. Callers log in
    through :func:`ciimap.auth.login.login`, which throttles and audits the failures."""
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.is_active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend the same time on unknown users so timing does not reveal which names exist.
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password)
    if user is None:
        return None, "unknown_user"
    if not user.is_active:
        return user, "disabled"
    if not ok:
        return user, "wrong_password"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login = utcnow()
    return user, None


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (same time as a real check). Made on first
    use: hashing at import cost every CLI command ~0.1 s."""
    return _hasher.hash("not-a-real-password")


def create_token(session: Session, user: User, name: str, *, days: int | None = None) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=days) if days else None
    tok = ApiToken(
        user_id=user.id, name=name, prefix=secret[:10], token_hash=_sha256(secret), expires_at=expires
    )
    session.add(tok)
    session.flush()
    return tok, secret


_TOKEN_LOOKUP = (
    select(
        ApiToken.revoked,
        ApiToken.expires_at,
        User.id,
        User.username,
        User.role,
        User.locale,
        User.is_active,
        User.organization_id,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("h"))
)
_SESSION_LOOKUP = (
    select(
        WebSession.expires_at,
        WebSession.csrf_token,
        User.id,
        User.username,
        User.role,
        User.locale,
        User.is_active,
        User.organization_id,
    )
    .join(User, User.id == WebSession.user_id)
    .where(WebSession.token_hash == bindparam("h"))
)


def principal_from_token(session: Session, secret: str) -> Principal:
    """One indexed lookup per request (built once: this runs before every API call)."""
    row = session.connection().execute(_TOKEN_LOOKUP, {"h": _sha256(secret)}).first()
    if row is None or row.revoked or (row.expires_at and _aware(row.expires_at) < utcnow()):
        raise NotAuthenticated("invalid or expired API token")
    if not row.is_active:
        raise NotAuthenticated("token owner is disabled")
    return Principal(row.id, row.username, row.role, row.locale, None, row.organization_id)


def create_session(session: Session, user: User, hours: int) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=_sha256(secret),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return secret, csrf


def principal_from_session(session: Session, secret: str) -> Principal:
    row = session.connection().execute(_SESSION_LOOKUP, {"h": _sha256(secret)}).first()
    if row is None or _aware(row.expires_at) < utcnow():
        raise NotAuthenticated("session expired, please log in again")
    if not row.is_active:
        raise NotAuthenticated("account disabled")
    return Principal(row.id, row.username, row.role, row.locale, row.csrf_token, row.organization_id)


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _sha256(secret)))


def check_csrf(principal: Principal, presented: str | None) -> None:
    if principal.csrf_token is None:
        return
    if not presented or not hmac.compare_digest(principal.csrf_token, presented):
        raise PermissionDenied("missing or wrong CSRF token")
