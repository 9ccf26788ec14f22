"""Delivering the outbox: claim due messages, send them, record every attempt.

Why it is built this way (no home-made queue): the outbox table *is* the durable queue — a message is
written in the same transaction as the change it announces. Workers claim rows with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL (SQLite has one writer at a time) by pushing ``next_attempt_at`` one lease ahead;
the send happens outside any transaction; the result is written in a second, short one. A worker killed
between the two leaves its rows due again when the lease ends, so each message is sent at least once,
always with the same idempotency key. What runs :func:`deliver_due`: the procrastinate periodic task
(PostgreSQL, ``jobs.py``), the in-process clock of ``ciimap serve`` (SQLite) or ``ciimap notify deliver``.

Rate limits count the attempts of the last 60 s plus the messages in flight; when more are due than a
channel may still take, all but one of the allowed sends go out as they are and the rest are folded
into one digest message. ``bench/notify_outbox.py`` measures the throughput after a change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from ciimap.config import get_settings
from ciimap.core.db import get_database, utcnow
from ciimap.notify import channels, service
from ciimap.notify.models import NotifyAttempt, NotifyChannel, NotifyMessage

log = logging.getLogger(__name__)
#: Messages claimed by one pass from a channel without a rate limit.
BATCH = 200
#: Sends in parallel within a pass (HTTP keeps connections open per receiver).
SENDERS = 8
#: Most messages folded into one digest (a channel at its rate limit folds everything due, up to this).
FOLD_MAX = 5000
#: Lines listed in a digest message (the rest are counted).
DIGEST_LINES = 30


@dataclass
class Work:
    message_id: int
    channel: NotifyChannel
    out: channels.Outgoing
    attempts: int


def _due(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (NotifyMessage.status == "pending", NotifyMessage.next_attempt_at <= now)


def _budget(db: Session, ch: NotifyChannel, now: dt.datetime, lease: dt.timedelta) -> int | None:
    """How many more messages ``ch`` may take in the current minute (None: no limit)."""
    limit = service.effective_rate(ch)
    if not limit:
        return None
    used = db.scalar(
        select(func.count())
        .select_from(NotifyAttempt)
        .where(NotifyAttempt.channel_id == ch.id, NotifyAttempt.at > now - dt.timedelta(seconds=60))
    )
    in_flight = db.scalar(
        select(func.count())
        .select_from(NotifyMessage)
        .where(
            NotifyMessage.channel_id == ch.id,
            NotifyMessage.status == "pending",
            NotifyMessage.claimed_at > now - lease,
        )
    )
    return max(0, limit - int(used or 0) - int(in_flight or 0))


def _digest(db: Session, ch: NotifyChannel, folded: list[NotifyMessage], now: dt.datetime) -> NotifyMessage:
    keys = "\n".join(m.idempotency_key for m in folded)
    lines = []
    for m in folded[:DIGEST_LINES]:
        title = service.outgoing(ch, m).title
        lines.append(f"- {title}" + (f" {m.link}" if m.link else ""))
    if len(folded) > DIGEST_LINES:
        lines.append(f"… 另有 {len(folded) - DIGEST_LINES} 条 / {len(folded) - DIGEST_LINES} more")
    digest = NotifyMessage(
        channel_id=ch.id,
        idempotency_key="digest:" + hashlib.sha256(keys.encode()).hexdigest()[:40],
        event_kind=service.DIGEST,
        subject=f"digest:{ch.name}"[:200],
        grade=None,
        title=f"【ciimap】{len(folded)} 条通知已合并（发送频率限制） / {len(folded)} notifications folded",
        body="\n".join(lines),
        link=None,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    db.add(digest)
    db.flush()
    for m in folded:
        m.status, m.digest_id, m.claimed_at = "folded", digest.id, None
    return digest


def _claim_channel(db: Session, ch: NotifyChannel, now: dt.datetime, lease: dt.timedelta) -> list[Work]:
    budget = _budget(db, ch, now, lease)
    if budget == 0:
        return []
    rows = list(
        db.scalars(
            select(NotifyMessage)
            .where(NotifyMessage.channel_id == ch.id, *_due(now))
            .order_by(NotifyMessage.id)
            .limit(BATCH if budget is None else FOLD_MAX)
            .with_for_update(skip_locked=True)
        )
    )
    if budget is not None and len(rows) > budget:
        rows = rows[: budget - 1] + [_digest(db, ch, rows[budget - 1 :], now)]
    work = []
    for m in rows:
        m.attempts += 1
        m.claimed_at = now
        m.next_attempt_at = now + lease
        work.append(Work(m.id, ch, service.outgoing(ch, m), m.attempts))
    return work


def claim(db: Session, now: dt.datetime) -> list[Work]:
    """Claim due messages of every enabled channel (channels locked one by one on PostgreSQL, so two
    workers never overrun a channel's rate limit together)."""
    lease = dt.timedelta(seconds=get_settings().notify_lease_seconds)
    channel_ids = db.scalars(select(NotifyMessage.channel_id).where(*_due(now)).distinct()).all()
    work: list[Work] = []
    for cid in sorted(channel_ids):
        ch = db.scalar(
            select(NotifyChannel)
            .where(NotifyChannel.id == cid, NotifyChannel.enabled.is_(True))
            .with_for_update(skip_locked=True)
        )
        if ch is not None:
            work.extend(_claim_channel(db, ch, now, lease))
    db.flush()
    return work


def record(db: Session, work: list[Work], results: list[channels.Result], now: dt.datetime) -> dict[str, int]:
    """Write one attempt per message and move each to sent, to a later retry, or to failed."""
    max_attempts = get_settings().notify_max_attempts
    db.execute(
        insert(NotifyAttempt),
        [
            {
                "message_id": w.message_id,
                "channel_id": w.channel.id,
                "subject": w.out.subject,
                "idempotency_key": w.out.idempotency_key,
                "at": now,
                "status": "ok" if r.ok else "error",
                "response_code": r.response_code,
                "error": r.error,
            }
            for w, r in zip(work, results, strict=True)
        ],
    )
    sent = [w.message_id for w, r in zip(work, results, strict=True) if r.ok]
    if sent:
        db.execute(
            update(NotifyMessage)
            .where(NotifyMessage.id.in_(sent))
            .values(status="sent", sent_at=now, claimed_at=None, last_error=None),
            execution_options={"synchronize_session": False},
        )
    failed = 0
    for w, r in zip(work, results, strict=True):
        if r.ok:
            continue
        failed += 1
        gave_up = w.attempts >= max_attempts
        db.execute(
            update(NotifyMessage)
            .where(NotifyMessage.id == w.message_id)
            .values(
                status="failed" if gave_up else "pending",
                claimed_at=None,
                next_attempt_at=now + service.backoff(w.attempts),
                last_error=r.error,
            ),
            execution_options={"synchronize_session": False},
        )
    return {"sent": len(sent), "failed": failed}


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=get_settings().notify_timeout_seconds,
                trust_env=False,
                limits=httpx.Limits(max_connections=SENDERS * 2, max_keepalive_connections=SENDERS * 2),
            )
        return _client


def deliver_due(now: Callable[[], dt.datetime] = utcnow) -> dict[str, int]:
    """One pass: claim, send in parallel, record. Returns counts (``claimed``, ``sent``, ``failed``)."""
    database = get_database()
    with database.unit_of_work() as db:
        work = claim(db, now())
        # detach what the senders read: the session closes before they run
        for ch in {w.channel.id: w.channel for w in work}.values():
            db.expunge(ch)
    if not work:
        return {"claimed": 0, "sent": 0, "failed": 0}
    client = _http()
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(work))) as pool:
        results = list(pool.map(lambda w: _send(w, client), work))
    with database.unit_of_work() as db:
        counts = record(db, work, results, now())
    return {"claimed": len(work), **counts}


def _send(w: Work, client: httpx.Client) -> channels.Result:
    try:
        return service.send(w.channel, w.out, client)
    except Exception as e:  # a bug or bad configuration must not lose the message: it is retried
        log.exception("sending message %s failed", w.message_id)
        return channels.Result(False, None, f"{type(e).__name__}: {e}"[:500])


def pending_count() -> int:
    with get_database().read_session() as db:
        return int(
            db.scalar(
                select(func.count()).select_from(NotifyMessage).where(NotifyMessage.status == "pending")
            )
            or 0
        )


def run(
    *,
    seconds: float | None = None,
    until_empty: bool = False,
    interval: float = 2.0,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Deliver until ``seconds`` pass, the outbox holds nothing pending (``until_empty``) or ``stop`` is set."""
    totals = {"claimed": 0, "sent": 0, "failed": 0}
    end = None if seconds is None else time.monotonic() + seconds
    stop = stop or threading.Event()
    while not stop.is_set() and (end is None or time.monotonic() < end):
        counts = deliver_due()
        for k in totals:
            totals[k] += counts[k]
        if counts["claimed"]:
            continue
        if until_empty and not pending_count():
            break
        stop.wait(interval)
    return totals
