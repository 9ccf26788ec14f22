"""Benchmark: load the demo operator at scale on SQLite and on PostgreSQL.

Each load runs in its own child process (fresh interpreter, migrations applied first, not timed);
the child reports wall time of the load and its own peak RSS. Targets (issue 2): 1,000,000 assets
in under 5 minutes with peak memory under 2 GB on a 2-core machine, on both databases.

    .venv/bin/python bench/demo_load.py                    # 1,000,000 assets, both backends
    .venv/bin/python bench/demo_load.py --scale 20000      # quick run
    .venv/bin/python bench/demo_load.py --pg-url postgresql+psycopg://ciimap@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 300.0
TARGET_RSS_MB = 2048.0


def child(url: str, scale: int, seed: int) -> None:
    """Runs in the child: migrate, then time ``load_demo`` and report JSON on the last line."""
    from ciimap.core.db import Database, set_database
    from ciimap.core.migrate import upgrade
    from ciimap.demo.service import load_demo

    upgrade(url)
    set_database(Database(url))
    started = time.perf_counter()
    result = load_demo(scale=scale, seed=seed)
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(result["counts"].values())
    print(
        json.dumps(
            {
                "wall": wall,
                "rows": rows,
                "rss_mb": rss_mb,
                "counts": result["counts"],
                "cpu": time.process_time(),
            }
        )
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_pg() -> tuple[str, Path]:
    d = Path(tempfile.gettempdir()) / f"ciimap-bench-pg-{os.getpid()}"
    out = subprocess.run(
        [str(ROOT / "scripts" / "pg.sh"), "start", str(d), str(_free_port())],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1], d


def stop_pg(d: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop", str(d)], check=False)
    shutil.rmtree(d, ignore_errors=True)


def fresh_pg_database(server_url: str) -> tuple[str, str]:
    from sqlalchemy import text

    from ciimap.core.db import Database

    name = f"ciimap_bench_{os.getpid()}_{int(time.time())}"
    admin = Database(server_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name, name


def drop_pg_database(server_url: str, name: str) -> None:
    from sqlalchemy import text

    from ciimap.core.db import Database

    admin = Database(server_url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.engine.dispose()


def run_child(url: str, scale: int, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--child", url, "--scale", str(scale), "--seed", str(seed)]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load failed on {url}:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["process_wall"] = time.perf_counter() - started
    return data


def report(backend: str, scale: int, d: dict) -> None:
    print(
        f"{backend:<11} {scale:>10,} assets  {d['rows']:>11,} rows  load {d['wall']:7.1f} s "
        f"(cpu {d['cpu']:6.1f} s, process {d['process_wall']:6.1f} s)  {d['rows'] / d['wall']:>9,.0f} rows/s  "
        f"peak RSS {d['rss_mb']:7.1f} MB   time/target {d['wall'] / TARGET_SECONDS:.2f}  "
        f"rss/target {d['rss_mb'] / TARGET_RSS_MB:.2f}  "
        f"{'OK' if d['wall'] < TARGET_SECONDS and d['rss_mb'] < TARGET_RSS_MB else 'MISSED'}",
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--pg-url", default=None, help="PostgreSQL server URL (default: start a throw-away one)")
    p.add_argument(
        "--sqlite-path",
        default=None,
        help="load into this (new) SQLite file and keep it (e.g. for bench/api_latency.py --db)",
    )
    p.add_argument("--keep-pg", action="store_true", help="keep the PostgreSQL database (needs --pg-url)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.scale, args.seed)
        return
    print(
        f"demo load benchmark: {args.scale:,} assets, seed {args.seed}, {os.cpu_count()} CPUs; "
        f"targets: < {TARGET_SECONDS:.0f} s, < {TARGET_RSS_MB:.0f} MB peak RSS (the loader process)"
    )
    backends = args.backends.split(",")
    if "sqlite" in backends and args.sqlite_path:
        path = Path(args.sqlite_path).resolve()
        if path.exists():
            raise SystemExit(f"{path} exists; give a new file")
        report("sqlite", args.scale, run_child(f"sqlite:///{path}", args.scale, args.seed))
        print(f"kept: {path}")
    elif "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="ciimap-bench-") as tmp:
            report("sqlite", args.scale, run_child(f"sqlite:///{tmp}/demo.db", args.scale, args.seed))
    if "postgresql" in backends:
        pg_dir = None
        server = args.pg_url
        if server is None:
            server, pg_dir = start_pg()
        try:
            url, name = fresh_pg_database(server)
            keep = args.keep_pg and args.pg_url is not None
            try:
                report("postgresql", args.scale, run_child(url, args.scale, args.seed))
            finally:
                if keep:
                    print(f"kept: {url}")
                else:
                    drop_pg_database(server, name)
        finally:
            if pg_dir is not None:
                stop_pg(pg_dir)


if __name__ == "__main__":
    main()
