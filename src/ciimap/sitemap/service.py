"""The geographic site map: every site with its risk (findings by priority, internet exposure), its
open incidents and warnings, the view's bounds and the clusters of nearby sites per zoom level.

One service for the page (``/sitemap`` via ``/api/sitemap/view``), the API and the CLI (``ciimap
sitemap view --json``). The other domains' figures come from their own services: findings per
priority (``vulns.listing.priority_counts_by``), open incidents (``incidents.overview.map_overlay``)
and warnings (``alerts.console.overlay``), each one grouped query, never a row per asset.

Clustering is a plain grid per zoom level, computed here (ECharts has none): level ``L`` groups the
sites whose coordinates share a cell of ``base_cell / 2**L`` degrees, the browser shows the level that
matches its zoom. Cells are anchored at the bounds' south-west corner, so the same sites always
cluster the same way (testable; no dependence on the screen).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.alerts import console as alert_console
from ciimap.alerts import warnings as alert_warnings
from ciimap.core.db import chunks
from ciimap.incidents import overview as incident_overview
from ciimap.inventory import models as m
from ciimap.inventory import overview
from ciimap.sitemap import basemap
from ciimap.vulns.listing import PRIORITIES, priority_counts_by

#: Zoom levels of the cluster ladder (0 = the whole view; each level halves the cell).
LEVELS = 8
#: Grid cells across the longer side of the view at level 0.
CELLS = 8
#: Padding around the sites (share of the span) and the smallest span drawn (degrees, ~5 km).
PAD = 0.12
MIN_SPAN = 0.05
SYSTEM_NAMES = 3
#: Open warnings looked at per state (they are closed or acknowledged by people: a few dozen at most).
WARNING_LIMIT = 10_000


def bounds(points: list[tuple[float, float]]) -> dict[str, float] | None:
    """``west, south, east, north`` around the (lon, lat) points: padded by :data:`PAD` of the span, at
    least :data:`MIN_SPAN` degrees wide and high, clamped to the globe; None without points."""
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    out = {}
    for lo_key, hi_key, vals, limit in (("west", "east", lons, 180.0), ("south", "north", lats, 90.0)):
        lo, hi = min(vals), max(vals)
        span = max(hi - lo, MIN_SPAN)
        mid = (lo + hi) / 2
        half = span / 2 + span * PAD
        out[lo_key] = round(max(mid - half, -limit), 6)
        out[hi_key] = round(min(mid + half, limit), 6)
    return out


def grid_step(b: dict[str, float]) -> float:
    """A round graticule step (1, 2 or 5 × 10^n degrees) giving 4–10 lines across the longer side."""
    span = max(b["east"] - b["west"], b["north"] - b["south"])
    raw = span / 6
    exp = math.floor(math.log10(raw))
    for f in (1, 2, 5, 10):
        if f * 10**exp >= raw:
            return round(f * 10**exp, 10)
    return 10.0**exp  # pragma: no cover


def clusters(
    sites: list[dict[str, Any]], b: dict[str, float], *, levels: int = LEVELS
) -> list[list[dict[str, Any]]]:
    """Per zoom level, the sites with coordinates as clusters: ``{"ids", "lon", "lat"}`` (the members'
    mean position); a cluster of one is a site on its own."""
    base = max(b["east"] - b["west"], b["north"] - b["south"]) / CELLS
    placed = [s for s in sites if s["lat"] is not None and s["lon"] is not None]
    ladder = []
    for level in range(levels):
        cell = base / 2**level
        groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for s in placed:
            key = (math.floor((s["lon"] - b["west"]) / cell), math.floor((s["lat"] - b["south"]) / cell))
            groups.setdefault(key, []).append(s)
        ladder.append(
            [
                {
                    "ids": [s["id"] for s in g],
                    "lon": round(sum(s["lon"] for s in g) / len(g), 6),
                    "lat": round(sum(s["lat"] for s in g) / len(g), 6),
                }
                for _key, g in sorted(groups.items())
            ]
        )
    return ladder


def _sites_of_assets(session: Session, ids: set[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in chunks(sorted(ids)):
        stmt = select(m.Asset.id, m.Asset.site_id).where(m.Asset.id.in_(part), m.Asset.site_id.is_not(None))
        out.update((int(a), int(s)) for a, s in session.execute(stmt).tuples() if s is not None)
    return out


def _system_sites(session: Session) -> dict[int, set[int]]:
    """system id → the sites its assets are at."""
    a = m.Asset
    stmt = select(a.system_id, a.site_id).where(a.system_id.is_not(None), a.site_id.is_not(None)).distinct()
    out: dict[int, set[int]] = {}
    for sys_id, site_id in session.execute(stmt).tuples():
        if sys_id is None or site_id is None:
            continue
        out.setdefault(int(sys_id), set()).add(int(site_id))
    return out


def _systems(session: Session) -> dict[int, list[str]]:
    """site id → names of the systems with assets there (by name)."""
    a, s = m.Asset, m.System
    stmt = (
        select(a.site_id, s.name)
        .join(s, s.id == a.system_id)
        .where(a.site_id.is_not(None))
        .distinct()
        .order_by(s.name)
    )
    out: dict[int, list[str]] = {}
    for site_id, name in session.execute(stmt).tuples():
        if site_id is None:
            continue
        out.setdefault(int(site_id), []).append(str(name))
    return out


def _exposed(session: Session, column: str) -> dict[int, int]:
    """``Asset.<column>`` → its assets in internet-facing zones."""
    a, z = m.Asset, m.NetworkZone
    col = getattr(a, column)
    stmt = (
        select(col, func.count())
        .join(z, z.id == a.zone_id)
        .where(z.internet_facing.is_(True), col.is_not(None))
        .group_by(col)
    )
    return {int(k): int(n) for k, n in session.execute(stmt).tuples()}


def _worse_warning(a: str | None, b: str) -> str:
    order = alert_console.WARNING_LEVELS
    return b if a is None or order.index(b) < order.index(a) else a


def risk_fields(prio: dict[str, int], exposed: int, assets: int) -> dict[str, Any]:
    """The colour categories of a site or zone: ``risk`` (its top finding priority or ``none``) and
    ``exposure`` (``exposed`` when it has internet-facing assets, else ``internal``)."""
    top = next((p for p in PRIORITIES if prio.get(p)), "none")
    return {
        "findings": {p: prio.get(p, 0) for p in PRIORITIES},
        "risk": top,
        "exposed": exposed,
        "exposure": "exposed" if exposed else ("internal" if assets else "none"),
    }


def incident_overlay(session: Session, *, viewer_org: int | None) -> dict[int, dict[str, Any]]:
    """site id → ``{"incidents", "grade_code", "warnings", "warning"}``: open real incidents on its assets
    or on systems with assets there (the most severe grade, and the largest count on one of them: an
    incident is never counted twice) and the warnings not closed that name its assets or systems with
    assets there (each counted once; the most severe level)."""
    sys_sites = _system_sites(session)
    asset_ids = set(_sites_of_assets_from_incidents(session, viewer_org))
    asset_site = _sites_of_assets(session, asset_ids) if asset_ids else {}
    open_warnings = _open_warnings(session, viewer_org)
    warned = {a for w in open_warnings for a in w["asset_ids"]}
    warn_site = _sites_of_assets(session, warned) if warned else {}
    inc = incident_overview.map_overlay(
        session, system_ids=list(sys_sites), asset_ids=list(asset_site), viewer_org=viewer_org
    )
    out: dict[int, dict[str, Any]] = {}

    def at(site: int) -> dict[str, Any]:
        return out.setdefault(site, {"incidents": 0, "grade_code": None, "warnings": 0, "warning": None})

    for key, where in (("systems", sys_sites), ("assets", {k: {v} for k, v in asset_site.items()})):
        for ref, o in inc[key].items():
            for site in where.get(ref, ()):
                cur = at(site)
                cur["incidents"] = max(cur["incidents"], o["count"])
                if cur["grade_code"] is None or _roman(o["code"]) < _roman(cur["grade_code"]):
                    cur["grade_code"] = o["code"]
    for w in open_warnings:
        sites = {site for sys_id in w["system_ids"] for site in sys_sites.get(sys_id, ())}
        sites |= {warn_site[a] for a in w["asset_ids"] if a in warn_site}
        for site in sites:
            cur = at(site)
            cur["warnings"] += 1
            cur["warning"] = _worse_warning(cur["warning"], w["level"])
    return out


def _open_warnings(session: Session, viewer_org: int | None) -> list[dict[str, Any]]:
    """Warnings not closed (open or acknowledged), the caller's organisation only when it is bound to one."""
    return [
        w
        for state in ("open", "acknowledged")
        for w in alert_warnings.list_warnings(
            session, state=state, limit=WARNING_LIMIT, viewer_org=viewer_org
        )
    ]


def _roman(code: str) -> int:
    return {"I": 1, "II": 2, "III": 3, "IV": 4}.get(code, 9)


def _sites_of_assets_from_incidents(session: Session, viewer_org: int | None) -> set[int]:
    """Asset ids named by open incidents (the overlay then needs only those, not every asset)."""
    return incident_overview.open_asset_ids(session, viewer_org=viewer_org)


def alert_state(o: dict[str, Any] | None) -> str:
    """The incident colour category: ``incident`` (open incidents), else the warning level, else none."""
    if not o:
        return "none"
    if o["incidents"]:
        return "incident"
    return o["warning"] or "none"


def view(session: Session, *, viewer_org: int | None = None) -> dict[str, Any]:
    """The site map: sites with counts and colour categories, bounds, graticule step, cluster ladder and
    the base map in use (or None)."""
    sites = overview.site_map(session)
    prio = priority_counts_by(session, "site_id")
    exposed = _exposed(session, "site_id")
    systems = _systems(session)
    alerts = incident_overlay(session, viewer_org=viewer_org)
    for s in sites:
        names = systems.get(s["id"], [])
        s["systems"] = len(names)
        s["system_names"] = names[:SYSTEM_NAMES]
        s.update(risk_fields(prio.get(s["id"], {}), exposed.get(s["id"], 0), s["assets"]))
        o = alerts.get(s["id"])
        s["incidents"] = o["incidents"] if o else 0
        s["grade_code"] = o["grade_code"] if o else None
        s["warnings"] = o["warnings"] if o else 0
        s["warning"] = o["warning"] if o else None
        s["alert"] = alert_state(o)
    b = bounds([(s["lon"], s["lat"]) for s in sites if s["lat"] is not None and s["lon"] is not None])
    return {
        "sites": sites,
        "bounds": b,
        "step": grid_step(b) if b else None,
        "clusters": clusters(sites, b) if b else [],
        "basemap": basemap.basemap_meta(),
    }
