"""Findings grouped by advisory, asset or system, and bulk triage of chosen findings or whole groups.

``group_findings`` is one grouped query per page (count, highest priority, highest score, KEV flag,
assets touched) plus one name lookup, whatever the number of findings. ``bulk_triage`` resolves every
chosen finding and group first, validates the decision once, then applies it per triage key (the
decision covers every finding of the same scope, package and advisory, as a single triage does) and
records one audit event naming them all; the caller's transaction makes it all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.core import audit
from ciimap.core.audit import current_actor
from ciimap.core.db import chunks
from ciimap.core.errors import Invalid, NotFound, check_range
from ciimap.inventory.models import Asset, System
from ciimap.vulns import scoring, triage
from ciimap.vulns.models import TRIAGE_STATES, Advisory, Finding, Triage
from ciimap.vulns.service import filtered, kev_advisories

GroupBy = Literal["advisory", "asset", "system"]
GROUP_BY: tuple[str, ...] = get_args(GroupBy)
#: Most findings one bulk triage may change (a bigger selection is refused, not cut).
MAX_BULK = 5000
_COLUMN = {"advisory": Finding.advisory_id, "asset": Finding.asset_id, "system": Finding.system_id}


def _column(by: str) -> Any:
    if by not in _COLUMN:
        raise Invalid(f"group_by: expected one of {', '.join(GROUP_BY)}, got '{by}'")
    return _COLUMN[by]


def group_key(by: str, raw: str) -> str | int | None:
    """A group's key from text: the advisory id, or an asset/system id ('' or 'none': no asset/system)."""
    _column(by)
    raw = (raw or "").strip()
    if by == "advisory":
        if not raw:
            raise Invalid("advisory group: the advisory id is empty")
        return raw
    if raw in ("", "none"):
        return None
    if not raw.isdigit():
        raise Invalid(f"{by} group: expected an id, got '{raw}'")
    return int(raw)


def group_findings(
    session: Session, *, by: str, limit: int = 50, offset: int = 0, **filters: Any
) -> dict[str, Any]:
    """Groups, riskiest first (highest score): key, label, findings, assets, top priority, KEV flag."""
    col = _column(by)
    check_range("limit", limit, 1, 1000)
    check_range("offset", offset, 0, 2**62)
    triage.reopen_expired(session)
    base = filtered(**filters).subquery()
    key = base.c[col.key]
    stmt = (
        select(
            key.label("key"),
            func.count().label("findings"),
            func.count(base.c.asset_id.distinct()).label("assets"),
            func.min(base.c.priority).label("priority"),
            func.max(base.c.score).label("score"),
            func.min(base.c.due_date).label("due"),
        )
        .group_by(key)
        .order_by(func.max(base.c.score).desc(), key)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    total = session.scalar(select(func.count(key.distinct())).select_from(base)) or 0
    if by != "advisory" and session.scalar(select(func.count()).select_from(base).where(key.is_(None))):
        total += 1  # findings without an asset (system software) or without a system form one group
    labels = _labels(session, by, [r.key for r in rows if r.key is not None])
    kev = _kev_groups(session, col, [r.key for r in rows], filters)
    return {
        "by": by,
        "total": int(total),
        "limit": limit,
        "offset": offset,
        "groups": [
            {
                "key": r.key,
                "label": labels.get(r.key, str(r.key)) if r.key is not None else None,
                "findings": int(r.findings),
                "assets": int(r.assets),
                "priority": r.priority,
                "score": float(r.score or 0),
                "kev": r.key in kev,
                "due_date": r.due,
            }
            for r in rows
        ],
    }


def _kev_groups(session: Session, col: Any, keys: list[Any], filters: dict[str, Any]) -> set[Any]:
    """The page's group keys that hold a KEV-listed finding (one query over those groups only)."""
    present = [k for k in keys if k is not None]
    out: set[Any] = set()
    stmt = filtered(**filters).where(Finding.advisory_pk.in_(kev_advisories()))
    for part in chunks(present):
        out.update(session.scalars(stmt.where(col.in_(part)).with_only_columns(col).distinct()))
    if None in keys and session.scalar(stmt.where(col.is_(None)).with_only_columns(Finding.id).limit(1)):
        out.add(None)
    return out


def _labels(session: Session, by: str, keys: list[Any]) -> dict[Any, str]:
    out: dict[Any, str] = {}
    if by == "advisory":
        for part in chunks(sorted(keys)):
            stmt = select(Advisory.advisory_id, Advisory.summary).where(Advisory.advisory_id.in_(part))
            out.update((a, f"{a} · {s}" if s else a) for a, s in session.execute(stmt))
        return out
    model = Asset if by == "asset" else System
    for part in chunks(sorted(keys)):
        out.update((i, n) for i, n in session.execute(select(model.id, model.name).where(model.id.in_(part))))
    return out


def explanations(findings: list[Finding], lang: str) -> dict[int, str]:
    """finding id → why it has its priority (each scoring factor with its points), in ``lang``."""
    return {f.id: scoring.explain(f.factors or [], "zh" if lang.startswith("zh") else "en") for f in findings}


def resolve(
    session: Session,
    *,
    finding_ids: list[int],
    groups: list[tuple[str, str | int | None]],
    filters: dict[str, Any] | None = None,
) -> dict[int, Finding]:
    """Every chosen finding (ids must all exist) and every active finding of the chosen groups."""
    found: dict[int, Finding] = {}
    wanted = sorted(set(finding_ids))
    for part in chunks(wanted):
        found.update((f.id, f) for f in session.scalars(select(Finding).where(Finding.id.in_(part))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"findings do not exist: {', '.join(map(str, missing[:20]))}")
    for by, key in groups:
        col = _column(by)
        stmt = filtered(**(filters or {})).where(col.is_(None) if key is None else col == key)
        stmt = stmt.limit(MAX_BULK + 1)
        found.update((f.id, f) for f in session.scalars(stmt))
        if len(found) > MAX_BULK:
            break
    if not found:
        raise Invalid("no finding chosen: select findings or groups")
    if len(found) > MAX_BULK:
        raise Invalid(f"more than {MAX_BULK} findings chosen: narrow the selection")
    return found


def bulk_triage(
    session: Session,
    *,
    finding_ids: list[int] = (),  # type: ignore[assignment]
    groups: list[tuple[str, str | int | None]] = (),  # type: ignore[assignment]
    filters: dict[str, Any] | None = None,
    state: str | None = None,
    justification: str | None = None,
    detail: str | None = None,
    expires: dt.date | None = None,
    assignee: str | None = None,
    due_date: dt.date | None = None,
    actor: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Set status, assignee, due date and note on many findings at once; all or nothing.

    ``state`` None keeps each decision's state (only assignee/due/note change); ``assignee`` '' clears it.
    """
    today = today or dt.date.today()
    actor = actor or current_actor().name
    assignee = assignee.strip() if assignee is not None else None
    if assignee is not None and len(assignee) > 100:
        raise Invalid("assignee: at most 100 characters")
    if state is None and assignee is None and due_date is None and not detail:
        raise Invalid("nothing to change: give a status, an assignee, a due date or a note")
    if state is not None:
        triage._validate(state, justification, expires, today)  # noqa: SLF001 - one rule for one and many
    if due_date is not None and due_date < today:
        raise Invalid(f"due date {due_date} is in the past")
    found = resolve(session, finding_ids=list(finding_ids), groups=list(groups), filters=filters)
    first: dict[str, Finding] = {}
    for f in sorted(found.values(), key=lambda f: f.id):
        first.setdefault(f.triage_key, f)
    existing = triage.load(session, set(first))
    for key, f in first.items():
        if state is not None:
            t = triage.set_state(
                session,
                finding_id=f.id,
                state=state,
                justification=justification,
                detail=detail,
                expires=expires,
                today=today,
                actor=actor,
            )
        else:
            t = existing.get(key) or _new_decision(session, f, actor)
            if detail:
                t.detail = detail
        if assignee is not None:
            t.assignee = assignee or None
        if due_date is not None:
            t.due_date = due_date
        if state is None or assignee is not None or due_date is not None:
            t.actor = actor
            t.history = [
                *(t.history or []),
                {
                    "at": dt.datetime.now(dt.UTC).isoformat(),
                    "actor": actor,
                    "state": t.state,
                    "assignee": t.assignee,
                    "due_date": t.due_date.isoformat() if t.due_date else None,
                    "detail": detail,
                    "bulk": True,
                },
            ]
    session.flush()
    ids = sorted(found)
    summary = {
        "findings": len(ids),
        "decisions": len(first),
        "state": state,
        "assignee": assignee,
        "due_date": due_date.isoformat() if due_date else None,
        "groups": [[by, key] for by, key in groups],
    }
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
    audit.record(
        session,
        "bulk_triage",
        Finding.__tablename__,
        None,
        after={**summary, "finding_ids": ids[:200], "ids_sha256": digest},
    )
    return summary


def _new_decision(session: Session, f: Finding, actor: str) -> Triage:
    scope_type, scope_id = f.triage_key.split("|", 1)[0].split(":", 1)
    t = Triage(
        key=f.triage_key,
        scope_type=scope_type,
        scope_id=int(scope_id),
        package=f.package,
        advisory_id=f.advisory_id,
        state=f.status if f.status in TRIAGE_STATES else "new",
        version=f.version,
        actor=actor,
        history=[],
    )
    session.add(t)
    return t
