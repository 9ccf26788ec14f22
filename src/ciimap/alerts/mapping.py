"""Alerts onto the map, set-based: one query per kind of fact per chunk of alerts, and only for the
addresses, hosts and assets that chunk brings new to the run (everything is cached for the run).

- an address → the asset holding it **as of the alert's time**: among the assets that had the address
  (``ip_address`` history, or ``asset.primary_ip``), the one first seen last at or before the alert;
  when none had it yet (an old log imported after the map was built), the one that got it first;
- a host name (Wazuh agent, syslog HOSTNAME) → an asset by hostname or name (full or short name),
  used for the destination when the line names no destination address;
- an address → the most specific zone whose CIDRs hold it (``matched_by = "cidr"`` without an asset);
- an asset → its systems (``asset.system_id`` and systems that need it through an edge) and the
  business services that need those systems or the asset (one hop, ``NEED_KINDS``), with the business
  context that raises priority (``severity.Context``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.orm import Session

from ciimap.alerts.severity import Context
from ciimap.core.db import chunks
from ciimap.inventory.models import (
    CRITICALITY,
    NEED_KINDS,
    Asset,
    BusinessService,
    Edge,
    IpAddress,
    NetworkZone,
    System,
)
from ciimap.vulns.models import Finding

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
NET = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Internal address space (RFC 1918, loopback, link-local, IPv6 ULA): Python's ``is_private`` also
#: counts the documentation and benchmark ranges, which are not an operator's hosts.
INTERNAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)
#: Addresses cached per run before the cache is emptied (memory stays flat on huge files).
CACHE = 200_000
#: Finding states that count as open (a CVE the alert names that is still to be dealt with).
OPEN_FINDING = ("new", "confirmed")


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass
class AssetInfo:
    zone_id: int | None
    systems: list[int]
    services: list[int]
    context: Context


@dataclass
class Side:
    asset_id: int | None = None
    zone_id: int | None = None
    matched_by: str | None = None
    internal: bool = False


@dataclass
class Mapper:
    """The run's caches; :meth:`prepare` fills them for one chunk, :meth:`side` answers per alert."""

    session: Session
    zones: list[tuple[NET, int, bool]] = field(default_factory=list)
    zone_facing: dict[int, bool] = field(default_factory=dict)
    by_ip: dict[str, list[tuple[dt.datetime, int]]] = field(default_factory=dict)
    by_host: dict[str, int | None] = field(default_factory=dict)
    assets: dict[int, AssetInfo] = field(default_factory=dict)
    open_cves: dict[int, frozenset[str]] = field(default_factory=dict)
    _zone_of: dict[str, tuple[int | None, bool]] = field(default_factory=dict)

    @classmethod
    def start(cls, session: Session) -> Mapper:
        m = cls(session)
        for zid, cidrs, facing, kind in session.execute(
            select(NetworkZone.id, NetworkZone.cidrs, NetworkZone.internet_facing, NetworkZone.kind)
        ):
            m.zone_facing[zid] = bool(facing)
            for c in cidrs or []:
                try:
                    m.zones.append((ipaddress.ip_network(str(c), strict=False), zid, kind != "internet"))
                except ValueError:
                    continue  # a zone's bad CIDR is the zone form's business, not the alert's
        m.zones.sort(key=lambda z: -z[0].prefixlen)
        return m

    # --- one chunk ---------------------------------------------------------------------------------

    def prepare(self, addresses: set[str], hosts: set[str]) -> None:
        if len(self.by_ip) > CACHE:  # attackers' addresses are unbounded: keep memory flat
            self.by_ip.clear()
            self._zone_of.clear()
        self._addresses({a for a in addresses if a not in self.by_ip})
        self._hosts({h for h in hosts if h not in self.by_host})

    def _addresses(self, new: set[str]) -> None:
        if not new:
            return
        found: dict[str, dict[int, dt.datetime]] = defaultdict(dict)
        queries = (
            (select(IpAddress.address, IpAddress.asset_id, IpAddress.first_seen), IpAddress.address),
            (select(Asset.primary_ip, Asset.id, Asset.first_seen), Asset.primary_ip),
        )
        for part in chunks(sorted(new)):
            for stmt, col in queries:
                for addr, asset_id, first in self.session.execute(stmt.where(col.in_(part))):
                    if addr is None:
                        continue
                    seen = found[addr]
                    t = _utc(first)
                    if asset_id not in seen or t < seen[asset_id]:
                        seen[asset_id] = t
        for addr in new:
            self.by_ip[addr] = sorted((t, a) for a, t in found.get(addr, {}).items())

    def _hosts(self, new: set[str]) -> None:
        if not new:
            return
        for h in new:
            self.by_host[h] = None
        hostname, name = func.lower(Asset.hostname), func.lower(Asset.name)
        for part in chunks(sorted(new)):
            rows = self.session.execute(
                select(Asset.id, hostname, name)
                .where(or_(hostname.in_(part), name.in_(part)))
                .order_by(Asset.id)
            )
            for asset_id, h, n in rows:
                for key in (h, n):
                    if key in new and self.by_host.get(key) is None:
                        self.by_host[key] = asset_id

    def context(self, asset_ids: set[int], with_cves: set[int]) -> None:
        """Business context of the assets this chunk matched (those not cached yet)."""
        self._assets({a for a in asset_ids if a not in self.assets})
        todo = sorted(a for a in with_cves if a not in self.open_cves)
        for a in todo:
            self.open_cves[a] = frozenset()
        for part in chunks(todo):
            cves: dict[int, set[str]] = defaultdict(set)
            stmt = select(Finding.asset_id, Finding.cve_ids).where(
                Finding.asset_id.in_(part), Finding.active.is_(True), Finding.status.in_(OPEN_FINDING)
            )
            for asset_id, ids in self.session.execute(stmt):
                if asset_id is not None:
                    cves[asset_id].update(ids or [])
            for a, found in cves.items():
                self.open_cves[a] = frozenset(found)

    def _assets(self, ids: set[int]) -> None:
        for part in chunks(sorted(ids)):
            rows = self.session.execute(
                select(Asset.id, Asset.criticality, Asset.system_id, Asset.zone_id).where(Asset.id.in_(part))
            ).all()
            systems: dict[int, set[int]] = {a: ({s} if s else set()) for a, _c, s, _z in rows}
            for sys_id, asset_id in self.session.execute(
                select(Edge.src_id, Edge.dst_id).where(
                    Edge.src_type == "system",
                    Edge.dst_type == "asset",
                    Edge.kind.in_(NEED_KINDS),
                    Edge.dst_id.in_(part),
                )
            ):
                systems.setdefault(asset_id, set()).add(sys_id)
            sys_ids = sorted({s for ss in systems.values() for s in ss})
            sys_info = self._systems(sys_ids)
            services = self._services(part, sys_ids)
            for asset_id, crit, _s, zone_id in rows:
                mine = sorted(systems.get(asset_id, set()))
                svc = services.get(("asset", asset_id), {}) | {
                    k: v for s in mine for k, v in services.get(("system", s), {}).items()
                }
                levels = [lvl for s in mine if (lvl := sys_info.get(s, (None, False))[0]) is not None]
                self.assets[asset_id] = AssetInfo(
                    zone_id=zone_id,
                    systems=mine,
                    services=sorted(svc),
                    context=Context(
                        criticality=crit,
                        service_criticality=_highest(svc.values()),
                        cii=any(sys_info.get(s, (None, False))[1] for s in mine),
                        mlps_level=max(levels) if levels else None,
                        internet_facing=self.zone_facing.get(zone_id or 0, False),
                    ),
                )

    def _systems(self, ids: list[int]) -> dict[int, tuple[int | None, bool]]:
        out: dict[int, tuple[int | None, bool]] = {}
        for part in chunks(ids):
            stmt = select(System.id, System.mlps_level, System.is_cii).where(System.id.in_(part))
            out.update({s: (lvl, bool(cii)) for s, lvl, cii in self.session.execute(stmt)})
        return out

    def _services(self, asset_ids: list[int], sys_ids: list[int]) -> dict[tuple[str, int], dict[int, str]]:
        """(node type, id) → {business service id: its criticality} for services that need the node."""
        out: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
        targets = [("asset", p) for p in chunks(asset_ids)] + [("system", p) for p in chunks(sys_ids)]
        for dst_type, part in targets:
            stmt = (
                select(Edge.dst_id, BusinessService.id, BusinessService.criticality)
                .join(BusinessService, BusinessService.id == Edge.src_id)
                .where(
                    and_(Edge.src_type == "business_service", Edge.kind.in_(NEED_KINDS)),
                    Edge.dst_type == dst_type,
                    Edge.dst_id.in_(part),
                )
            )
            for dst_id, svc_id, crit in self.session.execute(stmt):
                out[(dst_type, dst_id)][svc_id] = crit
        return out

    # --- one alert ---------------------------------------------------------------------------------

    def zone(self, addr: str, ip: IP) -> tuple[int | None, bool]:
        """The most specific zone holding the address, and whether the address is internal."""
        found = self._zone_of.get(addr)
        if found is None:
            zone_id, internal = None, any(ip.version == n.version and ip in n for n in INTERNAL)
            for net, zid, inside in self.zones:
                if ip.version == net.version and ip in net:
                    zone_id, internal = zid, internal or inside
                    break
            found = self._zone_of[addr] = (zone_id, internal)
        return found

    def side(self, addr: str | None, ip: IP | None, at: dt.datetime, host: str | None, host_by: str) -> Side:
        out = Side()
        if addr is not None and ip is not None:
            out.zone_id, out.internal = self.zone(addr, ip)
            out.asset_id = _as_of(self.by_ip.get(addr) or [], at)
            out.matched_by = "ip" if out.asset_id else ("cidr" if out.zone_id else None)
        if out.asset_id is None and host:
            out.asset_id = self.by_host.get(host) or self.by_host.get(host.split(".", 1)[0])
            if out.asset_id is not None:
                out.matched_by = host_by
        return out


def _as_of(cands: list[tuple[dt.datetime, int]], at: dt.datetime) -> int | None:
    """The asset first seen last at or before ``at``; else the first one to hold the address."""
    if not cands:
        return None
    best = cands[0][1]
    for first, asset_id in cands:
        if first > at:
            break
        best = asset_id
    return best


def _highest(levels: Iterable[str]) -> str | None:
    known = [CRITICALITY.index(c) for c in levels if c in CRITICALITY]
    return CRITICALITY[max(known)] if known else None


def host_keys(host: str) -> list[str]:
    h = host.strip().lower()
    return [h, h.split(".", 1)[0]] if "." in h else [h]


def parse_ip(value: Any) -> tuple[str | None, IP | None]:
    """A normalised address (``0000:…:0001`` → ``::1``), or ``(None, None)`` when it is not one."""
    if not value:
        return None, None
    try:
        ip = ipaddress.ip_address(str(value).strip().split("%", 1)[0])
    except ValueError:
        return None, None
    return str(ip), ip


def system_assets(system_ids: Any) -> list[Select[Any]]:
    """The assets of systems: their ``system_id`` members and the assets they need through an edge."""
    return [
        select(Asset.id).where(Asset.system_id.in_(system_ids)),
        select(Edge.dst_id).where(
            Edge.src_type == "system",
            Edge.src_id.in_(system_ids),
            Edge.dst_type == "asset",
            Edge.kind.in_(NEED_KINDS),
        ),
    ]


def service_assets(service_id: int) -> Any:
    needs = (Edge.src_type == "business_service", Edge.src_id == service_id, Edge.kind.in_(NEED_KINDS))
    systems = select(Edge.dst_id).where(*needs, Edge.dst_type == "system")
    return union(select(Edge.dst_id).where(*needs, Edge.dst_type == "asset"), *system_assets(systems))
