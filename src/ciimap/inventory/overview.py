"""Figures over the whole map: dashboard counts and trends, the site map's sites, filter choices.

One service for the pages (dashboard, site map, topology filters), the API (/api/overview,
/api/sitemap) and the CLI (``ciimap overview --json``, ``ciimap sitemap --json``). Every figure is
one aggregate or column query — never a row loaded per asset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.core.db import utcnow
from ciimap.inventory import models as m

TREND_DAYS = 30


def _count(session: Session, model: type, *where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for w in where:
        stmt = stmt.where(w)
    return int(session.scalar(stmt) or 0)


def _grouped(session: Session, col: Any, model: type, *where: Any) -> list[list[Any]]:
    stmt = select(col, func.count()).select_from(model)
    for w in where:
        stmt = stmt.where(w)
    rows = session.execute(stmt.group_by(col).order_by(func.count().desc(), col))  # ties: by label
    return [[("—" if k is None else k), int(n)] for k, n in rows]


def counts(session: Session) -> dict[str, int]:
    """How many assets (unmanaged, missing), systems (CII), services, sites, endpoints, vendors."""
    a, v = m.Asset, m.Vendor
    return {
        "assets": _count(session, a),
        "unmanaged": _count(session, a, a.declared.is_(False)),
        "missing": _count(session, a, a.lifecycle_status == "missing"),
        "systems": _count(session, m.System),
        "cii_systems": _count(session, m.System, m.System.is_cii.is_(True)),
        "business_services": _count(session, m.BusinessService),
        "sites": _count(session, m.Site),
        "endpoints": _count(session, m.ServiceEndpoint),
        "vendors": _count(session, v),
        "foreign_vendors": _count(session, v, v.is_domestic.is_(False)),
        "foreign_products": int(
            session.scalar(
                select(func.count())
                .select_from(m.Product)
                .join(v, v.id == m.Product.vendor_id)
                .where(v.is_domestic.is_(False))
            )
            or 0
        ),
    }


def trend(session: Session, col: Any, model: type, *where: Any, days: int = TREND_DAYS) -> list[list[Any]]:
    """Rows per day over the last ``days`` days (zero-filled), by ``col`` (a timestamp)."""
    since = utcnow() - dt.timedelta(days=days)
    day = func.date(col)
    stmt = select(day, func.count()).select_from(model).where(col >= since, *where).group_by(day)
    rows: dict[Any, Any] = dict(session.execute(stmt).all())
    by_day = {str(k)[:10]: int(v) for k, v in rows.items()}
    start = since.date()
    out = []
    for i in range(days + 1):
        d = (start + dt.timedelta(days=i)).isoformat()
        out.append([d, by_day.get(d, 0)])
    return out


def charts(session: Session) -> dict[str, Any]:
    """Series for the dashboard charts: ``[label, count]`` pairs, trends as ``[day, count]``."""
    a, z, s = m.Asset, m.NetworkZone, m.System
    zone_kind = (
        select(z.kind, func.count())
        .select_from(a)
        .join(z, z.id == a.zone_id)
        .group_by(z.kind)
        .order_by(func.count().desc(), z.kind)
    )
    return {
        "assets_by_kind": _grouped(session, a.kind, a),
        "assets_by_lifecycle": _grouped(session, a.lifecycle_status, a),
        "assets_by_zone_kind": [[k, int(n)] for k, n in session.execute(zone_kind)],
        "systems_by_mlps": [[f"L{k}" if k else "—", n] for k, n in _grouped(session, s.mlps_level, s)],
        "assets_first_seen": trend(session, a.first_seen, a),
        "unmanaged_first_seen": trend(session, a.first_seen, a, a.declared.is_(False)),
    }


def overview(session: Session) -> dict[str, Any]:
    """Counts and charts of the map (the dashboard adds other capabilities' cards to this)."""
    return {"counts": counts(session), "charts": charts(session)}


def site_map(session: Session) -> list[dict[str, Any]]:
    """Every site with its coordinates (or None) and its asset, missing-asset and zone counts."""
    a, z, s = m.Asset, m.NetworkZone, m.Site
    assets = dict(
        session.execute(
            select(a.site_id, func.count()).where(a.site_id.is_not(None)).group_by(a.site_id)
        ).all()
    )
    missing = dict(
        session.execute(
            select(a.site_id, func.count())
            .where(a.site_id.is_not(None), a.lifecycle_status == "missing")
            .group_by(a.site_id)
        ).all()
    )
    zones = dict(
        session.execute(
            select(z.site_id, func.count()).where(z.site_id.is_not(None)).group_by(z.site_id)
        ).all()
    )
    rows = session.execute(
        select(s.id, s.name, s.code, s.kind, s.city, s.latitude, s.longitude).order_by(s.id)
    )
    return [
        {
            "id": r.id,
            "name": r.name,
            "code": r.code,
            "kind": r.kind,
            "city": r.city,
            "lat": r.latitude,
            "lon": r.longitude,
            "assets": int(assets.get(r.id, 0)),
            "missing": int(missing.get(r.id, 0)),
            "zones": int(zones.get(r.id, 0)),
        }
        for r in rows
    ]


def system_choices(session: Session) -> list[dict[str, Any]]:
    """``{"id", "name"}`` of every system, by name: the import page's SBOM target menu."""
    rows = session.execute(select(m.System.id, m.System.name).order_by(m.System.name, m.System.id))
    return [{"id": i, "name": name} for i, name in rows]


def place_choices(session: Session) -> dict[str, list[dict[str, Any]]]:
    """``{"id", "name"}`` of every site and zone, by name: the topology page's filter menus."""
    sites = session.execute(select(m.Site.id, m.Site.name).order_by(m.Site.name))
    zones = session.execute(select(m.NetworkZone.id, m.NetworkZone.name).order_by(m.NetworkZone.name))
    return {
        "sites": [{"id": i, "name": name} for i, name in sites],
        "zones": [{"id": i, "name": name} for i, name in zones],
    }
