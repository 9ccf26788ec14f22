"""API/CLI shapes of the alerts domain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ciimap.alerts.models import AlertEvent, MatchedBy
from ciimap.core.schemas import ReadSchema, UtcDateTime
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
