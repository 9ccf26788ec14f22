"""Turn matcher hits into findings: gather business context and threat data in bulk, score, write.

Context comes from the map in a fixed number of queries whatever the number of hits: assets → zone
(internet-facing) and system; open ports per asset; systems (MLPS level, CII); business services
depending on a system or asset (edges); KEV, EPSS and linked NVD/CNNVD/CNVD severity per CVE.
Findings are inserted with one bulk INSERT, changed ones updated with one executemany, and
``last_matched`` refreshed with chunked set-based UPDATEs.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import JSON, Table, select, update
from sqlalchemy.orm import Session

from ciimap.core import bulk
from ciimap.core.db import chunks, utcnow
from ciimap.inventory.models import (
    CRITICALITY,
    NEED_KINDS,
    Asset,
    BusinessService,
    Edge,
    NetworkZone,
    ServiceEndpoint,
    System,
)
from ciimap.vulns import scoring, triage
from ciimap.vulns.feeds.common import SEVERITY_ORDER
from ciimap.vulns.matching import Hit
from ciimap.vulns.models import Advisory, AdvisoryAlias, EpssScore, FeedImport, Finding, KevEntry

CRIT_ORDER = CRITICALITY
DEP_KINDS = NEED_KINDS


@dataclass
class MapContext:
    asset: dict[int, tuple[bool, int | None]] = field(default_factory=dict)  # id → (internet, system)
    open_assets: set[int] = field(default_factory=set)
    system: dict[int, tuple[int | None, bool]] = field(default_factory=dict)
    business: dict[tuple[str, int], str] = field(default_factory=dict)
    kev: dict[str, bool] = field(default_factory=dict)  # cve → ransomware
    epss: dict[str, float] = field(default_factory=dict)
    linked: dict[str, tuple[float | None, str | None, str]] = field(default_factory=dict)
    snapshots: dict[int, str] = field(default_factory=dict)


def cves_of(advisory_id: str, aliases: list[str]) -> list[str]:
    return sorted({a for a in [advisory_id, *aliases] if a.startswith("CVE-")})


def _in(session: Session, stmt: Any, col: Any, values: set[Any]) -> list[Any]:
    out: list[Any] = []
    for part in chunks(sorted(values)):
        out += session.execute(stmt.where(col.in_(part))).all()
    return out


def _business(session: Session, ctx: MapContext) -> None:
    targets = {("system", s) for s in ctx.system} | {("asset", a) for a in ctx.asset}
    edges = _in(
        session,
        select(Edge.src_id, Edge.dst_type, Edge.dst_id).where(
            Edge.src_type == "business_service", Edge.kind.in_(DEP_KINDS)
        ),
        Edge.dst_id,
        {t[1] for t in targets},
    )
    crit = dict(
        _in(
            session,
            select(BusinessService.id, BusinessService.criticality),
            BusinessService.id,
            {e.src_id for e in edges},
        )
    )
    for src, dtype, did in edges:
        if (dtype, did) in targets and src in crit:
            cur = ctx.business.get((dtype, did))
            c = crit[src] if crit[src] in CRIT_ORDER else "medium"
            if cur is None or CRIT_ORDER.index(c) > CRIT_ORDER.index(cur):
                ctx.business[(dtype, did)] = c


def load_context(session: Session, hits: list[Hit]) -> MapContext:
    ctx = MapContext()
    asset_ids = {h.component.asset_id for h in hits if h.component.asset_id}
    rows = _in(
        session,
        select(Asset.id, Asset.system_id, NetworkZone.internet_facing).outerjoin(
            NetworkZone, NetworkZone.id == Asset.zone_id
        ),
        Asset.id,
        asset_ids,
    )
    ctx.asset = {a: (bool(inet), sid) for a, sid, inet in rows}
    ctx.open_assets = {
        r[0]
        for r in _in(
            session,
            select(ServiceEndpoint.asset_id).where(ServiceEndpoint.state == "open").distinct(),
            ServiceEndpoint.asset_id,
            asset_ids,
        )
    }
    sys_ids = {h.component.system_id for h in hits if h.component.system_id} | {
        s for _i, s in ctx.asset.values() if s
    }
    ctx.system = {
        s: (lvl, bool(cii))
        for s, lvl, cii in _in(
            session, select(System.id, System.mlps_level, System.is_cii), System.id, sys_ids
        )
    }
    _business(session, ctx)
    advisories = {h.advisory_pk: h for h in hits}  # CVE ids per distinct advisory, not per hit
    cves = {c for h in advisories.values() for c in cves_of(h.advisory_id, h.aliases)}
    ctx.kev = dict(_in(session, select(KevEntry.cve_id, KevEntry.ransomware), KevEntry.cve_id, cves))
    ctx.epss = dict(_in(session, select(EpssScore.cve_id, EpssScore.epss), EpssScore.cve_id, cves))
    linked = _in(
        session,
        select(
            AdvisoryAlias.alias, Advisory.source, Advisory.advisory_id, Advisory.cvss_score, Advisory.severity
        )
        .join(Advisory, Advisory.id == AdvisoryAlias.advisory_pk)
        .where(Advisory.source.in_(("nvd", "cnnvd", "cnvd"))),
        AdvisoryAlias.alias,
        cves,
    )
    for alias, _source, aid, score, sev in sorted(linked, key=lambda r: r[1] != "nvd"):
        cur = ctx.linked.get(alias)
        if cur is None or (cur[0] is None and score is not None):
            ctx.linked[alias] = (score, sev, aid)
        elif cur[1] is None and sev:
            ctx.linked[alias] = (cur[0], sev, cur[2])
    ctx.snapshots = {
        i: d.isoformat() for i, d in session.execute(select(FeedImport.id, FeedImport.snapshot_date))
    }
    return ctx


def _threat(h: Hit, own: dict[int, tuple[float | None, str | None]], ctx: MapContext) -> dict[str, Any]:
    """Threat side of the score: the same for every carrier of an advisory (cached per advisory)."""
    score, sev = own.get(h.advisory_pk, (None, None))
    t: dict[str, Any] = {
        "cvss": score,
        "cvss_source": h.advisory_id,
        "severity": sev,
        "kev": False,
        "ransomware": False,
        "epss": None,
    }
    for cve in cves_of(h.advisory_id, h.aliases):
        lscore, lsev, laid = ctx.linked.get(cve, (None, None, ""))
        if t["cvss"] is None and lscore is not None:
            t["cvss"], t["cvss_source"] = lscore, laid
        if lsev and (
            t["severity"] is None or SEVERITY_ORDER.index(lsev) > SEVERITY_ORDER.index(t["severity"])
        ):
            t["severity"] = lsev
        if cve in ctx.kev:
            t["kev"], t["ransomware"] = True, t["ransomware"] or ctx.kev[cve]
        if cve in ctx.epss:
            t["epss"] = max(t["epss"] or 0.0, ctx.epss[cve])
    return t


def _exposure(comp: Any, ctx: MapContext) -> dict[str, Any]:
    """Business/exposure side of the score: the same for every hit on a component (cached)."""
    inet, asset_sys = ctx.asset.get(comp.asset_id or -1, (False, None))
    m: dict[str, Any] = {"internet_facing": inet, "open_port": None, "mlps_level": None, "is_cii": False}
    if comp.target_type == "endpoint":
        m["open_port"] = comp.port
    elif comp.asset_id in ctx.open_assets:
        m["open_port"] = -1
    sys_id = comp.system_id or asset_sys
    if sys_id in ctx.system:
        m["mlps_level"], m["is_cii"] = ctx.system[sys_id]
    levels = [
        ctx.business.get((kind, key)) for kind, key in (("system", sys_id), ("asset", comp.asset_id)) if key
    ]
    known = [lv for lv in levels if lv]
    m["business"] = max(known, key=CRIT_ORDER.index) if known else None
    return m


def context_for(h: Hit, own: dict[int, tuple[float | None, str | None]], ctx: MapContext) -> scoring.Context:
    return scoring.Context(confidence=h.confidence, **_threat(h, own, ctx), **_exposure(h.component, ctx))


def _own_scores(session: Session, hits: list[Hit]) -> dict[int, tuple[float | None, str | None]]:
    return {
        pk: (s, sev)
        for pk, s, sev in _in(
            session,
            select(Advisory.id, Advisory.cvss_score, Advisory.severity),
            Advisory.id,
            {h.advisory_pk for h in hits},
        )
    }


def scope_of(h: Hit) -> tuple[str, int | None]:
    comp = h.component
    return ("asset", comp.asset_id) if comp.asset_id else ("system", comp.system_id)


def build_rows(session: Session, hits: list[Hit], now: dt.datetime) -> list[dict[str, Any]]:
    """One finding row per hit (score, priority, factors, triage key); due date is set on write.

    The hot loop of a match: the per-component columns (target, scope, package, triage-key prefix)
    are built once per component (a component's hits are consecutive) and the score columns once per
    distinct (advisory, exposure, confidence), so each row is two dict merges.
    """
    ctx = load_context(session, hits)
    own = _own_scores(session, hits)
    cfg = scoring.load_config()
    rows = []
    threats: dict[int, dict[str, Any]] = {}
    cves: dict[int, list[str]] = {}
    exposures: dict[tuple[str, int | None, int | None, int | None], int] = {}
    exposure_ids: dict[tuple[Any, ...], int] = {}  # distinct exposure values → index in exposure_values
    exposure_values: list[dict[str, Any]] = []
    scored: dict[tuple[int, int, str], dict[str, Any]] = {}
    snapshots = ctx.snapshots
    last: Any = None
    base: dict[str, Any] = {}
    eid, prefix = 0, ""
    for h in hits:  # scores depend on (advisory, exposure values): computed once per distinct pair
        comp = h.component
        if comp is not last:
            last = comp
            ekey = (comp.target_type, comp.asset_id, comp.system_id, comp.port)
            if ekey not in exposures:
                exposure = _exposure(comp, ctx)
                exposures[ekey] = exposure_ids.setdefault(tuple(exposure.items()), len(exposure_values))
                if exposures[ekey] == len(exposure_values):
                    exposure_values.append(exposure)
            eid = exposures[ekey]
            st, sid = scope_of(h)
            prefix = f"{st}:{sid}|{comp.identity}|"  # triage.triage_key() without the advisory
            software = comp.target_type == "software"
            base = {
                "target_type": comp.target_type,
                "target_id": comp.target_id,
                "software_id": comp.target_id if software else None,
                "endpoint_id": comp.target_id if comp.target_type == "endpoint" else None,
                "asset_id": comp.asset_id,
                "system_id": comp.system_id or ctx.asset.get(comp.asset_id or -1, (0, None))[1],
                "package": comp.identity,
                "version": comp.version,
                "match_kind": comp.match_kind,
                "last_matched": now,
                "active": True,
            }
        skey = (h.advisory_pk, eid, h.confidence)
        part = scored.get(skey)
        if part is None:
            if h.advisory_pk not in threats:
                threats[h.advisory_pk] = _threat(h, own, ctx)
                cves[h.advisory_pk] = cves_of(h.advisory_id, h.aliases)
            total, prio, factors = scoring.score(
                scoring.Context(confidence=h.confidence, **threats[h.advisory_pk], **exposure_values[eid]),
                cfg,
            )
            part = scored[skey] = {
                "advisory_pk": h.advisory_pk,
                "advisory_id": h.advisory_id,
                "cve_ids": cves[h.advisory_pk],
                "confidence": h.confidence,
                "score": total,
                "priority": prio,
                "factors": factors,
            }
        ev = h.evidence
        if "snapshot" not in ev:  # evidence is shared by every carrier of a (package, version): set once
            ev["snapshot"] = snapshots.get(ev.get("feed_import_id") or -1)
        rows.append({**base, **part, "evidence": ev, "triage_key": (prefix + h.advisory_id)[:500]})
    return rows


def _existing(session: Session, targets: set[tuple[str, int]] | None) -> dict[tuple[str, int, int], Any]:
    stmt = select(
        Finding.id,
        Finding.target_type,
        Finding.target_id,
        Finding.advisory_pk,
        Finding.active,
        Finding.score,
        Finding.priority,
        Finding.status,
        Finding.version,
        Finding.confidence,
        Finding.triage_key,
    )
    if targets is None:
        rows = session.execute(stmt).all()
    else:
        rows = []
        for ttype in ("software", "endpoint"):
            ids = {i for t, i in targets if t == ttype}
            rows += _in(session, stmt.where(Finding.target_type == ttype), Finding.target_id, ids)
    return {(r.target_type, r.target_id, r.advisory_pk): r for r in rows}


def write(
    session: Session, rows: list[dict[str, Any]], targets: set[tuple[str, int]] | None, now: dt.datetime
) -> dict[str, int]:
    """Insert new findings, update changed ones, close the ones that no longer match."""
    cfg = scoring.load_config()
    existing = _existing(session, targets)
    keys = {r["triage_key"] for r in rows} | {e.triage_key for e in existing.values()}
    decisions = triage.load(session, keys)
    new, changed, touched, reopened = [], [], [], 0
    due_new = {p: scoring.due_date(now, p, cfg) for p in cfg.sla_days}
    for r in rows:
        old = existing.pop((r["target_type"], r["target_id"], r["advisory_pk"]), None)
        t = decisions.get(r["triage_key"])
        status, note = triage.apply_on_match(
            t, was_active=None if old is None else bool(old.active), version=r["version"]
        )
        reopened += 1 if note else 0
        r["status"] = status
        if old is None:
            r["first_matched"], r["due_date"] = (
                now,
                due_new.get(r["priority"]) or scoring.due_date(now, r["priority"], cfg),
            )
            new.append(r)
        elif (old.active, old.score, old.priority, old.status, old.version, old.confidence) != (
            True,
            r["score"],
            r["priority"],
            status,
            r["version"],
            r["confidence"],
        ):
            changed.append({**r, "id": old.id})
        else:
            touched.append(old.id)
    _due_dates(session, changed, cfg)
    _fast_insert(session, new)
    if changed:
        session.execute(update(Finding), changed)
    closed = _close(session, [e for e in existing.values() if e.active], decisions)
    if targets is None:  # full match: every finding still active was matched now (one statement)
        session.execute(
            update(Finding)
            .where(Finding.active.is_(True), Finding.last_matched != now)
            .values(last_matched=now)
        )
    else:
        for part in chunks(touched):
            session.execute(update(Finding).where(Finding.id.in_(part)).values(last_matched=now))
    return {
        "findings_new": len(new),
        "findings_changed": len(changed),
        "findings_unchanged": len(touched),
        "findings_closed": closed,
        "reopened": reopened,
    }


def _due_dates(session: Session, changed: list[dict[str, Any]], cfg: scoring.ScoringConfig) -> None:
    """SLA due dates of changed findings from their first match (read only for those rows)."""
    firsts: dict[int, dt.datetime] = {}
    for part in chunks([r["id"] for r in changed]):
        firsts.update(
            session.execute(select(Finding.id, Finding.first_matched).where(Finding.id.in_(part)))
            .tuples()
            .all()
        )
    for r in changed:
        first = firsts[r["id"]]
        r["due_date"] = scoring.due_date(
            first if first.tzinfo else first.replace(tzinfo=dt.UTC), r["priority"], cfg
        )


def _fast_insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Driver-level bulk insert of new findings (COPY on PostgreSQL, executemany on SQLite),
    hand-rolled because it is the hot path.

    SQLAlchemy's per-row parameter processing and JSON serialisation were ~60 % of a 10k-component
    match. Here the rows are turned into columns, JSON values are serialised once per distinct object
    (findings of one advisory share their factors and evidence), other typed values (dates, booleans
    on SQLite) are converted once per distinct value with the dialect's own bind processor, and the
    rows go to ``core.bulk.insert_tuples`` (COPY / executemany).
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    table = cast(Table, Finding.__table__)
    names = [c.name for c in table.columns if c.name != "id"]
    convert: list[tuple[int, str, Any]] = []
    for i, name in enumerate(names):
        col = table.c[name]
        if isinstance(col.type, JSON):
            convert.append((i, name, json.dumps))
        else:
            proc = col.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                convert.append((i, name, proc))
    columns: list[list[Any]] = []  # column-wise, with C-level map(): converted once per distinct value
    for name in names:
        try:
            columns.append(list(map(operator.itemgetter(name), rows)))
        except KeyError:
            columns.append([r.get(name) for r in rows])
    for i, _name, fn in convert:
        values = columns[i]
        if fn is json.dumps:  # per distinct object (id): findings share evidence, factors, CVE lists
            objects = {id(v): v for v in values}  # keeps each object alive, so its id() stays unique
            done = {k: None if v is None else fn(v) for k, v in objects.items()}
            columns[i] = list(map(done.__getitem__, map(id, values)))
        else:  # timestamps, dates, scores, booleans: per distinct value
            done = {v: None if v is None else fn(v) for v in set(values)}
            columns[i] = list(map(done.__getitem__, values))
    params: list[tuple[Any, ...]] = list(zip(*columns, strict=True))
    bulk.insert_tuples(session, table, names, params, stored=True)


def _close(session: Session, gone: list[Any], decisions: dict[str, Any]) -> int:
    by_status: dict[str, list[int]] = defaultdict(list)
    for e in gone:
        by_status[triage.status_for(decisions.get(e.triage_key), active=False)].append(e.id)
    for status, ids in by_status.items():
        for part in chunks(ids):
            session.execute(update(Finding).where(Finding.id.in_(part)).values(active=False, status=status))
    return len(gone)


def now() -> dt.datetime:
    return utcnow()
