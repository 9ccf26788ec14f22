"""Supply-chain register: what the operator knows about each vendor, and its domestic-substitution plans.

Vendor and Product live in the inventory; these tables only add facts keyed by ``vendor_id`` /
``product_id`` so the map keeps one vendor list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin
from ciimap.inventory.models import CRITICALITY, Criticality

# Vocabularies, each declared once (Literal for the schemas, the tuple of its values for checks and forms).
#: How a vendor can reach the operator's systems for maintenance (远程运维).
RemoteAccess = Literal["none", "on_demand", "permanent"]
#: 网络安全审查 state of the vendor's products: not needed, needed but not filed, filed, passed, failed.
SecurityReview = Literal["not_required", "required", "pending", "passed", "failed"]
#: Supplier risk: the same four-level scale as asset criticality.
RiskRating = Criticality
PlanStatus = Literal["planned", "in_progress", "testing", "done", "cancelled"]
REMOTE_ACCESS: tuple[str, ...] = get_args(RemoteAccess)
SECURITY_REVIEW: tuple[str, ...] = get_args(SecurityReview)
RISK_RATING = CRITICALITY
PLAN_STATUS: tuple[str, ...] = get_args(PlanStatus)


class VendorProfile(TimestampMixin, Base):
    """供应商档案: the contractual and security facts the CII Regulation asks the operator to manage."""

    __tablename__ = "supply_vendor_profile"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"), unique=True)
    #: [{"name": "ISO 27001", "number": "...", "valid_until": "2027-01-01"}, ...]
    certifications: Mapped[list[Any]] = mapped_column(JSON, default=list)
    contract_number: Mapped[str | None] = mapped_column(String(100))
    contract_start: Mapped[dt.date | None] = mapped_column(Date)
    contract_end: Mapped[dt.date | None] = mapped_column(Date)
    service_level: Mapped[str | None] = mapped_column(String(200))
    remote_access: Mapped[str] = mapped_column(String(16), default="none")
    remote_channel: Mapped[str | None] = mapped_column(String(200))
    remote_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    nda_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    nda_date: Mapped[dt.date | None] = mapped_column(Date)
    nda_expires: Mapped[dt.date | None] = mapped_column(Date)
    security_review: Mapped[str | None] = mapped_column(String(16))
    security_review_date: Mapped[dt.date | None] = mapped_column(Date)
    risk_rating: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)


class SubstitutionPlan(TimestampMixin, Base):
    """国产化替代 item: one foreign product (or software/asset) in one system and its domestic successor."""

    __tablename__ = "supply_substitution_plan"
    __audited__ = True
    __table_args__ = (Index("ix_supply_substitution_plan_system_status", "system_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(32))
    current_product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    current_software_id: Mapped[int | None] = mapped_column(ForeignKey("software.id", ondelete="SET NULL"))
    current_asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    candidate_product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    #: [{"name": "适配测试", "due": "2027-03-01", "done": false, "done_on": null}, ...]
    milestones: Mapped[list[Any]] = mapped_column(JSON, default=list)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
