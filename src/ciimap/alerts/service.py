"""Reading alerts: the filtered newest-first listing, one alert with its mapping, and the internal
addresses that match no asset (unmanaged-asset candidates). Importing is the one runner's
(``ciimap.ingest.service.import_files``) with the sources in ``alerts/sources``.

Filters by system and business service are computed on read from the current map (the assets of the
system: ``asset.system_id`` and assets it needs through an edge; of the service: the assets it needs
directly and those of the systems it needs), so a change to the map applies to old alerts too; the
``system_ids``/``service_ids`` stored on each alert are the load-time snapshot, for display.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select, union, union_all
from sqlalchemy.orm import Session

from ciimap.alerts.groups import keyset
from ciimap.alerts.mapping import service_assets, system_assets
from ciimap.alerts.models import Alert, AlertGroup
from ciimap.alerts.schemas import AlertDetail, AlertRead
from ciimap.core.errors import NotFound, check_choice
from ciimap.inventory.models import CRITICALITY, Asset, BusinessService, NetworkZone, System
from ciimap.sources import kinds


def _in_group(session: Session, group_id: int) -> list[Any]:
    """The alerts of a group (drill-down): its key — kind, rule, target, attacker — within its span."""
    g = session.get(AlertGroup, group_id)
    if g is None:
        raise NotFound(f"alert group {group_id} does not exist")
    first, last = (t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (g.first_seen, g.last_seen))
    return [
        Alert.reject.is_(None),
        Alert.kind == g.kind,
        Alert.rule_id == g.rule_id if g.rule_id else Alert.rule_id.is_(None),
        Alert.dest_asset_id == g.target_asset_id
        if g.target_asset_id is not None
        else and_(Alert.dest_asset_id.is_(None), Alert.dest_ip == g.target_ip)
        if g.target_ip
        else and_(Alert.dest_asset_id.is_(None), Alert.dest_ip.is_(None)),
        Alert.src_ip == g.attacker_ip if g.attacker_ip else Alert.src_ip.is_(None),
        Alert.time >= first,
        Alert.time <= last,
    ]


def _either(ids: Any) -> Any:
    return or_(Alert.src_asset_id.in_(ids), Alert.dest_asset_id.in_(ids))


def list_alerts(
    session: Session,
    *,
    severity: str | None = None,
    priority: str | None = None,
    asset_id: int | None = None,
    system_id: int | None = None,
    service_id: int | None = None,
    zone_id: int | None = None,
    since: dt.datetime | None = None,
    kind: str | None = None,
    rejected: bool | None = None,
    group_id: int | None = None,
    before_time: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Alerts newest first (time, then id), each as :class:`AlertRead` data. ``group_id``: the alerts
    of one group (the console's drill-down); ``before_time`` + ``before_id``: the page after the row
    with that time and id (keyset pagination; prefer it to ``offset`` on large tables)."""
    check_choice("severity", severity, CRITICALITY)
    check_choice("priority", priority, CRITICALITY)
    check_choice("kind", kind, kinds("alerts"))
    stmt = select(Alert)
    if severity:
        stmt = stmt.where(Alert.severity == severity)
    if priority:
        stmt = stmt.where(Alert.priority == priority)
    if asset_id is not None:
        stmt = stmt.where(or_(Alert.src_asset_id == asset_id, Alert.dest_asset_id == asset_id))
    if system_id is not None:
        stmt = stmt.where(_either(union(*system_assets([system_id]))))
    if service_id is not None:
        stmt = stmt.where(_either(service_assets(service_id)))
    if zone_id is not None:
        stmt = stmt.where(or_(Alert.src_zone_id == zone_id, Alert.dest_zone_id == zone_id))
    if since is not None:
        stmt = stmt.where(Alert.time >= (since if since.tzinfo else since.replace(tzinfo=dt.UTC)))
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if rejected is not None:
        stmt = stmt.where(Alert.reject.is_not(None) if rejected else Alert.reject.is_(None))
    if group_id is not None:
        stmt = stmt.where(*_in_group(session, group_id))
    page = keyset(Alert.time, Alert.id, before_time, before_id)
    if page is not None:
        stmt = stmt.where(page)
    rows = session.scalars(stmt.order_by(Alert.time.desc(), Alert.id.desc()).limit(limit).offset(offset))
    return [AlertRead.model_validate(r).model_dump(mode="json") for r in rows]


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(sorted(ids)))).tuples().all())


def get_alert(session: Session, *, alert_id: int) -> dict[str, Any]:
    """One alert with its raw line and its mapping, by name."""
    a = session.get(Alert, alert_id)
    if a is None:
        raise NotFound(f"alert {alert_id} does not exist")
    assets = _names(session, Asset, {x for x in (a.src_asset_id, a.dest_asset_id) if x})
    zones = _names(session, NetworkZone, {x for x in (a.src_zone_id, a.dest_zone_id) if x})
    systems = _names(session, System, set(a.system_ids or []))
    services = _names(session, BusinessService, set(a.service_ids or []))

    def node(names: dict[int, str], i: int | None) -> dict[str, Any] | None:
        return None if i is None else {"id": i, "name": names.get(i, f"#{i} (deleted)")}

    mapping: dict[str, Any] = {
        side: {
            "ip": getattr(a, f"{side}_ip"),
            "port": getattr(a, f"{side}_port"),
            "asset": node(assets, getattr(a, f"{side}_asset_id")),
            "zone": node(zones, getattr(a, f"{side}_zone_id")),
            "matched_by": getattr(a, f"{side}_matched_by"),
            "internal": getattr(a, f"{side}_internal"),
        }
        for side in ("src", "dest")
    }
    mapping["systems"] = [node(systems, s) for s in a.system_ids or []]
    mapping["services"] = [node(services, s) for s in a.service_ids or []]
    data = AlertDetail.model_validate(
        {
            **AlertRead.model_validate(a).model_dump(),
            "raw": a.raw,
            "line_no": a.line_no,
            "src_internal": a.src_internal,
            "dest_internal": a.dest_internal,
            "mapping": mapping,
        }
    )
    return data.model_dump(mode="json")


def unmanaged(session: Session, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Internal addresses (RFC 1918/ULA or in a zone's CIDR) in accepted alerts that match no asset,
    most alerts first: the unmanaged-asset candidates."""
    sides = [
        select(
            getattr(Alert, f"{s}_ip").label("ip"),
            Alert.time.label("time"),
            getattr(Alert, f"{s}_zone_id").label("zone_id"),
        ).where(
            getattr(Alert, f"{s}_internal").is_(True),
            getattr(Alert, f"{s}_asset_id").is_(None),
            getattr(Alert, f"{s}_ip").is_not(None),
            Alert.reject.is_(None),
        )
        for s in ("src", "dest")
    ]
    u = union_all(*sides).subquery()
    stmt = (
        select(
            u.c.ip,
            func.count().label("alerts"),
            func.min(u.c.time),
            func.max(u.c.time),
            func.max(u.c.zone_id),
        )
        .group_by(u.c.ip)
        .order_by(func.count().desc(), u.c.ip)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"ip": ip, "alerts": n, "first_seen": first, "last_seen": last, "zone_id": zone}
        for ip, n, first, last, zone in session.execute(stmt)
    ]
