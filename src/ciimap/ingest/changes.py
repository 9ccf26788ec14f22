"""History and change: missing assets after a scoped run, change-event queries, unmanaged and ghost assets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from ciimap.core.db import IN_BATCH
from ciimap.core.errors import check_range
from ciimap.ingest.context import RunCtx
from ciimap.ingest.models import ChangeEvent, ImportRun, ScopeState
from ciimap.inventory.models import Asset


def mark_missing(ctx: RunCtx) -> None:
    """Assets the scope saw before but this run did not: marked missing (never deleted)."""
    s = ctx.session
    rows = list(
        s.execute(
            select(ScopeState.asset_id).where(
                ScopeState.scope == ctx.scope,
                ScopeState.last_run_id != ctx.run_id,
                ScopeState.missing.is_(False),
            )
        )
    )
    ids = [r[0] for r in rows]
    for i in range(0, len(ids), IN_BATCH):
        part = ids[i : i + IN_BATCH]
        s.execute(
            update(ScopeState)
            .where(ScopeState.scope == ctx.scope, ScopeState.asset_id.in_(part))
            .values(missing=True)
            .execution_options(synchronize_session=False)
        )
        s.execute(
            update(Asset)
            .where(Asset.id.in_(part), Asset.lifecycle_status == "active")
            .values(lifecycle_status="missing", updated_at=ctx.now)
            .execution_options(synchronize_session=False)
        )
        ips = dict(s.execute(select(Asset.id, Asset.primary_ip).where(Asset.id.in_(part))).all())
        for aid in part:
            ctx.event(
                "asset_missing",
                aid,
                ips.get(aid),
                {"lifecycle_status": "active"},
                {"lifecycle_status": "missing"},
            )
    ctx.stats["missing"] += len(ids)
    ctx.flush_events()


def list_changes(
    session: Session,
    *,
    run_id: int | None = None,
    kind: str | None = None,
    asset_id: int | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    check_range("limit", limit, 1, 1000)
    stmt = select(ChangeEvent)
    if run_id is not None:
        stmt = stmt.where(ChangeEvent.run_id == run_id)
    if kind:
        stmt = stmt.where(ChangeEvent.kind == kind)
    if asset_id is not None:
        stmt = stmt.where(ChangeEvent.asset_id == asset_id)
    if since is not None:
        stmt = stmt.where(ChangeEvent.at >= since)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(session.scalars(stmt.order_by(ChangeEvent.id).limit(limit).offset(offset)))
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def list_runs(
    session: Session, *, kind: str | None = None, scope: str | None = None, limit: int = 50, offset: int = 0
) -> list[ImportRun]:
    check_range("limit", limit, 1, 1000)
    check_range("offset", offset, 0, 2**62)
    stmt = select(ImportRun).order_by(ImportRun.id.desc()).limit(limit).offset(offset)
    if kind:
        stmt = stmt.where(ImportRun.kind == kind)
    if scope:
        stmt = stmt.where(ImportRun.scope == scope)
    return list(session.scalars(stmt))


def unmanaged(session: Session, *, limit: int = 500, offset: int = 0) -> list[Asset]:
    """Observed by a scan or an agent but absent from the declared register."""
    seen = exists().where(ScopeState.asset_id == Asset.id)
    stmt = (
        select(Asset)
        .where(Asset.declared.is_(False), seen, Asset.lifecycle_status != "retired")
        .order_by(Asset.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def ghosts(session: Session, *, limit: int = 500, offset: int = 0) -> list[Asset]:
    """Declared in the register but never observed by any scan or agent run."""
    seen = exists().where(ScopeState.asset_id == Asset.id)
    stmt = (
        select(Asset)
        .where(Asset.declared.is_(True), ~seen, Asset.lifecycle_status != "retired")
        .order_by(Asset.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))
