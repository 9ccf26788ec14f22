"""Benchmark: foreign-product inventory, vendor register and findings on a large synthetic map.

    .venv/bin/python bench/supply.py --assets 300000            # SQLite file in a temp dir
    .venv/bin/python bench/supply.py --assets 20000 --pg URL    # PostgreSQL (a scratch database)
    .venv/bin/python bench/supply.py --pg URL --reuse           # time again on the map built before

No baseline is named by the issue, so the ratio is against the obvious implementation measured in
the same run: fetch every (asset system, software product) row and aggregate in Python.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, insert, select, text

from ciimap.core.db import Base, Database
from ciimap.inventory import models as m
from ciimap.registry import load_all
from ciimap.supply import export, findings, foreign, service

LAYERS = ["os", "database", "middleware", "network", "security", "hardware", "application"]


def build(db: Database, n_assets: int, per_asset: int, seed: int = 7) -> None:
    """Core bulk inserts (a benchmark fixture, not an import path, so no audit records)."""
    rnd = random.Random(seed)
    n_systems = max(10, n_assets // 500)
    with db.engine.begin() as c:
        c.execute(
            insert(m.System),
            [
                {"id": i, "name": f"sys-{i}", "is_cii": i % 4 == 0, "criticality": "high"}
                for i in range(1, n_systems + 1)
            ],
        )
        c.execute(
            insert(m.Vendor),
            [
                {
                    "id": i,
                    "name": f"vendor-{i}",
                    "is_domestic": i % 3 == 0,
                    "country": "CN" if i % 3 == 0 else "US",
                    "aliases": [],
                }
                for i in range(1, 31)
            ],
        )
        c.execute(
            insert(m.Product),
            [
                {
                    "id": i,
                    "vendor_id": 1 + i % 30,
                    "name": f"product-{i}",
                    "layer": LAYERS[i % len(LAYERS)],
                    "auto_update": i % 10 == 0,
                    "update_privilege": "kernel" if i % 10 == 0 else "none",
                }
                for i in range(1, 121)
            ],
        )
        batch = 20000
        sw_id = 1
        for lo in range(1, n_assets + 1, batch):
            ids = range(lo, min(lo + batch, n_assets + 1))
            c.execute(
                insert(m.Asset),
                [
                    {
                        "id": a,
                        "name": f"h{a}",
                        "system_id": 1 + a % n_systems if a % 20 else None,
                        "lifecycle_status": "retired" if a % 97 == 0 else "active",
                        "macs": [],
                        "ips": [],
                        "tags": [],
                    }
                    for a in ids
                ],
            )
            rows = []
            for a in ids:
                for p in rnd.sample(range(1, 121), per_asset):
                    rows.append(
                        {
                            "id": sw_id,
                            "asset_id": a,
                            "product_id": p,
                            "name": f"p{p}",
                            "licenses": [],
                            "hashes": {},
                        }
                    )
                    sw_id += 1
            c.execute(insert(m.Software), rows)
        c.execute(
            insert(m.Edge),
            [
                {
                    "src_type": "system",
                    "src_id": s,
                    "kind": "uses",
                    "dst_type": "product",
                    "dst_id": 1 + s % 120,
                }
                for s in range(1, n_systems + 1)
            ],
        )
    with db.unit_of_work() as s:
        for v in range(1, 31, 2):
            service.set_profile(
                s,
                vendor_id=v,
                changes={
                    "remote_access": "permanent" if v % 4 == 1 else "none",
                    "security_review": "pending",
                },
            )
    if not db.is_sqlite:
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))


def naive(db: Database) -> int:
    """Baseline: the same figures as the inventory (distinct assets per system x product and per
    system x layer x domestic) from every (system, asset, product) row, aggregated in Python."""
    with db.read_session() as s:
        prods = foreign.products(s)
        rows = s.execute(
            select(m.Asset.system_id, m.Software.product_id, m.Asset.id)
            .join(m.Asset, m.Software.asset_id == m.Asset.id)
            .where(func.coalesce(m.Software.product_id, 0) != 0, m.Asset.lifecycle_status != "retired")
        )
        per_product: dict[tuple[int | None, int], set[int]] = defaultdict(set)
        per_layer: dict[tuple[int | None, str, bool], set[int]] = defaultdict(set)
        for sys_id, prod_id, asset_id in rows:
            info = prods[prod_id]
            per_product[(sys_id, prod_id)].add(asset_id)
            per_layer[(sys_id, info.layer, info.is_domestic)].add(asset_id)
    return len(per_product) + len(per_layer)


def timed(label: str, fn) -> float:  # noqa: ANN001
    """Wall time, and this process's CPU time (on a shared machine wall time includes waiting for a core;
    on PostgreSQL the server's CPU is not in the second figure)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"{label:<46} wall {wall:7.2f} s   cpu {cpu:7.2f} s")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assets", type=int, default=300000)
    ap.add_argument("--software-per-asset", type=int, default=3)
    ap.add_argument("--pg", help="PostgreSQL URL of a scratch database (tables are dropped and recreated)")
    ap.add_argument("--reuse", action="store_true", help="with --pg: keep the map a previous run built")
    args = ap.parse_args()
    load_all()
    tmp = tempfile.mkdtemp(prefix="ciimap-bench-supply-")
    db = Database(args.pg or f"sqlite:///{Path(tmp) / 'bench.db'}")
    with db.engine.connect() as c:
        existing = c.execute(text("SELECT count(*) FROM asset")).scalar() if args.reuse else 0
    if existing:
        print(f"backend {db.engine.dialect.name}; reusing {existing} assets")
    else:
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        t = time.perf_counter()
        build(db, args.assets, args.software_per_asset)
        print(
            f"backend {db.engine.dialect.name}; {args.assets} assets, "
            f"{args.assets * args.software_per_asset} software rows built in {time.perf_counter() - t:.1f} s"
        )
    with db.read_session() as s:
        t_inv = timed("foreign inventory (all systems x layers)", lambda: foreign.inventory(s))
        timed("foreign inventory (one system)", lambda: foreign.inventory(s, system_id=5))
        timed("vendor register with usage", lambda: service.list_vendors(s))
        timed("findings", lambda: findings.findings(s))
        timed("XLSX export (zh-CN)", lambda: export.workbook(s))
    t_naive = timed("baseline: per-row fetch + Python aggregation", lambda: naive(db))
    print(f"ratio baseline / grouped inventory (wall): {t_naive / t_inv:.1f}x")
    db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
