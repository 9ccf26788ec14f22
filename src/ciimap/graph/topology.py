"""Graph data for the topology map: business services → systems → assets → products → vendors.

One service for the page (/api/ui/topology), the API (/api/graph/topology) and the CLI
(``ciimap topology --json``). The browser draws what this returns with cytoscape.js using the positions computed here (a "preset"
layout). A layered layout computed in Python is O(n log n) and lets the browser skip its own layout,
which is what keeps 5,000 nodes interactive in well under the 3 s budget (see bench/web_topology.py).
All queries are batched: one per node type and one per edge source, never one per node.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ciimap.core.db import chunks
from ciimap.core.entity import build_query
from ciimap.core.errors import Invalid
from ciimap.graph.importance import importance_order, risk_subquery
from ciimap.inventory import models as m
from ciimap.inventory import service as inv

LAYERS = ("business_service", "system", "asset", "product", "vendor")
MAX_BUDGET = 20_000
#: Above this many assets, asset→product edges are summarised per system (see _add_products).
SUMMARISE_ABOVE = 1000  # ids per IN (...) clause: below SQLite's variable limit, cheap on PostgreSQL


def _asset_cols() -> tuple[Any, ...]:
    """The asset columns a topology node needs (one list for the overview and for what-if)."""
    a = m.Asset
    return (
        a.id,
        a.name,
        a.hostname,
        a.primary_ip,
        a.kind,
        a.system_id,
        a.site_id,
        a.zone_id,
        a.lifecycle_status,
        a.declared,
        a.criticality,
    )


def nid(kind: str, ref: int) -> str:
    return f"{kind}:{ref}"


@dataclass
class Graph:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def add_edge(self, src: str, dst: str, kind: str, group: str | None = None) -> None:
        key = (src, dst, kind)
        if key not in self.edges:
            self.edges[key] = {
                "id": f"e{len(self.edges)}",
                "source": src,
                "target": dst,
                "kind": kind,
                "group": group,
            }

    def ids(self, kind: str) -> list[int]:
        return [n["ref"] for n in self.nodes.values() if n["type"] == kind]


def _node(ntype: str, ref: int, label: str, **extra: Any) -> dict[str, Any]:
    return {"id": nid(ntype, ref), "type": ntype, "ref": ref, "label": label or f"{ntype} {ref}", **extra}


def _asset_rows(
    session: Session,
    *,
    site_id: int | None,
    zone_id: int | None,
    mlps_level: int | None,
    q: str | None,
    budget: int,
) -> tuple[list[Any], bool]:
    a = m.Asset
    stmt = select(*_asset_cols())
    if site_id is not None:
        stmt = stmt.where(a.site_id == site_id)
    if zone_id is not None:
        stmt = stmt.where(a.zone_id == zone_id)
    if mlps_level is not None:
        stmt = stmt.where(a.system_id.in_(select(m.System.id).where(m.System.mlps_level == mlps_level)))
    if q:
        matched = build_query(inv.ASSETS, q=q).with_only_columns(a.id)
        systems = build_query(inv.SYSTEMS, q=q).with_only_columns(m.System.id)
        stmt = stmt.where(
            or_(a.id.in_(matched.scalar_subquery()), a.system_id.in_(systems.scalar_subquery()))
        )
    # The budget is filled by importance (CII / business systems first, then the assets that carry
    # risk), never by insertion order; the layout wants the rows grouped by system.

    risk = risk_subquery()
    stmt = stmt.outerjoin(risk, risk.c.asset_id == a.id).order_by(*importance_order(a, risk))
    rows = list(session.execute(stmt.limit(budget + 1)))
    kept = sorted(rows[:budget], key=lambda r: (r.system_id is not None, r.system_id or 0, r.id))
    return kept, len(rows) > budget


def _add_assets(g: Graph, rows: list[Any]) -> None:
    for r in rows:
        label = r.hostname or r.name or r.primary_ip
        g.nodes[nid("asset", r.id)] = _node(
            "asset",
            r.id,
            label,
            kind=r.kind,
            ip=r.primary_ip,
            site=r.site_id,
            zone=r.zone_id,
            missing=r.lifecycle_status == "missing",
            unmanaged=not r.declared,
            criticality=r.criticality,
            system=r.system_id,
        )
        if r.system_id is not None:
            g.add_edge(nid("system", r.system_id), nid("asset", r.id), "runs_on")


def _add_systems(session: Session, g: Graph, ids: set[int]) -> None:
    s = m.System
    for chunk in chunks(sorted(ids)):
        for r in session.execute(
            select(s.id, s.name, s.mlps_level, s.is_cii, s.criticality).where(s.id.in_(chunk)).order_by(s.id)
        ):
            g.nodes[nid("system", r.id)] = _node(
                "system", r.id, r.name, mlps=r.mlps_level, cii=r.is_cii, criticality=r.criticality
            )


def _stored_edges(session: Session, g: Graph, kind: str, ids: list[int]) -> list[Any]:
    e = m.Edge
    out: list[Any] = []
    for chunk in chunks(ids):
        stmt = (
            select(e.src_type, e.src_id, e.kind, e.dst_type, e.dst_id, e.redundancy_group)
            .where(
                or_((e.src_type == kind) & e.src_id.in_(chunk), (e.dst_type == kind) & e.dst_id.in_(chunk))
            )
            .order_by(e.id)
        )
        out.extend(session.execute(stmt))
    return out


def _add_business_services(session: Session, g: Graph, ids: set[int]) -> None:
    b = m.BusinessService
    for chunk in chunks(sorted(ids)):
        for r in session.execute(select(b.id, b.name, b.criticality).where(b.id.in_(chunk)).order_by(b.id)):
            g.nodes[nid("business_service", r.id)] = _node(
                "business_service", r.id, r.name, criticality=r.criticality
            )


def _add_products(
    session: Session, g: Graph, asset_ids: list[int], system_ids: list[int], summarise: bool = False
) -> None:
    sw = m.Software
    pairs: set[tuple[str, int, int]] = set()
    for owner, col, ids in (("asset", sw.asset_id, asset_ids), ("system", sw.system_id, system_ids)):
        for chunk in chunks(ids):
            stmt = select(col, sw.product_id).where(col.in_(chunk), sw.product_id.is_not(None)).distinct()
            for owner_id, prod_id in session.execute(stmt).tuples():
                # both filtered non-NULL by the WHERE clause (col IN chunk, product_id IS NOT NULL)
                assert owner_id is not None and prod_id is not None
                pairs.add((owner, owner_id, prod_id))
    product_ids = {p for _o, _a, p in pairs}
    p, v = m.Product, m.Vendor
    vendors: dict[int, Any] = {}
    for chunk in chunks(sorted(product_ids)):
        pstmt = (
            select(
                p.id,
                p.name,
                p.layer,
                p.auto_update,
                p.vendor_id,
                v.name.label("vname"),
                v.country,
                v.is_domestic,
            )
            .join(v, v.id == p.vendor_id)
            .where(p.id.in_(chunk))
            .order_by(p.id)
        )
        for r in session.execute(pstmt):
            foreign = not r.is_domestic
            g.nodes[nid("product", r.id)] = _node(
                "product",
                r.id,
                r.name,
                layer=r.layer,
                foreign=foreign,
                auto_update=r.auto_update,
                vendor=r.vendor_id,
            )
            vendors[r.vendor_id] = (r.vname, r.country, foreign)
            g.add_edge(nid("product", r.id), nid("vendor", r.vendor_id), "supplied_by")
    for vid, (name, country, foreign) in vendors.items():
        g.nodes[nid("vendor", vid)] = _node("vendor", vid, name, country=country, foreign=foreign)
    foreign_products = {pid for pid in product_ids if g.nodes.get(nid("product", pid), {}).get("foreign")}
    for owner, ref, pid in sorted(pairs):  # a set: sorted, so the same map always gives the same edges
        if pid in foreign_products and owner == "asset":
            g.nodes[nid("asset", ref)]["foreign"] = True
        system = g.nodes[nid("asset", ref)].get("system") if (summarise and owner == "asset") else None
        if system is not None and nid("system", system) in g.nodes:
            # Overview: one system→product edge stands for all of the system's assets using it (an
            # asset's own product edges appear when it is expanded). Keeps big maps light to draw.
            g.add_edge(nid("system", system), nid("product", pid), "uses")
        else:
            g.add_edge(nid(owner, ref), nid("product", pid), "uses")


def build(
    session: Session,
    *,
    site_id: int | None = None,
    zone_id: int | None = None,
    mlps_level: int | None = None,
    q: str | None = None,
    budget: int = 3000,
) -> dict[str, Any]:
    """Nodes and edges for the filter, at most ``budget`` assets (plus their systems, services,
    products and vendors), with preset positions."""
    if not 1 <= budget <= MAX_BUDGET:
        raise Invalid(f"budget must be between 1 and {MAX_BUDGET}")
    g = Graph()
    rows, truncated = _asset_rows(
        session, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, q=q, budget=budget
    )
    _add_assets(g, rows)
    system_ids = {r.system_id for r in rows if r.system_id is not None}
    if site_id is None and zone_id is None and not q:  # systems without assets still belong on the map
        sq = select(m.System.id)
        if mlps_level is not None:
            sq = sq.where(m.System.mlps_level == mlps_level)
        system_ids.update(session.scalars(sq.order_by(m.System.id).limit(budget)))
    _add_systems(session, g, system_ids)
    _link_stored(session, g, system_ids)
    _add_products(session, g, g.ids("asset"), g.ids("system"), summarise=len(rows) > SUMMARISE_ABOVE)
    edges = [e for e in g.edges.values() if e["source"] in g.nodes and e["target"] in g.nodes]
    nodes = list(g.nodes.values())
    layout(nodes, edges)
    counts: defaultdict[str, int] = defaultdict(int)
    for n in nodes:
        counts[n["type"]] += 1
    return {"nodes": nodes, "edges": edges, "truncated": truncated, "counts": dict(counts)}


def _link_stored(session: Session, g: Graph, system_ids: set[int]) -> None:
    """Stored edges touching visible assets/systems; business services come in through them."""
    services: set[int] = set()
    rows = _stored_edges(session, g, "system", sorted(system_ids)) + _stored_edges(
        session, g, "asset", g.ids("asset")
    )
    for r in rows:
        if r.src_type == "business_service" and r.dst_type == "system":
            services.add(r.src_id)
        g.add_edge(nid(r.src_type, r.src_id), nid(r.dst_type, r.dst_id), r.kind, r.redundancy_group)
    _add_business_services(session, g, services)


def neighbours(session: Session, *, kind: str, ref: int, limit: int = 300) -> dict[str, Any]:
    """Direct neighbours of one node (for expand-on-click), without positions."""
    if kind not in m.NODE_TYPES:
        raise Invalid(f"unknown node type '{kind}'")
    g = Graph()
    asset_ids: set[int] = set()
    system_ids: set[int] = set()
    service_ids: set[int] = set()
    for r in _stored_edges(session, g, kind, [ref])[:limit]:
        for t, i in ((r.src_type, r.src_id), (r.dst_type, r.dst_id)):
            {"asset": asset_ids, "system": system_ids, "business_service": service_ids}.get(t, set()).add(i)
        g.add_edge(nid(r.src_type, r.src_id), nid(r.dst_type, r.dst_id), r.kind, r.redundancy_group)
    if kind == "system":
        asset_ids.update(
            session.scalars(
                select(m.Asset.id).where(m.Asset.system_id == ref).order_by(m.Asset.id).limit(limit)
            )
        )
    if kind == "asset":
        asset_ids.add(ref)
    a = m.Asset
    cols = _asset_cols()
    rows: list[Any] = []
    for chunk in chunks(sorted(asset_ids)):
        rows.extend(session.execute(select(*cols).where(a.id.in_(chunk)).order_by(a.id)))
    _add_assets(g, rows)
    system_ids.update(r.system_id for r in rows if r.system_id is not None)
    _add_systems(session, g, system_ids)
    _add_business_services(session, g, service_ids)
    if kind in ("asset", "system"):
        _add_products(session, g, [ref] if kind == "asset" else [], [ref] if kind == "system" else [])
    edges = [e for e in g.edges.values() if e["source"] in g.nodes and e["target"] in g.nodes]
    return {"nodes": list(g.nodes.values())[:limit], "edges": edges}


# --- layout --------------------------------------------------------------------------------------

ROW_GAP = 260.0
NODE_GAP = 46.0


def layout(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Layered layout: one band per layer; assets in a grid grouped by system; every other node is
    placed at the mean x of the assets it is linked to, then overlaps in its row are swept apart."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in nodes:
        by_type[n["type"]].append(n)
    assets = by_type["asset"]
    y0 = 2 * ROW_GAP
    height = _asset_blocks(assets, y0)
    adj: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        adj[e["source"]].append(e["target"])
        adj[e["target"]].append(e["source"])
    pos = {n["id"]: n for n in assets}
    bottom = y0 + height + ROW_GAP * 0.6
    for kind, y in (
        ("system", ROW_GAP),
        ("business_service", 0.0),
        ("product", bottom),
        ("vendor", bottom + ROW_GAP),
    ):
        row = by_type[kind]
        for n in row:
            xs = [pos[o]["x"] for o in adj[n["id"]] if o in pos]
            n["x"], n["y"] = (sum(xs) / len(xs) if xs else 0.0), y
        _sweep(row, NODE_GAP * (2.2 if kind in ("system", "business_service") else 1.6))
        pos.update({n["id"]: n for n in row})


def _asset_blocks(assets: list[dict[str, Any]], y0: float) -> float:
    """Assets in one compact block per system (input is ordered by system), blocks wrapped in rows so
    the whole band is roughly 3:1 wide; returns the band's height."""
    groups: list[list[dict[str, Any]]] = []
    for n in assets:
        if not groups or groups[-1][0].get("system") != n.get("system"):
            groups.append([])
        groups[-1].append(n)
    width = max(30, math.ceil(math.sqrt(len(assets) * 3))) * NODE_GAP if assets else 0
    x = y = row_h = 0.0
    for grp in groups:
        cols = max(1, math.ceil(math.sqrt(len(grp) * 1.5)))
        w, h = cols * NODE_GAP, math.ceil(len(grp) / cols) * NODE_GAP
        if x > 0 and x + w > width:
            x, y, row_h = 0.0, y + row_h + NODE_GAP * 2, 0.0
        for i, n in enumerate(grp):
            n["x"], n["y"] = x + (i % cols) * NODE_GAP, y0 + y + (i // cols) * NODE_GAP
        x += w + NODE_GAP * 1.5
        row_h = max(row_h, h)
    return y + row_h


def _sweep(row: list[dict[str, Any]], gap: float) -> None:
    """Keep the desired order by x but push nodes apart so none overlap; staggers labels."""
    row.sort(key=lambda n: n["x"])
    last = -math.inf
    for i, n in enumerate(row):
        n["x"] = max(n["x"], last + gap)
        last = n["x"]
        n["y"] += (i % 2) * gap * 0.45
