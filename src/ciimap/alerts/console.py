"""What the alert console, the warnings page and the topology overlay show: groups (never raw lines)
with the names of what they touch, a group's raw alerts with how each address was mapped, a
warning's evidence, and "under attack now" per asset and the warning level per system.

Thin data functions over the alerts tables, called by the pages (``web/views_alerts.py``), the API
(``GET /api/alerts/console``, ``/api/alerts/groups/{id}``, ``/api/alerts/warnings/{id}/evidence``,
``/api/alerts/overlay``) and the CLI (``ciimap alerts group``, ``ciimap alerts evidence``). Every
listing is one indexed query ordered by an index ((last_seen, id) for groups, (time, id) or
(dest_asset_id, time) for alerts) plus one name look-up per kind of name — constant in the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select, true, union
from sqlalchemy.orm import Session

from ciimap.alerts import warnings as warnmod
from ciimap.alerts.groups import aware
from ciimap.alerts.mapping import service_assets, system_assets
from ciimap.alerts.models import WARNING_LEVELS, WARNING_STATES, Alert, AlertGroup, AlertWarning
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid, NotFound, check_choice
from ciimap.intel.models import INDICATOR_TYPES, TLP_LEVELS
from ciimap.inventory.models import CRITICALITY, Asset, BusinessService, NetworkZone, System
from ciimap.sources import kinds

__all__ = [
    "CRITICALITY",
    "INDICATOR_TYPES",
    "TLP_LEVELS",
    "WARNING_LEVELS",
    "WARNING_STATES",
]  # the pages' choices
#: Raw alerts shown per group or warning (the rest through ``alerts list``).
DRILL_LIMIT = 100
#: "Under attack now": groups seen within this long before the newest alert.
NOW_WINDOW = dt.timedelta(hours=24)


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(sorted(ids)))).tuples().all())


def _group_row(g: AlertGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "kind": g.kind,
        "rule_id": g.rule_id or None,
        "rule_name": g.rule_name,
        "target_asset_id": g.target_asset_id,
        "target_ip": g.target_ip or None,
        "attacker_ip": g.attacker_ip or None,
        "zone_id": g.zone_id,
        "first_seen": aware(g.first_seen),
        "last_seen": aware(g.last_seen),
        "count": g.count,
        "open_count": g.open_count,
        "suppressed_count": g.count - g.open_count,
        "severity": g.severity,
        "priority": g.priority,
        "sample_ids": list(g.sample_ids or []),
        "system_ids": list(g.system_ids or []),
        "service_ids": list(g.service_ids or []),
    }


def _name_groups(session: Session, rows: list[dict[str, Any]]) -> None:
    assets = _names(session, Asset, {r["target_asset_id"] for r in rows})
    zones = _names(session, NetworkZone, {r["zone_id"] for r in rows})
    systems = _names(session, System, {s for r in rows for s in r["system_ids"]})
    services = _names(session, BusinessService, {s for r in rows for s in r["service_ids"]})
    for r in rows:
        r["target_name"] = assets.get(r["target_asset_id"]) if r["target_asset_id"] else None
        r["zone_name"] = zones.get(r["zone_id"]) if r["zone_id"] else None
        r["systems"] = [{"id": s, "name": systems.get(s, f"#{s}")} for s in r["system_ids"]]
        r["services"] = [{"id": s, "name": services.get(s, f"#{s}")} for s in r["service_ids"]]


def console(
    session: Session,
    *,
    severity: str | None = None,
    kind: str | None = None,
    system_id: int | None = None,
    service_id: int | None = None,
    zone_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    open_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Alert groups for the console, newest ``last_seen`` first, with names; ``severity`` is a minimum
    (the group's highest is at least it); ``since``/``until`` bound ``last_seen``; the system and service
    filters use the current map, applied to the group's target asset (as ``alerts groups`` does).
    Returns ``{"groups": [...], "more": bool}`` (one row more is read to know whether a next page exists:
    no count over millions of groups)."""
    check_choice("severity", severity, CRITICALITY)
    check_choice("kind", kind, kinds("alerts"))
    stmt = select(AlertGroup)
    if severity:
        stmt = stmt.where(AlertGroup.severity.in_(CRITICALITY[CRITICALITY.index(severity) :]))
    if kind:
        stmt = stmt.where(AlertGroup.kind == kind)
    if system_id is not None:
        stmt = stmt.where(AlertGroup.target_asset_id.in_(union(*system_assets([system_id]))))
    if service_id is not None:
        stmt = stmt.where(AlertGroup.target_asset_id.in_(service_assets(service_id)))
    if zone_id is not None:
        stmt = stmt.where(AlertGroup.zone_id == zone_id)
    if since is not None:
        stmt = stmt.where(AlertGroup.last_seen >= aware(since))
    if until is not None:
        stmt = stmt.where(AlertGroup.last_seen <= aware(until))
    if since is not None and until is not None and aware(since) > aware(until):
        raise Invalid("since: must not be after until")
    if open_only:
        stmt = stmt.where(AlertGroup.open_count > 0)
    found = list(
        session.scalars(
            stmt.order_by(AlertGroup.last_seen.desc(), AlertGroup.id.desc()).limit(limit + 1).offset(offset)
        )
    )
    rows = [_group_row(g) for g in found[:limit]]
    _name_groups(session, rows)
    return {"groups": rows, "more": len(found) > limit}


def _mapped(session: Session, alerts: list[Alert]) -> list[dict[str, Any]]:
    """Alerts with their raw line and, per side, the address, the asset and zone by name and how the
    address was matched (ip, hostname, agent, cidr)."""
    assets = _names(session, Asset, {x for a in alerts for x in (a.src_asset_id, a.dest_asset_id) if x})
    zones = _names(session, NetworkZone, {x for a in alerts for x in (a.src_zone_id, a.dest_zone_id) if x})
    out = []
    for a in alerts:
        sides = {}
        for side in ("src", "dest"):
            aid, zid = getattr(a, f"{side}_asset_id"), getattr(a, f"{side}_zone_id")
            sides[side] = {
                "ip": getattr(a, f"{side}_ip"),
                "port": getattr(a, f"{side}_port"),
                "asset_id": aid,
                "asset": assets.get(aid) if aid else None,
                "zone_id": zid,
                "zone": zones.get(zid) if zid else None,
                "matched_by": getattr(a, f"{side}_matched_by"),
                "internal": getattr(a, f"{side}_internal"),
            }
        out.append(
            {
                "id": a.id,
                "time": aware(a.time),
                "kind": a.kind,
                "rule_id": a.rule_id,
                "rule_name": a.rule_name,
                "severity": a.severity,
                "raw_severity": a.raw_severity,
                "priority": a.priority,
                "priority_reasons": list(a.priority_reasons or []),
                "cves": list(a.cves or []),
                "intel_matches": list(a.intel_matches or []),
                "suppression_id": a.suppression_id,
                "raw": a.raw,
                "line_no": a.line_no,
                **sides,
            }
        )
    return out


def group_detail(session: Session, *, group_id: int, limit: int = DRILL_LIMIT) -> dict[str, Any]:
    """One group with its raw alerts (newest first, at most ``limit``): the alerts of its key within
    its span. Uses the (dest_asset_id, time) index for mapped targets, (time, id) otherwise."""
    g = session.get(AlertGroup, group_id)
    if g is None:
        raise NotFound(f"alert group {group_id} does not exist")
    row = _group_row(g)
    _name_groups(session, [row])
    target = (
        Alert.dest_asset_id == g.target_asset_id
        if g.target_asset_id is not None
        else and_(Alert.dest_asset_id.is_(None), Alert.dest_ip == (g.target_ip or None))
    )
    stmt = (
        select(Alert)
        .where(
            target,
            Alert.time >= g.first_seen,
            Alert.time <= g.last_seen,
            Alert.kind == g.kind,
            Alert.rule_id == (g.rule_id or None) if g.rule_id else Alert.rule_id.is_(None),
            Alert.src_ip == g.attacker_ip if g.attacker_ip else Alert.src_ip.is_(None),
            Alert.reject.is_(None),
        )
        .order_by(Alert.time.desc(), Alert.id.desc())
        .limit(limit)
    )
    row["alerts"] = _mapped(session, list(session.scalars(stmt)))
    return row


def _json_has(col: Any, value: str) -> Any:
    """A JSON list column holds ``value`` (its text form names it in quotes; both databases)."""
    return cast(col, String).like('%"' + value.replace("%", "").replace("_", "\\_") + '"%', escape="\\")


def _warning_filter(w: AlertWarning) -> Any:
    evidence = (w.details or {}).get("alert_ids")
    if w.rule_kind == "sigma" and evidence:  # the alerts the Sigma rule matched (the first 20)
        return Alert.id.in_([int(i) for i in evidence])
    kind, _, value = w.scope.partition(":")
    if kind == "asset" and value.isdigit():
        return Alert.dest_asset_id == int(value)
    if kind == "attacker":
        return Alert.src_ip == value
    if kind == "indicator":
        return or_(Alert.src_ip == value, Alert.dest_ip == value, _json_has(Alert.intel_matches, value))
    if kind == "cve":
        return _json_has(Alert.cves, value)
    if kind == "address":
        return and_(Alert.dest_asset_id.is_(None), Alert.dest_ip == value)
    return None


def warning_evidence(
    session: Session, *, warning_id: int, limit: int = DRILL_LIMIT, viewer_org: int | None = None
) -> dict[str, Any]:
    """A warning with what raised it: its rule's details, the assets, systems and services by name, and
    the alerts of its scope between its first and last alert (newest first, at most ``limit``)."""
    w = warnmod.get(session, warning_id, viewer_org)
    data = warnmod.to_dict(w)
    data["meaning"] = warnmod.LEVEL_MEANING[w.level]
    assets = _names(session, Asset, set(w.asset_ids or []))
    systems = _names(session, System, set(w.system_ids or []))
    services = _names(session, BusinessService, set(w.service_ids or []))
    data["assets"] = [{"id": i, "name": assets.get(i, f"#{i}")} for i in w.asset_ids or []]
    data["systems"] = [{"id": i, "name": systems.get(i, f"#{i}")} for i in w.system_ids or []]
    data["services"] = [{"id": i, "name": services.get(i, f"#{i}")} for i in w.service_ids or []]
    cond = _warning_filter(w)
    alerts: list[Alert] = []
    if cond is not None:
        stmt = (
            select(Alert)
            .where(
                cond,
                Alert.time >= w.first_alert_at,
                Alert.time <= w.last_alert_at,
                Alert.reject.is_(None),
                Alert.suppression_id.is_(None),
            )
            .order_by(Alert.time.desc(), Alert.id.desc())
            .limit(limit)
        )
        alerts = list(session.scalars(stmt))
    else:
        ids = {w.first_alert_id, w.last_alert_id}
        alerts = list(
            session.scalars(select(Alert).where(Alert.id.in_(sorted(ids))).order_by(Alert.id.desc()))
        )
    data["alerts"] = _mapped(session, alerts)
    return data


def overlay(session: Session, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What is under attack now and the warning level per system, for the topology overlay.

    ``assets``: asset id → the highest severity of its alert groups (as target) seen within
    :data:`NOW_WINDOW` before ``now`` (default: the newest group's last_seen, so an imported history
    shows too) with open alerts; ``systems``: system id → the most severe level of its open or
    acknowledged warnings (and their count)."""
    if now is None:
        newest = session.scalar(select(func.max(AlertGroup.last_seen)))
        now = aware(newest) if newest is not None else utcnow()
    since = now - NOW_WINDOW
    rank = {s: i for i, s in enumerate(CRITICALITY)}
    assets: dict[int, str] = {}
    stmt = (
        select(AlertGroup.target_asset_id, AlertGroup.severity, func.sum(AlertGroup.open_count))
        .where(
            AlertGroup.last_seen >= since,
            AlertGroup.target_asset_id.is_not(None),
            AlertGroup.open_count > 0,
        )
        .group_by(AlertGroup.target_asset_id, AlertGroup.severity)
    )
    counts: dict[int, int] = {}
    for aid, sev, n in session.execute(stmt).tuples():
        if aid is None:
            continue
        if aid not in assets or rank[sev] > rank[assets[aid]]:
            assets[aid] = sev
        counts[aid] = counts.get(aid, 0) + int(n or 0)
    order = {lv: i for i, lv in enumerate(WARNING_LEVELS)}  # red first
    systems: dict[int, dict[str, Any]] = {}
    for level, sids in session.execute(
        select(AlertWarning.level, AlertWarning.system_ids).where(AlertWarning.state != "closed")
    ):
        for sid in sids or []:
            cur = systems.get(sid)
            if cur is None:
                systems[sid] = {"level": level, "warnings": 1}
            else:
                cur["warnings"] += 1
                if order[level] < order[cur["level"]]:
                    cur["level"] = level
    return {
        "now": now,
        "since": since,
        "assets": {a: {"severity": s, "alerts": counts[a]} for a, s in assets.items()},
        "systems": systems,
    }


def card(session: Session, viewer_org: int | None = None) -> dict[str, Any]:
    """The dashboard card: warnings not closed per level (red first; a caller bound to an organisation:
    its own) and groups of the last day."""
    mine = AlertWarning.organization_id == viewer_org if viewer_org is not None else true()
    by_level = dict(
        session.execute(
            select(AlertWarning.level, func.count())
            .where(AlertWarning.state != "closed", mine)
            .group_by(AlertWarning.level)
        )
        .tuples()
        .all()
    )
    newest = session.scalar(select(func.max(AlertGroup.last_seen)))
    groups = 0
    if newest is not None:
        groups = (
            session.scalar(
                select(func.count())
                .select_from(AlertGroup)
                .where(AlertGroup.last_seen >= aware(newest) - NOW_WINDOW)
            )
            or 0
        )
    return {"levels": [[lv, int(by_level.get(lv, 0))] for lv in WARNING_LEVELS], "groups_24h": int(groups)}


def choices(session: Session, *, limit: int = 1000) -> dict[str, list[tuple[int, str]]]:
    """Filter choices for the console: systems, business services and zones by name."""
    out: dict[str, list[tuple[int, str]]] = {}
    for key, model in (("systems", System), ("services", BusinessService), ("zones", NetworkZone)):
        rows = session.execute(select(model.id, model.name).order_by(model.name, model.id).limit(limit))
        out[key] = [(i, n or f"#{i}") for i, n in rows.tuples()]
    return out


def indicator_alerts(session: Session, *, value: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest alerts that matched an indicator value (its intel matches), mapped."""
    stmt = (
        select(Alert)
        .where(Alert.reject.is_(None), _json_has(Alert.intel_matches, value))
        .order_by(Alert.time.desc(), Alert.id.desc())
        .limit(limit)
    )
    return _mapped(session, list(session.scalars(stmt)))
