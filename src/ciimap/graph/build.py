"""Load the map into a compact in-memory dependency graph (integer nodes, numpy CSR arrays).

Why not ORM objects or networkx: a 1M-asset map has millions of dependency edges; Python objects per
edge cost ~1 KB each, numpy arrays 8–16 bytes, and vectorised propagation over CSR arrays answers a
vendor what-if in well under a second. Every table is read with one column-only statement.

Needs are stored as *groups*: each group belongs to one parent node and lists the children it
needs; a plain need is a one-member group, an OR-set of alternatives (same ``redundancy_group``) is a
multi-member group. A node fails when every member of one of its groups has failed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ciimap.core.audit import AuditLog
from ciimap.graph import store
from ciimap.graph.structure import TYPES, Graph, T, uniq
from ciimap.inventory.models import CRITICALITY, NEED_KINDS

__all__ = ["TYPES", "T", "Graph", "build_graph", "from_needs", "map_version"]
CRIT = {"low": 0, "medium": 1, "high": 2, "critical": 3}
CRIT_NAMES = CRITICALITY
_CRIT_SQL = (
    "CASE criticality WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 "
    "WHEN 'critical' THEN 3 ELSE 1 END"
)


# --- map version and cache ---------------------------------------------------------------------

_TABLES = (
    "business_service",
    "system",
    "asset",
    "product",
    "vendor",
    "site",
    "network_zone",
    "software",
    "edge",
)


def map_version(session: Session) -> str:
    """Cheap fingerprint of the map (32 hex digits): the newest audit record about each map table (every
    change, bulk or not, is audited) and each table's highest id — about twenty index lookups.

    Changes elsewhere (logins, scenarios, rollouts) leave it alone, so they do not force a rebuild.
    """
    parts, newest = [], 0
    for t in _TABLES:
        last = session.execute(select(func.max(AuditLog.id)).where(AuditLog.entity_type == t)).scalar()
        top = session.execute(text(f"SELECT MAX(id) FROM {t}")).scalar()  # noqa: S608 (constant SQL)
        parts.append(f"{last or 0}/{top or 0}")
        newest = max(newest, last or 0)
    reset = session.execute(select(func.max(AuditLog.id)).where(AuditLog.entity_type == "map")).scalar()
    newest = max(newest, reset or 0)
    # the chain hash of the newest map record covers the whole history before it, so a database restored
    # from a backup and changed differently never repeats a version (the graph store keeps versions on disk)
    chained = session.execute(select(AuditLog.hash).where(AuditLog.id == newest)).scalar() or ""
    raw = ":".join([str(reset or 0), *parts, chained])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


_cache: dict[str, Graph] = {}
_lock = threading.Lock()


def build_graph(session: Session, *, use_cache: bool = True) -> Graph:
    """The graph of the current map; rebuilt only when :func:`map_version` changed.

    Cached in this process and shared with the other server processes through the data directory
    (:mod:`ciimap.graph.store`). ``use_cache=False`` builds a private copy and touches neither cache.
    """
    version = map_version(session)
    if not use_cache:
        return _build_current(session, version)
    key = str(session.get_bind().engine.url)  # password masked
    with _lock:
        g = _cache.get(key)
        if g is not None and g.version == version:
            return g
        g = store.load_or_build(key, version, lambda: _build_current(session, version))
        _cache[key] = g
        return g


def _build_current(session: Session, version: str) -> Graph:
    """Build, then check that the map did not change meanwhile (an import committing during a 10 s
    build at 1M assets): the graph must carry the version of what it was built from, because it is
    cached and shared under that version. Reads are not one snapshot (SQLite autocommit SELECTs,
    PostgreSQL READ COMMITTED), so a changed version means build again."""
    for _attempt in range(3):
        g = _build(session, version)
        now = map_version(session)
        if now == version:
            return g
        version = now
    g.version = ""  # still changing: usable now, never matched by a later version check
    return g


def clear_cache() -> None:
    with _lock:
        _cache.clear()


# --- loading -----------------------------------------------------------------------------------


def _rows(session: Session, sql: str, ncols: int) -> list[np.ndarray]:
    """Run a column-only integer query and return its columns as int64 arrays.

    Uses the DBAPI cursor of the session's connection directly (same transaction) and turns each
    fetched chunk into one 2-D array: ~10x faster than Row objects for millions of rows. NULLs must be
    COALESCEd in SQL.
    """
    cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql)
        chunks = []
        while True:
            part = cur.fetchmany(500_000)
            if not part:
                break
            # fromiter over the flattened tuples: about 2x faster than np.array on a list of tuples
            flat = np.fromiter(chain.from_iterable(part), dtype=np.int64, count=len(part) * ncols)
            chunks.append(flat.reshape(-1, ncols))
    finally:
        cur.close()
    data = np.concatenate(chunks) if chunks else np.zeros((0, ncols), np.int64)
    return [np.ascontiguousarray(data[:, k]) for k in range(ncols)]


def _small(session: Session, sql: str) -> list[tuple]:
    return [tuple(r) for r in session.execute(text(sql)).all()]


@dataclass
class _Needs:
    parents: list[np.ndarray] = field(default_factory=list)
    children: list[np.ndarray] = field(default_factory=list)
    keys: list[np.ndarray] = field(default_factory=list)  # -1: plain need; else OR-group key id
    or_keys: dict[tuple[int, str], int] = field(default_factory=dict)
    next_key: int = 0
    soft: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (first key, parents)

    def add(self, p: np.ndarray, c: np.ndarray, key: np.ndarray | None = None) -> None:
        self.parents.append(np.asarray(p, np.int64))
        self.children.append(np.asarray(c, np.int64))
        self.keys.append(np.full(len(p), -1, np.int64) if key is None else np.asarray(key, np.int64))

    def or_key(self, parent: int, name: str) -> int:
        k = self.or_keys.setdefault((parent, name), self.next_key)
        if k == self.next_key:
            self.next_key += 1
        return k

    def add_soft(self, p: np.ndarray, c: np.ndarray, sentinel: int) -> None:
        """Degrade-only needs: each (p, c) becomes the OR-group {c, sentinel}, which never fails."""
        keys = np.arange(self.next_key, self.next_key + len(p), dtype=np.int64)
        self.soft.append((self.next_key, np.asarray(p, np.int64)))
        self.next_key += len(p)
        self.add(p, c, keys)
        self.add(p, np.full(len(p), sentinel, np.int64), keys)


def _build(session: Session, version: str) -> Graph:
    small = {
        "business_service": _small(
            session,
            f"SELECT id, name, {_CRIT_SQL} FROM business_service ORDER BY id",  # noqa: S608 (constant SQL)
        ),
        "system": _small(
            session,
            f"SELECT id, name, {_CRIT_SQL}, is_cii, COALESCE(mlps_level, 0) "  # noqa: S608 (constant SQL)
            "FROM system ORDER BY id",
        ),
        "product": _small(
            session,
            "SELECT id, name, vendor_id, auto_update, update_privilege, update_channel, "
            "layer FROM product ORDER BY id",
        ),
        "vendor": _small(session, "SELECT id, name, is_domestic, country FROM vendor ORDER BY id"),
        "site": _small(session, "SELECT id, name FROM site ORDER BY id"),
        "zone": _small(session, "SELECT id, name FROM network_zone ORDER BY id"),
    }
    a_id, a_sys, a_site, a_zone, a_crit = _rows(
        session,
        f"SELECT id, COALESCE(system_id, -1), COALESCE(site_id, -1), COALESCE(zone_id, -1), {_CRIT_SQL} "  # noqa: S608 (constant SQL)
        "FROM asset WHERE lifecycle_status <> 'retired' ORDER BY id",
        5,
    )
    channels = sorted({r[5] for r in small["product"] if r[5]})
    ids = {t: np.array([r[0] for r in small[t]], np.int64) for t in small}
    ids["asset"] = a_id
    ids["channel"] = np.arange(len(channels), dtype=np.int64)
    ids["sentinel"] = np.zeros(1, np.int64)
    names = {t: [str(r[1]) for r in small[t]] for t in small}
    names["channel"] = channels
    names["sentinel"] = ["(always up)"]
    start, n = {}, 0
    for t in TYPES:
        start[t] = n
        n += len(ids[t])
    g = Graph(
        version=version,
        n=n,
        type_of=np.zeros(n, np.int8),
        dbid=np.zeros(n, np.int64),
        start=start,
        ids=ids,
        names=names,
        crit=np.full(n, -1, np.int8),
        cii=np.zeros(n, bool),
        mlps=np.zeros(n, np.int8),
        group_parent=np.zeros(0, np.int64),
        group_ptr=np.zeros(1, np.int64),
        members=np.zeros(0, np.int64),
        node_gptr=np.zeros(n + 1, np.int64),
        rev_ptr=np.zeros(n + 1, np.int64),
        rev_group=np.zeros(0, np.int64),
    )
    for t in TYPES:
        sl = g.mask(t)
        g.type_of[sl] = T[t]
        g.dbid[sl] = ids[t]
    _attributes(g, small, a_sys, a_crit)
    needs = _Needs()
    _structural_needs(g, needs, small, a_sys, a_site, a_zone, channels)
    _software_needs(session, g, needs)
    _edge_needs(session, g, needs, a_sys)
    _assemble(g, needs)
    return g


def _attributes(g: Graph, small: dict[str, list[tuple]], a_sys: np.ndarray, a_crit: np.ndarray) -> None:
    s0, y0 = g.start["business_service"], g.start["system"]
    for k, r in enumerate(small["business_service"]):
        g.crit[s0 + k] = r[2]
    for k, r in enumerate(small["system"]):
        g.crit[y0 + k], g.cii[y0 + k], g.mlps[y0 + k] = r[2], bool(r[3]), int(r[4])
    asl = g.mask("asset")
    g.crit[asl] = a_crit
    sys_idx = _lookup(g, "system", a_sys)
    has = sys_idx >= 0
    cii_assets = np.zeros(len(a_sys), bool)
    cii_assets[has] = g.cii[sys_idx[has]]
    g.cii[asl] = cii_assets
    g.vendor_domestic = {int(r[0]): bool(r[2]) for r in small["vendor"]}
    for r in small["product"]:
        g.products[int(r[0])] = {
            "name": r[1],
            "vendor_id": r[2],
            "auto_update": bool(r[3]),
            "update_privilege": r[4] or "none",
            "update_channel": r[5],
            "layer": r[6],
        }


def _lookup(g: Graph, type_: str, db_ids: np.ndarray) -> np.ndarray:
    """Node index per database id (same length; -1 where missing)."""
    arr = g.ids[type_]
    out = np.full(len(db_ids), -1, np.int64)
    if len(arr) == 0 or len(db_ids) == 0:
        return out
    pos = np.minimum(np.searchsorted(arr, db_ids), len(arr) - 1)
    ok = arr[pos] == db_ids
    out[ok] = pos[ok] + g.start[type_]
    return out


def _pairs(needs: _Needs, p: np.ndarray, c: np.ndarray) -> None:
    ok = (p >= 0) & (c >= 0)
    needs.add(p[ok], c[ok])


def _structural_needs(
    g: Graph,
    needs: _Needs,
    small: dict[str, list[tuple]],
    a_sys: np.ndarray,
    a_site: np.ndarray,
    a_zone: np.ndarray,
    channels: list[str],
) -> None:
    """Needs implied by columns: asset -> site/zone, product -> vendor/channel (system -> asset below)."""
    aidx = np.arange(g.start["asset"], g.start["asset"] + len(a_sys), dtype=np.int64)
    _pairs(needs, aidx, _lookup(g, "site", a_site))
    _pairs(needs, aidx, _lookup(g, "zone", a_zone))
    prod = small["product"]
    pidx = np.arange(g.start["product"], g.start["product"] + len(prod), dtype=np.int64)
    _pairs(needs, pidx, _lookup(g, "vendor", np.array([r[2] for r in prod], np.int64)))
    ch = {name: k for k, name in enumerate(channels)}
    cidx = np.array([g.start["channel"] + ch[r[5]] if r[5] else -1 for r in prod], np.int64)
    _pairs(needs, pidx, cidx)


def _software_needs(session: Session, g: Graph, needs: _Needs) -> None:
    """An asset needs the products installed on it; a system needs the products of its SBOM."""
    a, p = _rows(
        session,
        "SELECT asset_id, product_id FROM software WHERE product_id IS NOT NULL AND asset_id IS NOT NULL",
        2,
    )
    _pairs(needs, _lookup(g, "asset", a), _lookup(g, "product", p))
    s, p = _rows(
        session,
        "SELECT system_id, product_id FROM software "
        "WHERE product_id IS NOT NULL AND system_id IS NOT NULL AND asset_id IS NULL",
        2,
    )
    _pairs(needs, _lookup(g, "system", s), _lookup(g, "product", p))


def _edge_needs(session: Session, g: Graph, needs: _Needs, a_sys: np.ndarray) -> None:
    """Needs from ``edge`` rows, and system -> asset needs from ``asset.system_id``.

    A system wired to assets by explicit edges needs exactly those (with their redundancy groups);
    its other ``system_id`` assets are members whose loss degrades it but cannot fail it. A system with
    no explicit asset edges needs each of its ``system_id`` assets, except that assets joined by
    ``replica_of`` edges form one replica set (an OR-group).

    The edge rows are read as integers (types and kind coded in SQL) and handled per (source type,
    target type) as arrays; only edges with a redundancy group go through Python one by one.
    """
    kinds = ", ".join(f"'{k}'" for k in (*NEED_KINDS, "replica_of"))
    codes = {**T, "network_zone": T["zone"]}
    case = (
        "CASE {col} "
        + " ".join(f"WHEN '{name}' THEN {code}" for name, code in codes.items())
        + " ELSE -1 END"
    )
    eid, st, sid, rep, dt_, did = _rows(
        session,
        f"SELECT id, {case.format(col='src_type')}, src_id, CASE kind WHEN 'replica_of' THEN 1 ELSE 0 END, "  # noqa: S608 (constant SQL)
        f"{case.format(col='dst_type')}, dst_id FROM edge WHERE kind IN ({kinds})",
        6,
    )
    grouped = _small(
        session,
        f"SELECT id, redundancy_group FROM edge WHERE kind IN ({kinds}) "  # noqa: S608 (constant SQL)
        "AND redundancy_group IS NOT NULL AND kind <> 'replica_of'",
    )
    group_of = {int(i): str(grp) for i, grp in grouped}
    asset = T["asset"]
    rmask = (rep == 1) & (st == asset) & (dt_ == asset)
    replica = list(zip(sid[rmask].tolist(), did[rmask].tolist(), strict=True))
    usable = (rep == 0) & (st >= 0) & (dt_ >= 0) & (st != T["channel"]) & (dt_ != T["channel"])
    usable &= (st != T["sentinel"]) & (dt_ != T["sentinel"])
    pair = st * 16 + dt_
    present, first = np.unique(pair[usable], return_index=True)
    explicit = []
    for code in present[np.argsort(first, kind="stable")].tolist():  # pairs in order of first appearance
        sel = usable & (pair == code)
        s_t, d_t = TYPES[code // 16], TYPES[code % 16]
        p = _lookup(g, s_t, sid[sel])
        c = _lookup(g, d_t, did[sel])
        keys = np.full(len(p), -1, np.int64)
        if group_of:
            for k, e in enumerate(eid[sel].tolist()):
                grp = group_of.get(e)
                if grp is not None and p[k] >= 0:
                    keys[k] = needs.or_key(int(p[k]), grp)
        ok = (p >= 0) & (c >= 0)
        needs.add(p[ok], c[ok], keys[ok])
        if s_t == "system" and d_t == "asset":
            explicit.append(p[ok] * g.n + c[ok])
    _system_asset_needs(
        g, needs, a_sys, replica, np.concatenate(explicit) if explicit else np.zeros(0, np.int64)
    )


def _system_asset_needs(
    g: Graph, needs: _Needs, a_sys: np.ndarray, replica: list[tuple[int, int]], explicit: np.ndarray
) -> None:
    aidx = np.arange(g.start["asset"], g.start["asset"] + len(a_sys), dtype=np.int64)
    sidx = _lookup(g, "system", a_sys)
    ok = sidx >= 0
    if len(explicit):
        ok &= ~np.isin(sidx * g.n + aidx, explicit)
        wired = np.isin(sidx, np.unique(explicit // g.n))
        soft = ok & wired
        needs.add_soft(sidx[soft], aidx[soft], g.sentinel)
        ok &= ~wired
    p, c = sidx[ok], aidx[ok]
    keys = np.full(len(p), -1, np.int64)
    if replica:
        root = _replica_roots(g, replica)
        members = np.array(sorted(root), np.int64)
        for k in np.nonzero(np.isin(c, members))[0].tolist():  # replica members only, in order
            keys[k] = needs.or_key(int(p[k]), f"replica:{root[int(c[k])]}")
    needs.add(p, c, keys)


def _replica_roots(g: Graph, pairs: list[tuple[int, int]]) -> dict[int, int]:
    """Union-find over ``replica_of`` edges: asset node -> replica-set representative (asset db id)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out = {}
    for a in list(parent):
        i = g.index("asset", a)
        if i is not None:
            out[i] = find(a)
    return out


def _assemble(g: Graph, needs: _Needs) -> None:
    """Turn (parent, child, or-key) rows into group CSR arrays, forward and reverse."""
    if not needs.parents:
        return
    p = np.concatenate(needs.parents)
    c = np.concatenate(needs.children)
    k = np.concatenate(needs.keys)
    key = np.where(k < 0, p * g.n + c, -(k + 1))  # plain need: its own group; OR: shared key
    ukey, gid = np.unique(key, return_inverse=True)
    pair = uniq(gid.astype(np.int64) * g.n + c)  # dedupe (group, child)
    gid, c = pair // g.n, pair % g.n
    gparent = np.zeros(len(ukey), np.int64)
    gparent[gid] = np.where(ukey[gid] < 0, -1, ukey[gid] // g.n)
    keyname = {-(v + 1): name for (_par, name), v in needs.or_keys.items()}
    key_parent = np.full(needs.next_key, -1, np.int64)
    for (par, _n), v in needs.or_keys.items():
        key_parent[v] = par
    for first, parents in needs.soft:
        key_parent[first : first + len(parents)] = parents
    neg = np.nonzero(ukey < 0)[0]
    gparent[neg] = key_parent[-ukey[neg] - 1]
    named = np.zeros(needs.next_key, bool)
    named[list(needs.or_keys.values())] = True
    neg = neg[named[-ukey[neg] - 1]]
    order = np.argsort(gparent, kind="stable")  # renumber groups so a node's groups are contiguous
    renum = np.empty(len(order), np.int64)
    renum[order] = np.arange(len(order))
    g.group_parent = gparent[order]
    gid = renum[gid]
    srt = np.argsort(gid, kind="stable")
    g.members = c[srt]
    g.group_ptr = np.concatenate([[0], np.cumsum(np.bincount(gid, minlength=len(order)))]).astype(np.int64)
    g.node_gptr = np.concatenate([[0], np.cumsum(np.bincount(g.group_parent, minlength=g.n))]).astype(
        np.int64
    )
    rs = np.argsort(c, kind="stable")
    g.rev_group = gid[rs]
    g.rev_ptr = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=g.n))]).astype(np.int64)
    g.group_name = {int(renum[gi]): keyname[int(ukey[gi])] for gi in neg.tolist()}
    g.soft = g.members[g.group_ptr[1:] - 1] == g.sentinel if len(g.members) else np.zeros(0, bool)


def from_needs(n: int, needs: list[tuple[int, int, str | None]], *, type_: str = "system") -> Graph:
    """A graph of ``n`` nodes of one type from (parent, child, redundancy group or None) triples.

    Used by tests (random graphs checked against brute force) and the benchmark's networkx baseline.
    """
    ids = {t: np.zeros(0, np.int64) for t in TYPES}
    ids[type_] = np.arange(n, dtype=np.int64)
    start, k = {}, 0
    for t in TYPES:
        start[t] = k
        k += len(ids[t])
    names: dict[str, list[str]] = {t: [] for t in TYPES}
    names[type_] = [f"n{i}" for i in range(n)]
    g = Graph(
        version="synthetic",
        n=n,
        type_of=np.full(n, T[type_], np.int8),
        dbid=np.arange(n, dtype=np.int64),
        start=start,
        ids=ids,
        names=names,
        crit=np.full(n, 3, np.int8),
        cii=np.zeros(n, bool),
        mlps=np.zeros(n, np.int8),
        group_parent=np.zeros(0, np.int64),
        group_ptr=np.zeros(1, np.int64),
        members=np.zeros(0, np.int64),
        node_gptr=np.zeros(n + 1, np.int64),
        rev_ptr=np.zeros(n + 1, np.int64),
        rev_group=np.zeros(0, np.int64),
    )
    nd = _Needs()
    if needs:
        p = np.array([x[0] for x in needs], np.int64)
        c = np.array([x[1] for x in needs], np.int64)
        key = np.array([-1 if x[2] is None else nd.or_key(x[0], x[2]) for x in needs], np.int64)
        nd.add(p, c, key)
    _assemble(g, nd)
    return g
