"""Read schemas of the audit trail (API and CLI)."""

from __future__ import annotations

from typing import Any

from ciimap.core.schemas import ReadSchema, UtcDateTime


class AuditRead(ReadSchema):
    id: int
    ts: UtcDateTime
    actor: str
    via: str
    request_id: str | None
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None
    hash: str


class VerifyRead(ReadSchema):
    ok: bool
    checked: int
    problems: list[str]
