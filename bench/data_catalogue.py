"""Benchmark: the data catalogue list (issue 13 target: list pages p95 < 300 ms at 100,000 data resources).

Creates ``--resources`` data resources in a fresh database (bulk insert: categories, PI flags, volumes,
owners, levels and review dates spread over the catalogue; one holding per resource on 200 systems),
then times, after one warm-up request each,

- **api**: ``GET /api/data/resources`` (first page, a filtered page: level + PI, a deep page, a name
  search) through the app with a logged-in user;
- **page**: the catalogue page ``GET /data`` with the same filters.

Prints p50/p95/max per kind and the ratio of p95 to the 300 ms target.

    .venv/bin/python bench/data_catalogue.py                          # SQLite in a temp dir, 100,000 rows
    .venv/bin/python bench/data_catalogue.py --resources 20000        # reduced scale
    .venv/bin/python bench/data_catalogue.py --pg-url postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_MS = 300.0
QUERIES = (
    "",
    "?level=important&pi=yes",
    "?level=core",
    "?category=user.pi&flagged=yes",
    "?q=档案1234",
    "?page=900",
)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _report(name: str, ms: list[float]) -> None:
    p95 = _pct(ms, 95)
    print(
        f"{name:<5} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  p95={p95:7.1f} ms  max={max(ms):7.1f} ms  "
        f"target p95 < {TARGET_MS:.0f} ms: ratio {p95 / TARGET_MS:.2f} ({'ok' if p95 < TARGET_MS else 'MISSED'})"
    )


def _seed(db: Any, n: int, seed: int) -> None:
    from ciimap.core import bulk
    from ciimap.core.db import utcnow
    from ciimap.datagov.models import DATA_LEVELS, DataHolding, DataResource
    from ciimap.datagov.rules import load_categories
    from ciimap.inventory import models as m

    rng = random.Random(seed)
    cats = [c.code for c in load_categories().file.categories]
    now = utcnow()
    today = dt.date.today()
    with db.unit_of_work() as s:
        systems = [m.System(name=f"bench-sys-{i}") for i in range(200)]
        contacts = [m.Contact(name=f"责任人{i}") for i in range(500)]
        s.add_all([*systems, *contacts])
        s.flush()
        sys_ids, contact_ids = [x.id for x in systems], [c.id for c in contacts]
        rows = []
        for i in range(n):
            pi = rng.random() < 0.4
            level = rng.choice((*DATA_LEVELS, None, "general", "general"))
            rows.append(
                {
                    "id": i + 1,
                    "code": f"D{i:07d}",
                    "name": f"数据资源档案{i}",
                    "category": rng.choice(cats),
                    "description": None,
                    "contains_pi": pi,
                    "contains_sensitive_pi": pi and rng.random() < 0.2,
                    "records": rng.randint(0, 10**9),
                    "people": rng.randint(0, 2 * 10**7) if pi else None,
                    "owner_id": rng.choice(contact_ids),
                    "level": level,
                    "graded_on": today - dt.timedelta(days=rng.randint(0, 900)) if level else None,
                    "review_due": today + dt.timedelta(days=rng.randint(-200, 400)) if level else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        bulk.insert_rows(s, DataResource.__table__, rows)
        holdings = [
            {
                "id": i + 1,
                "resource_id": i + 1,
                "holder_type": "system",
                "holder_id": rng.choice(sys_ids),
                "role": "holds",
            }
            for i in range(n)
        ]
        bulk.insert_rows(s, DataHolding.__table__, holdings)
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with db.engine.begin() as c:
            for t in ("data_resource", "data_holding"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), {n})"))
                c.execute(text(f"ANALYZE {t}"))


def _time(client: Any, headers: dict[str, str], urls: list[str], rounds: int) -> list[float]:
    out: list[float] = []
    for u in urls:
        r = client.get(u, headers=headers)  # warm-up
        assert r.status_code == 200, (u, r.status_code, r.text[:200])
    for _ in range(rounds):
        for u in urls:
            t = time.perf_counter()
            r = client.get(u, headers=headers)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
    return out


def run(url: str, n: int, rounds: int, seed: int) -> None:
    from fastapi.testclient import TestClient

    from ciimap.app import create_app
    from ciimap.auth import service as auth
    from ciimap.core.db import Database, set_database
    from ciimap.core.migrate import upgrade

    upgrade(url)
    db = Database(url)
    set_database(db)
    t0 = time.perf_counter()
    _seed(db, n, seed)
    print(f"{url.split('://')[0]}: {n:,} data resources created in {time.perf_counter() - t0:.1f} s")
    with db.unit_of_work() as s:
        user = auth.create_user(s, username="bench", password="bench-password-1", role="analyst")
        _tok, secret = auth.create_token(s, user, "bench")
    headers = {"Authorization": f"Bearer {secret}"}

    def api(q: str) -> str:
        q = q.replace("pi=yes", "pi=true").replace("flagged=yes", "flagged=true")
        if "page=" in q:
            return f"/api/data/resources?offset={(int(q.split('=')[1]) - 1) * 50}"
        return f"/api/data/resources{q}"

    with TestClient(create_app()) as client:
        _report("api", _time(client, headers, [api(q) for q in QUERIES], rounds))
        _report("page", _time(client, headers, [f"/data{q}" for q in QUERIES], rounds))
    db.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5, help="timed requests per URL and kind")
    ap.add_argument(
        "--pg-url", default=None, help="an empty PostgreSQL database (default: SQLite in a temp dir)"
    )
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    if args.pg_url:
        run(args.pg_url, args.resources, args.rounds, args.seed)
        return
    with tempfile.TemporaryDirectory() as d:
        run(f"sqlite:///{Path(d) / 'bench.db'}", args.resources, args.rounds, args.seed)


if __name__ == "__main__":
    main()
