"""A small map with alerts for the monitoring pages: web-01 (SCADA, CII; 供电调度) and web-02/web-03 (no
system), a scanner sweeping all three, a Log4Shell attempt naming CVE-2021-44228 on web-01 (the bundled
Sigma rule: critical → red), PsExec from web-02 to web-01 (Sigma high → orange), and a C2 address of
the real STIX sample talking to web-03."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from alerts.test_groups import WEB, WEB2, WEB3, X, _more_assets
from ciimap.core.db import Database
from ciimap.ingest.service import import_files
from conftest import SHARED

T = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
STIX = SHARED / "alerts" / "stix" / "indicators-for-C2-with-COA.json"
C2 = "10.0.0.0"


def _line(minutes: float, sig: int, sev: int, src: str, dst: str, text: str) -> str:
    t = (T + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000000+0000")
    alert = {"signature_id": sig, "signature": text, "severity": sev, "category": "test"}
    return json.dumps({"timestamp": t, "event_type": "alert", "src_ip": src, "dest_ip": dst, "alert": alert})


def on_existing_map(db: Database) -> tuple[dict[str, Any], tuple[str, str, str]]:
    """Three assets with addresses of an already seeded map (the browser tests' web.seed map): the
    first of a system, then two others; their ids and the system's."""
    from sqlalchemy import select

    from ciimap.inventory.models import Asset

    with db.read_session() as s:
        rows = s.execute(
            select(Asset.id, Asset.primary_ip, Asset.system_id)
            .where(Asset.primary_ip.is_not(None), Asset.system_id.is_not(None))
            .order_by(Asset.id)
            .limit(3)
        ).all()
    (w1, ip1, sys1), (w2, ip2, _), (w3, ip3, _) = rows
    return {"web": w1, "web-02": w2, "web-03": w3, "system": sys1}, (ip1, ip2, ip3)


def build(db: Database, tmp: Path, existing: bool = False) -> dict[str, Any]:
    """The map of tests/alerts plus the alerts; with ``existing``, the alerts on a seeded map."""
    if existing:
        ids, (web, web2, web3) = on_existing_map(db)
    else:
        ids, (web, web2, web3) = _more_assets(db), (WEB, WEB2, WEB3)
    with db.unit_of_work() as s:
        import_files(s, kind="stix", paths=[STIX], options={})
    lines = []
    for i, dst in enumerate((web, web2, web3)):
        lines.append(_line(i, 2010935, 2, X, dst, "ET SCAN Suspicious inbound to MSSQL port 1433"))
    for i in range(3):
        lines.append(
            _line(10 + i, 2034647, 1, X, web, "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)")
        )
    lines.append(_line(30, 2025700, 1, web2, web, "ET POLICY PsExec service created"))
    lines.append(_line(40, 2999001, 3, web3, C2, "ET INFO outbound beacon"))
    path = tmp / "eve.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with db.unit_of_work() as s:
        ids["import"] = dict(import_files(s, kind="suricata", paths=[path], options={}))
    return ids
