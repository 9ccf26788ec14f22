"""API/CLI shapes of the alerts domain."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ciimap.alerts.models import AlertEvent, MatchedBy, WarningLevel, WarningRuleKind, WarningState
from ciimap.core.schemas import Int32, ReadSchema, Schema, Text, UtcDateTime
from ciimap.inventory.models import Criticality


class AlertRead(ReadSchema):
    id: int
    time: UtcDateTime
    kind: str
    event: AlertEvent
    sensor: str | None
    rule_id: str | None
    rule_name: str | None
    raw_severity: str | None
    severity: Criticality
    priority: Criticality
    priority_reasons: list[str]
    src_ip: str | None
    src_port: int | None
    dest_ip: str | None
    dest_port: int | None
    proto: str | None
    cves: list[str]
    src_asset_id: int | None
    dest_asset_id: int | None
    src_zone_id: int | None
    dest_zone_id: int | None
    src_matched_by: MatchedBy | None
    dest_matched_by: MatchedBy | None
    system_ids: list[int]
    service_ids: list[int]
    reject: str | None
    run_id: int
    intel_matches: list[str] = Field(
        default_factory=list,
        description="active threat-intelligence indicator values the alert names (docs/intel.md)",
    )


class AlertDetail(AlertRead):
    raw: str
    line_no: int | None
    src_internal: bool
    dest_internal: bool
    mapping: dict[str, Any] = Field(
        description="src/dest (asset, zone, matched_by), systems and services by name"
    )


class CandidateRead(BaseModel):
    """An internal address seen in alerts that matches no asset (an unmanaged-asset candidate)."""

    ip: str
    alerts: int
    first_seen: UtcDateTime
    last_seen: UtcDateTime
    zone_id: int | None


class AlertImportQueued(BaseModel):
    job_id: int
    kind: str
    files: list[str]


class GroupRead(BaseModel):
    """Alerts of one (source kind, rule) on one target from one attacker within the window."""

    id: int
    kind: str
    rule_id: str | None
    rule_name: str | None
    target_asset_id: int | None
    target_ip: str | None
    attacker_ip: str | None
    zone_id: int | None
    first_seen: UtcDateTime
    last_seen: UtcDateTime
    count: int
    open_count: int = Field(description="alerts not suppressed")
    suppressed_count: int
    severity: Criticality = Field(description="the highest of its alerts")
    priority: Criticality = Field(description="the highest of its alerts")
    sample_ids: list[int]
    system_ids: list[int]
    service_ids: list[int]


class SuppressionCreate(Schema):
    """Exactly one target: ``asset_id`` or ``address`` (a rule is never suppressed everywhere)."""

    rule_id: Text = Field(min_length=1, max_length=64)
    reason: Text = Field(min_length=1, max_length=500)
    asset_id: Int32 | None = None
    address: Text | None = Field(None, max_length=45)
    attacker_ip: Text | None = Field(None, max_length=45)
    kind: Text | None = Field(None, max_length=16, description="only alerts of this source kind")
    expires_at: UtcDateTime | None = None


class SuppressionRead(BaseModel):
    id: int
    rule_id: str
    kind: str | None
    asset_id: int | None
    address: str | None
    attacker_ip: str | None
    reason: str
    created_by: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    active: bool


class WarningRead(BaseModel):
    """An early warning (预警); incidents are opened from these (stable ``id``)."""

    id: int
    rule: str
    rule_kind: WarningRuleKind | Literal["sigma"] = Field(description="a warning-rules kind, or sigma")
    level: WarningLevel
    level_zh: str
    title: str
    scope: str = Field(description="what it is deduplicated on while not closed, e.g. asset:7")
    asset_ids: list[int]
    system_ids: list[int]
    service_ids: list[int]
    first_alert_id: int
    last_alert_id: int
    first_alert_at: UtcDateTime
    last_alert_at: UtcDateTime
    count: int
    details: dict[str, Any]
    state: WarningState
    acknowledged_by: str | None
    acknowledged_at: UtcDateTime | None
    closed_by: str | None
    closed_at: UtcDateTime | None
    created_at: UtcDateTime


class WarningEvaluated(BaseModel):
    rules: int
    opened: int
    updated: int


class WarningLevelRead(BaseModel):
    level: WarningLevel
    zh: str
    meaning: str
