"""How exposed the operator is now (安全态势), each figure from the domain that owns it:

- **critical business services at risk** (criticality high or critical): those that transitively need a
  system or asset carrying an open KEV or P1 finding (one reverse walk of the dependency graph,
  :func:`ciimap.graph.spof.services_needing`), or that have a single point of failure
  (:func:`ciimap.graph.spof.spof_report`);
- **KEV findings on CII systems** and the CII assets carrying them (:func:`ciimap.vulns.service.exposure`);
- **single points of failure** of those services;
- **overdue work**: findings past their due date, rectification items past theirs
  (:func:`ciimap.compliance.overview.cards`), CII obligations overdue
  (:func:`ciimap.compliance.obligations.obligations`);
- **open warnings** by level (:func:`ciimap.alerts.console.card`);
- **open incidents** by grade with their reporting deadlines (:func:`ciimap.incidents.service.open_counts`).

Each card carries a 30-day daily series where the data has a timestamp to count by (KEV-on-CII findings
by the day first matched, overdue findings by the day they fell due, warnings by the day raised, incidents
by the day discovered, change events per day); SPOFs and services at risk have no history to count from
and carry none. Aggregates only (counts and GROUP BY day), no table is loaded whole; the graph comes from
the graph capability's shared cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ciimap.alerts import console as alert_console
from ciimap.alerts.models import AlertWarning
from ciimap.compliance import obligations
from ciimap.compliance import overview as compliance
from ciimap.core.db import utcnow
from ciimap.graph import build, spof
from ciimap.incidents import grading as incident_grading
from ciimap.incidents import service as incidents
from ciimap.incidents.models import Incident
from ciimap.ingest.models import ChangeEvent
from ciimap.inventory import overview
from ciimap.vulns import service as vulns

DAYS = overview.TREND_DAYS
#: Business services counted as critical (关键业务): the graph capability's notion (SPOF, concentration).
MIN_CRITICALITY = "high"


def _days(today: dt.date) -> list[str]:
    start = today - dt.timedelta(days=DAYS)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(DAYS + 1)]


def _cumulative(days: list[str], by_day: dict[str, int], before: int) -> list[list[Any]]:
    out, n = [], before
    for d in days:
        n += by_day.get(d, 0)
        out.append([d, n])
    return out


def _services(session: Session, risky_systems: list[int], risky_assets: list[int]) -> dict[str, Any]:
    g = build.build_graph(session)
    rows = spof.spof_report(session, graph=g, min_criticality=MIN_CRITICALITY, asset_limit=3)
    vulnerable = set(
        spof.services_needing(
            g, {"system": risky_systems, "asset": risky_assets}, min_criticality=MIN_CRITICALITY
        )
    )
    with_spof = {int(r.service.id) for r in rows if r.counts}
    names = {int(r.service.id): r.service.name or f"#{r.service.id}" for r in rows}
    crit = {int(r.service.id): r.criticality for r in rows}
    at_risk = sorted(
        vulnerable | with_spof,
        key=lambda s: (-(crit.get(s) == "critical"), -(s in vulnerable), names.get(s, "")),
    )
    return {
        "services": len(rows),
        "at_risk": [
            {
                "id": s,
                "name": names.get(s, f"#{s}"),
                "criticality": crit.get(s),
                "vulnerable": s in vulnerable,
                "spof": s in with_spof,
            }
            for s in at_risk
        ],
        "vulnerable": len(vulnerable),
        "with_spof": len(with_spof),
        "spof_nodes": sum(sum(r.counts.values()) for r in rows),
        "spof_by_type": _sum_counts([r.counts for r in rows]),
    }


def _sum_counts(counts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


def posture(
    session: Session, *, viewer_org: int | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """The posture figures and cards (``viewer_org``: warnings and incidents of that organisation only)."""
    now = utcnow()
    today = today or now.date()
    days = _days(today)
    since = dt.date.fromisoformat(days[0])
    exp = vulns.exposure(session, today=today, since=since)
    svc = _services(session, exp["risky_systems"], exp["risky_assets"])
    comp = compliance.cards(session)
    late_obligations = obligations.obligations(session, today=today, state="overdue")
    alerts = alert_console.card(session, viewer_org)
    inc = incidents.open_counts(session, viewer_org=viewer_org)
    mine_w = (AlertWarning.organization_id == viewer_org,) if viewer_org is not None else ()
    mine_i = (Incident.organization_id == viewer_org,) if viewer_org is not None else ()
    codes = incident_grading.criteria().codes
    levels = dict(alerts["levels"])
    open_warnings = sum(levels.values())
    open_incidents = sum(inc["by_grade"].values())
    overdue_total = exp["overdue"] + comp["overdue_rectifications"] + len(late_obligations)
    cards = [
        {
            "key": "services_at_risk",
            "value": len(svc["at_risk"]),
            "of": svc["services"],
            "href": "/topology",
            "parts": [["vulnerable", svc["vulnerable"]], ["spof", svc["with_spof"]]],
            "names": [s["name"] for s in svc["at_risk"][:3]],
            "tone": "bad" if svc["vulnerable"] else ("warn" if svc["at_risk"] else ""),
            "trend": None,
        },
        {
            "key": "kev_cii",
            "value": exp["kev_cii"],
            "href": "/findings?kev=yes",
            "parts": [["assets", exp["kev_cii_assets"]], ["kev_all", exp["kev"]]],
            "tone": "bad" if exp["kev_cii"] else "",
            "trend": _cumulative(days, exp["kev_cii_by_day"], exp["kev_cii_before"]),
        },
        {
            "key": "spof",
            "value": svc["spof_nodes"],
            "href": "/topology",
            "parts": [
                ["services", svc["with_spof"]],
                *[[f"type_{k}", n] for k, n in svc["spof_by_type"].items()],
            ],
            "tone": "warn" if svc["spof_nodes"] else "",
            "trend": None,
        },
        {
            "key": "overdue",
            "value": overdue_total,
            "href": "/compliance/obligations",
            "parts": [
                ["findings", exp["overdue"]],
                ["rectifications", comp["overdue_rectifications"]],
                ["obligations", len(late_obligations)],
            ],
            "links": {
                "findings": "/findings",
                "rectifications": "/compliance",
                "obligations": "/compliance/obligations",
            },
            "tone": "bad" if overdue_total else "",
            "trend": _cumulative(days, exp["overdue_by_day"], exp["overdue_before"]),
        },
        {
            "key": "warnings",
            "value": open_warnings,
            "href": "/warnings",
            "parts": [[f"level_{lv}", n] for lv, n in alerts["levels"]],
            "tone": "bad" if levels.get("red") else ("warn" if open_warnings else ""),
            "trend": overview.trend(session, AlertWarning.first_alert_at, AlertWarning, *mine_w, days=DAYS),
        },
        {
            "key": "incidents",
            "value": open_incidents,
            "href": "/incidents",
            "parts": [
                *[[f"grade_{codes[g]}", n] for g, n in inc["by_grade"].items() if n],  # type: ignore[index]
                ["deadlines_overdue", inc["deadlines_overdue"]],
                ["due_within_hour", inc["due_within_hour"]],
            ],
            "next_deadline": inc["next_deadline"].isoformat() if inc["next_deadline"] else None,
            "tone": "bad"
            if inc["deadlines_overdue"] or inc["due_within_hour"]
            else ("warn" if open_incidents else ""),
            "trend": overview.trend(
                session, Incident.discovered_at, Incident, Incident.drill.is_(False), *mine_i, days=DAYS
            ),
        },
        {
            "key": "changes",
            "value": None,
            "href": "/changes",
            "parts": [],
            "tone": "",
            "trend": overview.trend(session, ChangeEvent.at, ChangeEvent, days=DAYS),
        },
    ]
    changes = cards[-1]
    changes["value"] = sum(n for _d, n in changes["trend"])
    return {
        "as_of": now.isoformat(timespec="seconds"),
        "days": DAYS,
        "cards": cards,
        "services_at_risk": svc["at_risk"],
    }
