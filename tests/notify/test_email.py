"""Email through a real SMTP server on loopback (aiosmtpd) that requires STARTTLS and AUTH, with a
self-signed certificate made here: the mail arrives, over TLS, with the password as the channel secret."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ciimap.notify import channels


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes, bool]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        tls = session.ssl is not None
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, tls))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _auth(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"soc" and auth_data.password == b"s3cret")


@pytest.fixture
def smtp_server(tmp_path):
    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=ctx,
        require_starttls=True,
        authenticator=_auth,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield inbox, controller.port, cert
    finally:
        controller.stop()


MSG = channels.Outgoing(
    "incident:7:opened",
    "incident.opened",
    "incident:7",
    "较大",
    "事件 7 已发现",
    "详情见链接",
    "https://ciimap/i/7",
)


def test_mail_arrives_over_starttls_with_login(smtp_server):
    inbox, port, cert = smtp_server
    url = f"smtp://soc@127.0.0.1:{port}?from=ciimap@corp.example&to=soc@corp.example,ops@corp.example&cafile={cert}"
    res = channels.send_email(url, "s3cret", MSG, timeout=30)
    assert res.ok, res
    [(sender, rcpts, raw, tls)] = inbox.mails
    assert tls, "the mail went over the STARTTLS-upgraded connection"
    assert sender == "ciimap@corp.example" and rcpts == ["soc@corp.example", "ops@corp.example"]
    mail = message_from_bytes(raw)
    assert mail["X-Ciimap-Idempotency-Key"] == "incident:7:opened"
    assert "https://ciimap/i/7" in mail.get_payload(decode=True).decode()


def test_untrusted_certificate_fails(smtp_server):
    inbox, port, cert = smtp_server
    base = f"smtp://soc@127.0.0.1:{port}?from=a@corp.example&to=b@corp.example"
    untrusted = channels.send_email(base, "s3cret", MSG, timeout=30)  # system CAs do not know the cert
    assert not untrusted.ok and "SSL" in (untrusted.error or "")
    assert inbox.mails == []


def test_server_without_starttls_is_refused(tmp_path):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        res = channels.send_email(
            f"smtp://127.0.0.1:{controller.port}?from=a@corp.example&to=b@corp.example", None, MSG, timeout=30
        )
    finally:
        controller.stop()
    assert not res.ok and "STARTTLS" in (res.error or "")
    assert inbox.mails == []
