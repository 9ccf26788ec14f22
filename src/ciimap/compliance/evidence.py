"""Evidence from the map (issue 12 item 4): proposed results for the catalog items the map can speak to.

For every system, each rule of :mod:`ciimap.compliance.evidence_rules` proposes 符合 / 部分符合 /
不符合 (``pass`` / ``partial`` / ``fail``) or ``no_evidence`` for the items it is mapped to (by item key,
as they apply at the system's level, S/A levels and extensions; GB/T 39204-2022 items for CII systems
only), with the records behind it and a one-line explanation in Chinese and English. Proposals are
**never stored**: an assessor confirms or overrides them in an assessment.

Computed on demand for all systems at once (one set-based pass per rule, see bench/compliance_evidence.py)
and kept in this process until :func:`version` changes: the newest audit record (every change to the
map, imports, triage and gradings are audited) with its chain hash, the newest job, finding and feed
import, the highest id of the map's tables, the day (due dates pass at midnight) and the rules file. Asking again costs those few index
lookups. ``fresh=True`` recomputes regardless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ciimap.compliance import evidence_rules as rules
from ciimap.compliance.catalogs import items_for, load_catalog
from ciimap.compliance.models import Grading
from ciimap.core.audit import AuditLog
from ciimap.core.errors import NotFound
from ciimap.core.jobs import Job
from ciimap.graph.build import build_graph
from ciimap.inventory import models as inv
from ciimap.vulns.models import FeedImport, Finding

#: The catalogs proposals are made for: GB/T 22239 for every graded system, GB/T 39204 for CII systems.
MLPS_CATALOG = "22239-2019"
CII_CATALOG = "39204-2022"
CATALOGS = (MLPS_CATALOG, CII_CATALOG)


#: The map's tables whose highest id is part of the version (rows written without an audit record:
#: tests, scripts; every other change is audited).
_TABLES = (inv.System, inv.Asset, inv.ServiceEndpoint, inv.Software, inv.Edge, inv.Vendor, inv.Product)


def _today() -> dt.date:
    return dt.date.today()


def version(session: Session) -> str:
    """The cache key: one statement of index lookups (the highest ids, the newest audit record's hash)."""
    tops: list[Any] = [AuditLog, Job, Finding, FeedImport, *_TABLES]
    newest = select(func.max(AuditLog.id)).scalar_subquery()
    chained = select(AuditLog.hash).where(AuditLog.id == newest).scalar_subquery()
    row = session.execute(select(chained, *(select(func.max(t.id)).scalar_subquery() for t in tops))).one()
    parts = [
        *(str(v or 0) for v in row),
        _today().isoformat(),
        rules.load_settings().stamp,
    ]
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


_cache: dict[str, tuple[str, dict[str, Any]]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        rules.clear_cache()


def _systems(session: Session) -> dict[int, dict[str, Any]]:
    s = inv.System
    out = {
        int(r.id): {
            "id": int(r.id),
            "name": r.name,
            "code": r.code,
            "level": r.mlps_level,
            "s_level": r.mlps_s_level,
            "a_level": r.mlps_a_level,
            "is_cii": bool(r.is_cii),
            "extensions": [],
        }
        for r in session.execute(
            select(s.id, s.name, s.code, s.mlps_level, s.mlps_s_level, s.mlps_a_level, s.is_cii)
        )
    }
    # the extension types of each system's latest filed grading round
    g = Grading
    latest = (
        select(g.system_id, func.max(g.round).label("round")).where(g.state == "filed").group_by(g.system_id)
    ).subquery()
    for sid, ext in session.execute(
        select(g.system_id, g.extensions).join(
            latest, (latest.c.system_id == g.system_id) & (latest.c.round == g.round)
        )
    ):
        if int(sid) in out:
            out[int(sid)]["extensions"] = sorted(ext or [])
    return out


def compute(session: Session) -> dict[str, Any]:
    """Every rule's outcome for every system (no caching): ``{"systems": {id: info}, "outcomes": {rule: {id: Outcome}}}``."""
    settings = rules.load_settings()
    systems = _systems(session)
    ctx = rules.Ctx(
        session=session,
        settings=settings.data,
        today=_today(),
        systems={sid: info["is_cii"] for sid, info in systems.items()},
        limit=settings.data.record_limit,
    )
    outcomes: dict[str, dict[int, rules.Outcome]] = {}
    if systems:
        outcomes["asset_register"] = rules.asset_register(ctx)
        outcomes["overdue_vulns"] = rules.overdue_vulns(ctx)
        outcomes["management_ports"] = rules.management_ports(ctx)
        outcomes["cleartext"] = rules.cleartext(ctx)
        if any(ctx.systems.values()):
            outcomes["redundancy"] = rules.redundancy(ctx, build_graph(session))
        outcomes["endpoint_protection"] = rules.endpoint_protection(ctx)
        outcomes["supply_chain"] = rules.supply_chain(ctx)
        outcomes["cryptography"] = rules.cryptography(ctx)
    return {"systems": systems, "outcomes": outcomes, "settings": settings}


def _current(session: Session, *, fresh: bool = False) -> tuple[str, dict[str, Any]]:
    key = str(session.get_bind().engine.url)  # password masked
    ver = version(session)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == ver and not fresh:
            return hit
    data = compute(session)
    with _lock:
        _cache[key] = (ver, data)
    return ver, data


@lru_cache(maxsize=256)
def _items(
    level: int | None,
    s: int | None,
    a: int | None,
    extensions: tuple[str, ...],
    is_cii: bool,
    stamp: tuple[Any, ...],
) -> dict[str, dict[str, Any]]:
    """key -> item as it applies to a system of this grading (empty for an ungraded system). ``stamp``
    names the rules file and the catalogs' versions, so a replaced catalog is read again."""
    if not level:
        return {}
    out: dict[str, dict[str, Any]] = {}
    cat_ids = [MLPS_CATALOG, CII_CATALOG] if is_cii else [MLPS_CATALOG]
    for cat_id in cat_ids:
        cat = load_catalog(cat_id)
        exts = [e for e in extensions if e in cat.extensions]
        sl = s if s and max(s, a or s) == level else None
        al = a if a and sl is not None and max(sl, a) == level else None
        for li in items_for(cat, level, exts, sl, al):
            d = li.as_dict()
            out[li.item.key] = {
                "id": d["id"],
                "key": d["key"],
                "catalog": cat_id,
                "category": d["category"],
                "category_en": d["category_en"],
                "control_point": d["control_point"],
                "control_point_en": d["control_point_en"],
                "summary_zh": d["summary_zh"],
                "summary_en": d["summary_en"],
            }
    return out


def _proposals(info: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    settings: rules.Settings = data["settings"]
    applicable = _items(
        info["level"],
        info["s_level"],
        info["a_level"],
        tuple(info["extensions"]),
        info["is_cii"],
        (settings.stamp, *((c.id, c.source, c.version, c.data_version) for c in map(load_catalog, CATALOGS))),
    )
    out = []
    for code in rules.RULE_CODES:
        outcome = data["outcomes"].get(code, {}).get(info["id"])
        if outcome is None:  # redundancy is a CII rule
            continue
        keys = getattr(settings.data.rules, code).items
        title_zh, title_en = rules.TITLES[code]
        out.append(
            {
                "rule": code,
                "title_zh": title_zh,
                "title_en": title_en,
                "items": [applicable[k] for k in keys if k in applicable],
                **outcome.as_dict(settings.data.record_limit),
            }
        )
    return out


def _tally(proposals: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(rules.PROPOSED, 0)
    for p in proposals:
        counts[p["result"]] += 1
    return counts


def for_system(session: Session, *, system_id: int, fresh: bool = False) -> dict[str, Any]:
    """The proposals for one system, with the records behind each (nothing is stored)."""
    ver, data = _current(session, fresh=fresh)
    info = data["systems"].get(system_id)
    if info is None:
        raise NotFound(f"system {system_id} does not exist")
    proposals = _proposals(info, data)
    return {
        "system": info,
        "graded": bool(info["level"]),
        "version": ver,
        "rules_source": data["settings"].source,
        "counts": _tally(proposals),
        "proposals": proposals,
    }


def with_reasons(data: dict[str, Any], translate: Mapping[str, Callable[..., str]]) -> dict[str, Any]:
    """``data`` (of :func:`for_system`) with each record's reason rendered: for every ``field -> t`` of
    ``translate``, ``record[field] = t("cmp.why.<reason>", **params)``. The API, the CLI and the pages
    pass the web catalogs' translators (``why`` English, ``why_zh`` Chinese); the proposals themselves
    hold reason codes and parameters only. The cached proposals are not changed (copies)."""
    proposals = []
    for p in data["proposals"]:
        records = [
            {**r, **{f: t(f"cmp.why.{r['reason']}", **r["params"]) for f, t in translate.items()}}
            for r in p["records"]
        ]
        proposals.append({**p, "records": records})
    return {**data, "proposals": proposals}


def summary(session: Session, *, fresh: bool = False) -> dict[str, Any]:
    """Per system: the proposed result of every rule and how many items they speak to."""
    ver, data = _current(session, fresh=fresh)
    rows = []
    for sid in sorted(data["systems"], key=lambda i: (data["systems"][i]["name"], i)):
        info = data["systems"][sid]
        proposals = _proposals(info, data)
        rows.append(
            {
                "system": info,
                "graded": bool(info["level"]),
                "results": {p["rule"]: p["result"] for p in proposals},
                "items": sum(len(p["items"]) for p in proposals),
                "counts": _tally(proposals),
            }
        )
    return {"version": ver, "rules_source": data["settings"].source, "systems": rows}
