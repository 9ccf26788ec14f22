"""Changed hosts: diff the observation against the stored asset, write the differences in bulk and
emit change events (port opened/closed, service/version changed, OS changed, asset returned)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, select, update

from ciimap.core import bulk
from ciimap.core.db import IN_BATCH
from ciimap.ingest.context import RunCtx
from ciimap.ingest.correlate import Match
from ciimap.ingest.models import AssetIdentity, AttributeProvenance, ScanDetail, ScopeState
from ciimap.ingest.records import HostRecord, PortRecord
from ciimap.inventory.models import Asset, IpAddress, ServiceEndpoint

SCANNERS = ("nmap", "masscan")
_OBSERVED_ATTRS = ("hostname", "mac", "os_name", "serial", "name")
#: Asset columns a register declares (registers own these; scanners never overwrite them).
DECLARED_COLS = (
    "kind",
    "site_id",
    "zone_id",
    "system_id",
    "owner_id",
    "criticality",
    "manufacturer",
    "model",
)


def endpoint_row(ctx: RunCtx, aid: int, rec: HostRecord, p: PortRecord) -> dict[str, Any]:
    return {
        "asset_id": aid,
        "address": p.address or (rec.ips[0] if rec.ips else None),
        "protocol": p.protocol,
        "port": p.port,
        "state": p.state,
        "name": p.name,
        "product": _cut(p.product, 200),
        "version": _cut(p.version, 100),
        "extrainfo": _cut(p.extrainfo, 300),
        "tunnel": p.tunnel,
        "cpes": p.cpes,
        "method": p.method,
        "confidence": p.conf,
        "source": ctx.source,
        "first_seen": ctx.now,
        "last_seen": ctx.now,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }


EP_COLS = (
    "asset_id",
    "address",
    "protocol",
    "port",
    "state",
    "name",
    "product",
    "version",
    "extrainfo",
    "tunnel",
    "cpes",
    "method",
    "confidence",
    "source",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
)


def endpoint_tuples(ctx: RunCtx, aid: int, rec: HostRecord) -> list[tuple[Any, ...]]:
    """New endpoints as tuples in EP_COLS order, values in stored form (the bulk of a first import;
    insert with ``bulk.insert_tuples(..., stored=True)``)."""
    ip0, now, src, js = (rec.ips[0] if rec.ips else None), ctx.stored_now, ctx.source, bulk.json_text
    return [
        (
            aid,
            p.address or ip0,
            p.protocol,
            p.port,
            p.state,
            p.name,
            p.product and p.product[:200],
            p.version and p.version[:100],
            p.extrainfo and p.extrainfo[:300],
            p.tunnel,
            js(p.cpes),
            p.method,
            p.conf,
            src,
            now,
            now,
            now,
            now,
        )
        for p in rec.ports
    ]


def _cut(v: str | None, n: int) -> str | None:
    return v[:n] if v else v


def provenance_rows(ctx: RunCtx, aid: int, rec: HostRecord) -> list[dict[str, Any]]:
    vals = {
        "hostname": rec.hostnames[0] if rec.hostnames else None,
        "mac": ",".join(rec.macs) or None,
        "os_name": rec.os_name,
        "serial": rec.serial,
        "name": rec.name,
    }
    vals.update({k: str(v) for k, v in rec.declared.items() if v is not None and k != "tags"})
    return [
        {
            "asset_id": aid,
            "attribute": k,
            "value": str(v)[:500],
            "source": ctx.source,
            "run_id": ctx.run_id,
            "first_seen": ctx.now,
            "last_seen": ctx.now,
        }
        for k, v in vals.items()
        if v
    ]


def insert_rows(
    ctx: RunCtx,
    ips: list[Any],
    eps: list[Any],
    ids: list[Any],
    prov: list[Any],
    states: list[Any],
    details: list[Any],
) -> None:
    s = ctx.session
    for model, rows in (
        (IpAddress, ips),
        (ServiceEndpoint, eps),
        (AssetIdentity, ids),
        (AttributeProvenance, prov),
        (ScopeState, states),
        (ScanDetail, details),
    ):
        if rows:
            bulk.insert_rows(s, model.__table__, rows)
    ctx.stats["endpoints_written"] += len(eps)


def _by_asset(ctx: RunCtx, model: Any, cols: list[Any], ids: list[int], *extra: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for i in range(0, len(ids), IN_BATCH):
        stmt = select(model.asset_id, *cols).where(model.asset_id.in_(ids[i : i + IN_BATCH]), *extra)
        for row in ctx.session.execute(stmt):
            out[row[0]].append(row)
    return out


def update_assets(
    ctx: RunCtx,
    changed: dict[int, tuple[HostRecord, Match]],
    states: dict[int, tuple[str, bool]],
    digests: dict[int, str],
) -> None:
    s, ids = ctx.session, list(changed)
    assets = {
        r.id: r
        for i in range(0, len(ids), IN_BATCH)
        for r in s.execute(
            select(
                Asset.id,
                Asset.ips,
                Asset.macs,
                Asset.hostname,
                Asset.os_name,
                Asset.os_family,
                Asset.os_version,
                Asset.lifecycle_status,
                Asset.declared,
                Asset.name,
                Asset.serial,
            ).where(Asset.id.in_(ids[i : i + IN_BATCH]))
        )
    }
    eps = _by_asset(
        ctx,
        ServiceEndpoint,
        [
            ServiceEndpoint.id,
            ServiceEndpoint.address,
            ServiceEndpoint.protocol,
            ServiceEndpoint.port,
            ServiceEndpoint.state,
            ServiceEndpoint.name,
            ServiceEndpoint.product,
            ServiceEndpoint.version,
        ],
        ids,
    )
    known_ips = _by_asset(ctx, IpAddress, [IpAddress.address], ids)
    prov = _by_asset(
        ctx,
        AttributeProvenance,
        [AttributeProvenance.id, AttributeProvenance.attribute, AttributeProvenance.value],
        ids,
        AttributeProvenance.source == ctx.source,
    )
    has_detail = {
        r[0]
        for r in _by_asset(ctx, ScanDetail, [ScanDetail.id], ids, ScanDetail.source == ctx.source).values()
        for r in r
    }
    asset_upd, ep_upd, prov_upd = [], [], []
    ip_rows: list[Any] = []
    ep_rows: list[Any] = []
    id_rows: list[Any] = []
    prov_rows: list[Any] = []
    state_rows: list[Any] = []
    details_new: list[Any] = []
    details_upd: list[Any] = []
    for aid, (rec, m) in changed.items():
        rec.complete()
        a = assets[aid]
        asset_upd.append(_asset_changes(ctx, a, rec))
        have = {r.address for r in known_ips.get(aid, [])}
        ip_rows.extend(ip_row(ctx, aid, rec, ip) for ip in rec.ips if ip not in have)
        new_eps, upd = _diff_ports(ctx, aid, rec, eps.get(aid, []))
        ep_rows.extend(new_eps)
        ep_upd.extend(upd)
        id_rows.extend(identity_row(ctx, aid, k, v, m.how) for k, v in m.keys if (k, v) not in m.known)
        old = {r.attribute: r for r in prov.get(aid, [])}
        for row in provenance_rows(ctx, aid, rec):
            o = old.get(row["attribute"])
            if o is None:
                prov_rows.append(row)
            else:
                prov_upd.append(
                    {"id": o.id, "value": row["value"], "run_id": ctx.run_id, "last_seen": ctx.now}
                )
        if ctx.track_scope and aid not in states:
            state_rows.append(
                {
                    "scope": ctx.scope,
                    "asset_id": aid,
                    "digest": digests[aid],
                    "first_run_id": ctx.run_id,
                    "last_run_id": ctx.run_id,
                    "last_seen": ctx.now,
                    "missing": False,
                }
            )
        if rec.detail:
            target = details_upd if aid in has_detail else details_new
            target.append({"asset_id": aid, "source": ctx.source, "run_id": ctx.run_id, "data": rec.detail})
    ctx.stats["assets_updated"] += len(changed)
    _write(ctx, asset_upd, ep_upd, prov_upd, details_upd, changed, states, digests)
    insert_rows(ctx, ip_rows, ep_rows, id_rows, prov_rows, state_rows, details_new)


def ip_row(ctx: RunCtx, aid: int, rec: HostRecord, ip: str) -> dict[str, Any]:
    """An ``ip_address`` row; the MAC only when the host has one address (else it is ambiguous)."""
    return {
        "asset_id": aid,
        "address": ip,
        "version": 6 if ":" in ip else 4,  # only IPv6 has ":"
        "mac": rec.macs[0] if rec.macs and len(rec.ips) == 1 else None,
        "mac_vendor": rec.mac_vendor,
        "source": ctx.source,
        "first_seen": ctx.now,
        "last_seen": ctx.now,
    }


def identity_row(ctx: RunCtx, aid: int, key: str, value: str, how: str) -> dict[str, Any]:
    return {
        "asset_id": aid,
        "key": key,
        "value": value[:300],
        "source": ctx.source,
        "how": how,
        "first_run_id": ctx.run_id,
        "last_run_id": ctx.run_id,
        "first_seen": ctx.now,
        "last_seen": ctx.now,
    }


def _write(
    ctx: RunCtx,
    asset_upd: list[Any],
    ep_upd: list[Any],
    prov_upd: list[Any],
    details_upd: list[Any],
    changed: dict[int, Any],
    states: dict[int, tuple[str, bool]],
    digests: dict[int, str],
) -> None:
    s = ctx.session
    for model, rows in ((Asset, asset_upd), (ServiceEndpoint, ep_upd), (AttributeProvenance, prov_upd)):
        if rows:
            s.execute(update(model), rows)
    if details_upd:
        t: Any = ScanDetail.__table__
        s.execute(
            update(t)
            .where(t.c.asset_id == bindparam("b_aid"), t.c.source == ctx.source)
            .values(run_id=ctx.run_id, data=bindparam("b_data")),
            [{"b_aid": d["asset_id"], "b_data": d["data"]} for d in details_upd],
        )
    rows = [{"b_aid": aid, "b_digest": digests[aid]} for aid in changed if aid in states]
    if ctx.track_scope and rows:
        t2: Any = ScopeState.__table__
        s.execute(
            update(t2)
            .where(t2.c.scope == ctx.scope, t2.c.asset_id == bindparam("b_aid"))
            .values(digest=bindparam("b_digest"), last_run_id=ctx.run_id, last_seen=ctx.now, missing=False),
            rows,
        )
    ids = list(changed)
    for i in range(0, len(ids), IN_BATCH):
        s.execute(
            update(AssetIdentity)
            .where(AssetIdentity.asset_id.in_(ids[i : i + IN_BATCH]), AssetIdentity.source == ctx.source)
            .values(last_seen=ctx.now, last_run_id=ctx.run_id)
            .execution_options(synchronize_session=False)
        )


def _asset_changes(ctx: RunCtx, a: Any, rec: HostRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": a.id,
        "last_seen": ctx.now,
        "updated_at": ctx.now,
        "ips": list(dict.fromkeys([*(a.ips or []), *rec.ips])),
        "macs": list(dict.fromkeys([*(a.macs or []), *rec.macs])),
    }
    row["primary_ip"] = row["ips"][0] if row["ips"] else None
    if a.lifecycle_status == "missing":
        row["lifecycle_status"] = "active"
        ctx.event(
            "asset_returned",
            a.id,
            rec.ips[0] if rec.ips else None,
            before={"lifecycle_status": "missing"},
            after={"lifecycle_status": "active"},
        )
        ctx.stats["returned"] += 1
    if rec.hostnames and not a.hostname:
        row["hostname"] = rec.hostnames[0]
    if rec.os_name and rec.os_name != a.os_name:
        if a.os_name and not ctx.baseline:
            ctx.event(
                "os_changed", a.id, rec.ips[0] if rec.ips else None, {"os": a.os_name}, {"os": rec.os_name}
            )
        row.update(
            os_name=rec.os_name,
            os_family=rec.os_family or a.os_family,
            os_version=rec.os_version or a.os_version,
        )
    if rec.serial and not a.serial:
        row["serial"] = rec.serial
    if ctx.source == "register":
        row["declared"] = True
        if rec.name:
            row["name"] = rec.name[:200]
        row.update({k: rec.declared[k] for k in DECLARED_COLS if rec.declared.get(k) is not None})
    return row


def _port_view(state: str, name: Any, product: Any, version: Any) -> dict[str, Any]:
    return {"state": state, "service": name, "product": product, "version": version}


def _diff_ports(ctx: RunCtx, aid: int, rec: HostRecord, old_rows: list[Any]) -> tuple[list[Any], list[Any]]:
    """New endpoint rows and PK updates; emits port/service/version events unless this is the baseline."""
    old = {(r.address, r.protocol, r.port): r for r in old_rows}
    new_rows, upd = [], []
    seen = set()
    ev = (lambda *a, **k: None) if ctx.baseline else ctx.event
    for p in rec.ports:
        addr = p.address or (rec.ips[0] if rec.ips else None)
        key = (addr, p.protocol, p.port)
        seen.add(key)
        subject = f"{addr} {p.protocol}/{p.port}"
        o = old.get(key)
        after = _port_view(p.state, p.name, p.product, p.version)
        if o is None:
            new_rows.append(endpoint_row(ctx, aid, rec, p))
            if p.state == "open":
                ev("port_opened", aid, subject, None, after)
            continue
        before = _port_view(o.state, o.name, o.product, o.version)
        if o.state != p.state:
            kind = (
                "port_opened"
                if p.state == "open"
                else "port_closed"
                if o.state == "open"
                else "port_state_changed"
            )
            ev(kind, aid, subject, before, after)
        elif (o.name, o.product) != (p.name, p.product) and p.state == "open":
            ev("service_changed", aid, subject, before, after)
        elif o.version != p.version and p.state == "open":
            ev("version_changed", aid, subject, before, after)
        row = endpoint_row(ctx, aid, rec, p)
        row.pop("first_seen"), row.pop("created_at"), row.pop("asset_id")
        upd.append({"id": o.id, **row})
    scanned = set(rec.ips) if ctx.source in SCANNERS else set()
    for key, o in old.items():
        if key not in seen and o.state == "open" and key[0] in scanned:
            ev(
                "port_closed",
                aid,
                f"{key[0]} {key[1]}/{key[2]}",
                _port_view(o.state, o.name, o.product, o.version),
                {"state": "closed"},
            )
            upd.append({"id": o.id, "state": "closed", "updated_at": ctx.now})
    return new_rows, upd
