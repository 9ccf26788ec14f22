"""The topology map's data is one service (graph/topology.py) served three ways: the page's
/api/ui/topology, the API's /api/graph/topology and ``ciimap topology --json`` — same nodes, same edges."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from ciimap.graph import cli as graph_cli
from ciimap.vulns import listing
from ciimap.vulns.models import Advisory, Finding
from web.seed import seed


def _cli() -> typer.Typer:
    root = typer.Typer()
    for name, sub in graph_cli.GROUPS:
        if not name:
            root.registered_commands.extend(sub.registered_commands)
    return root


def test_api_topology_is_the_page_data_with_filters_and_budget(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    g = client.get("/api/graph/topology", headers=auditor_headers).json()
    assert g["counts"] == {"asset": 40, "system": 6, "business_service": 2, "product": 8, "vendor": 8}
    assert not g["truncated"]
    assert {n["type"] for n in g["nodes"]} == {"business_service", "system", "asset", "product", "vendor"}
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in g["nodes"])
    host1 = next(n for n in g["nodes"] if n["id"] == "asset:1")
    assert host1["label"] == "host-00001" and host1["ip"] == "10.0.0.0" and host1["system"] == 1
    assert {"vendor:4", "product:4"} <= {n["id"] for n in g["nodes"] if n.get("foreign")}
    redundant = [e for e in g["edges"] if e["source"] == "system:1" and e["group"] == "db"]
    assert sorted(e["target"] for e in redundant) == ["asset:2", "asset:3"]
    for params in ({}, {"site_id": 2}, {"mlps_level": 4}, {"q": "host-0001"}, {"budget": 5}):
        page = client.get("/api/ui/topology", params={**params, "overlays": False}, headers=auditor_headers)
        api = client.get("/api/graph/topology", params=params, headers=auditor_headers)
        assert api.status_code == 200 and api.json() == page.json(), params
    site = client.get("/api/graph/topology", params={"site_id": 2}, headers=auditor_headers).json()
    assert site["counts"]["asset"] == 8 and {n["site"] for n in site["nodes"] if n["type"] == "asset"} == {2}
    small = client.get("/api/graph/topology", params={"budget": 5}, headers=auditor_headers).json()
    assert small["counts"]["asset"] == 5 and small["truncated"]
    bad = client.get("/api/graph/topology", params={"budget": 0}, headers=auditor_headers)
    assert bad.status_code == 422


def test_api_topology_neighbours(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    r = client.get(
        "/api/graph/topology/neighbours", params={"type": "system", "id": 1}, headers=auditor_headers
    )
    nb = r.json()
    ids = {n["id"] for n in nb["nodes"]}
    assert {"asset:1", "asset:2", "asset:3", "business_service:1", "system:1"} <= ids
    assert all("x" not in n for n in nb["nodes"])  # neighbours are placed by the browser
    page = client.get(
        "/api/ui/topology/neighbours", params={"type": "system", "id": 1}, headers=auditor_headers
    )
    assert {n["id"] for n in page.json()["nodes"]} == ids
    moon = client.get(
        "/api/graph/topology/neighbours", params={"type": "moon", "id": 1}, headers=auditor_headers
    )
    assert moon.status_code == 422 and "moon" in moon.json()["error"]


def test_cli_topology_json_matches_the_api(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    run, app = CliRunner().invoke, _cli()
    r = run(app, ["topology", "--json", "--site", "2"])
    assert r.exit_code == 0, r.output
    api = client.get("/api/graph/topology", params={"site_id": 2}, headers=auditor_headers).json()
    assert json.loads(r.output) == api and api["counts"]["asset"] == 8
    r = run(app, ["topology", "--json", "--mlps", "4", "--budget", "3"])
    out = json.loads(r.output)
    assert out["truncated"] and {n["mlps"] for n in out["nodes"] if n["type"] == "system"} == {4}
    r = run(app, ["topology"])
    assert r.exit_code == 0 and "asset" in r.output and "40" in r.output
    assert run(app, ["topology", "--mlps", "9"]).exit_code == 2
    assert run(app, ["topology", "--site", str(2**31)]).exit_code == 2  # beyond the id column: usage error


def test_vulnerability_overlay_marks_assets_by_their_top_active_priority(client, database, auditor_headers):
    seed(database, assets=12, systems=3)
    with database.unit_of_work() as s:
        adv = Advisory(advisory_id="CVE-2024-0001", source="osv")
        s.add(adv)
        s.flush()
        for target, asset_id, prio, active in (
            (1, 1, "P3", True),
            (2, 1, "P1", False),
            (3, 1, "P2", True),
            (4, 2, "P1", False),
            (5, 4, "P1", True),
        ):
            s.add(
                Finding(
                    target_type="software",
                    target_id=target,
                    asset_id=asset_id,
                    advisory_pk=adv.id,
                    advisory_id=adv.advisory_id,
                    package="pkg:pypi/x",
                    match_kind="purl",
                    priority=prio,
                    active=active,
                    triage_key=f"k{target}",
                )
            )
    with database.read_session() as s:
        assert listing.top_priority_by_asset(s, asset_ids=[1, 2, 3, 4]) == {1: "P2", 4: "P1"}
    g = client.get("/api/ui/topology", headers=auditor_headers).json()
    vuln = {n["id"]: n["vuln"] for n in g["nodes"] if "vuln" in n}
    assert vuln == {"asset:1": "P2", "asset:4": "P1"}
    plain = client.get("/api/ui/topology", params={"overlays": False}, headers=auditor_headers).json()
    assert not any("vuln" in n for n in plain["nodes"])
