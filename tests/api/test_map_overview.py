"""The map's figures are one service (inventory/overview.py) served by the dashboard, /api/overview,
/api/sitemap and ``ciimap overview|sitemap --json`` alike."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from ciimap.inventory import cli as inventory_cli
from ciimap.sitemap import cli as sitemap_cli
from web.seed import seed


def _cli() -> typer.Typer:
    root = typer.Typer()
    for name, sub in inventory_cli.GROUPS:
        if not name:
            root.registered_commands.extend(sub.registered_commands)
    root.add_typer(sitemap_cli.app, name="sitemap")
    return root


# seed(assets=40, systems=6): every 7th asset (i % 7 == 3) undeclared, i % 23 == 5 missing (sites 1
# and 4), assets on sites 1 + i % 5, zones 0..3 on sites 1..4, 4 of 8 vendors (and products) foreign.
COUNTS = {
    "assets": 40,
    "unmanaged": 6,
    "missing": 2,
    "systems": 6,
    "cii_systems": 3,
    "business_services": 2,
    "sites": 5,
    "endpoints": 0,
    "vendors": 8,
    "foreign_vendors": 4,
    "foreign_products": 4,
}


def test_api_overview_is_the_dashboard_figures(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    r = client.get("/api/overview", headers=auditor_headers)
    assert r.status_code == 200
    data = r.json()
    assert data["counts"] == COUNTS
    charts = data["charts"]
    assert sum(n for _k, n in charts["assets_by_kind"]) == 40
    assert dict(charts["assets_by_lifecycle"]) == {"active": 38, "missing": 2}
    assert dict(charts["assets_by_zone_kind"]) == {"production": 10, "office": 10, "dmz": 10, "ot": 10}
    assert dict(charts["systems_by_mlps"]) == {"L2": 2, "L3": 2, "L4": 2}
    assert len(charts["assets_first_seen"]) == 31 and sum(n for _d, n in charts["assets_first_seen"]) == 40
    assert sum(n for _d, n in charts["unmanaged_first_seen"]) == 6
    dashboard = client.get("/api/ui/dashboard", headers=auditor_headers).json()
    assert {k: dashboard[k] for k in ("counts", "charts")} == data


def test_api_sitemap_lists_sites_with_counts(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    sites = client.get("/api/sitemap", headers=auditor_headers).json()
    assert [s["name"] for s in sites] == [
        "北京数据中心",
        "上海灾备中心",
        "广州调度站",
        "成都变电站",
        "西安运维中心",
    ]
    assert sites[0] == {
        "id": 1,
        "name": "北京数据中心",
        "code": None,
        "kind": "datacenter",
        "city": "北京",
        "lat": 39.9,
        "lon": 116.4,
        "assets": 8,
        "missing": 1,
        "zones": 1,
    }
    assert [(s["missing"], s["zones"]) for s in sites] == [(1, 1), (0, 1), (0, 1), (1, 1), (0, 0)]
    assert client.get("/api/ui/sites", headers=auditor_headers).json()["sites"] == sites


def test_cli_overview_and_sitemap(client, database, auditor_headers):
    seed(database, assets=40, systems=6)
    run, app = CliRunner().invoke, _cli()
    r = run(app, ["overview", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == client.get("/api/overview", headers=auditor_headers).json()
    assert json.loads(r.output)["counts"] == COUNTS
    r = run(app, ["overview"])
    assert r.exit_code == 0 and "unmanaged" in r.output and "foreign_products" in r.output
    r = run(app, ["sitemap", "--json"])
    assert r.exit_code == 0, r.output
    sites = json.loads(r.output)
    assert [(s["city"], s["assets"]) for s in sites] == [
        (c, 8) for c in ("北京", "上海", "广州", "成都", "西安")
    ]
    r = run(app, ["sitemap"])
    assert r.exit_code == 0 and "西安运维中心" in r.output
