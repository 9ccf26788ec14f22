"""Vulnerability tables: feed imports, advisories and what they affect, KEV/EPSS, findings and triage.

Feeds are bulk data (hundreds of thousands of rows) written with Core inserts and one
``audit.record_bulk`` per import. Triage is what people decide, so it is ORM-written and audited, and it
is keyed by (scope, package identity, advisory) — never by finding id — so that it survives re-matching,
re-imports of software and version changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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

from ciimap.core.db import Base, utcnow

TRIAGE_STATES = ("new", "confirmed", "not_affected", "fixed", "risk_accepted")
PRIORITIES = ("P1", "P2", "P3", "P4")


class FeedImport(Base):
    """One import of one feed file/directory: where it came from, how fresh it is, its checksum."""

    __tablename__ = "vuln_feed_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(500))
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    checksum: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(100), default="system")
    seconds: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Advisory(Base):
    """One advisory (OSV, NVD CVE, CNNVD or CNVD entry); linked across feeds by CVE aliases."""

    __tablename__ = "vuln_advisory"
    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str | None] = mapped_column(String(16))  # critical/high/medium/low
    cvss_vector: Mapped[str | None] = mapped_column(String(200))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    published: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    modified: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    feed_import_id: Mapped[int | None] = mapped_column(ForeignKey("vuln_feed_import.id", ondelete="SET NULL"))


class AdvisoryAlias(Base):
    """Every id an advisory is known by (its own id too), for cross-feed links and ``vulns where``."""

    __tablename__ = "vuln_advisory_alias"
    __table_args__ = (UniqueConstraint("alias", "advisory_pk"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), index=True)
    advisory_pk: Mapped[int] = mapped_column(ForeignKey("vuln_advisory.id", ondelete="CASCADE"), index=True)


class AffectedRange(Base):
    """One affected interval (or explicit version list) of one package in one advisory."""

    __tablename__ = "vuln_affected_range"
    __table_args__ = (Index("ix_vuln_affected_range_eco_pkg", "ecosystem", "package"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_pk: Mapped[int] = mapped_column(ForeignKey("vuln_advisory.id", ondelete="CASCADE"), index=True)
    ecosystem: Mapped[str] = mapped_column(String(32))  # purl type: pypi, npm, maven, deb...
    package: Mapped[str] = mapped_column(String(300))  # normalised per ecosystem
    osv_ecosystem: Mapped[str | None] = mapped_column(String(64))  # as written: PyPI, Debian:11...
    range_type: Mapped[str] = mapped_column(String(16))  # ECOSYSTEM, SEMVER, EXPLICIT
    introduced: Mapped[str | None] = mapped_column(String(100))
    fixed: Mapped[str | None] = mapped_column(String(100))
    last_affected: Mapped[str | None] = mapped_column(String(100))
    limit: Mapped[str | None] = mapped_column(String(100))
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``versions`` in canonical spelling (versions.canonical), precomputed so matching never parses lists.
    versions_canonical: Mapped[list[str]] = mapped_column(JSON, default=list)


class CpeMatch(Base):
    """One NVD cpeMatch: parsed criteria, version bounds and its place in the configuration tree."""

    __tablename__ = "vuln_cpe_match"
    __table_args__ = (Index("ix_vuln_cpe_match_product_vendor", "product", "vendor"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_pk: Mapped[int] = mapped_column(ForeignKey("vuln_advisory.id", ondelete="CASCADE"), index=True)
    config_index: Mapped[int] = mapped_column(Integer, default=0)
    config_operator: Mapped[str] = mapped_column(String(3), default="OR")
    node_index: Mapped[int] = mapped_column(Integer, default=0)
    node_operator: Mapped[str] = mapped_column(String(3), default="OR")
    negate: Mapped[bool] = mapped_column(Boolean, default=False)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=True)
    criteria: Mapped[str] = mapped_column(String(300))
    part: Mapped[str] = mapped_column(String(1))
    vendor: Mapped[str] = mapped_column(String(120))
    product: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(100), default="*")
    update: Mapped[str] = mapped_column(String(100), default="*")
    target_sw: Mapped[str] = mapped_column(String(100), default="*")
    version_start_including: Mapped[str | None] = mapped_column(String(100))
    version_start_excluding: Mapped[str | None] = mapped_column(String(100))
    version_end_including: Mapped[str | None] = mapped_column(String(100))
    version_end_excluding: Mapped[str | None] = mapped_column(String(100))


class KevEntry(Base):
    """CISA Known Exploited Vulnerabilities catalogue entry."""

    __tablename__ = "vuln_kev"
    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vendor_project: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    date_added: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    ransomware: Mapped[bool] = mapped_column(Boolean, default=False)
    required_action: Mapped[str | None] = mapped_column(Text)
    cwes: Mapped[list[str]] = mapped_column(JSON, default=list)
    feed_import_id: Mapped[int | None] = mapped_column(ForeignKey("vuln_feed_import.id", ondelete="SET NULL"))


class EpssScore(Base):
    """FIRST EPSS probability of exploitation in the next 30 days."""

    __tablename__ = "vuln_epss"
    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    epss: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float | None] = mapped_column(Float)
    score_date: Mapped[dt.date | None] = mapped_column(Date)
    feed_import_id: Mapped[int | None] = mapped_column(ForeignKey("vuln_feed_import.id", ondelete="SET NULL"))


class Finding(Base):
    """A (software or endpoint) × advisory match, with its evidence, score and effective status."""

    __tablename__ = "vuln_finding"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "advisory_pk"),
        Index("ix_vuln_finding_asset_id_priority", "asset_id", "priority"),
        Index("ix_vuln_finding_system_id_priority", "system_id", "priority"),
        Index("ix_vuln_finding_triage_key", "triage_key"),
        # the findings page at a million findings (migration vulnidx1): the flat list streams its first
        # page in score order, and each grouping reads one covering index in group order
        Index("ix_vuln_finding_active_score", "active", "score", "id"),
        Index(
            "ix_vuln_finding_groups_advisory",
            "active",
            "advisory_id",
            "asset_id",
            "score",
            "priority",
            "due_date",
        ),
        Index("ix_vuln_finding_groups_asset", "active", "asset_id", "score", "priority", "due_date"),
        Index(
            "ix_vuln_finding_groups_system",
            "active",
            "system_id",
            "asset_id",
            "score",
            "priority",
            "due_date",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16))  # software | endpoint
    target_id: Mapped[int] = mapped_column(Integer)
    software_id: Mapped[int | None] = mapped_column(ForeignKey("software.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_endpoint.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[int | None] = mapped_column(Integer)
    system_id: Mapped[int | None] = mapped_column(Integer)
    advisory_pk: Mapped[int] = mapped_column(ForeignKey("vuln_advisory.id", ondelete="CASCADE"), index=True)
    advisory_id: Mapped[str] = mapped_column(String(64))
    cve_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    package: Mapped[str] = mapped_column(
        String(400)
    )  # identity without version: pkg:pypi/jinja2, cpe:a:nginx:nginx
    version: Mapped[str | None] = mapped_column(String(100))
    match_kind: Mapped[str] = mapped_column(String(8))  # purl | cpe
    confidence: Mapped[str] = mapped_column(String(8), default="high")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    priority: Mapped[str] = mapped_column(String(2), default="P4")
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    first_matched: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_matched: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: False once the component no longer matches (upgraded, removed, advisory withdrawn).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    triage_key: Mapped[str] = mapped_column(String(500))


class Triage(Base):
    """A person's decision about an advisory for a package in a scope (an asset or a system)."""

    __tablename__ = "vuln_triage"
    __audited__ = True
    __table_args__ = (UniqueConstraint("key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: "asset:12|pkg:pypi/jinja2|PYSEC-2019-217" — see triage.triage_key().
    key: Mapped[str] = mapped_column(String(500))
    scope_type: Mapped[str] = mapped_column(String(8))  # asset | system
    scope_id: Mapped[int] = mapped_column(Integer)
    package: Mapped[str] = mapped_column(String(400))
    advisory_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    justification: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    expires: Mapped[dt.date | None] = mapped_column(Date)
    #: Version seen when the state was set (evidence for "fixed"/"not_affected").
    version: Mapped[str | None] = mapped_column(String(100))
    #: "fixed" confirmed by the map: a later match no longer found the package vulnerable in the scope.
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100), default="system")
    #: Who works on it and by when (set from the findings page's bulk triage or the API).
    assignee: Mapped[str | None] = mapped_column(String(100))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
