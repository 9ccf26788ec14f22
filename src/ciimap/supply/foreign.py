"""Foreign-product inventory (国外产品清单): which products of non-domestic vendors each system uses, by layer.

A system uses a product through (1) software on its assets (``asset.system_id``), (2) software attached
to the system itself (``software.system_id``, e.g. from an SBOM) and (3) ``system -> product`` edges.
Every figure comes from a few grouped queries whose result size is systems x products, never assets,
so the inventory stays fast on million-asset maps (see bench/supply.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid, NotFound
from ciimap.inventory import models as inv

LAYERS = inv.PRODUCT_LAYERS  # in report order
#: Key for assets that belong to no system: their products are still part of the organisation's picture.
NO_SYSTEM = None


@dataclass
class ProductInfo:
    id: int
    name: str
    layer: str
    auto_update: bool
    update_privilege: str
    vendor_id: int
    vendor: str
    country: str | None
    is_domestic: bool


@dataclass
class Usage:
    """One product used by one system: how many of the system's assets run it and through which paths."""

    assets: int = 0
    via: set[str] = field(default_factory=set)


def products(session: Session) -> dict[int, ProductInfo]:
    """Every product with its vendor, in one query (products are few compared with assets)."""
    p, v = inv.Product, inv.Vendor
    rows = session.execute(
        select(
            p.id, p.name, p.layer, p.auto_update, p.update_privilege, v.id, v.name, v.country, v.is_domestic
        ).join(v, p.vendor_id == v.id)
    )
    return {r[0]: ProductInfo(*r) for r in rows}


def systems(session: Session) -> dict[int | None, tuple[str, bool]]:
    """System id -> (name, is_cii); ``None`` (assets without a system) is simply absent."""
    return {
        r[0]: (r[1], bool(r[2]))
        for r in session.execute(select(inv.System.id, inv.System.name, inv.System.is_cii))
    }


def _active_software() -> Select[Any]:
    """Software on non-retired assets that is linked to a product.

    ``coalesce(product_id, 0) != 0`` instead of ``IS NOT NULL`` keeps SQLite on one sequential scan:
    with ``IS NOT NULL`` it walks the product_id index and fetches every row at random (3x slower
    on 900k rows, measured with bench/supply.py); PostgreSQL plans both the same.
    """
    a, s = inv.Asset, inv.Software
    return (
        select()
        .select_from(s)
        .join(a, s.asset_id == a.id)
        .where(func.coalesce(s.product_id, 0) != 0, a.lifecycle_status != "retired")
    )


Pairs = dict[tuple[int | None, int], Usage]


def usage(session: Session, *, system_id: int | None = None) -> Pairs:
    """(system_id, product_id) -> Usage, from three grouped queries."""
    a, s, e = inv.Asset, inv.Software, inv.Edge
    out: Pairs = defaultdict(Usage)
    q1 = (
        _active_software()
        .add_columns(a.system_id, s.product_id, func.count(func.distinct(a.id)))
        .group_by(a.system_id, s.product_id)
    )
    q2 = (
        select(s.system_id, s.product_id, func.count())
        .where(s.system_id.is_not(None), s.product_id.is_not(None))
        .group_by(s.system_id, s.product_id)
    )
    q3 = (
        select(e.src_id, e.dst_id, func.count())
        .where(e.src_type == "system", e.dst_type == "product")
        .group_by(e.src_id, e.dst_id)
    )
    if system_id is not None:
        q1, q2, q3 = (
            q1.where(a.system_id == system_id),
            q2.where(s.system_id == system_id),
            q3.where(e.src_id == system_id),
        )
    for sys_id, prod_id, n in session.execute(q1):
        u = out[(sys_id, int(prod_id or 0))]
        u.assets += n
        u.via.add("asset")
    for sys_id, prod_id, _n in session.execute(q2):
        out[(sys_id, int(prod_id or 0))].via.add("system_software")
    for sys_id, prod_id, _n in session.execute(q3):
        out[(sys_id, prod_id)].via.add("edge")
    return out


def _asset_counts(
    session: Session, *, system_id: int | None, layer: str | None
) -> dict[tuple[int | None, str, bool], int]:
    """Distinct assets per (system, layer, domestic?): an asset with two foreign databases counts once."""
    a, s, p, v = inv.Asset, inv.Software, inv.Product, inv.Vendor
    q = (
        _active_software()
        .join(p, s.product_id == p.id)
        .join(v, p.vendor_id == v.id)
        .add_columns(a.system_id, p.layer, v.is_domestic, func.count(func.distinct(a.id)))
        .group_by(a.system_id, p.layer, v.is_domestic)
    )
    if system_id is not None:
        q = q.where(a.system_id == system_id)
    if layer is not None:
        q = q.where(p.layer == layer)
    return {(r[0], r[1], bool(r[2])): r[3] for r in session.execute(q)}


def _layer_order(layer: str) -> int:
    return LAYERS.index(layer) if layer in LAYERS else len(LAYERS)


def _row(sys_id: int | None, sysinfo: tuple[str, bool], layer: str) -> dict[str, Any]:
    return {
        "system_id": sys_id,
        "system": sysinfo[0],
        "is_cii": sysinfo[1],
        "layer": layer,
        "products": 0,
        "foreign_products": 0,
        "domestic_products": 0,
        "domestic_share": None,
        "foreign_assets": 0,
        "domestic_assets": 0,
        "foreign": [],
    }


Rows = dict[tuple[int | None, str], dict[str, Any]]
LayerIds = dict[str, dict[bool, set[int]]]


def _collect(
    pairs: Pairs,
    prods: dict[int, ProductInfo],
    sysmap: dict[int | None, tuple[str, bool]],
    layer: str | None,
    cii_only: bool,
) -> tuple[Rows, LayerIds]:
    """Fold (system, product) usage into system x layer rows and per-layer product id sets."""
    rows: Rows = {}
    ids: LayerIds = defaultdict(lambda: {True: set(), False: set()})
    for (sys_id, prod_id), use in pairs.items():
        info = prods.get(prod_id)
        if info is None or (layer is not None and info.layer != layer):
            continue
        if cii_only and not sysmap.get(sys_id, ("", False))[1]:
            continue
        key = (sys_id, info.layer)
        row = rows.get(key) or rows.setdefault(key, _row(sys_id, sysmap.get(sys_id, ("", False)), info.layer))
        row["products"] += 1
        ids[info.layer][info.is_domestic].add(info.id)
        if info.is_domestic:
            row["domestic_products"] += 1
        else:
            row["foreign_products"] += 1
            row["foreign"].append(
                {
                    "product_id": info.id,
                    "product": info.name,
                    "vendor_id": info.vendor_id,
                    "vendor": info.vendor,
                    "country": info.country,
                    "assets": use.assets,
                    "via": sorted(use.via),
                }
            )
    return rows, ids


def inventory(
    session: Session,
    *,
    system_id: int | None = None,
    layer: str | None = None,
    include_domestic_only: bool = False,
    cii_only: bool = False,
    pairs: Pairs | None = None,
) -> dict[str, Any]:
    """Rows per system x layer (with the foreign products named) and an organisation summary per layer.

    ``domestic_share`` is the share of distinct products of domestic vendors in that layer.
    Rows without any foreign product are left out unless ``include_domestic_only``; ``cii_only`` keeps
    CII systems only (rows and summary). ``pairs`` (the
    organisation-wide :func:`usage`) lets a caller that needs it several times compute it once.
    """
    if layer is not None and layer not in LAYERS:
        raise Invalid(f"unknown layer '{layer}' (layers: {', '.join(LAYERS)})")
    sysmap = systems(session)
    if system_id is not None and system_id not in sysmap:
        raise NotFound(f"system {system_id} does not exist")
    if pairs is None or system_id is not None:
        pairs = usage(session, system_id=system_id)
    rows, ids = _collect(pairs, products(session), sysmap, layer, cii_only)
    for (sys_id, lay, domestic), n in _asset_counts(session, system_id=system_id, layer=layer).items():
        if (sys_id, lay) in rows:
            rows[(sys_id, lay)]["domestic_assets" if domestic else "foreign_assets"] = n
    out = []
    for row in rows.values():
        row["domestic_share"] = (
            round(row["domestic_products"] / row["products"], 4) if row["products"] else None
        )
        row["foreign"].sort(key=lambda f: (-f["assets"], f["vendor"], f["product"]))
        if row["foreign_products"] or include_domestic_only:
            out.append(row)
    out.sort(key=lambda r: (r["system_id"] is None, r["system"], _layer_order(r["layer"])))
    return {"rows": out, "summary": _summary(list(rows.values()), ids)}


def _summary(rows: list[dict[str, Any]], ids: LayerIds) -> list[dict[str, Any]]:
    """Per layer across the organisation: distinct products, domestic share, assets, affected systems."""
    out = []
    for lay in LAYERS:
        if lay not in ids:
            continue
        foreign, domestic = ids[lay][False], ids[lay][True]
        mine = [r for r in rows if r["layer"] == lay]
        total = len(foreign | domestic)
        out.append(
            {
                "layer": lay,
                "products": total,
                "foreign_products": len(foreign),
                "domestic_products": len(domestic),
                "domestic_share": round(len(domestic) / total, 4) if total else None,
                "systems_with_foreign": sum(1 for r in mine if r["foreign_products"] and r["system_id"]),
                "foreign_assets": sum(r["foreign_assets"] for r in mine),
                "domestic_assets": sum(r["domestic_assets"] for r in mine),
            }
        )
    return out
