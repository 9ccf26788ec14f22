"""Tables of the crypto domain: the derived inventory (rebuilt from scans and SBOMs), its cache key,
and manual entries (certified products, keys, certificates no scan sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
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


class CryptoState(Base):
    """The cache key the inventory was last built for (one row)."""

    __tablename__ = "crypto_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
