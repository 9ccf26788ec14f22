"""Routing by grade threshold: a rule's ``min_grade`` matches that grade and every more severe one
(GB/T 20986 order, kept as data in notify and pinned here to the incidents domain's order); through the
service, the API (bad value: 422, nothing stored) and the CLI (``notify rules add --min-grade``)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core.errors import Invalid
from ciimap.incidents import grading
from ciimap.incidents.models import GRADES as INCIDENT_GRADES
from ciimap.notify import service
from ciimap.notify.models import GRADES, NotifyMessage, NotifyRule
from conftest import make_user
from web.test_pages import login


def test_grade_order_is_the_incidents_order():
    assert GRADES == INCIDENT_GRADES == tuple(grading.criteria().grades)
    assert GRADES[0] == "特别重大" and GRADES[-1] == "一般"  # most severe first


def _publish(s, key, grade):
    return service.publish(
        s, kind="incident.opened", subject=f"incident:{key}", attrs={"grade": grade, "system_ids": [1]},
        title=f"事件 {key}", link=f"/incidents/{key}", idempotency_key=f"incident:{key}:opened",
    )  # fmt: skip


def test_min_grade_matches_that_grade_and_more_severe(database):
    with database.unit_of_work() as s:
        for name in ("big", "top"):
            service.add_channel(s, name=name, kind="webhook", url=f"http://127.0.0.1:9/{name}")
        rule = service.add_rule(s, name="r-big", channel="big", min_grade="较大")
        assert rule["min_grade"] == "较大"
        service.add_rule(s, name="r-top", channel="top", min_grade="特别重大", kinds=["incident.opened"])
        with pytest.raises(Invalid, match="min_grade"):
            service.add_rule(s, name="r-bad", channel="big", min_grade="严重")
    with database.unit_of_work() as s:
        got = {g: len(_publish(s, i, g)) for i, g in enumerate([*GRADES, None, "未知"])}
    assert got == {"特别重大": 2, "重大": 1, "较大": 1, "一般": 0, None: 0, "未知": 0}
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(NotifyRule)) == 2  # the bad rule was not stored
        assert s.scalar(select(func.count()).select_from(NotifyMessage)) == 4


def test_api_and_cli_take_min_grade(database, client, admin_headers):
    client.post("/api/notify/channels", json={"name": "soc", "kind": "webhook", "url": "http://127.0.0.1:9/"},
                headers=admin_headers)  # fmt: skip
    res = client.post("/api/notify/rules", json={"name": "api", "channel": "soc", "min_grade": "重大"},
                      headers=admin_headers)  # fmt: skip
    assert res.status_code == 201, res.text
    assert res.json()["min_grade"] == "重大"
    bad = client.post("/api/notify/rules", json={"name": "bad", "channel": "soc", "min_grade": "III"},
                      headers=admin_headers)  # fmt: skip
    assert bad.status_code == 422
    out = CliRunner().invoke(cli_app, ["notify", "rules", "add", "cli", "--channel", "soc", "--min-grade", "较大",
                                       "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["min_grade"] == "较大"
    refused = CliRunner().invoke(
        cli_app, ["notify", "rules", "add", "x", "--channel", "soc", "--min-grade", "大"]
    )
    # the service's Invalid (mapped to exit code 2 and one line by the CLI entry point: tests/cli)
    assert isinstance(refused.exception, Invalid) and "min_grade '大'" in str(refused.exception)
    listed = json.loads(CliRunner().invoke(cli_app, ["notify", "rules", "list", "--json"]).output)
    assert {r["name"]: r["min_grade"] for r in listed} == {"api": "重大", "cli": "较大"}
    assert [r["min_grade"] for r in client.get("/api/notify/rules", headers=admin_headers).json()] == [
        "重大",
        "较大",
    ]


def test_admin_page_shows_the_threshold(client, database):
    make_user(database, "admin", "admin")
    with database.unit_of_work() as s:
        service.add_channel(s, name="soc", kind="webhook", url="http://127.0.0.1:9/")
        service.add_rule(s, name="r-min", channel="soc", min_grade="较大")
    login(client, "admin")
    html = client.get("/admin/notify").text
    assert '<span data-min-grade="较大">较大（III 级）及以上</span>' in html
