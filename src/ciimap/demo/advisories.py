"""Real advisories for the demo (漏洞演示数据): the slice of the OSV PyPI database and the CISA KEV
catalogue bundled in ``demo/data/advisories/`` (only the records that match the demo's software; see
its README for sources and licences), imported through the real feed imports and matched with the
real matching, so the demo has findings — Log4Shell (CVE-2021-44228, in KEV) on the Java application
servers and the old Django/requests/urllib3/PyYAML/Jinja2/Pillow/cryptography/paramiko pins on the
Python ones — scored, prioritised and explained as for any feed.

Feeds already on the map are left alone: the OSV slice is imported only into a map without
advisories, the KEV slice only when no KEV catalogue is stored (it would replace a full one).

Matching: the slice holds only OSV records of the PyPI and Maven ecosystems, which match components by
purl only, so when it is the map's only feed the match is scoped to the assets that carry a PyPI or Maven
package (the same result as matching everything, without parsing the CPEs of every other component: a
third of the demo's load time otherwise); with other feeds on the map everything is matched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ciimap.inventory.models import Software
from ciimap.vulns import service as vulns
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import KevEntry

DATA = Path(__file__).with_name("data") / "advisories"
OSV = DATA / "osv"
KEV = DATA / "kev" / "known_exploited_vulnerabilities.json"
#: Assets matched per call (a scoped match only touches the findings of its assets).
MATCH_CHUNK = 20_000


def load_advisories(session: Session) -> dict[str, Any]:
    """Import the bundled slice (where the map has none) and match everything; caller's transaction."""
    session.flush()
    out: dict[str, Any] = {}
    only_slice = not vulns.has_advisories(session)
    if only_slice:
        out["osv"] = import_feed(session, kind="osv", path=OSV, rematch=False).get("advisories")
    if session.scalar(select(KevEntry.cve_id).limit(1)) is None:
        out["kev"] = import_feed(session, kind="kev", path=KEV, rematch=False).get("entries")
    if only_slice:
        carriers = set(
            session.scalars(
                select(Software.asset_id)
                .where(
                    Software.asset_id.is_not(None),
                    or_(Software.purl.startswith("pkg:pypi/"), Software.purl.startswith("pkg:maven/")),
                )
                .distinct()
            )
        )
        ids = sorted(a for a in carriers if a is not None)
        found = 0
        for i in range(0, len(ids), MATCH_CHUNK):  # bounded memory at any scale
            found += vulns.match(session, asset_ids=set(ids[i : i + MATCH_CHUNK]))["findings"]
    else:
        found = vulns.match(session)["findings"]
    out["findings"] = found
    out["kev_findings"] = vulns.list_findings(session, kev=True, limit=1)[1]
    return out
