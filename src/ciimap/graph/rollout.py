"""Staged update plans: rings lab → canary → early → broad → critical, built from the map.

Rules (see docs/rollout.md):
- critical ring: hosts of CII systems and hosts marked critical (they go last);
- lab ring: hosts in test zones or tagged ``lab``;
- canary/early: only low/medium-criticality hosts outside high/critical systems, chosen greedily for
  diversity (OS version, site, hardware model, zone) so early rings see the variety the fleet has;
- broad: everything else;
- no ring may take down a whole redundancy group: each ring is simulated (all its hosts fail) with the
  same propagation as the what-if; when an OR-group would lose every alternative, the hosts under one
  alternative move to the next ring (a second critical wave is added when needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from ciimap.core.errors import Invalid, NotFound
from ciimap.graph.build import CRIT, Graph, _lookup, build_graph
from ciimap.graph.impact import _ids_by_ref
from ciimap.graph.propagate import propagate
from ciimap.graph.spof import descendants
from ciimap.inventory import models as m

RINGS = ("lab", "canary", "early", "broad", "critical")
#: Per-ring defaults: soak time before the next ring, and health gates (metric -> maximum allowed).
RING_DEFAULTS: dict[str, dict[str, Any]] = {
    "lab": {"soak_hours": 4.0, "gates": {"crash_rate": 0.0, "failed_health_checks": 0.0}},
    "canary": {"soak_hours": 24.0, "gates": {"crash_rate": 0.001, "failed_health_checks": 0.01}},
    "early": {"soak_hours": 48.0, "gates": {"crash_rate": 0.002, "failed_health_checks": 0.02}},
    "broad": {"soak_hours": 72.0, "gates": {"crash_rate": 0.002, "failed_health_checks": 0.02}},
    "critical": {"soak_hours": 72.0, "gates": {"crash_rate": 0.0, "failed_health_checks": 0.01}},
}
CANARY_FRACTION, CANARY_MAX, EARLY_FRACTION = 0.01, 200, 0.10


@dataclass
class Target:
    """One host that receives the update, with what the ring rules look at."""

    asset_id: int
    node: int
    features: tuple[str, ...]
    crit: int
    critical_last: bool
    lab: bool


@dataclass
class Ring:
    name: str
    members: list[int] = field(default_factory=list)  # asset ids
    soak_hours: float = 24.0
    gates: dict[str, float] = field(default_factory=dict)
    rationale: dict[str, Any] = field(default_factory=dict)


@dataclass
class Proposal:
    product_ids: list[int]
    channel: str | None
    label: str
    rings: list[Ring]
    moves: list[dict[str, Any]]
    targets: int


def _products(session: Session, g: Graph, product: str | None, channel: str | None) -> tuple[list[int], str]:
    if bool(product) == bool(channel):
        raise Invalid("give a product (id or name) or an update channel, not both")
    if channel:
        ids = [pid for pid, a in g.products.items() if a["update_channel"] == channel]
        if not ids:
            raise NotFound(f"no product uses update channel '{channel}'")
        return sorted(ids), f"channel {channel}"

    pid = _ids_by_ref(session, "product", str(product))[0]
    return [pid], str(g.products[pid]["name"])


def load_targets(session: Session, g: Graph, product_ids: list[int]) -> list[Target]:
    """Active hosts that run one of the products (one column-only query; graph lookups vectorised)."""
    a, z = m.Asset, m.NetworkZone
    runs = select(m.Software.asset_id).where(m.Software.product_id.in_(product_ids))
    rows = session.execute(
        select(
            a.id,
            a.site_id,
            a.zone_id,
            a.os_name,
            a.os_version,
            a.manufacturer,
            a.model,
            a.criticality,
            a.system_id,
            cast(a.tags, String),
            z.kind,
        )
        .outerjoin(z, z.id == a.zone_id)
        .where(a.lifecycle_status != "retired", a.id.in_(runs))
        .order_by(a.id)
    ).all()
    if not rows:
        return []
    nodes = _lookup(g, "asset", np.array([r[0] for r in rows], np.int64))
    sys_nodes = _lookup(g, "system", np.array([-1 if r[8] is None else r[8] for r in rows], np.int64))
    sys_crit = np.where(sys_nodes >= 0, g.crit[np.maximum(sys_nodes, 0)], -1).tolist()
    cii = g.cii[np.maximum(nodes, 0)].tolist()
    out = []
    for k, (aid, site, zone, osn, osv, mfr, model, crit, _sys, tags, zkind) in enumerate(rows):
        if nodes[k] < 0:
            continue
        c = CRIT.get(crit or "medium", 1)
        out.append(
            Target(
                asset_id=int(aid),
                node=int(nodes[k]),
                features=(
                    f"os:{osn or '?'} {osv or ''}".strip(),
                    f"site:{site}",
                    f"hw:{mfr or '?'} {model or ''}",
                    f"zone:{zone}",
                ),
                crit=max(c, sys_crit[k]),
                critical_last=cii[k] or c == CRIT["critical"] or sys_crit[k] == CRIT["critical"],
                lab=(zkind == "test") or ('"lab"' in (tags or "")),
            )
        )
    return out


def diverse_pick(cands: list[Target], size: int) -> list[Target]:
    """Greedy diversity: passes that take a host only if it adds >= k unseen feature values (k = 4..1),
    then fill up in order. Lowest criticality first. Hand-written: one linear pass per k, and the
    passes stop as soon as every feature value present among the candidates has been seen."""
    if size <= 0:
        return []
    cands = sorted(cands, key=lambda t: (t.crit, (t.asset_id * 2654435761) % 2**32))
    values = {f for t in cands for f in t.features}
    seen: set[str] = set()
    picked: list[Target] = []
    taken: set[int] = set()
    for need in (4, 3, 2, 1, 0):
        if need and len(seen) == len(values):
            continue
        for t in cands:
            if len(picked) >= size:
                return picked
            if t.asset_id in taken:
                continue
            new = [f for f in t.features if f not in seen] if need else []
            if len(new) >= need:
                picked.append(t)
                taken.add(t.asset_id)
                seen.update(new)
    return picked


def _assign(targets: list[Target]) -> list[list[Target]]:
    crit = [t for t in targets if t.critical_last]
    lab = [t for t in targets if t.lab and not t.critical_last]
    rest = [t for t in targets if not t.lab and not t.critical_last]
    eligible = [t for t in rest if t.crit <= CRIT["medium"]]
    canary = diverse_pick(eligible, min(CANARY_MAX, max(1, math.ceil(CANARY_FRACTION * len(targets)))))
    used = {t.asset_id for t in canary}
    early = diverse_pick(
        [t for t in eligible if t.asset_id not in used], math.ceil(EARLY_FRACTION * len(targets))
    )
    used |= {t.asset_id for t in early}
    broad = [t for t in rest if t.asset_id not in used]
    return [lab, canary, early, broad, crit]


def _split_groups(g: Graph, ring_nodes: list[list[int]], names: list[str]) -> list[dict[str, Any]]:
    """Move hosts to later rings until no ring, failing on its own, takes down a whole redundancy group.

    Each round simulates the ring failing, and for every group that would lose all alternatives moves
    the ring hosts under its cheapest alternative (fewest ring hosts) to the next ring.
    """
    moves: list[dict[str, Any]] = []
    sizes = np.diff(g.group_ptr)
    multi = (sizes > 1) & ~g.soft if len(g.soft) == len(sizes) else sizes > 1
    r = 0
    while r < len(ring_nodes):
        for _ in range(100):
            if not ring_nodes[r]:
                break
            prop = propagate(g, np.array(ring_nodes[r], np.int64))
            down = (
                np.add.reduceat(prop.failed[g.members].astype(np.int64), g.group_ptr[:-1])
                if len(sizes)
                else sizes
            )
            dead = np.nonzero(multi & (down == sizes))[0]
            if not dead.size:
                break
            ring = np.zeros(g.n, bool)
            ring[ring_nodes[r]] = True
            move: set[int] = set()
            for gi in dead.tolist():
                under = [
                    np.nonzero(descendants(g, np.array([m])) & ring)[0].tolist()
                    for m in g.members_of(gi).tolist()
                ]
                hosts = min(under, key=len)
                if not set(hosts) <= move:
                    move.update(hosts)
                    moves.append(
                        {
                            "group": g.group_name.get(gi, str(gi)),
                            "parent": _label(g, int(g.group_parent[gi])),
                            "from": names[r],
                            "hosts": len(hosts),
                        }
                    )
            if r + 1 == len(ring_nodes):
                ring_nodes.append([])
                names.append(f"critical-{len(ring_nodes) - len(RINGS) + 1}")
            for mv in moves:
                mv.setdefault("to", names[r + 1])
            ring_nodes[r] = [x for x in ring_nodes[r] if x not in move]
            ring_nodes[r + 1].extend(sorted(move))
        r += 1
    return moves


def _label(g: Graph, i: int) -> str:
    return f"{g.type_name(i)} {g.label(i) or g.dbid[i]}"


def propose(
    session: Session,
    *,
    product: str | None = None,
    channel: str | None = None,
    soak_hours: dict[str, float] | None = None,
    gates: dict[str, dict[str, float]] | None = None,
    graph: Graph | None = None,
) -> Proposal:
    """Compute (not save) a ring plan for a product's or a channel's update."""
    g = graph or build_graph(session)
    pids, label = _products(session, g, product, channel)
    targets = load_targets(session, g, pids)
    if not targets:
        raise Invalid(f"no active host runs {label}")
    groups = _assign(targets)
    by_node = {t.node: t for t in targets}
    names = list(RINGS)
    ring_nodes = [[t.node for t in grp] for grp in groups]
    moves = _split_groups(g, ring_nodes, names)
    rings = []
    for name, nodes in zip(names, ring_nodes, strict=True):
        base = RING_DEFAULTS[name.split("-")[0]]
        rg = Ring(
            name=name,
            members=[by_node[x].asset_id for x in nodes],
            soak_hours=float((soak_hours or {}).get(name, base["soak_hours"])),
            gates={**base["gates"], **(gates or {}).get(name, {})},
        )
        rg.rationale = _rationale([by_node[x] for x in nodes])
        rings.append(rg)
    return Proposal(
        product_ids=pids, channel=channel, label=label, rings=rings, moves=moves, targets=len(targets)
    )


def _rationale(ts: list[Target]) -> dict[str, Any]:
    crit_names = m.CRITICALITY
    return {
        "criticality": {
            c: sum(1 for t in ts if t.crit == k)
            for k, c in enumerate(crit_names)
            if any(t.crit == k for t in ts)
        },
        "cii_or_critical_hosts": sum(1 for t in ts if t.critical_last),
        "distinct": {
            k: len({t.features[i] for t in ts}) for i, k in enumerate(("os", "site", "hardware", "zone"))
        },
    }


def proposal_data(p: Proposal, *, members: bool = False, sample: int = 20) -> dict[str, Any]:
    """JSON form of a proposal (member lists only on request: broad rings can be huge)."""
    return {
        "target": p.label,
        "product_ids": p.product_ids,
        "channel": p.channel,
        "targets": p.targets,
        "rings": [
            {
                "position": k,
                "name": r.name,
                "asset_count": len(r.members),
                "soak_hours": r.soak_hours,
                "gates": r.gates,
                "rationale": r.rationale,
                **({"members": r.members} if members else {"sample": r.members[:sample]}),
            }
            for k, r in enumerate(p.rings)
        ],
        "redundancy_moves": p.moves,
    }
