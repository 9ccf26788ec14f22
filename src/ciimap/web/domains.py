"""Adapters from the web UI to other capabilities' service modules (ingest, graph, vulns, supply).

The web shell is built before and alongside those capabilities; each adapter returns ``None`` (or an
empty list) when the capability is not installed, and the page then leaves its card out instead of
showing a made-up number. Only service functions are called — never their HTTP API.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from ciimap.core.labels import labels
from ciimap.vulns.listing import PRIORITIES


def module(name: str) -> ModuleType | None:
    """The service module ``ciimap.<name>``, or None while that capability is not installed."""
    try:
        return importlib.import_module(f"ciimap.{name}")
    except ModuleNotFoundError as e:
        if e.name and f"ciimap.{name}".startswith(e.name):
            return None
        raise


def has(name: str, attr: str) -> bool:
    mod = module(name)
    return mod is not None and callable(getattr(mod, attr, None))


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
    """Which optional pages/overlays the UI can offer (drives navigation and toolbar buttons)."""
    from ciimap.core import jobs

    return {
        "impact": has("graph.impact", "impact"),
        "vulns": has("vulns.service", "list_findings"),
        "changes": has("ingest.changes", "list_changes"),
        "imports": has("ingest.service", "import_files") and "import" in jobs.registered(),
        "spof": has("graph.spof", "spof_report"),
        "concentration": has("graph.concentration", "concentration"),
    }


def _findings_card(session: Session) -> dict[str, Any] | None:
    vs = module("vulns.service")
    if vs is None or not callable(getattr(vs, "list_findings", None)):
        return None
    series = [[p, vs.list_findings(session, priority=p, limit=1)[1]] for p in PRIORITIES]
    p1 = series[0][1]
    return {
        "key": "findings",
        "value": f"{p1:,} / {sum(n for _p, n in series):,}",
        "sub": "P1 / all",
        "href": "/findings",
        "series": series,
        "tone": "bad" if p1 else "",
    }


def _changes_card(session: Session) -> dict[str, Any] | None:
    ch = module("ingest.changes")
    if ch is None or not callable(getattr(ch, "list_changes", None)):
        return None
    import datetime as dt

    from ciimap.core.db import utcnow

    week = ch.list_changes(session, since=utcnow() - dt.timedelta(days=7), limit=1)["total"] or 0
    return {"key": "changes", "value": f"{week:,}", "href": "/changes", "sub": ""}


def _graph_cards(session: Session) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    spof_mod, conc_mod = module("graph.spof"), module("graph.concentration")
    build = module("graph.build")
    g = build.build_graph(session) if build is not None and (spof_mod or conc_mod) else None
    if spof_mod is not None and callable(getattr(spof_mod, "spof_report", None)):
        rows = spof_mod.spof_report(session, graph=g, asset_limit=5)
        total = sum(sum(r.counts.values()) for r in rows)
        series = [[r.service.name or str(r.service.id), sum(r.counts.values())] for r in rows][:12]
        out.append(
            {
                "key": "spof",
                "value": f"{total:,}",
                "sub": f"{len(rows)} services",
                "href": "/topology",
                "series": series,
                "tone": "warn" if total else "",
            }
        )
    if conc_mod is not None and callable(getattr(conc_mod, "concentration", None)):
        rep = conc_mod.concentration(session, graph=g)
        sev: dict[str, int] = {}
        for f in rep.findings:
            sev[f.severity] = sev.get(f.severity, 0) + 1
        out.append(
            {
                "key": "concentration",
                "value": f"{len(rep.findings):,}",
                "href": "/entities/vendors",
                "sub": " · ".join(f"{k} {v}" for k, v in sorted(sev.items())),
                "series": [[k, v] for k, v in sev.items()],
                "chart": "pie",
                "tone": "warn" if rep.findings else "",
            }
        )
    return out


def dashboard_cards(session: Session) -> list[dict[str, Any]]:
    """Cards from installed capabilities: ``{"key", "value", "href", "series"?}`` — none are invented."""
    cards = [c for c in (_findings_card(session), _changes_card(session)) if c]
    return cards + _graph_cards(session)


def annotate_nodes(session: Session, nodes: list[dict[str, Any]]) -> None:
    """Overlay attributes from installed capabilities: ``vuln`` = the asset's top finding priority."""
    vl = module("vulns.listing")
    if vl is None or not callable(getattr(vl, "top_priority_by_asset", None)):
        return
    by_id = {n["ref"]: n for n in nodes if n["type"] == "asset"}
    for aid, prio in vl.top_priority_by_asset(session, asset_ids=list(by_id)).items():
        by_id[aid]["vuln"] = prio


def impact(session: Session, *, kind: str, ref: int) -> dict[str, Any]:
    """What-if: the graph capability's impact analysis, shaped for the topology page."""
    from ciimap.core.errors import Invalid, NotFound

    mod = module("graph.impact")
    if mod is None:
        raise NotFound("what-if analysis is not installed")
    if kind not in SELECTOR_KIND:
        raise Invalid(f"cannot run what-if on a {kind}")
    res = mod.impact(session, kind=SELECTOR_KIND[kind], ref=str(ref), asset_limit=500)
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
    svc = module("ingest.service")
    return list(getattr(svc, "KINDS", ())) if svc else []


def submit_import(
    session: Session, *, kind: str, paths: list[str], actor: str, upload_dir: Any = None
) -> Any:
    """Queue the ingest capability's ``import`` job (the same job POST /api/imports queues)."""
    from ciimap.core import jobs
    from ciimap.core.errors import Invalid

    if kind not in import_kinds():
        raise Invalid(f"unknown import kind '{kind}' (kinds: {', '.join(import_kinds())})")
    return jobs.submit(
        session,
        "import",
        {"kind": kind, "paths": paths, "options": {}, "scope": None},
        actor=actor,
        upload_dir=upload_dir,
    )


def change_feed(session: Session, *, page: int = 1, limit: int = 50) -> dict[str, Any] | None:
    """Newest change events first (the service lists oldest first, so page from the end)."""
    ch = module("ingest.changes")
    if ch is None or not callable(getattr(ch, "list_changes", None)):
        return None
    total = ch.list_changes(session, limit=1)["total"] or 0
    end = max(total - (page - 1) * limit, 0)
    start = max(end - limit, 0)
    items = ch.list_changes(session, limit=max(end - start, 1), offset=start)["items"] if end else []
    items = list(reversed(items))[: end - start]
    _asset_labels(session, items)
    return {"items": items, "total": total, "page": page, "next": page + 1 if start > 0 else None}


def _asset_labels(session: Session, items: list[Any]) -> None:
    from ciimap.inventory import service as inv

    names = labels(session, inv.ASSETS, {e.asset_id for e in items if e.asset_id})
    for e in items:
        e.asset_label = names.get(e.asset_id)


def asset_extras(session: Session, asset_id: int) -> dict[str, Any]:
    """Sections for the asset page from installed capabilities: findings, change events."""
    out: dict[str, Any] = {}
    vs = module("vulns.service")
    if vs is not None and callable(getattr(vs, "list_findings", None)):
        rows, total = vs.list_findings(session, asset_id=asset_id, limit=20)
        out["findings"] = {
            "total": total,
            "href": f"/findings?asset_id={asset_id}",
            "columns": ["priority", "advisory_id", "package", "version", "score", "status", "due_date"],
            "rows": [
                {
                    c: getattr(f, c)
                    for c in ("priority", "advisory_id", "package", "version", "score", "status", "due_date")
                }
                for f in rows
            ],
        }
    ch = module("ingest.changes")
    if ch is not None and callable(getattr(ch, "list_changes", None)):
        page = ch.list_changes(session, asset_id=asset_id, limit=1)
        total = page["total"] or 0
        rows = ch.list_changes(session, asset_id=asset_id, limit=20, offset=max(total - 20, 0))["items"]
        out["changes"] = {
            "total": total,
            "columns": ["at", "kind", "subject"],
            "rows": [{"at": e.at, "kind": e.kind, "subject": e.subject} for e in reversed(rows)],
        }
    return out
