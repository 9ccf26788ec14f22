"""Benchmark: the alert console's API queries on PostgreSQL with millions of alerts (issue 14 target:
p95 < 300 ms with 10,000,000 alerts).

Loads a map (zones, systems, business services, assets) and N alerts spread over 30 days into day
partitions, in groups of 25 alerts (rule × target × attacker; a group row per 25 alerts), with
``COPY`` (text format, generated in Python). Then ``ciimap serve`` (one process) answers the
console's routes, one client at a time, each kind with varied parameters:

- ``GET /api/alerts/groups``: newest page; by severity; by zone; by system; by business service;
  open and high; a keyset page from the middle (``before_time``/``before_id``); OFFSET 5000 (for
  comparison);
- ``GET /api/alerts``: newest page; a group's alerts (drill-down, ``group_id``); by asset; by severity;
  by system; one alert (``/api/alerts/{id}``).

Prints p50/p95/max per kind and the ratio of the worst p95 to the 300 ms target.

    .venv/bin/python bench/alerts_console.py --alerts 2000000 --pg-url postgresql+psycopg://ciimap@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_latency import make_token, start_server, wait_ready  # noqa: E402
from demo_load import fresh_pg_database  # noqa: E402

TARGET_MS = 300.0
PER_GROUP = 25
ASSETS = 5000
SYSTEMS = 40
SERVICES = 10
ZONES = 6
DAYS = 30
SEVERITIES = ["low"] * 60 + ["medium"] * 25 + ["high"] * 12 + ["critical"] * 3
RULES = [(str(2000000 + i), f"ET EXPLOIT sample rule {i}") for i in range(400)]


def load_map(url: str) -> dict[str, Any]:
    from ciimap.core.db import Database
    from ciimap.core.migrate import upgrade
    from ciimap.inventory.models import Asset, BusinessService, Edge, NetworkZone, System

    upgrade(url)
    db = Database(url)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with db.unit_of_work() as s:
        zones = [NetworkZone(name=f"zone-{i}", cidrs=[f"10.{20 + i}.0.0/16"]) for i in range(ZONES)]
        systems = [System(name=f"system-{i}", is_cii=i % 5 == 0, mlps_level=3) for i in range(SYSTEMS)]
        services = [BusinessService(name=f"service-{i}", criticality="high") for i in range(SERVICES)]
        s.add_all([*zones, *systems, *services])
        s.flush()
        for i, sysm in enumerate(systems):
            s.add(
                Edge(
                    src_type="business_service",
                    src_id=services[i % SERVICES].id,
                    kind="depends_on",
                    dst_type="system",
                    dst_id=sysm.id,
                )
            )
        assets = []
        for i in range(ASSETS):
            z = zones[i % ZONES]
            assets.append(
                Asset(
                    name=f"host-{i}",
                    primary_ip=f"10.{20 + i % ZONES}.{i // 250 % 250}.{i % 250 + 1}",
                    zone_id=z.id,
                    system_id=systems[i % SYSTEMS].id,
                    first_seen=t0,
                    last_seen=t0,
                )
            )
        s.add_all(assets)
        s.flush()
        out = {
            "assets": [(a.id, a.primary_ip, a.zone_id, a.system_id) for a in assets],
            "zones": [z.id for z in zones],
            "systems": [x.id for x in systems],
            "services": [x.id for x in services],
            "service_of_system": {x.id: services[i % SERVICES].id for i, x in enumerate(systems)},
        }
    db.engine.dispose()
    return out


def _v(x: Any) -> str:
    return "\\N" if x is None else str(x)


def load_alerts(url: str, n: int, m: dict[str, Any], seed: int) -> dict[str, Any]:
    """COPY n alerts in groups of PER_GROUP, over the DAYS before now; returns what to query."""
    import psycopg

    from ciimap.alerts import partitions
    from ciimap.core.db import Database

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=DAYS)
    db = Database(url)
    with db.unit_of_work() as s:
        partitions.ensure_days(s, today=now.date(), back=DAYS + 1, keep=0)
    db.engine.dispose()
    groups = n // PER_GROUP
    span = (now - start).total_seconds()
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    alert_cols = (
        "id, time, kind, event, sensor, rule_id, rule_name, raw_severity, severity, priority, "
        "priority_reasons, src_ip, src_port, dest_ip, dest_port, proto, cves, src_asset_id, dest_asset_id, "
        "src_zone_id, dest_zone_id, src_matched_by, dest_matched_by, src_internal, dest_internal, "
        "system_ids, service_ids, raw, reject, line_no, run_id, intel_matches"
    )
    group_cols = (
        "id, kind, rule_id, rule_name, target_asset_id, target_ip, attacker_ip, zone_id, first_seen, "
        "last_seen, count, open_count, severity, priority, sample_ids, system_ids, service_ids"
    )
    t = time.perf_counter()
    alert_id = 0
    with conn.cursor() as cur:
        with cur.copy(f"COPY alert ({alert_cols}) FROM STDIN") as ca:
            buf = io.StringIO()
            group_rows = io.StringIO()
            for g in range(1, groups + 1):
                rule_id, rule_name = RULES[rng.randrange(len(RULES))]
                aid, ip, zone, system = m["assets"][rng.randrange(ASSETS)]
                attacker = f"203.0.{rng.randrange(113, 120)}.{rng.randrange(1, 255)}"
                sev = SEVERITIES[rng.randrange(100)]
                svc = m["service_of_system"][system]
                first = start + dt.timedelta(seconds=span * (g - 1) / groups)
                ids = []
                last = first
                for j in range(PER_GROUP):
                    alert_id += 1
                    ids.append(alert_id)
                    last = first + dt.timedelta(seconds=10 * j)
                    raw = (
                        f'{{"timestamp":"{last.isoformat()}","event_type":"alert","src_ip":"{attacker}",'
                        f'"dest_ip":"{ip}","alert":{{"signature_id":{rule_id},"signature":"{rule_name}"}}}}'
                    )
                    buf.write(
                        "\t".join(
                            _v(x)
                            for x in (
                                alert_id,
                                last.isoformat(),
                                "suricata",
                                "alert",
                                "sensor-1",
                                rule_id,
                                rule_name,
                                2,
                                sev,
                                sev,
                                "[]",
                                attacker,
                                40000 + j,
                                ip,
                                443,
                                "TCP",
                                "[]",
                                None,
                                aid,
                                None,
                                zone,
                                None,
                                "ip",
                                "f",
                                "t",
                                f"[{system}]",
                                f"[{svc}]",
                                raw,
                                None,
                                alert_id,
                                1,
                                "[]",
                            )
                        )
                        + "\n"
                    )
                group_rows.write(
                    "\t".join(
                        _v(x)
                        for x in (
                            g,
                            "suricata",
                            rule_id,
                            rule_name,
                            aid,
                            "",
                            attacker,
                            zone,
                            first.isoformat(),
                            last.isoformat(),
                            PER_GROUP,
                            PER_GROUP if g % 10 else 0,
                            sev,
                            sev,
                            json.dumps(ids[:5]),
                            f"[{system}]",
                            f"[{svc}]",
                        )
                    )
                    + "\n"
                )
                if buf.tell() > 1 << 22:
                    ca.write(buf.getvalue())
                    buf = io.StringIO()
            ca.write(buf.getvalue())
        with cur.copy(f"COPY alert_group ({group_cols}) FROM STDIN") as cg:
            cg.write(group_rows.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('alert', 'id'), %s)", (alert_id,))
        cur.execute("SELECT setval(pg_get_serial_sequence('alert_group', 'id'), %s)", (groups,))
    conn.commit()
    loaded = time.perf_counter() - t
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE alert")
    conn.execute("VACUUM ANALYZE alert_group")
    conn.close()
    print(f"loaded {alert_id:,} alerts and {groups:,} groups with COPY in {loaded:.0f} s", flush=True)
    return {"alerts": alert_id, "groups": groups, "start": start, "now": now}


def requests(m: dict[str, Any], info: dict[str, Any], per_kind: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    g, a = info["groups"], info["alerts"]
    span = (info["now"] - info["start"]).total_seconds()

    def mid_time() -> str:
        t = info["start"] + dt.timedelta(seconds=rng.uniform(0.2, 0.8) * span)
        return t.isoformat().replace("+00:00", "Z")

    def pick(xs: list[Any]) -> Any:
        return xs[rng.randrange(len(xs))]

    kinds = {
        "groups newest": lambda: "/api/alerts/groups?limit=50",
        "groups severity=critical": lambda: "/api/alerts/groups?limit=50&severity=critical",
        "groups zone": lambda: f"/api/alerts/groups?limit=50&zone_id={pick(m['zones'])}",
        "groups system": lambda: f"/api/alerts/groups?limit=50&system_id={pick(m['systems'])}",
        "groups service": lambda: f"/api/alerts/groups?limit=50&service_id={pick(m['services'])}",
        "groups open+high": lambda: "/api/alerts/groups?limit=50&open_only=true&severity=high",
        "groups keyset (middle)": lambda: (
            f"/api/alerts/groups?limit=50&before_time={mid_time()}&before_id={rng.randrange(1, g)}"
        ),
        "groups offset 5000": lambda: "/api/alerts/groups?limit=50&offset=5000",
        "alerts newest": lambda: "/api/alerts?limit=50",
        "alerts of a group": lambda: f"/api/alerts?limit=50&group_id={rng.randrange(1, g + 1)}",
        "alerts by asset": lambda: f"/api/alerts?limit=50&asset_id={pick(m['assets'])[0]}",
        "alerts severity=critical": lambda: "/api/alerts?limit=50&severity=critical",
        "alerts by system": lambda: f"/api/alerts?limit=50&system_id={pick(m['systems'])}",
        "alerts keyset (middle)": lambda: (
            f"/api/alerts?limit=50&before_time={mid_time()}&before_id={rng.randrange(1, a)}"
        ),
        "one alert": lambda: f"/api/alerts/{rng.randrange(1, a + 1)}",
    }
    return {k: [f() for _ in range(per_kind)] for k, f in kinds.items()}


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=2_000_000)
    ap.add_argument("--pg-url", help="PostgreSQL server URL (a fresh database is created there)")
    ap.add_argument("--per-kind", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the loaded database (default: dropped)")
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("--pg-url is required (the target is about PostgreSQL)")
    url, _name = fresh_pg_database(args.pg_url)
    m = load_map(url)
    info = load_alerts(url, args.alerts, m, args.seed)
    secret = make_token(url)
    headers = {"Authorization": f"Bearer {secret}"}
    proc, base = start_server(url)
    worst = 0.0
    try:
        wait_ready(base, headers, proc)
        plan = requests(m, info, args.per_kind, args.seed)
        with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
            for path in (p[0] for p in plan.values()):  # warm the caches once per kind
                c.get(path)
            print(f"{'query':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={args.per_kind} each)")
            for kind, paths in plan.items():
                times = []
                for p in paths:
                    t = time.perf_counter()
                    r = c.get(p)
                    times.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 200:
                        raise SystemExit(f"{p}: {r.status_code} {r.text[:200]}")
                p95 = pct(times, 95)
                if "offset" not in kind:
                    worst = max(worst, p95)
                print(f"{kind:28} {statistics.median(times):8.1f} {p95:8.1f} {max(times):8.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(
        f"alerts: {info['alerts']:,} ({info['groups']:,} groups) on PostgreSQL, day partitions; worst p95 "
        f"(offset excluded) {worst:.0f} ms; ratio to the {TARGET_MS:.0f} ms target: {worst / TARGET_MS:.2f}"
    )
    if args.keep:
        print(f"database kept: {url}")
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
