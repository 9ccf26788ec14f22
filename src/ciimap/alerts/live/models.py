"""Tables of the live alert inputs (migration branch ``alertsin``): where each followed file was read
to, and the webhook tokens. The alerts themselves go to the alerts domain's tables, unchanged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin


class AlertFollow(Base):
    """A followed file's position, written in the same transaction as the alerts read up to it: a
    restart resumes there, without duplicates or loss."""

    __tablename__ = "alert_follow"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The file's absolute path (one position per path).
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: ``device:inode`` of the file the offset belongs to: another identity means the file was rotated.
    identity: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger)
    #: Lines read from this identity so far (the next line's number is ``lines + 1``).
    lines: Mapped[int] = mapped_column(BigInteger, default=0)
    run_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AlertWebhookToken(TimestampMixin, Base):
    """A bearer token for ``POST /api/alerts/webhook/{source}``: only its SHA-256 is stored; the secret is
    shown once, when an admin creates it. It allows posting alerts (of one source, if set) and nothing
    else."""

    __tablename__ = "alert_webhook_token"
    __audited__ = True
    __audit_secret__ = frozenset({"token_hash"})
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: The one alert source kind the token may post (``None``: any).
    source: Mapped[str | None] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
