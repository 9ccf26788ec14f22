"""CSV/XLSX export and column choice on the lists that are not entity lists: findings, change feed,
incidents, alert console, warnings (web/list_exports.py over core/export.py): the page's filters, the
chosen columns in the page's order, values in the user's language, formula-safe, audited, bad input 4xx."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from ciimap.core import audit
from ciimap.ingest.models import ChangeEvent, ImportRun
from ciimap.inventory import models as m
from ciimap.web.list_exports import LISTS
from conftest import make_user
from structure import mapdata

PASSWORD = "correct-horse-1"
EVIL = '=HYPERLINK("http://x","y")'
PAGES = {"findings": "/findings", "changes": "/changes", "incidents": "/incidents", "alerts": "/alerts",
         "warnings": "/warnings"}  # fmt: skip


@pytest.fixture
def client(database):
    mapdata.build(database, 2)
    with database.unit_of_work() as s:
        run = s.scalars(select(ImportRun)).first()
        asset = s.scalars(select(m.Asset)).first()
        s.add(ChangeEvent(run_id=run.id, asset_id=asset.id, kind="os_changed", subject=EVIL,
                          before={"os": "CentOS 7"}, after={"os": "麒麟 V10"}))  # fmt: skip
    make_user(database, "exp-auditor", "auditor", PASSWORD)
    from ciimap.app import create_app

    with TestClient(create_app()) as c:
        r = c.post("/login", data={"username": "exp-auditor", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303
        yield c


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _exports(database) -> list[dict]:
    with database.read_session() as s:
        items = audit.query_log(s, entity_type=None, entity_id=None, actor=None, limit=200, offset=0)["items"]
        return [{"what": i.entity_type, **i.after} for i in items if i.action == "export"]


def test_every_list_page_offers_export_and_column_choice(client):
    assert set(LISTS) == set(PAGES)
    for name, url in PAGES.items():
        html = client.get(url).text
        table = re.search(r'<table[^>]*data-list="' + name + r'"[^>]*>.*?</thead>', html, re.S)
        assert table, url
        cols = [c for group in re.findall(r'data-col="([^"]+)"', table.group(0)) for c in group.split(",")]
        assert cols and set(cols) <= set(LISTS[name].columns), (url, set(cols) - set(LISTS[name].columns))
        assert (
            f'href="/export/{name}?' in html and 'data-export="csv"' in html and 'data-export="xlsx"' in html
        )


def test_each_list_exports_csv_in_chinese_with_the_page_rows(client, database):
    for name in PAGES:
        r = client.get(f"/export/{name}?format=csv")
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("text/csv")
        assert f'filename="{name}.csv"' in r.headers["content-disposition"]
        rows = _rows(r.text)
        assert len(rows[0]) == len(LISTS[name].columns)
        assert all(re.search(r"[\u4e00-\u9fff]|^[A-Z]+$|^ID$", h) for h in rows[0]), rows[0]
        assert len(rows) > 1, name  # the seed holds a row in every table
    done = _exports(database)
    assert {d["what"] for d in done} == {f"list:{n}" for n in PAGES}
    assert all(d["interface"] == "web" and d["format"] == "csv" for d in done)


def test_change_feed_export_is_readable_and_formula_safe(client):
    rows = _rows(client.get("/export/changes?format=csv&columns=kind,subject,detail").text)
    assert rows[0] == ["类型", "对象", "变化"]
    evil = [r for r in rows[1:] if r[1].endswith(EVIL)]
    assert evil == [["系统变化", "'" + EVIL, "操作系统: CentOS 7 → 麒麟 V10"]]


def test_columns_filters_and_xlsx(client, database):
    r = client.get("/export/findings?format=xlsx&columns=status,priority&status=new")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert ws.title == "漏洞发现" and rows[0] == ("处置状态", "优先级")
    assert {row[0] for row in rows[1:]} <= {"待处置"}
    page_total = int(re.search(r'data-total="(\d+)"', client.get("/findings?status=new").text).group(1))
    assert len(rows) - 1 == page_total
    last = _exports(database)[0]
    assert last["filters"] == {"status": "new"} and last["columns"] == ["status", "priority"]


def test_bad_requests_are_4xx_and_not_audited(client, database):
    for url in (
        "/export/findings?format=pdf",
        "/export/findings?columns=priority,password_hash",
        "/export/findings?status=bogus",
        "/export/incidents?state=bogus",
        "/export/alerts?severity=bogus",
        "/export/warnings?level=bogus",
    ):
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)
    assert _exports(database) == []
