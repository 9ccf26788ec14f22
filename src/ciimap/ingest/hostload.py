"""Load HostRecords (scans, registers, osquery hosts) into canonical assets, chunk by chunk.

Per chunk: one identity lookup, one scope-state lookup; unchanged hosts (same fingerprint) only get
their timestamps bumped in three bulk UPDATEs, which makes a no-change re-import cheap. New hosts are
inserted with bulk Core inserts; changed ones go through :mod:`ciimap.ingest.hostupdate`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from ciimap.core import bulk
from ciimap.core.db import IN_BATCH, chunks
from ciimap.ingest import hostupdate
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import Match, resolve
from ciimap.ingest.models import ScopeState
from ciimap.ingest.records import HostRecord, complete_all
from ciimap.inventory.models import Asset, ServiceEndpoint

#: Host records per load step (correlate, write, flush change events): bounds the memory of one step
#: and how often progress moves; not an IN-list size (that is ``core.db.IN_BATCH``).
CHUNK = 2000


def merge(a: HostRecord, b: HostRecord) -> HostRecord:
    """Two observations of the same asset within one import (e.g. masscan lines, register rows)."""
    a.complete(), b.complete()
    a.fingerprint = None  # the merged facts need a fresh digest
    for attr in ("ips", "macs", "hostnames"):
        cur = getattr(a, attr)
        cur.extend(x for x in getattr(b, attr) if x not in cur)
    seen = {(p.address, p.protocol, p.port) for p in a.ports}
    a.ports.extend(p for p in b.ports if (p.address, p.protocol, p.port) not in seen)
    for attr in ("serial", "cloud_id", "name", "os_name", "os_family", "os_version", "mac_vendor"):
        if getattr(a, attr) is None:
            setattr(a, attr, getattr(b, attr))
    a.declared = {**b.declared, **a.declared}
    return a


def load(ctx: RunCtx, records: Iterable[HostRecord]) -> None:
    for chunk in chunks(records, CHUNK):
        _load_chunk(ctx, chunk)
        ctx.flush_events()


def _group(
    recs: list[HostRecord], matches: list[Match]
) -> tuple[dict[int, tuple[HostRecord, Match]], list[tuple[HostRecord, Match]]]:
    """Existing assets by id, and new assets with records sharing a key merged into one."""
    existing: dict[int, tuple[HostRecord, Match]] = {}
    new: list[tuple[HostRecord, Match]] = []
    new_by_key: dict[tuple[str, str], int] = {}
    for rec, m in zip(recs, matches, strict=True):
        if m.asset_id is not None:
            if m.asset_id in existing:
                merge(existing[m.asset_id][0], rec)
            else:
                existing[m.asset_id] = (rec, m)
            continue
        idx = next((new_by_key[k] for k in m.keys if k in new_by_key), None)
        if idx is None:
            new.append((rec, m))
            idx = len(new) - 1
        else:
            merge(new[idx][0], rec)
            new[idx][1].keys.extend(k for k in m.keys if k not in new[idx][1].keys)
        for k in m.keys:
            new_by_key.setdefault(k, idx)
    return existing, new


def _load_chunk(ctx: RunCtx, recs: list[HostRecord]) -> None:
    ctx.stats["records"] += len(recs)
    matches = resolve(ctx.session, recs, ctx.order, ctx.decisions)
    states: dict[int, tuple[str, bool]] = {}
    ids = sorted({m.asset_id for m in matches if m.asset_id is not None})
    if ids and ctx.track_scope:
        for part in chunks(ids):
            states.update(
                {
                    a: (d, miss)
                    for a, d, miss in ctx.session.execute(
                        select(ScopeState.asset_id, ScopeState.digest, ScopeState.missing).where(
                            ScopeState.scope == ctx.scope, ScopeState.asset_id.in_(part)
                        )
                    )
                }
            )
    # Complete, in file order, every record that will need its details: all but the sole record of
    # an asset whose state says nothing changed (those are only touched).
    per_asset = Counter(m.asset_id for m in matches if m.asset_id is not None)
    complete_all(
        r
        for r, m in zip(recs, matches, strict=True)
        if not (
            m.asset_id is not None
            and per_asset[m.asset_id] == 1
            and states.get(m.asset_id) == (r.digest(), False)
        )
    )
    existing, new = _group(recs, matches)
    digests = {a: rec.digest() for a, (rec, _m) in existing.items()} if ctx.track_scope else {}
    unchanged = [a for a in existing if a in states and states[a] == (digests[a], False)]
    same = set(unchanged)
    changed = {a: existing[a] for a in existing if a not in same}
    if unchanged:
        touch(ctx, unchanged)
    if changed:
        hostupdate.update_assets(ctx, changed, states, digests)
    if new:
        create(ctx, new)


def touch(ctx: RunCtx, ids: list[int]) -> None:
    """Unchanged hosts: only the asset's last_seen and the scope state's last run move.

    Endpoints and identity rows keep the time they last changed or were first seen: rewriting
    ~10 endpoint rows per host on every no-change scan would dominate a re-import, and "seen in run
    N" is answered by ``scope_state`` (see ``assets why``).
    """
    s = ctx.session
    ctx.stats["assets_unchanged"] += len(ids)
    for i in range(0, len(ids), IN_BATCH):
        part = ids[i : i + IN_BATCH]
        s.execute(
            update(Asset)
            .where(Asset.id.in_(part))
            .values(last_seen=ctx.now)
            .execution_options(synchronize_session=False)
        )
        s.execute(
            update(ScopeState)
            .where(ScopeState.scope == ctx.scope, ScopeState.asset_id.in_(part))
            .values(last_run_id=ctx.run_id, last_seen=ctx.now)
            .execution_options(synchronize_session=False)
        )


def asset_row(ctx: RunCtx, rec: HostRecord) -> dict[str, Any]:
    d = rec.declared
    hostname = rec.hostnames[0] if rec.hostnames else None
    return {
        "name": (
            rec.name or hostname or (rec.ips[0] if rec.ips else None) or (rec.macs[0] if rec.macs else "?")
        )[:200],
        "kind": d.get("kind", "server"),
        "hostname": hostname,
        "fqdn": hostname if hostname and "." in hostname else None,
        "serial": rec.serial,
        "cloud_id": rec.cloud_id,
        "macs": rec.macs,
        "primary_ip": rec.ips[0] if rec.ips else None,
        "ips": rec.ips,
        "os_family": rec.os_family,
        "os_name": rec.os_name,
        "os_version": rec.os_version,
        "manufacturer": d.get("manufacturer"),
        "model": d.get("model"),
        "site_id": d.get("site_id"),
        "zone_id": d.get("zone_id"),
        "system_id": d.get("system_id"),
        "owner_id": d.get("owner_id"),
        "organization_id": None,
        "lifecycle_status": d.get("lifecycle_status", "active"),
        "criticality": d.get("criticality", "medium"),
        "declared": ctx.declares,
        "tags": d.get("tags", []),
        "source": ctx.source,
        "first_seen": ctx.now,
        "last_seen": ctx.now,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }


def create(ctx: RunCtx, new: list[tuple[HostRecord, Match]]) -> None:
    s = ctx.session
    rows = [asset_row(ctx, rec.complete()) for rec, _m in new]
    ids = bulk.allocate_ids(s, Asset.__table__, len(rows))
    for aid, row in zip(ids, rows, strict=True):
        row["id"] = aid
    bulk.insert_rows(s, Asset.__table__, rows)
    ctx.stats["assets_created"] += len(ids)
    ip_rows: list[Any] = []
    ep_rows: list[Any] = []
    id_rows: list[Any] = []
    prov_rows: list[Any] = []
    state_rows: list[Any] = []
    detail_rows: list[Any] = []
    for aid, (rec, m) in zip(ids, new, strict=True):
        ip_rows.extend(hostupdate.ip_row(ctx, aid, rec, ip) for ip in rec.ips)
        ep_rows.extend(hostupdate.endpoint_tuples(ctx, aid, rec))
        id_rows.extend(
            hostupdate.identity_row(ctx, aid, k, v, "created") for k, v in m.keys if (k, v) not in m.known
        )
        prov_rows.extend(hostupdate.provenance_rows(ctx, aid, rec))
        if ctx.track_scope:
            state_rows.append(
                {
                    "scope": ctx.scope,
                    "asset_id": aid,
                    "digest": rec.digest(),
                    "first_run_id": ctx.run_id,
                    "last_run_id": ctx.run_id,
                    "last_seen": ctx.now,
                    "missing": False,
                }
            )
        if rec.detail:
            detail_rows.append(
                {"asset_id": aid, "source": ctx.source, "run_id": ctx.run_id, "data": rec.detail}
            )
        if not ctx.baseline:
            ctx.event(
                "asset_new",
                aid,
                rec.ips[0] if rec.ips else rec.name,
                after={
                    "ips": rec.ips,
                    "hostnames": rec.hostnames,
                    "open_ports": sorted(f"{p.protocol}/{p.port}" for p in rec.ports if p.state == "open"),
                },
            )
    bulk.insert_tuples(s, ServiceEndpoint.__table__, hostupdate.EP_COLS, ep_rows, stored=True)
    ctx.stats["endpoints_written"] += len(ep_rows)
    hostupdate.insert_rows(ctx, ip_rows, [], id_rows, prov_rows, state_rows, detail_rows)
