"""Notification channels, routing rules, the outbox (one row per message and channel) and attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin, utcnow
from ciimap.incidents.models import GRADES, Grade

ChannelKind = Literal["dingtalk", "wecom", "feishu", "email", "webhook"]
CHANNEL_KINDS: tuple[str, ...] = get_args(ChannelKind)
#: Public IM group robots: by default their messages carry the grade and a link only.
IM_KINDS: frozenset[str] = frozenset({"dingtalk", "wecom", "feishu"})

#: ``pending`` (queued or being sent), ``sent``, ``failed`` (gave up after the last retry),
#: ``folded`` (sent as part of a digest message: ``digest_id``).
MessageStatus = Literal["pending", "sent", "failed", "folded"]
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)

AttemptStatus = Literal["ok", "error"]
ATTEMPT_STATUSES: tuple[str, ...] = get_args(AttemptStatus)


#: Incident grades of GB/T 20986 (the 2025 annex, I–IV), most severe first, declared once by the incidents
#: domain: the order a rule's ``min_grade`` threshold compares in. (notify.models → incidents.models is
#: the only edge from notify to incidents: the incident services import notify's services.)
__all__ = ["GRADES", "Grade"]


class NotifyChannel(TimestampMixin, Base):
    """Where messages go. ``target_enc`` (the URL, which itself holds the robot's token) and
    ``secret_enc`` are stored sealed (``notify/sealing.py``) and never shown back; ``display_url``
    is the URL with its tokens masked."""

    __tablename__ = "notify_channel"
    __audited__ = True
    __audit_secret__ = frozenset({"target_enc", "secret_enc"})
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    display_url: Mapped[str] = mapped_column(String(2000))
    target_enc: Mapped[str] = mapped_column(Text)
    secret_enc: Mapped[str | None] = mapped_column(Text)
    #: Messages a minute; NULL = the kind's default (``CIIMAP_NOTIFY_RATE_LIMITS``), 0 = unlimited.
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)
    #: Send the title and body too (default: only on email and webhook channels).
    full_content: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100), default="system")


class NotifyRule(TimestampMixin, Base):
    """Route events to a channel: every non-empty list must contain the event's value, and an event
    matches ``min_grade`` when its grade is that grade or more severe (:data:`GRADES`)."""

    __tablename__ = "notify_rule"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channel.id", ondelete="CASCADE"), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    grades: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: A grade threshold: this grade or more severe (None: any grade).
    min_grade: Mapped[str | None] = mapped_column(String(8))
    system_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    business_service_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class NotifyMessage(Base):
    """One message to one channel: the outbox. Delivered at least once; ``idempotency_key`` is unique
    per channel and sent with every attempt, so a receiver can drop repeats.

    A worker claims a row by moving ``next_attempt_at`` past the lease (``claimed_at`` set); a worker
    killed while sending leaves the row due again when the lease ends, so nothing is lost."""

    __tablename__ = "notify_message"
    __table_args__ = (
        UniqueConstraint("channel_id", "idempotency_key"),
        Index("ix_notify_message_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channel.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    event_kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    grade: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    #: The digest message this one was folded into (rate limit reached).
    digest_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class NotifyAttempt(Base):
    """Every delivery attempt, with the receiver's answer; found by subject (``incident:42``)."""

    __tablename__ = "notify_attempt"
    __table_args__ = (Index("ix_notify_attempt_channel_at", "channel_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notify_message.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(1000))
