"""Small map and alert rows for the incident tests (two organisations, a CII system, a warning, a group)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ciimap.alerts.models import AlertGroup, AlertWarning
from ciimap.core.db import Database
from ciimap.inventory.models import Asset, Organization, System

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(database: Database) -> dict[str, Any]:
    with database.unit_of_work() as s:
        a, b = Organization(name="甲电力公司"), Organization(name="乙银行")
        s.add_all([a, b])
        s.flush()
        cii = System(name="调度系统", organization_id=a.id, is_cii=True)
        office = System(name="办公系统", organization_id=a.id)
        bank = System(name="网银系统", organization_id=b.id)
        s.add_all([cii, office, bank])
        s.flush()
        host = Asset(name="scada-01", kind="server", system_id=cii.id, organization_id=a.id)
        s.add(host)
        s.flush()
        w = AlertWarning(
            rule="threshold-p1", rule_kind="threshold", level="red", title="调度系统遭受暴力破解", scope="system", organization_id=a.id,
            asset_ids=[host.id], system_ids=[cii.id], service_ids=[], first_alert_id=1, last_alert_id=9,
            first_alert_at=T0, last_alert_at=T0, count=9,
        )  # fmt: skip
        g = AlertGroup(
            kind="suricata", rule_id="2001219", rule_name="ET SCAN SSH", target_asset_id=host.id,
            target_ip="10.0.0.5", attacker_ip="198.51.100.7", first_seen=T0, last_seen=T0, count=3,
            system_ids=[cii.id], service_ids=[],
        )  # fmt: skip
        s.add_all([w, g])
        s.flush()
        return {"org_a": a.id, "org_b": b.id, "cii": cii.id, "office": office.id, "bank": bank.id,
                "asset": host.id, "warning": w.id, "group": g.id}  # fmt: skip
