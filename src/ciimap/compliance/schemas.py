"""Input and output shapes of grading (定级) and filing (备案)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ciimap.compliance.models import (
    HARM_DEGREES,
    HARM_OBJECTS,
    AdvanceTo,
    AssessmentKind,
    AssessmentState,
    Conclusion,
    Extension,
    GradingState,
    HarmDegree,
    HarmObject,
    LinkOwner,
    LinkTarget,
    Method,
    ObjectKind,
    ObjectType,
    ObligationKind,
    ObligationState,
    RecordedKind,
    RectStatus,
    ResultCode,
    RiskLevel,
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


# --- assessment (测评), scoring and rectification (整改) ------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=200)]
Note = Annotated[str, Field(max_length=4000)]
ItemRef = Annotated[str, Field(min_length=1, max_length=80)]
Cycle = Annotated[str, Field(pattern=r"^\d{4}(-(H[12]|Q[1-4]))?$")]


class LinkRef(Schema):
    """A map record: ``asset``, ``finding``, ``supplier`` (a vendor), ``system`` or ``contact`` by id."""

    target_type: LinkTarget
    target_id: Int32


class AssessmentIn(Schema):
    system_id: Int32
    kind: AssessmentKind = "self"
    #: 测评机构: needed for ``external``.
    body: Name | None = None
    #: Default: the cycle of ``started_on`` by the level's rule (``2026``, ``2026-H2``).
    cycle: Cycle | None = None
    #: Default: today.
    started_on: dt.date | None = None
    catalog: Annotated[str, Field(min_length=1, max_length=40)] = "22239-2019"
    notes: Note | None = None
    #: Add every asset of the system as a test object.
    include_assets: bool = False

    @model_validator(mode="after")
    def _body(self) -> AssessmentIn:
        if self.kind == "external" and not self.body:
            raise ValueError("an assessment by an outside body (kind external) needs the body's name")
        if self.kind == "self" and self.body:
            raise ValueError("body goes with kind external only")
        return self


class TestObjectIn(Schema):
    """An asset of the map (``asset_id``) or a named object (``name`` with a ``kind``)."""

    __test__ = False
    asset_id: Int32 | None = None
    name: Name | None = None
    kind: ObjectKind | None = None
    description: Note | None = None

    @model_validator(mode="after")
    def _one(self) -> TestObjectIn:
        if self.asset_id is None and not self.name:
            raise ValueError("give asset_id or a name")
        if self.asset_id is not None and self.kind not in (None, "asset"):
            raise ValueError("an object with asset_id is of kind asset")
        if self.asset_id is None and self.kind == "asset":
            raise ValueError("kind asset needs asset_id")
        return self


class ResultIn(Schema):
    """One item × test object: ``item`` is the item's id (``22239-2019:8.1.4.1.a``) or its stable key."""

    item: ItemRef
    object_id: Int32
    result: ResultCode
    method: Method | None = None
    assessor: Annotated[str, Field(max_length=100)] | None = None
    notes: Note | None = None
    links: Annotated[list[LinkRef], Field(max_length=50)] = []


class BulkIn(Schema):
    """One result for many items × objects: the items named (or all, narrowed by category / control
    point) on the objects named (or all)."""

    result: ResultCode
    method: Method | None = None
    assessor: Annotated[str, Field(max_length=100)] | None = None
    notes: Note | None = None
    items: Annotated[list[ItemRef], Field(max_length=5000)] | None = None
    category: Annotated[str, Field(max_length=60)] | None = None
    control_point: Annotated[str, Field(max_length=60)] | None = None
    object_ids: Annotated[list[Int32], Field(max_length=5000)] | None = None
    #: Leave pairs that have a result alone.
    only_unset: bool = False


class RiskIn(Schema):
    level: RiskLevel
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    item: ItemRef | None = None
    object_id: Int32 | None = None
    compensating: Note | None = None
    links: Annotated[list[LinkRef], Field(max_length=50)] = []


class LinkIn(LinkRef):
    owner_type: LinkOwner
    owner_id: Int32


class CloseIn(Schema):
    #: Default: today.
    closed_on: dt.date | None = None


class RectificationIn(Schema):
    """A rectification of a 不符合 / 部分符合 result (``result_id``) or of a high or medium risk (``risk_id``)."""

    result_id: Int32 | None = None
    risk_id: Int32 | None = None
    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    #: The owner: a contact of the map, or free text.
    owner_contact_id: Int32 | None = None
    owner: Name | None = None
    plan: Note | None = None
    due_date: dt.date | None = None
    links: Annotated[list[LinkRef], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _source(self) -> RectificationIn:
        if (self.result_id is None) == (self.risk_id is None):
            raise ValueError("give exactly one of result_id and risk_id")
        return self


class RectificationUpdate(Schema):
    status: RectStatus | None = None
    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    owner_contact_id: Int32 | None = None
    owner: Name | None = None
    plan: Note | None = None
    due_date: dt.date | None = None
    verification_note: Note | None = None


class LinkRead(ReadSchema):
    id: int
    owner_type: LinkOwner
    owner_id: int
    target_type: LinkTarget
    target_id: int


class EvidenceRead(ReadSchema):
    id: int
    result_id: int
    filename: str
    sha256: str
    size: int
    uploaded_by: str
    created_at: UtcDateTime


class ResultRead(BaseModel):
    id: int
    assessment_id: int
    item_id: str
    item_key: str
    object_id: int
    object: str
    result: ResultCode
    result_zh: str
    method: Method | None
    assessor: str | None
    notes: str | None
    updated_at: UtcDateTime
    #: Rectification items a 符合 result verified (ids).
    verified_rectifications: list[int] = []
    evidence: list[EvidenceRead] = []
    links: list[LinkRead] = []


class TestObjectRead(ReadSchema):
    __test__ = False
    id: int
    assessment_id: int
    kind: ObjectKind
    asset_id: int | None
    name: str
    description: str | None


class RiskRead(BaseModel):
    id: int
    assessment_id: int
    level: RiskLevel
    item_id: str | None
    object_id: int | None
    description: str
    compensating: str | None
    links: list[LinkRead] = []


class CellRead(BaseModel):
    """A result in the workspace grid (its evidence, links and times: ``GET /results/{id}``)."""

    id: int
    object_id: int
    result: ResultCode
    method: Method | None
    assessor: str | None
    notes: str | None


class ItemRow(BaseModel):
    """An item of an assessment with its results on each test object."""

    id: str
    key: str
    level: int
    part: str
    category: str
    control_point: str
    kind: str
    #: Mean over the test objects (0–1; None: nothing scored yet or 不适用 everywhere).
    score: float | None
    results: list[CellRead]


class AssessmentRead(BaseModel):
    id: int
    system_id: int
    system: str
    grading_id: int | None
    cycle: str
    kind: AssessmentKind
    body: str | None
    state: AssessmentState
    catalog: str
    catalog_version: str
    level: int
    s_level: int
    a_level: int
    extensions: list[str]
    level_source: str
    started_on: dt.date
    next_due: dt.date
    closed_on: dt.date | None
    score: float | None
    conclusion: Conclusion | None
    high_risks: int | None
    medium_risks: int | None
    profile: str | None
    notes: str | None
    items: int
    objects: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class AssessmentDetail(AssessmentRead):
    #: Results by code (pass, partial, fail, na) and the item × object pairs without a result.
    results: dict[str, int]
    unset: int
    test_objects: list[TestObjectRead]
    risks: list[RiskRead]


class ControlPointScore(BaseModel):
    part: str
    category: str
    control_point: str
    items: int
    items_scored: int
    score: float | None


class ScoreRead(BaseModel):
    assessment_id: int
    profile: str
    score: float | None
    #: What the score and the risk register give now (None while nothing is scored).
    conclusion: Conclusion | None
    high_risks: int
    medium_risks: int
    results: dict[str, int]
    items_scored: int
    items_total: int
    control_points: list[ControlPointScore]


class ConcludeRead(BaseModel):
    conclusion: Conclusion
    score: float
    high_risks: int
    medium_risks: int
    profile: str


class BulkRead(BaseModel):
    assessment_id: int
    result: ResultCode
    created: int
    updated: int
    unchanged: int
    verified_rectifications: list[int]


class RectificationRead(BaseModel):
    id: int
    system_id: int
    system: str
    assessment_id: int | None
    result_id: int | None
    risk_id: int | None
    item_key: str | None
    item_id: str | None
    object_asset_id: int | None
    object_name: str | None
    title: str
    owner_contact_id: int | None
    owner: str | None
    plan: str | None
    due_date: dt.date | None
    overdue: bool
    status: RectStatus
    verification_note: str | None
    verified_on: dt.date | None
    verified_by_assessment_id: int | None
    links: list[LinkRead] = []
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ProgressRead(BaseModel):
    """整改进度 of one system."""

    system_id: int
    system: str
    total: int
    by_status: dict[str, int]
    overdue: int
    #: verified / (all but cancelled), as a percentage (None when there is nothing to do).
    percent_verified: float | None


# --- evidence from the map (compliance/evidence.py; docs/compliance-evidence.md) ---------------------


class EvidenceRecord(BaseModel):
    """A map record behind a proposal (``asset``, ``endpoint``, ``finding``, ``zone``, ``supplier``,
    ``product``, ``redundancy_group``) and what it showed; some carry more (``path``, ``asset_id``...)."""

    model_config = ConfigDict(extra="allow")
    type: str
    id: int | str
    label: str
    #: What the record showed: a message key ``cmp.why.<reason>`` with its parameters ...
    reason: str
    params: dict[str, Any]
    #: ... rendered through the web catalogs (English, Chinese).
    why: str
    why_zh: str


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


# --- CII obligations (docs/compliance-obligations.md) -------------------------------------------------------


class ObligationRulesFile(BaseModel):
    """The obligation rules file (built in: ``compliance/rules/cii-obligations-2021.json``)."""

    model_config = ConfigDict(extra="forbid")

    class CiiTest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        source: str | None = None
        every_months: Annotated[int, Ge(12), Le(12)] = 12
        due: Literal["year_end"] = "year_end"

    class KeyPostRule(BaseModel):
        model_config = ConfigDict(extra="forbid")
        source: str | None = None
        min_sharing: Annotated[int, Ge(0), Le(100)]
        needs_responsible: bool = True

    class TrainingRule(BaseModel):
        model_config = ConfigDict(extra="forbid")
        source: str | None = None
        min_hours: Annotated[float, Ge(0), Le(2000)]
        period: Literal["calendar_year"] = "calendar_year"

    id: Annotated[str, Field(min_length=1, max_length=60)]
    version: Annotated[str, Field(min_length=1, max_length=30)]
    title: str | None = None
    note: str | None = None
    due_window_days: Annotated[int, Ge(0), Le(366)]
    cii_test: CiiTest
    key_post: KeyPostRule
    training: TrainingRule


class KeyPostIn(Schema):
    name: Name
    organization_id: Int32 | None = None
    system_id: Int32 | None = None
    #: 负责人 (a contact).
    responsible_id: Int32 | None = None
    description: Note | None = None
    #: People sharing the duty (contacts; the responsible person is not one of them).
    members: Annotated[list[Int32], Field(max_length=100)] = []


class KeyPostUpdate(Schema):
    name: Name | None = None
    organization_id: Int32 | None = None
    system_id: Int32 | None = None
    responsible_id: Int32 | None = None
    description: Note | None = None


class PersonRead(BaseModel):
    id: int
    name: str


class KeyPostRead(BaseModel):
    id: int
    name: str
    organization_id: int | None
    organization: str | None
    system_id: int | None
    system: str | None
    responsible: PersonRead | None
    members: list[PersonRead]
    sharing: int
    min_sharing: int
    #: Why the post breaks the rule (empty: staffed as required).
    violations: list[str]
    description: str | None


class TrainingIn(Schema):
    contact_id: Int32
    held_on: dt.date
    hours: Annotated[float, Field(gt=0, le=24 * 14)]
    topic: Annotated[str, Field(min_length=1, max_length=300)]
    notes: Note | None = None


class TrainingRead(BaseModel):
    id: int
    contact_id: int
    person: str
    held_on: dt.date
    hours: float
    topic: str
    notes: str | None


class DoneIn(Schema):
    """Evidence that a recorded obligation (the yearly CII test) was met."""

    kind: RecordedKind = "cii_test"
    system_id: Int32
    #: The year it is for ("2026").
    period: Annotated[str, Field(pattern=r"^(19|20|21)\d\d$")]
    done_on: dt.date
    #: Who did it (default: the user recording it).
    done_by: Name | None = None
    note: Note | None = None
    assessment_id: Int32 | None = None


class DoneRead(ReadSchema):
    id: int
    kind: RecordedKind
    system_id: int
    period: str
    done_on: dt.date
    done_by: str
    note: str | None
    assessment_id: int | None


class ObligationRead(BaseModel):
    """One obligation, derived from the map or recorded, in the state it has on the day asked about."""

    #: Stable key: ``cii_test:system:5:2026``, ``training:contact:3:2026``, ``key_post:post:2``...
    key: str
    kind: ObligationKind
    title_zh: str
    title_en: str
    state: ObligationState
    #: None for a standing obligation (key-post staffing), which is not on the calendar.
    due_on: dt.date | None
    days_left: int | None
    period: str | None
    system_id: int | None
    system: str | None
    organization_id: int | None
    contact_id: int | None
    person: str | None
    post_id: int | None
    #: Evidence of completion: when, who, a note and the assessment that did it.
    done_on: dt.date | None
    done_by: str | None
    note: str | None
    assessment_id: int | None
    #: Training: hours so far, the minimum, the pro-rata share due by the day asked about and whether
    #: the person keeps up with it. Key posts: the people sharing the duty.
    hours: float | None = None
    required: float | None = None
    expected: float | None = None
    on_track: bool | None = None
    #: The rule it follows ("CII obligations 2026-12-03", "CIIMAP_ASSESSMENT_CYCLES"...).
    rule: str
