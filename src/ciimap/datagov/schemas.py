"""Input and output shapes of the data catalogue, grading and registers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, Field, field_validator

from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime
from ciimap.datagov.models import DataLevel, Factor, HolderType, HoldingRole, ImpactDegree, ImpactObject

#: A count of records or people (BIGINT).
Count = Annotated[int, Ge(0), Le(10**15)]


class Impact(Schema):
    """One judgement: which object would be harmed, and how badly (影响对象 × 影响程度)."""

    object: ImpactObject
    degree: ImpactDegree


class GradeIn(Schema):
    impacts: list[Impact] = Field(min_length=1, max_length=18)


class GradeResult(BaseModel):
    """The level of a set of impacts (nothing stored). ``level`` is the Chinese name scripts read."""

    level: str
    level_code: DataLevel
    deciding: Impact
    impacts: list[Impact]
    rules: str
    rationale_zh: str
    rationale_en: str


class ResourceIn(Schema):
    code: str | None = Field(None, min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = Field(None, max_length=4000)
    contains_pi: bool = False
    contains_sensitive_pi: bool = False
    records: Count | None = None
    people: Count | None = None
    owner_id: Int32 | None = None


class ResourceUpdate(Schema):
    code: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=64)
    description: str | None = Field(None, max_length=4000)
    contains_pi: bool | None = None
    contains_sensitive_pi: bool | None = None
    records: Count | None = None
    people: Count | None = None
    owner_id: Int32 | None = None


class ResourceRead(ReadSchema):
    id: int
    code: str | None
    name: str
    category: str | None
    description: str | None
    contains_pi: bool
    contains_sensitive_pi: bool
    records: int | None
    people: int | None
    owner_id: int | None
    level: DataLevel | None
    graded_on: dt.date | None
    review_due: dt.date | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ResourceRow(BaseModel):
    """A row of the catalogue list (what the list page and ``data list --json`` show)."""

    id: int
    code: str | None
    name: str
    category: str | None
    category_name: str | None
    contains_pi: bool
    contains_sensitive_pi: bool
    records: int | None
    people: int | None
    owner: str | None
    level: DataLevel | None
    review_due: dt.date | None
    flags: list[str]


class ResourcePage(BaseModel):
    items: list[ResourceRow]
    total: int
    limit: int
    offset: int


class HoldingIn(Schema):
    holder_type: HolderType
    holder_id: Int32
    role: HoldingRole = "holds"


class HoldingRead(BaseModel):
    id: int
    holder_type: HolderType
    holder_id: int
    holder: str | None
    role: HoldingRole


class FlowIn(Schema):
    src_system_id: Int32 | None = None
    dst_system_id: Int32 | None = None
    recipient: str | None = Field(None, min_length=1, max_length=200)
    cross_border: bool = False
    country: str | None = Field(None, min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
    purpose: str | None = Field(None, max_length=300)

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v


class FlowRead(BaseModel):
    id: int
    resource_id: int
    resource: str
    src_system_id: int | None
    src_system: str | None
    dst_system_id: int | None
    dst_system: str | None
    recipient: str | None
    cross_border: bool
    country: str | None
    purpose: str | None


class GradingIn(Schema):
    impacts: list[Impact] = Field(min_length=1, max_length=18)
    factors: dict[Factor, Annotated[str, Field(max_length=1000)]] = Field(default_factory=dict)
    notes: str | None = Field(None, max_length=4000)
    graded_on: dt.date | None = None
    #: Default: graded_on + the rules' review months for the level.
    review_due: dt.date | None = None


class GradingRead(ReadSchema):
    id: int
    resource_id: int
    round: int
    impacts: list[dict[str, str]]
    level: DataLevel
    deciding: dict[str, str]
    factors: dict[str, str]
    mapping: str
    rationale_zh: str
    rationale_en: str
    notes: str | None
    graded_on: dt.date
    review_due: dt.date | None
    graded_by: str
    created_at: UtcDateTime


class ResourceDetail(BaseModel):
    resource: ResourceRead
    category_name: str | None
    owner: str | None
    flags: list[dict[str, str]]
    holdings: list[HoldingRead]
    flows: list[FlowRead]
    gradings: list[GradingRead]


class SystemMark(BaseModel):
    """What the map shows on a system: the highest level of the data it holds, and counts."""

    system_id: int
    system: str
    level: DataLevel
    core: int
    important: int
    resources: int


class Suggestion(BaseModel):
    """A system whose MLPS S level looks lower than its data implies (a suggestion, never a change)."""

    system_id: int
    system: str
    s_level: int | None
    s_source: str
    data_level: DataLevel
    suggested_min_s: int
    resources: list[str]
    zh: str
    en: str


class RegisterRow(BaseModel):
    id: int
    code: str | None
    name: str
    category: str | None
    category_name: str | None
    level: DataLevel
    contains_pi: bool
    contains_sensitive_pi: bool
    records: int | None
    people: int | None
    owner: str | None
    systems: list[str]
    cross_border: bool
    graded_on: dt.date | None
    review_due: dt.date | None
    rationale: str | None
    flags: list[str]


class AtRisk(BaseModel):
    id: int
    name: str
    level: DataLevel | None
    holders: list[str]


class CategoryRead(BaseModel):
    code: str
    zh: str
    en: str
    parent: str | None
    pi: bool
    sensitive_pi: bool


class RulesRead(BaseModel):
    id: str
    version: str
    title: str | None
    source: str
    levels: dict[str, dict[str, str]]
    review_months: dict[str, int]
    mlps_s_min: dict[str, int]
    thresholds: list[dict[str, Any]]


class ImportQueued(BaseModel):
    job_id: int
    kind: str
    files: list[str]
