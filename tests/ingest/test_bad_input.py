"""Bad input: a one-line error naming the file and the position; nothing written; the run is recorded failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.core import jobs
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
    assert (
        count(Asset) == 0 and count(ServiceEndpoint) == 0 and count(Software) == 0 and count(ChangeEvent) == 0
    )
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
    f.write_text(
        "资产名称,IP地址\n" + "".join(f"srv{i},10.0.0.{i}\n" for i in range(1, 16)) + "bad,10.0.0.300\n",
        encoding="utf-8-sig",
    )
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


# --- The bad-input corpus (issue 10): every importer refuses, one line, and every table stays identical ---

KEV = SHARED / "kev" / "known_exploited_vulnerabilities.json"
SBOM = SHARED / "sbom" / "python-app-sbom.cdx.json"
REGISTER = "资产名称,IP地址,主机名\n服务器一,10.0.0.1,srv1\n服务器二,10.0.0.2,srv2\n"
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
DEEP = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's recursion limit: json raises RecursionError
#: a refused import is recorded there as a failed run (and the audit chain's head moves on), nothing else
BOOKKEEPING = {"import_run", "audit_log", "audit_head"}


def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _insert(data: bytes, at: int, byte: bytes = b"\xff") -> bytes:
    return data[:at] + byte + data[at:]


def _xlsx(tmp: Path, name: str, rows: list[list[str]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(tmp / name)
    return tmp / name


def _cut_sheet(tmp: Path) -> Path:
    """A whole zip whose worksheet XML ends early (the zip directory is fine, the sheet is not)."""
    import zipfile

    good = _xlsx(
        tmp, "sheet.xlsx", [["资产名称", "IP地址"], ["服务器一", "10.0.0.1"], ["服务器二", "10.0.0.2"]]
    )
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b"</sheetData>") - 20]
    with zipfile.ZipFile(tmp / "cut-sheet.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in parts.items():
            z.writestr(name, blob)
    return tmp / "cut-sheet.xlsx"


@pytest.fixture(scope="session")
def xlsx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real workbook whose shared-strings part expands to 1 GiB (openpyxl reads it whole on open)."""
    import zipfile

    from badinput import zip_bomb

    tmp = tmp_path_factory.mktemp("bomb")
    good = _xlsx(tmp, "good.xlsx", [["资产名称", "IP地址"], ["服务器一", "10.0.0.1"]])
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist() if n != "xl/sharedStrings.xml"}
    return zip_bomb(
        tmp / "bomb-台账.xlsx",
        "xl/sharedStrings.xml",
        extra=parts,
        fill=b"A",
        head=b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1" uniqueCount="1"><si><t>',
        tail=b"</t></si></sst>",
    )


def corpus(kind: str, tmp: Path, bomb: Path) -> list[tuple[str, Path, str]]:
    """``(case, file, expected text in the one-line error)`` for one importer."""
    nmap, masscan, osq = (
        NMAP1.read_bytes(),
        (DATA / "masscan.json").read_bytes(),
        (DATA / "osquery-bundle.json").read_bytes(),
    )
    common = [
        ("empty", _write(tmp, f"empty-{kind}.dat", b""), "empty file (0 bytes)"),
        ("binary", _write(tmp, f"binary-{kind}.dat", BINARY), ""),
        ("NUL bytes (valid UTF-8, still binary)", _write(tmp, f"nul-{kind}.dat", b"\0" * 4096), ""),
    ]
    if kind == "nmap":
        head = nmap[: nmap.index(b"<host ")]
        return [
            *common,
            ("truncated", _write(tmp, "cut.xml", nmap[: len(nmap) // 2]), "truncated XML"),
            ("header only", _write(tmp, "head.xml", head), "truncated XML"),
            (
                "well-formed, never finished",
                _write(tmp, "unfinished.xml", head + b"</nmaprun>\n"),
                "incomplete scan: no <runstats><finished>",
            ),
            ("invalid UTF-8", _write(tmp, "latin1.xml", _insert(nmap, nmap.index(b"localhost"))), "line "),
            (
                "a port that is not a number",
                _write(tmp, "portid.xml", nmap.replace(b'portid="22"', b'portid="ssh"', 1)),
                "host 4: unexpected content (ValueError: invalid literal for int() with base 10: 'ssh')",
            ),
            ("wrong format", KEV, "not an XML document"),
            ("another XML", DATA / "not-nmap.xml", "not an nmap XML file"),
        ]
    if kind == "masscan":
        lines = masscan.splitlines(keepends=True)
        return [
            *common,
            (
                "truncated after the first record",
                _write(tmp, "cut.json", b"".join(lines[:2])),
                "truncated masscan JSON: the closing ']' is missing",
            ),
            ("cut inside a record", _write(tmp, "cut2.json", masscan[: len(masscan) // 2]), "invalid JSON"),
            ("bracket only", _write(tmp, "open.json", b"[\n"), "closing ']' is missing"),
            (
                "list without its end",
                _write(tmp, "cut.list", b"#masscan\nopen tcp 22 10.10.0.5 1700000001\n"),
                "the '# end' line is missing",
            ),
            ("cut XML", _write(tmp, "cut.xml", (DATA / "masscan.xml").read_bytes()[:600]), "truncated XML"),
            ("invalid UTF-8", _write(tmp, "bad.json", _insert(masscan, 200)), "byte 200"),
            ("nested too deeply", _write(tmp, "deep.json", DEEP), "nested too deeply"),
            (
                "ports of the wrong type",
                _write(tmp, "shape.json", '[\n{"ip": "10.10.0.9", "ports": 5},\n]\n'),
                "line 2: unexpected content (TypeError",
            ),
            ("wrong format", _write(tmp, "register.csv", REGISTER), "not a masscan list line"),
        ]
    if kind == "register":
        data = REGISTER.encode()
        return [
            *common,
            (
                "header only",
                _write(tmp, "head.csv", REGISTER.splitlines()[0] + "\n"),
                "header but no asset rows",
            ),
            (
                "header only, XLSX",
                _xlsx(tmp, "head.xlsx", [["资产名称", "IP地址"]]),
                "header but no asset rows",
            ),
            ("cut in the last row", _write(tmp, "cut.csv", REGISTER[:-6]), "the file ends early"),
            (
                "cut inside a quoted field",
                _write(tmp, "quote.csv", REGISTER + '"服务器三,10.0.0.3\n'),
                "malformed CSV",
            ),
            (
                "cut XLSX",
                _write(tmp, "cut.xlsx", _xlsx(tmp, "full.xlsx", [["资产名称"], ["a"]]).read_bytes()[:900]),
                "not a readable zip archive",
            ),
            ("XLSX with a cut worksheet", _cut_sheet(tmp), "damaged XLSX worksheet"),
            ("invalid UTF-8", _write(tmp, "bad.csv", _insert(data, len(data) - 3)), "cannot decode"),
            ("wrong format", NMAP1, "no identity column"),
            ("decompression bomb", bomb, "xl/sharedStrings.xml: refused: "),
        ]
    if kind == "sbom":
        raw = SBOM.read_bytes()
        xml = (SHARED / "sbom" / "dropwizard-1.3.15_bom.xml").read_bytes()
        return [
            *common,
            (
                "no components",
                _write(
                    tmp, "none.cdx.json", '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}'
                ),
                "lists no components",
            ),
            ("truncated JSON", _write(tmp, "cut.cdx.json", raw[: len(raw) // 2]), "malformed JSON SBOM"),
            ("truncated XML", _write(tmp, "cut.cdx.xml", xml[: len(xml) // 2]), "truncated XML"),
            ("invalid UTF-8", _write(tmp, "bad.cdx.json", _insert(raw, 1000)), "byte 1000"),
            ("nested too deeply", _write(tmp, "deep.cdx.json", DEEP), "nested too deeply"),
            (
                "a version that is a list",
                _write(
                    tmp,
                    "shape.cdx.json",
                    '{"bomFormat": "CycloneDX", "specVersion": '
                    '"1.5", "components": [{"name": "a", "version": [1]}]}',
                ),
                "component version is a list, not text",
            ),
            (
                "a licence of the wrong type",
                _write(
                    tmp,
                    "lic.cdx.json",
                    '{"bomFormat": "CycloneDX", "specVersion": '
                    '"1.5", "components": [{"name": "a", "licenses": [{"license": "x"}]}]}',
                ),
                "unexpected content (AttributeError",
            ),
            (
                "XML nested too deeply",
                _write(
                    tmp,
                    "deep.cdx.xml",
                    b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5">' + b"<components><component>" * 3000,
                ),
                "malformed XML (Excessive depth",
            ),
            ("wrong format", KEV, "not a CycloneDX"),
        ]
    assert kind == "osquery"
    return [
        *common,
        ("no rows", _write(tmp, "none.json", b"[]\n"), "no osquery rows"),
        ("truncated", _write(tmp, "cut.json", osq[: len(osq) // 2]), "malformed JSON"),
        ("invalid UTF-8", _write(tmp, "bad.json", _insert(osq, 300)), "byte 300"),
        ("nested too deeply", _write(tmp, "deep.json", DEEP), "nested too deeply"),
        (
            "rows of the wrong type",
            _write(tmp, "shape.json", '{"host": {"hostname": "a"}, "deb_packages": 5}'),
            "unexpected content (TypeError",
        ),
        ("wrong format", KEV, "no osquery rows"),
    ]


def _seed(database, run_import, kind: str, tmp: Path) -> dict:
    """A successful import of the same kind first, so a wrongly accepted file would change things."""
    from ciimap.inventory.models import System

    if kind == "sbom":
        with database.unit_of_work() as s:
            system = System(name="计费系统")
            s.add(system)
            s.flush()
            options = {"system_id": system.id}
        run_import("sbom", SBOM, options=options)
        return options
    good = {
        "nmap": NMAP1,
        "masscan": DATA / "masscan.json",
        "osquery": DATA / "osquery-bundle.json",
        "register": _write(tmp, "good.csv", REGISTER),
    }[kind]
    run_import(kind, good)
    return {}


def assert_only_failure_recorded(database, before: dict, case: str) -> dict:
    """Every table identical but for the failed run's record: rows added to import_run and audit_log.
    Returns the tables as they are now (the next case's "before")."""
    from badinput import only_failure_recorded, table_rows

    after = table_rows(database)
    only_failure_recorded(before, after, case)
    return after


@pytest.mark.parametrize("kind", ["nmap", "masscan", "register", "sbom", "osquery"])
def test_bad_input_corpus_changes_nothing(
    database, run_import, kind: str, tmp_path: Path, xlsx_bomb: Path
) -> None:
    """Empty, binary, cut, header-only, invalid UTF-8, wrong-format files and bombs are refused with one
    line naming the file, and every table is identical before and after (but for the failed-run record)."""
    from badinput import table_rows

    options = _seed(database, run_import, kind, tmp_path)
    before = table_rows(database)
    for case, path, expected in corpus(kind, tmp_path, xlsx_bomb):
        with pytest.raises(InputFileError) as e:
            run_import(kind, path, options=options)
        msg = str(e.value)
        assert path.name in msg and "\n" not in msg and expected in msg, (case, msg)
        before = assert_only_failure_recorded(database, before, case)


def test_complete_empty_scans_still_mark_hosts_missing(database, run_import, tmp_path: Path) -> None:
    """A complete file listing no host up is a real result (all hosts gone), unlike a cut or empty one."""
    run_import("nmap", NMAP1)
    run_import("masscan", DATA / "masscan.json")
    data = NMAP1.read_bytes()
    none_up = data[: data.index(b"<host ")] + data[data.index(b"<runstats>") :]
    assert run_import("nmap", _write(tmp_path, "none-up.xml", none_up))["missing"] == 5
    assert run_import("masscan", _write(tmp_path, "none.json", b"[\n]\n"))["missing"] == 2
    assert (
        run_import("masscan", _write(tmp_path, "none.list", b"#masscan\n# end\n"))["missing"] == 0
    )  # already missing


# One real ``ciimap import`` process per importer (start-up costs ~1-2 s each), backends alternating.
@pytest.mark.parametrize(
    ("database", "kind", "case"),
    [
        ("sqlite", "nmap", "truncated"),
        ("postgresql", "masscan", "truncated after the first record"),
        ("sqlite", "register", "decompression bomb"),
        ("postgresql", "sbom", "no components"),
        ("sqlite", "osquery", "invalid UTF-8"),
    ],
    indirect=["database"],
)
def test_cli_refuses_in_one_line_with_exit_1(
    database, run_import, kind: str, case: str, tmp_path: Path, xlsx_bomb: Path
) -> None:
    from badinput import BOMB_BYTES, assert_one_line_refusal, run_cli, table_rows

    options = _seed(database, run_import, kind, tmp_path)
    path, expected = next((p, x) for c, p, x in corpus(kind, tmp_path, xlsx_bomb) if c == case)
    args = ["import", kind, str(path), *(["--system", str(options["system_id"])] if options else [])]
    before = table_rows(database)
    r = run_cli(database, *args, cwd=tmp_path, measure=case == "decompression bomb")
    assert expected in assert_one_line_refusal(r, path)
    assert_only_failure_recorded(database, before, case)
    if case == "decompression bomb":  # refused from the zip directory: memory never near the 1 GiB inside
        assert r.peak_mb is not None and r.peak_mb < BOMB_BYTES / (1 << 20) / 3, r.peak_mb


def test_api_job_refuses_bomb_and_stores_one_line(
    client, admin_headers, database, run_import, queued, tmp_path: Path, xlsx_bomb: Path
) -> None:
    """Through the API the import runs as a job (inside the server on SQLite): the bomb is refused there
    too, the job stores one line (no traceback) and the stored map is untouched."""
    from badinput import table_changes, table_rows

    _seed(database, run_import, "register", tmp_path)
    before = table_rows(database)
    with xlsx_bomb.open("rb") as fh:
        r = client.post(
            "/api/imports",
            headers=admin_headers,
            data={"kind": "register"},
            files=[("files", (xlsx_bomb.name, fh, "application/octet-stream"))],
        )
    assert r.status_code == 202, r.text
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "failed" and "\n" not in job["error"] and "Traceback" not in job["error"]
    assert job["error"].endswith(
        "bomb-台账.xlsx!xl/sharedStrings.xml: refused: expands more than 200 times its "
        "compressed size (a decompression bomb?; limit CIIMAP_UNPACK_MAX_RATIO)"
    )
    changes = table_changes(before, table_rows(database))
    assert set(changes) <= BOOKKEEPING | {"job"} and not changes.get("import_run", {}).get("removed")
