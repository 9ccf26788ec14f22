"""Bad input: a one-line error naming the file and the position; nothing written; the run is recorded failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.core.errors import InputFileError, Invalid
from ciimap.ingest.models import ChangeEvent, ImportRun
from ciimap.inventory.models import Asset, ServiceEndpoint, Software

from .conftest import DATA, NMAP1, SHARED


def _fails(run_import, kind: str, path: Path, **kw) -> str:
    with pytest.raises(InputFileError) as e:
        run_import(kind, path, **kw)
    msg = str(e.value)
    assert path.name in msg and "\n" not in msg
    return msg


def _nothing_written(database, count) -> None:
    assert count(Asset) == 0 and count(ServiceEndpoint) == 0 and count(Software) == 0 and count(ChangeEvent) == 0
    with database.read_session() as s:
        runs = list(s.execute(select(ImportRun.status, ImportRun.error)))
    assert runs and all(status == "failed" and error for status, error in runs)


def test_billion_laughs_refused(database, run_import, count) -> None:
    msg = _fails(run_import, "nmap", DATA / "billion-laughs.xml")
    assert "line 2, column 1" in msg and "DTD" in msg
    _nothing_written(database, count)


def test_external_entity_refused(database, run_import, count) -> None:
    msg = _fails(run_import, "nmap", DATA / "xxe.xml")
    assert "line 2, column 1" in msg
    _nothing_written(database, count)


def test_truncated_nmap_writes_nothing(database, run_import, count, tmp_path: Path) -> None:
    data = NMAP1.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b'addr="127.0.0.5"')])  # hosts 1-3 parse fine, then the file ends
    msg = _fails(run_import, "nmap", cut)
    assert "truncated" in msg and "line " in msg
    _nothing_written(database, count)


def test_not_nmap_xml(database, run_import, count) -> None:
    msg = _fails(run_import, "nmap", DATA / "not-nmap.xml")
    assert "not an nmap XML file" in msg and "<rss>" in msg
    _nothing_written(database, count)


def test_wrong_encoding_register(database, run_import, count, tmp_path: Path) -> None:
    bad = tmp_path / "assets.csv"
    bad.write_bytes("资产名称,IP地址\n服务器一,10.0.0.1\n".encode("gbk") + b"\xff\xfe\xfd,10.0.0.2\n")
    msg = _fails(run_import, "register", bad)
    assert "line 3" in msg and "--encoding" in msg
    ok = tmp_path / "utf8.csv"
    ok.write_text("资产名称,IP地址\n服务器一,10.0.0.1\n", encoding="utf-8")
    msg = _fails(run_import, "register", ok, options={"encoding": "ascii"})
    assert "line 1" in msg
    _nothing_written(database, count)


def test_malformed_sbom(database, run_import, count) -> None:
    from ciimap.inventory.models import System

    with database.unit_of_work() as s:
        s.add(System(name="计费系统"))
    with database.read_session() as s:
        sid = s.scalar(select(System.id))
    msg = _fails(run_import, "sbom", DATA / "malformed-sbom.json", options={"system_id": sid})
    assert "line 6, column" in msg
    _nothing_written(database, count)


def test_sbom_needs_a_target(database, run_import) -> None:
    with pytest.raises(Invalid, match="exactly one asset"):
        run_import("sbom", SHARED / "sbom" / "python-app-sbom.cdx.json")


def test_bad_row_rolls_back_whole_register(database, run_import, count, tmp_path: Path) -> None:
    f = tmp_path / "台账.csv"
    f.write_text("资产名称,IP地址\n" + "".join(f"srv{i},10.0.0.{i}\n" for i in range(1, 16)) + "bad,10.0.0.300\n",
                 encoding="utf-8-sig")
    msg = _fails(run_import, "register", f)
    assert msg.endswith("row 17: column IP地址: '10.0.0.300' is not an IP address")
    _nothing_written(database, count)


def test_failure_after_partial_load_rolls_back(database, run_import, count, tmp_path: Path) -> None:
    """The first file loads fine, the second is truncated: nothing of the first stays."""
    data = NMAP1.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    _fails(run_import, "nmap", cut)
    with pytest.raises(InputFileError):
        run_import("nmap", NMAP1, cut)
    _nothing_written(database, count)
