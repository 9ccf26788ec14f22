"""What-if impact: resolve "what fails" selectors to graph nodes, propagate, explain and rank."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ciimap.core.db import chunks
from ciimap.core.errors import Invalid, NotFound
from ciimap.datagov import service as datagov
from ciimap.graph.build import CRIT_NAMES, TYPES, Graph, build_graph
from ciimap.graph.propagate import Propagation, path, propagate, uniq
from ciimap.graph.schemas import ImpactNode, ImpactResult, NodeRef, Selector
from ciimap.inventory import models as m

_MODEL: dict[str, Any] = {
    "asset": m.Asset,
    "product": m.Product,
    "vendor": m.Vendor,
    "site": m.Site,
    "zone": m.NetworkZone,
    "system": m.System,
    "service": m.BusinessService,
}
_GRAPH_TYPE = {"service": "business_service"}
ARROW = " ← "


def _ids_by_ref(session: Session, kind: str, ref: str) -> list[int]:
    """Row ids a reference names: an integer id, else an exact (case-insensitive) name."""
    model = _MODEL[kind]
    if ref.isdigit():
        stmt = select(model.id).where(model.id == int(ref))
    elif kind == "asset":
        stmt = select(model.id).where(
            or_(
                func.lower(model.name) == ref.lower(),
                func.lower(model.hostname) == ref.lower(),
                model.primary_ip == ref,
            )
        )
    else:
        stmt = select(model.id).where(func.lower(model.name) == ref.lower())
    found = session.execute(stmt.limit(11)).scalars().all()
    if not found:
        raise NotFound(f"no {kind} '{ref}'")
    if len(found) > 1:
        raise Invalid(
            f"{len(found)} {kind}s match '{ref}'; give the id instead ({', '.join(map(str, found[:10]))})"
        )
    return [int(found[0])]


def resolve(session: Session, g: Graph, sel: Selector) -> np.ndarray:
    """Graph nodes a selector fails."""
    kind, ref = sel.kind, sel.ref.strip()
    if kind == "channel":
        if ref not in g.names["channel"]:
            raise NotFound(
                f"no update channel '{ref}' (known: {', '.join(g.names['channel'][:20]) or 'none'})"
            )
        return np.array([g.start["channel"] + g.names["channel"].index(ref)], np.int64)
    if kind == "product-version":
        if "@" not in ref:
            raise Invalid(f"product-version '{ref}' must be written name@version (or id@version)")
        name, version = ref.rsplit("@", 1)
        pid = _ids_by_ref(session, "product", name.strip())[0]
        rows = session.execute(
            select(m.Software.asset_id, m.Software.system_id).where(
                m.Software.product_id == pid, m.Software.version == version.strip()
            )
        ).all()
        if not rows:
            raise NotFound(f"no software of product '{name}' at version '{version}' on the map")
        assets = [r[0] for r in rows if r[0] is not None]
        systems = [r[1] for r in rows if r[0] is None and r[1] is not None]
        return np.concatenate(
            [g.indices("asset", np.array(assets, np.int64)), g.indices("system", np.array(systems, np.int64))]
        )
    db_ids = _ids_by_ref(session, kind, ref)
    idx = g.indices(_GRAPH_TYPE.get(kind, kind), np.array(db_ids, np.int64))
    if not len(idx):
        raise Invalid(f"{kind} '{ref}' is not part of the dependency graph (retired asset?)")
    return idx


def asset_names(session: Session, g: Graph, nodes: list[int]) -> dict[int, str]:
    """Names of asset nodes, fetched in batches (asset names are not kept in the graph)."""
    ids = sorted({int(g.dbid[i]) for i in nodes if g.type_name(i) == "asset"})
    out: dict[int, str] = {}
    for chunk in chunks(ids):
        for aid, name in session.execute(select(m.Asset.id, m.Asset.name).where(m.Asset.id.in_(chunk))).all():
            i = g.index("asset", int(aid))
            if i is not None:
                out[i] = name
    return out


def _reason(g: Graph, prop: Propagation, i: int, label: dict[int, str | None]) -> str:
    """Why a node failed or degraded, in one line (vectorised over its groups: systems have thousands)."""
    lo, hi = int(g.node_gptr[i]), int(g.node_gptr[i + 1])
    c = int(prop.cause[i])
    if hi > lo:
        ptr = g.group_ptr[lo : hi + 1]
        down = np.add.reduceat(prop.failed[g.members[ptr[0] : ptr[-1]]].astype(np.int64), ptr[:-1] - ptr[0])
        size = np.diff(ptr)
        soft = g.members[ptr[1:] - 1] == g.sentinel
        alt = (size > 1) & ~soft
        pick = np.nonzero(alt & ((down == size) if prop.failed[i] else (down > 0)))[0]
        if pick.size:
            k = int(pick[0])
            name = g.group_name.get(lo + k, "?")
            if prop.failed[i]:
                return f"all {size[k]} alternatives in redundancy group '{name}' failed"
            return f"{down[k]} of {size[k]} alternatives in redundancy group '{name}' failed"
        if not prop.failed[i] and c >= 0 and prop.failed[c] and np.any(soft & (down > 0)):
            return f"member {g.type_name(c)} {label.get(c) or g.dbid[c]} failed (the rest keeps running)"
    if c < 0:
        return "selected to fail"
    what = f"{g.type_name(c)} {label.get(c) or g.dbid[c]}"
    if prop.failed[i]:
        return f"needs {what}, which failed"
    return f"needs {what}, which is {'failed' if prop.failed[c] else 'degraded'}"


def _node(g: Graph, prop: Propagation, i: int, label: dict[int, str | None]) -> ImpactNode:
    chain = path(g, prop, i)
    refs = [
        NodeRef(
            type=g.type_name(j),
            id=int(g.dbid[j]) if g.type_name(j) != "channel" else label[j] or "",
            name=label.get(j),
        )
        for j in chain
    ]
    t = g.type_name(i)
    return ImpactNode(
        type=t,
        id=int(g.dbid[i]),
        name=label.get(i),
        status="failed" if prop.failed[i] else "degraded",
        is_cii=bool(g.cii[i]) if t in ("system", "asset") else False,
        mlps_level=int(g.mlps[i]) or None if t == "system" else None,
        criticality=CRIT_NAMES[g.crit[i]] if g.crit[i] >= 0 else None,
        reason=_reason(g, prop, i, label),
        path=refs,
        path_text=ARROW.join(f"{r.type}:{r.name or r.id}" for r in refs),
    )


def rank_key(n: ImpactNode) -> tuple:
    """Failed before degraded, CII first, higher MLPS level, higher criticality, then name."""
    crit = CRIT_NAMES.index(n.criticality) if n.criticality else -1
    return (n.status != "failed", not n.is_cii, -(n.mlps_level or 0), -crit, n.name or "", n.id)


def _counts(g: Graph, mask: np.ndarray) -> dict[str, int]:
    codes = np.bincount(g.type_of[mask].astype(np.int64), minlength=len(TYPES))
    return {t: int(codes[k]) for k, t in enumerate(TYPES) if codes[k]}


def _service_flags(g: Graph, prop: Propagation, nodes: list[ImpactNode], svc_idx: dict[int, int]) -> None:
    """A service is CII / graded as high as the systems it directly needs."""
    for node in nodes:
        i = svc_idx[node.id]
        kids = [int(m) for gi in g.groups_of(i) for m in g.members_of(gi) if g.type_name(int(m)) == "system"]
        node.is_cii = any(bool(g.cii[k]) for k in kids)
        node.mlps_level = max((int(g.mlps[k]) for k in kids), default=0) or None


def impact_many(
    session: Session, *, selectors: list[Selector], asset_limit: int = 100, graph: Graph | None = None
) -> ImpactResult:
    """What fails and what degrades when everything the selectors name fails at once."""
    t0 = time.perf_counter()
    if not selectors:
        raise Invalid("name at least one thing that fails")
    g = graph or build_graph(session)
    seeds = np.concatenate([resolve(session, g, s) for s in selectors])
    prop = propagate(g, seeds)
    hit = prop.failed | prop.degraded
    svc = np.nonzero(hit[g.mask("business_service")])[0] + g.start["business_service"]
    sysn = np.nonzero(hit[g.mask("system")])[0] + g.start["system"]
    anodes = np.nonzero(hit[g.mask("asset")])[0] + g.start["asset"]
    top_assets = _top_assets(g, prop, anodes, asset_limit)
    chains = [path(g, prop, int(i)) for i in (*svc, *sysn, *top_assets)]
    every = {j for c in chains for j in c}
    label: dict[int, str | None] = {j: g.label(j) for j in every}
    label.update(asset_names(session, g, list(every)))
    services = sorted((_node(g, prop, int(i), label) for i in svc), key=rank_key)
    _service_flags(g, prop, services, {int(g.dbid[i]): int(i) for i in svc})
    services.sort(key=rank_key)
    at_risk, at_risk_total = datagov.at_risk(
        session,
        system_ids=[int(g.dbid[i]) for i in sysn],
        asset_ids=[int(g.dbid[i]) for i in anodes],
        service_ids=[int(g.dbid[i]) for i in svc],
    )
    return ImpactResult(
        selectors=selectors,
        seeds=int(len(uniq(seeds))),
        counts={"failed": _counts(g, prop.failed), "degraded": _counts(g, prop.degraded)},
        services=services,
        systems=sorted((_node(g, prop, int(i), label) for i in sysn), key=rank_key),
        assets=sorted((_node(g, prop, int(i), label) for i in top_assets), key=rank_key),
        assets_total=int(len(anodes)),
        data_at_risk=at_risk,  # type: ignore[arg-type]
        data_at_risk_total=at_risk_total,
        map_version=g.version,
        elapsed_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _top_assets(g: Graph, prop: Propagation, anodes: np.ndarray, limit: int) -> list[int]:
    """The ``limit`` most important hit assets (failed, CII, criticality) without sorting them all."""
    if not len(anodes) or limit <= 0:
        return []
    score = (prop.failed[anodes] * 8 + g.cii[anodes] * 4 + g.crit[anodes]).astype(np.int64)
    if len(anodes) > limit:
        keep = np.argpartition(-score, limit - 1)[:limit]
        anodes = anodes[keep]
    return [int(i) for i in anodes]


def impact(session: Session, *, kind: str, ref: str, asset_limit: int = 100) -> ImpactResult:
    """What-if for one selector: ``impact(s, kind="vendor", ref="CrowdStrike")``."""
    try:
        sel = Selector(kind=kind, ref=ref)  # type: ignore[arg-type]
    except ValueError:
        raise Invalid(
            f"unknown kind '{kind}' (asset, product, product-version, vendor, site, zone, channel, "
            "system, service)"
        ) from None
    return impact_many(session, selectors=[sel], asset_limit=asset_limit)
