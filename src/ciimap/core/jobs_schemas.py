"""Read schema of a background job (API, CLI and pages)."""

from __future__ import annotations

from typing import Any

from ciimap.core.schemas import ReadSchema, UtcDateTime


class JobRead(ReadSchema):
    id: int
    kind: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    progress: int
    total: int | None
    message: str | None
    created_by: str
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
