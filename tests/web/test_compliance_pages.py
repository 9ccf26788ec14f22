"""The compliance pages (issue 12 item 9) on both databases: the overview, a page per system and the
assessment workspace in Chinese and English, the overview's API and CLI, the dashboard cards and the
topology overlay. Raw vocabulary values never reach the page: every value is a label."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core.db import Database
from conftest import make_user
from web.compliance_seed import ITEM, PROPOSED_ITEM, build
from web.test_pages import login

runner = CliRunner()


@pytest.fixture
def cmap(database: Database) -> dict[str, Any]:
    for name in ("analyst", "auditor"):
        make_user(database, name, name)
    return build(database)


def _english(client: Any, csrf: str) -> None:
    r = client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204


def _text(html: str) -> str:
    """The page's visible text (tags removed), to look for raw enum values."""
    return re.sub(r"<[^>]+>", " ", html)


def test_overview_page_in_both_languages(client: Any, cmap: dict[str, Any]) -> None:
    csrf = login(client, "auditor")
    page = client.get("/compliance")
    assert page.status_code == 200
    html = page.text
    assert 'data-nav="compliance"' in html and "等级保护合规总览" in html
    row = re.search(rf'<tr data-system="{cmap["scada"]}">(.*?)</tr>', html, re.S).group(1)
    assert "调度系统" in row and "第3级" in row and "公安机关备案" in row and "11010000001-00001" in row
    assert 'data-conclusion="excellent"' in row  # the 2025 round: one 不符合 among 422 results
    assert re.search(r"100\.00 → 99\.\d\d", row)  # the trend of the two closed rounds
    assert f'href="/compliance/assessments/{cmap["open"]}"' in row  # the open round links its workspace
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', row) == ["1", "1"]  # open and overdue
    office = re.search(rf'<tr data-system="{cmap["office"]}">(.*?)</tr>', html, re.S).group(1)
    assert "未定级" in office and "未测评" in office
    cards = {k: v for k, v in re.findall(r'data-card="(cmp-[a-z-]+)">.*?card-value">(\d+)<', html, re.S)}
    assert cards == {
        "cmp-systems": "2",
        "cmp-filing-overdue": "0",
        "cmp-assessed": "1",
        "cmp-rect-open": "1",
        "cmp-rect-overdue": "1",
    }
    for raw in ("filed", "excellent", "none", "draft"):
        assert not re.search(rf"\b{raw}\b", _text(html)), raw
    _english(client, csrf)
    html = client.get("/compliance").text
    assert "MLPS compliance overview" in html and "Level 3" in html and "Filed with the police" in html
    assert "Excellent (优)" in html and "Not graded" in html and "Overdue rectifications" in html
    assert "等级保护合规总览" not in html


def test_overview_api_and_cli_give_the_page_data(
    client: Any, database: Database, cmap: dict[str, Any]
) -> None:
    assert client.get("/api/compliance/overview").status_code == 401
    headers = make_user(database, "reader2", "auditor")
    body = client.get("/api/compliance/overview", headers=headers).json()
    scada = next(s for s in body["systems"] if s["id"] == cmap["scada"])
    assert scada["level"] == 3 and scada["grading"]["state"] == "filed"
    assert [t["cycle"] for t in scada["trend"]] == ["2024", "2025"]
    assert scada["trend"][0]["score"] == 100 and scada["trend"][1]["score"] < 100
    assert scada["latest"]["assessment_id"] == cmap["closed"][1]
    assert scada["open_assessment"]["assessment_id"] == cmap["open"]
    assert scada["rectifications"] == {"open": 1, "overdue": 1}
    assert body["by_level"] == {"3": 1, "none": 1}
    assert body["by_filing"] == {"filed": 1, "none": 1}
    assert body["by_conclusion"] == {"优": 1, "良": 0, "中": 0, "差": 0, "none": 1}
    out = runner.invoke(cli_app, ["compliance", "overview", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == body  # the same service behind both
    table = runner.invoke(cli_app, ["compliance", "overview"])
    assert table.exit_code == 0 and "rectifications open 1 (overdue 1)" in table.output


def test_system_page_in_both_languages(client: Any, cmap: dict[str, Any]) -> None:
    csrf = login(client, "auditor")
    page = client.get(f"/compliance/systems/{cmap['scada']}")
    assert page.status_code == 200
    html = page.text
    grading = re.search(r'<tr data-grading="\d+" data-state="filed">(.*?)</tr>', html, re.S).group(1)
    assert "公安机关备案" in grading and "北京市公安局网安总队" in grading and "S3A2" in grading
    rows = re.findall(r'<tr data-assessment="(\d+)">(.*?)</tr>', html, re.S)
    assert sorted(int(a) for a, _ in rows) == sorted([*cmap["closed"], cmap["open"]])
    closed_row = dict(rows)[str(cmap["closed"][0])]
    assert "已完成" in closed_row and "100.00" in closed_row and 'data-conclusion="excellent"' in closed_row
    assert "进行中" in dict(rows)[str(cmap["open"])]
    # evidence proposals from the map, with their records, and the rectification with its overdue mark
    assert re.search(r'<tr data-rule="[a-z_]+">', html) and "来自地图的证据" in html
    rect = re.search(rf'<tr data-rectification="{cmap["rectification"]}"[^>]*>(.*?)</tr>', html, re.S).group(
        1
    )
    assert "关闭互联网区的远程管理端口" in rect and "data-overdue" in rect and "待整改" in rect
    _english(client, csrf)
    html = client.get(f"/compliance/systems/{cmap['scada']}").text
    assert "Grading history" in html and "Evidence from the map" in html and "Filed with the police" in html
    assert ">Open<" in html and "Closed" in html
    missing = client.get("/compliance/systems/999999")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


def test_workspace_page_editable_read_only_and_english(client: Any, cmap: dict[str, Any]) -> None:
    login(client, "analyst")
    html = client.get(f"/compliance/assessments/{cmap['open']}").text
    rows = re.findall(r'<tr data-item="([^"]+)" data-item-id="([^"]+)"', html)
    # every item of the selection (level 3, S3A2: 206 of the 211 level-3 items), the API's count
    assert len(rows) == client.get(f"/api/compliance/assessments/{cmap['open']}").json()["items"] == 206
    assert 'data-editable="true"' in html and 'id="ws-bulk"' in html
    assert len(re.findall(r'<th class="ws-obj" data-object="\d+"', html)) == 3  # two assets, one document
    row = re.search(
        rf'<tr data-item="[^"]+" data-item-id="{re.escape(ITEM)}"[^>]*>(.*?)</tr>', html, re.S
    ).group(1)
    first = cmap["objects"][0]
    cell = re.search(rf'<td class="ws-cell res-partial"[^>]*data-object="{first}"[^>]*>([^<]*)</td>', row)
    assert cell and cell.group(1) == "部分符合" and 'data-notes="端口22仅限堡垒机"' in row
    data = json.loads(
        re.search(r'<script type="application/json" id="ws-data">(.*?)</script>', html, re.S).group(1)
    )
    assert data["assessment_id"] == cmap["open"] and data["editable"] is True
    assert data["keys"] == {"1": "pass", "2": "partial", "3": "fail", "0": "na"}
    key = re.search(rf'<tr data-item="([^"]+)" data-item-id="{re.escape(ITEM)}"', html).group(1)
    assert data["items"][key]["id"] == ITEM and data["items"][key]["summary"]
    proposed = {it["id"]: it["proposal"] for it in data["items"].values() if it["proposal"]}
    assert PROPOSED_ITEM in proposed and 0 < len(proposed) < 20  # beside the items the map speaks to
    assert proposed[PROPOSED_ITEM]["result"] == "fail" and "telnet" in proposed[PROPOSED_ITEM]["text"]
    assert any("db-1" in r for r in proposed[PROPOSED_ITEM]["records"])
    assert re.search(rf'data-item-id="{re.escape(PROPOSED_ITEM)}"[^>]*data-proposal="fail"', html)
    assert '<script src="/static/js/compliance.js"' in html and "onclick" not in html and "style=" not in html
    # an auditor reads, and a closed round is read-only for everyone
    client.post("/logout")
    csrf = login(client, "auditor")
    html = client.get(f"/compliance/assessments/{cmap['open']}").text
    assert 'data-editable="false"' in html and 'id="ws-bulk"' not in html and "只读" in html
    _english(client, csrf)
    closed = client.get(f"/compliance/assessments/{cmap['closed'][1]}").text
    assert 'data-editable="false"' in closed and "Assessment workspace" in closed
    assert ">Compliant<" in closed and ">Non-compliant<" in closed and "Closed" in closed
    assert client.get("/compliance/assessments/999999").status_code == 404


def test_dashboard_cards_and_topology_overlay(client: Any, cmap: dict[str, Any]) -> None:
    login(client, "auditor")
    html = client.get("/").text
    card = re.search(r'data-card="compliance">(.*?)</a>', html, re.S).group(1)
    assert 'card-value">1<' in card and "优 1" in card and "差 0" in card
    late = re.search(r'data-card="rect_overdue">(.*?)</a>', html, re.S).group(1)
    assert 'card-value">1 / 1<' in late and "涉及系统 1" in late
    graph = client.get("/api/ui/topology").json()
    nodes = {n["ref"]: n for n in graph["nodes"] if n["type"] == "system"}
    assert nodes[cmap["scada"]]["cmp"] == "excellent" and nodes[cmap["scada"]]["rect_overdue"] == 1
    assert "cmp" not in nodes[cmap["office"]] and "rect_overdue" not in nodes[cmap["office"]]
    topo = client.get("/topology").text
    assert 'data-overlay="cmp"' in topo and "等保结论" in topo
