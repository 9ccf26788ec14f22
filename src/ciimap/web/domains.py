"""Adapters from the web UI to other domains' service modules (ingest, graph, vulns): the cards, overlays
and sections pages show from them. Only service functions are called — never their HTTP API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core import jobs
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid
from ciimap.core.labels import labels
from ciimap.graph import concentration, spof
from ciimap.graph import impact as graph_impact
from ciimap.graph.build import build_graph
from ciimap.ingest import changes
from ciimap.ingest import service as ingest
from ciimap.inventory import service as inventory
from ciimap.vulns import listing as vulns_listing
from ciimap.vulns import service as vulns
from ciimap.vulns.listing import PRIORITIES

#: Our topology node types → the graph capability's selector kinds.
SELECTOR_KIND = {
    "business_service": "service",
    "system": "system",
    "asset": "asset",
    "product": "product",
    "vendor": "vendor",
    "site": "site",
    "zone": "zone",
}


def capabilities() -> dict[str, bool]:
    """Which pages/overlays the UI offers (drives navigation and toolbar buttons): all of them, and the
    import page where the import job is registered."""
    return {
        "impact": True,
        "vulns": True,
        "changes": True,
        "imports": "import" in jobs.registered(),
        "spof": True,
        "concentration": True,
    }


def _findings_card(session: Session) -> dict[str, Any]:
    counts = {p: vulns.list_findings(session, priority=p, limit=1)[1] for p in PRIORITIES}
    p1 = counts[PRIORITIES[0]]
    return {
        "key": "findings",
        "value": f"{p1:,} / {sum(counts.values()):,}",
        "sub": "P1 / all",
        "href": "/findings",
        "series": [[p, n] for p, n in counts.items()],
        "tone": "bad" if p1 else "",
    }


def _changes_card(session: Session) -> dict[str, Any]:
    week = changes.list_changes(session, since=utcnow() - dt.timedelta(days=7), limit=1)["total"] or 0
    return {"key": "changes", "value": f"{week:,}", "href": "/changes", "sub": ""}


def _graph_cards(session: Session) -> list[dict[str, Any]]:
    g = build_graph(session)
    rows = spof.spof_report(session, graph=g, asset_limit=5)
    total = sum(sum(r.counts.values()) for r in rows)
    series = [[r.service.name or str(r.service.id), sum(r.counts.values())] for r in rows][:12]
    rep = concentration.concentration(session, graph=g)
    sev: dict[str, int] = {}
    for f in rep.findings:
        sev[f.severity] = sev.get(f.severity, 0) + 1
    return [
        {
            "key": "spof",
            "value": f"{total:,}",
            "sub": f"{len(rows)} services",
            "href": "/topology",
            "series": series,
            "tone": "warn" if total else "",
        },
        {
            "key": "concentration",
            "value": f"{len(rep.findings):,}",
            "href": "/entities/vendors",
            "sub": " · ".join(f"{k} {v}" for k, v in sorted(sev.items())),
            "series": [[k, v] for k, v in sev.items()],
            "chart": "pie",
            "tone": "warn" if rep.findings else "",
        },
    ]


def dashboard_cards(session: Session) -> list[dict[str, Any]]:
    """Cards from the other domains: ``{"key", "value", "href", "series"?}`` — none are invented."""
    return [_findings_card(session), _changes_card(session), *_graph_cards(session)]


def annotate_nodes(session: Session, nodes: list[dict[str, Any]]) -> None:
    """Overlay attributes from the other domains: ``vuln`` = the asset's top finding priority."""
    by_id = {n["ref"]: n for n in nodes if n["type"] == "asset"}
    for aid, prio in vulns_listing.top_priority_by_asset(session, asset_ids=list(by_id)).items():
        by_id[aid]["vuln"] = prio


def impact(session: Session, *, kind: str, ref: int) -> dict[str, Any]:
    """What-if: the graph domain's impact analysis, shaped for the topology page."""
    if kind not in SELECTOR_KIND:
        raise Invalid(f"cannot run what-if on a {kind}")
    res = graph_impact.impact(session, kind=SELECTOR_KIND[kind], ref=str(ref), asset_limit=500)
    out: dict[str, Any] = {
        "failed": [],
        "degraded": [],
        "counts": res.counts,
        "assets_total": res.assets_total,
        "elapsed_ms": res.elapsed_ms,
    }
    for n in [*res.services, *res.systems, *res.assets]:
        out[n.status].append(
            {
                "id": f"{n.type}:{n.id}",
                "type": n.type,
                "ref": n.id,
                "label": n.name or str(n.id),
                "reason": n.reason,
                "path": [f"{p.type}:{p.id}" for p in n.path],
                "path_labels": [p.name or f"{p.type}:{p.id}" for p in n.path],
            }
        )
    return out


def import_kinds() -> list[str]:
    return list(ingest.KINDS)


def submit_import(
    session: Session, *, kind: str, paths: list[str], actor: str, upload_dir: Any = None
) -> Any:
    """Queue the ingest domain's ``import`` job (the same job POST /api/imports queues)."""
    if kind not in import_kinds():
        raise Invalid(f"unknown import kind '{kind}' (kinds: {', '.join(import_kinds())})")
    return jobs.submit(
        session,
        "import",
        {"kind": kind, "paths": paths, "options": {}, "scope": None},
        actor=actor,
        upload_dir=upload_dir,
    )


def change_feed(session: Session, *, page: int = 1, limit: int = 50) -> dict[str, Any]:
    """Newest change events first (the service lists oldest first, so page from the end)."""
    total = changes.list_changes(session, limit=1)["total"] or 0
    end = max(total - (page - 1) * limit, 0)
    start = max(end - limit, 0)
    items = changes.list_changes(session, limit=max(end - start, 1), offset=start)["items"] if end else []
    items = list(reversed(items))[: end - start]
    _asset_labels(session, items)
    return {"items": items, "total": total, "page": page, "next": page + 1 if start > 0 else None}


def _asset_labels(session: Session, items: list[Any]) -> None:
    names = labels(session, inventory.ASSETS, {e.asset_id for e in items if e.asset_id})
    for e in items:
        e.asset_label = names.get(e.asset_id)


def asset_extras(session: Session, asset_id: int) -> dict[str, Any]:
    """Sections for the asset page from the other domains: findings, change events."""
    columns = ["priority", "advisory_id", "package", "version", "score", "status", "due_date"]
    findings, found = vulns.list_findings(session, asset_id=asset_id, limit=20)
    total = changes.list_changes(session, asset_id=asset_id, limit=1)["total"] or 0
    events = changes.list_changes(session, asset_id=asset_id, limit=20, offset=max(total - 20, 0))["items"]
    return {
        "findings": {
            "total": found,
            "href": f"/findings?asset_id={asset_id}",
            "columns": columns,
            "rows": [{c: getattr(f, c) for c in columns} for f in findings],
        },
        "changes": {
            "total": total,
            "columns": ["at", "kind", "subject"],
            "rows": [{"at": e.at, "kind": e.kind, "subject": e.subject} for e in reversed(events)],
        },
    }
