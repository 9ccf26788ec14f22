"""Pydantic schemas for scan scopes, schedules and discovery requests."""

from __future__ import annotations

from pydantic import Field

from ciimap.core.schemas import ReadSchema, Schema, UtcDateTime

Profile = str  # validated by the service against nmap.PROFILES


class ScopeCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    cidrs: list[str] = Field(min_length=1)
    description: str | None = Field(None, max_length=500)
    allowed_ports: str | None = Field(None, max_length=500)
    max_rate: int = Field(100, ge=1, le=100000)
    enabled: bool = True


class ScopeUpdate(Schema):
    cidrs: list[str] | None = None
    description: str | None = Field(None, max_length=500)
    allowed_ports: str | None = Field(None, max_length=500)
    max_rate: int | None = Field(None, ge=1, le=100000)
    enabled: bool | None = None


class ScopeRead(ReadSchema):
    id: int
    name: str
    description: str | None
    cidrs: list[str]
    allowed_ports: str | None
    max_rate: int
    enabled: bool
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class DiscoverRequest(Schema):
    targets: list[str] = Field(min_length=1, max_length=1000)
    scope: str | None = None
    profile: Profile = "services"
    ports: str | None = Field(None, max_length=500)
    rate: int | None = Field(None, ge=1, le=100000)


class ScheduleCreate(Schema):
    name: str = Field(min_length=1, max_length=100)
    scope: str
    targets: list[str] = Field(default_factory=list, max_length=1000)
    profile: Profile = "services"
    ports: str | None = Field(None, max_length=500)
    rate: int | None = Field(None, ge=1, le=100000)
    interval_minutes: int | None = Field(None, ge=1, le=525600)
    cron: str | None = Field(None, max_length=100)
    enabled: bool = True


class ScheduleRead(ReadSchema):
    id: int
    name: str
    scope_id: int
    targets: list[str]
    profile: str
    ports: str | None
    rate: int | None
    interval_minutes: int | None
    cron: str | None
    enabled: bool
    last_run_at: UtcDateTime | None
    next_run_at: UtcDateTime | None
    last_job_id: int | None
    created_by: str
