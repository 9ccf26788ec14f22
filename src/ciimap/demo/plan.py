"""The small tables of the demo operator (organisation, people, sites, zones, business services,
systems, vendors, products and their edges), built deterministically from the seed and the scale.

Everything here is a few hundred rows; the assets (up to millions) are streamed by
:mod:`ciimap.demo.assets`, which reads the lookup tables this plan keeps.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from ciimap.demo import catalog_org as org
from ciimap.demo import catalog_tech as tech
from ciimap.demo.profiles import zone_share

#: Usable host addresses in one /16 when .0 and .255 of every /24 are skipped.
PER_BLOCK = 256 * 254


@dataclass
class Zone:
    id: int
    key: str
    blocks: list[int]  # second octets of 10.X.0.0/16 (or [-1] for the internet zone)
    site_id: int | None
    used: int = 0


@dataclass
class Plan:
    seed: int
    scale: int
    now: dt.datetime
    city: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    stations: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # line -> (site id, code)
    depots: list[tuple[int, str]] = field(default_factory=list)
    sites: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (id, code)
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> row
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> row
    contacts: dict[str, list[int]] = field(default_factory=dict)  # department -> ids
    edge_id: int = 0

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        rows = self.rows.setdefault(table, [])
        row = {"id": len(rows) + 1, **row}
        rows.append(row)
        return row

    def edge(
        self,
        src_type: str,
        src_id: int,
        kind: str,
        dst_type: str,
        dst_id: int,
        group: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        self.edge_id += 1
        return {
            "id": self.edge_id,
            "src_type": src_type,
            "src_id": src_id,
            "kind": kind,
            "dst_type": dst_type,
            "dst_id": dst_id,
            "redundancy_group": group,
            "description": description,
        }


def stations_for(scale: int) -> int:
    """More stations as the map grows (30 at the default scale, up to 400)."""
    return max(30, min(400, 30 + scale // 4000))


def build(seed: int, scale: int, now: dt.datetime) -> Plan:
    rnd = random.Random(f"{seed}:plan")
    city, lat, lon, filing_prefix = rnd.choice(org.CITIES)
    plan = Plan(seed=seed, scale=scale, now=now, city=city)
    plan.add(
        "organization",
        {
            "name": f"{city}市轨道交通集团有限公司",
            "short_name": f"{city}地铁",
            "sector": "交通运输/城市轨道交通",
            "description": f"{city}市城市轨道交通建设与运营单位(演示数据，由 seed {seed} 生成)",
        },
    )
    _contacts(plan, rnd, city)
    _sites(plan, rnd, city, lat, lon)
    _zones(plan)
    _vendors_products(plan)
    _systems(plan, rnd, filing_prefix)
    _services(plan, rnd)
    return plan


def _contacts(plan: Plan, rnd: random.Random, city: str) -> None:
    seen: set[str] = set()
    for dept, titles in org.DEPARTMENTS:
        ids = plan.contacts.setdefault(dept, [])
        for i in range(5):
            while True:
                name = rnd.choice(org.SURNAMES) + rnd.choice(org.GIVEN)
                if name not in seen:
                    seen.add(name)
                    break
            row = plan.add(
                "contact",
                {
                    "organization_id": 1,
                    "name": name,
                    "title": titles[i % len(titles)],
                    "department": dept,
                    "email": f"user{len(seen):03d}@metro.example.cn",
                    "phone": f"1{rnd.randint(3, 9)}{rnd.randint(0, 999999999):09d}",
                },
            )
            ids.append(row["id"])


def _site(
    plan: Plan, key: str, name: str, code: str, kind: str, lat: float, lon: float, city: str, address: str
) -> int:
    row = plan.add(
        "site",
        {
            "organization_id": 1,
            "name": name,
            "code": code,
            "kind": kind,
            "address": address,
            "city": city,
            "latitude": round(lat, 6),
            "longitude": round(lon, 6),
        },
    )
    plan.sites[key] = (row["id"], code.lower())
    return int(row["id"])


def _sites(plan: Plan, rnd: random.Random, city: str, lat: float, lon: float) -> None:
    def near(km: float) -> tuple[float, float]:
        a = rnd.uniform(0, 2 * math.pi)
        return lat + km * math.sin(a) / 111.0, lon + km * math.cos(a) / (111.0 * math.cos(math.radians(lat)))

    fixed = (
        ("hq", "总部大楼", "HQ", "office", 2.0),
        ("occ", "运营控制中心(OCC)", "OCC", "control_center", 4.0),
        ("bcc", "灾备中心(备用控制中心)", "BCC", "datacenter", 18.0),
        ("dc", "主数据中心", "DC", "datacenter", 6.0),
    )
    for key, name, code, kind, km in fixed:
        la, lo = near(km)
        _site(plan, key, f"{city}地铁{name}", code, kind, la, lo, city, f"{city}市{name}")
    for d in range(3):
        la, lo = near(12.0 + 3 * d)
        sid = _site(
            plan,
            f"depot{d + 1}",
            f"{city}地铁{('东', '西', '北')[d]}部车辆段",
            f"DEP{d + 1}",
            "depot",
            la,
            lo,
            city,
            f"{city}市{('东', '西', '北')[d]}郊",
        )
        plan.depots.append((sid, f"dep{d + 1}"))
    names = _station_names(rnd, stations_for(plan.scale))
    per_line = math.ceil(len(names) / org.LINES)
    for i, name in enumerate(names):
        line = i // per_line + 1
        n = i % per_line
        angle = math.pi * line / org.LINES
        r = (n - per_line / 2) * 1.3 + rnd.uniform(-0.3, 0.3)
        la = lat + r * math.sin(angle) / 111.0
        lo = lon + r * math.cos(angle) / (111.0 * math.cos(math.radians(lat)))
        code = f"L{line}S{n + 1:02d}"
        sid = _site(
            plan, f"st{i}", f"{name}站", code, "station", la, lo, city, f"{city}地铁{line}号线{name}站"
        )
        plan.stations.setdefault(line, []).append((sid, code.lower()))


def _station_names(rnd: random.Random, count: int) -> list[str]:
    pool = [w + s for s in org.STATION_SUFFIXES for w in org.STATION_WORDS]
    if count > len(pool):
        pool += [
            f"{w}{k}路" for k in range(1, count // len(org.STATION_WORDS) + 2) for w in org.STATION_WORDS
        ]
    first, rest = pool[: len(org.STATION_WORDS)], pool[len(org.STATION_WORDS) :]
    rnd.shuffle(first)
    return (first + rest)[:count]


ZONE_DEFS = (  # key, name, kind, site key, internet facing
    ("internet", "互联网接入区", "internet", "dc", True),
    ("dmz", "DMZ区", "dmz", "dc", True),
    ("hq_office", "总部办公网", "office", "hq", False),
    ("prod", "生产网-主数据中心", "production", "dc", False),
    ("bcc_prod", "生产网-灾备中心", "production", "bcc", False),
    ("cloud", "云平台资源池", "cloud", "dc", False),
    ("occ_ot", "控制中心工控网", "ot", "occ", False),
    ("bcc_ot", "备用控制中心工控网", "ot", "bcc", False),
    ("depot_ot", "车辆段工控网", "ot", None, False),
    ("depot_office", "车辆段办公网", "office", None, False),
    ("video", "视频监控专网", "other", None, False),
    ("mgmt", "运维管理网", "management", "dc", False),
    ("test", "测试开发网", "test", "dc", False),
)


def _zones(plan: Plan) -> None:
    defs = [(k, n, kind, s, f) for k, n, kind, s, f in ZONE_DEFS]
    for line in range(1, org.LINES + 1):
        defs.append((f"line_office:{line}", f"{line}号线车站办公网", "office", None, False))
        defs.append((f"line_ot:{line}", f"{line}号线车站工控网", "ot", None, False))
    octet = 16
    for key, name, kind, site_key, facing in defs:
        if key == "internet":
            blocks, cidrs = [-1], ["203.0.113.0/24"]
        else:
            share = zone_share(key.split(":")[0]) / (org.LINES if ":" in key else 1)
            need = 1 + int(share * plan.scale * 1.25 + 2000) // PER_BLOCK
            blocks = list(range(octet, octet + need))
            octet += need
            cidrs = [f"10.{b}.0.0/16" for b in blocks]
        site_id = plan.sites[site_key][0] if site_key else None
        row = plan.add(
            "network_zone",
            {
                "organization_id": 1,
                "site_id": site_id,
                "name": name,
                "kind": kind,
                "cidrs": cidrs,
                "internet_facing": facing,
                "description": f"{name}({', '.join(cidrs[:3])}{' …' if len(cidrs) > 3 else ''})",
            },
        )
        plan.zones[key] = Zone(row["id"], key, blocks, site_id)
    if octet > 255:
        raise ValueError("demo scale too large for the 10.0.0.0/8 address plan")


def _vendors_products(plan: Plan) -> None:
    vids = {}
    for v in tech.VENDORS:
        row = plan.add(
            "vendor",
            {
                "name": v.name,
                "aliases": list(v.aliases),
                "country": v.country,
                "is_domestic": v.country == "CN",
                "website": v.website,
                "description": None,
            },
        )
        vids[v.key] = row["id"]
    for p in tech.PRODUCTS:
        row = plan.add(
            "product",
            {
                "vendor_id": vids[p.vendor],
                "name": p.name,
                "layer": p.layer,
                "cpe_prefix": p.cpe_prefix,
                "auto_update": p.auto_update,
                "update_privilege": p.update_privilege,
                "update_channel": p.update_channel,
                "description": p.description,
            },
        )
        plan.products[p.key] = row


def _all_systems() -> list[org.Sys]:
    out = []
    for t in org.PER_LINE:
        for n in range(1, org.LINES + 1):
            out.append(
                t._replace(
                    code=t.code.format(n=n),
                    name=t.name.format(n=n),
                    zone=f"{t.zone}:{n}" if t.zone.startswith("line") else t.zone,
                )
            )
    return out + list(org.CENTRAL)


def _systems(plan: Plan, rnd: random.Random, filing_prefix: str) -> None:
    for s in _all_systems():
        level = max(s.s, s.a)
        filed = level >= 2
        row = plan.add(
            "system",
            {
                "organization_id": 1,
                "name": s.name,
                "code": s.code,
                "owner_id": rnd.choice(plan.contacts[s.dept]),
                "mlps_level": level,
                "mlps_s_level": s.s,
                "mlps_a_level": s.a,
                "is_cii": s.cii and level >= 3,
                "criticality": s.criticality,
                "hosting_platform": s.platform,
                "filing_number": f"{filing_prefix}{rnd.randint(0, 999999):06d}-{rnd.randint(10000, 99999)}"
                if filed
                else None,
                "filing_date": dt.date(2019, 6, 1) + dt.timedelta(days=rnd.randint(0, 2000))
                if filed
                else None,
                "description": f"等级保护对象：{s.name}；业务等级S{s.s}、系统服务等级A{s.a}，定级为第{level}级",
            },
        )
        plan.systems[s.code] = {**row, "pattern": s.pattern, "zone": s.zone, "dept": s.dept}
    edges = plan.rows.setdefault("edge", [])
    deps: dict[str, org.Need] = dict(org.SYSTEM_DEPS)
    for tmpl, needs in org.LINE_DEPS.items():
        for n in range(1, org.LINES + 1):
            deps[tmpl.format(n=n)] = needs
    for code, needs in deps.items():
        for kind, target, group in needs:
            edges.append(
                plan.edge(
                    "system", plan.systems[code]["id"], kind, "system", plan.systems[target]["id"], group
                )
            )


def _services(plan: Plan, rnd: random.Random) -> None:
    edges = plan.rows["edge"]
    for s in org.SERVICES:
        row = plan.add(
            "business_service",
            {
                "organization_id": 1,
                "name": s.name,
                "code": s.code,
                "criticality": s.criticality,
                "owner_id": rnd.choice(plan.contacts[s.dept]),
                "rto_minutes": s.rto,
                "description": f"关键业务：{s.name}(恢复时间目标 {s.rto} 分钟)",
            },
        )
        for ref in s.systems:
            alts = ref.split("|")
            group = f"{s.code}-{'/'.join(alts)}-主备" if len(alts) > 1 else None
            codes = (
                [a.replace("L*", f"L{n}") for a in alts for n in range(1, org.LINES + 1)]
                if ref.endswith("L*")
                else alts
            )
            for code in codes:
                edges.append(
                    plan.edge(
                        "business_service", row["id"], "depends_on", "system", plan.systems[code]["id"], group
                    )
                )
