"""Importance of assets for filling a node budget (topology asset view, command view clusters and hot
assets): assets of CII / business systems first, then the ones that carry risk, never insertion order.

Shared by graph/topology.py and graph/command.py (which builds on topology), so it lives apart from both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select

from ciimap.inventory import models as m
from ciimap.vulns.models import AdvisoryAlias, Finding, KevEntry


def kev_advisories() -> Any:
    return select(AdvisoryAlias.advisory_pk).where(AdvisoryAlias.alias.in_(select(KevEntry.cve_id)))


def important_systems() -> Any:
    """Systems that are CII or that a business service depends on."""
    e = m.Edge
    served = select(e.dst_id).where(e.src_type == "business_service", e.dst_type == "system")
    return select(m.System.id).where(or_(m.System.is_cii.is_(True), m.System.id.in_(served)))


def risk_subquery() -> Any:
    """Per asset: worst active finding priority, KEV flag, active finding count (one GROUP BY)."""
    f = Finding
    return (
        select(
            f.asset_id.label("asset_id"),
            func.min(f.priority).label("prio"),
            func.max(case((f.advisory_pk.in_(kev_advisories()), 1), else_=0)).label("kev"),
            func.count().label("findings"),
        )
        .where(f.active.is_(True), f.asset_id.is_not(None))
        .group_by(f.asset_id)
        .subquery("risk")
    )


def importance_order(asset: Any, risk: Any) -> list[Any]:
    """ORDER BY for filling an asset budget by importance: assets of CII / business systems first,
    then the ones that carry risk (worst vulnerability priority, KEV, missing, unmanaged), then the
    asset's own criticality; the id only breaks ties."""
    crit = case(
        (asset.criticality == "critical", 0),
        (asset.criticality == "high", 1),
        (asset.criticality == "medium", 2),
        else_=3,
    )
    return [
        case((asset.system_id.in_(important_systems()), 0), else_=1),
        func.coalesce(risk.c.prio, "P9"),
        func.coalesce(risk.c.kev, 0).desc(),
        case((asset.lifecycle_status == "missing", 0), (asset.declared.is_(False), 1), else_=2),
        crit,
        asset.id,
    ]
