"""The change feed and the asset page show a change field by field, in the page's language, never JSON."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from ciimap.ingest.models import ChangeEvent, ImportRun
from ciimap.inventory import models as m
from ciimap.web.changes import diff
from ciimap.web.i18n import Translator
from conftest import make_user
from structure import mapdata

PASSWORD = "correct-horse-1"


def test_diff_labels_fields_and_values():
    zh = Translator("zh-CN")
    rows = diff(
        {"state": "open", "service": "ssh", "version": "8.0"}, {"state": "closed", "service": "ssh"}, zh
    )
    assert rows == [
        {"field": "状态", "old": "开放", "new": "关闭"},
        {"field": "版本", "old": "8.0", "new": None},
    ]
    assert diff(None, {"ips": ["10.0.0.1", "10.0.0.2"], "declared": True}, zh) == [
        {"field": "全部 IP", "old": None, "new": "10.0.0.1、10.0.0.2"},
        {"field": "已登记", "old": None, "new": "是"},
    ]
    en = Translator("en")
    assert diff({"lifecycle_status": "active"}, {"lifecycle_status": "missing"}, en)[0] == {
        "field": "Status",
        "old": "active",
        "new": "missing",
    }


def _lines(html: str) -> list[str]:
    out = []
    for ul in re.findall(r'<ul class="chg">(.*?)</ul>', html, re.S):
        out += [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", ul, re.S)]
    return out


def test_feed_and_asset_page_show_readable_lines(database):
    seeded = mapdata.build(database, 2)
    with database.unit_of_work() as s:
        run = s.scalars(select(ImportRun)).first()
        asset = s.scalars(select(m.Asset)).first()
        port = {"state": "open", "service": "ssh", "product": "OpenSSH", "version": "8.0"}
        s.add(ChangeEvent(run_id=run.id, asset_id=asset.id, kind="port_closed", subject="10.0.0.9 tcp/22",
                          before=port, after={**port, "state": "closed"}))  # fmt: skip
        asset_id = asset.id
    make_user(database, "feed-analyst", "analyst", PASSWORD)
    from ciimap.app import create_app

    assert seeded.first
    with TestClient(create_app()) as client:
        r = client.post(
            "/login", data={"username": "feed-analyst", "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303
        feed = client.get("/changes").text
        assert "状态: 开放 → 关闭" in _lines(feed)
        assert '{"state"' not in feed and "{'state'" not in feed
        page = client.get(f"/entities/assets/{asset_id}").text
        assert "状态: 开放 → 关闭" in _lines(page)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', feed).group(1)
        assert (
            client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf}).status_code
            == 204
        )
        feed_en = client.get("/changes").text
        assert "State: open → closed" in _lines(feed_en)
