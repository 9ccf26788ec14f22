"""Tables of the data domain (数据分类分级, GB/T 43697-2024).

- :class:`DataResource`: one entry of the data catalogue (数据资源目录): category, personal-information
  flags, volume, owner, and the current grading (level, review date) copied from its latest round.
- :class:`DataHolding`: which system, asset or business service holds or processes a resource (the
  link to the map).
- :class:`DataFlow`: a flow of a resource from one system to another system or an outside recipient,
  with the cross-border flag.
- :class:`DataGrading`: one grading round (impacts, factors, rationale, review date); a re-grading adds
  a round and keeps the old ones (history). Every model is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.compliance.models import HARM_DEGREES, HarmDegree
from ciimap.core.db import Base, TimestampMixin

# Vocabularies, each declared once.
#: 数据级别 (GB/T 43697-2024), highest first: 核心数据, 重要数据, 一般数据.
DataLevel = Literal["core", "important", "general"]
DATA_LEVELS: tuple[str, ...] = get_args(DataLevel)
#: 影响对象: 国家安全, 经济运行, 社会秩序, 公共利益, 组织权益, 个人权益.
ImpactObject = Literal["national", "economy", "social_order", "public_interest", "organisation", "individual"]
IMPACT_OBJECTS: tuple[str, ...] = get_args(ImpactObject)
#: 影响程度: 一般危害, 严重危害, 特别严重危害 (the same three codes as the MLPS harm degrees).
ImpactDegree = HarmDegree
IMPACT_DEGREES: tuple[str, ...] = HARM_DEGREES
#: 定级要素 (GB/T 43697-2024): 领域, 群体, 区域, 精度, 规模, 深度, 覆盖度, 重要性.
Factor = Literal["domain", "group", "region", "precision", "scale", "depth", "coverage", "importance"]
FACTORS: tuple[str, ...] = get_args(Factor)
#: What on the map holds or processes a resource.
HolderType = Literal["system", "asset", "business_service"]
HOLDER_TYPES: tuple[str, ...] = get_args(HolderType)
#: How it does: stores it (持有) or only processes it (处理).
HoldingRole = Literal["holds", "processes"]
HOLDING_ROLES: tuple[str, ...] = get_args(HoldingRole)

#: Labels (zh-CN, en) of the vocabularies: rationales, reports and the CLI use them (pages use the catalog).
LABELS: dict[str, tuple[str, str]] = {
    "core": ("核心数据", "core data"),
    "important": ("重要数据", "important data"),
    "general": ("一般数据", "general data"),
    "national": ("国家安全", "national security"),
    "economy": ("经济运行", "economic operation"),
    "social_order": ("社会秩序", "social order"),
    "public_interest": ("公共利益", "public interest"),
    "organisation": ("组织权益", "rights of organisations"),
    "individual": ("个人权益", "rights of individuals"),
    "especially_serious": ("特别严重危害", "especially serious harm"),
    "serious": ("严重危害", "serious harm"),
    "general_harm": ("一般危害", "ordinary harm"),
    "domain": ("领域", "domain"),
    "group": ("群体", "group"),
    "region": ("区域", "region"),
    "precision": ("精度", "precision"),
    "scale": ("规模", "scale"),
    "depth": ("深度", "depth"),
    "coverage": ("覆盖度", "coverage"),
    "importance": ("重要性", "importance"),
}


def label(code: str, lang: str = "zh", *, degree: bool = False) -> str:
    """The display label of a vocabulary value (``degree=True``: ``general`` is 一般危害, not 一般数据)."""
    pair = LABELS.get("general_harm" if degree and code == "general" else code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


class DataResource(TimestampMixin, Base):
    """数据资源: one entry of the data catalogue."""

    __tablename__ = "data_resource"
    __audited__ = True
    __table_args__ = (
        Index("ix_data_resource_level_id", "level", "id"),
        Index("ix_data_resource_category_id", "category", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The operator's own identifier (资源编号), unique when given; re-imports update by it.
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: A category code of the category catalogue in force (``categories.yaml``).
    category: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    contains_pi: Mapped[bool] = mapped_column(Boolean, default=False)
    contains_sensitive_pi: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Volume: records (条) and people covered (涉及人数).
    records: Mapped[int | None] = mapped_column(BigInteger)
    people: Mapped[int | None] = mapped_column(BigInteger)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    #: The current level (latest grading round); None until graded.
    level: Mapped[str | None] = mapped_column(String(16))
    graded_on: Mapped[dt.date | None] = mapped_column(Date)
    review_due: Mapped[dt.date | None] = mapped_column(Date, index=True)


class DataHolding(Base):
    """A system, asset or business service that holds or processes a data resource."""

    __tablename__ = "data_holding"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("resource_id", "holder_type", "holder_id"),
        Index("ix_data_holding_holder", "holder_type", "holder_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"))
    holder_type: Mapped[str] = mapped_column(String(24))
    holder_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16), default="holds")


class DataFlow(TimestampMixin, Base):
    """A flow of a data resource from a system to another system or an outside recipient."""

    __tablename__ = "data_flow"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"), index=True)
    src_system_id: Mapped[int | None] = mapped_column(
        ForeignKey("system.id", ondelete="SET NULL"), index=True
    )
    dst_system_id: Mapped[int | None] = mapped_column(
        ForeignKey("system.id", ondelete="SET NULL"), index=True
    )
    #: A recipient outside the map (a partner, a regulator, an overseas affiliate).
    recipient: Mapped[str | None] = mapped_column(String(200))
    cross_border: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: ISO 3166-1 alpha-2 of the destination, when it leaves China.
    country: Mapped[str | None] = mapped_column(String(2))
    purpose: Mapped[str | None] = mapped_column(String(300))


class DataGrading(TimestampMixin, Base):
    """One grading round of a data resource (a re-grading adds a round; old rounds stay)."""

    __tablename__ = "data_grading"
    __audited__ = True
    __table_args__ = (UniqueConstraint("resource_id", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("data_resource.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    #: [{"object": ..., "degree": ...}, ...]: every impact judged; the highest decides (就高从严).
    impacts: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    level: Mapped[str] = mapped_column(String(16))
    #: The impact that decided the level ({"object", "degree"}).
    deciding: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: factor code → the user's words (领域, 群体, 区域, 精度, 规模, 深度, 覆盖度, 重要性).
    factors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: The mapping the level was read from ("GB/T 43697-2024@2024-03-15").
    mapping: Mapped[str] = mapped_column(String(100))
    rationale_zh: Mapped[str] = mapped_column(Text)
    rationale_en: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    graded_on: Mapped[dt.date] = mapped_column(Date)
    review_due: Mapped[dt.date | None] = mapped_column(Date)
    graded_by: Mapped[str] = mapped_column(String(100))
