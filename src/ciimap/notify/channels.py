"""Sending one message to one channel: the vendors' signing rules and success answers.

- DingTalk custom robot (加签): ``timestamp`` in ms; sign = base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")), URL-encoded, as the query parameters ``timestamp`` and ``sign``.
  Success: JSON ``errcode`` 0.
- WeCom group robot: no signature (the ``key`` is in the URL). Success: JSON ``errcode`` 0.
- Feishu custom bot (签名校验): ``timestamp`` in seconds; sign = base64(HMAC-SHA256(key=
  f"{timestamp}\\n{secret}", msg=b"")) — the string is the KEY over an empty message — sent as
  ``timestamp`` and ``sign`` in the JSON body. Success: JSON ``code`` (or old ``StatusCode``) 0.
- Email: SMTP with STARTTLS (required), ``smtp://user@host:587?from=..&to=a,b[&cafile=..]``; the
  channel secret is the password.
- Generic webhook: the JSON body, with ``X-Ciimap-Timestamp`` (seconds) and ``X-Ciimap-Signature:
  sha256=<hex HMAC-SHA256(key=secret, msg=f"{timestamp}.{body}")>`` and ``Idempotency-Key``.

Every request carries the ``Idempotency-Key`` header (percent-encoded when not ASCII); webhook and email carry the key in the content too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from ciimap.core.errors import Invalid


@dataclass(frozen=True)
class Outgoing:
    """What a channel sends (already reduced to public content where the channel asks for it)."""

    idempotency_key: str
    event_kind: str
    subject: str
    grade: str | None
    title: str
    body: str
    link: str | None


@dataclass(frozen=True)
class Result:
    ok: bool
    response_code: int | None = None
    error: str | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The DingTalk signature, base64 (not yet URL-encoded)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The Feishu signature: the string to sign is the HMAC key, the message is empty."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def webhook_sign(secret: str, timestamp_s: int, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode(), str(timestamp_s).encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def text_of(msg: Outgoing) -> str:
    lines = [msg.title]
    if msg.body:
        lines.append(msg.body)
    if msg.link:
        lines.append(msg.link)
    return "\n".join(lines)


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode(params)  # quote_plus: '+' '/' '=' of base64 encoded as DingTalk asks
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _vendor_answer(resp: httpx.Response, field: str) -> Result:
    if resp.status_code >= 300:
        return Result(False, resp.status_code, f"HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        data = resp.json()
    except ValueError:
        return Result(False, resp.status_code, f"answer is not JSON: {resp.text[:200]}")
    code = data.get(field, data.get("StatusCode")) if isinstance(data, dict) else None
    if code == 0:
        return Result(True, resp.status_code)
    msg = (data.get("errmsg") or data.get("msg") or "") if isinstance(data, dict) else ""
    return Result(False, resp.status_code, f"{field} {code}: {msg}"[:500])


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post(url, content=body, headers={"Content-Type": "application/json", **headers})


def send_http(
    client: httpx.Client, kind: str, url: str, secret: str | None, msg: Outgoing, *, now: float | None = None
) -> Result:
    """POST ``msg`` to an IM robot or webhook; network errors become a failed :class:`Result`."""
    now = time.time() if now is None else now
    # HTTP header values are ASCII: a key with other characters (an incident grade such as 重大) is sent
    # percent-encoded (RFC 3986) in the header; the body, where there is one, carries it as is
    key_header = {"Idempotency-Key": urllib.parse.quote(msg.idempotency_key, safe=":/@-._~!$&'()*+,;=")}
    payload: dict[str, Any]
    try:
        if kind == "dingtalk":
            if secret:
                ts = int(now * 1000)
                url = _with_query(url, timestamp=str(ts), sign=dingtalk_sign(secret, ts))
            payload = {"msgtype": "text", "text": {"content": text_of(msg)}}
            return _vendor_answer(_post(client, url, _json(payload), key_header), "errcode")
        if kind == "wecom":
            payload = {"msgtype": "text", "text": {"content": text_of(msg)}}
            return _vendor_answer(_post(client, url, _json(payload), key_header), "errcode")
        if kind == "feishu":
            payload = {"msg_type": "text", "content": {"text": text_of(msg)}}
            if secret:
                ts = int(now)
                payload = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}
            return _vendor_answer(_post(client, url, _json(payload), key_header), "code")
        if kind == "webhook":
            body = _json(
                {
                    "idempotency_key": msg.idempotency_key,
                    "kind": msg.event_kind,
                    "subject": msg.subject,
                    "grade": msg.grade,
                    "title": msg.title,
                    "body": msg.body,
                    "link": msg.link,
                }
            )
            headers = dict(key_header)
            if secret:
                ts = int(now)
                headers["X-Ciimap-Timestamp"] = str(ts)
                headers["X-Ciimap-Signature"] = webhook_sign(secret, ts, body)
            resp = _post(client, url, body, headers)
            ok = 200 <= resp.status_code < 300
            return Result(ok, resp.status_code, None if ok else f"HTTP {resp.status_code}: {resp.text[:200]}")
    except httpx.HTTPError as e:
        return Result(False, None, f"{type(e).__name__}: {e}"[:500])
    raise Invalid(f"not an HTTP channel kind: {kind}")


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    sender: str
    recipients: list[str]
    cafile: str | None


def parse_smtp(url: str) -> SmtpTarget:
    """``smtp://[user@]host[:port]?from=a@b&to=c@d,e@f[&cafile=/path/ca.pem]`` (port 587 by default)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise Invalid(f"email URL must look like smtp://relay.example:587?from=a@b&to=c@d, not {url!r}")
    q = urllib.parse.parse_qs(parts.query)
    sender = (q.get("from") or [""])[0]
    recipients = [r.strip() for v in q.get("to", []) for r in v.split(",") if r.strip()]
    if not sender or not recipients:
        raise Invalid("email URL needs ?from=SENDER&to=RECIPIENT[,RECIPIENT...]")
    try:
        port = parts.port or 587
    except ValueError:
        raise Invalid(f"email URL has a bad port: {url!r}") from None
    user = urllib.parse.unquote(parts.username) if parts.username else None
    cafile = q["cafile"][0] if q.get("cafile") else None
    return SmtpTarget(parts.hostname, port, user, sender, recipients, cafile)


def send_email(url: str, secret: str | None, msg: Outgoing, *, timeout: float) -> Result:
    """Send over SMTP after STARTTLS (refused when the server does not offer it)."""
    t = parse_smtp(url)
    mail = EmailMessage()
    mail["From"] = t.sender
    mail["To"] = ", ".join(t.recipients)
    mail["Subject"] = msg.title
    mail["Message-ID"] = f"<{hashlib.sha256(msg.idempotency_key.encode()).hexdigest()[:32]}@ciimap>"
    mail["X-Ciimap-Idempotency-Key"] = msg.idempotency_key
    mail.set_content(text_of(msg))
    ctx = ssl.create_default_context(cafile=t.cafile)
    try:
        with smtplib.SMTP(t.host, t.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                return Result(False, None, "the SMTP server does not offer STARTTLS; nothing sent")
            smtp.starttls(context=ctx)
            smtp.ehlo()
            if t.username and secret:
                smtp.login(t.username, secret)
            smtp.send_message(mail)
            code, _ = smtp.noop()
            return Result(True, code)
    except smtplib.SMTPResponseException as e:
        return Result(False, e.smtp_code, f"SMTP {e.smtp_code}: {e.smtp_error!r}"[:500])
    except (smtplib.SMTPException, OSError) as e:
        return Result(False, None, f"{type(e).__name__}: {e}"[:500])


def mask_url(kind: str, url: str) -> str:
    """The URL to show: query values (tokens, keys) and a Feishu hook's last path part masked."""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(
        f"{k}={'***' if k not in ('from', 'to') else v}"
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    path = parts.path
    if kind in ("feishu", "webhook") and "/hook/" in path:
        path = path.rsplit("/", 1)[0] + "/***"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, path=path, query=query))
