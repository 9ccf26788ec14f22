"""API/CLI schemas of the security map: ``XCreate`` validates input, ``XUpdate`` is its partial form,
``XRead`` is what is returned."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ciimap.core.schemas import Int32, ReadSchema, Schema, UtcDateTime, partial
from ciimap.inventory.models import (
    AssetKind,
    Criticality,
    EdgeKind,
    EndpointState,
    Layer,
    Lifecycle,
    NodeType,
    Privilege,
    ZoneKind,
)

Level = Annotated[int, Field(ge=1, le=5)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _check_ip(v: str) -> str:
    try:
        return str(ipaddress.ip_address(v))
    except ValueError as e:
        raise ValueError(f"'{v}' is not an IP address") from e


# --- organisation, contacts, sites, zones -------------------------------------------------------


class OrganizationCreate(Schema):
    name: Name
    short_name: str | None = None
    sector: str | None = None
    description: str | None = None


class OrganizationRead(ReadSchema, OrganizationCreate):
    id: int


class ContactCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    title: str | None = None
    department: str | None = None
    email: str | None = None
    phone: str | None = None


class ContactRead(ReadSchema, ContactCreate):
    id: int


class SiteCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    code: str | None = None
    kind: str | None = None
    address: str | None = None
    city: str | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class SiteRead(ReadSchema, SiteCreate):
    id: int


class NetworkZoneCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    site_id: Int32 | None = None
    kind: ZoneKind = "other"
    cidrs: list[str] = []
    internet_facing: bool = False
    description: str | None = None

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        out = []
        for c in v:
            try:
                out.append(str(ipaddress.ip_network(c, strict=False)))
            except ValueError as e:
                raise ValueError(f"'{c}' is not a CIDR network") from e
        return out


class NetworkZoneRead(ReadSchema, NetworkZoneCreate):
    id: int


# --- business services and systems ------------------------------------------------------------


class BusinessServiceCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    code: str | None = None
    criticality: Criticality = "medium"
    owner_id: Int32 | None = None
    rto_minutes: Annotated[Int32, Field(ge=0)] | None = None
    description: str | None = None


class BusinessServiceRead(ReadSchema, BusinessServiceCreate):
    id: int


class SystemCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    code: str | None = None
    owner_id: Int32 | None = None
    mlps_level: Level | None = None
    mlps_s_level: Level | None = None
    mlps_a_level: Level | None = None
    is_cii: bool = False
    criticality: Criticality = "medium"
    hosting_platform: str | None = None
    filing_number: str | None = None
    filing_date: dt.date | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _level_is_max(self) -> SystemCreate:
        s, a = self.mlps_s_level, self.mlps_a_level
        if s is not None and a is not None:
            if self.mlps_level is None:
                self.mlps_level = max(s, a)
            elif self.mlps_level != max(s, a):
                raise ValueError(f"mlps_level must be max(S, A) = {max(s, a)} (GB/T 22240-2020)")
        return self


class SystemRead(ReadSchema):
    id: int
    name: str
    organization_id: int | None
    code: str | None
    owner_id: int | None
    mlps_level: int | None
    mlps_s_level: int | None
    mlps_a_level: int | None
    is_cii: bool
    criticality: str
    hosting_platform: str | None
    filing_number: str | None
    filing_date: dt.date | None
    description: str | None


# --- vendors and products ---------------------------------------------------------------------


class VendorCreate(Schema):
    name: Name
    aliases: list[str] = []
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    is_domestic: bool = False
    website: str | None = None
    description: str | None = None

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v


class VendorRead(ReadSchema, VendorCreate):
    id: int


class ProductCreate(Schema):
    name: Name
    vendor_id: Int32
    layer: Layer = "application"
    cpe_prefix: str | None = None
    auto_update: bool = False
    update_privilege: Privilege = "none"
    update_channel: str | None = None
    description: str | None = None


class ProductRead(ReadSchema, ProductCreate):
    id: int


# --- assets, endpoints, software --------------------------------------------------------------


class AssetCreate(Schema):
    name: Name
    organization_id: Int32 | None = None
    kind: AssetKind = "server"
    hostname: str | None = None
    fqdn: str | None = None
    serial: str | None = None
    cloud_id: str | None = None
    macs: list[str] = []
    ips: list[str] = []
    os_family: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    site_id: Int32 | None = None
    zone_id: Int32 | None = None
    system_id: Int32 | None = None
    owner_id: Int32 | None = None
    lifecycle_status: Lifecycle = "active"
    criticality: Criticality = "medium"
    declared: bool = False
    tags: list[str] = []
    source: str = "manual"

    @field_validator("ips")
    @classmethod
    def _ips(cls, v: list[str]) -> list[str]:
        return [_check_ip(x) for x in v]

    @field_validator("macs")
    @classmethod
    def _macs(cls, v: list[str]) -> list[str]:
        out = []
        for m in v:
            hexes = "".join(ch for ch in m if ch.isalnum()).upper()
            if len(hexes) != 12 or any(ch not in "0123456789ABCDEF" for ch in hexes):
                raise ValueError(f"'{m}' is not a MAC address")
            out.append(":".join(hexes[i : i + 2] for i in range(0, 12, 2)))
        return out

    @field_validator("hostname")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        return v.lower() if v else v


class AssetRead(ReadSchema):
    id: int
    name: str
    organization_id: int | None
    kind: str
    hostname: str | None
    fqdn: str | None
    serial: str | None
    cloud_id: str | None
    macs: list[str]
    primary_ip: str | None
    ips: list[str]
    os_family: str | None
    os_name: str | None
    os_version: str | None
    manufacturer: str | None
    model: str | None
    site_id: int | None
    zone_id: int | None
    system_id: int | None
    owner_id: int | None
    lifecycle_status: str
    criticality: str
    declared: bool
    tags: list[str]
    source: str
    first_seen: UtcDateTime
    last_seen: UtcDateTime


class ServiceEndpointCreate(Schema):
    asset_id: Int32
    address: str | None = None
    protocol: Literal["tcp", "udp", "sctp", "ip"] = "tcp"
    port: Annotated[int, Field(ge=0, le=65535)]
    state: EndpointState = "open"
    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    tunnel: str | None = None
    cpes: list[str] = []
    method: str | None = "manual"
    confidence: Annotated[int, Field(ge=0, le=10)] | None = None
    source: str = "manual"

    @field_validator("address")
    @classmethod
    def _addr(cls, v: str | None) -> str | None:
        return _check_ip(v) if v else v


class ServiceEndpointRead(ReadSchema, ServiceEndpointCreate):
    id: int
    first_seen: UtcDateTime
    last_seen: UtcDateTime


class SoftwareCreate(Schema):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    version: str | None = None
    asset_id: Int32 | None = None
    system_id: Int32 | None = None
    product_id: Int32 | None = None
    kind: str = "installed"
    purl: str | None = None
    cpe: str | None = None
    supplier: str | None = None
    licenses: list[str] = []
    hashes: dict[str, Any] = {}
    bom_ref: str | None = None
    source: str = "manual"

    @field_validator("purl")
    @classmethod
    def _purl(cls, v: str | None) -> str | None:
        if v:
            from packageurl import PackageURL

            try:
                PackageURL.from_string(v)
            except ValueError as e:
                raise ValueError(f"invalid purl '{v}': {e}") from e
        return v


class SoftwareRead(ReadSchema, SoftwareCreate):
    id: int
    first_seen: UtcDateTime
    last_seen: UtcDateTime


class EdgeCreate(Schema):
    src_type: NodeType
    src_id: Int32
    kind: EdgeKind = "depends_on"
    dst_type: NodeType
    dst_id: Int32
    redundancy_group: str | None = None
    description: str | None = None
    source: str = "manual"


class EdgeRead(ReadSchema, EdgeCreate):
    id: int


OrganizationUpdate = partial(OrganizationCreate, "OrganizationUpdate")
ContactUpdate = partial(ContactCreate, "ContactUpdate")
SiteUpdate = partial(SiteCreate, "SiteUpdate")
NetworkZoneUpdate = partial(NetworkZoneCreate, "NetworkZoneUpdate")
BusinessServiceUpdate = partial(BusinessServiceCreate, "BusinessServiceUpdate")
SystemUpdate = partial(SystemCreate, "SystemUpdate")
VendorUpdate = partial(VendorCreate, "VendorUpdate")
ProductUpdate = partial(ProductCreate, "ProductUpdate")
AssetUpdate = partial(AssetCreate, "AssetUpdate")
ServiceEndpointUpdate = partial(ServiceEndpointCreate, "ServiceEndpointUpdate")
SoftwareUpdate = partial(SoftwareCreate, "SoftwareUpdate")
EdgeUpdate = partial(EdgeCreate, "EdgeUpdate")


class OverviewCounts(BaseModel):
    assets: int
    unmanaged: int  # found by a scan, not declared in a register
    missing: int  # lifecycle_status missing: declared but no longer seen
    systems: int
    cii_systems: int
    business_services: int
    sites: int
    endpoints: int
    vendors: int
    foreign_vendors: int
    foreign_products: int


#: ``[label, count]``; a missing value is labelled "—".
Series = list[tuple[str, int]]


class OverviewCharts(BaseModel):
    assets_by_kind: Series
    assets_by_lifecycle: Series
    assets_by_zone_kind: Series
    systems_by_mlps: Series  # "L1".."L5"
    assets_first_seen: Series  # per day (ISO date), the last 30 days, zero-filled
    unmanaged_first_seen: Series


class Overview(BaseModel):
    """Counts and trends over the whole map (the dashboard's figures)."""

    counts: OverviewCounts
    charts: OverviewCharts


class SiteOnMap(BaseModel):
    id: int
    name: str
    code: str | None
    kind: str | None
    city: str | None
    lat: float | None
    lon: float | None
    assets: int
    missing: int  # assets whose lifecycle_status is missing
    zones: int
