"""CycloneDX 1.5 VEX export of findings and their triage.

Hand-built JSON (the document is small and its mapping is the point); tests validate every export
against the official CycloneDX 1.5 JSON schema with cyclonedx-python-lib's strict validator.
CycloneDX puts ``analysis`` on the vulnerability, not on each affected component, so findings of one
advisory are grouped by their triage outcome: one vulnerability entry per (advisory, state).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ciimap
from ciimap.core.db import chunks
from ciimap.inventory.models import ServiceEndpoint, Software
from ciimap.vulns.models import Advisory, Finding, Triage

STATE = {
    "new": "in_triage",
    "confirmed": "exploitable",
    "not_affected": "not_affected",
    "fixed": "resolved",
    "risk_accepted": "exploitable",
}
SOURCE = {
    "osv": ("OSV", "https://osv.dev/vulnerability/"),
    "nvd": ("NVD", "https://nvd.nist.gov/vuln/detail/"),
    "cnnvd": ("CNNVD", None),
    "cnvd": ("CNVD", None),
}


def _components(session: Session, findings: list[Finding]) -> dict[tuple[str, int], dict[str, Any]]:
    out: dict[tuple[str, int], dict[str, Any]] = {}
    sw_ids = sorted({f.software_id for f in findings if f.software_id})
    ep_ids = sorted({f.endpoint_id for f in findings if f.endpoint_id})
    for part in chunks(sw_ids):
        for s in session.scalars(select(Software).where(Software.id.in_(part))):
            c: dict[str, Any] = {
                "type": "library" if s.kind == "library" else "application",
                "bom-ref": f"software-{s.id}",
                "name": s.name,
            }
            if s.version:
                c["version"] = s.version
            if s.purl:
                c["purl"] = s.purl
            if s.cpe:
                c["cpe"] = s.cpe
            out[("software", s.id)] = c
    for part in chunks(ep_ids):
        for e in session.scalars(select(ServiceEndpoint).where(ServiceEndpoint.id.in_(part))):
            c = {
                "type": "application",
                "bom-ref": f"endpoint-{e.id}",
                "name": e.product or e.name or f"{e.protocol}/{e.port}",
            }
            if e.version:
                c["version"] = e.version
            if e.cpes:
                c["cpe"] = e.cpes[0]
            out[("endpoint", e.id)] = c
    return out


def _rating(adv: Advisory) -> list[dict[str, Any]]:
    if adv.cvss_score is None and not adv.severity:
        return []
    r: dict[str, Any] = {"severity": adv.severity or "unknown"}
    if adv.cvss_score is not None:
        r["score"] = adv.cvss_score
    if adv.cvss_vector:
        r["vector"] = adv.cvss_vector
        r["method"] = (
            "CVSSv31"
            if adv.cvss_vector.startswith("CVSS:3.1")
            else ("CVSSv3" if adv.cvss_vector.startswith("CVSS:3") else "other")
        )
    return [r]


def _analysis(status: str, t: Triage | None) -> dict[str, Any]:
    a: dict[str, Any] = {"state": STATE.get(status, "in_triage")}
    if status == "not_affected" and t is not None and t.justification:
        a["justification"] = t.justification
    if status == "risk_accepted":
        a["response"] = ["will_not_fix"]
    elif status == "fixed":
        a["response"] = ["update"]
    detail = []
    if t is not None and t.detail:
        detail.append(t.detail)
    if status == "risk_accepted" and t is not None and t.expires:
        detail.append(f"risk accepted until {t.expires.isoformat()}")
    if detail:
        a["detail"] = "; ".join(detail)
    return a


def _vulnerability(
    adv: Advisory,
    status: str,
    t: Triage | None,
    group: list[Finding],
    comps: dict[tuple[str, int], dict[str, Any]],
    n: int,
) -> dict[str, Any]:
    name, url = SOURCE.get(adv.source, (adv.source.upper(), None))
    v: dict[str, Any] = {
        "bom-ref": f"{adv.advisory_id}#{n}",
        "id": adv.advisory_id,
        "source": {"name": name, **({"url": url + adv.advisory_id} if url else {})},
    }
    refs = [
        {"id": a, "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{a}"}}
        for a in adv.aliases
        if a.startswith("CVE-")
    ]
    if refs:
        v["references"] = refs
    if _rating(adv):
        v["ratings"] = _rating(adv)
    if adv.summary:
        v["description"] = adv.summary[:2000]
    v["analysis"] = _analysis(status, t)
    by_ref: dict[str, set[str]] = defaultdict(set)
    for f in group:
        ref = comps.get((f.target_type, f.target_id), {}).get("bom-ref")
        if ref:
            by_ref[ref].add(f.version or "")
    status_word = "unaffected" if status in ("not_affected", "fixed") else "affected"
    v["affects"] = [
        {"ref": ref, "versions": [{"version": ver, "status": status_word} for ver in sorted(vers) if ver]}
        for ref, vers in sorted(by_ref.items())
    ]
    for a in v["affects"]:
        if not a["versions"]:
            del a["versions"]
    return v


def export(session: Session, *, system_id: int | None = None, asset_id: int | None = None) -> dict[str, Any]:
    """A CycloneDX 1.5 BOM with components and vulnerabilities (VEX) for the findings in scope."""
    stmt = select(Finding)
    if system_id is not None:
        stmt = stmt.where(Finding.system_id == system_id)
    if asset_id is not None:
        stmt = stmt.where(Finding.asset_id == asset_id)
    findings = list(session.scalars(stmt.order_by(Finding.advisory_id, Finding.id)))
    comps = _components(session, findings)
    advs = {
        a.id: a
        for part in chunks(sorted({f.advisory_pk for f in findings}))
        for a in session.scalars(select(Advisory).where(Advisory.id.in_(part)))
    }
    keys = sorted({f.triage_key for f in findings})
    decisions = {
        t.key: t for part in chunks(keys) for t in session.scalars(select(Triage).where(Triage.key.in_(part)))
    }
    groups: dict[tuple[int, str, str | None], list[Finding]] = defaultdict(list)
    for f in findings:
        t = decisions.get(f.triage_key)
        groups[(f.advisory_pk, f.status, t.key if t is not None and f.status != "new" else None)].append(f)
    ordered = sorted(groups.items(), key=lambda kv: (advs[kv[0][0]].advisory_id, kv[0][1], kv[0][2] or ""))
    vulns = [
        _vulnerability(advs[pk], status, decisions.get(tkey or ""), group, comps, n)
        for n, ((pk, status, tkey), group) in enumerate(ordered)
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "name": "ciimap",
                        "version": getattr(ciimap, "__version__", "0.1.0"),
                    }
                ]
            },
        },
        "components": sorted(comps.values(), key=lambda c: c["bom-ref"]),
        "vulnerabilities": vulns,
    }
