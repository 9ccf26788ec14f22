"""Pydantic shapes of channels (secrets write-only), rules, outbox messages and attempts."""

from __future__ import annotations

from pydantic import Field

from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime
from ciimap.notify.models import AttemptStatus, ChannelKind, Grade, MessageStatus


class ChannelCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    url: str = Field(min_length=1, max_length=2000)
    #: Write-only: never returned.
    secret: str | None = Field(None, min_length=1, max_length=500)
    rate_per_minute: int | None = Field(None, ge=0, le=100000)
    full_content: bool | None = None


class ChannelRead(ReadSchema):
    id: int
    name: str
    kind: ChannelKind
    #: The URL with its tokens masked.
    url: str
    has_secret: bool
    rate_per_minute: int
    full_content: bool
    enabled: bool
    created_by: str
    created_at: UtcDateTime


class TestResult(ReadSchema):
    channel: str
    ok: bool
    response_code: int | None
    error: str | None


class RuleCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    channel: str = Field(min_length=1, max_length=100)
    kinds: list[str] = Field(default_factory=list, max_length=50)
    grades: list[str] = Field(default_factory=list, max_length=10)
    #: This grade or more severe (GB/T 20986 order: 特别重大 > 重大 > 较大 > 一般); None: any grade.
    min_grade: Grade | None = None
    system_ids: list[Int32] = Field(default_factory=list, max_length=1000)
    business_service_ids: list[Int32] = Field(default_factory=list, max_length=1000)


class RuleRead(ReadSchema):
    id: int
    name: str
    channel: str
    kinds: list[str]
    grades: list[str]
    min_grade: str | None = None
    system_ids: list[int]
    business_service_ids: list[int]
    enabled: bool


class MessageRead(ReadSchema):
    id: int
    channel: str
    idempotency_key: str
    kind: str
    subject: str
    grade: str | None
    title: str
    status: MessageStatus
    attempts: int
    next_attempt_at: UtcDateTime
    last_error: str | None
    digest_id: int | None
    created_at: UtcDateTime
    sent_at: UtcDateTime | None


class AttemptRead(ReadSchema):
    id: int
    message_id: int
    channel: str
    idempotency_key: str
    at: UtcDateTime
    status: AttemptStatus
    response_code: int | None
    error: str | None
