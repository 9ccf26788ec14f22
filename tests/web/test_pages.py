"""Server side of the web UI on both databases: login/CSRF, role-aware navigation, every entity page,
the /api/ui JSON endpoints, base-map validation, locale switching and the offline rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ciimap.core import entity
from ciimap.web.i18n import catalog
from conftest import make_user
from web.seed import seed

PASSWORD = "correct-horse-1"
STATIC = Path(__file__).resolve().parents[2] / "src" / "ciimap" / "web" / "static"
TEMPLATES = STATIC.parent / "templates"


def login(client, username: str) -> str:
    """Log in through the form; return the CSRF token from the page's meta tag."""
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "ciimap_session=" in cookie
    page = client.get("/")
    assert page.status_code == 200
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


@pytest.fixture
def seeded(database):
    seed(database, assets=40, systems=6)
    for name, role in (("admin", "admin"), ("analyst", "analyst"), ("auditor", "auditor")):
        make_user(database, name, role)
    return database


def test_pages_redirect_to_login_and_login_rejects_bad_password(client, seeded):
    r = client.get("/topology", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/topology")
    bad = client.post(
        "/login", data={"username": "admin", "password": "wrong-password"}, follow_redirects=False
    )
    assert bad.status_code == 401 and "ciimap_session" not in bad.headers.get("set-cookie", "")
    assert "用户名或密码错误" in bad.text
    # an open redirect after login is refused
    r = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_csrf_is_required_for_cookie_sessions(client, seeded):
    csrf = login(client, "analyst")
    assert client.patch("/api/ui/locale", json={"locale": "en"}).status_code == 403
    assert (
        client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": "nope"}).status_code
        == 403
    )
    ok = client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 204
    page = client.get("/")
    assert '<html lang="en">' in page.text and "Dashboard" in page.text
    out = client.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_navigation_depends_on_role(client, seeded):
    login(client, "auditor")
    page = client.get("/").text
    assert 'href="/imports"' not in page and "/admin/users" not in page and "data-write" not in page
    assert client.get("/entities/assets").status_code == 200
    assert "data-write" not in client.get("/entities/assets").text
    assert client.get("/admin/users", follow_redirects=False).status_code == 403
    client.cookies.clear()
    login(client, "admin")
    page = client.get("/").text
    assert 'href="/admin/users"' in page and 'href="/imports"' in page
    assert "auditor" in client.get("/admin/users").text


def test_every_entity_list_and_detail_renders(client, seeded):
    login(client, "admin")
    for name, spec in entity.REGISTRY.items():
        r = client.get(f"/entities/{name}")
        assert r.status_code == 200, name
        assert catalog("zh-CN").get(f"field.{next(iter(spec.read.model_fields))}") or True
        first = re.search(rf'href="/entities/{name}/(\d+)"', r.text)
        if first:
            d = client.get(f"/entities/{name}/{first.group(1)}")
            assert d.status_code == 200, name
    site = client.get("/entities/sites/1").text
    assert "北京数据中心" in site and "/entities/assets?site_id=1" in site  # related assets of the site
    asset = client.get("/entities/assets/1").text
    assert "业务系统01" in asset and "CE6800" in asset  # FK label and its software's product


def test_list_filters_search_and_keyset_pagination(client, seeded):
    login(client, "admin")
    r = client.get("/entities/assets", params={"lifecycle_status": "missing"})
    assert 'data-total="2"' in r.text  # seed marks every 23rd asset (i % 23 == 5) missing: ids 6 and 29
    r = client.get("/entities/assets", params={"q": "host-0001"})
    assert 'data-total="10"' in r.text  # host-00010 .. host-00019
    first = client.get("/entities/assets", params={"limit": 25}).text
    assert 'data-total="40"' in first and "after=" in first
    nxt = re.search(r'href="\?([^"]*after=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    page2 = client.get("/entities/assets?" + nxt, headers={"HX-Request": "true", "HX-Target": "entity-table"})
    assert page2.status_code == 200 and "<html" not in page2.text and "host-00040" in page2.text
    assert "host-00001" not in page2.text
    bad = client.get("/entities/assets", params={"zone_id": "abc"})
    assert bad.status_code == 200 and "zone_id: expected a whole number" in bad.text


def test_topology_api_filters_layout_and_budget(client, seeded):
    login(client, "admin")
    g = client.get("/api/ui/topology").json()
    types = {n["type"] for n in g["nodes"]}
    assert types == {"business_service", "system", "asset", "product", "vendor"}
    assert g["counts"]["asset"] == 40 and not g["truncated"]
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in g["nodes"])
    ids = {n["id"] for n in g["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in g["edges"])
    assert {n["id"] for n in g["nodes"] if n.get("foreign")} >= {"vendor:4", "product:4"}
    assert sum(1 for n in g["nodes"] if n.get("missing")) == 2
    site = client.get("/api/ui/topology", params={"site_id": 2}).json()
    assert site["counts"]["asset"] == 8 and all(n["site"] == 2 for n in site["nodes"] if n["type"] == "asset")
    small = client.get("/api/ui/topology", params={"budget": 5}).json()
    assert small["counts"]["asset"] == 5 and small["truncated"]
    lvl = client.get("/api/ui/topology", params={"mlps_level": 4}).json()
    assert {n["mlps"] for n in lvl["nodes"] if n["type"] == "system"} == {4}
    nb = client.get("/api/ui/topology/neighbours", params={"type": "system", "id": 1}).json()
    nb_ids = {n["id"] for n in nb["nodes"]}
    assert {"asset:1", "asset:2", "asset:3", "business_service:1"} <= nb_ids


def test_impact_endpoint_shapes_the_graph_result(client, seeded):
    pytest.importorskip("ciimap.graph.impact")
    login(client, "admin")
    res = client.get("/api/ui/impact", params={"type": "asset", "id": 1}).json()
    failed = {x["id"] for x in res["failed"]}
    assert "system:1" in failed and "business_service:1" in failed
    sys1 = next(x for x in res["failed"] if x["id"] == "system:1")
    assert sys1["path"][0] == "system:1" and sys1["path"][-1] == "asset:1"
    # asset 2 has a redundant partner (asset 3): its system only degrades
    res2 = client.get("/api/ui/impact", params={"type": "asset", "id": 2}).json()
    assert "system:1" in {x["id"] for x in res2["degraded"]}


def test_dashboard_and_sites(client, seeded):
    login(client, "admin")
    d = client.get("/api/ui/dashboard").json()
    assert d["counts"]["assets"] == 40 and d["counts"]["missing"] == 2 and d["counts"]["foreign_vendors"] == 4
    assert sum(n for _d, n in d["charts"]["assets_first_seen"]) == 40
    page = client.get("/").text
    assert 'data-card="unmanaged"' in page and "chart-trend" in page
    sites = client.get("/api/ui/sites").json()["sites"]
    assert len(sites) == 5 and sites[0]["lat"] == 39.9 and sites[0]["assets"] == 8


def test_basemap_upload_is_admin_only_and_validated(client, seeded, tmp_path, monkeypatch):
    from ciimap.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    csrf = login(client, "admin")
    h = {"X-CSRF-Token": csrf}
    bad = client.post("/api/ui/basemap", files={"file": ("map.json", b'{"type": "Feature"}')}, headers=h)
    assert (
        bad.status_code == 422
        and "map.json" in bad.json()["error"]
        and "FeatureCollection" in bad.json()["error"]
    )
    broken = client.post("/api/ui/basemap", files={"file": ("m.geojson", b'{"type": ')}, headers=h)
    assert broken.status_code == 422 and "line 1" in broken.json()["error"]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "A"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[100, 30], [110, 30], [110, 40], [100, 30]]],
                },
            }
        ],
    }
    ok = client.post(
        "/api/ui/basemap",
        files={"file": ("approved.geojson", json.dumps(fc).encode())},
        data={"approval": "GS(2024)0001"},
        headers=h,
    )
    assert ok.status_code == 200 and ok.json()["features"] == 1
    assert client.get("/api/ui/basemap").json()["features"][0]["properties"]["name"] == "A"
    assert "GS(2024)0001" in client.get("/sitemap").text
    client.cookies.clear()
    csrf = login(client, "analyst")
    assert (
        client.post(
            "/api/ui/basemap",
            files={"file": ("a.geojson", json.dumps(fc).encode())},
            headers={"X-CSRF-Token": csrf},
        ).status_code
        == 403
    )


def test_catalogs_match_and_pages_reference_no_external_urls(client, seeded):
    zh, en = catalog("zh-CN"), catalog("en")
    assert set(zh) == set(en)
    login(client, "admin")
    pages = [
        "/",
        "/topology",
        "/sitemap",
        "/entities/assets",
        "/entities/assets/1",
        "/admin/users",
        "/imports",
        "/changes",
    ]
    texts = [client.get(p).text for p in pages]
    texts += [p.read_text(encoding="utf-8") for p in STATIC.glob("*.*") if p.suffix in (".js", ".css")]
    texts += [p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")]
    for text in texts:
        urls = re.findall(r"https?://[^\s\"'<>)]+", text)
        assert not [u for u in urls if not u.startswith(("http://www.w3.org/", "http://testserver"))], urls
        assert not re.search(r"(cdn\.|unpkg|jsdelivr|googleapis|cdnjs|bootcdn|staticfile)", text)
    vendor = STATIC / "vendor"
    for f in ("htmx.min.js", "cytoscape.min.js", "echarts.min.js", "swagger-ui/swagger-ui-bundle.js"):
        assert (vendor / f).stat().st_size > 10_000, f"run scripts/build-static.sh ({f} missing)"
    src = " ".join(texts)
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', src):
        assert client.get(ref).status_code == 200, ref


def test_generic_forms_create_and_edit_with_clear_errors(client, seeded):
    csrf = login(client, "analyst")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    assert 'name="country"' in client.get("/entities/vendors/new").text
    r = client.post(
        "/entities/vendors/new", data={"name": "中控技术", "country": "CN", "is_domestic": "on"}, headers=h
    )
    assert r.status_code == 204
    vid = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    detail = client.get(f"/entities/vendors/{vid}").text
    assert "中控技术" in detail and f"/entities/vendors/{vid}/edit" in detail
    dup = client.post("/entities/vendors/new", data={"name": "中控技术"}, headers=h)
    assert dup.status_code == 422 and "conflicts with an existing record" in dup.text
    bad = client.post("/entities/assets/1/edit", data={"name": "host-00001", "ips": "10.0.0.300"}, headers=h)
    assert bad.status_code == 422 and "is not an IP address" in bad.text
    ok = client.post(
        "/entities/assets/1/edit",
        data={"name": "db-primary", "ips": "10.9.9.9, 10.9.9.10", "lifecycle_status": "maintenance"},
        headers=h,
    )
    assert ok.status_code == 204
    page = client.get("/entities/assets/1").text
    assert "db-primary" in page and "10.9.9.10" in page and "维护" in page
    assert client.post("/entities/vendors/new", data={"name": "x"}).status_code == 403  # no CSRF token
    client.cookies.clear()
    csrf = login(client, "auditor")
    assert client.get("/entities/vendors/new", follow_redirects=False).status_code == 403
    r = client.post("/entities/vendors/new", data={"name": "y"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
