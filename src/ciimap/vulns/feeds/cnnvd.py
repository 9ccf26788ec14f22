"""CNNVD (国家信息安全漏洞库) XML: ``<entry>`` with vuln-id, name, severity 超危/高危/中危/低危, cve-id.

CNNVD has no purl or CPE: an entry only adds a Chinese name, severity and solution to the advisories
that share its CVE id (linked through the alias table).
"""

from __future__ import annotations

import re
from pathlib import Path

from ciimap.core import xmlsafe
from ciimap.core.errors import InputFileError
from ciimap.vulns.feeds.common import AdvisoryRec, Parsed, newest, parse_dt
from ciimap.vulns.feeds.source import FeedSource

SEVERITY = {"超危": "critical", "高危": "high", "中危": "medium", "低危": "low"}
CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
ID_RE = re.compile(r"^CNNVD-\d{6}-\d+$")


def parse(path: Path) -> Parsed:
    root = xmlsafe.parse_dump(path)
    recs = []
    for n, entry in enumerate(xmlsafe.children(root, "entry"), start=1):
        vid = xmlsafe.text(entry, "vuln-id")
        if not vid or not ID_RE.match(vid):
            raise InputFileError(str(path), f"entry without a valid vuln-id ({vid!r})", position=f"entry {n}")
        cves = sorted({c.upper() for t in xmlsafe.texts(entry, "cve-id") for c in CVE_RE.findall(t)})
        sev_raw = xmlsafe.text(entry, "severity")
        recs.append(
            AdvisoryRec(
                advisory_id=vid,
                source="cnnvd",
                aliases=cves,
                summary=xmlsafe.text(entry, "name"),
                severity=SEVERITY.get(sev_raw or ""),
                published=parse_dt(xmlsafe.text(entry, "published")),
                modified=parse_dt(xmlsafe.text(entry, "modified")),
                extra={
                    "severity_zh": sev_raw,
                    "type": xmlsafe.text(entry, "vuln-type", "type"),
                    "description": xmlsafe.text(entry, "vuln-descript", "description"),
                    "solution": xmlsafe.text(entry, "vuln-solution", "solution"),
                },
            )
        )
    if not recs:
        raise InputFileError(str(path), "no CNNVD <entry> elements found")
    return Parsed(
        advisories=recs,
        snapshot_date=newest(r.modified or r.published for r in recs),
        notes={"without_cve": sum(1 for r in recs if not r.aliases)},
    )


class Cnnvd(FeedSource):
    kind = "cnnvd"
    label = ("CNNVD 漏洞库", "CNNVD")
    summary = "CNNVD XML dump (raw dumps with stray & and < accepted); linked to other feeds by CVE"
    sample = "vulns/cnnvd-raw.xml"

    def parse(self, path: Path) -> Parsed:
        return parse(path)
