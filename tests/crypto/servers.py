"""Small loopback services for recording and live-testing nmap's crypto scripts.

A TLS server (Python ``ssl`` with a self-signed certificate made by ``cryptography``) and a minimal
SSH endpoint that sends a real SSH-2 identification string and KEXINIT packet (RFC 4253 §7.1), which
is all ``ssh2-enum-algos`` reads. Hand-written: no SSH server is installed on the build machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socketserver
import ssl
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def make_cert(folder: Path, *, days: int = 10, bits: int = 2048) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "scada.example.cn"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "示例轨道交通"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    crt, pem = folder / "cert.pem", folder / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return crt, pem


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _tls_handler(ctx: ssl.SSLContext) -> type[socketserver.BaseRequestHandler]:
    class H(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(5)
            with contextlib.suppress(OSError, ssl.SSLError):
                s = ctx.wrap_socket(self.request, server_side=True)
                s.recv(1024)
                s.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                s.close()

    return H


def _namelist(items: list[str]) -> bytes:
    raw = ",".join(items).encode()
    return struct.pack(">I", len(raw)) + raw


KEXINIT_LISTS = [
    ["curve25519-sha256", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
    ["ssh-rsa", "ssh-ed25519"],
    ["aes128-ctr", "aes256-gcm@openssh.com", "3des-cbc", "arcfour"],
    ["aes128-ctr", "aes256-gcm@openssh.com", "3des-cbc", "arcfour"],
    ["hmac-sha2-256", "hmac-sha1", "hmac-md5"],
    ["hmac-sha2-256", "hmac-sha1", "hmac-md5"],
    ["none", "zlib@openssh.com"],
    ["none", "zlib@openssh.com"],
    [],
    [],
]


def kexinit_packet() -> bytes:
    payload = bytes([20]) + os.urandom(16) + b"".join(_namelist(x) for x in KEXINIT_LISTS) + b"\0" + b"\0" * 4
    pad = 8 - (len(payload) + 5) % 8
    pad += 8 if pad < 4 else 0
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + b"\0" * pad


class _Ssh(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5)
        with contextlib.suppress(OSError):
            self.request.sendall(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n")
            self.request.recv(256)
            self.request.sendall(kexinit_packet())
            self.request.recv(4096)


@contextlib.contextmanager
def serve(addr: str, tls_port: int, ssh_port: int, folder: Path) -> Iterator[None]:
    crt, key = make_cert(folder)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    servers = [_Server((addr, tls_port), _tls_handler(ctx)), _Server((addr, ssh_port), _Ssh)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


if __name__ == "__main__":  # record: python tests/crypto/servers.py OUT.xml
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d, serve("127.0.0.5", 18443, 18022, Path(d)):
        subprocess.run(
            [
                "nmap",
                "-n",
                "-Pn",
                "-p",
                "18443,18022",
                "-sV",
                "--script",
                "ssl-cert,ssl-enum-ciphers,ssh2-enum-algos",
                "-oX",
                sys.argv[1],
                "127.0.0.5",
            ],
            check=True,
        )
