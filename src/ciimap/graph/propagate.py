"""Failure propagation over the group CSR arrays (pure numpy, no database).

Semantics: a node FAILS when every member of one of its need-groups has failed (a plain need is a
one-member group). A node that is not failed but transitively needs a failed node is DEGRADED.
Failure is a least fixpoint computed level by level from the seeds, so cycles are handled: a cycle
only fails when something outside it (or a seed inside it) breaks it.

Hand-written rather than a graph-library call because no library has AND/OR failure semantics; each
level is a handful of vectorised numpy operations, so a 1M-node what-if stays well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ciimap.graph.structure import Graph, uniq

__all__ = ["Graph", "uniq", "propagate"]


@dataclass
class Propagation:
    failed: np.ndarray  # bool per node
    degraded: np.ndarray  # bool per node
    cause: np.ndarray  # node whose failure/degradation reached this node first (-1 for seeds/untouched)


def _gather(ptr: np.ndarray, data: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows of ``nodes`` flattened: (row owner, value) pairs."""
    starts, ends = ptr[nodes], ptr[nodes + 1]
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    owner = np.repeat(nodes, lens)
    offs = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return owner, data[np.arange(total) + offs]


def propagate(g: Graph, seeds: np.ndarray) -> Propagation:
    """Failed and degraded nodes when ``seeds`` fail."""
    failed = np.zeros(g.n, bool)
    cause = np.full(g.n, -1, np.int64)
    seeds = uniq(np.asarray(seeds, np.int64))
    failed[seeds] = True
    alive = np.diff(g.group_ptr).astype(np.int64)
    frontier = seeds
    while frontier.size:
        src, grp = _gather(g.rev_ptr, g.rev_group, frontier)
        if not grp.size:
            break
        np.subtract.at(alive, grp, 1)
        dead = alive[grp] == 0
        parents, src = g.group_parent[grp[dead]], src[dead]
        new = ~failed[parents]
        parents, src = parents[new], src[new]
        cause[parents] = src
        failed[parents] = True
        frontier = uniq(parents)
    degraded = np.zeros(g.n, bool)
    frontier = np.nonzero(failed)[0]
    while frontier.size:
        src, grp = _gather(g.rev_ptr, g.rev_group, frontier)
        parents = g.group_parent[grp]
        new = ~failed[parents] & ~degraded[parents]
        parents, src = parents[new], src[new]
        cause[parents] = src
        degraded[parents] = True
        frontier = uniq(parents)
    return Propagation(failed=failed, degraded=degraded, cause=cause)


def reach(g: Graph, seeds: np.ndarray) -> np.ndarray:
    """Bool mask of nodes that transitively need any seed (the seeds included): who relies on them."""
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


def path(g: Graph, prop: Propagation, node: int, limit: int = 64) -> list[int]:
    """The explaining chain ``node ← ... ← seed`` by following first causes (acyclic by construction)."""
    out = [node]
    while prop.cause[out[-1]] >= 0 and len(out) < limit:
        out.append(int(prop.cause[out[-1]]))
    return out
