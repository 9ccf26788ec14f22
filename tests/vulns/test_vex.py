"""CycloneDX VEX export validates against the official 1.5 schema and carries triage outcomes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sqlalchemy import select

from ciimap.core.db import Database
from ciimap.vulns import service, vex
from ciimap.vulns.feed_import import import_feed
from ciimap.vulns.models import Finding

from .helpers import DATA, asset, endpoint, osv_subset, sbom_system


def test_vex_export_is_valid_cyclonedx_15(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        import_feed(s, kind="osv", path=osv_subset(tmp_path, ("jinja2", "pyyaml")), rematch=False)
        import_feed(s, kind="nvd", path=DATA / "nvd-openssh-redis.json", rematch=False)
        system = sbom_system(s)
        a = asset(s, "bastion", internet=True, system=system)
        endpoint(s, a, 22, ["cpe:/a:openbsd:openssh:9.2p1"])
        service.match(s)
        by_id = {f.advisory_id: f for f in s.scalars(select(Finding))}
        service.set_triage(
            s,
            finding_id=by_id["PYSEC-2019-217"].id,
            state="not_affected",
            justification="code_not_reachable",
            detail="sandbox unused",
        )
        service.set_triage(
            s,
            finding_id=by_id["PYSEC-2021-66"].id,
            state="risk_accepted",
            expires=dt.date.today() + dt.timedelta(days=10),
        )
        service.set_triage(s, finding_id=by_id["CVE-2024-6387"].id, state="confirmed")
        system_id = system.id
    with database.read_session() as s:
        doc = vex.export(s, system_id=system_id)
    err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(doc))
    assert err is None, err
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert vulns["PYSEC-2019-217"]["analysis"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "sandbox unused",
    }
    assert vulns["PYSEC-2019-217"]["affects"][0]["versions"] == [{"version": "2.10", "status": "unaffected"}]
    assert vulns["PYSEC-2021-66"]["analysis"]["response"] == ["will_not_fix"]
    assert vulns["CVE-2024-6387"]["analysis"]["state"] == "exploitable"
    assert vulns["CVE-2024-6387"]["ratings"][0] == {
        "severity": "high",
        "score": 8.1,
        "method": "CVSSv31",
        "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }
    assert vulns["PYSEC-2020-96"]["analysis"]["state"] == "in_triage"
    refs = {c["bom-ref"] for c in doc["components"]}
    assert all(a["ref"] in refs for v in doc["vulnerabilities"] for a in v["affects"])
    assert any(c.get("purl") == "pkg:pypi/jinja2@2.10" for c in doc["components"])
