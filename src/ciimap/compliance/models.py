"""Grading (定级) and filing (备案) of protected objects under MLPS 2.0 (GB/T 22240-2020).

One :class:`Grading` row per system and round: the S and A judgements (object harmed × degree), the
levels they give by the grading matrix in force (``matrices/``; replaceable, see
``docs/compliance-grading.md``), the rationale in words, and the workflow 初步定级 → 专家评审 →
主管部门核准 → 公安机关备案 with who and when per step. Re-grading starts a new round; old rounds stay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin

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
