"""Register rows name their owner (责任人), system (所属系统), site (机房) and zone (区域) by name:
resolve those names to map objects per chunk (one IN query per type), creating the missing ones
through the ORM so each creation is audited."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.db import IN_BATCH
from ciimap.ingest.records import HostRecord
from ciimap.inventory.models import Contact, NetworkZone, Site, System

REFS: dict[str, tuple[type, str]] = {
    "owner": (Contact, "owner_id"),
    "system": (System, "system_id"),
    "site": (Site, "site_id"),
    "zone": (NetworkZone, "zone_id"),
}


def _ids(session: Session, model: Any, names: set[str], cache: dict[str, int]) -> None:
    todo = sorted(n for n in names if n not in cache)
    if not todo:
        return
    for name, oid in session.execute(select(model.name, model.id).where(model.name.in_(todo))):
        cache.setdefault(name, oid)
    for name in todo:
        if name not in cache:
            obj = model(name=name[:200])
            session.add(obj)
            session.flush()
            cache[name] = obj.id


def resolve_refs(session: Session, recs: Iterable[HostRecord], chunk: int = IN_BATCH) -> Iterator[HostRecord]:
    caches: dict[str, dict[str, int]] = {k: {} for k in REFS}
    it = iter(recs)
    while batch := list(islice(it, chunk)):
        for field, (model, _col) in REFS.items():
            _ids(session, model, {r.declared[field] for r in batch if r.declared.get(field)}, caches[field])
        for r in batch:
            for field, (_model, col) in REFS.items():
                name = r.declared.pop(field, None)
                if name:
                    r.declared[col] = caches[field][name]
                    r.declared[f"{field}_name"] = name
            yield r
