"""XLSX export (read back with openpyxl), REST permissions and errors, and the CLI (both databases)."""

from __future__ import annotations

import datetime as dt
import io
import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core.errors import Invalid, NotFound
from ciimap.supply import export, plans, service

EVIL = '=HYPERLINK("http://evil.example/x","点击")'
runner = CliRunner()


def _seed(db, ids):
    with db.unit_of_work() as s:
        service.set_profile(
            s, vendor_id=ids["v_evil"], changes={"notes": "+cmd|' /C calc'!A0", "certifications": ["@SUM(1)"]}
        )
        service.set_profile(
            s, vendor_id=ids["v_cs"], changes={"remote_access": "permanent", "contract_end": "2024-07-19"}
        )
        plans.create_plan(
            s,
            data={
                "system_id": ids["cii"],
                "current_product_id": ids["p_win"],
                "candidate_product_id": ids["p_kylin"],
                "notes": "-2+3",
                "milestones": [{"name": "兼容性测试", "due": "2030-01-01"}],
            },
        )


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_export_zh_neutralises_formulas(database, supply_map):
    ids = supply_map
    _seed(database, ids)
    with database.read_session() as s:
        wb = _book(export.workbook(s))
    assert wb.sheetnames == [
        "供应商档案",
        "国外产品清单",
        "分层国产化率",
        "全局汇总",
        "替代计划",
        "替代进度",
        "风险发现",
    ]
    vendors = wb["供应商档案"]
    header = [c.value for c in vendors[1]]
    assert header[:4] == ["厂商ID", "厂商", "国家/地区", "国产"] and "保密协议" in header
    assert vendors.freeze_panes == "A2" and vendors.auto_filter.ref.startswith("A1:")
    assert vendors.column_dimensions["B"].width >= 8
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in vendors.iter_rows(min_row=2, values_only=True)}
    evil = rows["'" + EVIL]  # neutralised: text, not a formula
    assert evil["备注"] == "'+cmd|' /C calc'!A0" and evil["资质认证"] == "'@SUM(1)"
    assert rows["CrowdStrike"]["远程运维"] == "常驻" and rows["CrowdStrike"]["合同结束"] == dt.datetime(
        2024, 7, 19
    )
    assert rows["麒麟软件"]["国产"] == "是"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                assert not (isinstance(c.value, str) and c.value[:1] in "=+-@"), (ws.title, c.value)
    fp = [r for r in wb["国外产品清单"].iter_rows(min_row=2, values_only=True)]
    assert ("调度系统", "操作系统", "Windows Server", "Microsoft", 2) in [
        (r[1], r[3], r[4], r[5], r[7]) for r in fp
    ]
    assert any(r[4] == "EvilApp" and r[5] == "'" + EVIL and r[8] == "依赖关系" for r in fp)
    plan = [
        dict(zip([c.value for c in wb["替代计划"][1]], r, strict=True))
        for r in wb["替代计划"].iter_rows(min_row=2, values_only=True)
    ]
    assert (
        plan[0]["状态"] == "计划中"
        and plan[0]["替代产品"] == "银河麒麟服务器操作系统"
        and plan[0]["备注"] == "'-2+3"
    )
    progress = list(wb["替代进度"].iter_rows(min_row=2, values_only=True))
    assert progress[-1][0] == "合计 total" and progress[-1][2] == 1
    codes = {r[4] for r in wb["风险发现"].iter_rows(min_row=2, values_only=True)}
    assert {"permanent_remote_cii", "foreign_privileged_update_cii", "contract_expired"} <= codes


def test_export_en(database, supply_map):
    _seed(database, supply_map)
    with database.read_session() as s:
        wb = _book(export.workbook(s, lang="en"))
        try:
            export.workbook(s, lang="fr")
            raise AssertionError("unknown language accepted")
        except Invalid as e:
            assert "fr" in str(e)
    assert wb.sheetnames[0] == "Vendor profiles"
    assert [c.value for c in wb["Foreign products"][1]][:4] == ["System ID", "System", "CII", "Layer"]
    layers = {r[3] for r in wb["By system and layer"].iter_rows(min_row=2, values_only=True)}
    assert {"os", "security", "database"} <= layers


def test_api_reads_writes_and_permissions(
    client, supply_map, admin_headers, analyst_headers, auditor_headers
):
    ids = supply_map
    url = f"/api/supply/vendors/{ids['v_cs']}/profile"
    r = client.put(url, json={"remote_access": "permanent", "nda_signed": False}, headers=auditor_headers)
    assert r.status_code == 403
    assert client.get("/api/supply/foreign").status_code == 401
    r = client.put(url, json={"remote_access": "permanent"}, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["remote_access"] == "permanent"
    r = client.put(url, json={"remote_access": "sometimes"}, headers=analyst_headers)
    assert r.status_code == 422 and "remote_access" in r.json()["error"]
    assert client.get("/api/supply/vendors/99999/profile", headers=auditor_headers).status_code == 404
    assert (
        client.put("/api/supply/vendors/99999/profile", json={}, headers=analyst_headers).status_code == 404
    )
    vendors = client.get("/api/supply/vendors", params={"used_only": True}, headers=auditor_headers).json()
    assert {v["name"] for v in vendors} >= {"CrowdStrike", "Microsoft"}
    inv = client.get(
        "/api/supply/foreign", params={"system_id": ids["cii"], "layer": "os"}, headers=auditor_headers
    ).json()
    assert [(r["layer"], r["foreign_assets"]) for r in inv["rows"]] == [("os", 2)]
    assert (
        client.get("/api/supply/foreign", params={"system_id": 99999}, headers=auditor_headers).status_code
        == 404
    )
    assert (
        client.get("/api/supply/findings", params={"vendor_id": 99999}, headers=auditor_headers).status_code
        == 404
    )
    plan = {
        "system_id": ids["cii"],
        "current_product_id": ids["p_win"],
        "candidate_product_id": ids["p_kylin"],
    }
    assert client.post("/api/supply/plans", json=plan, headers=auditor_headers).status_code == 403
    bad = client.post(
        "/api/supply/plans", json={**plan, "candidate_product_id": ids["p_ora"]}, headers=analyst_headers
    )
    assert bad.status_code == 422 and "not domestic" in bad.json()["error"]
    r = client.post("/api/supply/plans", json=plan, headers=analyst_headers)
    assert r.status_code == 201 and r.json()["candidate"] == "银河麒麟服务器操作系统"
    pid = r.json()["id"]
    assert (
        client.patch(
            f"/api/supply/plans/{pid}", json={"status": "in_progress"}, headers=auditor_headers
        ).status_code
        == 403
    )
    r = client.patch(f"/api/supply/plans/{pid}", json={"status": "done"}, headers=analyst_headers)
    assert r.status_code == 422 and "cannot go from" in r.json()["error"]
    r = client.patch(f"/api/supply/plans/{pid}", json={"status": "in_progress"}, headers=analyst_headers)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    prog = client.get("/api/supply/plans/progress", headers=auditor_headers).json()
    assert prog["total"]["items"] == 1 and prog["total"]["active"] == 1
    finds = client.get("/api/supply/findings", headers=auditor_headers).json()
    assert ("CrowdStrike", "permanent_remote_cii") in {(f["vendor"], f["code"]) for f in finds}
    r = client.get("/api/supply/export.xlsx", params={"lang": "en"}, headers=auditor_headers)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert _book(r.content).sheetnames[0] == "Vendor profiles"
    assert client.delete(f"/api/supply/plans/{pid}", headers=auditor_headers).status_code == 403
    assert client.delete(f"/api/supply/plans/{pid}", headers=analyst_headers).status_code == 204
    assert client.get(f"/api/supply/plans/{pid}", headers=auditor_headers).status_code == 404


def _ok(args: list[str]) -> str:
    r = runner.invoke(cli_app, args)
    assert r.exit_code == 0, (r.output, r.exception)
    return r.output


def test_cli(database, supply_map, tmp_path):
    ids = supply_map
    out = json.loads(
        _ok(
            [
                "supply",
                "profile",
                "微软",
                "--set",
                "remote_access=on_demand",
                "--set",
                'certifications=["ISO 27001", "信息安全服务资质"]',
                "--set",
                "contract_end=2030-12-31",
                "--set",
                "contract_number=2024001",
            ]
        )
    )
    assert out["vendor"] == "Microsoft" and out["contract_end"] == "2030-12-31"
    assert out["contract_number"] == "2024001"  # digits typed on the CLI stay text
    assert [c["name"] for c in out["certifications"]] == ["ISO 27001", "信息安全服务资质"]
    vendors = json.loads(_ok(["supply", "vendors", "--json", "--foreign", "--used"]))
    assert next(v for v in vendors if v["name"] == "Microsoft")["profile"]["remote_access"] == "on_demand"
    assert "Vendors: 6" in _ok(["supply", "vendors"])
    inv = json.loads(_ok(["supply", "foreign", "--system", str(ids["cii"]), "--layer", "security", "--json"]))
    assert inv["rows"][0]["foreign"][0]["product"] == "Falcon Sensor"
    assert "全局汇总" in _ok(["supply", "foreign"])
    plan = json.loads(
        _ok(
            [
                "supply",
                "plans",
                "add",
                "--set",
                f"system_id={ids['cii']}",
                "--set",
                f"current_software_id={ids['sw_a1_falcon']}",
                "--set",
                "due_date=2020-01-01",
            ]
        )
    )
    assert plan["layer"] == "security" and plan["overdue"] is True
    upd = json.loads(_ok(["supply", "plans", "update", str(plan["id"]), "--set", "status=in_progress"]))
    assert "no candidate replacement chosen" in upd["warnings"]
    listed = json.loads(_ok(["supply", "plans", "list", "--overdue", "--json"]))
    assert [p["id"] for p in listed] == [plan["id"]]
    assert json.loads(_ok(["supply", "plans", "progress", "--json"]))["total"]["overdue"] == 1
    codes = {f["code"] for f in json.loads(_ok(["supply", "findings", "--json"]))}
    assert "nda_missing" in codes  # Microsoft now has remote access without an NDA
    target = tmp_path / "供应链.xlsx"
    _ok(["supply", "export", str(target), "--lang", "en"])
    assert load_workbook(target).sheetnames[-1] == "Findings"
    r = runner.invoke(cli_app, ["supply", "profile", "Nobody"])
    assert r.exit_code != 0 and isinstance(r.exception, NotFound)
    r = runner.invoke(cli_app, ["supply", "plans", "update", str(plan["id"]), "--set", "status=finished"])
    assert isinstance(r.exception, Invalid) and "status" in str(r.exception)
    r = runner.invoke(cli_app, ["supply", "export", str(tmp_path / "x.csv")])
    assert isinstance(r.exception, Invalid)
