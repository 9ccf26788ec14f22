"""Crypto pages (issue 13 item 7): the inventory overview, a system's layers/certificates/flags, the 密评
workspace, the dashboard card and the topology overlay, in Chinese (default) and English."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from ciimap.core.db import Database
from ciimap.crypto import assessment
from ciimap.crypto.schemas import AssessmentIn, ObjectIn, UnitIn
from ciimap.ingest.models import ScanDetail
from ciimap.inventory.models import Asset, System
from conftest import make_user
from web.test_pages import login

OLD_TLS = "\n  TLSv1.0:\n    ciphers:\n      TLS_RSA_WITH_RC4_128_SHA (rsa 2048) - C\n|_  least strength: C"
CERT = (
    "Subject: commonName=pay.example.cn\nIssuer: commonName=ca\nPublic Key type: rsa\nPublic Key bits: 1024\n"
    "Signature Algorithm: sha1WithRSAEncryption\nNot valid before: 2020-01-01T00:00:00\n"
    "Not valid after:  2021-01-01T00:00:00\nMD5:   00\nSHA-1: 00"
)


@pytest.fixture
def cmap(database: Database) -> dict[str, Any]:
    for name in ("analyst", "auditor"):
        make_user(database, name, name)
    with database.unit_of_work() as s:
        sysm = System(name="缴费系统", mlps_level=3)
        asset = Asset(name="pay-gw", kind="server")
        s.add_all([sysm, asset])
        s.flush()
        asset.system_id = sysm.id
        scripts = [["tcp", 443, "ssl-enum-ciphers", OLD_TLS, None], ["tcp", 443, "ssl-cert", CERT, None]]
        s.add(ScanDetail(asset_id=asset.id, source="nmap", run_id=1, data={"port_scripts": scripts}))
        s.flush()
        a = assessment.create(
            s, data=AssessmentIn(system_id=sysm.id, assessed_on=dt.date(2026, 11, 30), assessor="张三")
        )
        unit = UnitIn(
            layer="应用和数据",
            unit="重要数据存储机密性",
            objects=[ObjectIn(name="库", d=True, a=False, k=True, ra=0.5)],
        )
        assessment.set_unit(s, assessment_id=a["id"], data=unit)
        return {"system": sysm.id, "assessment": a["id"], "asset": asset.id}


def test_inventory_overview_and_system_page(client: Any, cmap: dict[str, Any]) -> None:
    csrf = login(client, "auditor")
    html = client.get("/crypto").text
    assert 'data-nav="crypto"' in html and "商用密码应用：清单与密评" in html
    row = re.search(rf'<tr data-system="{cmap["system"]}">(.*?)</tr>', html, re.S).group(1)
    assert "缴费系统" in row and "网络和通信" in row and "RC4" in row and "未使用国密算法" in row
    assert f'href="/crypto/assessments/{cmap["assessment"]}"' in html and "未通过" in html
    page = client.get(f"/crypto/systems/{cmap['system']}").text
    assert "pay.example.cn" in page and "2021-01-01" in page  # the certificate with its expiry
    for label in ("证书已过期", "密钥长度不足", "弱签名算法", "弱协议版本", "未使用国密算法"):
        assert label in page, label
    r = client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    en = client.get(f"/crypto/systems/{cmap['system']}").text
    assert "Certificate expired" in en and "Network and communication" in en
    assert client.get("/crypto/systems/999999").status_code == 404


def test_workspace_shows_units_and_saves_through_the_api(client: Any, cmap: dict[str, Any]) -> None:
    csrf = login(client, "analyst")
    html = client.get(f"/crypto/assessments/{cmap['assessment']}").text
    assert "密评工作台" in html and "/static/js/crypto.js" in html
    row = re.search(
        r'<tr data-unit data-layer="应用和数据" data-name="重要数据存储机密性"[^>]*>(.*?)</tr>', html, re.S
    )
    assert row and "库:101:ra=0.5" in row.group(1) and "0.2500" in row.group(1)
    assert 'data-name="不可否认性"' in html  # level 3 units are all offered
    body = {"layer": "管理制度", "unit": "具备密码应用安全管理制度", "result": "符合"}
    r = client.put(
        f"/api/crypto/assessments/{cmap['assessment']}/units", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    html = client.get(f"/crypto/assessments/{cmap['assessment']}").text
    assert re.search(r'<option value="符合" selected>符合</option>', html)


def test_dashboard_card_and_topology_overlay(client: Any, cmap: dict[str, Any], database: Database) -> None:
    login(client, "auditor")
    client.get("/crypto")  # the inventory is rebuilt when asked for
    dash = client.get("/api/ui/dashboard").json()
    card = next(c for c in dash["domains"] if c["key"] == "crypto")
    assert card["value"] == "1" and ["no_gm", 1] in card["parts"] and ["failed", 1] in card["parts"]
    topo = client.get("/api/ui/topology").json()
    node = next(n for n in topo["nodes"] if n["type"] == "system" and n["ref"] == cmap["system"])
    assert node["crypto_gap"] >= 3  # flags + no GM + failed 密评
    with database.read_session() as s:
        assert s.scalar(select(System.name).where(System.id == cmap["system"])) == "缴费系统"
