"""Incident response in the demo (事件演示数据): the staged Log4Shell attack of :mod:`ciimap.demo.alerts`
confirmed as an incident, through the incidents domain's own services — the demo organisation is
declared a CII operator, the incident is opened from the red warning the attack raised (its systems,
assets and services come from the warning), categorised 网络攻击事件/漏洞利用事件 and graded from its
facts (a 45-minute CII outage: 较大 by the annex criteria), so the reporting clock runs: the first
report is due 60 minutes after discovery (the CII operator's rule), discovery being 25 minutes before the
load time. Needs the alert history (no red warning, no incident).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.alerts.models import AlertWarning
from ciimap.incidents import grading
from ciimap.incidents import service as incidents

#: How long before the load time the SOC confirmed the incident.
CONFIRMED_BEFORE = dt.timedelta(minutes=25)


def load_operations(session: Session, *, now: dt.datetime) -> dict[str, Any]:
    """Open the demo incident in the caller's transaction; returns what was opened (empty without
    a red warning)."""
    session.flush()
    red = session.scalars(
        select(AlertWarning)
        .where(AlertWarning.level == "red")
        .order_by(AlertWarning.first_alert_at, AlertWarning.id)
    ).first()
    if red is None:
        return {}
    if red.organization_id is not None:
        incidents.set_operator_type(session, organization_id=red.organization_id, operator_type="cii")
    inc = incidents.open_incident(
        session,
        viewer_org=None,
        warning_id=red.id,
        category="attack",
        subcategory="exploit",
        discovered_at=now - CONFIRMED_BEFORE,
        occurred_at=red.first_alert_at,
        description="Log4Shell (CVE-2021-44228) 漏洞利用后横向移动；受影响服务器已隔离，业务切换至备用系统",
        facts=grading.Facts(cii_outage_minutes=45),
    )
    deadlines = incidents.detail(session, incident_id=inc.id, viewer_org=None).get("deadlines") or []
    return {"incident_id": inc.id, "grade": inc.grade, "deadlines": [d["kind"] for d in deadlines]}
