"""Single points of failure: for a node s, every node x whose failure *alone* makes s FAIL.

Failure of s from one seed x is an AND/OR condition (fail when all members of one need-group fail), so
plain dominators do not apply directly. We compute the generalised dominator ("killer") sets

    K(n) = {n} ∪ ⋃_{groups g of n} ⋂_{m in g} K(m)

as a least fixpoint, which is exactly "n fails when x fails" for every x at once: on a graph of only
plain needs K(s) is everything s transitively needs; on a graph of only OR-sets it is the set of
post-dominators. A node that every alternative of a group needs lands in the intersection (a SPOF); a
node under one alternative only does not. Tests compare it with brute force (fail each node, propagate).

Nodes are processed leaves-first (Kahn levels computed with numpy); nodes on cycles are iterated to the
fixpoint. Sets of nodes with the same needs are interned, so 1M assets sharing a handful of product,
site and zone combinations cost a handful of sets.
"""

from __future__ import annotations

import numpy as np

from ciimap.core.errors import Invalid, NotFound
from ciimap.graph.build import CRIT, CRIT_NAMES, Graph, build_graph
from ciimap.graph.impact import asset_names
from ciimap.graph.propagate import _gather, uniq
from ciimap.graph.schemas import NodeRef, ServiceSpof


def descendants(g: Graph, roots: np.ndarray, *, hard_only: bool = False) -> np.ndarray:
    """Bool mask of everything the roots transitively need (roots included); ``hard_only`` skips
    degrade-only needs, which can never make anything fail."""
    seen = np.zeros(g.n, bool)
    frontier = uniq(np.asarray(roots, np.int64))
    seen[frontier] = True
    while frontier.size:
        _o, grps = _gather(g.node_gptr, np.arange(len(g.group_parent), dtype=np.int64), frontier)
        if hard_only:
            grps = grps[~g.soft[grps]]
        _o, mem = _gather(g.group_ptr, g.members, grps)
        mem = mem[~seen[mem]]
        seen[mem] = True
        frontier = uniq(mem)
    return seen


def ancestors(g: Graph, seeds: np.ndarray) -> np.ndarray:
    """Bool mask of everything that transitively needs one of the seeds (seeds included; degrade-only
    needs too): the reverse of :func:`descendants`."""
    seen = np.zeros(g.n, bool)
    frontier = uniq(np.asarray(seeds, np.int64))
    seen[frontier] = True
    while frontier.size:
        _src, grp = _gather(g.rev_ptr, g.rev_group, frontier)
        parents = g.group_parent[grp]
        parents = parents[~seen[parents]]
        seen[parents] = True
        frontier = uniq(parents)
    return seen


def services_needing(g: Graph, seeds: dict[str, list[int]], *, min_criticality: str = "high") -> list[int]:
    """Database ids of the business services at ``min_criticality`` or above that transitively need one
    of ``seeds`` (type → database ids, e.g. ``{"system": [..], "asset": [..]}``); one reverse walk."""
    if min_criticality not in CRIT:
        raise Invalid(f"criticality must be one of {', '.join(CRIT)}")
    parts = [g.indices(t, np.asarray(sorted(ids), np.int64)) for t, ids in seeds.items() if ids]
    idx = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if not idx.size:
        return []
    up = ancestors(g, idx)
    sl = g.mask("business_service")
    hit = np.nonzero(up[sl] & (g.crit[sl] >= CRIT[min_criticality]))[0] + g.start["business_service"]
    return sorted(int(g.dbid[i]) for i in hit)


def leaf_order(g: Graph, within: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Kahn levels (leaves first) of the nodes in ``within``, and the nodes left over (on or above cycles)."""
    gsize = np.where(g.soft, 0, np.diff(g.group_ptr)) if len(g.soft) else np.diff(g.group_ptr)
    remaining = np.zeros(g.n, np.int64)
    np.add.at(remaining, g.group_parent, gsize)  # children in hard groups (with multiplicity) per node
    done = np.zeros(g.n, bool)
    frontier = np.nonzero(within & (remaining == 0))[0]
    levels = []
    while frontier.size:
        done[frontier] = True
        levels.append(frontier)
        _src, grp = _gather(g.rev_ptr, g.rev_group, frontier)
        if len(g.soft):
            grp = grp[~g.soft[grp]]
        parents = g.group_parent[grp]
        parents = parents[within[parents]]
        np.subtract.at(remaining, parents, 1)
        cand = uniq(parents)
        frontier = cand[(remaining[cand] == 0) & ~done[cand]]
    return levels, np.nonzero(within & ~done)[0]


class _Killers:
    """Computes and stores B(n) = K(n) minus n, interned."""

    def __init__(self, g: Graph) -> None:
        self.gptr = g.node_gptr
        self.mptr = g.group_ptr
        self.members = g.members
        self.soft = g.soft if len(g.soft) else np.zeros(len(g.group_parent), bool)
        self.b: dict[int, frozenset[int]] = {}
        self.intern: dict[frozenset[int], frozenset[int]] = {}

    def compute(self, n: int) -> frozenset[int]:
        b = self.b
        acc: set[int] = set()
        glo, ghi = int(self.gptr[n]), int(self.gptr[n + 1])
        gis = (np.nonzero(~self.soft[glo:ghi])[0] + glo).tolist() if ghi - glo > 8 else range(glo, ghi)
        for gi in gis:
            if self.soft[gi]:
                continue
            lo, hi = int(self.mptr[gi]), int(self.mptr[gi + 1])
            if hi - lo == 1:
                m = int(self.members[lo])
                acc.add(m)
                acc |= b.get(m, frozenset())
                continue
            inter: set[int] | None = None
            for m in self.members[lo:hi].tolist():
                s = b.get(m, frozenset()) | {m}
                inter = set(s) if inter is None else inter & s
                if not inter:
                    break
            acc |= inter or set()
        fs = frozenset(acc)
        return self.intern.setdefault(fs, fs)


def killer_sets(g: Graph, roots: np.ndarray) -> dict[int, frozenset[int]]:
    """For each root: the nodes (other than itself) whose single failure makes it fail."""
    within = descendants(g, roots, hard_only=True)
    levels, rest = leaf_order(g, within)
    k = _Killers(g)
    for level in levels:
        for n in level.tolist():
            k.b[n] = k.compute(n)
    rest_list = rest.tolist()
    for n in rest_list:
        k.b[n] = frozenset()
    changed = bool(rest_list)
    while changed:  # least fixpoint on and above cycles: sets only grow, so this terminates
        changed = False
        for n in rest_list:
            new = k.compute(n)
            if new != k.b[n]:
                k.b[n], changed = new, True
    return {int(r): frozenset(x for x in k.b[int(r)] if x != int(r)) for r in np.unique(roots)}


# --- service -----------------------------------------------------------------------------------


def spof_report(
    session,
    *,
    service_id: int | None = None,
    min_criticality: str = "high",  # noqa: ANN001
    asset_limit: int = 50,
    graph: Graph | None = None,
) -> list:
    """SPOFs of one business service, or of every service at ``min_criticality`` or above."""
    g = graph or build_graph(session)
    if min_criticality not in CRIT:
        raise Invalid(f"criticality must be one of {', '.join(CRIT)}")
    sl = g.mask("business_service")
    if service_id is not None:
        i = g.index("business_service", service_id)
        if i is None:
            raise NotFound(f"no business service {service_id}")
        roots = np.array([i], np.int64)
    else:
        roots = np.nonzero(g.crit[sl] >= CRIT[min_criticality])[0] + g.start["business_service"]
    sets = killer_sets(g, roots) if len(roots) else {}
    shown = {r: _sorted_nodes(g, ks, asset_limit) for r, ks in sets.items()}
    names = asset_names(session, g, [x for nodes in shown.values() for x in nodes])
    out = []
    for r in sorted(sets, key=lambda r: (-int(g.crit[r]), g.label(r) or "")):
        ks = sets[r]
        counts = (
            {
                t: int(c)
                for t, c in zip(*np.unique([g.type_name(x) for x in ks], return_counts=True), strict=True)
            }
            if ks
            else {}
        )
        by_type: dict[str, list[NodeRef]] = {}
        for x in shown[r]:
            t = g.type_name(x)
            by_type.setdefault(t, []).append(NodeRef(type=t, id=_nid(g, x), name=names.get(x) or g.label(x)))
        out.append(
            ServiceSpof(
                service=NodeRef(type="business_service", id=int(g.dbid[r]), name=g.label(r)),
                criticality=CRIT_NAMES[int(g.crit[r])],
                counts=counts,
                spof=by_type,
            )
        )
    return out


def _nid(g: Graph, x: int) -> int | str:
    return g.label(x) or "" if g.type_name(x) == "channel" else int(g.dbid[x])


def _sorted_nodes(g: Graph, ks: frozenset[int], asset_limit: int) -> list[int]:
    """Every non-asset SPOF, and the ``asset_limit`` most critical asset SPOFs."""
    nodes = sorted(ks)
    assets = [x for x in nodes if g.type_name(x) == "asset"]
    other = [x for x in nodes if g.type_name(x) != "asset"]
    assets.sort(key=lambda x: (-int(g.cii[x]), -int(g.crit[x]), x))
    return other + assets[:asset_limit]
