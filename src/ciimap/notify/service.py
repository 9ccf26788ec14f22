"""Channels, routing rules and the one entry point other domains call: :func:`publish`.

``publish`` applies the routing rules and writes one outbox row per matching channel in the caller's
transaction (so an incident change and its notifications commit together); ``outbox.py`` delivers them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.config import get_settings
from ciimap.core.db import utcnow
from ciimap.core.errors import Conflict, Invalid, NotFound, check_choice
from ciimap.notify import channels
from ciimap.notify.models import (
    CHANNEL_KINDS,
    GRADES,
    IM_KINDS,
    MESSAGE_STATUSES,
    NotifyAttempt,
    NotifyChannel,
    NotifyMessage,
    NotifyRule,
)
from ciimap.notify.sealing import seal, unseal

MAX_LIST = 1000
#: Event kind of the digest messages the outbox writes when a channel's rate limit is reached.
DIGEST = "digest"


# --- channels ---------------------------------------------------------------------------------------


def _check_url(kind: str, url: str) -> None:
    if kind == "email":
        channels.parse_smtp(url)
        return
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise Invalid(f"channel URL must be an http(s) URL of at most 2000 characters, not {url[:80]!r}")


def channel_view(ch: NotifyChannel) -> dict[str, Any]:
    """What may be shown of a channel: the masked URL and whether a secret is set, never the secret."""
    return {
        "id": ch.id,
        "name": ch.name,
        "kind": ch.kind,
        "url": ch.display_url,
        "has_secret": ch.secret_enc is not None,
        "rate_per_minute": effective_rate(ch),
        "full_content": ch.full_content,
        "enabled": ch.enabled,
        "created_by": ch.created_by,
        "created_at": ch.created_at,
    }


def add_channel(
    db: Session,
    *,
    name: str,
    kind: str,
    url: str,
    secret: str | None = None,
    rate_per_minute: int | None = None,
    full_content: bool | None = None,
    actor: str = "system",
) -> NotifyChannel:
    check_choice("kind", kind, CHANNEL_KINDS)
    _check_url(kind, url)
    if db.scalar(select(NotifyChannel.id).where(NotifyChannel.name == name)) is not None:
        raise Conflict(f"channel {name!r} exists")
    if rate_per_minute is not None and rate_per_minute < 0:
        raise Invalid("rate_per_minute must be 0 (unlimited) or more")
    ch = NotifyChannel(
        name=name,
        kind=kind,
        display_url=channels.mask_url(kind, url),
        target_enc=seal(url),
        secret_enc=seal(secret) if secret else None,
        rate_per_minute=rate_per_minute,
        full_content=(kind not in IM_KINDS) if full_content is None else full_content,
        enabled=True,
        created_by=actor,
    )
    db.add(ch)
    db.flush()
    return ch


def get_channel(db: Session, name: str) -> NotifyChannel:
    ch = db.scalar(select(NotifyChannel).where(NotifyChannel.name == name))
    if ch is None:
        raise NotFound(f"no notification channel {name!r}")
    return ch


def list_channels(db: Session) -> list[dict[str, Any]]:
    return [channel_view(c) for c in db.scalars(select(NotifyChannel).order_by(NotifyChannel.name))]


def remove_channel(db: Session, name: str) -> None:
    db.delete(get_channel(db, name))
    db.flush()


def kind_rates() -> dict[str, int]:
    out: dict[str, int] = {}
    for pair in get_settings().notify_rate_limits.split(","):
        if pair.strip():
            k, _, v = pair.partition(":")
            out[k.strip()] = int(v)
    return out


def effective_rate(ch: NotifyChannel) -> int:
    """Messages a minute for this channel (0 = unlimited)."""
    return ch.rate_per_minute if ch.rate_per_minute is not None else kind_rates().get(ch.kind, 0)


def target_of(ch: NotifyChannel) -> tuple[str, str | None]:
    """The real URL and secret, for sending only."""
    return unseal(ch.target_enc), unseal(ch.secret_enc) if ch.secret_enc else None


# --- content ----------------------------------------------------------------------------------------


def public_content(msg: NotifyMessage) -> tuple[str, str]:
    """Title and body a public IM group gets: the event kind, subject reference, grade and link —
    never the caller's title or body, which may hold indicators or personal data."""
    grade = f" 等级：{msg.grade}" if msg.grade else ""
    return f"【ciimap】{msg.event_kind} {msg.subject}{grade}", ""


def outgoing(ch: NotifyChannel, msg: NotifyMessage) -> channels.Outgoing:
    # a digest is built from what the channel may see already (outbox._digest)
    shown = ch.full_content or msg.event_kind == DIGEST
    title, body = (msg.title, msg.body) if shown else public_content(msg)
    return channels.Outgoing(
        msg.idempotency_key, msg.event_kind, msg.subject, msg.grade, title, body, msg.link
    )


def send(ch: NotifyChannel, out: channels.Outgoing, client: httpx.Client | None = None) -> channels.Result:
    url, secret = target_of(ch)
    timeout = get_settings().notify_timeout_seconds
    if ch.kind == "email":
        return channels.send_email(url, secret, out, timeout=timeout)
    if client is None:
        with httpx.Client(timeout=timeout, trust_env=False) as own:
            return channels.send_http(own, ch.kind, url, secret, out)
    return channels.send_http(client, ch.kind, url, secret, out)


def send_test(db: Session, name: str) -> dict[str, Any]:
    """Send a test message to channel ``name`` now (not through the outbox) and record it."""
    ch = get_channel(db, name)
    now = utcnow()
    msg = NotifyMessage(
        channel_id=ch.id,
        idempotency_key=f"test:{ch.id}:{now.timestamp():.6f}",
        event_kind="test",
        subject=f"channel:{ch.name}",
        title="【ciimap】通知渠道测试 / channel test",
        body="ciimap 通知渠道测试消息。This is a test message from ciimap.",
        link=None,
        attempts=1,
        next_attempt_at=now,
    )
    db.add(msg)
    db.flush()
    result = send(ch, outgoing(ch, msg))
    msg.status = "sent" if result.ok else "failed"
    msg.sent_at = utcnow() if result.ok else None
    msg.last_error = result.error
    db.add(
        NotifyAttempt(
            message_id=msg.id,
            channel_id=ch.id,
            subject=msg.subject,
            idempotency_key=msg.idempotency_key,
            at=now,
            status="ok" if result.ok else "error",
            response_code=result.response_code,
            error=result.error,
        )
    )
    db.flush()
    return {"channel": ch.name, "ok": result.ok, "response_code": result.response_code, "error": result.error}


# --- rules ------------------------------------------------------------------------------------------


def rule_view(rule: NotifyRule, channel_name: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "channel": channel_name,
        "kinds": rule.kinds,
        "grades": rule.grades,
        "min_grade": rule.min_grade,
        "system_ids": rule.system_ids,
        "business_service_ids": rule.business_service_ids,
        "enabled": rule.enabled,
    }


def add_rule(
    db: Session,
    *,
    name: str,
    channel: str,
    kinds: list[str] | None = None,
    grades: list[str] | None = None,
    min_grade: str | None = None,
    system_ids: list[int] | None = None,
    business_service_ids: list[int] | None = None,
) -> dict[str, Any]:
    """``grades``: exact grades; ``min_grade``: that grade or more severe (both given: both must hold)."""
    if min_grade is not None and min_grade not in GRADES:
        raise Invalid(f"min_grade {min_grade!r}: not a grade (one of {', '.join(GRADES)})")
    ch = get_channel(db, channel)
    if db.scalar(select(NotifyRule.id).where(NotifyRule.name == name)) is not None:
        raise Conflict(f"rule {name!r} exists")
    rule = NotifyRule(
        name=name,
        channel_id=ch.id,
        kinds=list(kinds or []),
        grades=list(grades or []),
        min_grade=min_grade,
        system_ids=list(system_ids or []),
        business_service_ids=list(business_service_ids or []),
        enabled=True,
    )
    db.add(rule)
    db.flush()
    return rule_view(rule, ch.name)


def list_rules(db: Session) -> list[dict[str, Any]]:
    rows = db.execute(
        select(NotifyRule, NotifyChannel.name)
        .join(NotifyChannel, NotifyChannel.id == NotifyRule.channel_id)
        .order_by(NotifyRule.name)
    )
    return [rule_view(r, n) for r, n in rows]


def remove_rule(db: Session, name: str) -> None:
    rule = db.scalar(select(NotifyRule).where(NotifyRule.name == name))
    if rule is None:
        raise NotFound(f"no notification rule {name!r}")
    db.delete(rule)
    db.flush()


def _ids(attrs: dict[str, Any], one: str, many: str) -> set[Any]:
    out = set(attrs.get(many) or [])
    if attrs.get(one) is not None:
        out.add(attrs[one])
    return out


def at_least(grade: Any, threshold: str) -> bool:
    """Whether ``grade`` is ``threshold`` or more severe (an unknown or missing grade never is)."""
    return grade in GRADES and GRADES.index(grade) <= GRADES.index(threshold)


def rule_matches(rule: NotifyRule, *, kind: str, attrs: dict[str, Any]) -> bool:
    """Every non-empty list of the rule must hold the event's value (any of its systems/services)."""
    if rule.kinds and kind not in rule.kinds:
        return False
    if rule.grades and attrs.get("grade") not in rule.grades:
        return False
    if rule.min_grade and not at_least(attrs.get("grade"), rule.min_grade):
        return False
    if rule.system_ids and not _ids(attrs, "system_id", "system_ids") & set(rule.system_ids):
        return False
    services = _ids(attrs, "business_service_id", "business_service_ids")
    return not (rule.business_service_ids and not services & set(rule.business_service_ids))


# --- publishing -------------------------------------------------------------------------------------


def publish(
    session: Session,
    *,
    kind: str,
    subject: str,
    attrs: dict[str, Any],
    title: str,
    body: str = "",
    link: str | None = None,
    idempotency_key: str,
) -> list[int]:
    """Route an event to every channel whose enabled rule matches and queue one message per channel.

    ``attrs``: ``grade``, ``system_id``/``system_ids``, ``business_service_id``/``business_service_ids``.
    Publishing the same ``idempotency_key`` again queues nothing new. Returns the outbox ids (new or
    already queued). The caller commits.
    """
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid("idempotency_key must be 1 to 200 characters")
    if kind == DIGEST:
        raise Invalid(f"event kind {DIGEST!r} is reserved for the outbox's own digest messages")
    rules = session.scalars(
        select(NotifyRule)
        .join(NotifyChannel, NotifyChannel.id == NotifyRule.channel_id)
        .where(NotifyRule.enabled.is_(True), NotifyChannel.enabled.is_(True))
    )
    channel_ids = sorted({r.channel_id for r in rules if rule_matches(r, kind=kind, attrs=attrs)})
    return enqueue(
        session,
        channel_ids=channel_ids,
        kind=kind,
        subject=subject,
        grade=attrs.get("grade"),
        title=title,
        body=body,
        link=link,
        idempotency_key=idempotency_key,
    )


def enqueue(
    session: Session,
    *,
    channel_ids: list[int],
    kind: str,
    subject: str,
    grade: str | None,
    title: str,
    body: str,
    link: str | None,
    idempotency_key: str,
) -> list[int]:
    """Queue the message for each channel (skipping channels that already hold the key)."""
    if not channel_ids:
        return []
    existing = dict(
        session.execute(
            select(NotifyMessage.channel_id, NotifyMessage.id).where(
                NotifyMessage.idempotency_key == idempotency_key, NotifyMessage.channel_id.in_(channel_ids)
            )
        ).all()
    )
    now = utcnow()
    ids = []
    for cid in channel_ids:
        if cid in existing:
            ids.append(existing[cid])
            continue
        msg = NotifyMessage(
            channel_id=cid,
            idempotency_key=idempotency_key,
            event_kind=kind[:64],
            subject=subject[:200],
            grade=str(grade)[:20] if grade is not None else None,
            title=title[:500],
            body=body,
            link=link,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
        session.add(msg)
        session.flush()
        ids.append(msg.id)
    return ids


# --- reading the outbox -----------------------------------------------------------------------------


def list_messages(
    db: Session, *, status: str | None = None, subject: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    check_choice("status", status, MESSAGE_STATUSES)
    q = (
        select(NotifyMessage, NotifyChannel.name)
        .join(NotifyChannel, NotifyChannel.id == NotifyMessage.channel_id)
        .order_by(NotifyMessage.id.desc())
        .limit(min(limit, MAX_LIST))
        .offset(offset)
    )
    if status:
        q = q.where(NotifyMessage.status == status)
    if subject:
        q = q.where(NotifyMessage.subject == subject)
    return [_message_view(m, name) for m, name in db.execute(q)]


def _message_view(m: NotifyMessage, channel: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "channel": channel,
        "idempotency_key": m.idempotency_key,
        "kind": m.event_kind,
        "subject": m.subject,
        "grade": m.grade,
        "title": m.title,
        "status": m.status,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at,
        "last_error": m.last_error,
        "digest_id": m.digest_id,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
    }


def attempts_for(db: Session, subject: str) -> list[dict[str, Any]]:
    """Every delivery attempt of the messages about ``subject`` (e.g. ``incident:42``), oldest first,
    including the attempts of a digest a message was folded into."""
    msgs = db.execute(
        select(NotifyMessage.id, NotifyMessage.digest_id).where(NotifyMessage.subject == subject)
    ).all()
    ids = {m for m, _ in msgs} | {d for _, d in msgs if d is not None}
    if not ids:
        return []
    rows = db.execute(
        select(NotifyAttempt, NotifyChannel.name)
        .join(NotifyChannel, NotifyChannel.id == NotifyAttempt.channel_id)
        .where(NotifyAttempt.message_id.in_(ids))
        .order_by(NotifyAttempt.at, NotifyAttempt.id)
    )
    return [
        {
            "id": a.id,
            "message_id": a.message_id,
            "channel": name,
            "idempotency_key": a.idempotency_key,
            "at": a.at,
            "status": a.status,
            "response_code": a.response_code,
            "error": a.error,
        }
        for a, name in rows
    ]


def backoff(attempts: int) -> dt.timedelta:
    s = get_settings()
    return dt.timedelta(
        seconds=min(s.notify_backoff_max_seconds, s.notify_backoff_seconds * 2 ** max(attempts - 1, 0))
    )
