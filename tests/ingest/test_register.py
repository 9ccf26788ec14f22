"""Registers (资产台账): encodings, Chinese headers, XLSX, mapping; correlation with scans; unmanaged/ghosts."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from ciimap.ingest import changes
from ciimap.ingest.parsers.register import Register
from ciimap.inventory.models import Asset, Contact, NetworkZone, Site, System

from .conftest import NMAP1

HEADER = "资产名称,IP地址,MAC地址,主机名,序列号,责任人,所属系统,机房,网络区域,资产类型,操作系统,重要程度\n"
ROWS = (
    "核心数据库,127.0.0.4,00-1A-2B-3C-4D-5E,db01,SN-001,张三,计费系统,北京一号机房,生产区,服务器,CentOS 7,关键\n"
    "前置机,10.9.9.9,,fe01,SN-002,李四,计费系统,北京一号机房,DMZ,虚拟机,,高\n"
)


def test_utf8_bom_gbk_and_xlsx_parse_the_same(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode())
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes((HEADER + ROWS).replace(",", ";").encode("gbk"))  # also: another delimiter
    xlsx = tmp_path / "台账.xlsx"
    wb = Workbook()
    ws = wb.active
    for line in (HEADER + ROWS).splitlines():
        ws.append(line.split(","))
    wb.save(xlsx)
    parsed = [
        [(r.name, r.ips, r.macs, r.hostnames, r.serial, r.os_name, r.declared) for r in Register(p)]
        for p in (bom, gbk, xlsx)
    ]
    assert parsed[0] == parsed[1] == parsed[2]
    first = parsed[0][0]
    assert first[:6] == ("核心数据库", ["127.0.0.4"], ["00:1A:2B:3C:4D:5E"], ["db01"], "SN-001", "CentOS 7")
    assert first[6] == {
        "owner": "张三",
        "system": "计费系统",
        "site": "北京一号机房",
        "zone": "生产区",
        "kind": "server",
        "criticality": "critical",
    }
    assert parsed[0][1][6]["kind"] == "vm"


def test_mapping_option_for_other_layouts(tmp_path: Path) -> None:
    f = tmp_path / "other.csv"
    f.write_text("设备编号,管理地址,备注\nX-1,10.1.1.1,保留\n", encoding="utf-8")
    recs = list(Register(f, mapping={"设备编号": "name", "管理地址": "ip"}))
    assert [(r.name, r.ips) for r in recs] == [("X-1", ["10.1.1.1"])]


def test_register_then_scan_unmanaged_and_ghosts(database, run_import, tmp_path: Path) -> None:
    f = tmp_path / "assets.csv"
    f.write_text(HEADER + ROWS, encoding="utf-8-sig")
    r = run_import("register", f)
    assert r["assets_created"] == 2
    with database.read_session() as s:
        db = s.scalar(select(Asset).where(Asset.name == "核心数据库"))
        assert db.declared and db.kind == "server" and db.criticality == "critical" and db.serial == "SN-001"
        assert s.scalar(select(Contact.name).where(Contact.id == db.owner_id)) == "张三"
        assert s.scalar(select(System.name).where(System.id == db.system_id)) == "计费系统"
        assert s.scalar(select(Site.name).where(Site.id == db.site_id)) == "北京一号机房"
        assert s.scalar(select(NetworkZone.name).where(NetworkZone.id == db.zone_id)) == "生产区"
        assert [a.name for a in changes.ghosts(s)] == ["核心数据库", "前置机"]
        db_id = db.id
    run_import("nmap", NMAP1)
    with database.read_session() as s:
        assert s.scalar(select(Asset.id).where(Asset.primary_ip == "127.0.0.4")) == db_id  # merged by IP
        merged = s.get(Asset, db_id)
        assert merged.name == "核心数据库" and merged.os_name == "Linux 5.0 - 5.2"  # observed OS recorded
        assert [a.name for a in changes.ghosts(s)] == ["前置机"]
        assert sorted(a.primary_ip for a in changes.unmanaged(s)) == [
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.5",
            "127.0.0.6",
        ]
    again = run_import("register", f)  # re-import: same assets, no duplicates
    assert again["assets_created"] == 0 and again["assets_updated"] == 2


def test_register_rows_merge_within_one_file(database, run_import, tmp_path: Path) -> None:
    f = tmp_path / "dup.csv"
    f.write_text("name,ip,serial\nweb-1,10.0.0.1,S1\nweb-1 (2nd nic),10.0.0.2,S1\n", encoding="utf-8")
    r = run_import("register", f)
    assert r["assets_created"] == 1
    with database.read_session() as s:
        a = s.scalar(select(Asset))
        assert a.ips == ["10.0.0.1", "10.0.0.2"]
