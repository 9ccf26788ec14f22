"""Reports (issue 12 item 8): the grading report, the assessment summary and the rectification plan as
DOCX / PDF / XLSX, zh and en; over the API (roles, 404, file names) and the CLI (both databases)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import ContentStream
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance import assessment, rectification, reports
from ciimap.compliance.schemas import RectificationIn, ResultIn, RiskIn
from ciimap.core.db import Database
from ciimap.core.errors import CiimapError, Invalid, NotFound

from .amap import build, new_assessment
from .conftest import TODAY

runner = CliRunner()
ITEM = "22239-2019:8.1.4.1.a"  # 安全计算环境 / 身份鉴别 a
INJECTION = '=HYPERLINK("http://x","click")'


def _data(db: Database) -> dict[str, Any]:
    """调度系统 (level 3, two assets as test objects): a 不符合 with a formula in its notes, a 符合, a high
    risk and a rectification owned by 张工; the filed grading of 云平台."""
    ids = build(db)
    aid = new_assessment(db, ids["l3"], include_assets=True)
    with db.unit_of_work() as s:
        a = assessment.describe(s, assessment_id=aid)
        o1, o2 = (o["id"] for o in a["test_objects"])
        failed = assessment.set_result(
            s,
            assessment_id=aid,
            data=ResultIn(
                item=ITEM, object_id=o1, result="fail", method="test", assessor="李四", notes=INJECTION
            ),
        )
        assessment.set_result(s, assessment_id=aid, data=ResultIn(item=ITEM, object_id=o2, result="pass"))
        assessment.add_risk(
            s,
            assessment_id=aid,
            data=RiskIn(level="high", description="口令可被暴力破解", item=ITEM, object_id=o1),
        )
        r = rectification.create(
            s,
            data=RectificationIn(
                result_id=failed["id"],
                title="启用登录失败处理",
                owner_contact_id=ids["contact"],
                plan="配置账户锁定策略",
                due_date=TODAY + dt.timedelta(days=30),
            ),
        )
    return {**ids, "assessment": aid, "rect": r.id}


@pytest.fixture
def rmap(database: Database) -> dict[str, Any]:
    return _data(database)


def _render(db: Database, kind: str, ref: int, fmt: str, lang: str = "zh") -> tuple[bytes, str, str]:
    with db.read_session() as s:
        return reports.render(s, kind=kind, ref_id=ref, fmt=fmt, lang=lang)


def _docx(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    d = Document(io.BytesIO(data))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    return headings, tables


def _pdf(data: bytes) -> tuple[str, set[str]]:
    """The text of a PDF and its embedded fonts. The text is read through each font's ToUnicode map from
    the content streams' show-text operators (pypdf's own extract_text mis-reads fpdf2's maps once a
    font has a few hundred glyphs); whitespace is dropped."""
    reader = PdfReader(io.BytesIO(data))
    text: list[str] = []
    embedded = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        maps: dict[str, dict[int, str]] = {}
        for key, ref in fonts.items():
            font = ref.get_object()
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1").split("endcodespacerange")[1]
            pairs = re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", cmap)
            maps[key] = {int(a, 16): bytes.fromhex(b).decode("utf-16-be") for a, b in pairs}
            for desc in font.get("/DescendantFonts", []):
                fd = desc.get_object()["/FontDescriptor"]
                if any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(font["/BaseFont"]))
        current: dict[int, str] = {}
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                current = maps[operands[0]]
            elif op in (b"Tj", b"TJ"):
                for s in operands[0] if op == b"TJ" else [operands[0]]:
                    if isinstance(s, (bytes, str)):
                        raw = s.original_bytes if hasattr(s, "original_bytes") else bytes(s, "latin-1")
                        text.extend(
                            current.get(int.from_bytes(raw[i : i + 2], "big"), "?")
                            for i in range(0, len(raw) - 1, 2)
                        )
    return re.sub(r"\s+", "", "".join(text)), embedded


def test_grading_report_docx_and_pdf_in_chinese_and_english(database, rmap) -> None:
    data, name, media = _render(database, "grading", rmap["grading"], "docx")
    assert name == "定级报告-云平台-第1轮.docx" and media.endswith("wordprocessingml.document")
    headings, tables = _docx(data)
    assert headings[:3] == ["网络安全等级保护定级报告", "一、定级对象", "二、定级要素与结果"]
    rows = [r for t in tables for r in t]
    assert ["系统名称", "云平台"] in rows
    # the S and A judgements with their levels, and the filing
    assert ["业务信息安全（S）", "社会秩序、公共利益", "严重损害", "第三级"] in rows
    assert ["系统服务安全（A）", "公民、法人和其他组织的合法权益", "严重损害", "第二级"] in rows
    assert ["备案证明编号", "F-1"] in rows and ["受理公安机关", "公安局"] in rows
    workflow = next(t for t in tables if t[0] == ["环节", "日期", "经办人", "备注"])
    assert [r[:2] for r in workflow[-2:]] == [
        ["专家评审", TODAY.isoformat()],
        ["公安机关备案", TODAY.isoformat()],
    ]
    en, name_en, _ = _render(database, "grading", rmap["grading"], "docx", "en")
    headings_en, tables_en = _docx(en)
    assert name_en == "grading-report-云平台-round-1.docx"
    assert headings_en[:2] == ["MLPS grading report", "1. The system"]
    assert [
        "Business information security (S)",
        "social order and public interest",
        "serious harm",
        "level 3",
    ] in [r for t in tables_en for r in t]
    pdf, name, media = _render(database, "grading", rmap["grading"], "pdf")
    assert name.endswith(".pdf") and media == "application/pdf" and pdf.startswith(b"%PDF")
    text, fonts = _pdf(pdf)
    assert "网络安全等级保护定级报告" in text and "云平台" in text and "公安局" in text
    assert fonts and all("CJK" in f for f in fonts)  # a CJK font, embedded (subset)


def test_assessment_summary_docx_pdf_and_item_results_xlsx(database, rmap) -> None:
    data, name, _ = _render(database, "assessment", rmap["assessment"], "docx")
    assert name == "测评报告-调度系统-2026.docx"
    headings, tables = _docx(data)
    assert "五、测评项结果" in headings and "七、测评结论" in headings
    rows = [r for t in tables for r in t]
    assert ["系统名称", "调度系统"] in rows and ["测评周期", "2026"] in rows
    assert ["测评方式", "自行测评"] in rows and ["高风险", "1"] in rows
    items = next(t for t in tables if t[0][0] == "测评项编号")
    assert len(items) == 1 + 211 * 2  # every item × both test objects
    failed = next(r for r in items if r[0] == ITEM and r[5] == "不符合")
    assert (
        failed[1:3] == ["安全计算环境", "身份鉴别"]
        and failed[4] == "db-1"
        and failed[6:8] == ["测试", "李四"]
    )
    assert failed[3]  # the item's summary from the catalog
    categories = next(t for t in tables if t[0] == ["安全类", "控制点数", "测评项数", "综合得分"])
    assert sum(int(r[2]) for r in categories[1:]) == 211
    cps = next(t for t in tables if t[0][:2] == ["安全类", "控制点"])
    with database.read_session() as session:
        expected = next(
            cp
            for cp in assessment.score(session, assessment_id=rmap["assessment"])["control_points"]
            if cp["control_point"] == "身份鉴别" and cp["part"] == "general"
        )
    assert expected["score"] is not None and expected["items_scored"] == 1
    row = next(r for r in cps if r[:2] == ["安全计算环境", "身份鉴别"])
    assert row[2:] == [str(expected["items"]), "1", reports._s(expected["score"])]
    # the conclusion names the profile
    conclusion = Document(io.BytesIO(data)).paragraphs[-1].text
    assert "评分规则" in conclusion and "测评结论为" in conclusion

    pdf, _, _ = _render(database, "assessment", rmap["assessment"], "pdf")
    text, fonts = _pdf(pdf)
    assert "调度系统" in text and "口令可被暴力破解" in text and fonts

    xlsx, name, media = _render(database, "assessment", rmap["assessment"], "xlsx")
    assert name.endswith(".xlsx") and media.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["测评项结果", "风险"]
    ws = wb["测评项结果"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:6] == ["测评项编号", "安全类", "控制点", "要求摘要", "测评对象", "结果"]
    assert len(values) == 1 + 211 * 2
    row = next(r for r in values if r[0] == ITEM and r[5] == "不符合")
    assert row[8] == "'" + INJECTION  # formula injection neutralised: a text, not a formula
    assert all(not (isinstance(v, str) and v.startswith("=")) for r in values for v in r)
    assert [c.value for c in wb["风险"][2]][:2] == ["高风险", ITEM]

    en, name_en, _ = _render(database, "assessment", rmap["assessment"], "xlsx", "en")
    assert name_en == "assessment-report-调度系统-2026.xlsx"
    ws_en = load_workbook(io.BytesIO(en))["Item results"]
    row = next(r for r in ws_en.iter_rows(values_only=True) if r[0] == ITEM and r[5] == "non-compliant")
    assert row[1:5] == (
        "Computing environment",
        "Identification and authentication",
        "Identify every user uniquely and authenticate with complex credentials changed regularly",
        "db-1",
    )
    assert row[6] == "testing"


def test_rectification_plan_in_three_formats(database, rmap) -> None:
    data, name, _ = _render(database, "rectification", rmap["l3"], "docx")
    assert name == "整改计划-调度系统.docx"
    headings, tables = _docx(data)
    assert headings == ["网络安全等级保护整改计划", "一、整改进度", "二、整改项"]
    rows = [r for t in tables for r in t]
    assert ["整改项总数", "1"] in rows and ["进行中", "1"] in rows
    item = next(r for r in rows if r[1] == "启用登录失败处理")
    assert item[2:8] == [ITEM, "db-1", "张工", (TODAY + dt.timedelta(days=30)).isoformat(), "进行中", ""]
    assert item[8] == "配置账户锁定策略"
    pdf, _, _ = _render(database, "rectification", rmap["l3"], "pdf", "en")
    text, fonts = _pdf(pdf)
    assert "MLPSrectificationplan" in text and "启用登录失败处理" in text and fonts
    xlsx, _, _ = _render(database, "rectification", rmap["l3"], "xlsx")
    ws = load_workbook(io.BytesIO(xlsx))["整改项"]
    assert [c.value for c in ws[2]][1:5] == ["启用登录失败处理", ITEM, "db-1", "张工"]


def test_unknown_ids_kinds_formats_and_languages_are_refused(database, rmap) -> None:
    for kind in reports.KINDS:
        with pytest.raises(NotFound):
            _render(database, kind, 999_999, "docx")
    for kind, fmt, lang in [("grading", "xlsx", "zh"), ("audit", "pdf", "zh"), ("assessment", "pdf", "fr")]:
        with pytest.raises(Invalid):
            _render(database, kind, rmap["assessment"], fmt, lang)


def test_a_missing_font_is_one_clear_error(database, rmap, setting, tmp_path) -> None:
    setting("REPORT_FONT", str(tmp_path / "none.ttf"))
    with pytest.raises(Invalid, match="CIIMAP_REPORT_FONT is not a font file"):
        _render(database, "grading", rmap["grading"], "pdf")


def test_api_streams_the_file_with_roles_404_and_a_chinese_file_name(
    client, database, auditor_headers, analyst_headers, rmap
) -> None:
    url = f"/api/compliance/reports/assessment/{rmap['assessment']}"
    assert client.get(url, params={"format": "xlsx"}).status_code == 401
    res = client.get(url, params={"format": "xlsx"}, headers=auditor_headers)  # a reader
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    disposition = res.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote('测评报告-调度系统-2026.xlsx')}" in disposition
    assert f'filename="assessment-{rmap["assessment"]}.xlsx"' in disposition
    assert load_workbook(io.BytesIO(res.content)).sheetnames == ["测评项结果", "风险"]
    res = client.get(
        f"/api/compliance/reports/grading/{rmap['grading']}",
        params={"format": "docx", "lang": "en"},
        headers=analyst_headers,
    )
    assert res.status_code == 200 and _docx(res.content)[0][0] == "MLPS grading report"
    pdf = client.get(
        f"/api/compliance/reports/rectification/{rmap['l3']}?format=pdf", headers=auditor_headers
    )
    assert pdf.headers["content-type"] == "application/pdf" and "启用登录失败处理" in _pdf(pdf.content)[0]
    for bad, status in [
        (f"/api/compliance/reports/grading/{rmap['grading']}?format=xlsx", 422),
        ("/api/compliance/reports/rectification/999999?format=pdf", 404),
        ("/api/compliance/reports/assessment/999999?format=docx", 404),
        ("/api/compliance/reports/nothing/1?format=pdf", 422),
        (f"{url}?format=odt", 422),
        (f"{url}?format=pdf&lang=fr", 422),
        (url, 422),
    ]:
        assert client.get(bad, headers=auditor_headers).status_code == status, bad


def _cli(database: Database, *args: str) -> tuple[int, str]:
    res = runner.invoke(cli_app, ["--database", database.url, *args])
    if isinstance(res.exception, CiimapError):
        return res.exception.exit_code, res.stdout
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.stdout


def test_cli_writes_each_report_and_refuses_bad_input(database, rmap, tmp_path) -> None:
    out = tmp_path / "g.docx"
    rc, text = _cli(database, "report", "grading", str(rmap["grading"]), "--format", "docx", "-o", str(out))
    assert rc == 0, text
    assert _docx(out.read_bytes())[0][0] == "网络安全等级保护定级报告"
    out = tmp_path / "a.xlsx"
    rc, _ = _cli(
        database,
        "report",
        "assessment",
        str(rmap["assessment"]),
        "--format",
        "xlsx",
        "-o",
        str(out),
        "--lang",
        "en",
    )
    assert rc == 0 and load_workbook(out).sheetnames == ["Item results", "Risks"]
    out = tmp_path / "r.docx"
    rc, _ = _cli(database, "report", "rectification", str(rmap["l3"]), "--format", "docx", "-o", str(out))
    assert rc == 0 and out.stat().st_size > 0
    assert (
        _cli(database, "report", "grading", "999999", "--format", "pdf", "-o", str(tmp_path / "x.pdf"))[0]
        == 3
    )
    assert (
        _cli(
            database, "report", "grading", str(rmap["grading"]), "--format", "xlsx", "-o", str(tmp_path / "x")
        )[0]
        == 1
    )
    assert _cli(database, "report", "assessment", str(rmap["assessment"]), "-o", str(tmp_path / "x"))[0] == 2
    missing_dir = tmp_path / "no" / "such" / "dir.docx"
    assert (
        _cli(
            database, "report", "rectification", str(rmap["l3"]), "--format", "docx", "-o", str(missing_dir)
        )[0]
        == 1
    )
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x").exists()
