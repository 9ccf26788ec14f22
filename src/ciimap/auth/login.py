"""The one login path — API token login and the web form: throttling and the audit of failures.

Throttling: each failed login counts against the username and against the client address (rows of
``login_throttle``, in the database so that every server process and both backends share them).
After ``login_max_failures`` failures of a username (``login_max_failures_per_address`` of an
address) the next attempt must wait ``login_delay_seconds``; every further failure doubles the
wait, up to ``login_max_delay_seconds``. Counts are forgotten ``login_window_minutes`` after the
last failure, and a successful login clears its username's count. A refused attempt (429 with
``Retry-After``) never reaches the password check, so waiting is the only way on.

Every failure — unknown user, wrong password, disabled user, throttled — is an audit record
(``login_failed``: username, address, reason; never the password) written in its own short
transaction, like job progress: the request's unit of work rolls back when the API answers
401/429, and the record and the count must outlive it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, case, delete, or_, select, update
from sqlalchemy.orm import Session

from ciimap.auth import service
from ciimap.auth.models import LoginThrottle, User
from ciimap.config import get_settings
from ciimap.core import audit
from ciimap.core.audit import Actor, bind_actor
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import NotAuthenticated, TooManyAttempts

if TYPE_CHECKING:
    from starlette.requests import Request

FAILED = "login_failed"
_T = cast(Table, LoginThrottle.__table__)
_KEY_CHARS = 128


@dataclass(frozen=True)
class Attempt:
    """Who tries to log in, from where, through which interface ("api" or "web")."""

    username: str
    address: str | None
    via: str
    request_id: str | None = None


def attempt_from(request: Request, username: str, *, via: str) -> Attempt:
    """The attempt of an HTTP request: the peer's address (``ciimap serve`` trusts no proxy headers)."""
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
    return Attempt(username, request.client.host if request.client else None, via, rid[:64])


def _key(value: str) -> str:
    """Column-sized key: long values (an attacker picks the username) become a digest."""
    return value if len(value) <= _KEY_CHARS else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _keys(attempt: Attempt) -> list[tuple[str, str, int]]:
    """(scope, key, failures allowed) for the username and, when known, the client address; a limit
    of 0 turns that throttle off (e.g. the address one behind a reverse proxy)."""
    settings = get_settings()
    keys = [("user", _key(attempt.username), settings.login_max_failures)]
    if attempt.address:
        keys.append(("address", _key(attempt.address), settings.login_max_failures_per_address))
    return [k for k in keys if k[2] > 0]


def _aware(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def wait_seconds(session: Session, attempt: Attempt, now: dt.datetime) -> int:
    """Seconds this attempt must still wait (0: it may try)."""
    which = or_(*(and_(_T.c.scope == scope, _T.c.key == key) for scope, key, _n in _keys(attempt)))
    until = [_aware(u) for u in session.scalars(select(_T.c.locked_until).where(which)) if u is not None]
    latest = max(until, default=now)
    return math.ceil((latest - now).total_seconds()) if latest > now else 0


def _upsert(session: Session) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE (both SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_T)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(_T)


def note_failure(session: Session, attempt: Attempt, now: dt.datetime) -> None:
    """Count one failure per key (one atomic upsert each: concurrent failures never lose a count)."""
    settings = get_settings()
    forgotten = now - dt.timedelta(minutes=settings.login_window_minutes)
    for scope, key, allowed in _keys(attempt):
        stmt = _upsert(session).values(
            scope=scope, key=key, failures=1, last_failure_at=now, locked_until=None
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[_T.c.scope, _T.c.key],
            set_={
                "failures": case((_T.c.last_failure_at < forgotten, 1), else_=_T.c.failures + 1),
                "last_failure_at": now,
            },
        ).returning(_T.c.failures)
        failures = int(session.execute(stmt).scalar_one())
        if failures >= allowed:
            delay = min(
                settings.login_delay_seconds * 2 ** min(failures - allowed, 30),
                settings.login_max_delay_seconds,
            )
            session.execute(
                update(_T)
                .where(_T.c.scope == scope, _T.c.key == key)
                .values(locked_until=now + dt.timedelta(seconds=delay))
            )


def clear(session: Session, username: str) -> None:
    """Forget a username's failures (a successful login; an admin unlocking it)."""
    session.execute(delete(_T).where(_T.c.scope == "user", _T.c.key == _key(username)))


def _record(
    attempt: Attempt, reason: str, *, user_id: int | None, now: dt.datetime, retry_after: int | None = None
) -> None:
    """Audit a failed attempt (and count it, unless it was refused unchecked) in its own transaction."""
    after: dict[str, object] = {
        "username": attempt.username[:64],
        "address": attempt.address,
        "reason": reason,
    }
    if retry_after is not None:
        after["retry_after"] = retry_after
    with get_database().unit_of_work() as s:
        bind_actor(s, Actor("anonymous", request_id=attempt.request_id, via=attempt.via))
        if retry_after is None:
            note_failure(s, attempt, now)
        audit.record(s, FAILED, "user_account", user_id, after=after)


def login(session: Session, attempt: Attempt, password: str) -> User:
    """Check a login; raises ``TooManyAttempts`` (429) or ``NotAuthenticated`` (401), both audited."""
    now = utcnow()
    wait = wait_seconds(session, attempt, now)
    if wait:
        _record(attempt, "throttled", user_id=None, now=now, retry_after=wait)
        raise TooManyAttempts(f"too many failed logins: try again in {wait} s", retry_after=wait)
    user, reason = service.check_credentials(session, attempt.username, password)
    if reason is not None or user is None:
        _record(attempt, reason or "unknown_user", user_id=user.id if user else None, now=now)
        raise NotAuthenticated("wrong username or password")
    clear(session, attempt.username)
    return user
