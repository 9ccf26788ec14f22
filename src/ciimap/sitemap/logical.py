"""The logical view beside the geographic one: network zones (internet, DMZ, office, production,
control ...) with their assets and risk, and the links between them — the map's asset-to-asset edges
aggregated per pair of zones with their count and kinds. Grouped queries only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ciimap.inventory import models as m
from ciimap.sitemap.service import _exposed, risk_fields
from ciimap.vulns.listing import priority_counts_by

#: Columns of the layered drawing: the zone kinds in their declared order (internet, DMZ, office,
#: production, control ... outside in).
KIND_ORDER = m.ZONE_KINDS


def logical(session: Session, *, site_id: int | None = None) -> dict[str, Any]:
    """``zones``: id, name, kind, site, internet_facing, assets, findings per priority, ``risk`` and
    ``exposure``; ``links``: ``{"source", "target", "count", "kinds"}`` per ordered zone pair (edges
    between two assets of the same zone are the zone's ``internal`` count). ``site_id``: that site's
    zones only (links leaving them keep their other end)."""
    z, a = m.NetworkZone, m.Asset
    stmt = select(z.id, z.name, z.kind, z.site_id, z.internet_facing).order_by(z.id)
    if site_id is not None:
        stmt = stmt.where(z.site_id == site_id)
    zones = [dict(r._mapping) for r in session.execute(stmt)]
    counts = dict(
        session.execute(select(a.zone_id, func.count()).where(a.zone_id.is_not(None)).group_by(a.zone_id))
        .tuples()
        .all()
    )
    prio = priority_counts_by(session, "zone_id")
    exposed = _exposed(session, "zone_id")
    for zone in zones:
        zone["assets"] = int(counts.get(zone["id"], 0))
        zone["internal"] = 0
        zone.update(risk_fields(prio.get(zone["id"], {}), exposed.get(zone["id"], 0), zone["assets"]))
    links = _links(session)
    by_id = {zone["id"]: zone for zone in zones}
    out = []
    for (src, dst), link in sorted(links.items()):
        if src == dst:
            if src in by_id:
                by_id[src]["internal"] = link["count"]
            continue
        if src in by_id or dst in by_id:
            out.append({"source": src, "target": dst, **link})
    missing = {i for link in out for i in (link["source"], link["target"])} - set(by_id)
    if missing:  # the far end of a link leaving the chosen site: drawn, without figures
        far = session.execute(
            select(z.id, z.name, z.kind, z.site_id, z.internet_facing).where(z.id.in_(missing))
        )
        for r in far:
            zones.append({**dict(r._mapping), "assets": int(counts.get(r.id, 0)), "internal": 0,
                          **risk_fields(prio.get(r.id, {}), exposed.get(r.id, 0), 0), "outside": True})  # fmt: skip
    return {
        "zones": zones,
        "links": out,
        "kinds": [k for k in KIND_ORDER if any(zn["kind"] == k for zn in zones)],
    }


def _links(session: Session) -> dict[tuple[int, int], dict[str, Any]]:
    """(source zone, target zone) → edges between their assets, by kind. One grouped query."""
    e = m.Edge
    src, dst = aliased(m.Asset), aliased(m.Asset)
    stmt = (
        select(src.zone_id, dst.zone_id, e.kind, func.count())
        .select_from(e)
        .join(src, src.id == e.src_id)
        .join(dst, dst.id == e.dst_id)
        .where(
            e.src_type == "asset", e.dst_type == "asset", src.zone_id.is_not(None), dst.zone_id.is_not(None)
        )
        .group_by(src.zone_id, dst.zone_id, e.kind)
    )
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for s, d, kind, n in session.execute(stmt).tuples():
        if s is None or d is None:
            continue
        link = out.setdefault((int(s), int(d)), {"count": 0, "kinds": {}})
        link["count"] += int(n)
        link["kinds"][kind] = int(n)
    return out
