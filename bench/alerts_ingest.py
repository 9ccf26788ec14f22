"""Benchmark: ingest N Suricata EVE alert lines (default 100,000) against json.loads of the same file.

The lines are made from the real samples (../shared/data/alerts/suricata: the telegraf alert and the
two alerts of the Suricata docs), with timestamps spread over a day and addresses rewritten onto the
assets of a small map (200 assets in a CII system needed by a critical business service, two zones),
so every alert is mapped. Measured, each in its own subprocess (so peak RSS is per phase):

  1. the baseline: the standard library's ``json.loads`` on each line of the file (no storage);
  2. ``ciimap alerts import suricata FILE --json`` as a user runs it (start-up, read, map, severity,
     bulk write in one transaction) — time, lines/s, peak RSS.

The issue's target (at 1,000,000 lines): no slower than the baseline, peak RSS < 400 MB and flat as
the file grows. SQLite temp database by default; ``--pg-url`` for PostgreSQL (a fresh database is
created on that server and dropped afterwards).

    .venv/bin/python bench/alerts_ingest.py --lines 100000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The shared samples sit next to the checkout (/work/main) or two levels up (a worktree /work/wt/NAME).
SAMPLES = next(
    (
        p / "shared" / "data" / "alerts" / "suricata"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared").is_dir()
    ),
    ROOT.parent / "shared" / "data" / "alerts" / "suricata",
)
ASSETS = 200

_MAP = r"""
import datetime as dt, sys
from ciimap.core.db import Database, set_database
from ciimap.core.migrate import upgrade
from ciimap.inventory.models import Asset, BusinessService, Edge, IpAddress, NetworkZone, System
url, n = sys.argv[1], int(sys.argv[2])
upgrade(url)
db = Database(url)
set_database(db)
t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
with db.unit_of_work() as s:
    s.add_all([NetworkZone(name="生产网", cidrs=["10.20.0.0/16"]), NetworkZone(name="DMZ", cidrs=["10.30.0.0/16"], internet_facing=True)])
    system = System(name="SCADA", is_cii=True, mlps_level=3)
    svc = BusinessService(name="供电调度", criticality="critical")
    s.add_all([system, svc]); s.flush()
    s.add(Edge(src_type="business_service", src_id=svc.id, kind="depends_on", dst_type="system", dst_id=system.id))
    for i in range(n):
        ip = f"10.20.{i // 250}.{i % 250 + 1}"
        a = Asset(name=f"host-{i}", primary_ip=ip, system_id=system.id, criticality="high", first_seen=t0, last_seen=t0)
        s.add(a); s.flush()
        s.add(IpAddress(asset_id=a.id, address=ip, first_seen=t0, last_seen=t0))
"""

_BASELINE = r"""
import json, resource, sys, time
t = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
        n += 1
print(json.dumps({"seconds": time.perf_counter() - t, "lines": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_IMPORT = r"""
import atexit, json, resource, sys
atexit.register(lambda: print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), file=sys.stderr))
from ciimap.cli import main
main(["--database", sys.argv[1], "alerts", "import", "suricata", sys.argv[2], "--json"])
"""


def _templates() -> list[dict]:
    out = [json.loads((SAMPLES / "telegraf_test3.json").read_text("utf-8"))]
    docs = SAMPLES / "suricata-docs_eve-json-format_examples.ndjson"
    for line in docs.read_text("utf-8").splitlines():
        doc = json.loads(line)
        if doc.get("event_type") == "alert":
            out.append(doc)
    return out


def make_file(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    templates = _templates()
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            doc = dict(rng.choice(templates))
            a = rng.randrange(ASSETS)
            doc["dest_ip"] = f"10.20.{a // 250}.{a % 250 + 1}"
            doc["src_ip"] = f"203.0.{rng.randrange(113, 115)}.{rng.randrange(1, 255)}"
            doc["src_port"] = rng.randrange(1024, 65535)
            doc["timestamp"] = (
                f"2026-10-05T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}000+0800"
            )
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--pg-url", help="PostgreSQL server URL (a scratch database is created there)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        eve = Path(tmp) / "eve.json"
        make_file(eve, args.lines)
        size = eve.stat().st_size
        url = f"sqlite:///{tmp}/bench.db"
        drop = None
        if args.pg_url:
            from sqlalchemy import create_engine, text

            name = f"alerts_bench_{int(time.time())}"
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.pg_url.rsplit("/", 1)[0] + f"/{name}"
            drop = (admin, name)
        try:
            _run(_MAP, url, str(ASSETS))
            base = json.loads(_run(_BASELINE, str(eve)).stdout)
            t = time.perf_counter()
            done = _run(_IMPORT, url, str(eve))
            seconds = time.perf_counter() - t
            result = json.loads(done.stdout)
            rss = json.loads(done.stderr.strip().splitlines()[-1])["peak_rss_mb"]
        finally:
            if drop:
                admin, name = drop
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"lines: {args.lines:,} ({'postgresql' if args.pg_url else 'sqlite'}); file {size / 1e6:.1f} MB")
    print(f"json.loads line by line: {base['seconds']:.2f} s, peak RSS {base['peak_rss_mb']:.0f} MB")
    print(
        f"ciimap alerts import:    {seconds:.2f} s ({args.lines / seconds:,.0f} lines/s), peak RSS {rss:.0f} MB; "
        f"events {result['events']}, rejected {result['rejected']}, mapped {result['mapped']}"
    )
    print(f"ratio import / json.loads: {seconds / base['seconds']:.2f} (target <= 1.0); RSS target < 400 MB")


if __name__ == "__main__":
    main()
