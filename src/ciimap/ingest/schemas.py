"""API/CLI shapes of the ingest domain."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime


class RunRead(ReadSchema):
    id: int
    kind: str
    scope: str
    status: str
    files: list[Any]
    meta: dict[str, Any]
    stats: dict[str, Any]
    error: str | None
    created_by: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None


class ChangeRead(ReadSchema):
    id: int
    run_id: int
    asset_id: int | None
    kind: str
    subject: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: UtcDateTime


class ChangePage(ReadSchema):
    items: list[ChangeRead]
    total: int | None
    limit: int
    offset: int


class AssetBrief(ReadSchema):
    id: int
    name: str
    hostname: str | None
    primary_ip: str | None
    kind: str
    lifecycle_status: str
    declared: bool
    source: str
    last_seen: UtcDateTime


class LinkIn(Schema):
    other_asset_id: Int32 | None = None
    key: str | None = None
    value: str | None = None
    note: str | None = Field(None, max_length=300)


class UnlinkIn(Schema):
    key: str
    value: str
    note: str | None = Field(None, max_length=300)


class ImportQueued(ReadSchema):
    job_id: int
    kind: str
    files: list[str]


class SourceRead(Schema):
    """One import source of the registry (``GET /api/sources``, ``ciimap sources --json``)."""

    kind: str
    family: str
    label_zh: str
    label_en: str
    summary: str
    directories: bool
    options: dict[str, Any] = Field(description="JSON Schema of the source's options")
