"""Scan scopes (where scanning is allowed) and scan schedules (recurring rescans)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, TimestampMixin


class ScanScope(TimestampMixin, Base):
    """A set of address blocks an admin allows ciimap to scan, with a port list and a rate ceiling.

    Nothing is ever scanned outside an enabled scope: this is the operator's written permission.
    """

    __tablename__ = "scan_scope"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    #: CIDRs, single addresses or ranges ("10.0.0.10-10.0.0.20"), IPv4 or IPv6.
    cidrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: nmap-style port list ("22,80,443,8000-8100"); NULL = any port.
    allowed_ports: Mapped[str | None] = mapped_column(String(500))
    #: Ceiling for nmap --max-rate (packets per second).
    max_rate: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100), default="system")


class ScanSchedule(TimestampMixin, Base):
    """A recurring discovery inside one scope: every ``interval_minutes`` or on a ``cron`` line."""

    __tablename__ = "scan_schedule"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    #: Targets to rescan; empty = the whole scope.
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile: Mapped[str] = mapped_column(String(16), default="services")
    ports: Mapped[str | None] = mapped_column(String(500))
    rate: Mapped[int | None] = mapped_column(Integer)
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_job_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
