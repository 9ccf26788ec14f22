"""NVD CVE API 2.0 JSON (an API page or a saved feed file): CVSS metrics and CPE configurations.

Every ``configurations[].nodes[].cpeMatch[]`` becomes one CpeMatch row carrying its configuration
and node operators and ``negate`` flags, so the matcher can check AND-configurations ("vulnerable
application running on platform X") against the other CPEs seen on the same asset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8, read_maybe_gzip
from ciimap.vulns import cpe as C
from ciimap.vulns.feeds.common import (
    SEVERITY_ORDER,
    AdvisoryRec,
    Parsed,
    newest,
    parse_date,
    parse_dt,
    severity_from_score,
)
from ciimap.vulns.feeds.source import FeedSource

METRIC_KEYS = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")


def _metric(metrics: dict[str, Any]) -> tuple[str | None, float | None, str | None]:
    for key in METRIC_KEYS[1:] + METRIC_KEYS[:1]:  # prefer v3.1, then v3.0, v2, v4
        entries = metrics.get(key) or []
        primary = next((m for m in entries if m.get("type") == "Primary"), entries[0] if entries else None)
        if primary:
            data = primary.get("cvssData") or {}
            sev = (data.get("baseSeverity") or primary.get("baseSeverity") or "").lower() or None
            return data.get("vectorString"), data.get("baseScore"), sev
    return None, None, None


def _cpe_rows(
    cve_id: str, configurations: list[dict[str, Any]], notes: dict[str, int]
) -> list[dict[str, Any]]:
    rows = []
    for ci, conf in enumerate(configurations):
        for ni, node in enumerate(conf.get("nodes") or []):
            for m in node.get("cpeMatch") or []:
                parsed = C.parse(str(m.get("criteria") or ""))
                if parsed is None:
                    notes["bad_criteria"] += 1
                    continue
                rows.append(
                    {
                        "config_index": ci,
                        "config_operator": str(conf.get("operator") or "OR").upper()[:3],
                        "node_index": ni,
                        "node_operator": str(node.get("operator") or "OR").upper()[:3],
                        "negate": bool(node.get("negate")),
                        "vulnerable": bool(m.get("vulnerable", True)),
                        "criteria": str(m["criteria"])[:300],
                        "part": parsed.part,
                        "vendor": parsed.vendor[:120],
                        "product": parsed.product[:120],
                        "version": parsed.version[:100],
                        "update": parsed.update[:100],
                        "target_sw": parsed.target_sw[:100],
                        "version_start_including": m.get("versionStartIncluding"),
                        "version_start_excluding": m.get("versionStartExcluding"),
                        "version_end_including": m.get("versionEndIncluding"),
                        "version_end_excluding": m.get("versionEndExcluding"),
                    }
                )
    return rows


def to_record(cve: dict[str, Any], notes: dict[str, int]) -> AdvisoryRec:
    vector, score, sev = _metric(cve.get("metrics") or {})
    desc = next((d.get("value") for d in cve.get("descriptions") or [] if d.get("lang") == "en"), None)
    cwes = sorted(
        {
            d.get("value")
            for w in cve.get("weaknesses") or []
            for d in w.get("description") or []
            if str(d.get("value", "")).startswith("CWE-")
        }
    )
    return AdvisoryRec(
        advisory_id=str(cve["id"]),
        source="nvd",
        aliases=[],
        summary=desc,
        severity=sev if sev in SEVERITY_ORDER else severity_from_score(score),
        cvss_vector=vector,
        cvss_score=score,
        published=parse_dt(cve.get("published")),
        modified=parse_dt(cve.get("lastModified")),
        withdrawn=cve.get("vulnStatus") == "Rejected",
        references=[r["url"] for r in cve.get("references") or [] if r.get("url")],
        extra={"cwes": cwes},
        cpe_matches=_cpe_rows(str(cve["id"]), cve.get("configurations") or [], notes),
    )


def parse(path: Path) -> Parsed:
    raw = read_maybe_gzip(path)  # NVD publishes .json.gz
    try:
        doc = json.loads(decode_utf8(str(path), raw))
    except json.JSONDecodeError as e:
        raise InputFileError(
            str(path), f"invalid JSON: {e.msg}", position=f"line {e.lineno}, column {e.colno}"
        ) from e
    vulns = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(vulns, list):
        raise InputFileError(str(path), "not an NVD CVE API 2.0 document (no 'vulnerabilities' list)")
    if not vulns:
        raise InputFileError(str(path), "the NVD document lists no vulnerabilities: nothing was imported")
    notes = {"bad_criteria": 0}
    recs = []
    for i, item in enumerate(vulns):
        cve = item.get("cve") if isinstance(item, dict) else None
        if not isinstance(cve, dict) or not cve.get("id"):
            raise InputFileError(str(path), "entry without cve.id", position=f"vulnerabilities[{i}]")
        with content_guard(str(path), f"vulnerabilities[{i}]"):
            recs.append(to_record(cve, notes))
    snap = parse_date(doc.get("timestamp")) or newest(r.modified for r in recs)
    return Parsed(advisories=recs, snapshot_date=snap, notes=notes)


class Nvd(FeedSource):
    kind = "nvd"
    label = ("NVD CVE 数据", "NVD CVE data")
    summary = "NVD CVE API 2.0 JSON (CVEs with CVSS and CPE applicability)"
    sample = "vulns/nvd-openssh-redis.json"

    def parse(self, path: Path) -> Parsed:
        return parse(path)
