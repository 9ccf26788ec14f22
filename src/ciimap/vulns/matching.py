"""Bulk matching of components (software purls/CPEs, service CPEs) against advisories.

Database access is batched: one query for the components in scope, one (chunked) query for the
candidate OSV ranges of their distinct package names, one for the candidate NVD CPE matches of their
distinct products, one for AND-configuration platforms. Comparison runs in Python with cached version
parsing, and each distinct (package, version) is evaluated once however many assets carry it.

CPE guard rails (docs/vulnerabilities.md): vendor, product and part must be equal after
normalisation; a criteria with version ``*`` and no version range is *not* a match (it would flag
every version ever released — counted as ``skipped_wildcard``); an observed CPE without a version is
not matched (``skipped_unversioned``); an AND configuration whose other nodes (e.g. the platform) are
not seen on the same asset still matches but with ``low`` confidence.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from ciimap.core.db import chunks
from ciimap.inventory.models import ServiceEndpoint, Software
from ciimap.vulns import cpe as C
from ciimap.vulns import versions as V
from ciimap.vulns.models import Advisory, AffectedRange, CpeMatch


@dataclass
class Component:
    target_type: str  # software | endpoint
    target_id: int
    asset_id: int | None
    system_id: int | None
    match_kind: str  # purl | cpe
    identity: str  # package without version
    version: str | None
    ptype: str = ""
    name: str = ""
    cpe: C.Cpe | None = None
    port: int | None = None


@dataclass
class Hit:
    component: Component
    advisory_pk: int
    advisory_id: str
    aliases: list[str]
    evidence: dict[str, Any]
    confidence: str = "high"


@dataclass
class Stats:
    components: int = 0
    targets: set[tuple[str, int]] = field(default_factory=set)
    skipped_wildcard: int = 0
    skipped_unversioned: int = 0
    unparsed_purl: int = 0
    extra: dict[str, int] = field(default_factory=dict)


_SIMPLE_PURL = re.compile(r"^pkg:([A-Za-z][\w.+-]*)/(?:([^@?#]+)/)?([^/@?#]+)(?:@([^?#/]+))?$")


@functools.lru_cache(maxsize=100_000)
def _purl(text: str) -> tuple[str, str, str | None] | None:
    """(type, normalised name, version). Plain purls (no percent-escapes, qualifiers or subpath)
    are split by a regex — packageurl-python took ~0.3 ms each, the largest cost of a 10k match;
    anything else goes through packageurl-python."""
    m = _SIMPLE_PURL.match(text) if "%" not in text else None
    if m:
        ptype = m.group(1).lower()
        return ptype, V.normalise_name(ptype, m.group(3), m.group(2)), m.group(4)
    try:
        p = PackageURL.from_string(text)
    except ValueError:
        return None
    return p.type, V.normalise_name(p.type, p.name, p.namespace), p.version


def _software_components(rows: Iterable[Any], stats: Stats) -> list[Component]:
    out = []
    for sid, asset_id, system_id, _name, version, purl, cpe_text in rows:
        if purl:
            parsed = _purl(purl)
            if parsed is None:
                stats.unparsed_purl += 1
            else:
                ptype, pname, pver = parsed
                out.append(
                    Component(
                        "software",
                        sid,
                        asset_id,
                        system_id,
                        "purl",
                        f"pkg:{ptype}/{pname}",
                        pver or version,
                        ptype=ptype,
                        name=pname,
                    )
                )
        c = C.parse(cpe_text) if cpe_text else None
        if c is not None:
            if not c.has_version and version:
                c = C.Cpe(c.part, c.vendor, c.product, version.lower(), c.update, c.target_sw)
            out.append(Component("software", sid, asset_id, system_id, "cpe", c.identity, c.version, cpe=c))
    return out


def load_components(
    session: Session, *, asset_ids: set[int] | None = None, system_ids: set[int] | None = None, stats: Stats
) -> list[Component]:
    """Every matchable component in scope (``None`` scopes = everything), in two or a few queries."""
    sw = select(
        Software.id,
        Software.asset_id,
        Software.system_id,
        Software.name,
        Software.version,
        Software.purl,
        Software.cpe,
    )
    ep = select(
        ServiceEndpoint.id,
        ServiceEndpoint.asset_id,
        ServiceEndpoint.port,
        ServiceEndpoint.state,
        ServiceEndpoint.cpes,
    )
    rows: list[Any] = []
    eps: list[Any] = []
    if asset_ids is None and system_ids is None:
        rows = list(session.execute(sw))
        eps = list(session.execute(ep))
    else:
        for part in chunks(sorted(asset_ids or ())):
            rows += session.execute(sw.where(Software.asset_id.in_(part))).all()
            eps += session.execute(ep.where(ServiceEndpoint.asset_id.in_(part))).all()
        for part in chunks(sorted(system_ids or ())):
            rows += session.execute(sw.where(Software.system_id.in_(part), Software.asset_id.is_(None))).all()
    out = _software_components(rows, stats)
    stats.targets = {("software", r[0]) for r in rows} | {("endpoint", e[0]) for e in eps}
    for eid, asset_id, port, state, cpes in eps:
        for text in cpes or []:
            c = C.parse(text)
            if c is not None:
                out.append(
                    Component(
                        "endpoint",
                        eid,
                        asset_id,
                        None,
                        "cpe",
                        c.identity,
                        c.version,
                        cpe=c,
                        port=port if state == "open" else None,
                    )
                )
    stats.components = len(out)
    return out


class _Range:
    """A candidate range row as a slotted object (attribute access on SQLAlchemy Rows is slower)."""

    __slots__ = (
        "id",
        "ecosystem",
        "package",
        "range_type",
        "introduced",
        "fixed",
        "last_affected",
        "limit",
        "versions_raw",
        "versions_canonical_raw",
        "advisory_pk",
        "advisory_id",
        "feed_import_id",
        "parsed",
        "interval_evidence",
    )
    id: int
    ecosystem: str
    package: str
    range_type: str
    introduced: str | None
    fixed: str | None
    last_affected: str | None
    limit: str | None
    versions_raw: str
    versions_canonical_raw: str
    advisory_pk: int
    advisory_id: str
    feed_import_id: int | None

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__[:-2], values, strict=True):
            setattr(self, name, value)
        self.parsed: tuple[Any, ...] | None = None
        self.interval_evidence: dict[str, Any] | None = None

    def evidence(self) -> dict[str, Any]:
        """The interval as evidence, built once and shared (read-only) by every version it contains."""
        if self.interval_evidence is None:
            ev = {"type": self.range_type, "introduced": self.introduced}
            if self.fixed:
                ev["fixed"] = self.fixed
            if self.last_affected:
                ev["last_affected"] = self.last_affected
            if self.limit:
                ev["limit"] = self.limit
            self.interval_evidence = ev
        return self.interval_evidence

    def bounds(self) -> tuple[Any, ...]:
        """Bounds parsed once per run: (introduced, fixed, last_affected, limit) as (text, parsed) or None."""
        if self.parsed is None:

            def p(v: str | None) -> tuple[str, Any] | None:
                return (v, V.parse(self.ecosystem, v)) if v and v not in ("0", "*") else None

            self.parsed = (p(self.introduced), p(self.fixed), p(self.last_affected), p(self.limit))
        return self.parsed


def _in_bounds(ptype: str, version: str, pv: tuple[str, Any], bounds: tuple[Any, ...]) -> bool:
    """Same semantics as versions.in_interval with pre-parsed bounds: the matcher's inner loop, so each
    test is one comparison of already-parsed objects (generic fallback when the schemes differ)."""
    scheme, v = pv
    intro, fixed, last, limit = bounds
    if intro:
        text, (s, b) = intro
        if (v < b) if s == scheme else V.compare(ptype, version, text) < 0:
            return False
    if fixed:
        text, (s, b) = fixed
        if (not v < b) if s == scheme else V.compare(ptype, version, text) >= 0:
            return False
    if last:
        text, (s, b) = last
        if (b < v) if s == scheme else V.compare(ptype, version, text) > 0:
            return False
    if limit:
        text, (s, b) = limit
        if (not v < b) if s == scheme else V.compare(ptype, version, text) >= 0:
            return False
    return True


def _evaluate(c: Component, rows: list[_Range]) -> dict[int, tuple[_Range, dict[str, Any]]]:
    """Advisories whose ranges contain this (package, version), with their evidence.

    The matcher's inner loop (every candidate range of every distinct version). Explicit version
    lists are tested by substring on their raw JSON text (as written, then canonical): no JSON
    decoding and no version parsing per row; the quoted spellings are built once per version.
    Intervals share one evidence dict per range."""
    ptype, version = c.ptype, c.version or ""  # callers only pass versioned components
    pv = V.parse(ptype, version)
    quoted, quoted_canonical = f'"{version}"', ""
    found: dict[int, tuple[_Range, dict[str, Any]]] = {}
    for row in rows:
        if row.advisory_pk in found:
            continue
        if row.range_type == "EXPLICIT":
            if quoted not in row.versions_raw:
                quoted_canonical = quoted_canonical or f'"{V.canonical(ptype, version)}"'
                if quoted_canonical not in row.versions_canonical_raw:
                    continue
            ev: dict[str, Any] = {"type": "EXPLICIT", "listed": version}
        elif _in_bounds(ptype, version, pv, row.parsed or row.bounds()):
            ev = row.evidence()
        else:
            continue
        found[row.advisory_pk] = (
            row,
            {
                "feed": "osv",
                "feed_import_id": row.feed_import_id,
                "ecosystem": ptype,
                "package": c.name,
                "version": version,
                "range": ev,
            },
        )
    return found


def match_purls(session: Session, comps: list[Component]) -> list[Hit]:
    """OSV: candidate ranges for the distinct package names, then per distinct (package, version)."""
    wanted = {(c.ptype, c.name) for c in comps if c.match_kind == "purl" and c.version}
    cand: dict[tuple[str, str], list[Any]] = defaultdict(list)
    stmt = (
        select(
            AffectedRange.id,
            AffectedRange.ecosystem,
            AffectedRange.package,
            AffectedRange.range_type,
            AffectedRange.introduced,
            AffectedRange.fixed,
            AffectedRange.last_affected,
            AffectedRange.limit,
            cast(AffectedRange.versions, Text).label("versions_raw"),
            cast(AffectedRange.versions_canonical, Text).label("versions_canonical_raw"),
            AffectedRange.advisory_pk,
            Advisory.advisory_id,
            Advisory.feed_import_id,
        )
        .join(Advisory, Advisory.id == AffectedRange.advisory_pk)
        .where(Advisory.withdrawn.is_(False))
    )
    for part in chunks(sorted({n for _t, n in wanted})):
        for values in session.execute(stmt.where(AffectedRange.package.in_(part))).tuples():
            if (values[1], values[2]) in wanted:
                cand[(values[1], values[2])].append(_Range(values))
    for rows in cand.values():  # intervals first: explicit lists are only consulted when they miss
        rows.sort(key=lambda r: r.range_type == "EXPLICIT")
    cache: dict[tuple[str, str, str], dict[int, tuple[Any, dict[str, Any]]]] = {}
    hits = []
    for c in comps:
        if c.match_kind != "purl" or not c.version or (c.ptype, c.name) not in cand:
            continue
        key = (c.ptype, c.name, c.version)
        if key not in cache:
            cache[key] = _evaluate(c, cand[(c.ptype, c.name)])
        for pk, (row, ev) in cache[key].items():  # evidence shared by every carrier of this version
            hits.append(Hit(c, pk, row.advisory_id, [], ev))
    return _with_aliases(session, hits)


def _with_aliases(session: Session, hits: list[Hit]) -> list[Hit]:
    """Aliases of the advisories that matched (one chunked query instead of one JSON per range row)."""
    aliases: dict[int, list[str]] = {}
    for part in chunks(sorted({h.advisory_pk for h in hits})):
        aliases.update(
            session.execute(select(Advisory.id, Advisory.aliases).where(Advisory.id.in_(part))).tuples().all()
        )
    empty: list[str] = []
    for h in hits:  # shared per advisory, read-only
        h.aliases = aliases.get(h.advisory_pk) or empty
    return hits


def _cpe_version_hit(m: Any, observed: C.Cpe) -> dict[str, Any] | None:
    """Version test of one cpeMatch against an observed (versioned) CPE; ``None`` = no match."""
    if m.version not in (C.ANY, C.NA):
        target = m.version
        if m.update not in (C.ANY, C.NA) and observed.update == C.ANY:
            target = m.version + m.update  # nmap folds the update into the version: 9.3p1
        elif not C.field_matches(m.update, observed.update):
            return None
        if not V.same_version("cpe", observed.version, target):
            return None
        return {"version": target}
    bounds = {
        "start_including": m.version_start_including,
        "start_excluding": m.version_start_excluding,
        "end_including": m.version_end_including,
        "end_excluding": m.version_end_excluding,
    }
    if not any(bounds.values()):
        return {"wildcard": True}
    v = observed.version
    checks = (
        (bounds["start_including"], lambda r: r >= 0),
        (bounds["start_excluding"], lambda r: r > 0),
        (bounds["end_including"], lambda r: r <= 0),
        (bounds["end_excluding"], lambda r: r < 0),
    )
    for bound, ok in checks:
        if bound and not ok(V.compare("cpe", v, bound)):
            return None
    return {k: b for k, b in bounds.items() if b}


def _node_satisfied(rows: list[Any], asset_cpes: list[C.Cpe]) -> bool:
    """A configuration node holds on an asset when one of its matches fits one of the asset's CPEs."""
    hit = False
    for m in rows:
        for o in asset_cpes:
            if (m.part, m.vendor, m.product) == (o.part, o.vendor, o.product) and (
                not o.has_version or (_cpe_version_hit(m, o) is not None)
            ):
                hit = True
                break
        if hit:
            break
    return hit != bool(rows and rows[0].negate)


def match_cpes(session: Session, comps: list[Component], stats: Stats) -> list[Hit]:
    """NVD: candidate cpeMatch rows for the distinct products, version test, AND-configuration check."""
    cpe_comps = [c for c in comps if c.match_kind == "cpe" and c.cpe is not None]
    products = sorted({c.cpe.product for c in cpe_comps})  # type: ignore[union-attr]
    cand: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    cols = (
        CpeMatch.advisory_pk,
        CpeMatch.config_index,
        CpeMatch.config_operator,
        CpeMatch.node_index,
        CpeMatch.negate,
        CpeMatch.vulnerable,
        CpeMatch.criteria,
        CpeMatch.part,
        CpeMatch.vendor,
        CpeMatch.product,
        CpeMatch.version,
        CpeMatch.update,
        CpeMatch.version_start_including,
        CpeMatch.version_start_excluding,
        CpeMatch.version_end_including,
        CpeMatch.version_end_excluding,
        Advisory.advisory_id,
        Advisory.aliases,
        Advisory.feed_import_id,
    )
    base = (
        select(*cols).join(Advisory, Advisory.id == CpeMatch.advisory_pk).where(Advisory.withdrawn.is_(False))
    )
    for part in chunks(products):
        for row in session.execute(base.where(CpeMatch.product.in_(part), CpeMatch.vulnerable.is_(True))):
            cand[(row.part, row.vendor, row.product)].append(row)
    raw: list[tuple[Component, Any, dict[str, Any]]] = []
    for c in cpe_comps:
        o = c.cpe
        rows = cand.get((o.part, o.vendor, o.product))  # type: ignore[union-attr]
        if not rows:
            continue
        if not o.has_version:  # type: ignore[union-attr]
            stats.skipped_unversioned += 1
            continue
        for m in rows:
            ev = _cpe_version_hit(m, o)  # type: ignore[arg-type]
            if ev is None:
                continue
            if ev.get("wildcard"):
                stats.skipped_wildcard += 1
                continue
            raw.append((c, m, ev))
    return _with_configurations(session, raw, cpe_comps)


def _with_configurations(
    session: Session, raw: list[tuple[Component, Any, dict[str, Any]]], cpe_comps: list[Component]
) -> list[Hit]:
    and_pks = sorted({m.advisory_pk for _c, m, _e in raw if m.config_operator == "AND"})
    nodes: dict[tuple[int, int], dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for part in chunks(and_pks):
        for row in session.execute(select(CpeMatch).where(CpeMatch.advisory_pk.in_(part))):
            r = row[0]
            nodes[(r.advisory_pk, r.config_index)][r.node_index].append(r)
    by_asset: dict[int | None, list[C.Cpe]] = defaultdict(list)
    for c in cpe_comps:
        by_asset[c.asset_id].append(c.cpe)  # type: ignore[arg-type]
    hits: dict[tuple[str, int, int], Hit] = {}
    for c, m, ev in raw:
        confidence = "high"
        unmet: list[str] = []
        if m.config_operator == "AND":
            for ni, rows in nodes[(m.advisory_pk, m.config_index)].items():
                if ni != m.node_index and not _node_satisfied(rows, by_asset.get(c.asset_id, [])):
                    unmet.extend(r.criteria for r in rows[:3])
            confidence = "low" if unmet else "high"
        evidence = {
            "feed": "nvd",
            "feed_import_id": m.feed_import_id,
            "cpe": c.identity,
            "version": c.version,
            "criteria": m.criteria,
            "range": ev,
        }
        if unmet:
            evidence["platform_not_seen"] = unmet
        key = (c.target_type, c.target_id, m.advisory_pk)
        if key not in hits or (hits[key].confidence == "low" and confidence == "high"):
            hits[key] = Hit(c, m.advisory_pk, m.advisory_id, list(m.aliases or []), evidence, confidence)
    return list(hits.values())


def dedupe(hits: list[Hit]) -> list[Hit]:
    """Drop an NVD CVE hit on a target already matched by an OSV advisory that aliases that CVE."""
    if not any(h.evidence.get("feed") == "nvd" for h in hits):
        return hits
    covered: set[tuple[str, int, str]] = set()
    for h in hits:
        if h.evidence.get("feed") == "osv":
            for a in h.aliases:
                covered.add((h.component.target_type, h.component.target_id, a))
    return [
        h
        for h in hits
        if not (
            h.evidence.get("feed") == "nvd"
            and (h.component.target_type, h.component.target_id, h.advisory_id) in covered
        )
    ]
