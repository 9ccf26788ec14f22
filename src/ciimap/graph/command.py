"""The topology for command (挂图作战): an aggregate map that reads at a glance.

Default view of the topology page: business services → systems → *clusters* of assets, one per
(system, network zone) and one per zone for the assets in no system. Each cluster carries its asset
count, the missing / unmanaged / foreign / vulnerable / KEV counts and its worst vulnerability priority
(the risk colour). The riskiest assets ("hot" assets) are drawn individually next to their cluster, so
the default view always shows what carries the most risk; a cluster expands to its assets, ranked by
importance (:func:`importance_order`), never by insertion order.

Everything is aggregated in SQL (GROUP BY over the asset and finding tables, a LIMIT for the ranked
assets): the service never loads all assets into Python, so the overview stays a handful of grouped
queries at 1M assets. Positions are computed here (blocks per business service), like the asset view.
Same data for the page (/api/ui/topology/overview, with the other capabilities' overlays), the API
(/api/graph/topology/overview) and the CLI (``ciimap topology --view overview --json``).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import Any

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session

from ciimap.core.db import chunks
from ciimap.core.entity import build_query
from ciimap.core.errors import Invalid, NotFound
from ciimap.graph import topology
from ciimap.graph.importance import importance_order, important_systems, kev_advisories, risk_subquery
from ciimap.graph.structure import TYPES
from ciimap.inventory import models as m
from ciimap.inventory import service as inv
from ciimap.vulns.models import Finding

#: Riskiest assets drawn individually in the overview.
HOT = 40
#: The node kinds the command view names, searches and walks: business services, systems, assets.
MAP_KINDS: tuple[str, ...] = TYPES[:3]
#: At most this many assets when a cluster is expanded (the rest: "N more", open the asset list).
CLUSTER_BUDGET = 200
MAX_CLUSTER_BUDGET = 2000
NONE = "-"  # the "no system" / "no zone" part of a cluster id

# layout (model units; the page scales labels so they stay readable at any zoom)
SYS_GAP = 190.0
CL_GAP = 80.0
HOT_GAP = 30.0
HOT_COLS = 5
BLOCK_GAP = 120.0


def cluster_id(system_id: int | None, zone_id: int | None) -> str:
    return f"cluster:{NONE if system_id is None else system_id}:{NONE if zone_id is None else zone_id}"


def parse_cluster(text: str) -> tuple[int | None, int | None]:
    """``cluster:<system|->:<zone|->`` → (system id, zone id); Invalid otherwise."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "cluster":
        raise Invalid(f"'{text}' is not a cluster id (cluster:<system id or ->:<zone id or ->)")
    out: list[int | None] = []
    for p in parts[1:]:
        if p == NONE:
            out.append(None)
            continue
        try:
            v = int(p)
        except ValueError:
            raise Invalid(f"'{text}' is not a cluster id") from None
        if not -(2**31) <= v < 2**31:
            raise Invalid(f"'{text}' is not a cluster id")
        out.append(v)
    return out[0], out[1]


def _filtered(stmt: Any, *, site_id: int | None, zone_id: int | None, mlps_level: int | None) -> Any:
    a = m.Asset
    if site_id is not None:
        stmt = stmt.where(a.site_id == site_id)
    if zone_id is not None:
        stmt = stmt.where(a.zone_id == zone_id)
    if mlps_level is not None:
        stmt = stmt.where(a.system_id.in_(select(m.System.id).where(m.System.mlps_level == mlps_level)))
    return stmt


def ranked_asset_rows(session: Session, where: list[Any], limit: int) -> tuple[list[Any], bool]:
    """Asset rows (topology columns + prio, kev, findings) matching ``where``, most important first."""
    a = m.Asset
    risk = risk_subquery()
    stmt = (
        select(*topology._asset_cols(), risk.c.prio, risk.c.kev, risk.c.findings)
        .outerjoin(risk, risk.c.asset_id == a.id)
        .where(*where)
        .order_by(*importance_order(a, risk))
        .limit(limit + 1)
    )
    rows = list(session.execute(stmt))
    return rows[:limit], len(rows) > limit


def _hot_rows(
    session: Session, *, site_id: int | None, zone_id: int | None, mlps_level: int | None, limit: int
) -> list[Any]:
    """The assets that carry the most risk: worst priority, KEV, findings count; CII/business first on ties."""
    a = m.Asset
    risk = risk_subquery()
    stmt = (
        select(*topology._asset_cols(), risk.c.prio, risk.c.kev, risk.c.findings)
        .join(risk, risk.c.asset_id == a.id)
        .where(risk.c.prio.in_(("P1", "P2", "P3")) | (risk.c.kev == 1))
    )
    stmt = _filtered(stmt, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level)
    stmt = stmt.order_by(
        risk.c.prio,
        risk.c.kev.desc(),
        case((a.system_id.in_(important_systems()), 0), else_=1),
        risk.c.findings.desc(),
        a.id,
    ).limit(limit)
    return list(session.execute(stmt))


def _asset_node(r: Any) -> dict[str, Any]:
    label = r.hostname or r.name or r.primary_ip
    n = topology._node(
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
        cluster=cluster_id(r.system_id, r.zone_id),
    )
    if getattr(r, "prio", None):
        n["vuln"] = r.prio
        n["findings"] = int(r.findings or 0)
    if getattr(r, "kev", None):
        n["kev"] = True
    return n


def _clusters(
    session: Session, *, site_id: int | None, zone_id: int | None, mlps_level: int | None
) -> dict[tuple[int | None, int | None], dict[str, Any]]:
    a, f = m.Asset, Finding
    key = (a.system_id, a.zone_id)
    counts = _filtered(
        select(
            *key,
            func.count(),
            func.sum(case((a.lifecycle_status == "missing", 1), else_=0)),
            func.sum(case((a.declared.is_(False), 1), else_=0)),
        ).group_by(*key),
        site_id=site_id,
        zone_id=zone_id,
        mlps_level=mlps_level,
    )
    out: dict[tuple[int | None, int | None], dict[str, Any]] = {}
    for sid, zid, n, missing, unmanaged in session.execute(counts):
        out[(sid, zid)] = {"count": int(n), "missing": int(missing or 0), "unmanaged": int(unmanaged or 0)}
    kev = kev_advisories()
    risk = _filtered(
        select(
            *key,
            func.min(f.priority),
            func.count(distinct(f.asset_id)),
            func.count(distinct(case((f.priority == "P1", f.asset_id)))),
            func.count(distinct(case((f.advisory_pk.in_(kev), f.asset_id)))),
        )
        .join(a, a.id == f.asset_id)
        .where(f.active.is_(True))
        .group_by(*key),
        site_id=site_id,
        zone_id=zone_id,
        mlps_level=mlps_level,
    )
    for sid, zid, prio, vulnerable, p1, kevs in session.execute(risk):
        c = out.get((sid, zid))
        if c is None:
            continue
        c.update(vuln=prio, vulnerable=int(vulnerable), p1=int(p1), kev=int(kevs))
    # foreign products: a flag per cluster, one statement; EXISTS stops at the first foreign install,
    # so the common case reads a few rows per cluster instead of joining every installed product
    sw, p, v = m.Software, m.Product, m.Vendor
    pairs = _filtered(
        select(a.system_id.label("sid"), a.zone_id.label("zid")).distinct(),
        site_id=site_id,
        zone_id=zone_id,
        mlps_level=mlps_level,
    ).subquery("pairs")
    inner = m.Asset.__table__.alias("fa")
    foreign_products = select(p.id).join(v, v.id == p.vendor_id).where(v.is_domestic.is_(False))
    has_foreign = (
        select(sw.id)
        .join(inner, inner.c.id == sw.asset_id)
        .where(
            inner.c.system_id.is_not_distinct_from(pairs.c.sid),
            inner.c.zone_id.is_not_distinct_from(pairs.c.zid),
            sw.product_id.in_(foreign_products),
        )
    )
    if site_id is not None:
        has_foreign = has_foreign.where(inner.c.site_id == site_id)
    for sid, zid in session.execute(select(pairs.c.sid, pairs.c.zid).where(has_foreign.exists())):
        if (sid, zid) in out:
            out[(sid, zid)]["foreign"] = True
    return out


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for part in chunks(sorted(ids)):
        out.update((r.id, r) for r in session.execute(select(model).where(model.id.in_(part))).scalars())
    return out


PRIO_ORDER = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}


def _worst(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if PRIO_ORDER.get(a, 9) <= PRIO_ORDER.get(b, 9) else b


def overview(
    session: Session,
    *,
    site_id: int | None = None,
    zone_id: int | None = None,
    mlps_level: int | None = None,
    hot: int = HOT,
) -> dict[str, Any]:
    """The aggregate map for the filter: services, systems, clusters and the ``hot`` riskiest assets,
    with counts and positions."""
    if not 0 <= hot <= 500:
        raise Invalid("hot must be between 0 and 500")
    clusters = _clusters(session, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level)
    system_ids = {s for s, _z in clusters if s is not None}
    if site_id is None and zone_id is None:  # systems without assets still belong on the map
        sq = select(m.System.id)
        if mlps_level is not None:
            sq = sq.where(m.System.mlps_level == mlps_level)
        system_ids.update(session.scalars(sq))
    zone_ids = {z for _s, z in clusters if z is not None}
    systems = _names(session, m.System, system_ids)
    zones = _names(session, m.NetworkZone, zone_ids)

    e = m.Edge
    types = ("business_service", "system")
    stored = list(
        session.execute(
            select(e.src_type, e.src_id, e.kind, e.dst_type, e.dst_id, e.redundancy_group)
            .where(e.src_type.in_(types), e.dst_type.in_(types))
            .order_by(e.id)
        )
    )
    service_ids = {
        r.src_id
        for r in stored
        if r.src_type == "business_service" and r.dst_type == "system" and r.dst_id in systems
    }
    services = _names(session, m.BusinessService, service_ids)

    g = topology.Graph()
    for sid, s in systems.items():
        g.nodes[topology.nid("system", sid)] = topology._node(
            "system", sid, s.name, mlps=s.mlps_level, cii=s.is_cii, criticality=s.criticality, assets=0
        )
    for bid, b in services.items():
        g.nodes[topology.nid("business_service", bid)] = topology._node(
            "business_service", bid, b.name, criticality=b.criticality, systems=0
        )
    for r in stored:
        src, dst = topology.nid(r.src_type, r.src_id), topology.nid(r.dst_type, r.dst_id)
        if src in g.nodes and dst in g.nodes:
            g.add_edge(src, dst, r.kind, r.redundancy_group)
            if r.src_type == "business_service" and r.dst_type == "system":
                g.nodes[src]["systems"] += 1
    for (csid, zid), c in sorted(clusters.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0)):
        zname = zones[zid].name if zid in zones else None
        cid = cluster_id(csid, zid)
        node = {
            "id": cid,
            "type": "cluster",
            "ref": None,
            "label": zname or "—",
            "system": csid,
            "zone": zid,
            "zone_kind": zones[zid].kind if zid in zones else None,
            **c,
        }
        g.nodes[cid] = node
        if csid is not None and topology.nid("system", csid) in g.nodes:
            snode = g.nodes[topology.nid("system", csid)]
            snode["assets"] += c["count"]
            snode["vuln"] = _worst(snode.get("vuln"), c.get("vuln"))
            for k in ("missing", "unmanaged", "vulnerable", "kev"):
                snode[k + "_n"] = snode.get(k + "_n", 0) + c.get(k, 0)
            g.add_edge(topology.nid("system", csid), cid, "contains")
    for key in [k for k, n in g.nodes.items() if n["type"] == "system" and n.get("vuln") is None]:
        g.nodes[key].pop("vuln", None)
    # services: their systems' worst priority and asset count
    for src, dst, _kind in list(g.edges):
        if src.startswith("business_service:") and dst.startswith("system:"):
            b, s = g.nodes[src], g.nodes[dst]
            b["assets"] = b.get("assets", 0) + s.get("assets", 0)
            w = _worst(b.get("vuln"), s.get("vuln"))
            if w:
                b["vuln"] = w
    hot_rows = (
        _hot_rows(session, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, limit=hot) if hot else []
    )
    for r in hot_rows:
        n = _asset_node(r)
        n["hot"] = True
        g.nodes[n["id"]] = n
        if n["cluster"] in g.nodes:
            g.add_edge(n["cluster"], n["id"], "contains")
    nodes = list(g.nodes.values())
    edges = list(g.edges.values())
    layout(nodes, edges)
    counts: defaultdict[str, int] = defaultdict(int)
    for n in nodes:
        counts[n["type"]] += 1
    return {
        "nodes": nodes,
        "edges": edges,
        "truncated": False,
        "counts": dict(counts),
        "assets": sum(c["count"] for c in clusters.values()),
    }


def cluster_assets(
    session: Session, cluster: str, *, budget: int = CLUSTER_BUDGET, include: int | None = None
) -> dict[str, Any]:
    """The assets of one cluster, most important first (:func:`importance_order`), at most ``budget``;
    ``include`` (an asset id of the cluster, e.g. a search hit) is always among them."""
    if not 1 <= budget <= MAX_CLUSTER_BUDGET:
        raise Invalid(f"budget must be between 1 and {MAX_CLUSTER_BUDGET}")
    sid, zid = parse_cluster(cluster)
    a = m.Asset
    where = [a.system_id.is_(None) if sid is None else a.system_id == sid]
    where.append(a.zone_id.is_(None) if zid is None else a.zone_id == zid)
    rows, truncated = ranked_asset_rows(session, where, budget)
    total = session.scalar(select(func.count()).select_from(a).where(*where)) or 0
    if not total:
        raise NotFound(f"cluster {cluster} has no assets")
    if include is not None and all(r.id != include for r in rows):
        extra, _more = ranked_asset_rows(session, [*where, a.id == include], 1)
        rows = rows + extra
    nodes = [_asset_node(r) for r in rows]
    edges = [
        {"id": f"e{i}", "source": cluster, "target": n["id"], "kind": "contains", "group": None}
        for i, n in enumerate(nodes)
    ]
    return {"cluster": cluster, "nodes": nodes, "edges": edges, "truncated": truncated, "total": int(total)}


def search(session: Session, q: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Business services, systems and assets matching ``q`` (the entity lists' search), each with the
    node it sits in on the overview (an asset: its cluster)."""
    q = (q or "").strip()
    if not q:
        raise Invalid("q is required")
    if not 1 <= limit <= 200:
        raise Invalid("limit must be between 1 and 200")
    out: list[dict[str, Any]] = []
    for kind, spec, model in (
        ("business_service", inv.BUSINESS_SERVICES, m.BusinessService),
        ("system", inv.SYSTEMS, m.System),
    ):
        ids = build_query(spec, q=q).with_only_columns(model.id).order_by(model.id).limit(limit)
        for r in session.execute(select(model.id, model.name).where(model.id.in_(ids.scalar_subquery()))):
            out.append(
                {"id": topology.nid(kind, r.id), "type": kind, "ref": r.id, "label": r.name, "cluster": None}
            )
    a = m.Asset
    ids = build_query(inv.ASSETS, q=q).with_only_columns(a.id).order_by(a.id).limit(limit)
    stmt = select(a.id, a.name, a.hostname, a.primary_ip, a.system_id, a.zone_id).where(
        a.id.in_(ids.scalar_subquery())
    )
    for ar in session.execute(stmt.order_by(a.id)):
        out.append(
            {
                "id": topology.nid("asset", ar.id),
                "type": "asset",
                "ref": ar.id,
                "label": ar.hostname or ar.name or ar.primary_ip,
                "ip": ar.primary_ip,
                "cluster": cluster_id(ar.system_id, ar.zone_id),
            }
        )
    return out[:limit]


def clusters_of_assets(session: Session, asset_ids: list[int]) -> dict[int, str]:
    """asset id → the id of the cluster it sits in on the overview (one query per batch of ids)."""
    a = m.Asset
    out: dict[int, str] = {}
    for part in chunks(sorted(asset_ids)):
        for r in session.execute(select(a.id, a.system_id, a.zone_id).where(a.id.in_(part))):
            out[r.id] = cluster_id(r.system_id, r.zone_id)
    return out


def _ref(node: str) -> tuple[str, Any]:
    if node.startswith("cluster:"):
        return "cluster", parse_cluster(node)
    kind, _, ref = node.partition(":")
    if kind not in MAP_KINDS or not ref.lstrip("-").isdigit():
        raise Invalid(
            f"'{node}' is not a node id (business_service:<id>, system:<id>, asset:<id>, cluster:...)"
        )
    return kind, int(ref)


def path(session: Session, src: str, dst: str, *, max_hops: int = 12) -> dict[str, Any]:
    """Shortest path between two nodes of the command map (breadth-first search over the stored
    dependencies, asset membership of systems and clusters), as node ids from ``src`` to ``dst``.
    Only the neighbours of the visited nodes are queried, a batch per BFS level."""
    kinds = {src: _ref(src), dst: _ref(dst)}
    for node, (kind, ref) in kinds.items():
        if kind == "cluster":
            continue
        model = {"business_service": m.BusinessService, "system": m.System, "asset": m.Asset}[kind]
        if session.get(model, ref) is None:
            raise NotFound(f"{node} not found")
    # the cluster holding the goal asset leads to it (a cluster's other assets are not expanded)
    goal: dict[str, str] = {}
    if kinds[dst][0] == "asset":
        goal = {c: dst for c in clusters_of_assets(session, [kinds[dst][1]]).values()}
    prev: dict[str, str | None] = {src: None}
    frontier = [src]
    for _hop in range(max_hops):
        if dst in prev or not frontier:
            break
        nxt: list[str] = []
        for a, b in _neighbours(session, frontier, goal):
            if b not in prev:
                prev[b] = a
                nxt.append(b)
        frontier = nxt
    if dst not in prev:
        return {"path": [], "nodes": [], "found": False}
    out: deque[str] = deque()
    cur: str | None = dst
    while cur is not None:
        out.appendleft(cur)
        cur = prev[cur]
    return {"path": list(out), "nodes": _describe(session, list(out)), "found": True}


def _describe(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    """Label (and for assets the cluster) of each node id on a path, a query per node type."""
    refs: dict[str, list[int]] = defaultdict(list)
    for n in ids:
        kind, ref = _ref(n)
        if kind != "cluster":
            refs[kind].append(ref)
    labels: dict[str, str] = {}
    clusters = clusters_of_assets(session, refs["asset"])
    for kind, model in (("business_service", m.BusinessService), ("system", m.System)):
        for i, r in _names(session, model, set(refs[kind])).items():
            labels[topology.nid(kind, i)] = r.name
    a = m.Asset
    for part in chunks(sorted(refs["asset"])):
        for r in session.execute(select(a.id, a.name, a.hostname, a.primary_ip).where(a.id.in_(part))):
            labels[topology.nid("asset", r.id)] = r.hostname or r.name or r.primary_ip or str(r.id)
    zones = _names(
        session, m.NetworkZone, {z for n in ids if n.startswith("cluster:") for z in [_ref(n)[1][1]] if z}
    )
    out = []
    for n in ids:
        kind, ref = _ref(n)
        if kind == "cluster":
            label = zones[ref[1]].name if ref[1] in zones else "—"
            out.append({"id": n, "type": kind, "label": label, "cluster": None})
        else:
            cl = clusters.get(ref) if kind == "asset" else None
            out.append({"id": n, "type": kind, "label": labels.get(n, n), "cluster": cl})
    return out


def _neighbours(session: Session, nodes: list[str], goal: dict[str, str]) -> list[tuple[str, str]]:
    """(node, neighbour) pairs for a BFS level: stored edges both ways, system ↔ cluster ↔ asset."""
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for n in nodes:
        kind, ref = _ref(n)
        by_kind[kind].append(ref)
    out: list[tuple[str, str]] = []
    e, a = m.Edge, m.Asset
    for kind in MAP_KINDS:
        for part in chunks(sorted(by_kind.get(kind, []))):
            # edges to services and systems: all of them; edges to assets: ASSET_FANOUT per direction
            out_e = (e.src_type == kind) & e.src_id.in_(part)
            in_e = (e.dst_type == kind) & e.dst_id.in_(part)
            cols = (e.src_type, e.src_id, e.dst_type, e.dst_id)
            stmts = [
                select(*cols).where(or_(out_e & (e.dst_type != "asset"), in_e & (e.src_type != "asset"))),
                select(*cols).where(out_e, e.dst_type == "asset").order_by(e.id).limit(ASSET_FANOUT),
                select(*cols).where(in_e, e.src_type == "asset").order_by(e.id).limit(ASSET_FANOUT),
            ]
            rows = [r for st in stmts for r in session.execute(st)]
            for r in rows:
                if r.src_type not in MAP_KINDS:
                    continue
                if r.dst_type not in MAP_KINDS:
                    continue
                s, d = topology.nid(r.src_type, r.src_id), topology.nid(r.dst_type, r.dst_id)
                if r.src_type == kind and r.src_id in part:
                    out.append((s, d))
                if r.dst_type == kind and r.dst_id in part:
                    out.append((d, s))
    for part in chunks(sorted(by_kind.get("asset", []))):
        for ar in session.execute(select(a.id, a.system_id, a.zone_id).where(a.id.in_(part))):
            out.append((topology.nid("asset", ar.id), cluster_id(ar.system_id, ar.zone_id)))
    for part in chunks(sorted(by_kind.get("system", []))):
        grouped = select(a.system_id, a.zone_id).where(a.system_id.in_(part)).group_by(a.system_id, a.zone_id)
        for gsid, gzid in session.execute(grouped):
            if gsid is not None:
                out.append((topology.nid("system", gsid), cluster_id(gsid, gzid)))
    for sid, zid in by_kind.get("cluster", []):
        if cluster_id(sid, zid) in goal:
            out.append((cluster_id(sid, zid), goal[cluster_id(sid, zid)]))
        if sid is not None:
            out.append((cluster_id(sid, zid), topology.nid("system", sid)))
    # Assets reached through stored edges (a system running on another system's host): at most
    # ASSET_FANOUT per level, so a search across a million-asset map stays a few batched queries.
    kept: list[tuple[str, str]] = []
    assets = 0
    for pair in out:
        if pair[1].startswith("asset:") and pair[1] not in goal.values():
            assets += 1
            if assets > ASSET_FANOUT:
                continue
        kept.append(pair)
    return kept


ASSET_FANOUT = 1000


# --- layout ----------------------------------------------------------------------------------


def layout(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """One block per business service (the service, its systems in a row below, each system's clusters
    stacked under it, the hot assets under those); systems in no service and the clusters of assets
    in no system get blocks of their own. Blocks are shelf-packed into a roughly 16:10 rectangle."""
    first_service: dict[str, str] = {}
    for e in edges:
        if e["source"].startswith("business_service:") and e["target"].startswith("system:"):
            first_service.setdefault(e["target"], e["source"])
    clusters_of: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    hot_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in nodes:
        if n["type"] == "cluster":
            clusters_of[n["system"]].append(n)
        elif n["type"] == "asset":
            hot_of[n.get("cluster", "")].append(n)
    for cl in clusters_of.values():
        cl.sort(key=lambda c: -c["count"])
    blocks: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]] = []
    members: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for n in nodes:
        if n["type"] == "system":
            members[first_service.get(n["id"])].append(n)
    for n in nodes:
        if n["type"] == "business_service":
            blocks.append((n, members.get(n["id"], [])))
    loose = members.get(None, [])
    for i in range(0, len(loose), 4):
        blocks.append((None, loose[i : i + 4]))
    # placed relative to the block's top-left corner, then shifted when the block is packed
    placed: list[tuple[list[dict[str, Any]], float, float]] = []
    for head, systems in blocks:
        items: list[dict[str, Any]] = []
        width = max(1, len(systems)) * SYS_GAP
        height = 0.0
        for i, s in enumerate(systems):
            x = i * SYS_GAP + SYS_GAP / 2
            s["x"], s["y"] = x, 110.0
            items.append(s)
            y = 110.0 + 80.0
            for c in clusters_of.get(s["ref"], []):
                c["x"], c["y"] = x, y
                items.append(c)
                y += CL_GAP
            y = _place_hot(
                [h for c in clusters_of.get(s["ref"], []) for h in hot_of.get(c["id"], [])], x, y, items
            )
            height = max(height, y)
        if head is not None:
            head["x"], head["y"] = width / 2, 0.0
            items.append(head)
        placed.append((items, width, max(height, 140.0)))
    orphans = clusters_of.get(None, [])
    if orphans:
        cols = max(1, min(6, math.ceil(math.sqrt(len(orphans)))))
        items = []
        y = 0.0
        for i, c in enumerate(orphans):
            c["x"], c["y"] = (i % cols) * SYS_GAP + SYS_GAP / 2, (i // cols) * (CL_GAP * 2.2)
            items.append(c)
        rows_h = math.ceil(len(orphans) / cols) * CL_GAP * 2.2
        hot_y = rows_h
        for c in orphans:
            hot = hot_of.get(c["id"], [])
            if hot:
                _place_hot(hot, c["x"], c["y"] + CL_GAP * 0.8, items, cols=3)
        placed.append((items, cols * SYS_GAP, max(hot_y, 140.0)))
    _pack(placed)
    for n in nodes:  # anything left (a hot asset whose cluster is not drawn) goes under everything
        if "x" not in n:
            n["x"], n["y"] = 0.0, -200.0


def _place_hot(
    hot: list[dict[str, Any]], x: float, y: float, items: list[dict[str, Any]], cols: int = HOT_COLS
) -> float:
    if not hot:
        return y
    y += 6.0
    for j, h in enumerate(hot):
        h["x"] = x + (j % cols - (min(cols, len(hot)) - 1) / 2) * HOT_GAP
        h["y"] = y + (j // cols) * HOT_GAP
        items.append(h)
    return y + math.ceil(len(hot) / cols) * HOT_GAP


def _pack(blocks: list[tuple[list[dict[str, Any]], float, float]]) -> None:
    area = sum((w + BLOCK_GAP) * (h + BLOCK_GAP) for _i, w, h in blocks)
    width = max(max((w for _i, w, _h in blocks), default=0.0), math.sqrt(area * 1.6))
    x = y = row_h = 0.0
    for items, w, h in blocks:
        if x > 0 and x + w > width:
            x, y, row_h = 0.0, y + row_h + BLOCK_GAP, 0.0
        for n in items:
            n["x"] = float(n["x"] + x)
            n["y"] = float(n["y"] + y)
        x += w + BLOCK_GAP
        row_h = max(row_h, h)
