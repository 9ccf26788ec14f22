"""The risk pages on both databases: SPOF, concentration with the update-channel privilege, supply chain
with an editable substitution plan (audited, writers only), feed freshness with the stale warning,
rollout rings; both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ciimap.core.audit import AuditLog
from ciimap.supply import plans
from ciimap.supply.models import SubstitutionPlan
from ciimap.vulns.models import FeedImport
from conftest import make_user
from graph.mapkit import crowdstrike_map
from web.test_pages import login


@pytest.fixture
def riskmap(database):
    for name in ("admin", "analyst", "auditor"):
        make_user(database, name, name)
    with database.unit_of_work() as s:
        mp = crowdstrike_map(s)
        plan = plans.create_plan(
            s,
            data={"system_id": mp.id("Web"), "layer": "security", "current_product_id": mp.id("Falcon")},
        )
        s.add(
            FeedImport(
                kind="kev",
                source="known_exploited_vulnerabilities.json",
                snapshot_date=dt.date.today() - dt.timedelta(days=400),
                checksum="0" * 64,
                record_count=1234,
                imported_at=dt.datetime.now(dt.UTC),
                imported_by="admin",
                seconds=1.0,
            )
        )
        s.flush()
        return {"web": mp.id("Web"), "payments": mp.id("Payments"), "plan": plan.id}


def test_spof_page_lists_what_fails_and_links_to_whatif(client, riskmap):
    login(client, "auditor")
    r = client.get("/risk/spof")
    assert r.status_code == 200
    assert f'data-service="{riskmap["payments"]}"' in r.text and "web1" in r.text
    assert f"/topology#business_service:{riskmap['payments']}" in r.text
    assert client.get("/risk/spof?min_criticality=nonsense").status_code == 200  # message, default list
    assert 'role="alert"' in client.get("/risk/spof?min_criticality=nonsense").text


def test_concentration_page_shows_privileged_update_channel(client, riskmap):
    login(client, "auditor")
    r = client.get("/risk/concentration")
    assert r.status_code == 200 and "CrowdStrike" in r.text and "内核权限" in r.text
    assert "data-privileged=" in r.text
    p = client.get("/risk/concentration?view=products")
    assert "Falcon" in p.text and "risk-chart-data" in p.text


def test_supply_page_edits_a_plan_for_writers_only(client, riskmap, database):
    csrf = login(client, "analyst")
    r = client.get("/risk/supply")
    assert r.status_code == 200 and f'data-plan="{riskmap["plan"]}"' in r.text and "Falcon" in r.text
    url = f"/risk/supply/plans/{riskmap['plan']}"
    bad = client.post(url, data={"status": "nonsense"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    ok = client.post(url, data={"status": "in_progress", "notes": "试点"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 204
    with database.read_session() as s:
        p = s.get(SubstitutionPlan, riskmap["plan"])
        assert p.status == "in_progress" and p.notes == "试点"
        assert s.scalars(
            select(AuditLog).where(
                AuditLog.entity_type == SubstitutionPlan.__tablename__, AuditLog.action == "update"
            )
        ).first()
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    csrf = login(client, "auditor")
    denied = client.post(url, data={"status": "done"}, headers={"X-CSRF-Token": csrf})
    assert denied.status_code == 403


def test_feeds_page_warns_on_stale_feed(client, riskmap):
    login(client, "auditor")
    r = client.get("/risk/feeds")
    assert r.status_code == 200 and 'data-feed="kev"' in r.text and "data-stale" in r.text
    assert "已过期：400 天" in r.text


def test_rollouts_page_and_english(client, riskmap):
    login(client, "admin")
    r = client.get("/risk/rollouts")
    assert r.status_code == 200 and "尚无发布计划" in r.text
    assert client.get("/risk/rollouts?plan=999").status_code == 200
    client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": login(client, "admin")})
    en = client.get("/risk/concentration")
    assert "Vendors that push auto-updates with privileges" in en.text
