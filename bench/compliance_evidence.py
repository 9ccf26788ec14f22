"""Benchmark: evidence from the map (compliance/evidence.py) for every system of the demo operator.

    .venv/bin/python bench/compliance_evidence.py --scale 100000             # SQLite file in a temp dir
    .venv/bin/python bench/compliance_evidence.py --scale 100000 --db DIR    # keep/reuse the file in DIR
    .venv/bin/python bench/compliance_evidence.py --scale 20000 --pg URL     # PostgreSQL (an empty database)

Loads ``ciimap demo --scale N --seed 1`` (in a child process, so its memory does not count), then adds
what the demo does not write, as a benchmark fixture (Core bulk inserts, no audit records): scan
coverage (``scope_state`` for 95 % of the assets, so the register rule has unmanaged/never-observed
assets to find) and one advisory with findings on 10 % of the assets (P1-P4, half of them overdue).
Then times: the cold computation (dependency graph built, supply-chain pairs computed: what a change of
the map costs), the recomputation after a change outside the map (findings, triage: the graph and the
supply-chain pairs, both kept per map version, are reused), a cached call (what every later request
costs), and each rule alone (from scratch). CPU time of this process is printed beside the wall time:
SQLite runs in the process, so on a loaded machine the CPU time is the steadier figure.
Target (issue 12): proposals for every system on the 1M-asset demo < 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent


def ensure_demo(url: str, scale: int) -> None:
    from ciimap.core.db import Database
    from ciimap.core.migrate import upgrade

    upgrade(url)
    db = Database(url)
    with db.read_session() as s:
        n = s.execute(text("SELECT COUNT(*) FROM asset")).scalar()
    db.engine.dispose()
    if n:
        print(f"map present: {n:,} assets")
        return
    t = time.perf_counter()
    code = (
        "import sys; from ciimap.core.db import Database, set_database; set_database(Database(sys.argv[1])); "
        "from ciimap.demo.service import load_demo; r = load_demo(scale=int(sys.argv[2]), seed=1); "
        "print(r['counts'])"
    )
    subprocess.run([sys.executable, "-c", code, url, str(scale)], check=True)
    print(f"demo loaded in {time.perf_counter() - t:.1f} s (not part of the figures)")


def add_coverage_and_findings(url: str) -> None:
    """Scan coverage and findings, once (a fixture: Core inserts, no audit records)."""
    from ciimap.core.db import INSERT_BATCH, Database
    from ciimap.ingest.models import ScopeState
    from ciimap.inventory import models as m
    from ciimap.vulns.models import Advisory, Finding

    db = Database(url)
    with db.engine.begin() as c:
        if c.execute(select(func.count()).select_from(ScopeState)).scalar():
            return
        t = time.perf_counter()
        rows = c.execute(select(m.Asset.id, m.Asset.system_id).order_by(m.Asset.id)).all()
        seen = [
            {"scope": "bench", "asset_id": aid, "digest": "x", "first_run_id": 1, "last_run_id": 1}
            for aid, _s in rows
            if aid % 20
        ]
        for i in range(0, len(seen), INSERT_BATCH):
            c.execute(insert(ScopeState), seen[i : i + INSERT_BATCH])
        adv = c.execute(
            insert(Advisory).values(advisory_id="CVE-2099-0001", source="nvd").returning(Advisory.id)
        ).scalar_one()
        today = dt.date.today()
        found = [
            {
                "target_type": "software",
                "target_id": aid,
                "asset_id": aid,
                "system_id": sid,
                "advisory_pk": adv,
                "advisory_id": "CVE-2099-0001",
                "package": "pkg:generic/bench",
                "match_kind": "purl",
                "priority": f"P{aid % 4 + 1}",
                "due_date": today + dt.timedelta(days=(30 if aid % 7 < 4 else -30)),
                "status": "new",
                "triage_key": f"bench:{aid}",
                "cve_ids": [],
                "evidence": {},
                "factors": [],
            }
            for aid, sid in rows
            if aid % 10 == 0 and sid is not None
        ]
        for i in range(0, len(found), INSERT_BATCH):
            c.execute(insert(Finding), found[i : i + INSERT_BATCH])
        print(
            f"fixture: {len(seen):,} scan-coverage rows, {len(found):,} findings in "
            f"{time.perf_counter() - t:.1f} s (not part of the figures)"
        )
    db.engine.dispose()


def measure(url: str) -> dict[str, float]:
    from ciimap.compliance import evidence
    from ciimap.compliance import evidence_rules as rules
    from ciimap.core.db import Database
    from ciimap.graph.build import build_graph, clear_cache

    db = Database(url)
    out: dict[str, float] = {}
    with db.read_session() as s:
        n_assets = s.execute(text("SELECT COUNT(*) FROM asset")).scalar()
        n_systems = s.execute(text("SELECT COUNT(*) FROM system")).scalar()
        print(f"map: {n_assets:,} assets, {n_systems} systems")
        t = time.perf_counter()
        build_graph(s, use_cache=False)
        out["graph_s"] = time.perf_counter() - t
        clear_cache()
        evidence.clear_cache()
        t, c = time.perf_counter(), time.process_time()
        data = evidence.summary(s)  # builds the graph (data dir is a fresh temp dir) and stores it
        out["cold_s"], out["cold_cpu"] = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        evidence.summary(s, fresh=True)
        out["graph_cached_s"], out["graph_cached_cpu"] = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        for row in data["systems"]:
            evidence.for_system(s, system_id=row["system"]["id"])
        out["cached_all_systems_s"] = time.perf_counter() - t
        settings = rules.load_settings()
        systems = {int(i): bool(c) for i, c in s.execute(text("SELECT id, is_cii FROM system"))}
        ctx = rules.Ctx(session=s, settings=settings.data, today=dt.date.today(), systems=systems, limit=50)
        g = build_graph(s)
        rules.clear_cache()  # each rule from scratch (the supply-chain pairs too)
        for code in rules.RULE_CODES:
            fn = getattr(rules, code)
            t, c = time.perf_counter(), time.process_time()
            fn(ctx, g) if code == "redundancy" else fn(ctx)
            out[f"rule_{code}_s"], out[f"rule_{code}_cpu"] = time.perf_counter() - t, time.process_time() - c
        tally: dict[str, int] = {}
        for row in data["systems"]:
            for res in row["results"].values():
                tally[res] = tally.get(res, 0) + 1
        print(f"proposals: {tally}")
    db.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--db", help="directory of the SQLite file (kept and reused)")
    ap.add_argument("--pg", help="PostgreSQL URL of an empty (or previously loaded) database")
    args = ap.parse_args()
    # the graph store lives in the data dir: a fresh one, so that "cold" really builds the graph
    os.environ["CIIMAP_DATA_DIR"] = data_dir = tempfile.mkdtemp(prefix="ciimap-evidence-data-")
    tmp = None
    if args.pg:
        url = args.pg
    else:
        folder = Path(args.db) if args.db else Path(tmp := tempfile.mkdtemp(prefix="ciimap-evidence-"))
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / f'demo-{args.scale}.db'}"
    ensure_demo(url, args.scale)
    add_coverage_and_findings(url)
    res = measure(url)
    print(f"dependency graph build alone (shared with topology, impact, SPOF): {res['graph_s']:.2f} s")
    print(
        f"cold, or after a map change (graph built and stored, every rule, every system): {res['cold_s']:.2f} s"
        f" (CPU {res['cold_cpu']:.2f} s)"
    )
    print(
        "after a change outside the map (graph and supply-chain pairs reused, every rule, every system): "
        f"{res['graph_cached_s']:.2f} s (CPU {res['graph_cached_cpu']:.2f} s)"
    )
    print(f"every system again, cached (one request each): {res['cached_all_systems_s'] * 1000:.0f} ms")
    for code in ("asset_register", "overdue_vulns", "management_ports", "cleartext", "redundancy",
                 "endpoint_protection", "supply_chain"):  # fmt: skip
        print(f"  {code}: {res[f'rule_{code}_s']:.2f} s (CPU {res[f'rule_{code}_cpu']:.2f} s)")
    target = 10.0
    print(
        f"target: < {target:.0f} s for every system on the 1M-asset demo; ratio (after a change outside the map) "
        f"{res['graph_cached_s'] / target:.2f}, (cold) {res['cold_s'] / target:.2f}"
    )
    shutil.rmtree(data_dir, ignore_errors=True)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
