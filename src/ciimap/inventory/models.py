"""ORM models of the security map. Declared once; API, CLI, UI, filters and audit reuse them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ciimap.core.db import Base, ObservedMixin, TimestampMixin

# Vocabularies, each declared once: the Literal types validate schemas (API, CLI), the tuples of their
# values serve filters, forms and SQL; stored as plain strings so both databases agree.
# tests/test_vocabularies.py fails if one of them is written out again anywhere else in src.
ZoneKind = Literal["internet", "dmz", "office", "production", "ot", "management", "cloud", "test", "other"]
AssetKind = Literal[
    "server",
    "workstation",
    "network_device",
    "security_appliance",
    "vm",
    "container",
    "cloud_resource",
    "ot_device",
    "storage",
    "mobile",
    "iot",
    "other",
]
Lifecycle = Literal["planned", "active", "maintenance", "retired", "missing"]
#: In report order (supply's domestic-substitution tables list the layers this way).
Layer = Literal["os", "database", "middleware", "network", "security", "hardware", "application", "other"]
Privilege = Literal["none", "user", "admin", "kernel"]
EdgeKind = Literal["depends_on", "runs_on", "hosted_by", "replica_of", "part_of", "uses", "connects_to"]
NodeType = Literal[
    "business_service", "system", "asset", "service_endpoint", "product", "vendor", "software", "site", "zone"
]
#: The four-level scale, lowest first: asset criticality, and the same scale wherever ciimap rates
#: something (vulnerability severity, supplier risk, finding severity).
Criticality = Literal["low", "medium", "high", "critical"]
EndpointState = Literal["open", "filtered", "closed", "open|filtered", "closed|filtered", "unfiltered"]

ZONE_KINDS: tuple[str, ...] = get_args(ZoneKind)
ASSET_KINDS: tuple[str, ...] = get_args(AssetKind)
LIFECYCLE: tuple[str, ...] = get_args(Lifecycle)
PRODUCT_LAYERS: tuple[str, ...] = get_args(Layer)
UPDATE_PRIVILEGE: tuple[str, ...] = get_args(Privilege)
EDGE_KINDS: tuple[str, ...] = get_args(EdgeKind)
#: Edges along which the source needs its target to work (impact and exposure follow them).
NEED_KINDS: tuple[str, ...] = ("depends_on", "runs_on", "hosted_by", "uses")
NODE_TYPES: tuple[str, ...] = get_args(NodeType)
CRITICALITY: tuple[str, ...] = get_args(Criticality)
ENDPOINT_STATES: tuple[str, ...] = get_args(EndpointState)


class Organization(TimestampMixin, Base):
    __tablename__ = "organization"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(64))
    sector: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)


class Contact(TimestampMixin, Base):
    __tablename__ = "contact"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))


class Site(TimestampMixin, Base):
    __tablename__ = "site"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(32))  # datacenter, station, office, substation...
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class NetworkZone(TimestampMixin, Base):
    __tablename__ = "network_zone"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="other")
    cidrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    internet_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)


class BusinessService(TimestampMixin, Base):
    """关键业务: what the operator exists to deliver."""

    __tablename__ = "business_service"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(64))
    criticality: Mapped[str] = mapped_column(String(16), default="medium")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    rto_minutes: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class System(TimestampMixin, Base):
    """等级保护对象: a graded, filed protected object."""

    __tablename__ = "system"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    mlps_level: Mapped[int | None] = mapped_column(Integer, index=True)
    mlps_s_level: Mapped[int | None] = mapped_column(Integer)
    mlps_a_level: Mapped[int | None] = mapped_column(Integer)
    is_cii: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    criticality: Mapped[str] = mapped_column(String(16), default="medium")
    hosting_platform: Mapped[str | None] = mapped_column(String(100))
    filing_number: Mapped[str | None] = mapped_column(String(64))
    filing_date: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)


class Vendor(TimestampMixin, Base):
    __tablename__ = "vendor"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    is_domestic: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    website: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class Product(TimestampMixin, Base):
    __tablename__ = "product"
    __audited__ = True
    __table_args__ = (UniqueConstraint("vendor_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    layer: Mapped[str] = mapped_column(String(32), default="application")
    cpe_prefix: Mapped[str | None] = mapped_column(String(200))
    #: The vendor pushes updates on its own (content, signatures, agents) without the operator's step.
    auto_update: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Privilege the pushed update runs with: none/user/admin/kernel.
    update_privilege: Mapped[str] = mapped_column(String(16), default="none")
    update_channel: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)


class Asset(TimestampMixin, ObservedMixin, Base):
    __tablename__ = "asset"
    __audited__ = True
    __table_args__ = (
        Index("ix_asset_zone_id_id", "zone_id", "id"),
        Index("ix_asset_site_id_id", "site_id", "id"),
        Index("ix_asset_system_id_id", "system_id", "id"),
        # the command map's clusters: counts per (system, zone) read from the index alone
        Index("ix_asset_system_zone_state", "system_id", "zone_id", "lifecycle_status", "declared"),
        # (column, id): prefix search reads ids from the index alone on PostgreSQL too (migration 0007)
        Index("ix_asset_hostname_id", "hostname", "id"),
        Index("ix_asset_primary_ip_id", "primary_ip", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="server", index=True)
    hostname: Mapped[str | None] = mapped_column(String(255))  # indexed by ix_asset_hostname_id
    fqdn: Mapped[str | None] = mapped_column(String(255))
    serial: Mapped[str | None] = mapped_column(String(100), index=True)
    cloud_id: Mapped[str | None] = mapped_column(String(200), index=True)
    macs: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: First IP address, kept on the row for listing and prefix search; all addresses are in ``ip_address``.
    primary_ip: Mapped[str | None] = mapped_column(String(45))  # indexed by ix_asset_primary_ip_id
    ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    os_family: Mapped[str | None] = mapped_column(String(32))
    os_name: Mapped[str | None] = mapped_column(String(200))
    os_version: Mapped[str | None] = mapped_column(String(100))
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("network_zone.id", ondelete="SET NULL"))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    lifecycle_status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    criticality: Mapped[str] = mapped_column(String(16), default="medium")
    #: Declared in the operator's register (资产台账); observed-only assets are "unmanaged".
    declared: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)


class IpAddress(ObservedMixin, Base):
    """Every address an asset answers on (IPv4/IPv6, with MAC when seen on the same segment)."""

    __tablename__ = "ip_address"
    __table_args__ = (
        UniqueConstraint("asset_id", "address"),
        Index("ix_ip_address_address_asset_id", "address", "asset_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("asset.id", ondelete="CASCADE")
    )  # leads the unique (asset_id, address)
    address: Mapped[str] = mapped_column(String(45))  # leads ix_ip_address_address_asset_id
    version: Mapped[int] = mapped_column(Integer, default=4)
    mac: Mapped[str | None] = mapped_column(String(17))
    mac_vendor: Mapped[str | None] = mapped_column(String(100))


class ServiceEndpoint(TimestampMixin, ObservedMixin, Base):
    __tablename__ = "service_endpoint"
    __audited__ = True
    __table_args__ = (UniqueConstraint("asset_id", "address", "protocol", "port"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))  # leads the unique key
    address: Mapped[str | None] = mapped_column(String(45))
    protocol: Mapped[str] = mapped_column(String(8), default="tcp")
    port: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(20), default="open")
    name: Mapped[str | None] = mapped_column(String(64), index=True)
    product: Mapped[str | None] = mapped_column(String(200), index=True)
    version: Mapped[str | None] = mapped_column(String(100))
    extrainfo: Mapped[str | None] = mapped_column(String(300))
    tunnel: Mapped[str | None] = mapped_column(String(16))
    cpes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: probed (fingerprinted), table (guessed from the port number), manual, register...
    method: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[int | None] = mapped_column(Integer)


class Software(TimestampMixin, ObservedMixin, Base):
    """An installed or bundled product: on an asset, or part of a system (from an SBOM)."""

    __tablename__ = "software"
    __audited__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("system.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    version: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), default="installed")  # installed/library/firmware/os
    purl: Mapped[str | None] = mapped_column(String(500), index=True)
    cpe: Mapped[str | None] = mapped_column(String(300))
    supplier: Mapped[str | None] = mapped_column(String(200))
    licenses: Mapped[list[str]] = mapped_column(JSON, default=list)
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bom_ref: Mapped[str | None] = mapped_column(String(500))


class Edge(TimestampMixin, ObservedMixin, Base):
    """A typed dependency between two map nodes.

    Edges leaving the same node with the same non-null ``redundancy_group`` are alternatives: the
    source keeps working while at least one of them is healthy (it degrades when some fail).
    """

    __tablename__ = "edge"
    __audited__ = True
    __table_args__ = (
        Index("ix_edge_src", "src_type", "src_id"),
        Index("ix_edge_dst", "dst_type", "dst_id"),
        UniqueConstraint("src_type", "src_id", "kind", "dst_type", "dst_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    src_type: Mapped[str] = mapped_column(String(32))
    src_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32), default="depends_on")
    dst_type: Mapped[str] = mapped_column(String(32))
    dst_id: Mapped[int] = mapped_column(Integer)
    redundancy_group: Mapped[str | None] = mapped_column(String(100), index=True)
    description: Mapped[str | None] = mapped_column(String(300))
