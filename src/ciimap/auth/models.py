from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin
from ciimap.inventory import models as _inventory  # noqa: F401 - user_account.organization_id → organization

#: ``regulator``: a protection department (保护工作部门), read-only, sees the roll-up across operators.
Role = Literal["admin", "analyst", "auditor", "regulator"]
ROLES: tuple[str, ...] = get_args(Role)


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    __audited__ = True
    __audit_secret__ = frozenset({"password_hash"})
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="analyst")
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: A user bound to an organisation sees only its incidents and reports (None: every organisation).
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))


class ApiToken(TimestampMixin, Base):
    """Bearer token for scripts. Only a SHA-256 of the random secret is stored."""

    __tablename__ = "api_token"
    __audited__ = True
    __audit_secret__ = frozenset({"token_hash"})
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """Cookie session of the web UI; the cookie holds a random secret, the table its hash."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Recent failed logins of one username or one client address (login throttling).

    In the database, not in memory: every server process (``ciimap serve`` runs several) and every
    backend sees the same counts. Not audited itself: each failure is its own audit record.
    """

    __tablename__ = "login_throttle"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # "user" or "address"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
