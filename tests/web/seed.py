"""A small, deterministic map for the web tests (and the benchmark's fallback when the demo operator
is not available): sites with coordinates, zones, graded systems, business services, domestic and
foreign vendors, products, assets with software, and dependency edges with a redundancy group.

Bulk Core inserts (audited with record_bulk) so a few thousand assets load in about a second.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from sqlalchemy import insert, text

from ciimap.core import audit
from ciimap.core.db import Database, utcnow
from ciimap.inventory import models as m

CITIES = [
    ("北京数据中心", "北京", 39.90, 116.40),
    ("上海灾备中心", "上海", 31.23, 121.47),
    ("广州调度站", "广州", 23.13, 113.26),
    ("成都变电站", "成都", 30.66, 104.07),
    ("西安运维中心", "西安", 34.27, 108.95),
]
VENDORS = [
    ("华为", "CN", True),
    ("奇安信", "CN", True),
    ("达梦", "CN", True),
    ("Microsoft", "US", False),
    ("Oracle", "US", False),
    ("Siemens", "DE", False),
    ("CrowdStrike", "US", False),
    ("麒麟软件", "CN", True),
]
PRODUCTS = [
    (0, "CE6800 交换机", "network"),
    (1, "天擎终端安全", "security"),
    (2, "达梦数据库 DM8", "database"),
    (3, "Windows Server 2019", "os"),
    (4, "Oracle Database 19c", "database"),
    (5, "SIMATIC S7-1500", "hardware"),
    (6, "Falcon Sensor", "security"),
    (7, "银河麒麟 V10", "os"),
]


def _bulk(s: Any, model: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(insert(model), rows)
        digest = hashlib.sha256(repr(sorted(rows[0])).encode() + str(len(rows)).encode()).hexdigest()
        audit.record_bulk(
            s, "seed", model.__tablename__, count=len(rows), digest=digest, detail={"seed": True}
        )


def seed(db: Database, *, assets: int = 60, systems: int = 8, seed_value: int = 7) -> dict[str, int]:
    """Fill an empty database; return a few ids the tests use."""
    rnd = random.Random(seed_value)
    now = utcnow()
    with db.unit_of_work() as s:
        _bulk(
            s,
            m.Site,
            [
                {
                    "id": i + 1,
                    "name": n,
                    "city": c,
                    "latitude": la,
                    "longitude": lo,
                    "kind": "datacenter",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (n, c, la, lo) in enumerate(CITIES)
            ],
        )
        zones = [("生产区", "production"), ("办公区", "office"), ("DMZ", "dmz"), ("工控区", "ot")]
        _bulk(
            s,
            m.NetworkZone,
            [
                {
                    "id": i + 1,
                    "name": n,
                    "kind": k,
                    "cidrs": [f"10.{i}.0.0/16"],
                    "site_id": 1 + i % 5,
                    "internet_facing": k == "dmz",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (n, k) in enumerate(zones)
            ],
        )
        _bulk(
            s,
            m.Vendor,
            [
                {
                    "id": i + 1,
                    "name": n,
                    "country": c,
                    "is_domestic": d,
                    "aliases": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (n, c, d) in enumerate(VENDORS)
            ],
        )
        _bulk(
            s,
            m.Product,
            [
                {
                    "id": i + 1,
                    "vendor_id": v + 1,
                    "name": n,
                    "layer": lay,
                    "auto_update": v == 6,
                    "update_privilege": "kernel" if v == 6 else "none",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (v, n, lay) in enumerate(PRODUCTS)
            ],
        )
        _bulk(
            s,
            m.System,
            [
                {
                    "id": i + 1,
                    "name": f"业务系统{i + 1:02d}",
                    "code": f"SYS-{i + 1:02d}",
                    "mlps_level": 2 + i % 3,
                    "is_cii": i % 2 == 0,
                    "criticality": "high",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(systems)
            ],
        )
        services = max(2, systems // 3)
        _bulk(
            s,
            m.BusinessService,
            [
                {
                    "id": i + 1,
                    "name": f"关键业务{i + 1}",
                    "criticality": "critical",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(services)
            ],
        )
        _bulk(s, m.Asset, [_asset(i, rnd, systems, now) for i in range(assets)])
        _bulk(
            s,
            m.Software,
            [
                {
                    "asset_id": i + 1,
                    "product_id": 1 + (i % len(PRODUCTS)),
                    "name": PRODUCTS[i % len(PRODUCTS)][1],
                    "version": "1.0",
                    "kind": "installed",
                    "licenses": [],
                    "hashes": {},
                    "source": "seed",
                    "first_seen": now,
                    "last_seen": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(assets)
            ],
        )
        edges = [
            {
                "src_type": "business_service",
                "src_id": 1 + i % services,
                "dst_type": "system",
                "dst_id": i + 1,
                "kind": "depends_on",
            }
            for i in range(systems)
        ]
        # System 1 needs asset 1 (alone) and either asset 2 or asset 3 (redundant pair).
        edges += [
            {"src_type": "system", "src_id": 1, "dst_type": "asset", "dst_id": 1, "kind": "runs_on"},
            {
                "src_type": "system",
                "src_id": 1,
                "dst_type": "asset",
                "dst_id": 2,
                "kind": "runs_on",
                "redundancy_group": "db",
            },
            {
                "src_type": "system",
                "src_id": 1,
                "dst_type": "asset",
                "dst_id": 3,
                "kind": "runs_on",
                "redundancy_group": "db",
            },
        ]
        for e in edges:
            e.update(source="seed", first_seen=now, last_seen=now, created_at=now, updated_at=now)
        _bulk(s, m.Edge, edges)
        if not db.is_sqlite:  # explicit ids above: move the sequences past them
            for t in ("site", "network_zone", "vendor", "product", "system", "business_service", "asset"):
                s.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
                )
    return {"assets": assets, "systems": systems, "services": services}


def _asset(i: int, rnd: random.Random, systems: int, now: Any) -> dict[str, Any]:
    ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return {
        "id": i + 1,
        "name": f"host-{i + 1:05d}",
        "hostname": f"host-{i + 1:05d}",
        "primary_ip": ip,
        "ips": [ip],
        "macs": [],
        "tags": [],
        "kind": rnd.choice(["server", "server", "vm", "network_device", "workstation"]),
        "os_name": rnd.choice(["Windows Server 2019", "银河麒麟 V10", "CentOS 7"]),
        "site_id": 1 + i % 5,
        "zone_id": 1 + i % 4,
        "system_id": 1 + i % systems,
        "lifecycle_status": "missing" if i % 23 == 5 else "active",
        "criticality": "medium",
        "declared": i % 7 != 3,
        "source": "seed",
        "first_seen": now,
        "last_seen": now,
        "created_at": now,
        "updated_at": now,
    }
