"""The monitoring pages on both databases: the alert console shows groups (not raw lines) with the
filters by service, system, zone, severity, source and time, a group drills down to its raw lines and
how each address was mapped; warnings (红/橙/黄/蓝 with meaning and evidence) are acknowledged and
closed through the service (audited; a wrong state is a 409 message); suppressions are added and
removed (scoped, audited); intelligence pages; the dashboard card and the topology overlay."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ciimap.alerts import console
from ciimap.alerts.models import AlertGroup, AlertSuppression, AlertWarning
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from conftest import make_user
from web.alert_seed import C2, build
from web.test_pages import login


@pytest.fixture
def alertmap(database: Database, tmp_path: Path) -> dict[str, Any]:
    for name in ("admin", "analyst", "auditor"):
        make_user(database, name, name)
    return build(database, tmp_path)


def _groups(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-group="(\d+)"', html)]


def test_console_shows_groups_and_filters(client: Any, database: Database, alertmap: dict[str, Any]) -> None:
    login(client, "analyst")
    with database.read_session() as s:
        all_groups = {g.id: g for g in s.scalars(select(AlertGroup))}
        s.expunge_all()
    page = client.get("/alerts")
    assert page.status_code == 200 and "告警控制台" in page.text
    shown = _groups(page.text)
    assert sorted(shown) == sorted(all_groups)  # groups, not raw lines: 7 alerts... in fewer groups
    assert len(shown) < 9 and 'hx-trigger="every 15s"' in page.text  # live: htmx polling
    web = alertmap["web"]
    by_system = _groups(client.get(f"/alerts?system_id={alertmap['system']}").text)
    assert by_system and all(all_groups[g].target_asset_id == web for g in by_system)
    by_service = _groups(client.get(f"/alerts?service_id={alertmap['service']}").text)
    assert sorted(by_service) == sorted(by_system)  # 供电调度 needs SCADA, which runs on web-01
    high = _groups(client.get("/alerts?severity=high").text)
    assert high and all(all_groups[g].severity in ("high", "critical") for g in high)
    assert set(high) < set(shown)
    assert _groups(client.get("/alerts?kind=wazuh").text) == []
    later = _groups(client.get("/alerts?since=2026-03-01T08:20").text)
    assert later and set(later) < set(shown)
    assert _groups(client.get("/alerts?until=2026-03-01T08:05").text) == _groups(
        client.get("/alerts?since=2026-03-01T07:00&until=2026-03-01T08:05").text
    )
    bad = client.get("/alerts?severity=bogus")
    assert bad.status_code == 200 and "severity: expected one of" in bad.text
    rows = client.get("/alerts/rows?severity=high")
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<tbody") and _groups(rows.text) == high
    en = client.get("/alerts", headers={"accept-language": "en"})
    assert en.status_code == 200


def test_group_drill_down_shows_raw_lines_and_mapping(
    client: Any, alertmap: dict[str, Any], database: Database
) -> None:
    login(client, "analyst")
    with database.read_session() as s:
        g = s.scalars(select(AlertGroup).where(AlertGroup.rule_id == "2034647")).one()
        s.expunge_all()
    page = client.get(f"/alerts/groups/{g.id}")
    assert page.status_code == 200
    assert len(re.findall(r'data-alert="\d+"', page.text)) == 3 == g.count
    assert (
        "CVE-2021-44228" in page.text and "&#34;event_type&#34;: &#34;alert&#34;" in page.text
    )  # the raw line
    assert 'data-matched="ip"' in page.text and "匹配方式: IP 地址" in page.text and "web-01" in page.text
    assert client.get("/alerts/groups/999999").status_code == 404
    api = client.get(f"/api/alerts/console/groups/{g.id}").json()
    assert [a["dest"]["matched_by"] for a in api["alerts"]] == ["ip"] * 3


def test_warnings_page_levels_evidence_ack_close(
    client: Any, alertmap: dict[str, Any], database: Database
) -> None:
    csrf = login(client, "analyst")
    with database.read_session() as s:
        ws = list(s.scalars(select(AlertWarning)))
        s.expunge_all()
    red = [w for w in ws if w.rule == "sigma:7d1f3a52-3c1e-4b8e-9a41-2f5a0c1d4e01"]
    assert len(red) == 1 and red[0].level == "red"  # the bundled Log4Shell Sigma rule, level critical
    page = client.get("/warnings")
    assert page.status_code == 200
    for zh in ("红色预警", "橙色预警", "黄色预警", "蓝色预警", "立即处置"):
        assert zh in page.text
    assert set(re.findall(r'data-warning="(\d+)"', page.text)) == {str(w.id) for w in ws}
    only_red = client.get("/warnings?level=red").text
    assert re.findall(r'data-warning="(\d+)"', only_red) == [str(w.id) for w in ws if w.level == "red"]
    lateral = next(w for w in ws if w.rule == "sigma:9b4c2e71-58d0-4f3a-b6e2-1c7d9a0e5f02")
    with database.read_session() as s:
        ev = console.warning_evidence(s, warning_id=lateral.id)
    # the alerts the Sigma rule matched, not every alert on the asset (the Log4Shell ones are there too)
    assert [a["rule_name"] for a in ev["alerts"]] == ["ET POLICY PsExec service created"]
    wid = red[0].id
    detail = client.get(f"/warnings/{wid}")
    assert detail.status_code == 200 and len(re.findall(r'data-alert="\d+"', detail.text)) == 3
    assert "ET EXPLOIT Apache log4j" in detail.text and 'id="open-incident"' in detail.text
    assert client.post(f"/warnings/{wid}/ack").status_code == 403  # no CSRF token
    r = client.post(f"/warnings/{wid}/ack", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204 and r.headers["HX-Refresh"] == "true"
    again = client.post(f"/warnings/{wid}/ack", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and "only an open warning" in again.text
    assert client.post(f"/warnings/{wid}/close", headers={"X-CSRF-Token": csrf}).status_code == 204
    with database.read_session() as s:
        w = s.get(AlertWarning, wid)
        assert (
            w is not None
            and w.state == "closed"
            and w.acknowledged_by == "analyst"
            and w.closed_by == "analyst"
        )
        audited = [
            (a.action, a.actor)
            for a in s.scalars(
                select(AuditLog)
                .where(AuditLog.entity_type == "alert_warning", AuditLog.entity_id == str(wid))
                .order_by(AuditLog.id)
            )
        ]
    assert audited[-2:] == [("update", "analyst"), ("update", "analyst")]  # ack and close, by the user
    assert "已关闭" in client.get(f"/warnings/{wid}").text


def test_auditor_cannot_act(client: Any, alertmap: dict[str, Any], database: Database) -> None:
    csrf = login(client, "auditor")
    with database.read_session() as s:
        wid = s.scalars(select(AlertWarning.id)).first()
    assert 'id="warning-ack"' not in client.get(f"/warnings/{wid}").text
    assert client.post(f"/warnings/{wid}/ack", headers={"X-CSRF-Token": csrf}).status_code == 403
    assert (
        client.post(
            "/suppressions",
            data={"rule_id": "1", "reason": "x", "address": "1.2.3.4"},
            headers={"X-CSRF-Token": csrf},
        ).status_code
        == 403
    )


def test_suppressions_page_add_remove_scoped_and_audited(
    client: Any, alertmap: dict[str, Any], database: Database
) -> None:
    csrf = login(client, "analyst")
    h = {"X-CSRF-Token": csrf}
    bad = client.post("/suppressions", data={"rule_id": "2010935", "reason": "scanner"}, headers=h)
    assert bad.status_code == 422 and "exactly one target" in bad.text  # never a whole rule
    r = client.post(
        "/suppressions",
        data={
            "rule_id": "2010935",
            "reason": "授权扫描器",
            "asset_id": str(alertmap["web-02"]),
            "expires_at": "2099-01-01T08:00",
        },
        headers=h,
    )
    assert r.status_code == 204
    page = client.get("/suppressions")
    assert "授权扫描器" in page.text and f"/entities/assets/{alertmap['web-02']}" in page.text
    with database.read_session() as s:
        sup = s.scalars(select(AlertSuppression)).one()
        sup_id = sup.id
        assert sup.asset_id == alertmap["web-02"] and sup.created_by == "analyst"
        assert (
            sup.expires_at is not None
            and sup.expires_at.replace(tzinfo=None).isoformat() == "2099-01-01T00:00:00"
        )
    assert client.post(f"/suppressions/{sup_id}/delete", headers=h).status_code == 204
    with database.read_session() as s:
        actions = [
            a.action
            for a in s.scalars(
                select(AuditLog).where(AuditLog.entity_type == "alert_suppression").order_by(AuditLog.id)
            )
        ]
    assert actions == ["create", "delete"]
    assert "授权扫描器" not in client.get("/suppressions").text
    prefill = client.get("/suppressions?rule_id=2010935&asset_id=7").text
    assert 'value="2010935"' in prefill and 'value="7"' in prefill


def test_intel_pages(client: Any, alertmap: dict[str, Any]) -> None:
    login(client, "analyst")
    page = client.get("/intel")
    assert page.status_code == 200 and C2 in page.text and "IP 地址" in page.text
    ids = re.findall(r'data-indicator="(\d+)"', page.text)
    assert len(ids) == 2  # the sample's address and file hash
    assert re.findall(r'data-indicator="(\d+)"', client.get("/intel?type=hash").text) != ids
    ip_id = re.search(r'data-indicator="(\d+)">\s*<td>IP 地址', page.text).group(1)
    detail = client.get(f"/intel/{ip_id}")
    assert detail.status_code == 200 and "与该指标通信过的资产" in detail.text
    assert "web-03" in detail.text  # web-03 talked to the C2 address
    assert client.get("/intel?type=bogus").status_code == 200


def test_dashboard_card_and_topology_overlay(
    client: Any, alertmap: dict[str, Any], database: Database
) -> None:
    login(client, "analyst")
    page = client.get("/")
    assert 'data-card="warnings"' in page.text and 'data-card="alert_groups"' in page.text
    with database.read_session() as s:
        ov = console.overlay(s)
    assert ov["assets"][alertmap["web"]]["severity"] in ("high", "critical")
    assert ov["systems"][alertmap["system"]]["level"] == "red"  # the Log4Shell warning on SCADA's web-01
    g = client.get("/api/ui/topology").json()
    nodes = {n["id"]: n for n in g["nodes"]}
    assert nodes[f"system:{alertmap['system']}"]["warn"] == "red"
    assert nodes[f"asset:{alertmap['web']}"]["attack"] in ("high", "critical")
    assert "attack" not in nodes.get(f"asset:{alertmap['mgr']}", {})


def test_api_ack_records_the_token_user(client: Any, database: Database, tmp_path: Path) -> None:
    """The warning and suppression services take the actor from the request's session (the contextvar
    set by the auth dependency does not reach the endpoint's thread): the API user, not 'system'."""
    headers = make_user(database, "api-analyst", "analyst")
    build(database, tmp_path)
    with database.read_session() as s:
        wid = s.scalars(select(AlertWarning.id)).first()
    listed = client.get("/api/alerts/warnings", headers=headers)
    assert listed.status_code == 200 and "sigma" in {w["rule_kind"] for w in listed.json()}  # was a 500
    assert client.post(f"/api/alerts/warnings/{wid}/ack", headers=headers).status_code == 200
    body = {"rule_id": "2010935", "reason": "scanner", "address": "192.0.2.1"}
    assert (
        client.post("/api/alerts/suppressions", json=body, headers=headers).json()["created_by"]
        == "api-analyst"
    )
    with database.read_session() as s:
        w = s.get(AlertWarning, wid)
        assert w is not None and w.acknowledged_by == "api-analyst"
