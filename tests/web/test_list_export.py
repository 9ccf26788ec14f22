"""List exports on both databases: the page's CSV/XLSX (same filters and search, chosen columns,
labels and values in the user's language), the API's and the CLI's; formula injection neutralised;
every export audited; bad requests are 4xx."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from ciimap.core import audit
from ciimap.inventory import models as m
from conftest import make_user
from web.seed import seed
from web.test_pages import login

EVIL = '=HYPERLINK("http://x","y")'


@pytest.fixture
def seeded(database):
    seed(database, assets=40, systems=6)
    for name, role in (("admin", "admin"), ("auditor", "auditor")):
        make_user(database, name, role)
    with database.unit_of_work() as s:
        first = s.scalars(select(m.Asset).order_by(m.Asset.id)).first()
        s.execute(update(m.Asset).where(m.Asset.id == first.id).values(name=EVIL, hostname="plc-evil-01"))
    return database


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "CSV starts with a BOM so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def _exports(database) -> list[dict]:
    with database.read_session() as s:
        items = audit.query_log(s, entity_type="asset", entity_id=None, actor=None, limit=50, offset=0)[
            "items"
        ]
        return [i.after for i in items if i.action == "export"]


def test_page_csv_follows_filters_search_and_columns_in_chinese(client, seeded):
    login(client, "auditor")  # read-only roles export too
    page = client.get("/entities/assets?kind=server")
    total = int(page.text.split('data-total="')[1].split('"')[0])
    assert total > 0
    r = client.get("/entities/assets/export?format=csv&kind=server&columns=id,name,kind,site_id,declared")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="assets.csv"' in r.headers["content-disposition"]
    rows = _rows(r.text)
    assert rows[0] == ["ID", "名称", "类型", "站点", "已登记"]
    assert len(rows) - 1 == total
    assert {row[2] for row in rows[1:]} == {"服务器"}  # the vocabulary in the user's language
    assert all(row[3] and not row[3].isdigit() for row in rows[1:])  # the site's name, not its id
    assert {row[4] for row in rows[1:]} <= {"是", "否"}
    # the search: substring from three characters, like the page
    r = client.get("/entities/assets/export?format=csv&q=evil&columns=name,hostname")
    rows = _rows(r.text)
    assert rows[1:] == [["'" + EVIL, "plc-evil-01"]]  # a formula is text
    after = _exports(seeded)
    assert after[0]["q"] == "evil" and after[0]["rows"] == 1 and after[0]["format"] == "csv"
    assert after[1]["filters"] == {"kind": "server"} and after[1]["rows"] == total
    assert (
        after[1]["columns"] == ["id", "name", "kind", "site_id", "declared"]
        and after[1]["interface"] == "web"
    )


def test_page_xlsx_has_typed_cells_and_neutralised_text(client, seeded):
    login(client, "admin")
    r = client.get("/entities/assets/export?format=xlsx&columns=id,name,declared,last_seen")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    ws = wb.worksheets[0]
    assert ws.title == "资产"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("ID", "名称", "已登记", "最近发现")
    assert len(rows) == 41
    assert rows[1][1] == "'" + EVIL and isinstance(rows[1][0], int)
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)


def test_english_user_gets_english_headers(client, seeded):
    login(client, "admin")
    client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": login(client, "admin")})
    r = client.get("/entities/assets/export?format=csv&columns=name,kind&kind=server")
    rows = _rows(r.text)
    assert rows[0][1] in ("Kind", "Type") and rows[1][1] == "server"


def test_bad_requests_are_refused_with_a_message(client, seeded):
    login(client, "admin")
    for url in (
        "/entities/assets/export?format=pdf",
        "/entities/assets/export?columns=name,password_hash",
        "/entities/assets/export?site_id=abc",
        "/entities/nothing/export",
    ):
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)
    assert _exports(seeded) == []


def test_api_and_cli_export_the_same_rows(client, seeded, tmp_path):
    from typer.testing import CliRunner

    from ciimap.cli import app

    headers = make_user(seeded, "robot", "analyst")
    r = client.get("/api/assets/export?format=csv&kind=server&columns=id,name,kind", headers=headers)
    assert r.status_code == 200
    api_rows = _rows(r.text)
    assert api_rows[0] == ["id", "name", "kind"] and {row[2] for row in api_rows[1:]} == {"server"}
    assert client.get("/api/assets/export?format=doc", headers=headers).status_code == 422
    out = tmp_path / "assets.csv"
    res = CliRunner().invoke(
        app,
        ["assets", "export", "-o", str(out), "-f", "kind=server", "--columns", "id,name,kind", "--json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rows"] == len(api_rows) - 1
    assert _rows(out.read_text(encoding="utf-8")) == api_rows
    res = CliRunner().invoke(app, ["assets", "export", "-o", str(tmp_path / "a.xlsx"), "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    assert len(list(load_workbook(tmp_path / "a.xlsx", read_only=True).worksheets[0].iter_rows())) == 41
    assert [a["interface"] for a in _exports(seeded)] == ["cli", "cli", "api"]


def test_list_page_offers_export_links_and_every_column(client, seeded):
    login(client, "admin")
    html = client.get("/entities/assets?kind=server&q=abc").text
    assert 'data-export="csv"' in html and 'data-export="xlsx"' in html
    assert "kind=server" in html.split('data-export="csv" href="')[1].split('"')[0]
    assert 'data-list="entities-assets"' in html
    assert 'data-col="serial" data-default="0" class="col-off"' in html  # offered, hidden by default
