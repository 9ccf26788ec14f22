"""The what-if brief (XLSX, DOCX, PDF) from the service, the API route and the CLI tell the API's totals."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from ciimap.graph import whatif_report
from ciimap.graph.impact import impact_many
from ciimap.graph.schemas import Selector
from compliance.test_reports import _pdf

from .mapkit import crowdstrike_map
from .test_api_cli import _cli

CS = [Selector(kind="vendor", ref="CrowdStrike")]


def _counts(database) -> dict[str, dict[str, int]]:
    with database.read_session() as s:
        return impact_many(s, selectors=CS).counts


def test_xlsx_summary_equals_api_totals_and_lists_paths(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    counts = _counts(database)
    with database.read_session() as s:
        data, name, media = whatif_report.export(s, selectors=CS, fmt="xlsx")
    assert name == "假设失效影响分析-vendor_CrowdStrike.xlsx" and media.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(data))
    summary = list(wb["汇总"].iter_rows(values_only=True))
    assert summary[0] == ("类型", "失效", "降级")
    got = {r[0]: (int(r[1]), int(r[2])) for r in summary[1:]}
    for zh, key in (("业务", "business_service"), ("系统", "system"), ("资产", "asset")):
        assert got[zh] == (counts["failed"].get(key, 0), counts["degraded"].get(key, 0))
    items = list(wb["受影响对象"].iter_rows(values_only=True))
    assert items[0][0] == "状态" and items[0][-1] == "依赖链"
    assert any(r[0] == "失效" and r[1] == "业务" and "CrowdStrike" in (r[-1] or "") for r in items[1:])


def test_docx_and_pdf_in_chinese_and_english(database):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    with database.read_session() as s:
        docx, _n, _m = whatif_report.export(s, selectors=CS, fmt="docx")
        pdf, name, media = whatif_report.export(s, selectors=CS, fmt="pdf")
        en, _n, _m = whatif_report.export(s, selectors=CS, fmt="docx", lang="en")
    d = Document(io.BytesIO(docx))
    texts = [p.text for p in d.paragraphs]
    assert "假设失效影响分析报告" in texts and "影响汇总" in texts
    assert d.tables and any("依赖链" in c.text for c in d.tables[-1].rows[0].cells)
    assert pdf.startswith(b"%PDF") and media == "application/pdf" and name.endswith(".pdf")
    text, _fonts = _pdf(pdf)
    assert "假设失效影响分析报告" in text and "影响汇总" in text
    assert "What-if impact report" in [p.text for p in Document(io.BytesIO(en)).paragraphs]


def test_api_route_and_cli_export(client, database, auditor_headers, tmp_path, monkeypatch):
    with database.unit_of_work() as s:
        crowdstrike_map(s)
    url = "/api/graph/impact/export"
    r = client.get(url, params={"fail": "vendor:CrowdStrike", "fmt": "docx"}, headers=auditor_headers)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "假设失效影响分析报告" in [p.text for p in Document(io.BytesIO(r.content)).paragraphs]
    assert client.get(url, params={"fail": "vendor:CrowdStrike"}).status_code == 401
    bad = [{"fail": "moon:1"}, {"fail": "vendor:CrowdStrike", "fmt": "csv"}, {"fail": "vendor:Nobody"},
           {"fail": "vendor:CrowdStrike", "lang": "fr"}]  # fmt: skip
    assert [client.get(url, params=p, headers=auditor_headers).status_code for p in bad] == [
        422,
        422,
        404,
        422,
    ]
    out = tmp_path / "brief.xlsx"
    res = CliRunner().invoke(_cli(), ["impact", "vendor", "CrowdStrike", "--export", str(out)])
    assert res.exit_code == 0, res.output
    assert load_workbook(out)["汇总"].cell(1, 1).value == "类型"
    res = CliRunner().invoke(_cli(), ["impact", "vendor", "CrowdStrike", "--json"])  # still works
    assert res.exit_code == 0 and '"assets_total"' in res.output
