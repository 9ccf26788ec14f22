"""Adapters from the web UI to the other domains' services (ingest, graph, vulns, import sources):
the shapes the pages need, from the same service functions the API and the CLI call (never their
HTTP API). Every domain is part of the package, so the pages always offer all of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ciimap import sources
from ciimap.alerts import console as alert_console
from ciimap.compliance import overview as compliance
from ciimap.core import jobs
from ciimap.core.db import utcnow
from ciimap.core.errors import Invalid
from ciimap.core.labels import labels
from ciimap.crypto import overview as crypto_overview
from ciimap.datagov import service as datagov
from ciimap.graph import build, command, concentration, spof
from ciimap.graph import impact as graph_impact
from ciimap.incidents import grading as incident_grading
from ciimap.incidents import overview as incident_overview
from ciimap.incidents import service as incidents
from ciimap.ingest import changes
from ciimap.ingest.sources.base import SoftwareSource, check_target
from ciimap.inventory import overview
from ciimap.inventory import service as inv
from ciimap.vulns import service as vulns
from ciimap.vulns.listing import PRIORITIES, top_priority_by_asset

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


def _findings_card(session: Session) -> dict[str, Any] | None:
    counts = [(p, vulns.list_findings(session, priority=p, limit=1)[1]) for p in PRIORITIES]
    series = [[p, n] for p, n in counts]
    p1 = counts[0][1]
    return {
        "key": "findings",
        "value": f"{p1:,} / {sum(n for _p, n in counts):,}",
        "parts": [("p1", f"{p1:,}"), ("all_findings", f"{sum(n for _p, n in counts):,}")],
        "href": "/findings",
        "series": series,
        "tone": "bad" if p1 else "",
    }


def _changes_card(session: Session) -> dict[str, Any] | None:
    week = changes.list_changes(session, since=utcnow() - dt.timedelta(days=7), limit=1)["total"] or 0
    return {"key": "changes", "value": f"{week:,}", "href": "/changes", "sub": ""}


def _graph_cards(session: Session) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    g = build.build_graph(session)
    rows = spof.spof_report(session, graph=g, asset_limit=5)
    total = sum(sum(r.counts.values()) for r in rows)
    series = [[r.service.name or str(r.service.id), sum(r.counts.values())] for r in rows][:12]
    out.append(
        {
            "key": "spof",
            "value": f"{total:,}",
            "parts": [("services", len(rows))],
            "href": "/topology",
            "series": series,
            "tone": "warn" if total else "",
        }
    )
    rep = concentration.concentration(session, graph=g)
    sev: dict[str, int] = {}
    for f in rep.findings:
        sev[f.severity] = sev.get(f.severity, 0) + 1
    out.append(
        {
            "key": "concentration",
            "value": f"{len(rep.findings):,}",
            "href": "/entities/vendors",
            "parts": [(f"sev_{k}", v) for k, v in sorted(sev.items())],
            "series": [[k, v] for k, v in sev.items()],
            "chart": "pie",
            "tone": "warn" if rep.findings else "",
        }
    )
    return out


def _compliance_cards(session: Session) -> list[dict[str, Any]]:
    """Systems by latest conclusion (``parts``: label keys ``dash.part.<key>`` with counts) and the
    overdue rectification items."""
    c = compliance.cards(session)
    parts = [[compliance.CONCLUSION_KEYS[k], n] for k, n in c["by_conclusion"].items()]
    return [
        {
            "key": "compliance",
            "value": f"{c['assessed']:,}",
            "href": "/compliance",
            "parts": parts,
            "tone": "warn" if c["by_conclusion"]["差"] else "",
        },
        {
            "key": "rect_overdue",
            "value": f"{c['overdue_rectifications']:,} / {c['open_rectifications']:,}",
            "href": "/compliance",
            "parts": [["systems", c["systems_overdue"]]],
            "tone": "bad" if c["overdue_rectifications"] else "",
        },
    ]


def _crypto_card(session: Session) -> dict[str, Any]:
    """Systems with a crypto gap (flags, no GM algorithm where required, failed latest 密评)."""
    c = crypto_overview.card(session)
    return {
        "key": "crypto",
        "value": f"{c['systems_with_gaps']:,}",
        "href": "/crypto",
        "parts": [["no_gm", c["no_gm"]], ["failed", c["failed"]], ["flags", c["flags"]]],
        "tone": "warn" if c["systems_with_gaps"] else "",
    }


def _data_cards(session: Session) -> list[dict[str, Any]]:
    """Important/core data resources with the systems holding them, and the MLPS suggestions (datagov)."""
    c = datagov.cards(session)
    n = len(datagov.suggestions(session))
    return [
        {
            "key": "data",
            "value": f"{c['by_level']['core']:,} / {c['by_level']['important']:,}",
            "href": "/data/registers",
            "parts": [["data_systems", c["systems_marked"]], ["data_review", c["review_overdue"]]],
            "tone": "warn" if c["review_overdue"] else "",
        },
        {
            "key": "data_suggestions",
            "value": f"{n:,}",
            "href": "/data/registers",
            "tone": "warn" if n else "",
        },
    ]


def _incident_cards(session: Session, viewer_org: int | None) -> list[dict[str, Any]]:
    """Open real incidents by grade and reporting deadlines due within the hour (the caller's
    organisation only when it is bound to one)."""
    c = incidents.open_counts(session, viewer_org=viewer_org)
    codes = incident_grading.criteria().codes
    top = c["by_grade"]["特别重大"] + c["by_grade"]["重大"]
    return [
        {
            "key": "incidents",
            "value": f"{sum(c['by_grade'].values()):,}",
            "href": "/incidents",
            "parts": [[f"grade_{codes[g]}", n] for g, n in c["by_grade"].items()],  # type: ignore[index]
            "tone": "bad" if top else "",
        },
        {
            "key": "incident_due",
            "value": f"{c['due_within_hour']:,}",
            "href": "/incidents",
            "tone": "bad" if c["due_within_hour"] else "",
        },
    ]


def _alert_cards(session: Session, viewer_org: int | None = None) -> list[dict[str, Any]]:
    """Warnings not closed per level (红/橙/黄/蓝) and the alert groups of the last day."""
    c = alert_console.card(session, viewer_org)
    open_total = sum(n for _lv, n in c["levels"])
    red = dict(c["levels"]).get("red", 0)
    return [
        {
            "key": "warnings",
            "value": f"{open_total:,}",
            "href": "/warnings",
            "parts": c["levels"],
            "tone": "bad" if red else ("warn" if open_total else ""),
        },
        {"key": "alert_groups", "value": f"{c['groups_24h']:,}", "href": "/alerts", "sub": ""},
    ]


def dashboard_cards(session: Session, viewer_org: int | None = None) -> list[dict[str, Any]]:
    """Cards from the other domains: ``{"key", "value", "href", "series"?}`` — none are invented."""
    cards = [c for c in (_findings_card(session), _changes_card(session)) if c]
    cards += _incident_cards(session, viewer_org)
    return (
        cards
        + _graph_cards(session)
        + _compliance_cards(session)
        + [_crypto_card(session)]
        + _data_cards(session)
        + _alert_cards(session, viewer_org)
    )


def annotate_nodes(session: Session, nodes: list[dict[str, Any]], viewer_org: int | None = None) -> None:
    """Overlay attributes from the other domains: ``vuln`` = the asset's top finding priority; on
    systems ``cmp`` = the latest assessment conclusion (excellent/good/fair/poor), ``rect_overdue``
    = overdue rectification items, ``crypto_gap`` = crypto flags + no GM + failed latest 密评 and
    ``data_level`` = the highest level of important/core data held; ``attack`` on assets = the highest
    severity of their unsuppressed alert groups of the last 24 h, ``warn`` on systems = the most severe
    open warning level; ``incident`` on systems and assets = the most severe grade code (I–IV) of their
    open real incidents and ``incidents`` how many (``viewer_org``: only that organisation's incidents)."""
    by_id = {n["ref"]: n for n in nodes if n["type"] == "asset"}
    for aid, prio in top_priority_by_asset(session, asset_ids=list(by_id)).items():
        by_id[aid]["vuln"] = prio
    systems = {n["ref"]: n for n in nodes if n["type"] == "system"}
    for sid, st in compliance.system_status(session, list(systems)).items():
        if st["conclusion"]:
            systems[sid]["cmp"] = compliance.CONCLUSION_KEYS[st["conclusion"]]
        if st["overdue"]:
            systems[sid]["rect_overdue"] = st["overdue"]
    for sid, gap in crypto_overview.gaps(session, list(systems)).items():
        if gap["flags"] or gap["no_gm"] or gap["passed"] is False:
            systems[sid]["crypto_gap"] = gap["flags"] + int(gap["no_gm"]) + int(gap["passed"] is False)

    for m in datagov.system_marks(session, system_ids=list(systems)):
        systems[m["system_id"]]["data_level"] = m["level"]  # important / core data held (datagov)
    attack = alert_console.overlay(session)  # under attack now (assets), warning level (systems)
    for aid, a in attack["assets"].items():
        if aid in by_id:
            by_id[aid]["attack"] = a["severity"]
    for sid, w in attack["systems"].items():
        if sid in systems:
            systems[sid]["warn"] = w["level"]
    inc = incident_overview.map_overlay(
        session, system_ids=list(systems), asset_ids=list(by_id), viewer_org=viewer_org
    )  # open incidents (incidents)
    for key, on in (("systems", systems), ("assets", by_id)):
        for ref, o in inc[key].items():
            on[ref]["incident"], on[ref]["incidents"] = o["code"], o["count"]


def annotate_command(session: Session, graph: dict[str, Any], viewer_org: int | None = None) -> None:
    """Overlays for the command map: systems and hot assets as in :func:`annotate_nodes`; clusters get
    ``attack`` (worst alert severity of their assets, from the alerts console) and business services
    the worst of their systems' warning level / incident grade / compliance conclusion."""
    nodes = graph["nodes"]
    annotate_nodes(session, nodes, viewer_org=viewer_org)
    clusters = {n["id"]: n for n in nodes if n["type"] == "cluster"}
    attack = alert_console.overlay(session)["assets"]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    for aid, cid in command.clusters_of_assets(session, list(attack)).items():
        c, sev = clusters.get(cid), attack[aid]["severity"]
        if c is not None and rank.get(sev, 9) < rank.get(c.get("attack", ""), 9):
            c["attack"] = sev
    by_id = {n["id"]: n for n in nodes}
    systems_of: dict[str, list[str]] = {}
    for e in graph["edges"]:
        if e["source"].startswith("business_service:") and e["target"].startswith("system:"):
            systems_of.setdefault(e["source"], []).append(e["target"])
    worst = {
        "warn": alert_console.WARNING_LEVELS,
        "incident": ("I", "II", "III", "IV"),
        "cmp": ("poor", "fair", "good", "excellent"),
    }
    for n in nodes:
        if n["type"] != "business_service":
            continue
        for sid in systems_of.get(n["id"], []):
            s = by_id.get(sid, {})
            for key, order in worst.items():
                v = s.get(key)
                if v in order and (n.get(key) not in order or order.index(v) < order.index(n[key])):
                    n[key] = v
            if s.get("rect_overdue"):
                n["rect_overdue"] = n.get("rect_overdue", 0) + s["rect_overdue"]
            if s.get("data_level") == "core" or (s.get("data_level") and not n.get("data_level")):
                n["data_level"] = s["data_level"]


def impact(session: Session, *, kind: str, ref: int) -> dict[str, Any]:
    """What-if: the graph capability's impact analysis, shaped for the topology page."""
    if kind not in SELECTOR_KIND:
        raise Invalid(f"cannot run what-if on a {kind}")
    res = graph_impact.impact(session, kind=SELECTOR_KIND[kind], ref=str(ref), asset_limit=500)
    out: dict[str, Any] = {
        "failed": [],
        "degraded": [],
        "counts": res.counts,
        "assets_total": res.assets_total,
        "data_at_risk": [d.model_dump() for d in res.data_at_risk],
        "data_at_risk_total": res.data_at_risk_total,
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


def import_kinds(locale: str) -> list[tuple[str, str]]:
    """The asset sources of the registry as (kind, label in the page's language)."""
    zh = locale.startswith("zh")
    return [(src.kind, src.label[0] if zh else src.label[1]) for src in sources.of_family("assets")]


def target_kinds() -> list[str]:
    """Asset sources whose records belong to one asset or system (SBOM, agents): they take a target."""
    return [s.kind for s in sources.of_family("assets") if isinstance(s, SoftwareSource)]


def import_targets(session: Session) -> list[dict[str, Any]]:
    """The import page's target menu: every system (an asset is typed as asset:ID)."""
    return overview.system_choices(session)


def parse_target(raw: str | None) -> dict[str, int]:
    """``system:3`` / ``asset:42`` (the menu's values, or typed) → importer options; '' → none."""
    text = (raw or "").strip()
    if not text:
        return {}
    kind, sep, ref = text.partition(":")
    ref = ref.strip().split()[0] if ref.strip() else ""
    if not sep or kind.strip() not in ("system", "asset") or not ref.isdigit() or not 0 < int(ref) < 2**31:
        raise Invalid(f"target: expected system:ID or asset:ID, got '{text}'")
    return {f"{kind.strip()}_id": int(ref)}


def submit_import(
    session: Session,
    *,
    kind: str,
    paths: list[str],
    actor: str,
    upload_dir: Any = None,
    target: str | None = None,
) -> Any:
    """Queue the ``import`` job (the same job POST /api/imports queues). A software source (SBOM)
    gets its target asset or system, checked before anything is queued: one message, nothing kept."""
    src = sources.get(kind, family="assets")
    options: dict[str, Any] = parse_target(target)
    if isinstance(src, SoftwareSource):
        check_target(session, src.options(options), required=src.target_required)  # type: ignore[arg-type]
    elif options:
        raise Invalid(f"{kind} imports take no target system or asset")
    return jobs.submit(
        session,
        "import",
        {"kind": kind, "paths": paths, "options": options, "scope": None},
        actor=actor,
        upload_dir=upload_dir,
    )


def change_feed(session: Session, *, page: int = 1, limit: int = 50) -> dict[str, Any] | None:
    """Newest change events first (the service lists oldest first, so page from the end)."""
    total = changes.list_changes(session, limit=1)["total"] or 0
    end = max(total - (page - 1) * limit, 0)
    start = max(end - limit, 0)
    items = changes.list_changes(session, limit=max(end - start, 1), offset=start)["items"] if end else []
    items = list(reversed(items))[: end - start]
    asset_labels(session, items)
    return {"items": items, "total": total, "page": page, "next": page + 1 if start > 0 else None}


def asset_labels(session: Session, items: list[Any]) -> None:
    """Set ``asset_label`` on change events (one label query)."""
    names = labels(session, inv.ASSETS, {e.asset_id for e in items if e.asset_id})
    for e in items:
        e.asset_label = names.get(e.asset_id)


def asset_extras(session: Session, asset_id: int) -> dict[str, Any]:
    """Sections for the asset page from the other domains: findings, change events."""
    out: dict[str, Any] = {}
    rows, total = vulns.list_findings(session, asset_id=asset_id, limit=20)
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
    page = changes.list_changes(session, asset_id=asset_id, limit=1)
    total = page["total"] or 0
    rows = changes.list_changes(session, asset_id=asset_id, limit=20, offset=max(total - 20, 0))["items"]
    out["changes"] = {
        "total": total,
        "columns": ["at", "kind", "subject", "detail"],
        "rows": [
            {"at": e.at, "kind": e.kind, "subject": e.subject, "before": e.before, "after": e.after}
            for e in reversed(rows)
        ],
    }
    return out
