"""The incident pages render (Chinese by default) with the stored data; a bound user gets 404 for
another organisation's incident page, and the dashboard cards count only its own incidents."""

from __future__ import annotations

from typing import Any

from ciimap.auth import service as auth
from ciimap.core.db import Database
from ciimap.incidents import grading, reports, service


def test_pages_show_the_incident_its_clock_and_reports(
    client: Any, database: Database, world: dict, admin_headers: dict
) -> None:
    with database.unit_of_work() as s:
        inc = service.open_incident(
            s, viewer_org=None, warning_id=world["warning"], facts=grading.Facts(pi_leaked=10_000_000)
        )
        service.add_task(s, incident_id=inc.id, viewer_org=None, title="隔离调度主机", owner="李四")
        reports.create(s, incident_id=inc.id, viewer_org=None, kind="initial", items={"1": "甲", "2": "乙"})
        iid = inc.id
    page = client.get(f"/incidents/{iid}", headers=admin_headers)
    assert page.status_code == 200
    html = page.text
    assert "调度系统遭受暴力破解" in html and "重大（II 级）" in html and "隔离调度主机" in html
    assert 'data-deadline="first_report"' in html and "data-countdown" in html and "首报时限" in html
    assert "/api/incidents/reports/" in html and "scada-01" in html  # export links, affected map
    listing = client.get("/incidents", headers=admin_headers).text
    assert f'data-incident="{iid}"' in listing and "看板" in listing
    assert client.get("/incidents/rollup", headers=admin_headers).status_code == 200
    dash = client.get("/api/ui/dashboard", headers=admin_headers).json()
    card = next(c for c in dash["domains"] if c["key"] == "incidents")
    assert card["value"] == "1" and ["grade_II", 1] in card["parts"]


def test_bound_user_pages_and_cards_stay_in_the_organisation(
    client: Any, database: Database, world: dict
) -> None:
    with database.unit_of_work() as s:
        theirs = service.open_incident(s, viewer_org=None, title="乙银行事件", organization_id=world["org_b"],
                                       facts=grading.Facts(economic_loss=100_000_000))  # fmt: skip
        tid = theirs.id
    with database.unit_of_work() as s:
        user = auth.create_user(
            s, username="op-a", password="correct-horse-1", role="analyst", organization_id=world["org_a"]
        )
        a = {"Authorization": f"Bearer {auth.create_token(s, user, 'test')[1]}"}
    assert client.get(f"/incidents/{tid}", headers=a).status_code == 404
    assert "乙银行事件" not in client.get("/incidents", headers=a).text
    dash = client.get("/api/ui/dashboard", headers=a).json()
    assert next(c for c in dash["domains"] if c["key"] == "incidents")["value"] == "0"


def test_open_an_incident_from_the_pages(client: Any, database: Database, world: dict) -> None:
    """The warning page, the alert group page and the list page's form open incidents through the same
    service as the API (links kept); bad input is one message and nothing stored; auditors are refused."""
    from ciimap.incidents.models import Incident
    from conftest import make_user
    from web.test_pages import login

    for name in ("analyst", "auditor"):
        make_user(database, name, name)
    csrf = login(client, "analyst")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    w = client.get(f"/warnings/{world['warning']}")
    assert w.status_code == 200 and 'hx-post="/incidents/open"' in w.text and "由此预警创建事件" in w.text
    g = client.get(f"/alerts/groups/{world['group']}")
    assert g.status_code == 200 and f'"alert_group_id": "{world["group"]}"' in g.text
    r = client.post("/incidents/open", data={"warning_id": world["warning"]}, headers=hx)
    assert r.status_code == 204
    iid = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    r = client.post("/incidents/open", data={"alert_group_id": world["group"]}, headers=hx)
    gid = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    r = client.post(
        "/incidents/open", data={"title": "手工登记", "description": "值班发现", "drill": "on"}, headers=hx
    )
    hid = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    with database.read_session() as s:
        a, b, c = s.get(Incident, iid), s.get(Incident, gid), s.get(Incident, hid)
        assert (a.warning_id, a.origin, a.title) == (world["warning"], "warning", "调度系统遭受暴力破解")
        assert (b.alert_group_id, b.origin) == (world["group"], "alert_group")
        assert (c.title, c.drill, c.origin) == ("手工登记", True, "manual")
        before = s.query(Incident).count()
    bad = client.post("/incidents/open", data={"warning_id": "424242"}, headers=hx)
    assert bad.status_code == 422 and "424242" in bad.text
    assert (
        client.post("/incidents/open", data={"title": ""}, headers=hx).status_code == 422
    )  # no title, no origin
    with database.read_session() as s:
        assert s.query(Incident).count() == before
    assert "新建事件" in client.get("/incidents").text
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    csrf = login(client, "auditor")
    r = client.post(
        "/incidents/open", data={"title": "x"}, headers={"X-CSRF-Token": csrf, "HX-Request": "true"}
    )
    assert r.status_code == 403
    assert "新建事件" not in client.get("/incidents").text
