"""Input and output shapes of grading (定级) and filing (备案)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ciimap.compliance.models import (
    HARM_DEGREES,
    HARM_OBJECTS,
    AdvanceTo,
    Extension,
    GradingState,
    HarmDegree,
    HarmObject,
    ObjectType,
)
from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime

Level = Annotated[int, Ge(1), Le(5)]


class Judgement(Schema):
    """The two judgements: which object is harmed and how badly, for S (业务信息安全) and A (系统服务安全)."""

    s_object: HarmObject
    s_degree: HarmDegree
    a_object: HarmObject
    a_degree: HarmDegree


class GradeResult(BaseModel):
    """Levels and rationale of a pair of judgements (nothing stored)."""

    s_object: HarmObject
    s_degree: HarmDegree
    a_object: HarmObject
    a_degree: HarmDegree
    s_level: int
    a_level: int
    level: int
    matrix: str
    rationale_zh: str
    rationale_en: str


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("extensions must not repeat")
    return values


class GradingIn(Judgement):
    system_id: Int32
    object_type: ObjectType = "information_system"
    extensions: list[Extension] = []
    notes: Annotated[str, Field(max_length=4000)] | None = None
    #: Default: today. The filing deadline counts from it.
    graded_on: dt.date | None = None

    _extensions = field_validator("extensions")(_unique)


class GradingUpdate(Schema):
    """Changes to a draft grading (judgements, type, extensions, notes, date); levels are recomputed."""

    s_object: HarmObject | None = None
    s_degree: HarmDegree | None = None
    a_object: HarmObject | None = None
    a_degree: HarmDegree | None = None
    object_type: ObjectType | None = None
    extensions: list[Extension] | None = None
    notes: Annotated[str, Field(max_length=4000)] | None = None
    graded_on: dt.date | None = None

    @field_validator("extensions")
    @classmethod
    def _ext(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _unique(v)


class AdvanceIn(Schema):
    """One step forward: ``review`` (专家评审), ``approved`` (主管部门核准), ``filed`` (公安机关备案) or ``withdrawn``."""

    to: AdvanceTo
    #: The day the step happened (default: today); never before the previous step, never in the future.
    on: dt.date | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None
    #: 主管部门 (``approved``).
    authority: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    #: ``filed`` straight from ``review``: the organisation has no 主管部门.
    skip_approval: bool = False
    filing_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    filing_date: dt.date | None = None
    police_unit: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _fields_of_the_step(self) -> AdvanceIn:
        filing = {
            "filing_number": self.filing_number,
            "filing_date": self.filing_date,
            "police_unit": self.police_unit,
        }
        if self.to == "filed":
            missing = [k for k, v in filing.items() if v is None]
            if missing:
                raise ValueError(f"filing needs {', '.join(missing)}")
        elif any(v is not None for v in filing.values()):
            raise ValueError("filing_number, filing_date and police_unit go with to=filed only")
        if self.authority is not None and self.to != "approved":
            raise ValueError("authority goes with to=approved only")
        if self.skip_approval and self.to != "filed":
            raise ValueError("skip_approval goes with to=filed only")
        return self


class Step(BaseModel):
    state: GradingState
    on: dt.date
    by: str
    at: UtcDateTime
    note: str | None = None


class GradingWarning(BaseModel):
    """A guidance rule the grading does not meet: shown, never blocking."""

    code: str
    zh: str
    en: str
    system_id: int | None = None
    system: str | None = None
    level: int | None = None


class GradingRead(ReadSchema):
    id: int
    system_id: int
    system: str
    is_cii: bool
    round: int
    state: GradingState
    #: True for the round whose level the system carries now (its latest filed round).
    current: bool
    object_type: ObjectType
    extensions: list[Extension]
    s_object: HarmObject
    s_degree: HarmDegree
    a_object: HarmObject
    a_degree: HarmDegree
    s_level: int
    a_level: int
    level: int
    matrix: str
    rationale_zh: str
    rationale_en: str
    notes: str | None
    graded_on: dt.date
    filing_due: dt.date | None
    due_rule: str
    #: ``overdue`` (past ``filing_due``) or ``upcoming`` while the round is open and has a deadline, else None.
    due_status: str | None
    days_left: int | None
    steps: list[Step]
    authority: str | None
    approval_skipped: bool
    filing_number: str | None
    filing_date: dt.date | None
    police_unit: str | None
    warnings: list[GradingWarning]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class MatrixFile(BaseModel):
    """A grading matrix file (the built-in one is ``compliance/matrices/gbt22240-2020.json``)."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=60)]
    version: Annotated[str, Field(min_length=1, max_length=30)]
    title: str | None = None
    note: str | None = None
    #: object harmed → degree → level (1–5); every object and degree must be present.
    levels: dict[HarmObject, dict[HarmDegree, Level]]

    @model_validator(mode="after")
    def _complete(self) -> MatrixFile:
        for obj in HARM_OBJECTS:
            row = self.levels.get(obj)  # type: ignore[call-overload]
            if row is None:
                raise ValueError(f"levels: object {obj!r} is missing")
            missing = [d for d in HARM_DEGREES if d not in row]
            if missing:
                raise ValueError(f"levels.{obj}: degree(s) {', '.join(missing)} missing")
        return self


class MatrixRead(MatrixFile):
    #: "built-in" or the path of the file that replaced it (CIIMAP_GRADING_MATRIX).
    source: str


# --- evidence from the map (compliance/evidence.py; docs/compliance-evidence.md) ---------------------


class EvidenceRecord(BaseModel):
    """A map record behind a proposal (``asset``, ``endpoint``, ``finding``, ``zone``, ``supplier``,
    ``product``, ``redundancy_group``) and what it showed; some carry more (``path``, ``asset_id``...)."""

    model_config = ConfigDict(extra="allow")
    type: str
    id: int | str
    label: str
    why: str


class EvidenceItem(BaseModel):
    """A catalog item as it applies to the system (``id`` at its level; ``key`` the stable key)."""

    id: str
    key: str
    catalog: str
    category: str
    category_en: str
    control_point: str
    control_point_en: str
    summary_zh: str
    summary_en: str


class EvidenceProposal(BaseModel):
    rule: str
    title_zh: str
    title_en: str
    items: list[EvidenceItem]
    #: pass (符合) / partial (部分符合) / fail (不符合) / no_evidence (无证据): a proposal, never a stored result
    result: str
    result_zh: str
    explanation_zh: str
    explanation_en: str
    counts: dict[str, int]
    records: list[EvidenceRecord]
    records_total: int


class EvidenceSystem(BaseModel):
    id: int
    name: str
    code: str | None
    level: int | None
    s_level: int | None
    a_level: int | None
    is_cii: bool
    extensions: list[str]


class SystemEvidence(BaseModel):
    system: EvidenceSystem
    graded: bool
    #: the map version the proposals were computed for (they are recomputed when it changes)
    version: str
    rules_source: str
    counts: dict[str, int]
    proposals: list[EvidenceProposal]


class EvidenceSummaryRow(BaseModel):
    system: EvidenceSystem
    graded: bool
    results: dict[str, str]
    items: int
    counts: dict[str, int]


class EvidenceSummary(BaseModel):
    version: str
    rules_source: str
    systems: list[EvidenceSummaryRow]
