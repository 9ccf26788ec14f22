"""API/CLI shapes for feeds, findings, advisories and triage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import computed_field

from ciimap.core.schemas import ReadSchema, Schema, UtcDateTime
from ciimap.vulns import scoring


class FeedImportRead(ReadSchema):
    id: int
    kind: str
    source: str
    snapshot_date: dt.date
    checksum: str
    records: int
    imported_at: UtcDateTime
    imported_by: str
    seconds: float | None
    latest: bool
    warning: str | None


class FindingRead(ReadSchema):
    id: int
    target_type: str
    software_id: int | None
    endpoint_id: int | None
    asset_id: int | None
    system_id: int | None
    advisory_id: str
    cve_ids: list[str]
    package: str
    version: str | None
    match_kind: str
    confidence: str
    evidence: dict[str, Any]
    score: float
    priority: str
    factors: list[Any]
    due_date: dt.date | None
    first_matched: UtcDateTime
    last_matched: UtcDateTime
    active: bool
    status: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        return scoring.explain(self.factors, "en")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation_zh(self) -> str:
        return scoring.explain(self.factors, "zh")


class AdvisoryRead(ReadSchema):
    advisory_id: str
    source: str
    aliases: list[str]
    summary: str | None
    severity: str | None
    cvss_vector: str | None
    cvss_score: float | None
    published: UtcDateTime | None
    modified: UtcDateTime | None
    withdrawn: bool
    references: list[str]
    extra: dict[str, Any]


class TriageRead(ReadSchema):
    key: str
    scope_type: str
    scope_id: int
    package: str
    advisory_id: str
    state: str
    justification: str | None
    detail: str | None
    expires: dt.date | None
    version: str | None
    actor: str
    updated_at: UtcDateTime
    history: list[Any]


class KevRead(ReadSchema):
    cve_id: str
    name: str | None
    date_added: dt.date | None
    due_date: dt.date | None
    ransomware: bool


class EpssRead(ReadSchema):
    cve_id: str
    epss: float
    percentile: float | None
    score_date: dt.date | None


class FindingDetail(ReadSchema):
    finding: FindingRead
    advisory: AdvisoryRead | None
    triage: TriageRead | None
    kev: KevRead | None
    epss: EpssRead | None
    linked: list[AdvisoryRead]


class SoftwareRef(ReadSchema):
    id: int
    name: str
    version: str | None
    purl: str | None
    asset_id: int | None
    system_id: int | None


class WhereRead(ReadSchema):
    query: str
    kind: str
    advisories: list[AdvisoryRead]
    findings: list[FindingRead]
    components: list[SoftwareRef]


class TriageIn(Schema):
    state: str
    justification: str | None = None
    detail: str | None = None
    expires: dt.date | None = None


class FindingPage(ReadSchema):
    items: list[FindingRead]
    total: int
    limit: int
    offset: int
