"""Data classification and grading (GB/T 43697-2024) on both databases: grading by impact object × degree
(highest wins), the ``data grade`` command's exact output and refusals, the catalogue importer (GBK CSV and
XLSX, all-or-nothing, one-line errors naming file and row), grading rounds with history and audit, the
registers and their exports (formula injection neutralised), the map's marks, the what-if's data at
risk, the MLPS S suggestion, and the API's roles."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.compliance import service as mlps
from ciimap.compliance.schemas import GradingIn as MlpsGradingIn
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError, Invalid
from ciimap.core.importer import Reading
from ciimap.datagov import registers, service
from ciimap.datagov.models import DataFlow, DataGrading, DataHolding, DataResource
from ciimap.datagov.rules import load_rules
from ciimap.datagov.schemas import GradingIn, HoldingIn, Impact, ResourceIn
from ciimap.datagov.sources.catalogue import DataCatalogue
from ciimap.graph.impact import impact
from ciimap.ingest.models import ImportRun
from ciimap.ingest.service import import_files
from ciimap.inventory.models import Asset, Edge, System

DATA = Path(__file__).resolve().parents[1] / "data" / "datagov"
SAMPLE = DATA / "catalogue-gbk.csv"


def _imp(*pairs: str) -> list[Impact]:
    return [service.parse_impact(p) for p in pairs]


# --- grading (pure) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "level"),
    [
        (("national:general",), "重要数据"),
        (("national:serious",), "核心数据"),
        (("economy:especially_serious",), "核心数据"),
        (("public_interest:serious",), "重要数据"),
        (("social_order:general",), "一般数据"),
        (("individual:especially_serious",), "一般数据"),
        (("organisation:serious", "economy:serious", "individual:general"), "重要数据"),
        (("individual:especially_serious", "national:serious", "economy:serious"), "核心数据"),
    ],
)
def test_grade_takes_the_highest_level(pairs: tuple[str, ...], level: str) -> None:
    res = service.grade(_imp(*pairs))
    assert res.level == level
    # the deciding impact is one that gives that level, and the rationale says so in words
    assert service.grade([res.deciding]).level == level
    assert level in res.rationale_zh and "就高从严" in res.rationale_zh
    assert res.rules == "GB/T 43697-2024@2024-10-01"


def test_replaced_rules_file_is_used_and_bad_files_are_named(tmp_path: Path, monkeypatch: Any) -> None:
    text = (Path(service.__file__).parent / "rules.yaml").read_text(encoding="utf-8")
    own = tmp_path / "rules.yaml"
    own.write_text(
        text.replace('version: "2024-10-01"', "version: local-1").replace(
            "organisation: {especially_serious: general", "organisation: {especially_serious: important"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("CIIMAP_DATA_RULES", str(own))
    from ciimap.config import get_settings

    get_settings.cache_clear()
    try:
        res = service.grade(_imp("organisation:especially_serious"))
        assert (res.level, res.rules) == ("重要数据", "GB/T 43697-2024@local-1")
        own.write_text(
            text.replace(
                "  individual: {especially_serious: general, serious: general, general: general}\n", ""
            ),
            encoding="utf-8",
        )
        with pytest.raises(InputFileError, match=r"rules.yaml: .*object 'individual' is missing"):
            service.grade(_imp("national:general"))
        own.write_text("levels: [\n", encoding="utf-8")
        with pytest.raises(InputFileError, match=r"rules.yaml:line \d+ column \d+: not YAML"):
            load_rules()
    finally:
        get_settings.cache_clear()


def test_parse_impact_names_the_bad_value() -> None:
    with pytest.raises(Invalid, match="unknown impact object 'moon'"):
        service.parse_impact("moon:serious")
    with pytest.raises(Invalid, match="unknown impact degree 'catastrophic'"):
        service.parse_impact("national:catastrophic")
    with pytest.raises(Invalid, match="expected OBJECT:DEGREE"):
        service.parse_impact("national")


def test_cli_grade_prints_the_level_and_refuses_unknown_values() -> None:
    runner = CliRunner()
    r = runner.invoke(
        cli_app, ["data", "grade", "--impact", "economy:serious", "--impact", "national:serious", "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["level"] == "核心数据" and out["deciding"] == {"object": "national", "degree": "serious"}
    r = runner.invoke(cli_app, ["data", "grade", "--impact", "individual:general", "--json"])
    assert json.loads(r.stdout)["level"] == "一般数据"
    for bad, named in (("moon:serious", "'moon'"), ("national:huge", "'huge'")):
        r = runner.invoke(cli_app, ["data", "grade", "--impact", bad, "--json"])
        assert r.exit_code == 2 and named in r.output and "Traceback" not in r.output, r.output


# --- the importer ---------------------------------------------------------------------------------------


def test_reader_reads_the_gbk_sample() -> None:
    reading = Reading(SAMPLE, lambda _n: None)
    rows = list(DataCatalogue().read(reading, DataCatalogue().options({})))
    assert [r.code for r in rows] == ["D-001", "D-002", "D-003", "D-004"]
    first = rows[0]
    assert (first.name, first.category, first.records, first.people) == (
        "电力用户档案",
        "user.pi.basic",
        12_000_000,
        11_500_000,
    )
    assert rows[1].contains_sensitive_pi and rows[1].records == 3_500_000
    assert rows[2].records == 860_000_000 and rows[2].flows_to == ["国家能源局"] and not rows[2].cross_border
    assert rows[3].cross_border and rows[3].country == "DE"
    assert reading.meta["rows"] == 4 and reading.meta["columns"]["name"] == "数据名称"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("数据名称,含个人信息\n用户档案,也许\n", "row 2: column '含个人信息': '也许' is not 是/否"),
        ("数据名称,涉及人数\n用户档案,很多\n", "row 2: column '涉及人数': '很多' is not a number"),
        (
            "数据名称,数据类别\nA,个人信息\nB,月球数据\n",
            "row 3: column '数据类别': unknown data category '月球数据'",
        ),
        ("数据编号,数据名称\nX1,A\nX1,B\n", "row 3: 数据编号 'X1' appears again (first in row 2)"),
        ("描述,负责人\n说明,张三\n", "row 1: no 数据名称 (name) column"),
        ("数据名称,是否出境\nA,是\n", "row 2: 是否出境 is 是 but 流向 names no recipient"),
        ("数据名称\n", "row 2: the catalogue has a header but no data rows"),
    ],
)
def test_reader_refuses_bad_rows_naming_file_and_row(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "cat.csv"
    f.write_bytes(body.encode("gbk"))
    with pytest.raises(InputFileError) as e:
        list(DataCatalogue().read(Reading(f, lambda _n: None), DataCatalogue().options({})))
    assert str(e.value) == f"{f}:{message}" or str(e.value).startswith(f"{f}:{message}"), str(e.value)
    assert "\n" not in str(e.value)


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _map(db: Database) -> dict[str, int]:
    with db.unit_of_work() as s:
        crm = System(name="营销系统", code="CRM", mlps_level=2, mlps_s_level=2, mlps_a_level=2)
        ems = System(name="调度系统", code="EMS", mlps_level=3, mlps_s_level=3, mlps_a_level=3)
        s.add_all([crm, ems])
        s.flush()
        db_host = Asset(name="crm-db-01", kind="server", system_id=crm.id)
        s.add(db_host)
        s.flush()
        s.add(Edge(src_type="system", src_id=crm.id, dst_type="asset", dst_id=db_host.id, kind="runs_on"))
        return {"crm": crm.id, "ems": ems.id, "host": db_host.id}


def test_import_xlsx_links_the_map_and_is_all_or_nothing(database: Database, tmp_path: Path) -> None:
    ids = _map(database)
    header = [
        "数据编号",
        "数据名称",
        "数据类别",
        "含敏感个人信息",
        "涉及人数",
        "数据责任人",
        "所在系统",
        "所在资产",
        "流向",
        "是否出境",
        "出境国家",
    ]
    good = _xlsx(
        tmp_path / "good.xlsx",
        [
            header,
            [
                "C1",
                "客户档案",
                "个人基本资料",
                "否",
                "1200万",
                "王敏",
                "CRM",
                "crm-db-01",
                "调度系统、新加坡分公司",
                "是",
                "SG",
            ],
        ],
    )
    with database.unit_of_work() as s:
        res = import_files(s, kind="datacat", paths=[good])
    assert (res["created"], res["holdings"], res["flows"], res["contacts_created"]) == (1, 2, 2, 1)
    with database.read_session() as s:
        r = s.scalar(select(DataResource).where(DataResource.code == "C1"))
        assert r is not None and r.people == 12_000_000 and r.owner_id is not None
        held = {(h.holder_type, h.holder_id) for h in s.scalars(select(DataHolding))}
        assert held == {("system", ids["crm"]), ("asset", ids["host"])}
        flows = {
            (f.dst_system_id, f.recipient, f.cross_border, f.country) for f in s.scalars(select(DataFlow))
        }
        assert flows == {(ids["ems"], None, False, None), (None, "新加坡分公司", True, "SG")}
    # a second file: row 3 names a system that is not on the map -> nothing of the file is stored
    bad = _xlsx(
        tmp_path / "bad.xlsx",
        [
            header,
            ["C2", "计费数据", None, "否", "10", None, "CRM", None, None, None, None],
            ["C3", "日志", None, "否", "10", None, "ERP", None, None, None, None],
        ],
    )
    with (
        pytest.raises(InputFileError, match=r"bad.xlsx:row 3: system 'ERP' is not on the map"),
        database.unit_of_work() as s,
    ):
        import_files(s, kind="datacat", paths=[bad])
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(DataResource)) == 1
        run = s.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
        assert run is not None and run.status == "failed" and "row 3" in (run.error or "")
    # re-importing the good file updates by 数据编号, adds nothing twice
    with database.unit_of_work() as s:
        again = import_files(s, kind="datacat", paths=[good])
    assert (again["created"], again["updated"], again["holdings"], again["flows"]) == (0, 1, 0, 0)


# --- grading rounds, history, audit ------------------------------------------------------------------------


def _resource(db: Database, **kw: Any) -> int:
    with db.unit_of_work() as s:
        r = service.create_resource(s, data=ResourceIn(name=kw.pop("name", "用户档案"), **kw))
        return r.id


def test_regrading_keeps_history_and_every_change_is_audited(database: Database) -> None:
    rid = _resource(database, code="R1", contains_pi=True, people=20_000_000)
    with database.unit_of_work() as s:
        g1 = service.grade_resource(
            s,
            resource_id=rid,
            data=GradingIn(
                impacts=_imp("individual:serious", "public_interest:serious"),
                factors={"scale": "2000万人", "coverage": "全省居民"},
                graded_on=dt.date(2026, 1, 31),
            ),
        )
        assert (g1.round, g1.level, g1.review_due) == (1, "important", dt.date(2027, 1, 31))
        assert "规模：2000万人" in g1.rationale_zh and "覆盖度：全省居民" in g1.rationale_zh
    with database.unit_of_work() as s:
        g2 = service.grade_resource(
            s, resource_id=rid, data=GradingIn(impacts=_imp("economy:general"), graded_on=dt.date(2026, 3, 1))
        )
        assert (g2.round, g2.level, g2.review_due) == (2, "general", dt.date(2028, 3, 1))
    with database.read_session() as s:
        r = s.get(DataResource, rid)
        assert r is not None and (r.level, r.graded_on) == ("general", dt.date(2026, 3, 1))
        assert [g.round for g in service.list_gradings(s, resource_id=rid)] == [2, 1]
        logged = s.scalars(
            select(AuditLog).where(AuditLog.entity_type.in_(["data_grading", "data_resource"]))
        ).all()
        kinds = {(a.entity_type, a.action) for a in logged}
        assert ("data_grading", "create") in kinds and ("data_resource", "update") in kinds
        assert sum(1 for a in logged if a.entity_type == "data_grading") == 2
        d = service.describe(s, resource_id=rid)
        assert [f["code"] for f in d["flags"]] == ["pi_10m"]


def test_refusals_change_nothing(database: Database) -> None:
    rid = _resource(database)
    with database.unit_of_work() as s:
        with pytest.raises(Invalid, match="in the future"):
            service.grade_resource(
                s,
                resource_id=rid,
                data=GradingIn(impacts=_imp("national:general"), graded_on=dt.date(2999, 1, 1)),
            )
        with pytest.raises(Invalid, match="unknown data category 'moon'"):
            service.create_resource(s, data=ResourceIn(name="x", category="moon"))
        with pytest.raises(Invalid, match="system 4242 does not exist"):
            service.add_holding(s, resource_id=rid, data=HoldingIn(holder_type="system", holder_id=4242))
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(DataGrading)) == 0


# --- registers and exports ----------------------------------------------------------------------------------


def test_register_and_exports_neutralise_formulas(database: Database) -> None:
    ids = _map(database)
    core = _resource(database, name='=HYPERLINK("http://x")', code="K1")
    imp = _resource(database, name="调度运行数据", code="I1")
    big = _resource(database, name="用户档案", code="G1", contains_pi=True, people=10_000_000)
    _resource(database, name="办公通讯录", code="G2", contains_pi=True, people=9_999_999)
    with database.unit_of_work() as s:
        service.grade_resource(s, resource_id=core, data=GradingIn(impacts=_imp("national:serious")))
        service.grade_resource(s, resource_id=imp, data=GradingIn(impacts=_imp("economy:serious")))
        service.grade_resource(s, resource_id=big, data=GradingIn(impacts=_imp("individual:serious")))
        service.add_holding(s, resource_id=imp, data=HoldingIn(holder_type="system", holder_id=ids["ems"]))
    with database.read_session() as s:
        rows = registers.register(s)
        assert [(r["code"], r["level"]) for r in rows] == [
            ("K1", "core"),
            ("I1", "important"),
            ("G1", "general"),
        ]
        assert rows[2]["flags"] == ["pi_10m"] and rows[1]["systems"] == ["调度系统"]
        assert [r["code"] for r in registers.register(s, levels=("core",), flagged=False)] == ["K1"]
    with database.unit_of_work() as s:
        content, name, media = registers.export(s, fmt="xlsx")
    assert name.endswith(".xlsx") and "spreadsheet" in media
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["核心数据", "重要数据", "达到阈值的其他数据"]
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert '\'=HYPERLINK("http://x")' in cells and not any(str(c).startswith("=") for c in cells)
    with database.unit_of_work() as s:
        docx, dname, _m = registers.export(s, fmt="docx", lang="en")
        pdf, pname, pmedia = registers.export(s, fmt="pdf")
        with pytest.raises(Invalid, match="not 'odt'"):
            registers.export(s, fmt="odt")
    from compliance.test_reports import _pdf

    ptext, fonts = _pdf(pdf)
    assert pname.endswith(".pdf") and pmedia == "application/pdf" and fonts  # the CJK font is embedded
    assert "调度运行数据" in ptext and "用户档案" in ptext
    from docx import Document

    text = "\n".join(c.text for t in Document(io.BytesIO(docx)).tables for row in t.rows for c in row.cells)
    assert "调度运行数据" in text and "important data" in text and dname.endswith(".docx")


# --- the map ---------------------------------------------------------------------------------------------------


def test_marks_what_if_and_mlps_suggestion(database: Database) -> None:
    ids = _map(database)
    held_by_asset = _resource(database, name="客户档案", code="A1")
    held_by_ems = _resource(database, name="调度数据", code="E1")
    with database.unit_of_work() as s:
        service.grade_resource(s, resource_id=held_by_asset, data=GradingIn(impacts=_imp("economy:serious")))
        service.grade_resource(s, resource_id=held_by_ems, data=GradingIn(impacts=_imp("national:serious")))
        service.add_holding(
            s, resource_id=held_by_asset, data=HoldingIn(holder_type="asset", holder_id=ids["host"])
        )
        service.add_holding(
            s, resource_id=held_by_ems, data=HoldingIn(holder_type="system", holder_id=ids["ems"])
        )
    with database.read_session() as s:
        marks = {m["system"]: (m["level"], m["core"], m["important"]) for m in service.system_marks(s)}
        assert marks == {"调度系统": ("core", 1, 0), "营销系统": ("important", 0, 1)}
        # what-if on the database host: the customer file is at risk, the dispatch data is not
        res = impact(s, kind="asset", ref=str(ids["host"]))
        assert [(d.name, d.level) for d in res.data_at_risk] == [("客户档案", "important")]
        assert res.data_at_risk_total == 1
        sugg = {x["system"]: x for x in service.suggestions(s)}
    # CRM holds important data at S2 (< S3); EMS holds core data at S3 (< S4): both are suggestions
    assert (sugg["营销系统"]["s_level"], sugg["营销系统"]["suggested_min_s"]) == (2, 3)
    assert (sugg["调度系统"]["s_level"], sugg["调度系统"]["suggested_min_s"]) == (3, 4)
    # a current MLPS grading round (read through the compliance service) at S4 clears EMS; nothing changed
    with database.unit_of_work() as s:
        mlps.create_grading(
            s,
            data=MlpsGradingIn(
                system_id=ids["ems"],
                s_object="national",
                s_degree="serious",
                a_object="order",
                a_degree="serious",
            ),
        )
    with database.read_session() as s:
        after = {x["system"]: x for x in service.suggestions(s)}
        assert "调度系统" not in after and after["营销系统"]["s_level"] == 2
        assert s.get(System, ids["crm"]).mlps_s_level == 2  # type: ignore[union-attr]


# --- API -------------------------------------------------------------------------------------------------------


def test_api_roles_pages_and_bad_input(
    client: Any, admin_headers: dict[str, str], auditor_headers: dict[str, str]
) -> None:
    r = client.get(
        "/api/data/grade", params={"impact": ["national:general", "economy:serious"]}, headers=auditor_headers
    )
    assert r.status_code == 200 and r.json()["level"] == "重要数据"
    r = client.get("/api/data/grade", params={"impact": "moon:serious"}, headers=auditor_headers)
    assert r.status_code == 422 and "'moon'" in r.json()["error"]
    body = {"name": "用户档案", "category": "user.pi.basic", "contains_pi": True, "people": 12_000_000}
    assert client.post("/api/data/resources", json=body, headers=auditor_headers).status_code == 403
    r = client.post("/api/data/resources", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    g = client.post(
        f"/api/data/resources/{rid}/gradings",
        json={
            "impacts": [{"object": "public_interest", "degree": "serious"}],
            "factors": {"scale": "1200万人"},
        },
        headers=admin_headers,
    )
    assert g.status_code == 201 and g.json()["level"] == "important"
    bad = client.post(
        f"/api/data/resources/{rid}/gradings",
        json={"impacts": [{"object": "moon", "degree": "serious"}]},
        headers=admin_headers,
    )
    assert bad.status_code == 422
    page = client.get("/api/data/resources", params={"level": "important"}, headers=auditor_headers).json()
    assert page["total"] == 1 and page["items"][0]["flags"] == ["pi_10m"]
    x = client.get("/api/data/register/export", params={"format": "xlsx"}, headers=auditor_headers)
    assert x.status_code == 200 and x.content[:2] == b"PK"
    for path in ("/data", f"/data/{rid}", "/data/registers"):
        p = client.get(path, headers=auditor_headers)
        assert p.status_code == 200 and "用户档案" in p.text, path


def test_dashboard_card_topology_overlay_and_what_if_panel(
    database: Database, client: Any, auditor_headers: dict[str, str]
) -> None:
    import re

    ids = _map(database)
    core = _resource(database, name="调度数据", code="E1")
    with database.unit_of_work() as s:
        service.grade_resource(s, resource_id=core, data=GradingIn(impacts=_imp("national:serious")))
        service.add_holding(s, resource_id=core, data=HoldingIn(holder_type="system", holder_id=ids["ems"]))
    html = client.get("/", headers=auditor_headers).text
    card = re.search(r'data-card="data">(.*?)</a>', html, re.S)
    assert card is not None and 'card-value">1 / 0<' in card.group(1) and "系统 1" in card.group(1)
    sugg = re.search(r'data-card="data_suggestions">(.*?)</a>', html, re.S)
    assert sugg is not None and 'card-value">1<' in sugg.group(1)  # EMS at S3 holds core data
    nodes = {
        n["ref"]: n
        for n in client.get("/api/ui/topology", headers=auditor_headers).json()["nodes"]
        if n["type"] == "system"
    }
    assert nodes[ids["ems"]]["data_level"] == "core" and "data_level" not in nodes[ids["crm"]]
    assert 'data-overlay="data"' in client.get("/topology", headers=auditor_headers).text
    what_if = client.get(
        "/api/ui/impact", params={"type": "system", "id": ids["ems"]}, headers=auditor_headers
    ).json()
    assert [(d["name"], d["level"]) for d in what_if["data_at_risk"]] == [("调度数据", "core")]
    page = client.get("/data/registers", headers=auditor_headers).text
    assert "调度系统" in page and "data-suggestion=" in page
