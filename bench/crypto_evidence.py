"""Benchmark: crypto evidence (inventory per system and layer, and the flags) for every system of the demo,
with TLS/SSH script output on many endpoints.

    .venv/bin/python bench/crypto_evidence.py --scale 100000 --endpoints 10000          # SQLite, temp dir
    .venv/bin/python bench/crypto_evidence.py --scale 1000000 --endpoints 100000 --db DIR
    .venv/bin/python bench/crypto_evidence.py --scale 20000 --endpoints 2000 --pg URL   # an empty database

Loads ``ciimap demo --scale N --seed 1`` in a child process, then writes ``scan_detail`` rows with kept
port scripts onto ENDPOINTS demo assets (Core bulk insert, a fixture). The script output is the real
nmap 7.93 output of ``tests/data/crypto/nmap-crypto-loopback.xml`` (PEM certificate, cipher suites, SSH
algorithms) plus realistic variants (the shared nmap samples carry no ssl scripts): per-host subjects,
expiry dates, key sizes and SHA-1 signatures in nmap's text form, old-TLS and GB/T 38636 SM suites.
Times: the rebuild of the derived inventory (cold, after an import), the evidence for every system
(inventory of all systems + flags) right after, and a warm call (cache key unchanged).
Target (issue 13): crypto evidence for every system on the 1M-asset demo with 100,000 endpoints < 10 s.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "crypto" / "nmap-crypto-loopback.xml"
TARGET_S = 10.0

OLD_TLS = """
  TLSv1.0:
    ciphers:
      TLS_RSA_WITH_3DES_EDE_CBC_SHA (rsa 2048) - C
      TLS_RSA_WITH_RC4_128_SHA (rsa 2048) - C
    compressors:
      NULL
    cipher preference: server
  TLSv1.2:
    ciphers:
      TLS_RSA_WITH_AES_128_GCM_SHA256 (rsa 2048) - A
    compressors:
      NULL
    cipher preference: server
|_  least strength: C"""
GM_TLS = """
  TLSv1.2:
    ciphers:
      ECC_SM4_CBC_SM3 (sm2) - A
      ECDHE_SM4_GCM_SM3 (sm2) - A
      TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (secp256r1) - A
    compressors:
      NULL
    cipher preference: server
|_  least strength: A"""


def cert_text(host: int, rng: random.Random) -> str:
    bits = rng.choice((1024, 2048, 2048, 2048, 4096))
    sig = rng.choice(("sha256WithRSAEncryption",) * 6 + ("sha1WithRSAEncryption",))
    year = rng.choice((2025, 2026, 2027, 2027, 2028, 2030))
    return (
        f"Subject: commonName=host-{host}.example.cn/organizationName=示例运营者\n"
        f"Issuer: commonName=示例 CA\nPublic Key type: rsa\nPublic Key bits: {bits}\n"
        f"Signature Algorithm: {sig}\nNot valid before: 2024-01-01T00:00:00\n"
        f"Not valid after:  {year}-{rng.randint(1, 12):02d}-15T00:00:00\nMD5:   00\nSHA-1: 00"
    )


def samples() -> dict[str, tuple[str, str | None]]:
    """script id → (output, pem) of the real nmap run."""
    out: dict[str, tuple[str, str | None]] = {}
    for script in ET.parse(SAMPLE).getroot().iter("script"):
        pem = next((e.text for e in script.iter("elem") if e.get("key") == "pem"), None)
        out[str(script.get("id"))] = (script.get("output", ""), pem)
    return out


def port_scripts(host: int, rng: random.Random, real: dict[str, tuple[str, str | None]]) -> list[list[Any]]:
    cert_out, pem = real["ssl-cert"]
    if rng.random() < 0.3:  # the real certificate (PEM read by `cryptography`)
        cert = ["tcp", 443, "ssl-cert", cert_out, pem]
    elif rng.random() < 0.002:  # a truncated PEM and garbled text: kept as raw text with a warning
        cert = ["tcp", 443, "ssl-cert", "Subject: ???", "-----BEGIN CERTIFICATE-----\nAAAA\n"]
    else:
        cert = ["tcp", 443, "ssl-cert", cert_text(host, rng), None]
    tls = rng.choices((real["ssl-enum-ciphers"][0], OLD_TLS, GM_TLS), weights=(6, 2, 2))[0]
    rows = [cert, ["tcp", 443, "ssl-enum-ciphers", tls, None]]
    if rng.random() < 0.2:
        rows.append(["tcp", 22, "ssh2-enum-algos", real["ssh2-enum-algos"][0], None])
    return rows


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


def add_endpoints(url: str, endpoints: int) -> None:
    from ciimap.core.db import INSERT_BATCH, Database
    from ciimap.ingest.models import ScanDetail
    from ciimap.inventory.models import Asset

    db = Database(url)
    with db.unit_of_work() as s:
        if s.scalar(select(ScanDetail.id).where(ScanDetail.source == "bench-crypto").limit(1)):
            print("endpoints present")
            return
        ids = list(s.scalars(select(Asset.id).where(Asset.system_id.is_not(None)).order_by(Asset.id)))
        rng = random.Random(1)
        chosen = sorted(rng.sample(ids, min(endpoints, len(ids))))
        real = samples()
        rows = [
            {
                "asset_id": a,
                "source": "bench-crypto",
                "run_id": 1,
                "data": {"port_scripts": port_scripts(a, rng, real)},
            }
            for a in chosen
        ]
        for i in range(0, len(rows), INSERT_BATCH):
            s.execute(insert(ScanDetail), rows[i : i + INSERT_BATCH])
    db.engine.dispose()
    print(f"script output on {len(chosen):,} endpoints")


def measure(url: str) -> dict[str, float]:
    from ciimap.core.db import Database
    from ciimap.crypto import service

    db = Database(url)
    out: dict[str, float] = {}
    with db.unit_of_work() as s:
        t = time.perf_counter()
        r = service.refresh(s, force=True)
        out["rebuild_s"] = time.perf_counter() - t
        print(f"rebuild: {r.get('items', 0):,} items in {out['rebuild_s']:.2f} s")
    for label in ("evidence_after_import_s", "evidence_warm_s"):
        with db.unit_of_work() as s:
            t = time.perf_counter()
            inv = service.inventory(s, detail=False)
            flags = service.flags(s)
            out[label] = time.perf_counter() - t
        print(f"{label}: {len(inv['systems']):,} systems, {len(flags):,} flags in {out[label]:.2f} s")
    out["cold_total_s"] = out["rebuild_s"] + out["evidence_after_import_s"]
    reimport(db, 0.01)
    with db.unit_of_work() as s:
        t = time.perf_counter()
        r = service.refresh(s)
        inv = service.inventory(s, detail=False)
        flags = service.flags(s)
        out["after_reimport_s"] = time.perf_counter() - t
    print(
        f"after a re-import of 1 % of the endpoints: {r.get('parsed', 0):,} items parsed again "
        f"(full={r.get('full')}), evidence in {out['after_reimport_s']:.2f} s"
    )
    db.engine.dispose()
    return out


def reimport(db: Any, share: float) -> None:
    """A later import run rewrites the script output of ``share`` of the endpoints (new run id)."""
    from sqlalchemy import func, update

    from ciimap.ingest.models import ScanDetail

    with db.unit_of_work() as s:
        run = (s.scalar(select(func.max(ScanDetail.run_id))) or 0) + 1
        ids = list(
            s.scalars(
                select(ScanDetail.id).where(ScanDetail.source == "bench-crypto").order_by(ScanDetail.id)
            )
        )
        rng = random.Random(run)
        real = samples()
        for sd_id in rng.sample(ids, max(1, int(len(ids) * share))):
            data = {"port_scripts": port_scripts(sd_id, rng, real)}
            s.execute(update(ScanDetail).where(ScanDetail.id == sd_id).values(run_id=run, data=data))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=100_000)
    ap.add_argument("--endpoints", type=int, default=10_000)
    ap.add_argument("--db", type=Path, help="directory of the SQLite file (kept and reused)")
    ap.add_argument("--pg", help="PostgreSQL URL (an empty database)")
    args = ap.parse_args()
    tmp = None
    if args.pg:
        url = args.pg
    else:
        base = args.db or Path(tmp := tempfile.mkdtemp(prefix="crypto-bench-"))
        base.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{base / f'demo-{args.scale}.db'}"
    ensure_demo(url, args.scale)
    add_endpoints(url, args.endpoints)
    m = measure(url)
    print(
        f"cold (full rebuild + evidence) {m['cold_total_s']:.2f} s, after a 1 % re-import "
        f"{m['after_reimport_s']:.2f} s, warm {m['evidence_warm_s']:.2f} s; target {TARGET_S:.0f} s: ratio cold "
        f"{m['cold_total_s'] / TARGET_S:.2f}, re-import {m['after_reimport_s'] / TARGET_S:.2f}, "
        f"warm {m['evidence_warm_s'] / TARGET_S:.2f}"
    )
    if tmp:
        print(f"(database left in {tmp})")


if __name__ == "__main__":
    main()
