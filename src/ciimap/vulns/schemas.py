"""API/CLI shapes for feeds, findings, advisories and triage."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, computed_field

from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime
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
    assignee: str | None = None
    due_date: dt.date | None = None
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


class GroupRef(Schema):
    """A whole group of findings: ``by`` advisory (key: its id), asset or system (key: the id, or null)."""

    by: Literal["advisory", "asset", "system"]
    key: str | Int32 | None = None


class FindingFilters(Schema):
    """The findings list's filters; a group in a bulk triage takes only the findings they keep."""

    priority: str | None = None
    asset_id: Int32 | None = None
    system_id: Int32 | None = None
    status: str | None = None
    advisory: str | None = None
    severity: str | None = None
    kev: bool | None = None
    site_id: Int32 | None = None


class BulkTriageIn(Schema):
    """Chosen findings and/or whole groups, and what to set on all of them (state None keeps each state)."""

    finding_ids: Annotated[list[Int32], Field(max_length=5000)] = []
    groups: Annotated[list[GroupRef], Field(max_length=200)] = []
    filters: FindingFilters = FindingFilters()
    state: str | None = None
    justification: str | None = None
    detail: Annotated[str, Field(max_length=2000)] | None = None
    expires: dt.date | None = None
    assignee: Annotated[str, Field(max_length=100)] | None = None
    due_date: dt.date | None = None


class BulkTriageRead(BaseModel):
    findings: int
    decisions: int
    state: str | None
    assignee: str | None
    due_date: str | None
    groups: list[list[Any]]


class FindingGroup(BaseModel):
    key: str | int | None
    label: str | None
    findings: int
    assets: int
    priority: str
    score: float
    kev: bool
    due_date: dt.date | None


class FindingGroupPage(BaseModel):
    by: str
    total: int
    limit: int
    offset: int
    groups: list[FindingGroup]


class FindingPage(ReadSchema):
    items: list[FindingRead]
    total: int
    limit: int
    offset: int
