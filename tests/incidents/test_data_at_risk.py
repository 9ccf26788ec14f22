"""Incidents show which data is at risk (issue 13 item 4): the incident detail (API and page) lists the
data resources held or processed by the incident's assets, systems and business services (datagov's
``at_risk``), core and important data first and highlighted; data of unaffected systems is not listed."""

from __future__ import annotations

import re
from typing import Any

from ciimap.core.db import Database
from ciimap.datagov import service as datagov
from ciimap.datagov.schemas import HoldingIn, ResourceIn
from ciimap.incidents import service


def _resource(s: Any, name: str, level: str | None, holder_type: str, holder_id: int) -> int:
    r = datagov.create_resource(s, data=ResourceIn(name=name))
    r.level = level
    datagov.add_holding(s, resource_id=r.id, data=HoldingIn(holder_type=holder_type, holder_id=holder_id))
    return r.id


def test_incident_lists_the_data_at_risk(
    client: Any, database: Database, world: dict, admin_headers: dict
) -> None:
    with database.unit_of_work() as s:
        general = _resource(s, "值班表", "general", "system", world["cii"])
        core = _resource(s, "电网调度数据", "core", "system", world["cii"])
        important = _resource(s, "用户用电信息", "important", "asset", world["asset"])
        _resource(s, "办公文档", "important", "system", world["office"])  # not named by the incident
        iid = service.open_incident(
            s, viewer_org=None, title="调度主机被控", system_ids=[world["cii"]], asset_ids=[world["asset"]]
        ).id
        bare = service.open_incident(s, viewer_org=None, title="无数据", system_ids=[world["bank"]]).id
    body = client.get(f"/api/incidents/{iid}", headers=admin_headers).json()
    assert body["data_at_risk_total"] == 3
    got = [(d["id"], d["level"]) for d in body["data_at_risk"]]
    assert got == [(core, "core"), (important, "important"), (general, "general")]  # highest level first
    assert body["data_at_risk"][1]["holders"] == ["scada-01"]
    empty = client.get(f"/api/incidents/{bare}", headers=admin_headers).json()
    assert (empty["data_at_risk"], empty["data_at_risk_total"]) == ([], 0)

    html = client.get(f"/incidents/{iid}", headers=admin_headers).text
    assert "可能受影响的数据（3 项）" in html
    assert re.search(
        rf'<li data-resource="{core}" class="data-at-risk-core"><a href="/data/{core}"><strong>电网调度数据',
        html,
    )
    assert re.search(rf'<li data-resource="{important}" class="data-at-risk-important">', html)
    assert re.search(
        rf'<li data-resource="{general}"><a href="/data/{general}">值班表</a>', html
    )  # not highlighted
    assert "核心数据" in html and "办公文档" not in html
    assert "未登记数据资源" in client.get(f"/incidents/{bare}", headers=admin_headers).text
