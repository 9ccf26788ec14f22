"""Benchmark: API latency of asset pages at scale (issue 2 target: p95 < 100 ms at 1M assets).

Loads the demo operator (or reuses a database that already has assets), starts uvicorn with the
real app on a free port, creates a user and an API token, then runs concurrent clients (threads,
one httpx client each, a bounded number of requests) against three query kinds:
``GET /api/assets?zone_id=Z&limit=50``, ``?q=<hostname prefix>`` and ``?q=<IP prefix>``, each
with the default ``total``. Prints p50/p95/p99 per kind and the query plans (EXPLAIN).

    .venv/bin/python bench/api_latency.py --scale 20000                 # quick, SQLite
    .venv/bin/python bench/api_latency.py --db var/bench-1m.db          # reuse (loads if empty)
    .venv/bin/python bench/api_latency.py --backend postgresql --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_load import _free_port, fresh_pg_database, start_pg, stop_pg  # noqa: E402

TARGET_MS = 100.0


def ensure_loaded(url: str, scale: int, seed: int) -> int:
    """Migrate; load the demo in a child process when the map has no assets. Returns the count."""
    from sqlalchemy import func, select

    from ciimap.core.db import Database
    from ciimap.core.migrate import upgrade
    from ciimap.inventory.models import Asset

    upgrade(url)
    db = Database(url)
    with db.read_session() as s:
        n = s.scalar(select(func.count()).select_from(Asset)) or 0
    if n == 0:
        print(f"loading the demo operator ({scale:,} assets) ...", flush=True)
        code = (
            "import sys; from ciimap.core.db import Database, set_database; "
            "set_database(Database(sys.argv[1])); from ciimap.demo.service import load_demo; "
            "load_demo(scale=int(sys.argv[2]), seed=int(sys.argv[3]))"
        )
        subprocess.run([sys.executable, "-c", code, url, str(scale), str(seed)], check=True)
        with db.read_session() as s:
            n = s.scalar(select(func.count()).select_from(Asset)) or 0
    db.engine.dispose()
    return int(n)


def make_token(url: str) -> str:
    from ciimap.auth import service
    from ciimap.auth.models import User
    from ciimap.core.db import Database

    db = Database(url)
    name = f"bench{os.getpid()}"
    with db.unit_of_work() as s:
        user = s.query(User).filter_by(username=name).one_or_none() or service.create_user(
            s, username=name, password="bench-password-1", role="auditor"
        )
        _tok, secret = service.create_token(s, user, "api-latency")
    db.engine.dispose()
    return secret


def sample_queries(url: str, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Realistic parameters: every zone; station/role hostname prefixes; /24 address prefixes."""
    from sqlalchemy import select

    from ciimap.core.db import Database
    from ciimap.inventory.models import Asset, NetworkZone

    rnd = random.Random(seed)
    db = Database(url)
    with db.read_session() as s:
        zones = list(s.scalars(select(NetworkZone.id)))
        max_id = s.scalar(select(Asset.id).order_by(Asset.id.desc()).limit(1)) or 1
        picks = [rnd.randint(1, max_id) for _ in range(per_kind)]
        rows = s.execute(select(Asset.hostname, Asset.primary_ip).where(Asset.id.in_(picks))).all()
    db.engine.dispose()
    hosts, ips = [], []
    for host, ip in rows:
        parts = host.split("-")
        hosts.append(rnd.choice([parts[0] + "-", f"{parts[0]}-{parts[1]}-", host[:-2]]))
        ips.append(ip.rsplit(".", 1)[0] + "." if rnd.random() < 0.7 else ip[:-1])
    return {
        "zone": [f"zone_id={rnd.choice(zones)}" for _ in range(per_kind)],
        "hostname": [f"q={h}" for h in hosts],
        "ip": [f"q={i}" for i in ips],
    }


def explain(url: str, queries: dict[str, list[str]]) -> None:
    """Print the query plans of the statements a page runs (core.listing), for the first sample."""
    from sqlalchemy import text

    from ciimap.core import listing
    from ciimap.core.db import Database
    from ciimap.inventory.service import ASSETS

    db = Database(url)
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.read_session() as s:
        conn = s.connection()

        def show(label: str, stmt: object, params: dict[str, object]) -> None:
            sql = str(
                stmt.params(**params).compile(
                    dialect=db.engine.dialect,  # type: ignore[attr-defined]
                    compile_kwargs={"literal_binds": True},
                )
            )
            plan = [str(r[-1]) for r in s.execute(text(prefix + sql))]
            print(f"  plan {label}: " + " | ".join(p.strip() for p in plan[:8]))

        for kind, qs in queries.items():
            key, _, value = qs[0].partition("=")
            if key == "zone_id":
                plan = listing._filter_plan(ASSETS, ("zone_id",))
                params = {"f_zone_id": int(value), "limit": 50, "offset": 0, "cap": listing.COUNT_CAP + 1}
                show(f"{kind}/page ({qs[0]})", plan["ids"], params)
                show(f"{kind}/total ({qs[0]})", plan["capped"], params)
                continue
            splan, params = listing.search_params(ASSETS, value)
            counts = conn.execute(splan.counts, {**params, "cap": listing.COUNT_CAP + 1}).one()
            show(f"{kind}/counts ({qs[0]})", splan.counts, {**params, "cap": listing.COUNT_CAP + 1})
            for b in splan.branches:
                if counts[b.n]:
                    dense = counts[b.n] > listing.DENSE
                    show(
                        f"{kind}/branch {b.col.key} ({counts[b.n]} matches{', dense' if dense else ''})",
                        splan.first[(b.n, dense, False)],
                        {**params, "n": 50},
                    )
    db.engine.dispose()


def start_server(url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "CIIMAP_DATABASE_URL": url}
    # exactly what users run: ciimap serve (migrate, then uvicorn with N processes)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ciimap", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(base: str, headers: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{base}/api/assets?limit=1", headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready in 120 s")


def run_clients(base: str, headers: dict[str, str], params: list[str], clients: int) -> list[float]:
    """Each thread takes the next request from a shared list until it is empty."""
    lock = threading.Lock()
    todo = list(params)
    times: list[float] = []
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            while True:
                with lock:
                    if not todo:
                        return
                    p = todo.pop()
                t = time.perf_counter()
                r = c.get(f"/api/assets?{p}&limit=50")
                el = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    errors.append(f"{p}: {r.status_code} {r.text[:100]}")
                with lock:
                    times.append(el)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return times


def pct(values: list[float], p: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]
    )


def bench(url: str, args: argparse.Namespace) -> None:
    n = ensure_loaded(url, args.scale, args.seed)
    secret = make_token(url)
    headers = {"Authorization": f"Bearer {secret}"}
    queries = sample_queries(url, args.requests, args.seed)
    explain(url, queries)
    proc, base = start_server(url, args.workers)
    try:
        wait_ready(base, headers, proc)
        # warm-up: every distinct zone from several concurrent clients, so that each server process
        # has counted it once (a total above listing.COUNT_CAP is then cached for COUNT_TTL seconds
        # per process, as in steady use), and ten of the other kinds
        warm = sorted(set(queries["zone"])) * 4 + queries["hostname"][:10] + queries["ip"][:10]
        run_clients(base, headers, warm, 4)
        for clients in [int(c) for c in str(args.clients).split(",")]:
            print(
                f"{n:,} assets, {clients} concurrent clients, {args.workers or 'default'} server process(es), "
                f"{args.requests} requests per kind"
            )
            for kind, params in queries.items():
                t = run_clients(base, headers, params, clients)
                p50, p95, p99 = pct(t, 50), pct(t, 95), pct(t, 99)
                print(
                    f"  {kind:<9} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  max {max(t):7.1f} ms  "
                    f"p95/target {p95 / TARGET_MS:.2f}  {'OK' if p95 < TARGET_MS else 'MISSED'}",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--db", default=None, help="SQLite file to reuse (loaded when empty)")
    p.add_argument(
        "--pg-url",
        default=None,
        help="PostgreSQL server URL (default: start a throw-away one); "
        "a database with assets given here is reused",
    )
    p.add_argument("--clients", default="8", help="concurrent clients; a list (1,4,8,16) runs each in turn")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="server processes (ciimap serve --workers; 0 = its default, one per core up to 2)",
    )
    p.add_argument("--requests", type=int, default=300, help="requests per query kind")
    args = p.parse_args()
    print(f"API latency benchmark ({args.backend}); target p95 < {TARGET_MS:.0f} ms")
    if args.backend == "sqlite":
        if args.db:
            bench(args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}", args)
        else:
            with tempfile.TemporaryDirectory(prefix="ciimap-bench-") as tmp:
                bench(f"sqlite:///{tmp}/demo.db", args)
        return
    pg_dir = None
    server = args.pg_url
    if server is None:
        server, pg_dir = start_pg()
    try:
        url = server if args.pg_url and not server.endswith("/postgres") else fresh_pg_database(server)[0]
        bench(url, args)
    finally:
        if pg_dir is not None:
            stop_pg(pg_dir)


if __name__ == "__main__":
    main()
