"""Vulnerability services: feed import, matching, listing, "where is this used", triage.

Services take a Session, never commit, and raise ciimap.core.errors. Every feed import re-matches
(a full match of 10,000 components takes well under the 2 s budget, see bench/vuln_match.py);
software changes call :func:`rematch_for` for just the assets/systems they touched.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from ciimap.config import get_settings
from ciimap.core.db import INSERT_BATCH, chunks
from ciimap.core.errors import InputFileError, NotFound, check_choice, check_range
from ciimap.inventory.models import Asset, ServiceEndpoint, Software, System
from ciimap.vulns import listing, matching, persist, triage
from ciimap.vulns import versions as V
from ciimap.vulns.models import (
    PRIORITIES,
    TRIAGE_STATES,
    Advisory,
    AdvisoryAlias,
    EpssScore,
    FeedImport,
    Finding,
    KevEntry,
)

KNOWN_PREFIXES = ("CVE-", "CNNVD-", "CNVD-", "PYSEC-", "GHSA-", "OSV-", "RUSTSEC-", "GO-", "DSA-", "USN-")
UPPER_IDS = ("CVE-", "CNNVD-", "CNVD-", "PYSEC-", "OSV-", "RUSTSEC-")
ADVISORY_RE = re.compile(r"^[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9:._-]*$")


def stale_days() -> int:
    return get_settings().feed_stale_days


def stale_warning(kind: str, snapshot: dt.date, today: dt.date | None = None) -> str | None:
    """A warning (never an error) when a feed snapshot is older than ``feed_stale_days``."""
    age = ((today or dt.date.today()) - snapshot).days
    if age > stale_days():
        return f"{kind} feed snapshot {snapshot} is {age} days old (stale after {stale_days()} days)"
    return None


def replace_table(session: Session, model: Any, rows: list[dict[str, Any]], fi_id: int) -> int:
    """KEV and EPSS files are complete catalogues: replace the previous import."""
    unique = {r["cve_id"]: {**r, "feed_import_id": fi_id} for r in rows}
    session.execute(delete(model))
    for part in chunks(list(unique.values()), INSERT_BATCH):
        session.execute(insert(model), part)
    return len(unique)


def shrink_ratio() -> float:
    return get_settings().feed_shrink_min_ratio


def check_shrink(session: Session, model: Any, kind: str, path: Path, rows: list[dict[str, Any]]) -> None:
    """KEV and EPSS imports replace the whole catalogue: refuse a snapshot that would shrink it below
    ``feed_shrink_min_ratio`` of the stored entries (a cut or wrong file), unless allowed."""
    stored = session.scalar(select(func.count()).select_from(model)) or 0
    new = len({r["cve_id"] for r in rows})
    if stored and new < stored * shrink_ratio():
        raise InputFileError(
            str(path),
            f"refused: this {kind.upper()} snapshot has {new} entries, the stored "
            f"catalogue {stored} (below {shrink_ratio():.0%}); nothing was changed. If the file "
            "is complete, import it again with --allow-shrink (API: allow_shrink=true)",
        )


def list_feeds(session: Session, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every import, newest first, with a stale warning on the latest import of each kind."""
    rows = list(
        session.scalars(select(FeedImport).order_by(FeedImport.imported_at.desc(), FeedImport.id.desc()))
    )
    seen: set[str] = set()
    out = []
    for fi in rows:
        latest = fi.kind not in seen
        seen.add(fi.kind)
        out.append(
            {
                "id": fi.id,
                "kind": fi.kind,
                "source": fi.source,
                "snapshot_date": fi.snapshot_date,
                "checksum": fi.checksum,
                "records": fi.record_count,
                "imported_at": fi.imported_at,
                "imported_by": fi.imported_by,
                "seconds": fi.seconds,
                "latest": latest,
                "warning": stale_warning(fi.kind, fi.snapshot_date, today) if latest else None,
            }
        )
    return out


#: New findings in one run from which SQLite's planner statistics of the findings table are refreshed.
ANALYZE_AFTER = 10_000


def match(
    session: Session, *, asset_ids: set[int] | None = None, system_ids: set[int] | None = None
) -> dict[str, Any]:
    """Match every component in scope (``None`` = all) and bring findings up to date."""
    return _match(session, asset_ids=asset_ids, system_ids=system_ids)


def _match(session: Session, *, asset_ids: set[int] | None, system_ids: set[int] | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    reopened = triage.reopen_expired(session)
    stats = matching.Stats()
    comps = matching.load_components(session, asset_ids=asset_ids, system_ids=system_ids, stats=stats)
    hits = matching.dedupe(matching.match_purls(session, comps) + matching.match_cpes(session, comps, stats))
    now = persist.now()
    rows = persist.build_rows(session, hits, now)
    scoped = asset_ids is not None or system_ids is not None
    written = persist.write(session, rows, stats.targets if scoped else None, now)
    written["reopened"] += reopened
    if written["findings_new"] >= ANALYZE_AFTER and session.get_bind().dialect.name == "sqlite":
        # SQLite plans from the statistics ANALYZE stored (PostgreSQL's autovacuum keeps its own): without
        # them the grouped findings pages pick a narrower index and take 4x longer at a million findings
        session.execute(text("ANALYZE vuln_finding"))
    written["fixed_verified"] = triage.verify_fixed(
        session, {r["triage_key"] for r in rows}, asset_ids=asset_ids, system_ids=system_ids
    )
    return {
        "components": stats.components,
        "findings": len(rows),
        **written,
        "skipped_wildcard": stats.skipped_wildcard,
        "skipped_unversioned": stats.skipped_unversioned,
        "unparsed_purl": stats.unparsed_purl,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def has_advisories(session: Session) -> bool:
    """Cheap check so imports skip re-matching on maps without any vulnerability feed."""
    return session.scalar(select(Advisory.id).limit(1)) is not None


def rematch_after_import(
    session: Session,
    *,
    asset_ids: list[int] | None = None,
    system_ids: list[int] | None = None,
    everything: bool = False,
) -> dict[str, Any] | None:
    """Bring findings up to date after an import, in the import's own transaction."""
    if not has_advisories(session):
        return None
    if everything:
        return match(session)
    if not asset_ids and not system_ids:
        return None
    return rematch_for(session, asset_ids=asset_ids, system_ids=system_ids)


def rematch_for(
    session: Session,
    *,
    software_ids: list[int] | None = None,
    asset_ids: list[int] | None = None,
    system_ids: list[int] | None = None,
    endpoint_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Re-match only what a software/endpoint change touched (call after an import, same session).

    Deleted software needs no call: its findings go with it (ON DELETE CASCADE), its triage stays.
    """
    assets, systems = set(asset_ids or ()), set(system_ids or ())
    for part in chunks(sorted(set(software_ids or ()))):
        for a, s in session.execute(
            select(Software.asset_id, Software.system_id).where(Software.id.in_(part))
        ):
            if a:
                assets.add(a)
            elif s:
                systems.add(s)
    for part in chunks(sorted(set(endpoint_ids or ()))):
        assets.update(session.scalars(select(ServiceEndpoint.asset_id).where(ServiceEndpoint.id.in_(part))))
    if not assets and not systems:
        return {"components": 0, "findings": 0}
    return match(session, asset_ids=assets, system_ids=systems)


def kev_advisories() -> Any:
    """Advisory pks whose advisory or one of its aliases is in the KEV catalogue (a subquery)."""
    return select(AdvisoryAlias.advisory_pk).where(AdvisoryAlias.alias.in_(select(KevEntry.cve_id)))


def filtered(
    *,
    priority: str | None = None,
    asset_id: int | None = None,
    system_id: int | None = None,
    status: str | None = None,
    advisory: str | None = None,
    severity: str | None = None,
    kev: bool | None = None,
    site_id: int | None = None,
    include_inactive: bool = False,
) -> Any:
    """``select(Finding)`` with the findings filters (list, groups and bulk triage share them)."""
    check_choice("priority", priority, PRIORITIES)
    check_choice("status", status, TRIAGE_STATES)
    stmt = select(Finding)
    if not include_inactive:
        stmt = stmt.where(Finding.active.is_(True))
    for col, val in (
        (Finding.priority, priority),
        (Finding.asset_id, asset_id),
        (Finding.system_id, system_id),
        (Finding.status, status),
        (Finding.advisory_id, advisory),
    ):
        if val is not None:
            stmt = stmt.where(col == val)
    if severity is not None:
        stmt = stmt.where(listing.severity_is(severity))
    if kev is not None:
        in_kev = Finding.advisory_pk.in_(kev_advisories())
        stmt = stmt.where(in_kev if kev else ~in_kev)
    if site_id is not None:
        stmt = stmt.where(Finding.asset_id.in_(select(Asset.id).where(Asset.site_id == site_id)))
    return stmt


def list_findings(
    session: Session,
    *,
    priority: str | None = None,
    asset_id: int | None = None,
    system_id: int | None = None,
    status: str | None = None,
    advisory: str | None = None,
    severity: str | None = None,
    kev: bool | None = None,
    site_id: int | None = None,
    include_inactive: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Finding], int]:
    """Findings by risk (score, highest first); the filters of the API, the CLI and the web page.

    ``severity`` is the worst known for the advisory (its own or a linked NVD/CNNVD/CNVD entry's:
    critical/high/medium/low, see listing.severity_is); ``kev`` keeps findings whose advisory
    or one of its aliases is in the KEV catalogue (True) or not (False); ``site_id`` the assets of a site.
    """
    check_range("limit", limit, 1, 10_000)
    check_range("offset", offset, 0, 2**62)
    triage.reopen_expired(session)
    stmt = filtered(
        priority=priority,
        asset_id=asset_id,
        system_id=system_id,
        status=status,
        advisory=advisory,
        severity=severity,
        kev=kev,
        site_id=site_id,
        include_inactive=include_inactive,
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Finding.score.desc(), Finding.id).limit(limit).offset(offset))
    return list(rows), int(total)


def get_finding(session: Session, finding_id: int) -> Finding:
    f = session.get(Finding, finding_id)
    if f is None:
        raise NotFound(f"finding {finding_id} does not exist")
    return f


def linked_advisories(session: Session, ids: list[str]) -> list[Advisory]:
    """Advisories sharing any of these ids (CVE ↔ OSV ↔ CNNVD ↔ CNVD)."""
    if not ids:
        return []
    pks = select(AdvisoryAlias.advisory_pk).where(AdvisoryAlias.alias.in_(ids))
    return list(session.scalars(select(Advisory).where(Advisory.id.in_(pks)).order_by(Advisory.advisory_id)))


def finding_detail(session: Session, finding_id: int) -> dict[str, Any]:
    f = get_finding(session, finding_id)
    adv = session.get(Advisory, f.advisory_pk)
    t = session.scalars(select(triage.Triage).where(triage.Triage.key == f.triage_key)).first()
    ids = [f.advisory_id, *f.cve_ids]
    kev = session.scalars(select(KevEntry).where(KevEntry.cve_id.in_(f.cve_ids or [""]))).first()
    epss = session.scalars(select(EpssScore).where(EpssScore.cve_id.in_(f.cve_ids or [""]))).first()
    return {
        "finding": f,
        "advisory": adv,
        "triage": t,
        "kev": kev,
        "epss": epss,
        "linked": [a for a in linked_advisories(session, ids) if a.id != f.advisory_pk],
    }


def set_triage(
    session: Session,
    *,
    finding_id: int,
    state: str,
    justification: str | None = None,
    detail: str | None = None,
    expires: dt.date | None = None,
    actor: str | None = None,
) -> triage.Triage:
    return triage.set_state(
        session,
        finding_id=finding_id,
        state=state,
        justification=justification,
        detail=detail,
        expires=expires,
        actor=actor,
    )


def _package_query(q: str) -> tuple[list[str], str | None]:
    """Candidate package identities (LIKE patterns) and version for ``name[@version]`` or a purl."""
    if q.startswith("pkg:"):
        parsed = matching._purl(q)
        if parsed is None:
            raise InputFileError("query", f"not a valid purl: {q}")
        ptype, name, version = parsed
        return [f"pkg:{ptype}/{name}"], version
    name, _, version = q.partition("@")
    names = {name.lower(), V.normalise_name("pypi", name)}
    return [f"pkg:%/{n}" for n in sorted(names)] + [
        f"cpe:%:{n.lower()}" for n in sorted(names)
    ], version or None


def where(session: Session, *, query: str) -> dict[str, Any]:
    """Where is this advisory (any alias: CVE, PYSEC, GHSA, CNNVD, CNVD) or package used?"""
    q = query.strip()
    stmt = select(Finding).where(Finding.active.is_(True))
    up = q.upper()
    known = up.startswith(KNOWN_PREFIXES)
    if known or (ADVISORY_RE.match(q) and not q.startswith("pkg:")):
        advisories = linked_advisories(session, [up if up.startswith(UPPER_IDS) else q])
        cves = sorted(
            {a for adv in advisories for a in [adv.advisory_id, *adv.aliases] if a.startswith("CVE-")}
        )
        advisories = linked_advisories(session, sorted({up if up.startswith(UPPER_IDS) else q, *cves}))
        if advisories or known:
            if not advisories:
                raise NotFound(f"no advisory known as '{q}' (import the feed that has it)")
            findings = session.scalars(
                stmt.where(Finding.advisory_pk.in_([a.id for a in advisories])).order_by(
                    Finding.score.desc(), Finding.id
                )
            ).all()
            return {
                "query": q,
                "kind": "advisory",
                "advisories": advisories,
                "findings": list(findings),
                "components": [],
            }
    patterns, version = _package_query(q)
    cond = or_(*[Finding.package.like(p) for p in patterns])
    if version:
        stmt = stmt.where(Finding.version == version)
    findings = list(session.scalars(stmt.where(cond).order_by(Finding.score.desc(), Finding.id)))
    comp = select(Software).where(
        or_(
            *[Software.purl.like(p + "@%") for p in patterns if p.startswith("pkg:")],
            func.lower(Software.name) == patterns[0].rsplit("/", 1)[-1].split(":")[-1],
        )
    )
    if version:
        comp = comp.where(Software.version == version)
    components = list(session.scalars(comp.order_by(Software.id).limit(1000)))
    return {"query": q, "kind": "package", "advisories": [], "findings": findings, "components": components}


#: Triage states in which a finding still needs work (the posture figures count these).
OPEN_TRIAGE = ("new", "confirmed")


def _in_kev() -> Any:
    return Finding.advisory_pk.in_(
        select(AdvisoryAlias.advisory_pk).where(AdvisoryAlias.alias.in_(select(KevEntry.cve_id)))
    )


def exposure(session: Session, *, today: dt.date, since: dt.date) -> dict[str, Any]:
    """Posture figures over active findings still to be worked on (new/confirmed), in a fixed number of
    aggregate statements: KEV findings (all, on CII systems, and the CII assets carrying them), findings
    past their due date, the systems and assets carrying a KEV or P1 finding, and per-day counts since
    ``since`` for the trends (KEV-on-CII findings by day first matched, open findings by due date) with
    the counts before it."""
    open_ = (Finding.active.is_(True), Finding.status.in_(OPEN_TRIAGE))
    kev = _in_kev()
    cii = Finding.system_id.in_(select(System.id).where(System.is_cii.is_(True)))
    n_kev, n_kev_cii, kev_cii_assets = session.execute(
        select(
            func.count(),
            func.count().filter(cii),
            func.count(func.distinct(Finding.asset_id)).filter(cii),
        ).where(*open_, kev)
    ).one()
    overdue = session.scalar(select(func.count()).where(*open_, Finding.due_date < today)) or 0
    risky = session.execute(
        select(Finding.system_id, Finding.asset_id)
        .where(*open_, or_(kev, Finding.priority == "P1"))
        .distinct()
    ).all()
    first = func.date(Finding.first_matched)
    since_ts = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    kev_days = session.execute(
        select(first, func.count()).where(*open_, kev, cii, Finding.first_matched >= since_ts).group_by(first)
    ).all()
    due_days = session.execute(
        select(Finding.due_date, func.count())
        .where(*open_, Finding.due_date >= since, Finding.due_date < today)
        .group_by(Finding.due_date)
    ).all()
    due_before = session.scalar(select(func.count()).where(*open_, Finding.due_date < since)) or 0
    return {
        "kev": int(n_kev or 0),
        "kev_cii": int(n_kev_cii or 0),
        "kev_cii_assets": int(kev_cii_assets or 0),
        "overdue": int(overdue),
        "risky_systems": sorted({int(s) for s, _a in risky if s}),
        "risky_assets": sorted({int(a) for _s, a in risky if a}),
        "kev_cii_by_day": {str(d)[:10]: int(n) for d, n in kev_days},
        "kev_cii_before": int(n_kev_cii or 0) - sum(int(n) for _d, n in kev_days),
        "overdue_by_day": {str(d)[:10]: int(n) for d, n in due_days},
        "overdue_before": int(due_before),
    }
