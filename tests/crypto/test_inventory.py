"""Crypto inventory from an imported nmap scan and an SBOM component; flags; manual entries; API; CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from ciimap.crypto import service
from ciimap.crypto.models import CryptoFlag, CryptoItem
from ciimap.ingest import service as ingest
from ciimap.ingest.models import ScanDetail
from ciimap.inventory.models import Asset, Software, System

DATA = Path(__file__).resolve().parents[1] / "data" / "crypto"


def _map(database) -> int:
    with database.unit_of_work() as s:
        ingest.import_files(s, kind="nmap", paths=[DATA / "nmap-crypto-loopback.xml"])
        sysm = System(name="SCADA", mlps_level=3)
        s.add(sysm)
        s.flush()
        for a in s.scalars(select(Asset)):
            a.system_id = sysm.id
        s.add(Software(system_id=sysm.id, name="openssl", version="1.1.1k", kind="library"))
        return sysm.id


def test_inventory_from_scan_and_sbom(database):
    sid = _map(database)
    with database.unit_of_work() as s:
        inv = service.inventory(s, system_id=sid)
    (system,) = inv["systems"]
    assert system["system"] == "SCADA" and system["gm"] is False
    net, dev, app = system["layers"]["network"], system["layers"]["device"], system["layers"]["application"]
    kinds = sorted(i["kind"] for i in net["items"])
    assert kinds == ["certificate", "tls"]
    cert = next(i for i in net["items"] if i["kind"] == "certificate")
    assert cert["facts"]["key_bits"] == 2048 and cert["port"] == 18443
    assert {"RSA", "AES", "ECDH"} <= set(net["algorithms"])
    assert {"3DES", "RC4", "SHA-1"} <= set(dev["algorithms"])  # from ssh2-enum-algos
    assert app["items"][0]["facts"]["library"] == "openssl"


def test_refresh_uses_the_cache_key(database):
    _map(database)
    with database.unit_of_work() as s:
        assert service.refresh(s)["refreshed"] is True
        assert service.refresh(s)["refreshed"] is False  # nothing imported since
        n = len(s.scalars(select(CryptoItem)).all())
        s.add(Software(name="tongsuo", version="8.4", kind="library"))
        s.flush()
        again = service.refresh(s)
        assert again["refreshed"] is True and again["items"] == n + 1


def test_flags_weak_settings_expiry_and_no_gm(database):
    sid = _map(database)
    with database.unit_of_work() as s:
        soon = service.flags(s, today=dt.date(2026, 12, 5))
        codes = {f["code"] for f in soon}
        assert {"weak_cipher", "expiring", "no_gm"} <= codes
        assert "expired" not in codes
        assert {"3DES", "RC4"} <= {f["message"].split()[-1] for f in soon if f["code"] == "weak_cipher"}
        assert not [
            f
            for f in service.flags(s, today=dt.date(2026, 12, 5), expiring_days=3)
            if f["code"] == "expiring"
        ]
        late = service.flags(s, today=dt.date(2027, 1, 1))
        assert [f for f in late if f["code"] == "expired"]
        # a certified GM product on the system clears the no-GM flag
        service.add_manual(
            s,
            kind="product",
            layer="network",
            name="SSL VPN 网关",
            system_id=sid,
            algorithm="SM2/SM3/SM4",
            certificate_no="GM003312220220001",
        )
        after = service.flags(s, today=dt.date(2026, 12, 5))
        assert "no_gm" not in {f["code"] for f in after}
        # a manual RSA-1024 certificate is flagged
        service.add_manual(
            s,
            kind="certificate",
            layer="application",
            name="legacy",
            system_id=sid,
            algorithm="RSA",
            key_bits=1024,
        )
        assert "weak_key" in {f["code"] for f in service.flags(s, today=dt.date(2026, 12, 5))}


def test_unreadable_certificate_is_kept_with_a_warning():
    if True:
        rows = service._items_from_scripts(
            1,
            None,
            {
                "port_scripts": [
                    [
                        "tcp",
                        443,
                        "ssl-cert",
                        "garbage",
                        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                    ]
                ]
            },
        )
    (row,) = rows
    assert row["warning"] and "kept as raw text" in row["warning"]
    assert "AAAA" in row["facts"]["raw"]


def test_api_roles_and_4xx(database, client, analyst_headers, auditor_headers):
    sid = _map(database)
    r = client.get("/api/crypto/inventory", headers=auditor_headers)
    assert r.status_code == 200 and r.json()["systems"]
    assert client.get("/api/crypto/flags", headers=auditor_headers).status_code == 200
    assert client.get("/api/crypto/flags").status_code == 401
    body = {"kind": "product", "layer": "network", "name": "VPN", "system_id": sid, "certificate_no": "GM1"}
    assert client.post("/api/crypto/manual", json=body, headers=auditor_headers).status_code == 403
    assert client.post("/api/crypto/manual", json=body, headers=analyst_headers).status_code == 201
    assert (
        client.post("/api/crypto/manual", json={**body, "layer": "moon"}, headers=analyst_headers).status_code
        == 422
    )
    r = client.post("/api/crypto/manual", json={**body, "certificate_no": None}, headers=analyst_headers)
    assert r.status_code == 422 and "certificate number" in r.json()["error"]
    assert (
        client.post(
            "/api/crypto/manual", json={**body, "system_id": 999999}, headers=analyst_headers
        ).status_code
        == 404
    )
    assert client.get("/api/crypto/inventory?system_id=999999", headers=auditor_headers).status_code == 404


# ssl-enum-ciphers as nmap 7.93 prints it for an old server (shape of the recorded loopback run)
OLD_TLS = """
  SSLv3:
    ciphers:
      TLS_RSA_WITH_RC4_128_SHA (rsa 1024) - C
    compressors:
      NULL
    cipher preference: server
  TLSv1.0:
    ciphers:
      TLS_RSA_WITH_3DES_EDE_CBC_SHA (rsa 1024) - C
      TLS_RSA_EXPORT_WITH_RC4_40_MD5 (rsa 512) - F
      TLS_RSA_WITH_NULL_SHA (rsa 1024) - F
    compressors:
      NULL
    cipher preference: server
  TLSv1.2:
    ciphers:
      TLS_RSA_WITH_AES_128_GCM_SHA256 (rsa 1024) - A
    compressors:
      NULL
    cipher preference: server
|_  least strength: F"""
SHA1_CERT = """Subject: commonName=old.example.cn
Issuer: commonName=old.example.cn
Public Key type: rsa
Public Key bits: 1024
Signature Algorithm: sha1WithRSAEncryption
Not valid before: 2015-01-01T00:00:00
Not valid after:  2035-01-01T00:00:00
MD5:   00
SHA-1: 00"""


def test_weak_protocols_suites_keys_and_signatures_are_flagged(database):
    with database.unit_of_work() as s:
        sysm = System(name="老系统", mlps_level=2)
        s.add(sysm)
        s.flush()
        a = Asset(name="old", kind="server", system_id=sysm.id)
        s.add(a)
        s.flush()
        scripts = [["tcp", 443, "ssl-enum-ciphers", OLD_TLS, None], ["tcp", 443, "ssl-cert", SHA1_CERT, None]]
        s.add(ScanDetail(asset_id=a.id, source="nmap", run_id=1, data={"port_scripts": scripts}))
        s.flush()
        got = service.flags(s, today=dt.date(2026, 12, 5))
    msgs = {(f["code"], f["message"]) for f in got}
    assert {("weak_protocol", "SSLv3 offered"), ("weak_protocol", "TLSv1.0 offered")} <= msgs
    assert ("weak_protocol", "TLSv1.2 offered") not in msgs
    weak_algs = {m.split()[-2] for c, m in msgs if c == "weak_cipher"}
    assert {"RC4", "3DES", "NULL", "EXPORT", "MD5"} <= weak_algs
    assert ("weak_key", "RSA key of 1024 bits (< 2048)") in msgs
    assert ("weak_signature", "certificate signed with SHA-1") in msgs
    assert "no_gm" not in {c for c, _ in msgs}  # level 2: GM not required by the rule


def test_every_system_summary_matches_the_detail_and_malformed_certificates_are_kept(database):
    """The set-based summary of every system agrees with the per-system detail; a certificate nmap printed
    but nothing reads is kept as raw text, listed as a warning and flagged ``unreadable`` (never dropped)."""
    sid = _map(database)
    bad_pem = "-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n"
    with database.unit_of_work() as s:
        aid = s.scalars(select(Asset.id)).first()
        s.add(
            ScanDetail(
                asset_id=aid,
                source="bench",
                run_id=99,
                data={"port_scripts": [["tcp", 8443, "ssl-cert", "Subject: ???", bad_pem]]},
            )
        )
    with database.unit_of_work() as s:
        detail = service.inventory(s, system_id=sid)["systems"][0]
        every = service.inventory(s, detail=False)
        flags = service.flags(s, today=dt.date(2026, 12, 5))
        raw = s.scalars(select(CryptoItem).where(CryptoItem.port == 8443)).one()
    (summary,) = [x for x in every["systems"] if x["system_id"] == sid]
    for layer, d in detail["layers"].items():
        assert summary["layers"][layer]["algorithms"] == d["algorithms"]
        assert summary["layers"][layer]["gm"] == d["gm"]
        assert sum(summary["layers"][layer]["counts"].values()) == len(d["items"])
    assert raw.warning and "MIIBroken" in raw.facts["raw"]
    assert any(w["item_id"] == raw.id for w in every["warnings"])
    assert any(f["code"] == "unreadable" and f["item_id"] == raw.id for f in flags)


def _snapshot(s) -> list[tuple]:
    rows = s.execute(
        select(CryptoItem.asset_id, CryptoItem.system_id, CryptoItem.kind, CryptoItem.port, CryptoItem.name)
    ).all()
    flags = s.execute(select(CryptoFlag.system_id, CryptoFlag.code, CryptoFlag.port)).all()
    return sorted(map(tuple, rows), key=repr) + sorted(map(tuple, flags), key=repr)


def test_incremental_refresh_equals_a_full_rebuild(database):
    """A later import run re-parses only its hosts, a moved asset takes its items and flags along; the
    result is what a full rebuild gives."""
    sid = _map(database)
    with database.unit_of_work() as s:
        assert service.refresh(s)["full"] is True
        other = System(name="OA", mlps_level=2)
        s.add(other)
        s.flush()
        aid = s.scalars(select(Asset.id)).first()
        s.get(Asset, aid).system_id = other.id
        detail = s.scalars(select(ScanDetail).where(ScanDetail.asset_id == aid)).first()
        run = detail.run_id + 1
        s.add(
            ScanDetail(
                asset_id=aid,
                source="nmap-2",
                run_id=run,
                data={"port_scripts": [["tcp", 8443, "ssl-cert", SHA1_CERT, None]]},
            )
        )
        s.flush()
        again = service.refresh(s)
        assert again["refreshed"] is True and again["full"] is False
        incremental = _snapshot(s)
        assert any(r[:4] == (aid, other.id, "certificate", 8443) for r in incremental)
        assert not any(r[0] == aid and r[1] == sid for r in incremental[:-1] if len(r) == 5)
        service.refresh(s, force=True)
        assert _snapshot(s) == incremental
