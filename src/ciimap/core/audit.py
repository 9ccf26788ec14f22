"""The one audit mechanism: every ORM create/update/delete of an audited model, from any interface,
is written in the same transaction to a hash-chained, tamper-evident log.

Bulk loads that bypass the ORM (imports, the demo generator) call :func:`record_bulk` with a digest
of what they wrote, so they too leave exactly one accountable record per operation.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, event, func, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ciimap.core.db import Base, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    name: str
    request_id: str | None = None
    via: str = "cli"  # api, web, cli, job, system


_SYSTEM = Actor("system", via="system")
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("ciimap_actor", default=_SYSTEM)  # noqa: B039 (frozen)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor) -> None:
    _actor.set(actor)


def bind_actor(session: Session, actor: Actor) -> None:
    """Attach the actor to a session: survives FastAPI running dependencies in other threads."""
    session.info["actor"] = actor


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    via: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class AuditHead(Base):
    """Single row holding the chain's tip, so deleting the newest records is detected too."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _canonical_ts(ts: dt.datetime) -> str:
    return str(_jsonable(ts))


def compute_hash(row: dict[str, Any], prev_hash: str) -> str:
    payload = {
        "id": row["id"],
        "ts": _canonical_ts(row["ts"]),
        "actor": row["actor"],
        "via": row["via"],
        "request_id": row["request_id"],
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": row["entity_id"],
        "before": row["before"],
        "after": row["after"],
        "note": row["note"],
        "prev_hash": prev_hash,
    }
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _masked(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Secret columns (``__audit_secret__``: password and token hashes) are never copied into the
    log: a short digest of the stored value shows that it changed and reveals nothing else."""
    for key in getattr(obj, "__audit_secret__", ()):
        if values.get(key) is not None:
            values[key] = "secret:" + hashlib.sha256(str(values[key]).encode()).hexdigest()[:12]
    return values


def snapshot(obj: Any) -> dict[str, Any]:
    """Column values of an ORM object as JSON-safe data."""
    mapper = inspect(obj).mapper
    return _masked(obj, {c.key: _jsonable(getattr(obj, c.key)) for c in mapper.column_attrs})


def _before_snapshot(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.deleted:
            out[attr.key] = _jsonable(hist.deleted[0])
        elif hist.unchanged:
            out[attr.key] = _jsonable(hist.unchanged[0])
        else:
            out[attr.key] = _jsonable(getattr(obj, attr.key))
    return _masked(obj, out)


def _entity_type(obj: Any) -> str:
    return str(obj.__tablename__)


def append(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append entries to the chain inside the session's transaction (serialised on the head row)."""
    if not entries:
        return
    conn = session.connection()
    stmt = select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    else:
        # SQLite: take the write lock before reading the head. Otherwise a transaction whose first
        # write is this append reads the head, then waits for another writer (another server
        # process or thread) and appends under an id that writer has just used.
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id))
    head = conn.execute(stmt).first()
    if head is not None:
        last_id, last_hash = head
    elif conn.dialect.name == "postgresql":  # the first event ever: two first writers may race
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS).on_conflict_do_nothing())
        last_id, last_hash = conn.execute(stmt).one()  # ours, or the other's once committed: locked
    else:  # SQLite: this transaction holds the write lock, nobody else can create it
        conn.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS))
        last_id, last_hash = 0, GENESIS
    actor = session.info.get("actor") or current_actor()
    now = utcnow()
    rows = []
    for e in entries:
        last_id += 1
        row = {
            "id": last_id,
            "ts": now,
            "actor": actor.name,
            "via": actor.via,
            "request_id": actor.request_id,
            "action": e["action"],
            "entity_type": e["entity_type"],
            "entity_id": None if e.get("entity_id") is None else str(e["entity_id"]),
            "before": e.get("before"),
            "after": e.get("after"),
            "note": e.get("note"),
        }
        row["prev_hash"] = last_hash
        row["hash"] = last_hash = compute_hash(row, last_hash)
        rows.append(row)
    conn.execute(insert(AuditLog), rows)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=last_id, last_hash=last_hash))


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Record one event that is not an ORM change (login, export, scan, job, bulk load)."""
    append(
        session,
        [
            {
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "before": _jsonable(before),
                "after": _jsonable(after),
                "note": note,
            }
        ],
    )


def record_bulk(
    session: Session,
    action: str,
    entity_type: str,
    *,
    count: int,
    digest: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """One record for a bulk load of ``count`` rows; ``digest`` is a hash of what was written."""
    after = {"count": count, "sha256": digest, **(detail or {})}
    record(session, action, entity_type, None, after=after)


# --- ORM hooks -------------------------------------------------------------------------------

_PENDING = "ciimap_audit_pending"


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            pending.append(("update", obj, _before_snapshot(obj)))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            pending.append(("delete", obj, _before_snapshot(obj)))
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            pending.append(("create", obj, None))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    pending = session.info.pop(_PENDING, [])
    entries = []
    for action, obj, before in pending:
        after = None if action == "delete" else snapshot(obj)
        if action == "update":
            assert before is not None and after is not None
            changed = {k for k in after if after.get(k) != before.get(k) and k != "updated_at"}
            if not changed:
                continue
            before = {k: before[k] for k in sorted(changed | {"id"})}
            after = {k: after[k] for k in sorted(changed | {"id"})}
        pk = inspect(obj).mapper.primary_key_from_instance(obj)
        entries.append(
            {
                "action": action,
                "entity_type": _entity_type(obj),
                "entity_id": pk[0] if len(pk) == 1 else list(pk),
                "before": before,
                "after": after,
            }
        )
    append(session, entries)


# --- verification ----------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str]


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain; report edited records (hash mismatch), deleted ones (gaps, broken links)
    and a truncated tail (head mismatch)."""
    problems: list[str] = []
    prev_hash, expected_id, checked = GENESIS, 1, 0
    last_seen = 0
    while True:
        rows = (
            session.execute(
                select(AuditLog).where(AuditLog.id > last_seen).order_by(AuditLog.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for r in rows:
            checked += 1
            if r.id != expected_id:
                problems.append(f"records {expected_id}..{r.id - 1} are missing (deleted)")
            if r.prev_hash != prev_hash:
                problems.append(f"record {r.id}: link to the previous record is broken")
            row = {
                c: getattr(r, c)
                for c in (
                    "id",
                    "ts",
                    "actor",
                    "via",
                    "request_id",
                    "action",
                    "entity_type",
                    "entity_id",
                    "before",
                    "after",
                    "note",
                )
            }
            if compute_hash(row, r.prev_hash) != r.hash:
                problems.append(f"record {r.id}: content does not match its hash (edited)")
            prev_hash, expected_id, last_seen = r.hash, r.id + 1, r.id
        session.expunge_all()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is not None and (head.last_id != last_seen or head.last_hash != prev_hash):
        problems.append(
            f"chain ends at record {last_seen} but the head says {head.last_id} (records deleted at the end)"
        )
    if head is None and checked:
        problems.append("chain head is missing")
    return VerifyResult(ok=not problems, checked=checked, problems=problems)


def query_log(
    db: Session, *, entity_type: str | None, entity_id: str | None, actor: str | None, limit: int, offset: int
) -> dict[str, Any]:
    stmt = select(AuditLog)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    total = db.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(db.scalars(stmt.order_by(AuditLog.id.desc()).limit(limit).offset(offset)))
    return {"items": items, "total": total, "limit": limit, "offset": offset}
