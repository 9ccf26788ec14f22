"""CNVD (国家信息安全漏洞共享平台) XML: ``<vulnerability>`` with number, cves/cve/cveNumber, title,
serverity (sic, as in real dumps) or severity 高/中/低, products, patch. Linked by CVE id."""

from __future__ import annotations

import re
from pathlib import Path

from ciimap.core import xmlsafe
from ciimap.core.errors import InputFileError
from ciimap.vulns.feeds.common import AdvisoryRec, Parsed, newest, parse_dt
from ciimap.vulns.feeds.source import FeedSource

SEVERITY = {
    "高": "high",
    "中": "medium",
    "低": "low",
    "超危": "critical",
    "高危": "high",
    "中危": "medium",
    "低危": "low",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "critical": "critical",
}
CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
ID_RE = re.compile(r"^CNVD-\d{4}-\d+$")


def parse(path: Path) -> Parsed:
    root = xmlsafe.parse_dump(path)
    recs = []
    for n, v in enumerate(xmlsafe.children(root, "vulnerability"), start=1):
        vid = xmlsafe.text(v, "number")
        if not vid or not ID_RE.match(vid):
            raise InputFileError(
                str(path),
                f"vulnerability without a valid CNVD number ({vid!r})",
                position=f"vulnerability {n}",
            )
        cves = sorted(
            {
                c.upper()
                for t in xmlsafe.texts(v, "cveNumber") + xmlsafe.texts(v, "cve")
                for c in CVE_RE.findall(t)
            }
        )
        sev_raw = xmlsafe.text(v, "serverity", "severity")
        recs.append(
            AdvisoryRec(
                advisory_id=vid,
                source="cnvd",
                aliases=cves,
                summary=xmlsafe.text(v, "title"),
                severity=SEVERITY.get((sev_raw or "").strip().lower()) or SEVERITY.get(sev_raw or ""),
                published=parse_dt(xmlsafe.text(v, "openTime", "submitTime")),
                extra={
                    "severity_zh": sev_raw,
                    "products": xmlsafe.texts(v, "product"),
                    "description": xmlsafe.text(v, "description"),
                    "patch": xmlsafe.text(v, "patchName"),
                    "solution": xmlsafe.text(v, "formalWay"),
                },
            )
        )
    if not recs:
        raise InputFileError(str(path), "no CNVD <vulnerability> elements found")
    return Parsed(
        advisories=recs,
        snapshot_date=newest(r.published for r in recs),
        notes={"without_cve": sum(1 for r in recs if not r.aliases)},
    )


class Cnvd(FeedSource):
    kind = "cnvd"
    label = ("CNVD 漏洞库", "CNVD")
    summary = "CNVD XML (CVE references, severity, products, patch); linked to other feeds by CVE"
    sample = "vulns/cnvd.xml"

    def parse(self, path: Path) -> Parsed:
        return parse(path)
