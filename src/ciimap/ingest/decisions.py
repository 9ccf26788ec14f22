"""Explaining and overriding correlation: ``why``, manual ``link`` (merge) and ``unlink`` (split)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ciimap.core import audit
from ciimap.core.errors import Invalid, NotFound
from ciimap.ingest.correlate import KNOWN_KEYS
from ciimap.ingest.models import (
    AssetIdentity,
    AttributeProvenance,
    ChangeEvent,
    ImportRun,
    LinkDecision,
    ScanDetail,
    ScopeState,
)
from ciimap.inventory.models import Asset, Edge, IpAddress, ServiceEndpoint, Software


def _asset(session: Session, asset_id: int) -> Asset:
    a = session.get(Asset, asset_id)
    if a is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return a


def why(session: Session, *, asset_id: int) -> dict[str, Any]:
    """Which identity key attached which source's observation to the asset, in which run, and when."""
    a = _asset(session, asset_id)
    ids = list(
        session.scalars(
            select(AssetIdentity).where(AssetIdentity.asset_id == asset_id).order_by(AssetIdentity.id)
        )
    )
    runs = {
        r.id: r
        for r in session.scalars(
            select(ImportRun).where(
                ImportRun.id.in_(
                    {i.first_run_id for i in ids if i.first_run_id}
                    | {i.last_run_id for i in ids if i.last_run_id}
                )
            )
        )
    }
    lines = []
    for i in ids:
        run = runs.get(i.first_run_id or -1)
        origin = f"run {i.first_run_id} ({run.kind}, scope {run.scope})" if run else "a manual decision"
        how = {"created": "created this asset", "manual link": "was attached by a manual link decision"}.get(
            i.how, f"was merged because the observation matched on {i.how.removeprefix('matched:')}"
        )
        lines.append(
            f"{i.key}={i.value} from {i.source} {how} in {origin} at {i.first_seen:%Y-%m-%d %H:%M:%S}"
            + (f"; re-confirmed in run {i.last_run_id}" if i.last_run_id != i.first_run_id else "")
        )
    decisions = list(session.scalars(select(LinkDecision).where(LinkDecision.asset_id == asset_id)))
    lines.extend(
        f"manual {d.action}: {d.key}={d.value} by {d.created_by} at {d.created_at:%Y-%m-%d %H:%M:%S}"
        for d in decisions
    )
    scope_rows = list(session.scalars(select(ScopeState).where(ScopeState.asset_id == asset_id)))
    lines.extend(
        f"seen by scope {st.scope}: first in run {st.first_run_id}, last in run {st.last_run_id} at "
        f"{st.last_seen:%Y-%m-%d %H:%M:%S}" + (" (now missing)" if st.missing else "")
        for st in scope_rows
    )
    prov = session.scalars(
        select(AttributeProvenance)
        .where(AttributeProvenance.asset_id == asset_id)
        .order_by(AttributeProvenance.attribute, AttributeProvenance.source)
    )
    return {
        "asset": {
            "id": a.id,
            "name": a.name,
            "hostname": a.hostname,
            "primary_ip": a.primary_ip,
            "lifecycle_status": a.lifecycle_status,
            "declared": a.declared,
            "source": a.source,
        },
        "explanation": lines,
        "identities": [
            {
                "key": i.key,
                "value": i.value,
                "source": i.source,
                "how": i.how,
                "first_run_id": i.first_run_id,
                "last_run_id": i.last_run_id,
                "first_seen": i.first_seen,
                "last_seen": i.last_seen,
            }
            for i in ids
        ],
        "provenance": [
            {
                "attribute": p.attribute,
                "value": p.value,
                "source": p.source,
                "run_id": p.run_id,
                "first_seen": p.first_seen,
                "last_seen": p.last_seen,
            }
            for p in prov
        ],
        "scopes": [
            {
                "scope": s.scope,
                "first_run_id": s.first_run_id,
                "last_run_id": s.last_run_id,
                "missing": s.missing,
                "last_seen": s.last_seen,
            }
            for s in scope_rows
        ],
        "decisions": [
            {"id": d.id, "action": d.action, "key": d.key, "value": d.value, "note": d.note}
            for d in decisions
        ],
    }


def _check_key(key: str) -> None:
    if key not in KNOWN_KEYS:
        raise Invalid(f"unknown identity key '{key}' (known: {', '.join(KNOWN_KEYS)})")


def link(
    session: Session,
    *,
    asset_id: int,
    other_id: int | None = None,
    key: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Merge asset ``other_id`` into ``asset_id`` (or pin ``key=value`` to it); later imports keep it so."""
    target = _asset(session, asset_id)
    actor = audit.current_actor().name
    pairs: list[tuple[str, str]] = []
    if key is not None:
        _check_key(key)
        if not value:
            raise Invalid("link by key needs a value")
        pairs.append((key, value))
    if other_id is not None:
        if other_id == asset_id:
            raise Invalid("cannot link an asset to itself")
        other = _asset(session, other_id)
        pairs.extend(
            session.execute(
                select(AssetIdentity.key, AssetIdentity.value).where(AssetIdentity.asset_id == other_id)
            ).tuples()
        )
        _merge_rows(session, target, other)
    if not pairs:
        raise Invalid("give another asset id or --key/--value to link")
    for k, v in pairs:
        session.execute(
            delete(LinkDecision).where(
                LinkDecision.key == k, LinkDecision.value == v, LinkDecision.action == "link"
            )
        )
        session.add(
            LinkDecision(action="link", asset_id=asset_id, key=k, value=v, note=note, created_by=actor)
        )
    session.execute(
        update(AssetIdentity)
        .where(AssetIdentity.key.in_({k for k, _ in pairs}), AssetIdentity.value.in_({v for _, v in pairs}))
        .values(asset_id=asset_id, how="manual link")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return {"asset_id": asset_id, "linked": [f"{k}={v}" for k, v in pairs]}


def _merge_rows(session: Session, target: Asset, other: Asset) -> None:
    """Move everything the duplicate carries onto the target, dropping exact duplicates first."""
    tid, oid = target.id, other.id
    dup = [
        (IpAddress, (IpAddress.address,)),
        (ServiceEndpoint, (ServiceEndpoint.address, ServiceEndpoint.protocol, ServiceEndpoint.port)),
        (AttributeProvenance, (AttributeProvenance.attribute, AttributeProvenance.source)),
        (ScopeState, (ScopeState.scope,)),
        (ScanDetail, (ScanDetail.source,)),
    ]
    for model, cols in dup:
        have = set(session.execute(select(*cols).where(model.asset_id == tid)).tuples())  # type: ignore[attr-defined]
        rows = session.execute(select(model.id, *cols).where(model.asset_id == oid)).tuples()  # type: ignore[attr-defined]
        gone = [r[0] for r in rows if tuple(r[1:]) in have]
        if gone:
            session.execute(delete(model).where(model.id.in_(gone)))  # type: ignore[attr-defined]
        session.execute(
            update(model)
            .where(model.asset_id == oid)  # type: ignore[attr-defined]
            .values(asset_id=tid)
            .execution_options(synchronize_session=False)
        )
    for model in (Software, ChangeEvent):
        session.execute(
            update(model)
            .where(model.asset_id == oid)
            .values(asset_id=tid)
            .execution_options(synchronize_session=False)
        )
    for col in ("src", "dst"):
        session.execute(
            update(Edge)
            .where(getattr(Edge, f"{col}_type") == "asset", getattr(Edge, f"{col}_id") == oid)
            .values({f"{col}_id": tid})
            .execution_options(synchronize_session=False)
        )
    target.ips = list(dict.fromkeys([*(target.ips or []), *(other.ips or [])]))
    target.macs = list(dict.fromkeys([*(target.macs or []), *(other.macs or [])]))
    target.declared = target.declared or other.declared
    for attr in (
        "hostname",
        "serial",
        "cloud_id",
        "os_name",
        "os_family",
        "os_version",
        "owner_id",
        "system_id",
        "site_id",
        "zone_id",
    ):
        if getattr(target, attr) is None:
            setattr(target, attr, getattr(other, attr))
    session.execute(
        update(AssetIdentity)
        .where(AssetIdentity.asset_id == oid)
        .values(asset_id=tid)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(LinkDecision).where(LinkDecision.asset_id == oid))
    session.flush()
    session.delete(other)
    session.flush()


def unlink(
    session: Session, *, asset_id: int, key: str, value: str, note: str | None = None
) -> dict[str, Any]:
    """``key=value`` must never merge into this asset again; the next observation of it starts a new asset."""
    _check_key(key)
    a = _asset(session, asset_id)
    session.execute(
        delete(LinkDecision).where(
            LinkDecision.key == key, LinkDecision.value == value, LinkDecision.asset_id == asset_id
        )
    )
    session.add(
        LinkDecision(
            action="unlink",
            asset_id=asset_id,
            key=key,
            value=value,
            note=note,
            created_by=audit.current_actor().name,
        )
    )
    removed = session.execute(
        delete(AssetIdentity).where(
            AssetIdentity.asset_id == asset_id, AssetIdentity.key == key, AssetIdentity.value == value
        )
    ).rowcount  # type: ignore[attr-defined]
    if key == "ip" and value in (a.ips or []):
        a.ips = [ip for ip in a.ips if ip != value]
        a.primary_ip = a.ips[0] if a.ips else None
        session.execute(delete(IpAddress).where(IpAddress.asset_id == asset_id, IpAddress.address == value))
        session.execute(delete(ScopeState).where(ScopeState.asset_id == asset_id))
    if key == "mac" and value in (a.macs or []):
        a.macs = [m for m in a.macs if m != value]
    session.flush()
    return {"asset_id": asset_id, "unlinked": f"{key}={value}", "identity_removed": bool(removed)}
