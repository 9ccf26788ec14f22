"""API/CLI shapes of the intel domain."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ciimap.core.schemas import ReadSchema, UtcDateTime
from ciimap.intel.models import IndicatorType, Tlp


class IndicatorRead(ReadSchema):
    id: int
    type: IndicatorType
    value: str
    hash_algo: str | None
    source: str
    source_ref: str
    producer: str | None
    context: str | None
    name: str | None
    tlp: Tlp | None
    confidence: int | None
    valid_from: UtcDateTime | None
    valid_until: UtcDateTime | None
    labels: list[str]
    cves: list[str]
    note: str | None
    active: bool = Field(description="matchable now: a matched type, started and not expired")


class IndicatorDetail(IndicatorRead):
    raw: dict[str, Any]
    run_id: int
    alerts: int = Field(description="stored alerts whose intel_matches hold this value")
    assets: list[dict[str, Any]] = Field(
        description="assets on either side of those alerts (id, name, alerts)"
    )
    advisories: list[dict[str, Any]] = Field(description="stored advisories of the CVEs named with it")
    findings: list[dict[str, Any]] = Field(description="active findings of those advisories (asset, package)")


class IntelImportQueued(BaseModel):
    job_id: int
    kind: str
    files: list[str]
