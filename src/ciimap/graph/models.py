"""Graph-domain tables: saved what-if scenarios and staged update rollouts (plans, rings, progress).

Everything here is audited through the ORM hooks except ring membership, which is written in bulk
(one ``record_bulk`` entry with a digest) because a broad ring may hold hundreds of thousands of hosts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin, utcnow

PLAN_STATUSES = ("planned", "in_progress", "halted", "completed")
RING_STATUSES = ("pending", "in_progress", "passed", "failed", "skipped")


class Scenario(TimestampMixin, Base):
    """A saved what-if: the failed set (selectors) and a snapshot of what it broke at save time."""

    __tablename__ = "graph_scenario"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: [{"kind": "vendor", "ref": "CrowdStrike"}, ...] as given by the user.
    selectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Snapshot of the ImpactResult (failed/degraded systems and services, counts).
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    map_version: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100), default="system")


class RolloutPlan(TimestampMixin, Base):
    """A staged plan for pushing one product's (or one update channel's) update through rings."""

    __tablename__ = "graph_rollout_plan"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"), index=True)
    update_channel: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    current_ring: Mapped[int | None] = mapped_column(Integer)
    halted_reason: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(100), default="system")


class RolloutRing(TimestampMixin, Base):
    """One ring of a plan: its place, soak time, health gates (metric -> maximum) and what was seen."""

    __tablename__ = "graph_rollout_ring"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("graph_rollout_plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    asset_count: Mapped[int] = mapped_column(Integer, default=0)
    soak_hours: Mapped[float] = mapped_column(Float, default=24.0)
    gates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    observed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rationale: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RolloutMember(Base):
    """An asset placed in a ring (bulk-written; see the module docstring)."""

    __tablename__ = "graph_rollout_member"
    __table_args__ = (Index("ix_graph_rollout_member_ring_asset", "ring_id", "asset_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("graph_rollout_plan.id", ondelete="CASCADE"), index=True)
    ring_id: Mapped[int] = mapped_column(ForeignKey("graph_rollout_ring.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(Integer, index=True)


class RolloutEvent(Base):
    """Progress log of a rollout: start, health report, advance, halt, complete."""

    __tablename__ = "graph_rollout_event"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("graph_rollout_plan.id", ondelete="CASCADE"), index=True)
    ring_id: Mapped[int | None] = mapped_column(ForeignKey("graph_rollout_ring.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
