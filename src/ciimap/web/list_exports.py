"""CSV/XLSX export of the list pages that are not entity lists: findings, change feed, incidents,
alert console, warnings.

Each list names its columns in the page's order (the keys its table headers carry as ``data-col``, so
the column chooser of ``static/js/lists.js`` and the export agree), how a row becomes a cell in the
user's language, how the page's query string becomes its service's filters, and how to read a page of
rows from that same service. :mod:`ciimap.core.export` checks the request, audits it and streams it
(formula-safe), exactly as for the entity lists. Routes: ``GET /export/<list>?format=csv|xlsx&columns=…``
with the list page's own filters (``views_exports``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ciimap.alerts import console, warnings
from ciimap.core.errors import Invalid
from ciimap.incidents import service as incidents
from ciimap.incidents.schemas import GRADES, STATES
from ciimap.ingest import changes
from ciimap.vulns import listing as vlisting
from ciimap.vulns import service as vulns
from ciimap.web.changes import diff
from ciimap.web.domains import asset_labels
from ciimap.web.i18n import Translator
from ciimap.web.views_alerts import console_filters, warning_filters
from ciimap.web.views_findings import parse_filters

#: A cell: (row, translator) → the value written (text in the user's language, numbers and times typed).
Cell = Callable[[Any, Translator], Any]


def _g(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def _joined(values: Any) -> str:
    return "; ".join(str(v) for v in values or [])


def _names(items: Any) -> str:
    return "; ".join(str(_g(x, "name") or f"#{_g(x, 'id')}") for x in items or [])


@dataclass(frozen=True)
class ListExport:
    name: str
    #: column key → (catalog key of its header, cell)
    columns: dict[str, tuple[str, Cell]]
    #: (query parameters, viewer's organisation) → the service's filters; Invalid on a bad value
    filters: Callable[[dict[str, str], int | None], dict[str, Any]]
    #: (session, filters, viewer's organisation, offset, limit) → rows in the page's order
    fetch: Callable[[Session, dict[str, Any], int | None, int, int], Sequence[Any]]
    #: rows per read: at most the service's own page cap
    batch: int


# --- findings -------------------------------------------------------------------------------------


def _finding_filters(params: dict[str, str], _org: int | None) -> dict[str, Any]:

    return parse_filters(params)


def _findings(s: Session, f: dict[str, Any], _org: int | None, offset: int, limit: int) -> list[Any]:
    found, _total = vulns.list_findings(s, **f, limit=limit, offset=offset)
    return vlisting.rows(s, found)


FINDINGS = ListExport(
    "findings",
    {
        "priority": ("field.priority", lambda r, t: r["priority"]),
        "score": ("findings.score", lambda r, t: r["score"]),
        "advisory_id": ("findings.advisory", lambda r, t: r["advisory_id"]),
        "cve_ids": ("export.cve_ids", lambda r, t: _joined(r["cve_ids"])),
        "package": ("export.package", lambda r, t: r["package"]),
        "version": ("field.version", lambda r, t: r["version"]),
        "severity": (
            "findings.severity",
            lambda r, t: t(f"findings.severity_{r['severity']}") if r["severity"] else None,
        ),
        "cvss": ("export.cvss", lambda r, t: r["cvss"]),
        "epss": ("export.epss", lambda r, t: r["epss"]),
        "kev": ("findings.kev", lambda r, t: t("findings.kev_yes") if r["kev"] else t("findings.kev_no")),
        "status": ("findings.status", lambda r, t: t(f"findings.status_{r['status']}")),
        "asset": ("type.asset", lambda r, t: r["asset"] or (f"#{r['asset_id']}" if r["asset_id"] else None)),
        "system": (
            "type.system",
            lambda r, t: r["system"] or (f"#{r['system_id']}" if r["system_id"] else None),
        ),
        "due_date": ("findings.due", lambda r, t: r["due_date"]),
    },
    _finding_filters,
    _findings,
    batch=1000,
)


# --- change feed ----------------------------------------------------------------------------------


def _no_filters(_params: dict[str, str], _org: int | None) -> dict[str, Any]:
    return {}


def _changes(s: Session, _f: dict[str, Any], _org: int | None, offset: int, limit: int) -> list[Any]:

    items = changes.list_changes(s, limit=limit, offset=offset)["items"]
    asset_labels(s, items)
    return items


def _change_text(e: Any, t: Translator) -> str:
    return "; ".join(
        f"{c['field']}: {c['old'] or ''}{' → ' if c['old'] is not None and c['new'] is not None else ''}"
        f"{c['new'] or ''}"
        for c in diff(e.before, e.after, t)
    )


CHANGES = ListExport(
    "changes",
    {
        "at": ("field.at", lambda e, t: e.at),
        "kind": ("field.kind", lambda e, t: t.value("change", e.kind)),
        "asset": ("type.asset", lambda e, t: e.asset_label or (f"#{e.asset_id}" if e.asset_id else None)),
        "subject": ("field.subject", lambda e, t: e.subject),
        "detail": ("detail.changed", _change_text),
    },
    _no_filters,
    _changes,
    batch=1000,
)


# --- incidents ------------------------------------------------------------------------------------


def _incident_filters(params: dict[str, str], _org: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, allowed in (("state", STATES), ("grade", GRADES)):
        raw = (params.get(key) or "").strip()
        if raw and raw not in allowed:
            raise Invalid(f"{key}: expected one of {', '.join(allowed)}, got '{raw}'")
        if raw:
            out[key] = raw
    return out


def _incidents(s: Session, f: dict[str, Any], org: int | None, offset: int, limit: int) -> list[Any]:
    return list(incidents.list_incidents(s, viewer_org=org, **f, offset=offset, limit=limit)["items"])


INCIDENTS = ListExport(
    "incidents",
    {
        "id": ("field.id", lambda i, t: i["id"]),
        "title": ("inc.name", lambda i, t: i["title"]),
        "drill": ("inc.drill", lambda i, t: t("bool.true") if i.get("drill") else t("bool.false")),
        "grade": ("inc.grade", lambda i, t: t.value("inc_grade", i["grade"]) if i["grade"] else None),
        "state": ("inc.state", lambda i, t: t.value("inc_state", i["state"])),
        "discovered_at": ("inc.discovered_at", lambda i, t: i["discovered_at"]),
        "origin": ("inc.origin", lambda i, t: t.value("inc_origin", i["origin"]) if i["origin"] else None),
    },
    _incident_filters,
    _incidents,
    batch=incidents.LIST_LIMIT,
)


# --- alert console (groups) and warnings -----------------------------------------------------------


def _alert_filters(params: dict[str, str], _org: int | None) -> dict[str, Any]:

    return console_filters(params)


def _alert_groups(s: Session, f: dict[str, Any], _org: int | None, offset: int, limit: int) -> list[Any]:
    return list(console.console(s, **f, limit=limit, offset=offset)["groups"])


ALERTS = ListExport(
    "alerts",
    {
        "last_seen": ("alerts.last_seen", lambda g, t: g["last_seen"]),
        "severity": ("alerts.severity", lambda g, t: t.value("criticality", g["severity"])),
        "priority": ("alerts.priority", lambda g, t: t.value("criticality", g["priority"])),
        "kind": ("field.kind", lambda g, t: t.value("alertkind", g["kind"])),
        "rule_id": ("export.rule_id", lambda g, t: g["rule_id"]),
        "rule_name": ("alerts.rule", lambda g, t: g["rule_name"]),
        "target": (
            "alerts.target",
            lambda g, t: (
                g["target_name"]
                or g["target_ip"]
                or (f"#{g['target_asset_id']}" if g["target_asset_id"] else None)
            ),
        ),
        "zone": ("alerts.zone", lambda g, t: g.get("zone_name")),
        "attacker_ip": ("alerts.attacker", lambda g, t: g["attacker_ip"]),
        "systems": ("alerts.systems", lambda g, t: _names(g.get("systems"))),
        "services": ("alerts.services", lambda g, t: _names(g.get("services"))),
        "count": ("alerts.count", lambda g, t: g["count"]),
        "first_seen": ("alerts.first_seen", lambda g, t: g["first_seen"]),
    },
    _alert_filters,
    _alert_groups,
    batch=500,
)


def _warning_filters(params: dict[str, str], _org: int | None) -> dict[str, Any]:

    return warning_filters(params)


def _warnings(s: Session, f: dict[str, Any], org: int | None, offset: int, limit: int) -> list[Any]:
    return list(warnings.list_warnings(s, **f, limit=limit, offset=offset, viewer_org=org))


WARNINGS = ListExport(
    "warnings",
    {
        "level": ("warnings.level", lambda w, t: t.value("warnlevel", w["level"])),
        "title": ("warnings.title", lambda w, t: w["title"]),
        "rule": ("warnings.rule", lambda w, t: w["rule"]),
        "scope": ("warnings.scope", lambda w, t: w["scope"]),
        "count": ("alerts.count", lambda w, t: w["count"]),
        "last_alert_at": ("alerts.last_seen", lambda w, t: w["last_alert_at"]),
        "state": ("warnings.state", lambda w, t: t.value("warnstate", w["state"])),
    },
    _warning_filters,
    _warnings,
    batch=500,
)

LISTS: dict[str, ListExport] = {x.name: x for x in (FINDINGS, CHANGES, INCIDENTS, ALERTS, WARNINGS)}
