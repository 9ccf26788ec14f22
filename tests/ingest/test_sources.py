"""masscan (JSON, list, XML), SBOMs (all real CycloneDX files + SPDX) and osquery results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.ingest.models import ChangeEvent
from ciimap.ingest.parsers import masscan, osquery, sbom
from ciimap.inventory.models import Asset, Edge, ServiceEndpoint, Software, System

from .conftest import DATA, SHARED


@pytest.mark.parametrize("name", ["masscan.json", "masscan.list", "masscan.xml"])
def test_masscan_formats(name: str) -> None:
    hosts = {h.ips[0]: h for h in masscan.Masscan(DATA / name)}
    assert sorted(hosts) == ["10.10.0.5", "10.10.0.7"]
    assert sorted(p.port for p in hosts["10.10.0.5"].ports) == [22, 443]
    assert [p.port for p in hosts["10.10.0.7"].ports] == [3389]
    if name != "masscan.xml":
        ssh = next(p for p in hosts["10.10.0.5"].ports if p.port == 22)
        assert ssh.name == "ssh" and ssh.scripts == [("banner", "SSH-2.0-OpenSSH_8.9p1")]


def test_masscan_import_merges_with_nmap_by_ip(database, run_import) -> None:
    r = run_import("masscan", DATA / "masscan.json")
    assert r["assets_created"] == 2 and r["scope"] == "masscan"
    r = run_import("masscan", DATA / "masscan.list")
    assert r["assets_created"] == 0 and r["changes"] == 0


SBOMS = {
    "dropwizard-1.3.15_bom.xml": "1.2",
    "juice-shop_v11.1.2_bom.json": "1.2",
    "keycloak-10.0.2_bom.json": "1.2",
    "python-app-sbom.cdx.json": "1.6",
}


@pytest.mark.parametrize("name", sorted(SBOMS))
def test_real_sboms_parse(name: str) -> None:
    sw = sbom.parse(SHARED / "sbom" / name)
    assert sw.meta["spec_version"] == SBOMS[name]
    assert len(sw.components) > 5
    assert all(c.name and c.bom_ref for c in sw.components)
    assert sum(1 for c in sw.components if c.purl) >= len(sw.components) * 0.9


def test_keycloak_sbom_keeps_hashes_licences_and_dependency_tree(database, run_import) -> None:
    with database.unit_of_work() as s:
        s.add(System(name="统一认证"))
    with database.read_session() as s:
        sid = s.scalar(select(System.id))
    path = SHARED / "sbom" / "keycloak-10.0.2_bom.json"
    doc = json.loads(path.read_text())
    r = run_import("sbom", path, options={"system_id": sid})
    assert r["scope"] == f"sbom:system:{sid}"
    with database.read_session() as s:
        bc = s.scalar(select(Software).where(Software.name == "org.bouncycastle:bcprov-jdk15on"))
        assert (
            bc.version == "1.62" and bc.system_id == sid and bc.purl.startswith("pkg:maven/org.bouncycastle/")
        )
        assert bc.hashes["SHA-256"] == "2fa0ab71b154da29ac134097bc6bbacd90987dd4c4005516159e6494d1d52ea2"
        n_sw = len(list(s.scalars(select(Software.id).where(Software.system_id == sid))))
        edges = len(
            list(s.scalars(select(Edge.id).where(Edge.kind == "depends_on", Edge.src_type == "software")))
        )
    expected_edges = len(
        {(d["ref"], x) for d in doc["dependencies"] for x in d.get("dependsOn", []) if d["ref"] != x}
    )
    assert n_sw == len({(c["name"], c.get("version"), c.get("purl")) for c in doc["components"]})
    assert 0 < edges <= expected_edges
    again = run_import("sbom", path, options={"system_id": sid})
    assert again["changes"] == 0 and again["stats"]["software_added"] == 0


def test_sbom_reimport_reports_version_change(database, run_import, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        s.add(Asset(name="app01"))
    with database.read_session() as s:
        aid = s.scalar(select(Asset.id))
    src = SHARED / "sbom" / "python-app-sbom.cdx.json"
    run_import("sbom", src, options={"asset_id": aid})
    doc = json.loads(src.read_text())
    for c in doc["components"]:
        if c["name"] == "cryptography":
            c["version"], c["purl"] = "42.0.4", "pkg:pypi/cryptography@42.0.4"
    newer = tmp_path / "newer.cdx.json"
    newer.write_text(json.dumps(doc))
    r = run_import("sbom", newer, options={"asset_id": aid})
    with database.read_session() as s:
        evs = [
            (e.kind, e.subject, e.before, e.after)
            for e in s.scalars(select(ChangeEvent).where(ChangeEvent.run_id == r["run_id"]))
        ]
    assert evs == [
        ("software_version_changed", "cryptography", {"versions": ["3.2"]}, {"versions": ["42.0.4"]})
    ]


def test_spdx_packages_relationships(database, run_import) -> None:
    sw = sbom.parse(DATA / "app.spdx.json")
    by = {c.name: c for c in sw.components}
    assert by["log4j-core"].cpe == "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"
    assert by["log4j-core"].supplier == "Apache" and by["log4j-core"].licenses == ["Apache-2.0"]
    assert by["log4j-api"].parent_ref == "SPDXRef-app"
    assert ("SPDXRef-log4j", "SPDXRef-log4j-api") in sw.depends
    with database.unit_of_work() as s:
        s.add(System(name="计费系统"))
    with database.read_session() as s:
        sid = s.scalar(select(System.id))
    r = run_import("sbom", DATA / "app.spdx.json", options={"system_id": sid})
    assert r["stats"]["dependency_edges"] == 3  # 2 depends_on + 1 part_of


def test_osquery_shapes() -> None:
    (bundle,) = osquery.parse(DATA / "osquery-bundle.json")
    assert bundle.host.serial == "SN-DB01-7781" and bundle.host.os_family == "ubuntu"
    assert bundle.components[0].purl == "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?arch=amd64"
    (rpm,) = osquery.parse(DATA / "osquery-rpm.json")
    assert (
        rpm.host.hostnames == ["app07"]
        and rpm.components[0].purl == "pkg:rpm/centos/openssl-libs@1.0.2k-26.el7_9?arch=x86_64"
    )
    logs = osquery.parse(DATA / "osquery-results.log")
    assert [s.host.hostnames for s in logs] == [["win-fin-01"], ["win-fin-02"]]
    assert [c.name for c in logs[0].components] == ["7-Zip 19.00 (x64)", "WPS Office"]


def test_osquery_import_creates_asset_and_software(database, run_import) -> None:
    r = run_import("osquery", DATA / "osquery-bundle.json")
    assert r["assets_created"] == 1
    with database.read_session() as s:
        a = s.scalar(select(Asset))
        assert a.serial == "SN-DB01-7781" and a.os_family == "ubuntu"
        assert sorted(s.scalars(select(Software.name).where(Software.asset_id == a.id))) == [
            "openssh-server",
            "openssl",
            "postgresql-14",
        ]
        aid = a.id
    r = run_import("osquery", DATA / "osquery-bundle.json")
    assert r["assets_created"] == 0 and r["changes"] == 0
    r = run_import("osquery", DATA / "osquery-rpm.json", options={"asset_id": aid})
    assert r["assets_created"] == 0
    with database.read_session() as s:
        assert len(list(s.scalars(select(Software.id).where(Software.asset_id == aid)))) == 5
        assert s.scalar(select(ServiceEndpoint.id)) is None
