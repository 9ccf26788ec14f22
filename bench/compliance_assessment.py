"""Benchmark: assessments (issue 12 targets: saving one item result p95 < 100 ms; the assessment page
of a level-3 system with 50 test objects < 300 ms).

Builds a level-3 system with 50 assets in a fresh database, starts an assessment with them as test
objects (211 items × 50 objects = 10,550 pairs), fills every pair in one bulk set, then measures

- **save**: one item result saved the way the API does it (one unit of work: ``set_result`` and the
  commit, audit entry included), ``--saves`` times on random pairs;
- **load**: what the workspace request does: ``items`` (every item with its 50 results) serialised to
  JSON through the response schema, plus ``describe`` and ``score``, ``--loads`` times;
- **page**: the assessment workspace page itself (``GET /compliance/assessments/{id}``, HTML with every
  cell), through the app with a logged-in user, ``--loads`` times after one warm-up request.

Prints p50/p95/max per kind.

    .venv/bin/python bench/compliance_assessment.py                          # SQLite in a temp dir
    .venv/bin/python bench/compliance_assessment.py --pg-url postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SAVE_TARGET_MS = 100.0
LOAD_TARGET_MS = 300.0


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _report(name: str, ms: list[float], target: float) -> None:
    p95 = _pct(ms, 95)
    print(
        f"{name:<6} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  p95={p95:7.1f} ms  "
        f"max={max(ms):7.1f} ms  target p95 < {target:.0f} ms: {'ok' if p95 < target else 'MISSED'}"
    )


def run(url: str, objects: int, saves: int, loads: int, seed: int) -> None:
    from pydantic import TypeAdapter

    from ciimap.compliance import assessment
    from ciimap.compliance.schemas import AssessmentIn, BulkIn, ItemRow, ResultIn
    from ciimap.core.db import Database, set_database
    from ciimap.core.migrate import upgrade
    from ciimap.inventory import models as m

    upgrade(url)
    db = Database(url)
    set_database(db)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    with db.unit_of_work() as s:
        system = m.System(name="bench-level-3", code="BENCH3", mlps_level=3)
        s.add(system)
        s.flush()
        s.add_all(m.Asset(name=f"host-{i:03d}", system_id=system.id) for i in range(objects))
        s.flush()
        aid = assessment.create_assessment(s, data=AssessmentIn(system_id=system.id, include_assets=True)).id
    with db.unit_of_work() as s:
        assessment.bulk_set(
            s, assessment_id=aid, data=BulkIn(result="pass", method="check", assessor="bench")
        )
    with db.read_session() as s:
        d = assessment.describe(s, assessment_id=aid)
        item_ids = [r["id"] for r in assessment.items(s, assessment_id=aid)]
    object_ids = [o["id"] for o in d["test_objects"]]
    print(
        f"{url.split('://')[0]}: {d['items']} items x {d['objects']} objects = "
        f"{d['results']['pass']} results, set up in {time.perf_counter() - t0:.1f} s"
    )
    codes = ("pass", "partial", "fail", "na")
    save_ms: list[float] = []
    for _ in range(saves):
        data = ResultIn(
            item=rng.choice(item_ids),
            object_id=rng.choice(object_ids),
            result=rng.choice(codes),
            method="test",
            assessor="bench",
            notes="re-checked",
        )
        t = time.perf_counter()
        with db.unit_of_work() as s:
            assessment.set_result(s, assessment_id=aid, data=data)
        save_ms.append((time.perf_counter() - t) * 1000)
    rows_json = TypeAdapter(list[ItemRow])
    load_ms: list[float] = []
    size = 0
    for _ in range(loads):
        t = time.perf_counter()
        with db.read_session() as s:
            rows: list[dict[str, Any]] = assessment.items(s, assessment_id=aid)
            assessment.describe(s, assessment_id=aid)
            assessment.score(s, assessment_id=aid)
        size = len(rows_json.dump_json(rows_json.validate_python(rows)))
        load_ms.append((time.perf_counter() - t) * 1000)
    page_ms = _page(db, aid, loads)
    _report("save", save_ms, SAVE_TARGET_MS)
    _report("load", load_ms, LOAD_TARGET_MS)
    _report("page", page_ms, LOAD_TARGET_MS)
    print(f"workspace JSON: {size / 1024:.0f} KiB")
    db.engine.dispose()


def _page(db: Any, aid: int, loads: int) -> list[float]:
    from fastapi.testclient import TestClient

    from ciimap.app import create_app
    from ciimap.auth import service as auth

    with db.unit_of_work() as s:
        user = auth.create_user(s, username="bench", password="bench-password-1", role="analyst")
        _tok, secret = auth.create_token(s, user, "bench")
    headers = {"Authorization": f"Bearer {secret}"}
    out: list[float] = []
    with TestClient(create_app()) as client:
        r = client.get(f"/compliance/assessments/{aid}", headers=headers)
        assert r.status_code == 200, r.status_code
        for _ in range(loads):
            t = time.perf_counter()
            r = client.get(f"/compliance/assessments/{aid}", headers=headers)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
    print(f"workspace page: {len(r.content) / 1024:.0f} KiB of HTML")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (default: SQLite in a temp dir)")
    ap.add_argument("--objects", type=int, default=50)
    ap.add_argument("--saves", type=int, default=200)
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.pg_url:
        run(args.pg_url, args.objects, args.saves, args.loads, args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.objects, args.saves, args.loads, args.seed)


if __name__ == "__main__":
    main()
