"""The alert loader: records mapped onto the map per chunk and written with one bulk insert (COPY on
PostgreSQL) per chunk, in the run's transaction. Rejected lines are stored raw with their reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ciimap.alerts.groups import GroupState, after_chunk
from ciimap.alerts.mapping import AssetInfo, Mapper, Side, host_keys, parse_ip
from ciimap.alerts.models import Alert
from ciimap.alerts.records import AlertRecord
from ciimap.alerts.severity import Context, priority, scales
from ciimap.core import bulk
from ciimap.core.db import chunks
from ciimap.core.importer import Run
from ciimap.intel import match as intel

#: Entries of the run's memos of parsed addresses and priorities (cleared when full: bounded memory).
MEMO = 200_000
#: Alerts mapped and written per bulk insert (bounds memory for files of millions of lines).
CHUNK = 5000
COLUMNS = (
    "id",
    "time",
    "kind",
    "event",
    "sensor",
    "rule_id",
    "rule_name",
    "raw_severity",
    "severity",
    "priority",
    "priority_reasons",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "cves",
    "src_asset_id",
    "dest_asset_id",
    "src_zone_id",
    "dest_zone_id",
    "src_matched_by",
    "dest_matched_by",
    "src_internal",
    "dest_internal",
    "system_ids",
    "service_ids",
    "raw",
    "reject",
    "line_no",
    "run_id",
    "intel_matches",
)


@dataclass
class AlertCtx:
    run: Run
    kind: str
    mapper: Mapper
    counts: dict[str, int] = field(
        default_factory=lambda: {"events": 0, "rejected": 0, "mapped": 0, "candidates": 0, "skipped": 0}
    )
    candidates: set[str] = field(default_factory=set)
    #: Per run: parsed addresses and priorities repeat (few attackers and assets, many alerts).
    ips: dict[Any, tuple[str | None, Any]] = field(default_factory=dict)
    priorities: dict[tuple[Any, ...], tuple[str, list[str]]] = field(default_factory=dict)
    #: Grouping and suppression state of the run (alerts/groups.py).
    groups: GroupState | None = None

    @classmethod
    def start(cls, run: Run, kind: str) -> AlertCtx:
        return cls(
            run=run,
            kind=kind,
            mapper=Mapper.start(run.session),
            groups=GroupState.start(run.session, run.run_id),
        )


def load(ctx: AlertCtx, records: Iterable[AlertRecord]) -> None:
    table = Alert.__table__
    conf = scales().priority()
    for chunk in chunks(records, CHUNK):
        rows = _rows(ctx, chunk, conf)
        bulk.insert_tuples(ctx.run.session, table, COLUMNS, rows)
        if ctx.groups is not None:
            after_chunk(ctx.run.session, ctx.groups, COLUMNS, rows)
    ctx.counts["candidates"] = len(ctx.candidates)


def _rows(ctx: AlertCtx, chunk: list[AlertRecord], conf: dict[str, Any]) -> list[tuple[Any, ...]]:
    m = ctx.mapper
    memo = ctx.ips

    def ip(v: str | None) -> tuple[str | None, Any]:
        found = memo.get(v)
        if found is None:
            if len(memo) > MEMO:
                memo.clear()
            found = memo[v] = parse_ip(v)
        return found

    ips = [(ip(r.src_ip), ip(r.dest_ip)) for r in chunk]
    addresses = {a for pair in ips for a, _ip in pair if a is not None}
    hosts = {
        k for r, (_s, d) in zip(chunk, ips, strict=True) if r.host and d[0] is None for k in host_keys(r.host)
    }
    m.prepare(addresses, hosts)
    sides: list[tuple[Side, Side]] = []
    for r, ((sa, sip), (da, dip)) in zip(chunk, ips, strict=True):
        at = r.time or ctx.run.started_at
        host = r.host.strip().lower() if r.host and da is None else None
        sides.append((m.side(sa, sip, at, None, "ip"), m.side(da, dip, at, host, r.host_by)))
    matched = {s.asset_id for pair in sides for s in pair if s.asset_id is not None}
    with_cves = {
        s.asset_id for r, pair in zip(chunk, sides, strict=True) if r.cves for s in pair if s.asset_id
    }
    m.context(matched, with_cves)
    hits = intel.matches(
        ctx.run.session, [(sa, da, r.raw) for r, ((sa, _), (da, _)) in zip(chunk, ips, strict=True)]
    )
    # ids drawn up front (the sequence on PostgreSQL): groups refer to the alerts without reading back
    ids = bulk.allocate_ids(ctx.run.session, Alert.__table__, len(chunk))
    out = []
    for i, r, (src, dst), ((sa, _), (da, _)), hit in zip(ids, chunk, sides, ips, hits, strict=True):
        out.append((i, *_row(ctx, r, src, dst, sa, da, conf), hit))
    return out


def _row(
    ctx: AlertCtx, r: AlertRecord, src: Side, dst: Side, sa: str | None, da: str | None, conf: dict[str, Any]
) -> tuple[Any, ...]:
    m, c = ctx.mapper, ctx.counts
    if r.reject is not None:
        c["rejected"] += 1
    else:
        c["events"] += 1
    systems: set[int] = set()
    services: set[int] = set()
    matched: list[tuple[int, AssetInfo]] = []
    for side, addr in ((src, sa), (dst, da)):
        if side.asset_id is None:
            if side.internal and addr is not None:
                ctx.candidates.add(addr)
            continue
        info = m.assets.get(side.asset_id)
        if info is None:
            continue
        if side.zone_id is None:
            side.zone_id = info.zone_id
        systems.update(info.systems)
        services.update(info.services)
        matched.append((side.asset_id, info))
    if src.asset_id is not None or dst.asset_id is not None:
        c["mapped"] += 1
    prio, reasons = "low", list[str]()
    if r.reject is None:
        key = (r.severity, src.asset_id, dst.asset_id, *r.cves)
        found = ctx.priorities.get(key)
        if found is None:
            if len(ctx.priorities) > MEMO:
                ctx.priorities.clear()
            found = ctx.priorities[key] = priority(r.severity, _contexts(m, matched), r.cves, conf)
        prio, reasons = found
    return (
        r.time or ctx.run.started_at,
        ctx.kind,
        r.event,
        _cut(r.sensor, 255),
        _cut(r.rule_id, 64),
        _cut(r.rule_name, 500),
        _cut(r.raw_severity, 32),
        r.severity,
        prio,
        reasons,
        sa or _cut(r.src_ip, 45),
        _port(r.src_port),
        da or _cut(r.dest_ip, 45),
        _port(r.dest_port),
        _cut(r.proto, 16),
        r.cves,
        src.asset_id,
        dst.asset_id,
        src.zone_id,
        dst.zone_id,
        src.matched_by,
        dst.matched_by,
        src.internal,
        dst.internal,
        sorted(systems),
        sorted(services),
        r.raw.replace("\x00", ""),
        r.reject,
        r.line_no,
        ctx.run.run_id,
    )


def _contexts(m: Mapper, matched: list[tuple[int, AssetInfo]]) -> list[Context]:
    out = []
    for asset_id, info in matched:
        open_cves = m.open_cves.get(asset_id, frozenset())
        out.append(info.context if not open_cves else replace(info.context, open_cves=open_cves))
    return out


def _cut(v: str | None, n: int) -> str | None:
    return None if v is None else v[:n]


def _port(v: int | None) -> int | None:
    return v if v is not None and 0 <= v <= 65535 else None
