"""The in-memory dependency graph's data structure (integer nodes, numpy CSR arrays), shared by the
builder (``build``), propagation (``propagate``) and the on-disk store (``store``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Node types, in the order their index ranges are laid out.
TYPES = ("business_service", "system", "asset", "product", "vendor", "site", "zone", "channel", "sentinel")
T = {name: code for code, name in enumerate(TYPES)}


@dataclass
class Graph:
    """The dependency graph. Node ``i`` has type ``type_of[i]`` and database id ``dbid[i]``."""

    version: str
    n: int
    type_of: np.ndarray
    dbid: np.ndarray
    start: dict[str, int]
    ids: dict[str, np.ndarray]
    names: dict[str, list[str]]
    crit: np.ndarray  # criticality code per node, -1 where not applicable
    cii: np.ndarray  # bool: system flagged CII (for assets: runs a CII system)
    mlps: np.ndarray  # MLPS level per system node (0 = none)
    group_parent: np.ndarray
    group_ptr: np.ndarray  # members of group g: members[group_ptr[g]:group_ptr[g+1]]
    members: np.ndarray
    node_gptr: np.ndarray  # groups of node i: node_gptr[i]:node_gptr[i+1] (groups sorted by parent)
    rev_ptr: np.ndarray  # groups that contain node i: rev_group[rev_ptr[i]:rev_ptr[i+1]]
    rev_group: np.ndarray
    group_name: dict[int, str] = field(default_factory=dict)
    soft: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per group: degrade-only need
    products: dict[int, dict[str, object]] = field(default_factory=dict)  # product db id -> attrs
    vendor_domestic: dict[int, bool] = field(default_factory=dict)

    def index(self, type_: str, db_id: int) -> int | None:
        """Node index of a database row, or None when it is not in the graph."""
        arr = self.ids[type_]
        pos = int(np.searchsorted(arr, db_id))
        if pos < len(arr) and arr[pos] == db_id:
            return self.start[type_] + pos
        return None

    def indices(self, type_: str, db_ids: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`index`; ids not in the graph are dropped."""
        arr = self.ids[type_]
        db_ids = np.asarray(db_ids, dtype=np.int64)
        pos = np.searchsorted(arr, db_ids)
        ok = pos < len(arr)
        ok[ok] = arr[pos[ok]] == db_ids[ok]
        return (pos[ok] + self.start[type_]).astype(np.int64)

    def type_name(self, i: int) -> str:
        return TYPES[int(self.type_of[i])]

    def label(self, i: int) -> str | None:
        """Name of a non-asset node (asset names are looked up on demand: see ``impact.asset_names``)."""
        t = self.type_name(i)
        if t == "asset":
            return None
        return self.names[t][i - self.start[t]]

    @property
    def sentinel(self) -> int:
        """The one node that never fails: the second member of every "soft" (degrade-only) need."""
        return self.start["sentinel"]

    def mask(self, type_: str) -> slice:
        return slice(self.start[type_], self.start[type_] + len(self.ids[type_]))

    def groups_of(self, i: int) -> range:
        return range(int(self.node_gptr[i]), int(self.node_gptr[i + 1]))

    def members_of(self, g: int) -> np.ndarray:
        return self.members[self.group_ptr[g] : self.group_ptr[g + 1]]


def uniq(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values. np.unique's hash path is ~50x slower on 1e5-1e6 ints (numpy 2.x)."""
    if x.size < 2:
        return x
    x = np.sort(x)
    keep = np.empty(x.size, bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]
