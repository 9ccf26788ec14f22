"""Streams the demo operator's assets with their addresses, listening services, software and
dependency edges, chunk by chunk, so even a million assets never sit in memory at once.

First come the *core* assets — the redundant app clusters, database pairs (primary in the data
centre, standby in the backup centre), hypervisor and Kubernetes clusters, core switches — wired to
their systems by ``runs_on`` edges that share a ``redundancy_group``; then randomly drawn assets
from :data:`ciimap.demo.profiles.PROFILES` up to the requested scale.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections.abc import Iterator
from typing import Any

from ciimap.demo import catalog_org as org
from ciimap.demo import profiles as pf
from ciimap.demo.core_assets import build_core
from ciimap.demo.plan import PER_BLOCK, Plan
from ciimap.demo.stacks import Port, Soft, stack_for

Rows = dict[str, list[dict[str, Any]]]
CHILD_TABLES = ("asset", "ip_address", "service_endpoint", "software", "edge")

OUI = {
    "Huawei": "28:6E:D4",
    "华为": "28:6E:D4",
    "H3C": "3C:8C:40",
    "Cisco": "00:1B:54",
    "Dell": "F8:BC:12",
    "戴尔": "F8:BC:12",
    "Siemens": "00:1B:1B",
    "Schneider Electric": "00:80:F4",
    "海康威视": "C0:56:E3",
    "大华": "3C:EF:8C",
    "VMware": "00:50:56",
    "联想": "6C:4B:90",
    "Inspur": "6C:92:BF",
}
LIFECYCLE = (("active", 0.93), ("maintenance", 0.02), ("planned", 0.01), ("retired", 0.02), ("missing", 0.02))


class AssetStream:
    """Deterministic generator of asset chunks for one plan."""

    def __init__(self, plan: Plan, chunk: int = 5000) -> None:
        self.plan, self.chunk = plan, chunk
        self.rnd = random.Random(f"{plan.seed}:assets")
        self.ids = dict.fromkeys(CHILD_TABLES, 0)
        self.ids["edge"] = plan.edge_id
        self.now = _ts(plan.now)
        self._first = [_ts(plan.now - dt.timedelta(days=d)) for d in range(0, 901)]
        self._last = [_ts(plan.now - dt.timedelta(minutes=m)) for m in range(0, 4321)]
        self.sites = {r["id"]: r["name"] for r in plan.rows["site"]}
        vendors = {r["id"]: r["name"] for r in plan.rows["vendor"]}
        self.products = {
            k: (r["id"], r["cpe_prefix"], vendors[r["vendor_id"]]) for k, r in plan.products.items()
        }
        self.rows: Rows = {t: [] for t in CHILD_TABLES}
        self.count = 0
        self.hosts: list[list[int]] = []  # hypervisor clusters (asset ids)
        self.nodes: list[list[int]] = []  # Kubernetes clusters (asset ids)
        cum = list(itertools.accumulate(p.weight for p in pf.PROFILES))
        self.cum_weights = cum

    # --- ids and common columns ----------------------------------------------------------------

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _observed(self, missing: bool = False) -> dict[str, Any]:
        r = self.rnd.random
        first = self._first[30 + int(r() * 871)]
        last = self._first[30 + int(r() * 61)] if missing else self._last[int(r() * 4321)]
        return {"source": "demo", "first_seen": first, "last_seen": last}

    def _edge(
        self,
        src_type: str,
        src_id: int,
        kind: str,
        dst_type: str,
        dst_id: int,
        group: str | None = None,
        description: str | None = None,
    ) -> None:
        self.rows["edge"].append(
            {
                "id": self._next("edge"),
                "src_type": src_type,
                "src_id": src_id,
                "kind": kind,
                "dst_type": dst_type,
                "dst_id": dst_id,
                "redundancy_group": group,
                "description": description,
                "source": "demo",
                "first_seen": self.now,
                "last_seen": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def _ip(self, zone_key: str) -> str:
        zone = self.plan.zones[zone_key]
        k = zone.used
        zone.used += 1
        if zone.blocks == [-1]:
            if k >= 254:
                raise RuntimeError("internet zone address space exhausted")
            return f"203.0.113.{k + 1}"
        block = k // PER_BLOCK
        if block >= len(zone.blocks):
            raise RuntimeError(f"zone {zone_key} address space exhausted")
        r = k % PER_BLOCK
        return f"10.{zone.blocks[block]}.{r // 254}.{r % 254 + 1}"

    # --- one asset -----------------------------------------------------------------------------

    def asset(
        self,
        *,
        kind: str,
        zone: str,
        site_id: int | None,
        site_code: str,
        role: str,
        role_zh: str,
        os: pf.OS | None,
        hw: pf.HW | None,
        system: str | None,
        stack: str,
        criticality: str,
        dept: str,
        lifecycle: str = "active",
        extra_soft: tuple[Soft, ...] = (),
        extra_ports: tuple[Port, ...] = (),
    ) -> int:
        rnd = self.rnd
        aid = self._next("asset")
        sysrow = self.plan.systems[system] if system else None
        host = f"{site_code}-{role}-{aid:07d}"
        ips = [self._ip(zone)]
        if kind == "server" and rnd.random() < 0.2:
            ips.append(self._ip("mgmt"))
        physical = kind not in ("vm", "container")
        maker = hw.manufacturer if hw else None
        macs = [] if kind == "container" else [f"{OUI.get(maker or '', '00:E0:4C')}:" + _mac_tail(aid)]
        os = hw.os if hw and hw.os else os
        os_version = rnd.choice(os.versions) if os else None
        missing = lifecycle == "missing"
        obs = self._observed(missing)
        tags = (
            ["信创"]
            if os and os.product in ("uos", "kylin")
            else (["停服系统"] if os and os.product == "win7" else [])
        )
        self.rows["asset"].append(
            {
                "id": aid,
                "organization_id": 1,
                "name": f"{self.sites.get(site_id or 0, '')}{role_zh}-{aid:07d}",
                "kind": kind,
                "hostname": host,
                "fqdn": f"{host}.metro.local" if kind in ("server", "vm") else None,
                "serial": f"{(maker or 'X')[:2].upper()}{rnd.getrandbits(40):010X}" if physical else None,
                "cloud_id": None if physical else f"{kind}-{rnd.getrandbits(48):012x}",
                "macs": _jl(macs),
                "primary_ip": ips[0],
                "ips": _jl(ips),
                "os_family": os.family if os else ("linux" if kind == "container" else None),
                "os_name": os.name if os else None,
                "os_version": os_version,
                "manufacturer": maker,
                "model": hw.model if hw else None,
                "site_id": site_id,
                "zone_id": self.plan.zones[zone].id,
                "system_id": sysrow["id"] if sysrow else None,
                "owner_id": sysrow["owner_id"] if sysrow else rnd.choice(self.plan.contacts[dept]),
                "lifecycle_status": lifecycle,
                "criticality": sysrow["criticality"] if sysrow else criticality,
                "declared": missing or rnd.random() < 0.95,
                "tags": _jl(tags),
                **obs,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )
        for ip in ips:
            self.rows["ip_address"].append(
                {
                    "id": self._next("ip_address"),
                    "asset_id": aid,
                    "address": ip,
                    "version": 4,
                    "mac": macs[0] if macs else None,
                    "mac_vendor": maker if macs else None,
                    **obs,
                }
            )
        soft, ports = stack_for(stack, rnd, bool(os and os.family == "windows"))
        if os and os.product:
            soft.insert(0, (os.product, os.name, os_version or "", "os", None))
        elif hw and hw.product and os and os.family == "embedded":
            soft.insert(0, (hw.product, hw.model, os_version or "", "firmware", None))
        self._children(aid, ips[0], [*soft, *extra_soft], [*ports, *extra_ports], obs)
        return aid

    def _children(self, aid: int, ip: str, soft: list[Soft], ports: list[Port], obs: dict[str, Any]) -> None:
        for pkey, name, sversion, skind, purl in soft:
            version: str | None = sversion
            pid, prefix, supplier = self.products[pkey] if pkey else (None, None, None)
            self.rows["software"].append(
                {
                    "id": self._next("software"),
                    "asset_id": aid,
                    "system_id": None,
                    "product_id": pid,
                    "name": name,
                    "version": version or None,
                    "kind": skind,
                    "purl": purl,
                    "cpe": _cpe(prefix, version),
                    "supplier": supplier,
                    "licenses": "[]",
                    "hashes": "{}",
                    "bom_ref": None,
                    **obs,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        seen = set()
        for port, proto, sname, product, pversion, pkey, method in ports:
            if (proto, port) in seen:
                continue
            seen.add((proto, port))
            prefix = self.products[pkey][1] if pkey else None
            version = pversion
            self.rows["service_endpoint"].append(
                {
                    "id": self._next("service_endpoint"),
                    "asset_id": aid,
                    "address": ip,
                    "protocol": proto,
                    "port": port,
                    "state": "open",
                    "name": sname,
                    "product": product,
                    "version": version,
                    "extrainfo": None,
                    "tunnel": "ssl" if port == 443 else None,
                    "cpes": _jl([c for c in [_cpe(prefix, version)] if c]),
                    "method": method,
                    "confidence": 10 if method == "probed" else 3,
                    **obs,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )

    def flush(self) -> Rows:
        out, self.rows = self.rows, {t: [] for t in CHILD_TABLES}
        return out

    # --- the stream ----------------------------------------------------------------------------

    def chunks(self) -> Iterator[Rows]:
        """Core assets first (one chunk), then random assets in chunks of ``self.chunk``."""
        build_core(self)
        core = self.ids["asset"]
        if core > self.plan.scale:
            raise ValueError(f"scale must be at least {core} (the demo's core assets)")
        yield self.flush()
        for done in range(core, self.plan.scale):
            self.random_asset()
            if (done + 1) % self.chunk == 0:
                yield self.flush()
        yield self.flush()

    def random_asset(self) -> None:
        rnd = self.rnd
        p = rnd.choices(pf.PROFILES, cum_weights=self.cum_weights)[0]
        zone, site_id, site_code, line = self._place(p.zone)
        system = rnd.choice(p.systems).format(n=line) if p.systems else None
        lifecycle = rnd.choices(LIFECYCLE)[0][0] if rnd.random() < 0.07 else "active"
        aid = self.asset(
            kind=p.kind,
            zone=zone,
            site_id=site_id,
            site_code=site_code,
            role=p.role,
            role_zh=p.role_zh,
            os=rnd.choice(p.os) if p.os else None,
            hw=rnd.choice(p.hw) if p.hw else None,
            system=system,
            stack=p.stack,
            criticality=p.criticality,
            dept=p.dept,
            lifecycle=lifecycle,
        )
        if p.kind == "vm" and self.hosts:
            c = rnd.randrange(len(self.hosts))
            for h in self.hosts[c]:
                self._edge("asset", aid, "hosted_by", "asset", h, f"vSphere-HA-{c + 1:03d}")
        elif p.kind == "container" and self.nodes:
            c = rnd.randrange(len(self.nodes))
            for n in self.nodes[c]:
                self._edge("asset", aid, "runs_on", "asset", n, f"k8s-{c + 1:02d}")

    def _place(self, zone_key: str) -> tuple[str, int | None, str, int]:
        """Zone key, site id, site code and line for a profile's zone."""
        rnd = self.rnd
        line = rnd.randint(1, org.LINES)
        if zone_key in ("line_office", "line_ot", "video"):
            site_id, code = rnd.choice(self.plan.stations[line])
            return (zone_key if zone_key == "video" else f"{zone_key}:{line}"), site_id, code, line
        if zone_key.startswith("depot"):
            site_id, code = rnd.choice(self.plan.depots)
            return zone_key, site_id, code, line
        zone = self.plan.zones[zone_key]
        code = next((c for sid, c in self.plan.sites.values() if sid == zone.site_id), "dc")
        return zone_key, zone.site_id, code, line


def _mac_tail(aid: int) -> str:
    """Three MAC bytes unique per asset id (multiplying by an odd constant is a bijection mod 2^24)."""
    v = (aid * 2654435761) & 0xFFFFFF
    return f"{v >> 16:02X}:{(v >> 8) & 0xFF:02X}:{v & 0xFF:02X}"


def _ts(value: dt.datetime) -> str:
    """Canonical timestamp text (UTC, SQLAlchemy's SQLite storage format; see ciimap.demo.bulk)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _jl(items: list[str]) -> str:
    """A JSON array of plain strings, formatted exactly like ``json.dumps`` (no escaping needed:
    hostnames, addresses, MACs, CPEs and tags never contain quotes or backslashes)."""
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


@functools.lru_cache(maxsize=4096)
def _cpe(prefix: str | None, version: str | None) -> str | None:
    if not prefix or not version:
        return None
    return f"{prefix}:{version.replace(' ', '_').lower()}:*:*:*:*:*:*:*"
