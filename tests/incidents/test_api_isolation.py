"""The API end to end and the regulator view: users bound to an organisation see only its incidents
(list, detail, timeline, related, reports, evidence), the regulator role sees the roll-up across operators."""

from __future__ import annotations

from typing import Any

from ciimap.auth import service as auth
from ciimap.core.db import Database


def _user(db: Database, name: str, role: str, org: int | None) -> dict[str, str]:
    with db.unit_of_work() as s:
        user = auth.create_user(s, username=name, password="correct-horse-1", role=role, organization_id=org)
        _tok, secret = auth.create_token(s, user, "test")
    return {"Authorization": f"Bearer {secret}"}


def test_bound_users_see_only_their_organisation(client: Any, database: Database, world: dict) -> None:
    a = _user(database, "op-a", "analyst", world["org_a"])
    b = _user(database, "op-b", "analyst", world["org_b"])
    reg = _user(database, "reg", "regulator", None)
    mine = client.post(
        "/api/incidents", json={"warning_id": world["warning"], "facts": {"pi_leaked": 10_000_000}}, headers=a
    )
    assert mine.status_code == 201, mine.text
    ia = mine.json()["id"]
    assert mine.json()["organization_id"] == world["org_a"] and mine.json()["grade"] == "重大"
    # a second incident of A on the same asset: "related" for A
    ia2 = client.post(
        "/api/incidents", json={"title": "同一主机再次告警", "asset_ids": [world["asset"]]}, headers=a
    ).json()["id"]
    # B's incident on A's asset id (B cannot see A's map binding, but the id overlaps): never related across
    ib = client.post(
        "/api/incidents", json={"title": "网银异常", "asset_ids": [world["asset"]]}, headers=b
    ).json()["id"]
    assert (
        client.post(
            "/api/incidents", json={"title": "x", "organization_id": world["org_a"]}, headers=b
        ).status_code
        == 422
    )

    assert [i["id"] for i in client.get("/api/incidents", headers=a).json()["items"]] == [ia2, ia]
    assert [i["id"] for i in client.get("/api/incidents", headers=b).json()["items"]] == [ib]
    for path in (f"/api/incidents/{ia}", f"/api/incidents/{ia}/timeline", f"/api/incidents/{ia}/related",
                 f"/api/incidents/{ia}/reports", f"/api/incidents/{ia}/evidence"):  # fmt: skip
        assert client.get(path, headers=b).status_code == 404, path
        assert client.get(path, headers=a).status_code == 200, path
    assert [r["id"] for r in client.get(f"/api/incidents/{ia}/related", headers=a).json()] == [ia2]
    assert client.get(f"/api/incidents/{ib}/related", headers=b).json() == []
    assert client.post(f"/api/incidents/{ia}/comments", json={"text": "x"}, headers=b).status_code == 404

    # reports: B cannot send or export A's report
    rep = client.post(
        f"/api/incidents/{ia}/reports",
        json={"kind": "initial", "items": {"1": "甲电力公司 调度系统", "2": "发现于 10:00"}},
        headers=a,
    )
    assert rep.status_code == 201, rep.text
    rid = rep.json()["id"]
    assert client.get(f"/api/incidents/reports/{rid}/export?fmt=pdf", headers=b).status_code == 404
    sent = client.post(
        f"/api/incidents/reports/{rid}/send",
        json={"authority": "保护工作部门", "channel": "12387"},
        headers=a,
    )
    assert sent.status_code == 201 and sent.json()["organization_id"] == world["org_a"]
    exp = client.get(f"/api/incidents/reports/{rid}/export?fmt=docx", headers=a)
    assert (
        exp.status_code == 200
        and exp.content[:2] == b"PK"
        and "filename*=UTF-8''" in exp.headers["content-disposition"]
    )

    # the roll-up: only for callers bound to no organisation
    assert client.get("/api/incidents/rollup", headers=a).status_code == 403
    roll = client.get("/api/incidents/rollup", headers=reg).json()
    per = {r["organization_id"]: r for r in roll["operators"]}
    assert per[world["org_a"]]["by_grade"]["重大"] == 1 and per[world["org_a"]]["reports_received"] == 1
    # the warning was found on 2026-01-05: a report sent today is late, and the deadline counts as missed
    assert (per[world["org_a"]]["reports_on_time"], per[world["org_a"]]["reports_late"]) == (0, 1)
    assert per[world["org_a"]]["deadlines_missed"] == 1 and per[world["org_a"]]["deadlines_met"] == 0
    assert per[world["org_b"]]["by_grade"]["一般"] == 1
    assert client.post("/api/incidents", json={"title": "x"}, headers=reg).status_code == 403  # read-only


def test_assess_route_and_bad_input(client: Any, admin_headers: dict) -> None:
    ok = client.get(
        "/api/incidents/assess?reporter=other&economic_loss=5000000",
        headers=admin_headers,
    )
    assert ok.status_code == 200 and ok.json()["grade"] == "较大" and ok.json()["deadline_minutes"] == 240
    bad = client.get(
        "/api/incidents/assess?reporter=cii&portal_outage_minutes=9",
        headers=admin_headers,
    )
    assert bad.status_code == 422 and "--portal-level" in bad.json()["error"]
    assert (
        client.post("/api/incidents/1/transition", json={"to": "关闭"}, headers=admin_headers).status_code
        == 404
    )


def test_warnings_carry_their_organisation_and_stay_in_it(
    client: Any, database: Database, world: dict
) -> None:
    """Early warnings carry the organisation of their systems (else assets); a user bound to another
    organisation neither sees them (list, detail, evidence, page, dashboard card) nor acts on them nor opens
    an incident from them; the owner can, and the incident takes the warning's organisation."""
    import datetime as dt

    from ciimap.alerts import warnings
    from ciimap.alerts.models import AlertWarning

    with database.unit_of_work() as s:
        assert warnings._organization(s, {world["cii"]}, set()) == world["org_a"]
        assert warnings._organization(s, set(), {world["asset"]}) == world["org_a"]
        assert warnings._organization(s, {world["bank"]}, {world["asset"]}) == world["org_b"]  # systems first
        assert warnings._organization(s, set(), set()) is None
        # the evaluation's batched form (two queries for all new warnings) gives the same answers
        orgs = warnings._organizations(s, {world["cii"], world["bank"]}, {world["asset"]})
        for systems, assets in (({world["cii"]}, set()), (set(), {world["asset"]}),
                                ({world["bank"]}, {world["asset"]}), (set(), set())):  # fmt: skip
            assert warnings._organization_of(orgs, systems, assets) == warnings._organization(
                s, systems, assets
            )
        t = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
        wb = AlertWarning(rule="r", rule_kind="threshold", level="orange", title="网银撞库", scope="s:b",
                          system_ids=[world["bank"]], first_alert_id=1, last_alert_id=1, first_alert_at=t,
                          last_alert_at=t, count=1, organization_id=world["org_b"])  # fmt: skip
        s.add(wb)
        s.flush()
        wb_id = wb.id
    a = _user(database, "op-a", "analyst", world["org_a"])
    b = _user(database, "op-b", "analyst", world["org_b"])
    admin = _user(database, "root", "admin", None)
    wa = world["warning"]
    assert [w["id"] for w in client.get("/api/alerts/warnings", headers=a).json()] == [wa]
    assert [w["id"] for w in client.get("/api/alerts/warnings", headers=b).json()] == [wb_id]
    assert {w["id"] for w in client.get("/api/alerts/warnings", headers=admin).json()} == {wa, wb_id}
    for path in (f"/api/alerts/warnings/{wa}", f"/api/alerts/console/warnings/{wa}"):
        assert client.get(path, headers=b).status_code == 404, path
        assert client.get(path, headers=a).status_code == 200, path
    assert client.post(f"/api/alerts/warnings/{wa}/ack", headers=b).status_code == 404
    assert client.post(f"/api/alerts/warnings/{wa}/close", headers=b).status_code == 404
    assert client.post("/api/incidents", json={"warning_id": wa}, headers=b).status_code == 404
    opened = client.post("/api/incidents", json={"warning_id": wb_id}, headers=b)
    assert opened.status_code == 201 and opened.json()["organization_id"] == world["org_b"]
    assert client.post(f"/api/alerts/warnings/{wa}/ack", headers=a).json()["state"] == "acknowledged"
    card = next(
        c for c in client.get("/api/ui/dashboard", headers=b).json()["domains"] if c["key"] == "warnings"
    )
    assert card["value"] == "1"  # B's own open warning, not A's
    with database.read_session() as s:
        assert s.get(AlertWarning, wa).acknowledged_by == "op-a"
