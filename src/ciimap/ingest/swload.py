"""Load a SoftwareSet (SBOM or osquery inventory) onto an asset or a system.

Components become ``software`` rows (purl, CPE, hashes, supplier, licences, bom_ref); the dependency
graph becomes ``edge`` rows ``software -depends_on-> software``; nested CycloneDX components (and SPDX
CONTAINS) become ``software -part_of-> software``. A re-import of the same target and source replaces
the set: components no longer listed are removed, and added/removed/version-changed events are kept.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from ciimap.core import bulk
from ciimap.core.db import IN_BATCH
from ciimap.ingest.context import RunCtx
from ciimap.ingest.records import SoftwareRecord, SoftwareSet
from ciimap.inventory.models import Edge, Software


def _key(c: SoftwareRecord | Any) -> tuple[str, str | None, str | None]:
    return (c.name, c.version, c.purl)


def _row(ctx: RunCtx, target: dict[str, int | None], c: SoftwareRecord) -> dict[str, Any]:
    return {
        **target,
        "product_id": None,
        "name": c.name[:300],
        "version": (c.version or None) and c.version[:100],
        "kind": c.kind,
        "purl": c.purl and c.purl[:500],
        "cpe": c.cpe and c.cpe[:300],
        "supplier": c.supplier and str(c.supplier)[:200],
        "licenses": c.licenses,
        "hashes": c.hashes,
        "bom_ref": c.bom_ref and c.bom_ref[:500],
        "source": ctx.source,
        "first_seen": ctx.now,
        "last_seen": ctx.now,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }


def load(
    ctx: RunCtx,
    sw: SoftwareSet,
    *,
    asset_id: int | None = None,
    system_id: int | None = None,
    tables: list[str] | None = None,
) -> None:
    """``tables`` (osquery): only rows from these tables are replaced, so a ``programs`` import leaves the
    ``deb_packages`` inventory alone."""
    s = ctx.session
    target = {"asset_id": asset_id, "system_id": system_id}
    where = (Software.asset_id == asset_id) if asset_id is not None else (Software.system_id == system_id)
    old = {
        (r.name, r.version, r.purl): r.id
        for r in s.execute(
            select(Software.id, Software.name, Software.version, Software.purl).where(
                where, Software.source == ctx.source, *_table_filter(tables)
            )
        )
    }
    new: dict[tuple[str, str | None, str | None], SoftwareRecord] = {}
    for c in sw.components:
        new.setdefault(_key(c), c)
    added = [c for k, c in new.items() if k not in old]
    removed = [k for k in old if k not in new]
    kept = [old[k] for k in old if k in new]
    _events(ctx, asset_id, system_id, added, removed, baseline=not old)
    gone_ids = [old[k] for k in removed]
    _drop_edges(ctx, list(old.values()))
    for i in range(0, len(gone_ids), IN_BATCH):
        s.execute(delete(Software).where(Software.id.in_(gone_ids[i : i + IN_BATCH])))
    for i in range(0, len(kept), IN_BATCH):
        s.execute(
            update(Software)
            .where(Software.id.in_(kept[i : i + IN_BATCH]))
            .values(last_seen=ctx.now)
            .execution_options(synchronize_session=False)
        )
    if added:
        table: Any = Software.__table__
        ids = list(
            s.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [_row(ctx, target, c) for c in added],
            )
        )
        for c, sid in zip(added, ids, strict=True):
            old[_key(c)] = sid
    ctx.stats["software_added"] += len(added)
    ctx.stats["software_removed"] += len(removed)
    ctx.stats["software_total"] += len(new)
    _edges(ctx, sw, new, old)


def _table_filter(tables: list[str] | None) -> list[Any]:
    if tables is None:
        return []
    return [or_(*(Software.bom_ref.startswith(f"{t}:") for t in tables)) if tables else Software.id.is_(None)]


def _events(
    ctx: RunCtx,
    asset_id: int | None,
    system_id: int | None,
    added: list[SoftwareRecord],
    removed: list[tuple[str, str | None, str | None]],
    *,
    baseline: bool,
) -> None:
    if baseline:
        return
    add_by, rem_by = defaultdict(list), defaultdict(list)
    for c in added:
        add_by[c.name].append(c.version)
    for name, version, _p in removed:
        rem_by[name].append(version)
    where = {"system_id": system_id} if system_id is not None else None
    for name in sorted(set(add_by) | set(rem_by)):
        if name in add_by and name in rem_by:
            ctx.event(
                "software_version_changed",
                asset_id,
                name,
                {"versions": rem_by[name], **(where or {})},
                {"versions": add_by[name]},
            )
        elif name in add_by:
            ctx.event("software_added", asset_id, name, None, {"versions": add_by[name], **(where or {})})
        else:
            ctx.event("software_removed", asset_id, name, {"versions": rem_by[name], **(where or {})}, None)


def _drop_edges(ctx: RunCtx, ids: list[int]) -> None:
    for i in range(0, len(ids), IN_BATCH):
        ctx.session.execute(
            delete(Edge).where(
                Edge.src_type == "software",
                Edge.src_id.in_(ids[i : i + IN_BATCH]),
                Edge.kind.in_(("depends_on", "part_of")),
            )
        )


def _edges(ctx: RunCtx, sw: SoftwareSet, new: dict[Any, SoftwareRecord], ids: dict[Any, int]) -> None:
    by_ref: dict[str, int] = {}
    for k, c in new.items():
        if c.bom_ref:
            by_ref.setdefault(c.bom_ref, ids[k])
    pairs: set[tuple[int, str, int]] = set()
    for src, dst in sw.depends:
        a, b = by_ref.get(src), by_ref.get(dst)
        if a is not None and b is not None and a != b:
            pairs.add((a, "depends_on", b))
    for c in new.values():
        a, b = by_ref.get(c.bom_ref or ""), by_ref.get(c.parent_ref or "")
        if c.parent_ref and a is not None and b is not None and a != b:
            pairs.add((a, "part_of", b))
    rows = [
        {
            "src_type": "software",
            "src_id": a,
            "kind": k,
            "dst_type": "software",
            "dst_id": b,
            "redundancy_group": None,
            "description": None,
            "source": ctx.source,
            "first_seen": ctx.now,
            "last_seen": ctx.now,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        }
        for a, k, b in sorted(pairs)
    ]
    if rows:
        bulk.insert_rows(ctx.session, Edge.__table__, rows)
    ctx.stats["dependency_edges"] += len(rows)
