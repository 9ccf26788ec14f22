"""Benchmark: the retro-hunt after a threat-intelligence import — N indicators (default 100,000)
matched against M stored alerts (default 1,000,000), the issue's target being < 10 s.

Alerts are written straight into the alert table in bulk (their sources are benchmarked by
``bench/alerts_ingest.py``); their source addresses come from a pool of 50,000 external addresses
and their destinations from 200 internal ones. Indicators are address indicators of one import run,
1 % of which are in the alerts' pool, so about 2 % of the alerts match (the rest of the indicators
hit nothing, as most of a feed does). Measured in this process:

  1. ``intel.service.store``: writing the N indicators (bulk insert);
  2. ``intel.service.retro_hunt``: matching them against the M alerts and updating ``intel_matches``;
  3. ``intel.match.matches`` on one loader chunk (5,000 alerts): the per-chunk cost added to alert
     imports.

SQLite temp database by default; ``--pg-url`` for PostgreSQL (a fresh database is created on that
server and dropped afterwards).

    .venv/bin/python bench/intel_retrohunt.py --indicators 10000 --alerts 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import String, cast, create_engine, func, select, text
from sqlalchemy.engine import make_url

from ciimap.alerts.models import Alert
from ciimap.core import bulk
from ciimap.core.db import Database, set_database
from ciimap.core.migrate import upgrade
from ciimap.intel import match, service
from ciimap.intel.records import IntelRecord

POOL = 50_000
CHUNK = 100_000


def _alerts(db: Database, m: int, rng: random.Random) -> None:
    cols = ("time", "kind", "event", "severity", "priority", "priority_reasons", "src_ip", "dest_ip", "cves")
    cols += ("src_internal", "dest_internal", "system_ids", "service_ids", "raw", "run_id", "intel_matches")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for start in range(0, m, CHUNK):
        rows = [
            (
                t0 + dt.timedelta(seconds=i),
                "suricata",
                "alert",
                "high",
                "high",
                [],
                f"203.{(k := rng.randrange(POOL)) // 250 % 250}.{k % 250}.{k // 62500 + 1}",
                f"10.20.{rng.randrange(200) // 250}.{rng.randrange(200) % 250 + 1}",
                [],
                False,
                True,
                [],
                [],
                "{}",
                1,
                [],
            )
            for i in range(start, min(m, start + CHUNK))
        ]
        with db.unit_of_work() as s:
            bulk.insert_tuples(s, Alert.__table__, cols, rows)


def _records(n: int, rng: random.Random) -> list[IntelRecord]:
    hits = rng.sample(range(POOL), max(1, n // 100))
    out = [
        IntelRecord(type="ip", value=f"203.{k // 250 % 250}.{k % 250}.{k // 62500 + 1}", source_ref=f"h{k}")
        for k in hits
    ]
    out += [
        IntelRecord(type="ip", value=f"198.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", source_ref=f"m{i}")
        for i in range(n - len(out))
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--indicators", type=int, default=100_000)
    ap.add_argument("--alerts", type=int, default=1_000_000)
    ap.add_argument("--pg-url", help="a PostgreSQL server URL (a fresh database is created on it)")
    args = ap.parse_args()
    rng = random.Random(14)
    tmp = tempfile.TemporaryDirectory()
    dbname = None
    if args.pg_url:
        dbname = f"bench_intel_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        url = make_url(args.pg_url).set(database=dbname).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    try:
        upgrade(url)
        db = Database(url)
        set_database(db)
        t = time.perf_counter()
        _alerts(db, args.alerts, rng)
        seed = time.perf_counter() - t
        records = _records(args.indicators, rng)
        counts = {"indicators": 0, "complex": 0, "replaced": 0}
        with db.unit_of_work() as s:
            t = time.perf_counter()
            service.store(s, records, kind="stix", run_id=1, counts=counts, cves=set())
            s.flush()
            store = time.perf_counter() - t
            t = time.perf_counter()
            hunt = service.retro_hunt(s, run_id=1)
            retro = time.perf_counter() - t
        with db.read_session() as s:
            chunk = [(a.src_ip, a.dest_ip, a.raw) for a in s.scalars(select(Alert).limit(5000))]
            t = time.perf_counter()
            hits = match.matches(s, chunk)
            per_chunk = time.perf_counter() - t
            matched = s.scalar(
                select(func.count()).select_from(Alert).where(cast(Alert.intel_matches, String) != "[]")
            )
        print(
            json.dumps(
                {
                    "database": "postgresql" if args.pg_url else "sqlite",
                    "indicators": args.indicators,
                    "alerts": args.alerts,
                    "seed_alerts_seconds": round(seed, 2),
                    "store_seconds": round(store, 3),
                    "retro_hunt_seconds": round(retro, 3),
                    "retro_hunt_alerts": hunt["alerts"],
                    "alerts_with_matches": matched,
                    "loader_chunk_5000_seconds": round(per_chunk, 4),
                    "loader_chunk_hits": sum(1 for h in hits if h),
                },
                indent=2,
            )
        )
    finally:
        if "db" in locals():
            db.engine.dispose()
        if dbname:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}"'))
        tmp.cleanup()


if __name__ == "__main__":
    main()
