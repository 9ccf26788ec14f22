"""REST routes (roles, 4xx) and the CLI (JSON, exit codes) of CII obligations, key posts and training
(both databases)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance.models import KeyPost, KeyPostMember, ObligationDone, Training
from ciimap.core.errors import CiimapError

from .amap import audit_count, build, count

runner = CliRunner()


def _cli(database, *args: str):
    res = runner.invoke(cli_app, ["--database", database.url, *args])
    if isinstance(res.exception, CiimapError):
        return res.exception.exit_code, res.stdout
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout


def test_roles_and_bad_input_over_http(client, database, auditor_headers, analyst_headers) -> None:
    ids = build(database)
    post = {"name": "网络安全管理员", "responsible_id": ids["contact"], "members": []}
    assert client.get("/api/compliance/obligations").status_code == 401
    assert client.get("/api/compliance/calendar").status_code == 401
    assert client.post("/api/compliance/keyposts", json=post).status_code == 401
    assert client.post("/api/compliance/keyposts", json=post, headers=auditor_headers).status_code == 403
    created = client.post("/api/compliance/keyposts", json=post, headers=analyst_headers)
    assert created.status_code == 201, created.text
    kp = created.json()
    assert (kp["sharing"], kp["min_sharing"], len(kp["violations"])) == (0, 2, 1)
    assert client.post("/api/compliance/keyposts", json=post, headers=analyst_headers).status_code == 409
    # a post with fewer than 2 people sharing the duty is an overdue obligation
    rows = client.get(
        "/api/compliance/obligations",
        params={"kind": "key_post", "as_of": "2026-12-10"},
        headers=auditor_headers,
    ).json()
    assert [(r["kind"], r["state"], r["due_on"]) for r in rows] == [("key_post", "overdue", None)]
    url = f"/api/compliance/keyposts/{kp['id']}/members"
    assert (
        client.put(f"{url}/{ids['contact']}", headers=analyst_headers).status_code == 422
    )  # the responsible one
    assert client.put(f"{url}/999999", headers=analyst_headers).status_code == 404
    assert client.put(f"{url}/{ids['contact']}", headers=auditor_headers).status_code == 403
    assert client.delete(f"{url}/{ids['contact']}", headers=analyst_headers).status_code == 404
    training = {"contact_id": ids["contact"], "held_on": "2026-03-01", "hours": 30, "topic": "等保培训"}
    assert client.post("/api/compliance/training", json=training, headers=auditor_headers).status_code == 403
    for bad in (
        {"hours": 0},
        {"hours": "many"},
        {"held_on": "2026-02-30"},
        {"contact_id": 2**31},
        {"topic": ""},
    ):
        r = client.post("/api/compliance/training", json={**training, **bad}, headers=analyst_headers)
        assert r.status_code == 422, (bad, r.text)
    r = client.post(
        "/api/compliance/training", json={**training, "contact_id": 999999}, headers=analyst_headers
    )
    assert r.status_code == 404
    saved = client.post("/api/compliance/training", json=training, headers=analyst_headers)
    assert saved.status_code == 201 and saved.json()["person"] == "张工"
    listed = client.get("/api/compliance/training", params={"year": 2026}, headers=auditor_headers).json()
    assert [t["hours"] for t in listed] == [30.0]
    # the responsible person's 30 hours complete their 2026 training
    cal = client.get(
        "/api/compliance/calendar",
        params={"from": "2026-12-01", "to": "2026-12-31", "as_of": "2026-12-10"},
        headers=auditor_headers,
    )
    assert cal.status_code == 200
    assert [(r["kind"], r["state"]) for r in cal.json()] == [
        ("filing", "done"),  # the filed grading of 云平台
        ("cii_test", "due"),
        ("training", "done"),
    ]
    for params in ({"from": "2026-12-31", "to": "2026-01-01"}, {"from": "2026-13-01"}):
        assert (
            client.get("/api/compliance/calendar", params=params, headers=auditor_headers).status_code == 422
        )
    assert (
        client.get(
            "/api/compliance/obligations", params={"state": "late"}, headers=auditor_headers
        ).status_code
        == 422
    )
    assert (
        client.get(
            "/api/compliance/obligations", params={"system_id": 999999}, headers=auditor_headers
        ).status_code
        == 404
    )
    done = {"system_id": ids["l3"], "period": "2026", "done_on": "2026-06-30", "note": "报告"}
    assert (
        client.post("/api/compliance/obligations/done", json=done, headers=auditor_headers).status_code == 403
    )
    r = client.post(
        "/api/compliance/obligations/done", json={**done, "period": "26"}, headers=analyst_headers
    )
    assert r.status_code == 422
    r = client.post(
        "/api/compliance/obligations/done", json={**done, "system_id": ids["l4"]}, headers=analyst_headers
    )
    assert r.status_code == 422 and "not a CII system" in r.json()["error"]
    ok = client.post("/api/compliance/obligations/done", json=done, headers=analyst_headers)
    assert ok.status_code == 201 and ok.json()["kind"] == "cii_test"
    assert (
        client.post("/api/compliance/obligations/done", json=done, headers=analyst_headers).status_code == 409
    )
    assert count(database, ObligationDone) == 1 and count(database, Training) == 1


def test_cli_obligations_keyposts_training_with_json(database) -> None:
    ids = build(database)
    c = str(ids["contact"])
    before = audit_count(database)
    rc, out = _cli(
        database, "keyposts", "add", "网络安全管理员", "--responsible", c, "--system", "SCADA", "--json"
    )
    assert rc == 0, out
    post = json.loads(out)
    assert post["system"] == "调度系统" and post["violations"]
    assert audit_count(database) > before  # every change is audited
    rc, out = _cli(database, "keyposts", "list", "--violations", "--json")
    assert rc == 0 and [p["id"] for p in json.loads(out)] == [post["id"]]
    rc, out = _cli(database, "keyposts", "member-add", str(post["id"]), c)
    assert rc == 1 and count(database, KeyPostMember) == 0  # the responsible person cannot share
    rc, out = _cli(
        database, "training", "add", c, "--on", "2026-05-01", "--hours", "12.5", "--topic", "演练", "--json"
    )
    assert rc == 0 and json.loads(out)["hours"] == 12.5
    rc, out = _cli(database, "training", "list", "--contact", c, "--json")
    assert rc == 0 and [t["topic"] for t in json.loads(out)] == ["演练"]
    rc, out = _cli(database, "obligations", "list", "--state", "overdue", "--as-of", "2027-01-01", "--json")
    assert rc == 0, out
    overdue = {(r["kind"], r["period"]) for r in json.loads(out)}
    assert {("cii_test", "2026"), ("training", "2026"), ("key_post", None)} <= overdue
    assert {r["state"] for r in json.loads(out)} == {"overdue"}
    rc, out = _cli(
        database,
        "obligations",
        "done",
        "SCADA",
        "--year",
        "2026",
        "--on",
        "2026-06-30",
        "--by",
        "某测评中心",
        "--json",
    )
    assert rc == 0 and json.loads(out)["done_by"] == "某测评中心"
    rc, out = _cli(database, "obligations", "done", "SCADA", "--year", "2026", "--on", "2026-06-30")
    assert rc == 4  # already recorded
    rc, out = _cli(
        database,
        "obligations",
        "calendar",
        "--from",
        "2026-12-31",
        "--to",
        "2026-12-31",
        "--as-of",
        "2027-01-01",
        "--json",
    )
    assert rc == 0, out
    assert [(r["kind"], r["state"], r["hours"]) for r in json.loads(out)] == [
        ("cii_test", "done", None),
        ("training", "overdue", 12.5),
    ]
    rc, out = _cli(database, "obligations", "calendar")  # the table
    assert rc == 0 and "Calendar" in out
    assert count(database, KeyPost) == 1 and count(database, ObligationDone) == 1
