"""Parsing nmap's crypto script output (``ssl-cert``, ``ssl-enum-ciphers``, ``ssh2-enum-algos``) and
naming algorithms (national GM vs international). Pure functions; no database.

The text format is nmap's (``output`` attribute of ``<script>``); ``ssl-cert`` is read from its PEM
with ``cryptography`` when nmap wrote one (any nmap ``-oX``), else from the text. A certificate that
neither reads is returned with ``raw`` text and a ``warning``: never dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding

#: OIDs of the Chinese national algorithms in certificates (GM/T 0006).
GM_OIDS = {
    "1.2.156.10197.1.301": "SM2",
    "1.2.156.10197.1.501": "SM2-with-SM3",
    "1.2.156.10197.1.401": "SM3",
}
#: DER of the SM2 curve OID 1.2.156.10197.1.301 (in an SPKI cryptography cannot load).
_SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")
_ESC = re.compile(rb"\\x([0-9A-Fa-f]{2})")

#: Algorithm token → (canonical name, national GM?). Matched on upper-case tokens of a name.
_TOKENS: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(p), name, gm)
    for p, name, gm in (
        (r"SM2", "SM2", True),
        (r"SM3", "SM3", True),
        (r"SM4", "SM4", True),
        (r"SM9", "SM9", True),
        (r"ZUC", "ZUC", True),
        (r"(?<![A-Z])ECC(?![A-Z])", "SM2", True),  # GB/T 38636 TLCP suites ECC_SM4_* use SM2 keys
        (r"RSA", "RSA", False),
        (r"ECDSA", "ECDSA", False),
        (r"ED25519", "Ed25519", False),
        (r"ECDH", "ECDH", False),
        (r"(?<![A-Z])DHE?(?![A-Z])|DIFFIE-HELLMAN", "DH", False),
        (r"CURVE25519|X25519", "X25519", False),
        (r"AES", "AES", False),
        (r"CHACHA20", "ChaCha20", False),
        (r"3DES|DES-CBC3|DES_EDE|TRIPLEDES", "3DES", False),
        (r"(?<![0-9A-Z])DES(?!_EDE)(?![A-Z0-9])", "DES", False),
        (r"RC4|ARCFOUR", "RC4", False),
        (r"CAMELLIA", "Camellia", False),
        (r"MD5", "MD5", False),
        (r"SHA-?1(?![0-9])|_SHA$|HMAC-SHA1", "SHA-1", False),
        (r"SHA-?(224|256|384|512)|SHA2", "SHA-2", False),
        (r"NULL", "NULL", False),
        (r"EXPORT", "EXPORT", False),
    )
]
GM_ALGORITHMS = ("SM2", "SM3", "SM4", "SM9", "ZUC")


def algorithms(name: str) -> list[str]:
    """Canonical algorithms named in a suite / algorithm / key type, e.g.
    ``TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA`` → ECDH, RSA, 3DES, SHA-1."""
    up = name.upper().replace("-", "_") if "SHA" not in name.upper() else name.upper()
    out: list[str] = []
    for pat, canon, _gm in _TOKENS:
        if pat.search(up) and canon not in out:
            out.append(canon)
    if "ECDSA" in out and "ECDH" in out and "ECDHE" not in up and "ECDH_" not in up:
        out.remove("ECDH")
    return out


def is_gm(alg: str) -> bool:
    return alg in GM_ALGORITHMS


def unescape(text: str) -> str:
    """nmap writes non-ASCII certificate fields as ``\\xE7\\xA4...``: back to UTF-8 text."""
    if "\\x" not in text:
        return text
    raw = _ESC.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "replace")


def _iso(d: dt.datetime) -> str:
    return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).isoformat()


def _key_facts(cert: x509.Certificate) -> tuple[str | None, int | None]:
    try:
        key = cert.public_key()
    except Exception:  # noqa: BLE001 - e.g. SM2 keys: cryptography reads the cert, not the curve
        oid = cert.public_key_algorithm_oid.dotted_string
        if _SM2_CURVE in cert.public_bytes(Encoding.DER):
            return "sm2", 256
        return GM_OIDS.get(oid, oid), None
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ("sm2" if key.curve.name.lower() == "sm2" else "ec"), key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456
    return type(key).__name__, None


def cert_from_pem(pem: str) -> dict[str, Any]:
    """Facts of one PEM certificate; raises ``ValueError`` when it does not read."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    key_type, bits = _key_facts(cert)
    sig_oid = cert.signature_algorithm_oid.dotted_string
    sig = GM_OIDS.get(sig_oid) or getattr(cert.signature_algorithm_oid, "_name", None) or sig_oid
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "key_type": key_type,
        "key_bits": bits,
        "signature_algorithm": sig,
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
    }


_CERT_LINES = {
    "Subject": "subject",
    "Issuer": "issuer",
    "Public Key type": "key_type",
    "Public Key bits": "key_bits",
    "Signature Algorithm": "signature_algorithm",
    "Not valid before": "not_before",
    "Not valid after": "not_after",
}


def _text_date(v: str) -> str:
    d = dt.datetime.fromisoformat(v.strip())
    return _iso(d)


def parse_ssl_cert(output: str, pem: str | None = None) -> dict[str, Any]:
    """``ssl-cert`` → certificate facts; ``{"raw": ..., "warning": ...}`` when unreadable (kept)."""
    if pem:
        try:
            return cert_from_pem(pem)
        except (ValueError, TypeError) as e:
            pem_error = str(e).splitlines()[0] if str(e) else type(e).__name__
    else:
        pem_error = ""
    facts: dict[str, Any] = {}
    for line in output.splitlines():
        k, sep, v = line.partition(":")
        field = _CERT_LINES.get(k.strip())
        if sep and field:
            facts[field] = unescape(v.strip())
    try:
        if not {"subject", "key_type", "not_after"} <= facts.keys():
            raise ValueError("no Subject / Public Key type / Not valid after line")
        facts["key_bits"] = int(facts["key_bits"]) if facts.get("key_bits") else None
        for k in ("not_before", "not_after"):
            if facts.get(k):
                facts[k] = _text_date(facts[k])
    except ValueError as e:
        why = f"PEM: {pem_error}; text: {e}" if pem_error else str(e)
        return {"raw": pem or output, "warning": f"certificate not readable ({why}); kept as raw text"}
    if pem_error:
        facts["warning"] = f"PEM not readable ({pem_error}); facts from nmap's text"
    return facts


_VERSION = re.compile(r"^\s{2}(SSLv2|SSLv3|TLSv1\.[0-3]):\s*$")
_CIPHER = re.compile(r"^\s+(\S+)(?:\s+\(([^)]*)\))?\s+-\s+([A-F])\s*$")
_LEAST = re.compile(r"least strength:\s*([A-F])")


def parse_ssl_enum_ciphers(output: str) -> dict[str, Any]:
    """``ssl-enum-ciphers`` → ``{"versions": {"TLSv1.2": [{"suite", "kex", "grade"}, ...]}, "least": "A"}``."""
    versions: dict[str, list[dict[str, Any]]] = {}
    current: str | None = None
    in_ciphers = False
    for line in output.splitlines():
        m = _VERSION.match(line)
        if m:
            current, in_ciphers = m.group(1), False
            versions[current] = []
            continue
        s = line.strip()
        if s == "ciphers:":
            in_ciphers = True
            continue
        if s.endswith(":") or not s:
            in_ciphers = False
            continue
        c = _CIPHER.match(line)
        if current and in_ciphers and c:
            versions[current].append({"suite": c.group(1), "kex": c.group(2), "grade": c.group(3)})
    least = _LEAST.search(output)
    return {"versions": versions, "least": least.group(1) if least else None}


_SSH_HEAD = re.compile(r"^\s{2}(\w+):\s*\(\d+\)\s*$")


def parse_ssh2_enum_algos(output: str) -> dict[str, list[str]]:
    """``ssh2-enum-algos`` → ``{"kex_algorithms": [...], "server_host_key_algorithms": [...], ...}``."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in output.splitlines():
        m = _SSH_HEAD.match(line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current and line.strip():
            out[current].append(line.strip())
    return out
