"""Inventory logic beyond generic CRUD: entity declarations and derived columns."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ciimap.core.entity import EntitySpec, register
from ciimap.core.errors import Invalid
from ciimap.inventory import models as m
from ciimap.inventory import schemas as s


def _sync_asset_addresses(session: Session, asset: m.Asset, data: dict[str, Any]) -> None:
    """Keep ``primary_ip`` and the ``ip_address`` rows in step with the asset's ``ips`` list."""
    if "ips" not in data:
        return
    ips = list(dict.fromkeys(asset.ips or []))
    asset.ips = ips
    asset.primary_ip = ips[0] if ips else None
    if asset.id is None:
        session.flush()
    existing = set(session.scalars(select(m.IpAddress.address).where(m.IpAddress.asset_id == asset.id)))
    gone = existing - set(ips)
    if gone:
        session.execute(
            delete(m.IpAddress).where(m.IpAddress.asset_id == asset.id, m.IpAddress.address.in_(gone))
        )
    for ip in ips:
        if ip not in existing:
            session.add(
                m.IpAddress(
                    asset_id=asset.id,
                    address=ip,
                    version=ipaddress.ip_address(ip).version,
                    source=asset.source,
                )
            )


def _check_edge_ends(session: Session, edge: m.Edge, data: dict[str, Any]) -> None:
    """Edges are polymorphic (no foreign keys), so both ends are checked here."""
    for end in ("src", "dst"):
        typ, oid = getattr(edge, f"{end}_type"), getattr(edge, f"{end}_id")
        model = NODE_MODELS[typ]
        if session.get(model, oid) is None:
            raise Invalid(f"{end}: {typ} {oid} does not exist")
    if (edge.src_type, edge.src_id) == (edge.dst_type, edge.dst_id):
        raise Invalid("an edge cannot point to its own source")


ORGANIZATIONS = register(
    EntitySpec(
        "organizations",
        m.Organization,
        s.OrganizationCreate,
        s.OrganizationUpdate,
        s.OrganizationRead,
        filters={"sector": str},
        search=("name", "short_name"),
        label_zh="组织",
        label_en="Organizations",
    )
)
CONTACTS = register(
    EntitySpec(
        "contacts",
        m.Contact,
        s.ContactCreate,
        s.ContactUpdate,
        s.ContactRead,
        filters={"organization_id": int, "department": str},
        search=("name", "email"),
        label_zh="联系人",
        label_en="Contacts",
    )
)
SITES = register(
    EntitySpec(
        "sites",
        m.Site,
        s.SiteCreate,
        s.SiteUpdate,
        s.SiteRead,
        filters={"organization_id": int, "kind": str, "city": str},
        search=("name", "code"),
        label_zh="站点",
        label_en="Sites",
    )
)
ZONES = register(
    EntitySpec(
        "zones",
        m.NetworkZone,
        s.NetworkZoneCreate,
        s.NetworkZoneUpdate,
        s.NetworkZoneRead,
        filters={"site_id": int, "kind": str, "internet_facing": bool},
        search=("name",),
        label_zh="网络区域",
        label_en="Network zones",
    )
)
BUSINESS_SERVICES = register(
    EntitySpec(
        "business-services",
        m.BusinessService,
        s.BusinessServiceCreate,
        s.BusinessServiceUpdate,
        s.BusinessServiceRead,
        filters={"criticality": str, "owner_id": int},
        search=("name", "code"),
        label_zh="关键业务",
        label_en="Business services",
    )
)
SYSTEMS = register(
    EntitySpec(
        "systems",
        m.System,
        s.SystemCreate,
        s.SystemUpdate,
        s.SystemRead,
        filters={"mlps_level": int, "is_cii": bool, "criticality": str, "owner_id": int},
        search=("name", "code", "filing_number"),
        label_zh="定级系统",
        label_en="Systems",
    )
)
VENDORS = register(
    EntitySpec(
        "vendors",
        m.Vendor,
        s.VendorCreate,
        s.VendorUpdate,
        s.VendorRead,
        filters={"country": str, "is_domestic": bool},
        search=("name",),
        label_zh="厂商",
        label_en="Vendors",
    )
)
PRODUCTS = register(
    EntitySpec(
        "products",
        m.Product,
        s.ProductCreate,
        s.ProductUpdate,
        s.ProductRead,
        filters={"vendor_id": int, "layer": str, "auto_update": bool, "update_privilege": str},
        search=("name",),
        label_zh="产品",
        label_en="Products",
    )
)
ASSETS = register(
    EntitySpec(
        "assets",
        m.Asset,
        s.AssetCreate,
        s.AssetUpdate,
        s.AssetRead,
        filters={
            "zone_id": int,
            "site_id": int,
            "system_id": int,
            "owner_id": int,
            "kind": str,
            "lifecycle_status": str,
            "criticality": str,
            "declared": bool,
            "os_family": str,
        },
        search=("hostname", "primary_ip", "name", "serial"),
        extra_search=((m.IpAddress.asset_id, m.IpAddress.address),),
        after_set=_sync_asset_addresses,
        label_zh="资产",
        label_en="Assets",
    )
)
ENDPOINTS = register(
    EntitySpec(
        "endpoints",
        m.ServiceEndpoint,
        s.ServiceEndpointCreate,
        s.ServiceEndpointUpdate,
        s.ServiceEndpointRead,
        filters={"asset_id": int, "port": int, "protocol": str, "state": str, "name": str},
        search=("name", "product"),
        label_zh="服务端口",
        label_en="Service endpoints",
    )
)
SOFTWARE = register(
    EntitySpec(
        "software",
        m.Software,
        s.SoftwareCreate,
        s.SoftwareUpdate,
        s.SoftwareRead,
        filters={"asset_id": int, "system_id": int, "product_id": int, "kind": str, "version": str},
        search=("name", "purl"),
        label_zh="软件",
        label_en="Software",
    )
)
EDGES = register(
    EntitySpec(
        "edges",
        m.Edge,
        s.EdgeCreate,
        s.EdgeUpdate,
        s.EdgeRead,
        filters={"src_type": str, "src_id": int, "dst_type": str, "dst_id": int, "kind": str},
        search=("redundancy_group",),
        after_set=_check_edge_ends,
        label_zh="依赖关系",
        label_en="Dependencies",
    )
)

NODE_MODELS: dict[str, type] = {
    "business_service": m.BusinessService,
    "system": m.System,
    "asset": m.Asset,
    "service_endpoint": m.ServiceEndpoint,
    "product": m.Product,
    "vendor": m.Vendor,
    "software": m.Software,
    "site": m.Site,
    "zone": m.NetworkZone,
}

SPECS = [
    ORGANIZATIONS,
    CONTACTS,
    SITES,
    ZONES,
    BUSINESS_SERVICES,
    SYSTEMS,
    VENDORS,
    PRODUCTS,
    ASSETS,
    ENDPOINTS,
    SOFTWARE,
    EDGES,
]


def edges_touching(
    session: Session, *, node_type: str, node_id: int, limit: int = 50
) -> tuple[list[m.Edge], list[m.Edge]]:
    """Dependencies out of and into one map node (at most ``limit`` each way), for its page."""
    e = m.Edge
    out_rows = session.scalars(select(e).where(e.src_type == node_type, e.src_id == node_id).limit(limit))
    in_rows = session.scalars(select(e).where(e.dst_type == node_type, e.dst_id == node_id).limit(limit))
    return list(out_rows), list(in_rows)
