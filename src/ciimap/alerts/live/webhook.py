"""The alert webhook: ``POST /api/alerts/webhook/{source}`` with a webhook token.

Tokens are made by an admin (``ciimap webhooks create``, ``POST /api/alerts/webhook-tokens``), shown
once and stored as a SHA-256 (a token is 32 random bytes, so a plain hash is as strong as a slow one);
a token allows posting alerts — of one source kind when it was made for one — and nothing else. A call
without a valid token is refused (401) and audited (``webhook_refused``; at most one record per client
address and reason per :data:`REFUSAL_AUDIT_EVERY` seconds, counting the ones in between, so a flood
of bad calls cannot flood the audit trail).

A body is one event or a list of events: for ``suricata`` and ``wazuh`` JSON objects (an EVE event, a
Wazuh alert), for ``syslog`` and ``cef`` strings (one line each). Each call is one import run through
the file import's source (``AlertSource``: its parser, loader, warnings and audit), in the request's
transaction. A body over :data:`MAX_BODY` bytes is refused (413), as are more than :data:`MAX_EVENTS`
events; an event that cannot be read is stored raw as rejected, like a file's line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from typing import Any, cast

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap import sources
from ciimap.alerts.live.models import AlertWebhookToken
from ciimap.alerts.severity import scales
from ciimap.alerts.sources.base import AlertResult, AlertSource, Parser
from ciimap.alerts.sources.lines import MAX_LINE, Line
from ciimap.core import audit
from ciimap.core.audit import current_actor
from ciimap.core.db import get_database, utcnow
from ciimap.core.errors import Conflict, Invalid, NotAuthenticated, NotFound, PermissionDenied, TooLarge
from ciimap.core.importer import Run
from ciimap.ingest.models import ImportRun

#: Largest request body (bytes) and most events per call.
MAX_BODY = 4 * 1024 * 1024
MAX_EVENTS = 10_000
TOKEN_PREFIX = "ciw_"  # noqa: S105 - the prefix that tells a webhook token apart, no secret
#: Seconds between two audit records of refused calls from one client address for one reason.
REFUSAL_AUDIT_EVERY = 60.0


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _kind(source: str | None) -> str | None:
    if source is not None:
        sources.get(source, family="alerts")  # unknown kinds: one-line Invalid
    return source


# --- tokens -----------------------------------------------------------------------------------------


def create_token(
    session: Session, *, name: str, source: str | None = None, days: int | None = None
) -> tuple[AlertWebhookToken, str]:
    """A new token; the secret is returned this once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("token name: 1 to 100 characters")
    if days is not None and not 1 <= days <= 3650:
        raise Invalid("days: from 1 to 3650")
    _kind(source)
    if session.scalar(select(AlertWebhookToken.id).where(AlertWebhookToken.name == name)) is not None:
        raise Conflict(f"a webhook token named '{name}' exists")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = AlertWebhookToken(
        name=name,
        source=source,
        prefix=secret[:10],
        token_hash=_sha256(secret),
        created_by=current_actor().name,
        expires_at=utcnow() + dt.timedelta(days=days) if days else None,
    )
    session.add(tok)
    session.flush()
    return tok, secret


def token_dict(t: AlertWebhookToken) -> dict[str, Any]:
    now = utcnow()
    state = "active"
    if t.revoked_at is not None:
        state = "revoked"
    elif t.expires_at is not None and _aware(t.expires_at) <= now:
        state = "expired"
    return {
        "id": t.id,
        "name": t.name,
        "source": t.source,
        "prefix": t.prefix,
        "state": state,
        "created_by": t.created_by,
        "created_at": _aware(t.created_at),
        "expires_at": None if t.expires_at is None else _aware(t.expires_at),
        "revoked_at": None if t.revoked_at is None else _aware(t.revoked_at),
        "last_used_at": None if t.last_used_at is None else _aware(t.last_used_at),
    }


def list_tokens(session: Session) -> list[dict[str, Any]]:
    return [token_dict(t) for t in session.scalars(select(AlertWebhookToken).order_by(AlertWebhookToken.id))]


def revoke_token(session: Session, *, token_id: int) -> dict[str, Any]:
    tok = session.get(AlertWebhookToken, token_id)
    if tok is None:
        raise NotFound(f"webhook token {token_id} does not exist")
    if tok.revoked_at is None:
        tok.revoked_at = utcnow()
        session.flush()
    return token_dict(tok)


def check_token(session: Session, secret: str, source: str) -> AlertWebhookToken:
    """The token behind ``secret`` if it may post ``source`` alerts (401 when it is no valid token)."""
    tok = session.scalar(select(AlertWebhookToken).where(AlertWebhookToken.token_hash == _sha256(secret)))
    if tok is None:
        raise NotAuthenticated("invalid webhook token")
    if tok.revoked_at is not None or (tok.expires_at is not None and _aware(tok.expires_at) <= utcnow()):
        raise NotAuthenticated("webhook token revoked or expired")
    if tok.source is not None and tok.source != source:
        raise PermissionDenied(f"this webhook token posts '{tok.source}' alerts only")
    return tok


class _Refusals:
    """Refused calls per (address, reason) since the last audit record (per process, in memory)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}

    def due(self, key: tuple[str, str]) -> int | None:
        """The number of refusals to record now (this one and those not yet recorded), or None."""
        now = time.monotonic()
        with self.lock:
            last, pending = self.seen.get(key, (0.0, 0))
            if last and now - last < REFUSAL_AUDIT_EVERY:
                self.seen[key] = (last, pending + 1)
                return None
            if len(self.seen) > 10_000:
                self.seen.clear()
            self.seen[key] = (now, 0)
            return pending + 1


_refusals = _Refusals()


def record_refusal(address: str, source: str, reason: str) -> None:
    """Audit a refused call in its own transaction (the request's is rolled back)."""
    count = _refusals.due((address, reason))
    if count is None:
        return
    with get_database().unit_of_work() as s:
        audit.record(
            s,
            "webhook_refused",
            "alert_webhook",
            None,
            after={"client": address[:64], "source": source[:16], "reason": reason[:200], "count": count},
        )


# --- events -----------------------------------------------------------------------------------------


def parse_body(body: bytes, source: str) -> list[str]:
    """The body's events as lines (JSON objects serialised compactly, strings as they are)."""
    if len(body) > MAX_BODY:
        raise TooLarge(f"webhook body over {MAX_BODY} bytes")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise Invalid(f"webhook body: not JSON ({e})") from None
    events = doc if isinstance(doc, list) else [doc]
    if not events:
        raise Invalid("webhook body: an empty list (send one event or a list of events)")
    if len(events) > MAX_EVENTS:
        raise TooLarge(f"webhook body: {len(events)} events, at most {MAX_EVENTS} per call")
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(event.replace("\r", " ").replace("\n", " ")[:MAX_LINE])
        else:
            out.append(orjson.dumps(event).decode()[:MAX_LINE])
    return out


def ingest(session: Session, *, source: str, lines: list[str], token: AlertWebhookToken) -> AlertResult:
    """One import run of ``lines`` through ``source``'s parser and loader (in the caller's transaction)."""
    imp = cast(AlertSource, sources.get(source, family="alerts"))
    opts = imp.options({})
    started = utcnow()
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    name = f"webhook:{token.name}"
    files = [{"name": name, "path": name, "size": sum(len(x) for x in lines), "sha256": digest}]
    row = ImportRun(
        kind=source,
        scope=f"webhook:{source}",
        status="running",
        files=files,
        created_by=current_actor().name,
        started_at=started,
    )
    session.add(row)
    session.flush()
    run = Run(session, row.id, source, row.scope, started, False, files)
    p = Parser(imp.clock(opts), scales())
    records = []
    for i, text in enumerate(lines, 1):
        rec = imp._record(Line(i, text), p)
        if rec is not None:
            rec.time = rec.time or started
            records.append(rec)
    run.meta[name] = {"lines": len(lines), "skipped": dict(sorted(p.skipped.items()))}
    ctx = imp.open(run, opts)
    imp.load(ctx, records, opts)
    result = imp.finish(ctx, opts)
    row.status, row.finished_at, row.meta, row.stats = "succeeded", utcnow(), run.meta, imp.stats(ctx)
    session.flush()
    return result
