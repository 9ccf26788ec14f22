"""Findings shaped for lists (the web findings page): severity and CVSS, EPSS, KEV flag, asset and
system names — one batched query per table for a page of findings, never one per row.

Severity is the worst one known for the advisory: its own or that of an advisory sharing an id with
it (the NVD/CNNVD/CNVD entry for its CVE) — the same rule the score uses (persist._threat), since
OSV records for PyPI rarely carry a severity themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from ciimap.core.db import chunks
from ciimap.core.errors import Invalid
from ciimap.inventory.models import Asset, System
from ciimap.vulns import scoring, triage
from ciimap.vulns.feeds.common import SEVERITY_ORDER
from ciimap.vulns.models import PRIORITIES as PRIORITIES  # filter menus (re-exported for the page)
from ciimap.vulns.models import TRIAGE_STATES as TRIAGE_STATES
from ciimap.vulns.models import Advisory, AdvisoryAlias, EpssScore, Finding, KevEntry

#: Most severe first, for filter menus.
SEVERITIES = tuple(reversed(SEVERITY_ORDER))


def _linked(levels: tuple[str, ...], pks: list[int] | None = None) -> Select[int, str | None]:
    """(advisory pk, severity) for each advisory and every advisory of these severities sharing an
    id with it (optionally only for the advisories ``pks``)."""
    mine, theirs = aliased(AdvisoryAlias), aliased(AdvisoryAlias)
    stmt = (
        select(mine.advisory_pk, Advisory.severity)
        .join(theirs, theirs.alias == mine.alias)
        .join(Advisory, Advisory.id == theirs.advisory_pk)
        .where(Advisory.severity.in_(levels))
    )
    return stmt.where(mine.advisory_pk.in_(pks)) if pks is not None else stmt


def severity_is(severity: str) -> ColumnElement[bool]:
    """Condition on Finding: its worst known severity is ``severity``."""
    if severity not in SEVERITY_ORDER:
        raise Invalid(f"severity: expected one of {', '.join(SEVERITIES)}, got '{severity}'")
    worse = SEVERITY_ORDER[SEVERITY_ORDER.index(severity) + 1 :]
    cond: ColumnElement[bool] = Finding.advisory_pk.in_(select(_linked((severity,)).subquery().c.advisory_pk))
    if worse:
        cond = and_(cond, Finding.advisory_pk.not_in(select(_linked(worse).subquery().c.advisory_pk)))
    return cond


def _severities(session: Session, pks: list[int]) -> dict[int, str]:
    worst: dict[int, str] = {}
    for pk, sev in session.execute(_linked(SEVERITY_ORDER, pks)):
        if sev and (pk not in worst or SEVERITY_ORDER.index(sev) > SEVERITY_ORDER.index(worst[pk])):
            worst[pk] = sev
    return worst


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(sorted(ids)):
        out.update((i, n) for i, n in session.execute(select(model.id, model.name).where(model.id.in_(part))))
    return out


def _cvss(f: Finding, fallback: float | None) -> float | None:
    """The CVSS the score used (it may come from a linked NVD record), else the advisory's own."""
    for factor in f.factors or []:
        if factor.get("factor") == "cvss" and isinstance(factor.get("value"), int | float):
            return float(factor["value"])
    return fallback


def rows(session: Session, findings: list[Finding]) -> list[dict[str, Any]]:
    """One dict per finding, in the given (risk) order."""
    adv: dict[int, Any] = {}
    kev: set[int] = set()
    sev: dict[int, str] = {}
    for part in chunks(sorted({f.advisory_pk for f in findings})):
        adv.update(
            (r.id, r)
            for r in session.execute(
                select(Advisory.id, Advisory.cvss_score, Advisory.summary).where(Advisory.id.in_(part))
            )
        )
        kev.update(
            session.scalars(
                select(AdvisoryAlias.advisory_pk).where(
                    AdvisoryAlias.advisory_pk.in_(part), AdvisoryAlias.alias.in_(select(KevEntry.cve_id))
                )
            )
        )
        sev.update(_severities(session, part))
    epss: dict[str, float] = {}
    for cpart in chunks(sorted({c for f in findings for c in f.cve_ids or []})):
        stmt = select(EpssScore.cve_id, EpssScore.epss).where(EpssScore.cve_id.in_(cpart))
        epss.update((c, e) for c, e in session.execute(stmt))
    assets = _names(session, Asset, {f.asset_id for f in findings if f.asset_id})
    systems = _names(session, System, {f.system_id for f in findings if f.system_id})
    decisions = triage.load(session, {f.triage_key for f in findings}) if findings else {}
    out = []
    for f in findings:
        a = adv.get(f.advisory_pk)
        scores = [epss[c] for c in f.cve_ids or [] if c in epss]
        out.append(
            {
                "id": f.id,
                "priority": f.priority,
                "score": f.score,
                "advisory_id": f.advisory_id,
                "cve_ids": [c for c in f.cve_ids or [] if c != f.advisory_id],
                "package": f.package,
                "version": f.version,
                "severity": sev.get(f.advisory_pk),
                "cvss": _cvss(f, a.cvss_score if a else None),
                "summary": a.summary if a else None,
                "epss": max(scores) if scores else None,
                "kev": f.advisory_pk in kev,
                "status": f.status,
                "active": f.active,
                "due_date": f.due_date,
                "asset_id": f.asset_id,
                "asset": assets.get(f.asset_id) if f.asset_id else None,
                "system_id": f.system_id,
                "system": systems.get(f.system_id) if f.system_id else None,
                "assignee": (decisions[f.triage_key].assignee if f.triage_key in decisions else None),
                "triage_due": (decisions[f.triage_key].due_date if f.triage_key in decisions else None),
                "note": (decisions[f.triage_key].detail if f.triage_key in decisions else None),
                "why_zh": scoring.explain(f.factors or [], "zh"),
                "why_en": scoring.explain(f.factors or [], "en"),
            }
        )
    return out


def systems_with_findings(session: Session) -> list[tuple[int, str]]:
    """(id, name) of systems that have findings (an asset's findings carry its system), for filters."""
    ids = select(Finding.system_id).where(Finding.system_id.is_not(None)).distinct()
    stmt = select(System.id, System.name).where(System.id.in_(ids)).order_by(System.name)
    return [(int(i), str(n)) for i, n in session.execute(stmt)]


def top_priority_by_asset(session: Session, *, asset_ids: list[int]) -> dict[int, str]:
    """asset id → the highest priority (P1 first) of its active findings; assets without any are left
    out. One grouped query per batch of ids (the topology map's vulnerability overlay)."""
    out: dict[int, str] = {}
    for part in chunks(sorted(asset_ids)):
        stmt = (
            select(Finding.asset_id, func.min(Finding.priority))
            .where(Finding.asset_id.in_(part), Finding.active.is_(True))
            .group_by(Finding.asset_id)
        )
        out.update((int(aid), str(prio)) for aid, prio in session.execute(stmt) if aid is not None)
    return out


def priority_counts_by(session: Session, column: str) -> dict[int, dict[str, int]]:
    """``Asset.<column>`` id (``site_id`` or ``zone_id``) → active findings per priority of its assets.
    One grouped query (the site map's risk colours)."""
    col = getattr(Asset, column)
    stmt = (
        select(col, Finding.priority, func.count())
        .join(Asset, Asset.id == Finding.asset_id)
        .where(Finding.active.is_(True), col.is_not(None))
        .group_by(col, Finding.priority)
    )
    out: dict[int, dict[str, int]] = {}
    for ref, prio, n in session.execute(stmt).tuples():
        out.setdefault(int(ref), {})[str(prio)] = int(n)
    return out
