"""API/CLI shapes of the live alert inputs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ciimap.core.schemas import ReadSchema, Schema, UtcDateTime

TokenState = Literal["active", "revoked", "expired"]


class WebhookTokenCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    #: The one alert source kind the token may post (suricata, wazuh, syslog, cef); unset: any.
    source: str | None = Field(None, max_length=16)
    days: int | None = Field(None, ge=1, le=3650, description="expires after this many days (unset: never)")


class WebhookTokenRead(ReadSchema):
    id: int
    name: str
    source: str | None
    prefix: str
    state: TokenState
    created_by: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None


class WebhookTokenCreated(WebhookTokenRead):
    #: The bearer secret: shown in this answer only, never again.
    token: str


class WebhookResult(ReadSchema):
    run_id: int
    kind: str
    events: int
    rejected: int
    skipped: int
    mapped: int
    candidates: int
