"""One generic CRUD / filter / search / pagination / bad-input test for every map entity (both backends)."""

from __future__ import annotations

from typing import Any

import pytest

from ciimap.inventory.service import SPECS


def _payloads(client, h) -> dict[str, tuple[dict[str, Any], dict[str, Any], str]]:
    """Per entity: (create payload, update payload, a filter field) — parents created on the fly."""

    def mk(path: str, data: dict[str, Any]) -> int:
        r = client.post(f"/api/{path}", json=data, headers=h)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    org = mk("organizations", {"name": "某市轨道交通集团", "sector": "transport"})
    vendor = mk("vendors", {"name": "华为", "country": "cn", "is_domestic": True})
    asset = mk("assets", {"name": "parent-host", "ips": ["10.9.9.9"]})
    bs = mk("business-services", {"name": "售检票"})
    system = mk("systems", {"name": "AFC 清分系统"})
    return {
        "organizations": ({"name": "测试组织", "sector": "energy"}, {"short_name": "测试"}, "sector"),
        "contacts": (
            {"name": "张三", "organization_id": org, "department": "信息中心"},
            {"phone": "010-1234"},
            "department",
        ),
        "sites": (
            {"name": "控制中心", "latitude": 31.2, "longitude": 121.4, "kind": "datacenter"},
            {"city": "上海"},
            "kind",
        ),
        "zones": (
            {"name": "生产网", "kind": "production", "cidrs": ["10.1.0.0/16"]},
            {"internet_facing": True},
            "kind",
        ),
        "business-services": (
            {"name": "行车调度", "criticality": "critical"},
            {"rto_minutes": 15},
            "criticality",
        ),
        "systems": (
            {"name": "综合监控系统", "mlps_s_level": 3, "mlps_a_level": 2, "is_cii": True},
            {"filing_number": "31010099999-00001"},
            "is_cii",
        ),
        "vendors": ({"name": "Microsoft", "country": "US"}, {"aliases": ["MSFT"]}, "country"),
        "products": ({"name": "欧拉", "vendor_id": vendor, "layer": "os"}, {"auto_update": True}, "layer"),
        "assets": (
            {
                "name": "db-01",
                "hostname": "DB-01",
                "ips": ["10.1.2.3", "fe80::1"],
                "macs": ["aa-bb-cc-dd-ee-ff"],
                "kind": "server",
            },
            {"criticality": "high"},
            "kind",
        ),
        "endpoints": (
            {"asset_id": asset, "port": 443, "name": "https", "address": "10.9.9.9"},
            {"version": "1.25"},
            "port",
        ),
        "software": (
            {"name": "openssl", "version": "1.1.1k", "asset_id": asset, "purl": "pkg:generic/openssl@1.1.1k"},
            {"version": "3.0.13"},
            "asset_id",
        ),
        "edges": (
            {
                "src_type": "business_service",
                "src_id": bs,
                "dst_type": "system",
                "dst_id": system,
                "redundancy_group": "core",
            },
            {"description": "主备"},
            "src_type",
        ),
    }


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_crud_cycle(client, admin_headers, name):
    h = admin_headers
    create, update, filt = _payloads(client, h)[name]
    r = client.post(f"/api/{name}", json=create, headers=h)
    assert r.status_code == 201, r.text
    obj = r.json()
    oid = obj["id"]
    assert client.get(f"/api/{name}/{oid}", headers=h).json()["id"] == oid

    r = client.get(f"/api/{name}", params={filt: obj[filt]}, headers=h)
    assert r.status_code == 200, r.text
    assert oid in [i["id"] for i in r.json()["items"]]

    r = client.patch(f"/api/{name}/{oid}", json=update, headers=h)
    assert r.status_code == 200, r.text
    for k, v in update.items():
        assert r.json()[k] == v

    r = client.patch(f"/api/{name}/{oid}", json={"no_such_field": 1}, headers=h)
    assert r.status_code == 422 and "no_such_field" in r.json()["error"]

    assert client.delete(f"/api/{name}/{oid}", headers=h).status_code == 204
    r = client.get(f"/api/{name}/{oid}", headers=h)
    assert r.status_code == 404 and "does not exist" in r.json()["error"]

    audit = client.get(
        "/api/audit",
        params={"entity_type": SPECS_BY_NAME[name].model.__tablename__, "entity_id": str(oid)},
        headers=h,
    ).json()["items"]
    assert [a["action"] for a in audit] == ["delete", "update", "create"]
    assert audit[1]["after"] == {"id": oid, **{k: v for k, v in update.items()}} or set(update) <= set(
        audit[1]["after"]
    )


SPECS_BY_NAME = {s.name: s for s in SPECS}


def test_asset_search_pagination_and_derived_ips(client, admin_headers):
    h = admin_headers
    z = client.post("/api/zones", json={"name": "办公网", "kind": "office"}, headers=h).json()["id"]
    for i in range(7):
        r = client.post(
            "/api/assets",
            json={
                "name": f"PC-{i}",
                "hostname": f"pc-{i:02d}.corp",
                "zone_id": z,
                "ips": [f"192.168.{i}.10"],
            },
            headers=h,
        )
        assert r.status_code == 201
    page = client.get("/api/assets", params={"zone_id": z, "limit": 3}, headers=h).json()
    assert page["total"] == 7 and len(page["items"]) == 3 and page["next_after"] == page["items"][-1]["id"]
    nxt = client.get(
        "/api/assets", params={"zone_id": z, "limit": 3, "after": page["next_after"]}, headers=h
    ).json()
    assert [a["name"] for a in nxt["items"]] == ["PC-3", "PC-4", "PC-5"]
    # hostname prefix (case-insensitive), IP prefix, secondary address
    assert client.get("/api/assets", params={"q": "PC-0"}, headers=h).json()["total"] == 7
    assert client.get("/api/assets", params={"q": "192.168.3"}, headers=h).json()["total"] == 1
    aid = page["items"][0]["id"]
    client.patch(f"/api/assets/{aid}", json={"ips": ["172.16.5.5", "192.168.0.10"]}, headers=h)
    hit = client.get("/api/assets", params={"q": "172.16.5"}, headers=h).json()
    assert hit["total"] == 1 and hit["items"][0]["primary_ip"] == "172.16.5.5"


@pytest.mark.parametrize(
    "payload,fragment",
    [
        ({"name": "x", "ips": ["10.0.0.300"]}, "not an IP address"),
        ({"name": "x", "macs": ["zz:zz"]}, "not a MAC address"),
        ({"name": "x", "kind": "spaceship"}, "kind"),
        ({"name": "x", "zone_id": 999}, "network_zone 999 does not exist"),
        ({"name": ""}, "name"),
    ],
)
def test_asset_bad_input_is_rejected_cleanly(client, admin_headers, payload, fragment):
    r = client.post("/api/assets", json=payload, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["error"]
    assert client.get("/api/assets", headers=admin_headers).json()["total"] == 0


def test_mlps_level_must_be_max_of_s_and_a(client, admin_headers):
    r = client.post(
        "/api/systems",
        json={"name": "s", "mlps_s_level": 2, "mlps_a_level": 3, "mlps_level": 2},
        headers=admin_headers,
    )
    assert r.status_code == 422 and "max(S, A) = 3" in r.json()["error"]
    r = client.post(
        "/api/systems", json={"name": "s", "mlps_s_level": 4, "mlps_a_level": 3}, headers=admin_headers
    )
    assert r.status_code == 201 and r.json()["mlps_level"] == 4
    sid = r.json()["id"]
    r = client.patch(f"/api/systems/{sid}", json={"mlps_a_level": 5}, headers=admin_headers)
    assert r.status_code == 422  # level 4 no longer equals max(4, 5)


def test_duplicate_name_conflicts(client, admin_headers):
    assert client.post("/api/vendors", json={"name": "深信服"}, headers=admin_headers).status_code == 201
    r = client.post("/api/vendors", json={"name": "深信服"}, headers=admin_headers)
    assert r.status_code == 409 and "conflicts" in r.json()["error"]


def test_delete_referenced_vendor_is_refused(client, admin_headers):
    h = admin_headers
    v = client.post("/api/vendors", json={"name": "达梦"}, headers=h).json()["id"]
    r = client.post("/api/products", json={"name": "DM8", "vendor_id": v, "layer": "database"}, headers=h)
    assert r.status_code == 201, r.text
    r = client.delete(f"/api/vendors/{v}", headers=h)
    assert r.status_code == 409
    assert client.get(f"/api/vendors/{v}", headers=h).status_code == 200


def test_unknown_filter_value_type(client, admin_headers):
    r = client.get("/api/assets", params={"zone_id": "abc"}, headers=admin_headers)
    assert r.status_code == 422 and "zone_id" in r.json()["error"]
    r = client.get("/api/assets", params={"limit": 100000}, headers=admin_headers)
    assert r.status_code == 422


def test_edge_ends_must_exist(client, admin_headers):
    r = client.post(
        "/api/edges",
        json={"src_type": "system", "src_id": 77, "dst_type": "asset", "dst_id": 1},
        headers=admin_headers,
    )
    assert r.status_code == 422 and "system 77 does not exist" in r.json()["error"]
