"""The site map's service (bounds, clusters, per-site risk, exposure, incidents and warnings), the
logical view, and the base map's validation, size limit, API and CLI — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from ciimap.alerts.models import AlertWarning
from ciimap.core.audit import AuditLog
from ciimap.core.errors import InputFileError
from ciimap.incidents.models import Incident
from ciimap.inventory import models as m
from ciimap.sitemap import basemap, logical, service
from ciimap.sitemap import cli as sitemap_cli
from ciimap.vulns.models import Advisory, Finding

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
# three sites in one city a few km apart, one 1,000 km away, one without coordinates
SITES = [
    ("一号站", 31.230, 121.470),
    ("二号站", 31.232, 121.474),
    ("三号站", 31.300, 121.550),
    ("北京站", 39.900, 116.400),
    ("无坐标站", None, None),
]


def _world(database) -> dict[str, int]:  # noqa: ANN001
    with database.unit_of_work() as s:
        sites = [m.Site(name=n, latitude=la, longitude=lo, city="市") for n, la, lo in SITES]
        s.add_all(sites)
        s.flush()
        dmz = m.NetworkZone(name="DMZ", kind="dmz", internet_facing=True, site_id=sites[0].id)
        prod = m.NetworkZone(name="生产区", kind="production", site_id=sites[0].id)
        ot = m.NetworkZone(name="工控区", kind="ot", site_id=sites[3].id)
        scada = m.System(name="SCADA")
        web = m.System(name="门户")
        s.add_all([dmz, prod, ot, scada, web])
        s.flush()
        assets = [
            m.Asset(name="web1", site_id=sites[0].id, zone_id=dmz.id, system_id=web.id),
            m.Asset(name="db1", site_id=sites[0].id, zone_id=prod.id, system_id=web.id),
            m.Asset(name="plc1", site_id=sites[3].id, zone_id=ot.id, system_id=scada.id),
            m.Asset(name="plc2", site_id=sites[3].id, zone_id=ot.id, system_id=scada.id),
            m.Asset(name="pc", site_id=sites[1].id),
        ]
        s.add_all(assets)
        s.flush()
        a = {x.name: x.id for x in assets}
        s.add_all(
            [
                m.Edge(
                    src_type="asset", src_id=a["web1"], kind="depends_on", dst_type="asset", dst_id=a["db1"]
                ),
                m.Edge(
                    src_type="asset", src_id=a["db1"], kind="connects_to", dst_type="asset", dst_id=a["plc1"]
                ),
                m.Edge(src_type="asset", src_id=a["db1"], kind="uses", dst_type="asset", dst_id=a["plc2"]),
                m.Edge(
                    src_type="asset", src_id=a["plc1"], kind="replica_of", dst_type="asset", dst_id=a["plc2"]
                ),
                m.Edge(
                    src_type="system", src_id=web.id, kind="depends_on", dst_type="asset", dst_id=a["db1"]
                ),
            ]
        )
        adv = Advisory(advisory_id="CVE-2026-0001", source="osv")
        s.add(adv)
        s.flush()
        for i, (asset, prio, active) in enumerate(
            (
                ("web1", "P2", True),
                ("db1", "P1", False),
                ("db1", "P3", True),
                ("plc1", "P1", True),
                ("plc2", "P1", True),
            )
        ):
            s.add(Finding(target_type="software", target_id=i + 1, asset_id=a[asset], advisory_pk=adv.id,
                          advisory_id=adv.advisory_id, package="pkg:pypi/x", match_kind="purl", priority=prio,
                          active=active, triage_key=f"k{i}"))  # fmt: skip
        s.add_all(
            [
                Incident(title="勒索", state="处置", grade="重大", asset_ids=[a["plc1"]], system_ids=[],
                         discovered_at=T0, created_by="t"),
                Incident(title="旧事件", state="关闭", grade="特别重大", asset_ids=[a["web1"]], discovered_at=T0,
                         created_by="t"),
                Incident(title="演练", state="处置", grade="较大", asset_ids=[a["web1"]], drill=True,
                         discovered_at=T0, created_by="t"),
                AlertWarning(rule="r", rule_kind="threshold", level="orange", title="扫描", scope="s",
                             asset_ids=[], system_ids=[web.id], first_alert_id=1, last_alert_id=1,
                             first_alert_at=T0, last_alert_at=T0, count=2),
            ]
        )  # fmt: skip
        return {"sites": [x.id for x in sites], "dmz": dmz.id, "prod": prod.id, "ot": ot.id}


def test_bounds_pad_the_real_coordinates_not_whole_degrees():
    b = service.bounds([(121.47, 31.23), (121.55, 31.30)])
    assert b is not None
    # span 0.08 x 0.07 (at least MIN_SPAN), padded by 12 % each side
    assert b["west"] == pytest.approx(121.47 - 0.08 * 0.12) and b["east"] == pytest.approx(
        121.55 + 0.08 * 0.12
    )
    assert b["south"] == pytest.approx(31.265 - 0.035 - 0.07 * 0.12)
    assert b["north"] == pytest.approx(31.265 + 0.035 + 0.07 * 0.12)
    one = service.bounds([(121.47, 31.23)])  # a single site: at least MIN_SPAN around it
    assert one is not None and one["east"] - one["west"] == pytest.approx(0.05 * 1.24)
    assert service.bounds([]) is None
    assert service.bounds([(179.99, 89.99), (-179.99, -89.99)]) == {
        "west": -180,
        "south": -90,
        "east": 180,
        "north": 90,
    }
    assert service.grid_step(b) == 0.02  # ~6 lines across 0.1°


def test_clusters_merge_nearby_sites_at_low_zoom_and_split_when_zoomed():
    sites = [{"id": i, "lon": lo, "lat": la} for i, (_n, la, lo) in enumerate(SITES)]
    b = service.bounds([(s["lon"], s["lat"]) for s in sites if s["lat"] is not None])
    assert b is not None
    ladder = service.clusters(sites, b)
    assert len(ladder) == service.LEVELS
    top = sorted(sorted(c["ids"]) for c in ladder[0])
    assert top == [[0, 1, 2], [3]]  # the city's three sites are one cluster; the one without coordinates none
    merged = next(c for c in ladder[0] if len(c["ids"]) == 3)
    assert merged["lon"] == pytest.approx((121.47 + 121.474 + 121.55) / 3)
    deepest = sorted(sorted(c["ids"]) for c in ladder[-1])
    assert deepest == [[0], [1], [2], [3]]
    sizes = [len(level) for level in ladder]
    assert sizes == sorted(sizes)  # zooming in never merges


def test_view_counts_risk_exposure_incidents_and_warnings_per_site(database):
    w = _world(database)
    with database.read_session() as s:
        v = service.view(s)
    by = {x["name"]: x for x in v["sites"]}
    one, bj, two = by["一号站"], by["北京站"], by["二号站"]
    assert (one["assets"], one["systems"], one["system_names"]) == (2, 1, ["门户"])
    assert one["findings"] == {"P1": 0, "P2": 1, "P3": 1, "P4": 0}  # the inactive P1 is left out
    assert (one["risk"], one["exposed"], one["exposure"]) == ("P2", 1, "exposed")
    assert (bj["risk"], bj["findings"]["P1"], bj["exposure"]) == ("P1", 2, "internal")
    assert (two["risk"], two["exposure"]) == ("none", "internal")
    assert by["三号站"]["exposure"] == "none"
    # open real incidents only (the closed one and the drill are left out); warnings of the site's systems
    assert (bj["incidents"], bj["grade_code"], bj["alert"]) == (1, "II", "incident")
    assert (one["incidents"], one["warnings"], one["warning"], one["alert"]) == (0, 1, "orange", "orange")
    assert two["alert"] == "none"
    assert v["bounds"]["west"] < 116.4 and v["bounds"]["east"] > 121.55
    assert sorted(c["ids"] for c in v["clusters"][-1]) == [[i] for i in sorted(w["sites"][:4])]
    assert sorted(sorted(c["ids"]) for c in v["clusters"][0]) == [w["sites"][:3], [w["sites"][3]]]
    assert v["basemap"] is None
    with database.read_session() as s:  # a user bound to another organisation sees neither
        other = {x["name"]: x for x in service.view(s, viewer_org=999)["sites"]}
    assert (other["北京站"]["incidents"], other["一号站"]["warnings"], other["一号站"]["alert"]) == (
        0,
        0,
        "none",
    )


def test_logical_view_aggregates_edges_between_zones(database):
    w = _world(database)
    with database.read_session() as s:
        d = logical.logical(s)
        only = logical.logical(s, site_id=w["sites"][3])
    zones = {z["name"]: z for z in d["zones"]}
    assert zones["DMZ"]["exposure"] == "exposed" and zones["DMZ"]["risk"] == "P2"
    assert zones["工控区"]["assets"] == 2 and zones["工控区"]["risk"] == "P1"
    assert zones["工控区"]["internal"] == 1  # plc1 replica_of plc2
    links = {(x["source"], x["target"]): x for x in d["links"]}
    assert set(links) == {(w["dmz"], w["prod"]), (w["prod"], w["ot"])}
    assert links[(w["prod"], w["ot"])]["count"] == 2
    assert links[(w["prod"], w["ot"])]["kinds"] == {"connects_to": 1, "uses": 1}
    assert d["kinds"] == ["dmz", "production", "ot"]
    # one site's zones, with the far end of its links drawn as outside
    assert {z["name"]: z.get("outside", False) for z in only["zones"]} == {"工控区": False, "生产区": True}
    assert [(x["source"], x["target"]) for x in only["links"]] == [(w["prod"], w["ot"])]


GOOD = {
    "type": "FeatureCollection",
    "features": [{"type": "Feature", "properties": {"name": "区"},
                  "geometry": {"type": "Polygon", "coordinates": [[[121, 31], [122, 31], [122, 32], [121, 31]]]}}],
}  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"{", "not valid JSON"),
        (b"[]", "FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "no features"),
        (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature"}]}).encode(), "geometry"),
        (
            json.dumps(
                {
                    **GOOD,
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [[13524000, 3662000], [13525000, 3662000], [13524000, 3662000]]
                                ],
                            },
                        }
                    ],
                }
            ).encode(),
            "longitude/latitude",
        ),  # fmt: skip
        (
            json.dumps(
                {
                    **GOOD,
                    "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": ["a", 1]}}],
                }
            ).encode(),
            "numbers",
        ),
    ],
)
def test_geojson_validation_names_the_problem(doc, reason):
    with pytest.raises(InputFileError) as e:
        basemap.validate_geojson(doc, "map.geojson")
    assert reason in str(e.value) and "map.geojson" in str(e.value)


def test_basemap_api_validates_limits_stores_and_audits(
    client, database, admin_headers, auditor_headers, monkeypatch
):
    good = json.dumps(GOOD).encode()
    files = {"file": ("gs.geojson", good, "application/geo+json")}
    assert client.get("/api/sitemap/basemap", headers=auditor_headers).status_code == 404
    assert client.put("/api/sitemap/basemap", files=files, headers=auditor_headers).status_code == 403
    bad = client.put(
        "/api/sitemap/basemap", files={"file": ("x.geojson", b"{", "application/json")}, headers=admin_headers
    )
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["error"]
    monkeypatch.setattr(basemap, "MAX_BASEMAP_BYTES", len(good) - 1)
    big = client.put("/api/sitemap/basemap", files=files, headers=admin_headers)
    assert big.status_code == 413, big.text
    monkeypatch.undo()
    ok = client.put(
        "/api/sitemap/basemap", files=files, data={"approval": "GS(2026)1号"}, headers=admin_headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"filename": "gs.geojson", "features": 1, "approval": "GS(2026)1号"}
    assert client.get("/api/sitemap/basemap", headers=auditor_headers).json()["approval"] == "GS(2026)1号"
    assert client.get("/api/sitemap/view", headers=auditor_headers).json()["basemap"]["features"] == 1
    assert (
        client.get("/api/ui/basemap", headers=auditor_headers).json()["features"][0]["properties"]["name"]
        == "区"
    )
    assert client.delete("/api/sitemap/basemap", headers=admin_headers).status_code == 204
    assert client.delete("/api/sitemap/basemap", headers=admin_headers).status_code == 404
    with database.read_session() as s:
        acts = [
            (r.action, r.entity_type) for r in s.query(AuditLog).filter(AuditLog.entity_type == "basemap")
        ]
    assert acts == [("upload", "basemap"), ("delete", "basemap")]


def test_views_api_and_cli_agree(client, database, auditor_headers, tmp_path):
    w = _world(database)
    view = client.get("/api/sitemap/view", headers=auditor_headers).json()
    assert [x["name"] for x in view["sites"]] == [n for n, _la, _lo in SITES]
    lg = client.get(f"/api/sitemap/logical?site_id={w['sites'][0]}", headers=auditor_headers)
    assert lg.status_code == 200 and {z["name"] for z in lg.json()["zones"]} >= {"DMZ", "生产区"}
    assert client.get("/api/sitemap/logical?site_id=abc", headers=auditor_headers).status_code == 422
    run = CliRunner().invoke
    r = run(sitemap_cli.app, ["view", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["sites"] == view["sites"]
    r = run(sitemap_cli.app, ["logical", "--json"])
    assert r.exit_code == 0 and len(json.loads(r.output)["links"]) == 2
    f = tmp_path / "gs.geojson"
    f.write_text(json.dumps(GOOD), encoding="utf-8")
    r = run(sitemap_cli.app, ["basemap", "set", str(f), "--approval", "GS(2026)2号", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["approval"] == "GS(2026)2号"
    r = run(sitemap_cli.app, ["basemap", "show", "--json"])
    assert json.loads(r.output)["features"] == 1
    bad = tmp_path / "bad.geojson"
    bad.write_text("[]", encoding="utf-8")
    r = run(sitemap_cli.app, ["basemap", "set", str(bad)])
    assert r.exit_code != 0
    r = run(sitemap_cli.app, ["basemap", "clear"])
    assert r.exit_code == 0 and "removed" in r.output
