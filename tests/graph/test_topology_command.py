"""The command map (graph/command.py) on SQLite and PostgreSQL: clusters per (system, zone) with counts
and the worst priority computed in SQL, the riskiest assets on the overview although inserted last, an
asset budget filled by importance, cluster expansion, search and paths; the API, the page's JSON and the
CLI give the same data."""

from __future__ import annotations

import json
from typing import Any

import typer
from typer.testing import CliRunner

from ciimap.graph import cli as graph_cli
from ciimap.graph import command, topology
from ciimap.inventory import models as m
from ciimap.vulns.models import Advisory, AdvisoryAlias, Finding, KevEntry
from web.seed import seed

RISKY = [37, 38, 39, 40]  # inserted last, P1 (and one KEV)


def _cli() -> typer.Typer:
    root = typer.Typer()
    for name, sub in graph_cli.GROUPS:
        if not name:
            root.registered_commands.extend(sub.registered_commands)
    return root


def _load(database: Any) -> None:
    seed(database, assets=40, systems=6)
    with database.unit_of_work() as s:
        kev, p1, low = (
            Advisory(advisory_id="CVE-2024-3400", source="nvd"),
            Advisory(advisory_id="GHSA-p1", source="osv"),
            Advisory(advisory_id="GHSA-low", source="osv"),
        )
        s.add_all([kev, p1, low])
        s.flush()
        s.add(KevEntry(cve_id="CVE-2024-3400"))
        s.add(AdvisoryAlias(alias="CVE-2024-3400", advisory_pk=kev.id))
        rows = [(40, kev, "P1"), (37, p1, "P1"), (38, p1, "P1"), (39, p1, "P2"), (39, low, "P1")]
        rows += [(a, low, "P4") for a in range(1, 20)] + [(5, p1, "P1")]
        for i, (asset_id, adv, prio) in enumerate(rows):
            s.add(
                Finding(
                    target_type="software",
                    target_id=100 + i,
                    asset_id=asset_id,
                    system_id=1 + (asset_id - 1) % 6,
                    advisory_pk=adv.id,
                    advisory_id=adv.advisory_id,
                    package="pkg:generic/x",
                    match_kind="purl",
                    priority=prio,
                    active=asset_id != 5,  # asset 5's P1 is no longer active: it does not count
                    triage_key=f"k{i}",
                )
            )
        # two assets in no system (one of them in no zone either) and no stored edge
        s.add(m.Asset(name="lonely-1", hostname="lonely-1", zone_id=2, declared=False))
        s.add(m.Asset(name="lonely-2", hostname="lonely-2", lifecycle_status="missing"))


def test_overview_clusters_counts_risk_and_hot_assets(database):
    _load(database)
    with database.read_session() as s:
        g = command.overview(s)
    nodes = {n["id"]: n for n in g["nodes"]}
    assert g["counts"]["business_service"] == 2 and g["counts"]["system"] == 6
    clusters = [n for n in g["nodes"] if n["type"] == "cluster"]
    assert sum(c["count"] for c in clusters) == g["assets"] == 42
    # the seed puts asset i (0-based) in system 1 + i % 6 and zone 1 + i % 4: one cluster per pair
    assert len([c for c in clusters if c["system"] is not None]) == 12
    assert nodes["cluster:-:2"]["count"] == 1 and nodes["cluster:-:2"]["unmanaged"] == 1
    assert nodes["cluster:-:-"]["count"] == 1 and nodes["cluster:-:-"]["missing"] == 1
    a40 = nodes[command.cluster_id(4, 4)]  # asset 40: system 4, zone 4 (with assets 4, 16, 28)
    assert a40["count"] == 4 and a40["vuln"] == "P1" and a40["kev"] == 1 and a40["p1"] == 1
    assert nodes["system:4"]["vuln"] == "P1" and nodes["system:4"]["assets"] == 7
    assert nodes["business_service:2"]["vuln"] == "P1"  # the worst of its systems
    # asset 5's only P1 is inactive: its cluster's worst is its P4
    assert nodes[command.cluster_id(5, 1)]["vuln"] == "P4"
    hot = [n["id"] for n in g["nodes"] if n.get("hot")]
    assert set(hot) >= {f"asset:{a}" for a in RISKY}
    assert hot[0] == "asset:40" and nodes["asset:40"]["kev"] is True  # P1 + KEV first
    assert all(n["vuln"] in ("P1", "P2", "P3") for n in g["nodes"] if n.get("hot"))
    edges = {(e["source"], e["target"]) for e in g["edges"]}
    assert ("system:4", a40["id"]) in edges and (a40["id"], "asset:40") in edges
    assert ("business_service:1", "system:1") in edges
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in g["nodes"])
    with database.read_session() as s:
        small = command.overview(s, hot=2)
        site = command.overview(s, site_id=2)
        lvl = command.overview(s, mlps_level=4)
    # P1 + KEV, then P1 with the most active findings (39 has two), then the other P1s
    assert [n["id"] for n in small["nodes"] if n.get("hot")] == ["asset:40", "asset:39"]
    assert site["assets"] == 8 and {n["type"] for n in site["nodes"]} >= {"cluster", "system"}
    assert {n["mlps"] for n in lvl["nodes"] if n["type"] == "system"} == {4}


def test_asset_budget_is_filled_by_importance_not_insertion_order(database):
    _load(database)
    with database.read_session() as s:
        g = topology.build(s, budget=4)
    assets = {n["id"] for n in g["nodes"] if n["type"] == "asset"}
    assert assets == {f"asset:{a}" for a in RISKY} and g["truncated"]
    with database.read_session() as s:
        more = topology.build(s, budget=10)
    ids = [n["ref"] for n in more["nodes"] if n["type"] == "asset"]
    assert set(RISKY) <= set(ids) and 41 not in ids and 42 not in ids  # no system: after the served ones


def test_cluster_assets_ranked_with_include_and_errors(database):
    _load(database)
    cid = command.cluster_id(4, 4)
    with database.read_session() as s:
        out = command.cluster_assets(s, cid)
        one = command.cluster_assets(s, cid, budget=1)
        inc = command.cluster_assets(s, cid, budget=1, include=16)
        lone = command.cluster_assets(s, "cluster:-:-")
    assert [n["id"] for n in out["nodes"]][0] == "asset:40" and out["total"] == 4 and not out["truncated"]
    assert [n["id"] for n in one["nodes"]] == ["asset:40"] and one["truncated"]
    assert [n["id"] for n in inc["nodes"]] == ["asset:40", "asset:16"]
    assert lone["nodes"][0]["label"] == "lonely-2" and lone["nodes"][0]["missing"]
    assert all(e["source"] == cid for e in out["edges"])


def test_search_and_path(database):
    _load(database)
    with database.read_session() as s:
        hits = command.search(s, "host-0004")
        sys_hits = command.search(s, "业务系统0")
        p = command.path(s, "business_service:2", "asset:40")
        none = command.path(s, "business_service:1", "asset:41")
    assert {h["id"] for h in hits} == {"asset:40"} and hits[0]["cluster"] == command.cluster_id(4, 4)
    assert {h["type"] for h in sys_hits} == {"system"} and len(sys_hits) == 6
    assert p["found"] and p["path"] == [
        "business_service:2",
        "system:4",
        command.cluster_id(4, 4),
        "asset:40",
    ]
    assert [n["label"] for n in p["nodes"]][-1] == "host-00040"
    assert not none["found"] and none["path"] == []


def test_api_page_json_and_cli(client, database, auditor_headers):
    _load(database)
    api = client.get("/api/graph/topology/overview", headers=auditor_headers)
    assert api.status_code == 200
    page = client.get("/api/ui/topology/overview", headers=auditor_headers).json()
    assert {n["id"] for n in page["nodes"]} == {n["id"] for n in api.json()["nodes"]}
    cid = command.cluster_id(4, 4)
    for base in ("/api/graph/topology", "/api/ui/topology"):
        c = client.get(base + "/cluster", params={"id": cid, "budget": 2}, headers=auditor_headers).json()
        assert c["total"] == 4 and len(c["nodes"]) == 2
        assert (
            client.get(base + "/cluster", params={"id": "nope"}, headers=auditor_headers).status_code == 422
        )
        assert (
            client.get(base + "/cluster", params={"id": "cluster:99:99"}, headers=auditor_headers).status_code
            == 404
        )
        h = client.get(base + "/search", params={"q": "host-00040"}, headers=auditor_headers).json()
        assert h[0]["id"] == "asset:40"
        p = client.get(
            base + "/path", params={"src": "system:4", "dst": "asset:40"}, headers=auditor_headers
        ).json()
        assert p["path"][0] == "system:4" and p["path"][-1] == "asset:40"
        bad = client.get(base + "/path", params={"src": "moon:1", "dst": "asset:1"}, headers=auditor_headers)
        assert bad.status_code == 422
        gone = client.get(
            base + "/path", params={"src": "asset:999", "dst": "asset:1"}, headers=auditor_headers
        )
        assert gone.status_code == 404
    assert (
        client.get("/api/graph/topology/overview", params={"hot": 501}, headers=auditor_headers).status_code
        == 422
    )
    assert client.get("/api/graph/topology/overview").status_code == 401
    run, app = CliRunner().invoke, _cli()
    r = run(app, ["topology", "--view", "overview", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == api.json()
    r = run(app, ["topology", "--cluster", cid, "--json"])
    assert [n["id"] for n in json.loads(r.output)["nodes"]][0] == "asset:40"
    r = run(app, ["topology", "--path", "system:4", "asset:40"])
    assert r.exit_code == 0 and "host-00040" in r.output
    assert run(app, ["topology", "--view", "moon"]).exit_code == 2
