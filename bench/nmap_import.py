"""Benchmark: import a generated nmap XML of N hosts × ~10 ports (default 65,536 hosts).

Measures, each in its own subprocess (so peak RSS is per phase):
  1. ciimap full import (parse + correlate + store, one transaction) — time, hosts/s, peak RSS
     (importer plus the parser process it starts for large files; CPU time of both);
  2. python-libnmap ``NmapParser.parse_fromfile`` on the same file — time, peak RSS (the baseline);
  3. re-import of the same file into the same database (no changes) — time;
  4. the import as a user runs it: ``ciimap import nmap FILE --json`` as a fresh process into a fresh
     (migrated) database — wall time, start-up included, against libnmap's parse time of step 2.
Prints the figures and the ratios the issue asks for. SQLite temp DB by default; ``--pg-url`` to use
PostgreSQL (a fresh database is created on that server and dropped afterwards).

    .venv/bin/python bench/nmap_import.py --hosts 2000      # quick
    .venv/bin/python bench/nmap_import.py                   # full size
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

SERVICES = [
    (
        22,
        "ssh",
        "OpenSSH",
        "8.9p1 Ubuntu 3ubuntu0.6",
        "Ubuntu Linux; protocol 2.0",
        "cpe:/a:openbsd:openssh:8.9p1",
    ),
    (80, "http", "nginx", "1.22.1", None, "cpe:/a:igor_sysoev:nginx:1.22.1"),
    (443, "http", "Apache httpd", "2.4.57", "(Debian)", "cpe:/a:apache:http_server:2.4.57"),
    (3306, "mysql", "MySQL", "8.0.35", None, "cpe:/a:mysql:mysql:8.0.35"),
    (5432, "postgresql", "PostgreSQL DB", "14.10", None, "cpe:/a:postgresql:postgresql:14"),
    (6379, "redis", "Redis key-value store", "7.0.15", None, "cpe:/a:redislabs:redis:7.0.15"),
    (8080, "http", "Apache Tomcat", "9.0.83", None, "cpe:/a:apache:tomcat:9.0.83"),
    (3389, "ms-wbt-server", "Microsoft Terminal Services", None, None, "cpe:/o:microsoft:windows"),
    (445, "microsoft-ds", None, None, None, None),
    (161, "snmp", None, None, None, None),
    (502, "modbus", None, None, None, None),
    (8443, "https-alt", None, None, None, None),
]


def _port(
    rng: random.Random,
    port: int,
    name: str,
    product: str | None,
    version: str | None,
    extra: str | None,
    cpe: str | None,
) -> str:
    state = "open" if rng.random() < 0.85 else rng.choice(("filtered", "closed", "open|filtered"))
    if product:
        attrs = (
            f'name="{name}" product="{product}"'
            + (f' version="{version}"' if version else "")
            + (f' extrainfo="{extra}"' if extra else "")
            + ' method="probed" conf="10"'
        )
        svc = f"<service {attrs}>" + (f"<cpe>{cpe}</cpe>" if cpe else "") + "</service>"
    else:
        svc = f'<service name="{name}" method="table" conf="3"/>'
    script = '<script id="ssh-hostkey" output="2048 aa:bb:cc (RSA)"/>' if port == 22 else ""
    return (
        f'<port protocol="tcp" portid="{port}"><state state="{state}" reason="syn-ack" reason_ttl="64"/>'
        f"{svc}{script}</port>\n"
    )


def generate(path: Path, hosts: int, ports: int = 10, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
            '<nmaprun scanner="nmap" args="nmap -sV -O -oX bench.xml 10.0.0.0/8" start="1795236238" '
            'version="7.93" xmloutputversion="1.05">\n'
            '<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"/>\n'
        )
        for i in range(hosts):
            ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            mac = f"52:54:00:{(i >> 16) & 255:02X}:{(i >> 8) & 255:02X}:{i & 255:02X}"
            hostname = f'<hostname name="host{i}.corp.example" type="PTR"/>' if i % 3 else ""
            chosen = rng.sample(SERVICES, ports)
            out.write(
                f'<host starttime="1795236238" endtime="1795236257"><status state="up" reason="arp-response" '
                f'reason_ttl="0"/>\n<address addr="{ip}" addrtype="ipv4"/>\n'
                f'<address addr="{mac}" addrtype="mac" vendor="QEMU virtual NIC"/>\n'
                f"<hostnames>{hostname}</hostnames>\n<ports>"
                '<extraports state="closed" count="990"><extrareasons reason="reset" count="990"/></extraports>\n'
            )
            out.write("".join(_port(rng, *s) for s in chosen))
            out.write(
                '</ports>\n<os><osmatch name="Linux 5.0 - 5.14" accuracy="96" line="1">'
                '<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="96">'
                "<cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass></osmatch></os>\n</host>\n"
            )
        out.write(
            f'<runstats><finished time="1795239999" summary="{hosts} hosts up"/>'
            f'<hosts up="{hosts}" down="0" total="{hosts}"/></runstats>\n</nmaprun>\n'
        )


CHILD_IMPORT = r"""
import json, resource, sys, time
from pathlib import Path
from ciimap.core.db import Database, set_database, get_database
from ciimap.registry import load_all
load_all()
url, path = sys.argv[1], Path(sys.argv[2])
set_database(Database(url))
from ciimap.ingest import service
from sqlalchemy.orm import configure_mappers
configure_mappers()  # one-time process start-up cost, not import work
get_database().engine.connect().close()  # warm the connection pool likewise
t, c = time.perf_counter(), time.process_time()
with get_database().unit_of_work() as s:
    r = service.import_files(s, kind="nmap", paths=[path])
dt, cpu = time.perf_counter() - t, time.process_time() - c
kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parser process of a large file
print(json.dumps({"seconds": dt, "cpu": cpu + kids.ru_utime + kids.ru_stime,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + kids.ru_maxrss / 1024,
                  "main_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "parser_rss_mb": kids.ru_maxrss / 1024, "created": r["assets_created"], "unchanged": r["assets_unchanged"], "updated": r["assets_updated"],
                  "endpoints": r["stats"].get("endpoints_written", 0), "changes": r["changes"]}))
"""

CHILD_LIBNMAP = r"""
import json, resource, sys, time
from libnmap.parser import NmapParser
t, c = time.perf_counter(), time.process_time()
rep = NmapParser.parse_fromfile(sys.argv[1])
dt, cpu = time.perf_counter() - t, time.process_time() - c
ports = sum(len(h.services) for h in rep.hosts)
print(json.dumps({"seconds": dt, "cpu": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "hosts": len(rep.hosts), "ports": ports}))
"""


def command(url: str, xml: Path) -> dict[str, float]:
    """``ciimap import nmap FILE --json`` as a user runs it: wall time of the whole process."""
    import os

    env = {**os.environ, "CIIMAP_DATABASE_URL": url}
    t = time.perf_counter()
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ciimap"), "import", "nmap", str(xml), "--json"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "created": json.loads(out.stdout)["assets_created"]}


def child(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pg_db(server: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"ciimap_bench_{int(time.time())}_{random.randrange(1 << 24):06x}"
    eng = create_engine(server, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return server.rsplit("/", 1)[0] + "/" + name, name


def _drop_pg(server: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(server, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=65536)
    ap.add_argument("--ports", type=int, default=10)
    ap.add_argument("--pg-url", help="PostgreSQL server URL (default: a temporary SQLite file)")
    ap.add_argument(
        "--workdir", type=Path, help="where to write the XML and the SQLite file (default: a temp dir)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        xml = Path(tmp) / f"bench-{args.hosts}.xml"
        t = time.perf_counter()
        generate(xml, args.hosts, args.ports)
        size_mb = xml.stat().st_size / 1e6
        print(
            f"generated {xml.name}: {args.hosts} hosts × {args.ports} ports, {size_mb:.1f} MB "
            f"in {time.perf_counter() - t:.1f}s"
        )
        pg_name = None
        if args.pg_url:
            url, pg_name = _pg_db(args.pg_url)
        else:
            url = f"sqlite:///{tmp}/bench.db"
        from ciimap.core.migrate import upgrade
        from ciimap.registry import load_all

        load_all()
        upgrade(url)
        pg_cmd = None
        if args.pg_url:
            cmd_url, pg_cmd = _pg_db(args.pg_url)
        else:
            cmd_url = f"sqlite:///{tmp}/command.db"
        upgrade(cmd_url)
        try:
            first = child(CHILD_IMPORT, url, str(xml))
            lib = child(CHILD_LIBNMAP, str(xml))
            again = child(CHILD_IMPORT, url, str(xml))
            cmd = command(cmd_url, xml)
        finally:
            if args.pg_url:
                for name in (pg_name, pg_cmd):
                    if name:
                        _drop_pg(args.pg_url, name)
    backend = "postgresql" if args.pg_url else "sqlite"
    print(
        f"\nciimap full import ({backend}): {first['seconds']:.2f}s (CPU {first['cpu']:.2f}s), {args.hosts / first['seconds']:,.0f} hosts/s, "
        f"{size_mb / first['seconds']:.1f} MB/s, peak RSS {first['rss_mb']:.0f} MB = importer "
        f"{first['main_rss_mb']:.0f} + parser process {first['parser_rss_mb']:.0f} "
        f"({first['created']} assets, {first['endpoints']} endpoints)"
    )
    print(
        f"python-libnmap parse only:    {lib['seconds']:.2f}s (CPU {lib['cpu']:.2f}s), {args.hosts / lib['seconds']:,.0f} hosts/s, "
        f"peak RSS {lib['rss_mb']:.0f} MB ({lib['hosts']} hosts, {lib['ports']} ports)"
    )
    print(
        f"ciimap re-import (no change): {again['seconds']:.2f}s (CPU {again['cpu']:.2f}s), peak RSS {again['rss_mb']:.0f} MB "
        f"({again['unchanged']} unchanged, {again['updated']} updated, {again['changes']} changes)"
    )
    print(
        f"\nratio libnmap parse time / ciimap full import time: {lib['seconds'] / first['seconds']:.2f}× "
        f"(target ≥ 1.0); in CPU time {lib['cpu'] / first['cpu']:.2f}× (both processes of ours; steadier on a shared machine)"
    )
    print(
        f"ratio libnmap parse time / `ciimap import nmap` as a command ({cmd['seconds']:.2f}s wall, start-up "
        f"included, {cmd['created']} assets): {lib['seconds'] / cmd['seconds']:.2f}× (target ≥ 1.0)"
    )
    print(
        f"ratio ciimap peak RSS: {first['rss_mb']:.0f} MB (target < 500 MB); libnmap/ciimap RSS "
        f"{lib['rss_mb'] / first['rss_mb']:.2f}×"
    )
    print(
        f"ratio first import / re-import: {first['seconds'] / again['seconds']:.2f}× (target ≥ 2.0); "
        f"in CPU time {first['cpu'] / again['cpu']:.2f}×"
    )


if __name__ == "__main__":
    main()
