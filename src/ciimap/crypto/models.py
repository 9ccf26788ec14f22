"""Tables of the crypto domain: the derived inventory (rebuilt from scans and SBOMs), its cache key,
and manual entries (certified products, keys, certificates no scan sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin, utcnow

#: The four technical layers of GB/T 39786-2021 (物理和环境, 网络和通信, 设备和计算, 应用和数据).
Layer = Literal["physical", "network", "device", "application"]
LAYERS: tuple[str, ...] = get_args(Layer)
LAYER_NAMES = dict(zip(LAYERS, ("物理和环境", "网络和通信", "设备和计算", "应用和数据"), strict=True))
#: What a derived inventory row describes.
ItemKind = Literal["certificate", "tls", "ssh", "library"]
ITEM_KINDS: tuple[str, ...] = get_args(ItemKind)
#: What a manual entry records.
ManualKind = Literal["product", "certificate", "key"]
MANUAL_KINDS: tuple[str, ...] = get_args(ManualKind)


class CryptoItem(Base):
    """One piece of crypto evidence derived from an import (rebuilt by ``crypto.service.refresh``)."""

    __tablename__ = "crypto_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="SET NULL"), index=True)
    layer: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    protocol: Mapped[str | None] = mapped_column(String(8))
    port: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    #: Canonical algorithms named by the evidence (SM2, SM4, RSA, AES, SHA-1, ...).
    algorithms: Mapped[list[str]] = mapped_column(JSON, default=list)
    gm: Mapped[bool] = mapped_column(Boolean, default=False)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Set when the evidence did not read (e.g. a certificate kept as raw text in ``facts["raw"]``).
    warning: Mapped[str | None] = mapped_column(Text)
    #: A certificate's expiry (expired / expiring flags are a range query on it, not a scan of ``facts``).
    not_after: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class CryptoFlag(Base):
    """A flag that does not depend on the date (weak protocol, suite, key or signature; unreadable),
    computed with the inventory rebuild so that listing flags is one query."""

    __tablename__ = "crypto_flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("crypto_item.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int | None] = mapped_column(Integer, index=True)
    asset_id: Mapped[int | None] = mapped_column(Integer)
    port: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(300))


class CryptoState(Base):
    """The cache key the inventory was last built for (one row)."""

    __tablename__ = "crypto_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Scan detail rows and the largest import run seen by the last rebuild: a later run is applied
    #: incrementally (its hosts parsed again); fewer rows (deletions) rebuild everything.
    scan_rows: Mapped[int | None] = mapped_column(Integer)
    scan_run: Mapped[int | None] = mapped_column(Integer)


class CryptoManual(TimestampMixin, Base):
    """A manual entry: a certified crypto product (商用密码产品认证证书编号), a key, a certificate."""

    __tablename__ = "crypto_manual"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    layer: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    algorithm: Mapped[str | None] = mapped_column(String(100))
    key_bits: Mapped[int | None] = mapped_column(Integer)
    certificate_no: Mapped[str | None] = mapped_column(String(100))
    not_after: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(1000))


# --- 密评 assessments (GB/T 39786-2021, the quantitative rule): docs/crypto.md ---------------------------
#: Management unit results (符合 / 部分符合 / 不符合) and 不适用 for a unit that does not apply.
UnitResultValue = Literal["符合", "部分符合", "不符合", "不适用"]
UNIT_RESULTS: tuple[str, ...] = get_args(UnitResultValue)


class CryptoAssessment(TimestampMixin, Base):
    """One 密评 of one system on one date by one assessor, scored by a versioned profile."""

    __tablename__ = "crypto_assessment"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    assessor: Mapped[str] = mapped_column(String(200))
    #: The 密评 level (1-4; the system's MLPS level unless given).
    level: Mapped[int] = mapped_column(Integer)
    #: The scoring profile id (``crypto/profiles/<id>.yaml`` or the user's replacement).
    profile: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class CryptoUnitResult(TimestampMixin, Base):
    """One test unit of an assessment: a management result, or technical test objects (below)."""

    __tablename__ = "crypto_unit_result"
    __audited__ = True
    __table_args__ = (UniqueConstraint("assessment_id", "layer", "unit"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("crypto_assessment.id", ondelete="CASCADE"), index=True
    )
    #: The official layer and unit names (``units.yaml``), e.g. 应用和数据 / 重要数据存储机密性.
    layer: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(100))
    #: 符合 / 部分符合 / 不符合 / 不适用; null when the unit is scored by its test objects.
    result: Mapped[str | None] = mapped_column(String(8))
    #: A high risk found in this unit (the profile may fail the whole assessment on it).
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class CryptoTestObject(TimestampMixin, Base):
    """A test object (测评对象) of a technical unit with its D / A / K results, Ra and Rk."""

    __tablename__ = "crypto_test_object"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_result_id: Mapped[int] = mapped_column(
        ForeignKey("crypto_unit_result.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    d: Mapped[bool] = mapped_column(Boolean)
    a: Mapped[bool] = mapped_column(Boolean)
    k: Mapped[bool] = mapped_column(Boolean)
    ra: Mapped[float] = mapped_column(Float, default=1.0)
    rk: Mapped[float] = mapped_column(Float, default=1.0)
    #: Compensation: the object (of this assessment) that covers this one — score max(0.5·P_other, own).
    covered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("crypto_test_object.id", ondelete="SET NULL", name="fk_crypto_test_object_covered_by")
    )
    note: Mapped[str | None] = mapped_column(Text)
