"""Tables of the ingest domain: runs, identity evidence, provenance, scope state, changes, decisions.

Canonical assets, addresses, endpoints and software live in the inventory tables; these tables only
record *how* the map learned them, so ``why`` can explain every merge and change events have a home.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, utcnow

RUN_STATUSES = ("running", "succeeded", "failed")
CHANGE_KINDS = (
    "asset_new",
    "asset_missing",
    "asset_returned",
    "port_opened",
    "port_closed",
    "port_state_changed",
    "service_changed",
    "version_changed",
    "os_changed",
    "hostname_changed",
    "software_added",
    "software_removed",
    "software_version_changed",
)


class ImportRun(Base):
    """One import or scan: the unit of history. Failed runs are kept so users can see why."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    scope: Mapped[str] = mapped_column(String(300), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AssetIdentity(Base):
    """Identity evidence: key ``kind=value`` belongs to an asset. Used both to correlate (bulk lookup
    by value) and to explain merges (which key, which source, which run, when)."""

    __tablename__ = "asset_identity"
    __table_args__ = (UniqueConstraint("key", "value"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(300), index=True)
    source: Mapped[str] = mapped_column(String(32))
    #: How the observation was attached: created, matched:<key>, manual.
    how: Mapped[str] = mapped_column(String(48))
    first_run_id: Mapped[int | None] = mapped_column(Integer)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AttributeProvenance(Base):
    """Which source (and run) said ``attribute=value`` about an asset, first and last time."""

    __tablename__ = "attribute_provenance"
    __table_args__ = (UniqueConstraint("asset_id", "attribute", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    attribute: Mapped[str] = mapped_column(String(32))
    value: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScopeState(Base):
    """Last state of an asset within a run scope: fingerprint of the observed facts (so an unchanged
    re-import only bumps timestamps) and the last run that saw it (so the rest become missing)."""

    __tablename__ = "scope_state"
    __table_args__ = (
        UniqueConstraint("scope", "asset_id"),
        Index("ix_scope_state_scope_run", "scope", "last_run_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(300))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(40))
    first_run_id: Mapped[int] = mapped_column(Integer)
    last_run_id: Mapped[int] = mapped_column(Integer)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    missing: Mapped[bool] = mapped_column(default=False)


class ScanDetail(Base):
    """Raw scanner detail that has no column on the map (OS matches, script output, reasons)."""

    __tablename__ = "scan_detail"
    __table_args__ = (UniqueConstraint("asset_id", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChangeEvent(Base):
    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_asset_at", "asset_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    #: What changed inside the asset, e.g. ``127.0.0.2 tcp/80`` or a package name.
    subject: Mapped[str | None] = mapped_column(String(300))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class LinkDecision(Base):
    """A manual correlation decision that later imports honour.

    ``link``: identity ``key=value`` belongs to ``asset_id`` whatever automatic matching says.
    ``unlink``: identity ``key=value`` must never merge into ``asset_id``.
    """

    __tablename__ = "link_decision"
    __audited__ = True
    __table_args__ = (UniqueConstraint("action", "key", "value", "asset_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(8))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
