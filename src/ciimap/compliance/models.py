"""Grading (定级) and filing (备案) of protected objects under MLPS 2.0 (GB/T 22240-2020).

One :class:`Grading` row per system and round: the S and A judgements (object harmed × degree), the
levels they give by the grading matrix in force (``matrices/``; replaceable, see
``docs/compliance-grading.md``), the rationale in words, and the workflow 初步定级 → 专家评审 →
主管部门核准 → 公安机关备案 with who and when per step. Re-grading starts a new round; old rounds stay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin, utcnow

# Vocabularies, each declared once (Literal for the schemas and the CLI, the tuple of its values for checks).
#: 受侵害的客体: 公民、法人和其他组织的合法权益 / 社会秩序、公共利益 / 国家安全.
HarmObject = Literal["rights", "order", "national"]
#: 对客体的侵害程度: 一般损害 / 严重损害 / 特别严重损害.
HarmDegree = Literal["general", "serious", "especially_serious"]
#: 等级保护对象类型: 信息系统 (incl. cloud, IoT, mobile, ICS), 通信网络设施, 数据资源.
ObjectType = Literal["information_system", "network_infrastructure", "data_resource"]
#: Extension requirements that apply (GB/T 22239-2019 x.2–x.5, big data: informative annex H).
Extension = Literal["cloud", "mobile", "iot", "ics", "big_data"]
#: Workflow: 初步定级 → 专家评审 → 主管部门核准 → 公安机关备案; a round given up is ``withdrawn``.
GradingState = Literal["draft", "review", "approved", "filed", "withdrawn"]
#: The states a grading can be advanced to (``draft`` is where every round starts).
AdvanceTo = Literal["review", "approved", "filed", "withdrawn"]

HARM_OBJECTS: tuple[str, ...] = get_args(HarmObject)
HARM_DEGREES: tuple[str, ...] = get_args(HarmDegree)
OBJECT_TYPES: tuple[str, ...] = get_args(ObjectType)
EXTENSIONS: tuple[str, ...] = get_args(Extension)
GRADING_STATES: tuple[str, ...] = get_args(GradingState)
ADVANCE_TO: tuple[str, ...] = get_args(AdvanceTo)
#: States of a round still on its way to filing (a system has at most one such round).
OPEN_STATES: tuple[str, ...] = GRADING_STATES[:3]

#: Inventory edges along which a system is carried by a platform (``system -runs_on/hosted_by-> system``,
#: or ``-> asset`` of another system): the platform should be graded no lower (docs/compliance-grading.md).
CARRIER_EDGE_KINDS: tuple[str, ...] = ("runs_on", "hosted_by")

#: Labels (zh-CN, en) of the vocabularies: the generated rationale and the warnings use them.
LABELS: dict[str, tuple[str, str]] = {
    "rights": (
        "公民、法人和其他组织的合法权益",
        "the lawful rights and interests of citizens, legal persons and other organisations",
    ),
    "order": ("社会秩序、公共利益", "social order and public interest"),
    "national": ("国家安全", "national security"),
    "general": ("一般损害", "ordinary harm"),
    "serious": ("严重损害", "serious harm"),
    "especially_serious": ("特别严重损害", "especially serious harm"),
    "information_system": ("信息系统", "information system"),
    "network_infrastructure": ("通信网络设施", "communication network infrastructure"),
    "data_resource": ("数据资源", "data resource"),
    "cloud": ("云计算", "cloud computing"),
    "mobile": ("移动互联", "mobile internet"),
    "iot": ("物联网", "Internet of Things"),
    "ics": ("工业控制系统", "industrial control system"),
    "big_data": ("大数据", "big data"),
    "draft": ("初步定级", "draft grading"),
    "review": ("专家评审", "expert review"),
    "approved": ("主管部门核准", "approved by the competent authority"),
    "filed": ("公安机关备案", "filed with the public security organ"),
    "withdrawn": ("已撤回", "withdrawn"),
}
LEVEL_ZH = {1: "第一级", 2: "第二级", 3: "第三级", 4: "第四级", 5: "第五级"}


class Grading(TimestampMixin, Base):
    """定级: one round of grading a system, from the first judgement to the filing certificate."""

    __tablename__ = "compliance_grading"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("system_id", "round"),
        Index("ix_compliance_grading_state_filing_due", "state", "filing_due"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"))
    #: 1 for the first grading of the system, +1 for each re-grading.
    round: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    object_type: Mapped[str] = mapped_column(String(32), default="information_system")
    extensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    s_object: Mapped[str] = mapped_column(String(16))
    s_degree: Mapped[str] = mapped_column(String(24))
    a_object: Mapped[str] = mapped_column(String(16))
    a_degree: Mapped[str] = mapped_column(String(24))
    s_level: Mapped[int] = mapped_column(Integer)
    a_level: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    #: The matrix the levels were read from ("GB/T 22240-2020@2020-04-28"): a replaced matrix shows here.
    matrix: Mapped[str] = mapped_column(String(100))
    rationale_zh: Mapped[str] = mapped_column(Text)
    rationale_en: Mapped[str] = mapped_column(Text)
    #: The user's own reasoning (business description, who was consulted...).
    notes: Mapped[str | None] = mapped_column(Text)
    #: The day the level was (preliminarily) determined: the filing deadline counts from it.
    graded_on: Mapped[dt.date] = mapped_column(Date)
    #: Filing deadline (None: level 1, which is not filed) and the rule it was computed with.
    filing_due: Mapped[dt.date | None] = mapped_column(Date)
    due_rule: Mapped[str] = mapped_column(String(32))
    #: Who and when per step: [{"state": "review", "on": "2026-12-01", "by": "alice", "at": "...", "note": ...}].
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: 主管部门 that approved (None when there is none and the step was skipped).
    authority: Mapped[str | None] = mapped_column(String(200))
    approval_skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    filing_number: Mapped[str | None] = mapped_column(String(64))
    filing_date: Mapped[dt.date | None] = mapped_column(Date)
    police_unit: Mapped[str | None] = mapped_column(String(200))


# --- assessment (测评), scoring and rectification (整改): docs/compliance-assessment.md -----------------

#: 测评结论 per item and test object (GB/T 28448-2019): 符合 / 部分符合 / 不符合 / 不适用 (not scored).
ResultCode = Literal["pass", "partial", "fail", "na"]
#: 测评方法: 访谈 / 核查 / 测试.
Method = Literal["interview", "check", "test"]
#: 自行测评 (self-assessment) or 等级测评 by an outside body (its name in ``body``).
AssessmentKind = Literal["self", "external"]
AssessmentState = Literal["open", "closed"]
#: 测评对象: an asset of the map, or a named non-asset object (a policy document, a room, a person...).
ObjectKind = Literal["asset", "document", "room", "person", "other"]
#: 风险等级 of a risk in an assessment's register (高 / 中 / 低).
RiskLevel = Literal["high", "medium", "low"]
#: 整改 status: ``verified`` (checked fixed, by hand or by a later assessment) and ``cancelled`` are final.
RectStatus = Literal["open", "in_progress", "done", "verified", "cancelled"]
#: Map records a result, a risk or a rectification can point at (``supplier`` = a vendor row).
LinkTarget = Literal["asset", "finding", "supplier", "system", "contact"]
#: What carries links.
LinkOwner = Literal["result", "risk", "rectification"]
#: 测评结论 of an assessment (2021 report template): 优 / 良 / 中 / 差.
Conclusion = Literal["优", "良", "中", "差"]

RESULT_CODES: tuple[str, ...] = get_args(ResultCode)
METHODS: tuple[str, ...] = get_args(Method)
ASSESSMENT_KINDS: tuple[str, ...] = get_args(AssessmentKind)
ASSESSMENT_STATES: tuple[str, ...] = get_args(AssessmentState)
OBJECT_KINDS: tuple[str, ...] = get_args(ObjectKind)
RISK_LEVELS: tuple[str, ...] = get_args(RiskLevel)
RECT_STATUSES: tuple[str, ...] = get_args(RectStatus)
LINK_TARGETS: tuple[str, ...] = get_args(LinkTarget)
LINK_OWNERS: tuple[str, ...] = get_args(LinkOwner)
CONCLUSIONS: tuple[str, ...] = get_args(Conclusion)
#: Rectifications still to be worked on (a later 符合 result verifies them).
RECT_OPEN: tuple[str, ...] = ("open", "in_progress", "done")
#: Results that can become a rectification item.
RECTIFIABLE: tuple[str, ...] = ("fail", "partial")

LABELS.update(
    {
        "pass": ("符合", "compliant"),
        "partial": ("部分符合", "partially compliant"),
        "fail": ("不符合", "non-compliant"),
        "na": ("不适用", "not applicable"),
        "interview": ("访谈", "interview"),
        "check": ("核查", "inspection"),
        "test": ("测试", "testing"),
        "self": ("自行测评", "self-assessment"),
        "external": ("等级测评机构测评", "assessment by an outside body"),
        "open": ("进行中", "open"),
        "closed": ("已完成", "closed"),
        "high": ("高风险", "high risk"),
        "medium": ("中风险", "medium risk"),
        "low": ("低风险", "low risk"),
        "in_progress": ("整改中", "in progress"),
        "done": ("已完成整改", "done"),
        "verified": ("已验证", "verified"),
        "cancelled": ("已取消", "cancelled"),
    }
)


class Assessment(TimestampMixin, Base):
    """测评: one assessment of a system in one cycle, against the items chosen when it was created."""

    __tablename__ = "compliance_assessment"
    __audited__ = True
    __table_args__ = (UniqueConstraint("system_id", "cycle", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"), index=True)
    #: The filed grading the levels were taken from (None: from the system's mlps_* fields).
    grading_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_grading.id", ondelete="SET NULL"))
    #: "2026" (yearly), "2026-H2" (half-yearly), "2026-Q1" (quarterly): see ``assessment.cycle_label``.
    cycle: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="self")
    #: 测评机构 (kind ``external``).
    body: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")
    catalog: Mapped[str] = mapped_column(String(40))
    catalog_version: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    s_level: Mapped[int] = mapped_column(Integer)
    a_level: Mapped[int] = mapped_column(Integer)
    extensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "grading" or "system": where the levels came from.
    level_source: Mapped[str] = mapped_column(String(16))
    started_on: Mapped[dt.date] = mapped_column(Date)
    #: The next assessment is due by then (cycle rule of the level).
    next_due: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Set when closed: the score, conclusion, risk counts and the scoring profile used.
    score: Mapped[float | None] = mapped_column(Float)
    conclusion: Mapped[str | None] = mapped_column(String(4))
    high_risks: Mapped[int | None] = mapped_column(Integer)
    medium_risks: Mapped[int | None] = mapped_column(Integer)
    profile: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)


class AssessmentItem(Base):
    """An item selected for an assessment (a snapshot of the catalog at creation; written in bulk)."""

    __tablename__ = "compliance_assessment_item"
    __table_args__ = (
        UniqueConstraint("assessment_id", "item_id"),
        Index("ix_compliance_assessment_item_key", "assessment_id", "item_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        # named: the conventional name is longer than PostgreSQL's 63 characters
        ForeignKey(
            "compliance_assessment.id", ondelete="CASCADE", name="fk_compliance_assessment_item_assessment"
        )
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    #: The id at the level it applies at ("22239-2019:8.1.4.1.a") and the stable key of the item.
    item_id: Mapped[str] = mapped_column(String(80))
    item_key: Mapped[str] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(60))
    control_point: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))


class TestObject(TimestampMixin, Base):
    """测评对象: an asset of the system (``asset_id``) or a named object (document, room...)."""

    __tablename__ = "compliance_test_object"
    __test__ = False  # not a pytest class
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("assessment_id", "name"),
        UniqueConstraint("assessment_id", "asset_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("compliance_assessment.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class ItemResult(TimestampMixin, Base):
    """The result of one item on one test object, with method, assessor and notes."""

    __tablename__ = "compliance_item_result"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("item_row_id", "object_id"),
        Index("ix_compliance_item_result_assessment_id", "assessment_id"),
        Index("ix_compliance_item_result_object_id", "object_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("compliance_assessment.id", ondelete="CASCADE"))
    item_row_id: Mapped[int] = mapped_column(ForeignKey("compliance_assessment_item.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("compliance_test_object.id", ondelete="CASCADE"))
    result: Mapped[str] = mapped_column(String(8))
    method: Mapped[str | None] = mapped_column(String(16))
    assessor: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)


class Evidence(Base):
    """An evidence file of a result, stored once by content under ``data_dir/evidence/``."""

    __tablename__ = "compliance_evidence"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("compliance_item_result.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Link(Base):
    """A result, risk or rectification pointing at a map record (asset, finding, supplier...)."""

    __tablename__ = "compliance_link"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "target_type", "target_id"),
        Index("ix_compliance_link_target", "target_type", "target_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Risk(TimestampMixin, Base):
    """风险: an entry of an assessment's risk register (high and medium ones count in the conclusion)."""

    __tablename__ = "compliance_risk"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("compliance_assessment.id", ondelete="CASCADE"), index=True
    )
    item_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_assessment_item.id", ondelete="SET NULL")
    )
    object_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_test_object.id", ondelete="SET NULL")
    )
    level: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    #: 缓解措施: what lowers the risk (T/ISEAA 001-2020 judges high risks with them).
    compensating: Mapped[str | None] = mapped_column(Text)


class Rectification(TimestampMixin, Base):
    """整改: work to fix a 不符合 / 部分符合 result or a high risk, until verified."""

    __tablename__ = "compliance_rectification"
    __audited__ = True
    __table_args__ = (Index("ix_compliance_rectification_system_item", "system_id", "item_key", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"))
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_assessment.id", ondelete="SET NULL")
    )
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("compliance_item_result.id", ondelete="SET NULL"), index=True
    )
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("compliance_risk.id", ondelete="SET NULL"))
    #: The item and test object it is about: a later assessment's 符合 on the same pair verifies it.
    item_key: Mapped[str | None] = mapped_column(String(80))
    item_id: Mapped[str | None] = mapped_column(String(80))
    object_asset_id: Mapped[int | None] = mapped_column(Integer)
    object_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    owner_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    owner_text: Mapped[str | None] = mapped_column(String(200))
    plan: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    verification_note: Mapped[str | None] = mapped_column(Text)
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_by_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "compliance_assessment.id", ondelete="SET NULL", name="fk_compliance_rectification_verified_by"
        )
    )


# --- CII obligations (关基保护义务): docs/compliance-obligations.md -------------------------------------------
# Derived obligations (assessment cycles, filing deadlines, key-post staffing, training hours) are computed
# from the tables above and below, never stored; only what users record is: key posts and their staff,
# training sessions, and the completion of the yearly CII security test and risk assessment.

#: 义务类型: 年度检测评估 (2021 regulation Art. 17), 等级测评周期, 定级备案期限, 关键岗位, 培训学时.
ObligationKind = Literal["cii_test", "mlps_assessment", "filing", "key_post", "training"]
#: 义务状态: by the day asked about (``due``: inside the rules' due window, not yet overdue).
ObligationState = Literal["upcoming", "due", "overdue", "done"]
#: Kinds whose completion is recorded by hand (the others complete themselves from the map).
RecordedKind = Literal["cii_test"]

OBLIGATION_KINDS: tuple[str, ...] = get_args(ObligationKind)
OBLIGATION_STATES: tuple[str, ...] = get_args(ObligationState)
RECORDED_KINDS: tuple[str, ...] = get_args(RecordedKind)

LABELS.update(
    {
        "cii_test": ("年度安全检测和风险评估", "yearly security test and risk assessment"),
        "mlps_assessment": ("等级测评", "MLPS assessment"),
        "filing": ("定级备案", "grading filing"),
        "key_post": ("关键岗位人员配备", "key post staffing"),
        "training": ("关键岗位培训学时", "key-post training hours"),
        "upcoming": ("未到期", "upcoming"),
        "due": ("即将到期", "due"),
        "overdue": ("已逾期", "overdue"),
    }
)


class KeyPost(TimestampMixin, Base):
    """关键岗位: a post with a named responsible person and the people sharing its duty (GB/T 39204-2022)."""

    __tablename__ = "compliance_key_post"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="SET NULL"))
    #: 负责人: the named person responsible for the post.
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(Text)


class KeyPostMember(Base):
    """A person sharing the duty of a key post (the responsible person is not counted here)."""

    __tablename__ = "compliance_key_post_member"
    __audited__ = True
    __table_args__ = (UniqueConstraint("post_id", "contact_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("compliance_key_post.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Training(TimestampMixin, Base):
    """培训: one training session of one person (hours count towards the yearly minimum)."""

    __tablename__ = "compliance_training"
    __audited__ = True
    __table_args__ = (Index("ix_compliance_training_contact_held", "contact_id", "held_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float)
    topic: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class ObligationDone(Base):
    """Evidence that a recorded obligation was met: the kind, the system and period, who, when, a note
    and optionally the assessment that did it. One row per obligation (a derived obligation is never a row)."""

    __tablename__ = "compliance_obligation_done"
    __audited__ = True
    __table_args__ = (UniqueConstraint("kind", "system_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"))
    #: The period the obligation is for ("2026" for a yearly one).
    period: Mapped[str] = mapped_column(String(16))
    done_on: Mapped[dt.date] = mapped_column(Date)
    done_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    assessment_id: Mapped[int | None] = mapped_column(
        # named: the conventional name is longer than PostgreSQL's 63 characters
        ForeignKey(
            "compliance_assessment.id", ondelete="SET NULL", name="fk_compliance_obligation_done_assessment"
        )
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
