"""The /api/graph routes and the CLI commands are thin layers over the services."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from ciimap.graph import cli as graph_cli

from .mapkit import crowdstrike_map


def _cli() -> typer.Typer:
    root = typer.Typer()
    for name, sub in graph_cli.GROUPS:
        if name:
            root.add_typer(sub, name=name)
        else:
            root.registered_commands.extend(sub.registered_commands)
    return root


def test_api(client, database, analyst_headers, auditor_headers):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    r = client.get("/api/graph/impact/vendor/CrowdStrike", headers=auditor_headers)
    assert r.status_code == 200 and r.json()["services"][0]["status"] == "failed"
    assert client.get("/api/graph/impact/vendor/Nobody", headers=auditor_headers).status_code == 404
    r = client.get("/api/graph/impact", params={"fail": ["site:DC1", "site:DC2"]}, headers=auditor_headers)
    assert {n["name"]: n["status"] for n in r.json()["systems"]}["Core"] == "failed"
    assert (
        client.get("/api/graph/impact", params={"fail": "moon:1"}, headers=auditor_headers).status_code == 422
    )
    r = client.get("/api/graph/spof", headers=auditor_headers)
    assert [x["service"]["name"] for x in r.json()] == ["Payments"]
    r = client.get(
        "/api/graph/concentration",
        params={"thresholds": '{"critical_services_min": 1}'},
        headers=auditor_headers,
    )
    assert any(f["rule"] == "critical_services" for f in r.json()["findings"])
    assert (
        client.get(
            "/api/graph/concentration", params={"thresholds": "[1]"}, headers=auditor_headers
        ).status_code
        == 422
    )
    body = {"name": "cs", "selectors": [{"kind": "vendor", "ref": "CrowdStrike"}]}
    assert client.post("/api/graph/scenarios", json=body, headers=auditor_headers).status_code == 403
    assert client.post("/api/graph/scenarios", json=body, headers=analyst_headers).status_code == 201
    assert client.post("/api/graph/scenarios", json=body, headers=analyst_headers).status_code == 409
    body2 = {"name": "dc2", "selectors": [{"kind": "site", "ref": "DC2"}]}
    assert client.post("/api/graph/scenarios", json=body2, headers=analyst_headers).status_code == 201
    diff = client.get(
        "/api/graph/scenarios/compare", params={"a": "cs", "b": "dc2"}, headers=auditor_headers
    ).json()
    assert {x["name"] for x in diff["only_in_a"]} == {"Web"}
    assert {x["name"] for x in diff["only_in_b"]} == {"HRsvc", "HR"}
    assert [(c["name"], c["status_a"], c["status_b"]) for c in diff["changed"]] == [
        ("Payments", "failed", "degraded")
    ]
    assert len(client.get("/api/graph/scenarios", headers=auditor_headers).json()) == 2
    r = client.post("/api/graph/rollouts", json={"product": "Falcon"}, headers=analyst_headers)
    assert r.status_code == 201
    pid = r.json()["id"]
    assert (
        client.post(f"/api/graph/rollouts/{pid}/start", json={}, headers=analyst_headers).status_code == 200
    )
    r = client.post(
        f"/api/graph/rollouts/{pid}/health", json={"metrics": {"crash_rate": 0.5}}, headers=analyst_headers
    )
    assert r.json()["status"] == "halted"
    r = client.post(f"/api/graph/rollouts/{pid}/advance", json={}, headers=analyst_headers)
    assert r.status_code == 409 and "halted" in r.json()["error"]
    prev = client.get(
        "/api/graph/rollouts/preview", params={"product": "Falcon"}, headers=auditor_headers
    ).json()
    assert prev["targets"] == 2 and prev["rings"][-1]["name"] == "critical"


def test_cli(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    run = CliRunner().invoke
    app = _cli()
    r = run(app, ["impact", "vendor", "CrowdStrike", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["failed"]["business_service"] == 1
    r = run(app, ["impact", "vendor", "CrowdStrike"])
    assert "Payments" in r.output and "failed" in r.output
    r = run(app, ["spof", "--json"])
    assert json.loads(r.output)[0]["service"]["name"] == "Payments"
    r = run(app, ["concentration", "--json", "-t", "critical_services_min=1"])
    assert json.loads(r.output)["thresholds"]["critical_services_min"] == 1
    assert run(app, ["scenarios", "save", "a", "--fail", "vendor:CrowdStrike"]).exit_code == 0
    assert run(app, ["scenarios", "save", "b", "--fail", "site:DC1", "--fail", "site:DC2"]).exit_code == 0
    diff = json.loads(run(app, ["scenarios", "compare", "a", "b", "--json"]).output)
    assert {c["name"]: (c["status_a"], c["status_b"]) for c in diff["changed"]}["Core"] == (
        "degraded",
        "failed",
    )
    assert len(json.loads(run(app, ["scenarios", "list", "--json"]).output)) == 2
    r = run(app, ["rollout", "plan", "Falcon", "--json"])
    assert json.loads(r.output)["targets"] == 2
    r = run(app, ["rollout", "plan", "Falcon", "--save", "--json"])
    pid = json.loads(r.output)["id"]
    assert run(app, ["rollout", "start", str(pid)]).exit_code == 0
    r = run(app, ["rollout", "health", str(pid), "-m", "crash_rate=0.2", "--json"])
    assert json.loads(r.stdout)["status"] == "halted"
    assert r.exit_code == 1  # a tripped health gate is a failed check (the report itself is stored)
    assert json.loads(run(app, ["rollout", "list", "--json"]).output)[0]["status"] == "halted"
