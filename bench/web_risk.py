"""The findings page (flat and grouped by advisory/asset/system) and the risk pages on the demo operator
with synthetic findings: server-side p95 over N requests per page vs the 300 ms list-page budget.

    .venv/bin/python bench/web_risk.py --scale 20000 --findings 100000     # quick
    .venv/bin/python bench/web_risk.py --scale 1000000 --findings 1000000  # the list-page target

The demo has no findings of its own yet, so ``--findings`` rows are written straight into
``vuln_finding`` (spread over ``--advisories`` advisories and the demo's assets, with random scores);
each page is requested through the ASGI app in-process (TestClient, a logged-in session).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time

BASELINE_MS = 300.0
PASSWORD = "bench-password"


def load(scale: int, findings: int, advisories: int) -> None:
    d = tempfile.mkdtemp(prefix="ciimap-bench-risk-")
    os.environ["CIIMAP_DATA_DIR"] = d
    os.environ.setdefault("CIIMAP_DATABASE_URL", f"sqlite:///{d}/bench.db")
    from sqlalchemy import select, text

    from ciimap.auth import service as auth
    from ciimap.core.bulk import insert_rows
    from ciimap.core.db import get_database
    from ciimap.core.migrate import upgrade
    from ciimap.demo.service import load_demo
    from ciimap.inventory.models import Asset
    from ciimap.registry import load_all
    from ciimap.vulns.models import Advisory, Finding

    load_all()
    upgrade()
    t0 = time.perf_counter()
    load_demo(scale=scale, seed=42, advisories=False)  # the bench writes its own advisories and findings
    print(f"demo operator loaded: {scale:,} assets in {time.perf_counter() - t0:.0f}s")
    rnd = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    with get_database().unit_of_work() as s:
        assets = [(int(i), sy) for i, sy in s.execute(select(Asset.id, Asset.system_id))]
        insert_rows(
            s,
            Advisory.__table__,
            [
                {
                    "id": k + 1,
                    "advisory_id": f"BENCH-{k:05d}",
                    "source": "osv",
                    "aliases": [],
                    "summary": "bench",
                    "withdrawn": False,
                    "references": [],
                    "extra": {},
                }
                for k in range(advisories)
            ],
        )
        batch = []
        for n in range(findings):
            aid, sid = assets[n % len(assets)]
            adv = rnd.randrange(advisories) + 1
            score = round(rnd.uniform(0, 100), 1)
            prio = "P1" if score > 85 else "P2" if score > 60 else "P3" if score > 30 else "P4"
            batch.append(
                {
                    "id": n + 1,
                    "target_type": "software",
                    "target_id": n + 1,
                    "asset_id": aid,
                    "system_id": sid,
                    "advisory_pk": adv,
                    "advisory_id": f"BENCH-{adv - 1:05d}",
                    "cve_ids": [],
                    "package": "pkg:pypi/bench",
                    "version": "1.0",
                    "match_kind": "purl",
                    "confidence": "high",
                    "evidence": {},
                    "score": score,
                    "priority": prio,
                    "factors": [{"factor": "cvss", "value": score / 10, "points": score}],
                    "due_date": dt.date(2027, 1, 1),
                    "first_matched": now,
                    "last_matched": now,
                    "active": True,
                    "status": "new",
                    "triage_key": f"asset:{aid}|pkg:pypi/bench|BENCH-{adv - 1:05d}",
                }
            )
            if len(batch) == 20_000:
                insert_rows(s, Finding.__table__, batch)
                batch = []
        insert_rows(s, Finding.__table__, batch)
        if s.get_bind().dialect.name == "sqlite":  # as matching does after a large run (vulns/service.py)
            s.execute(text("ANALYZE vuln_finding"))
        try:
            auth.get_user(s, "bench-risk")
        except Exception:
            auth.create_user(s, username="bench-risk", password=PASSWORD, role="analyst")
    print(f"{findings:,} findings over {advisories:,} advisories written in {time.perf_counter() - t0:.0f}s")


URLS = [
    ("findings", "/findings"),
    ("findings page 3", "/findings?page=3"),
    ("findings P1", "/findings?priority=P1"),
    ("grouped by advisory", "/findings?group=advisory"),
    ("grouped by asset", "/findings?group=asset"),
    ("grouped by system", "/findings?group=system"),
    ("grouped by advisory, P1", "/findings?group=advisory&priority=P1"),
    ("risk: SPOF", "/risk/spof"),
    ("risk: concentration", "/risk/concentration"),
    ("risk: supply", "/risk/supply"),
    ("risk: feeds", "/risk/feeds"),
    ("risk: rollouts", "/risk/rollouts"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=20_000, help="demo assets")
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--advisories", type=int, default=2_000)
    ap.add_argument("-n", type=int, default=10, help="requests per page")
    a = ap.parse_args()
    load(a.scale, a.findings, a.advisories)
    from fastapi.testclient import TestClient

    from ciimap.app import create_app

    client = TestClient(create_app())
    r = client.post("/login", data={"username": "bench-risk", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    worst = 0.0
    print(f"{'page':30} {'p50 ms':>8} {'p95 ms':>8} {'vs 300 ms':>10}")
    for label, url in URLS:
        client.get(url)  # warm (graph cache, compiled statements)
        times = []
        for _ in range(a.n):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (url, resp.status_code)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        worst = max(worst, p95)
        print(f"{label:30} {statistics.median(times):8.1f} {p95:8.1f} {p95 / BASELINE_MS:9.0%}")
    print(
        f"worst p95 {worst:.1f} ms = {worst / BASELINE_MS:.0%} of the 300 ms budget "
        f"({'PASS' if worst < BASELINE_MS else 'FAIL'}); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
