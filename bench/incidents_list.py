"""Benchmark: the incident list at N incidents (default 100,000; target p95 < 100 ms).

Incidents of every grade and state are written in bulk; then ``GET /api/incidents`` is called through
the app (TestClient, bearer token) for the first page, a state filter, a grade filter, open only and a
deep page, R times each (default 20), and the p50/p95 of all calls reported with the ratio to the target.

    .venv/bin/python bench/incidents_list.py --incidents 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from incidents_sweep import database, drop, seed  # noqa: E402

from ciimap.auth import service as auth  # noqa: E402

TARGET_MS = 100.0
QUERIES = ["", "?state=处置", "?grade=重大", "?open_only=true", "?offset=50000", "?grade=一般&state=关闭"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--pg-url", help="a PostgreSQL server URL (a fresh database is created on it)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db, dbname = database(args.pg_url, tmp.name, "inclist")
    try:
        seed(db, args.incidents, now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), open_deadlines=False)
        with db.unit_of_work() as s:
            user = auth.create_user(s, username="bench", password="correct-horse-1", role="analyst")
            _tok, secret = auth.create_token(s, user, "bench")
        from fastapi.testclient import TestClient

        from ciimap.app import create_app

        headers = {"Authorization": f"Bearer {secret}"}
        per: dict[str, list[float]] = {}
        with TestClient(create_app()) as client:
            for q in QUERIES:  # warm-up
                assert client.get(f"/api/incidents{q}", headers=headers).status_code == 200
            for _ in range(args.repeat):
                for q in QUERIES:
                    t = time.perf_counter()
                    r = client.get(f"/api/incidents{q}", headers=headers)
                    per.setdefault(q or "(first page)", []).append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200
        every = sorted(x for v in per.values() for x in v)
        p95 = every[int(len(every) * 0.95) - 1]
        print(json.dumps({
            "database": "postgresql" if args.pg_url else "sqlite", "incidents": args.incidents,
            "calls": len(every), "p50_ms": round(statistics.median(every), 1), "p95_ms": round(p95, 1),
            "target_p95_ms": TARGET_MS, "ratio_to_target": round(p95 / TARGET_MS, 3),
            "p95_ms_by_query": {q: round(sorted(v)[int(len(v) * 0.95) - 1], 1) for q, v in per.items()},
        }, ensure_ascii=False, indent=2))  # fmt: skip
    finally:
        drop(db, args.pg_url, dbname)


if __name__ == "__main__":
    main()
