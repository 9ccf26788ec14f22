"""Parsing real nmap crypto script output (recorded by tests/crypto/servers.py with nmap 7.93)."""

from __future__ import annotations

from pathlib import Path

from ciimap.crypto import parse
from ciimap.ingest.parsers import nmap

DATA = Path(__file__).resolve().parents[1] / "data" / "crypto"


def _scripts() -> dict[str, list]:
    (host,) = list(nmap.NmapXml(DATA / "nmap-crypto-loopback.xml"))
    host.complete()
    return {row[2]: row for row in host.detail["port_scripts"]}


def test_port_scripts_are_kept_in_scan_detail() -> None:
    s = _scripts()
    assert set(s) == {"ssl-cert", "ssl-enum-ciphers", "ssh2-enum-algos"}
    assert s["ssl-cert"][1] == 18443 and s["ssl-cert"][4].startswith("-----BEGIN CERTIFICATE-----")
    assert s["ssh2-enum-algos"][4] is None


def test_ssl_cert_from_pem_and_from_text_agree() -> None:
    _, _, _, out, pem = _scripts()["ssl-cert"]
    a, b = parse.parse_ssl_cert(out, pem), parse.parse_ssl_cert(out)
    assert a["key_type"] == b["key_type"] == "rsa" and a["key_bits"] == b["key_bits"] == 2048
    assert a["signature_algorithm"] == b["signature_algorithm"] == "sha256WithRSAEncryption"
    assert a["not_after"] == b["not_after"] and a["not_after"].startswith("2026-12-13T18:13:30")
    assert "示例轨道交通" in a["subject"] and "示例轨道交通" in b["subject"]  # nmap's \\xE7.. escapes decoded


def test_malformed_certificate_is_kept_raw_with_a_warning() -> None:
    _, _, _, out, pem = _scripts()["ssl-cert"]
    got = parse.parse_ssl_cert("Subject: broken\n", pem.replace("MII", "XXX"))
    assert got["raw"].startswith("-----BEGIN CERTIFICATE-----\nXXX")
    assert "kept as raw text" in got["warning"]
    # a readable text with a broken PEM keeps the text facts and says so
    part = parse.parse_ssl_cert(out, pem.replace("MII", "XXX"))
    assert part["key_bits"] == 2048 and "PEM not readable" in part["warning"]


def test_ssl_enum_ciphers_versions_suites_grades() -> None:
    got = parse.parse_ssl_enum_ciphers(_scripts()["ssl-enum-ciphers"][3])
    assert list(got["versions"]) == ["TLSv1.2", "TLSv1.3"]
    assert got["versions"]["TLSv1.2"][0] == {
        "suite": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "kex": "ecdh_x25519",
        "grade": "A",
    }
    assert got["least"] == "A"


def test_ssh2_enum_algos() -> None:
    got = parse.parse_ssh2_enum_algos(_scripts()["ssh2-enum-algos"][3])
    assert got["kex_algorithms"][1] == "diffie-hellman-group14-sha1"
    assert "arcfour" in got["encryption_algorithms"] and got["mac_algorithms"][-1] == "hmac-md5"


def test_algorithm_names_gm_and_weak() -> None:
    assert parse.algorithms("ECC_SM4_CBC_SM3") == ["SM3", "SM4", "SM2"]
    assert parse.algorithms("TLS_SM4_GCM_SM3") == ["SM3", "SM4"]
    assert parse.algorithms("SM2-with-SM3") == ["SM2", "SM3"]
    assert parse.algorithms("TLS_RSA_WITH_RC4_128_MD5") == ["RSA", "RC4", "MD5"]
    assert "3DES" in parse.algorithms("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA")
    assert "SHA-1" in parse.algorithms("sha1WithRSAEncryption")
    assert all(parse.is_gm(a) for a in parse.algorithms("ECC_SM4_CBC_SM3"))
