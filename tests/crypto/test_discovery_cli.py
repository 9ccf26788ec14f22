"""The discovery ``crypto`` profile (argv and a live nmap run on loopback), SM2 certificates, CLI JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.cli import main
from ciimap.crypto import parse, service
from ciimap.discovery import nmap
from ciimap.ingest import service as ingest
from ciimap.ingest.parsers import nmap as nmap_parser
from ciimap.inventory.models import Asset, System

from .servers import serve

DATA = Path(__file__).resolve().parents[1] / "data" / "crypto"


def test_crypto_profile_argv(tmp_path: Path) -> None:
    argv = nmap.build_argv(
        nmap="nmap", targets=["127.0.0.1"], profile="crypto", ports=None, rate=100, xml=tmp_path / "x.xml"
    )
    i = argv.index("--script")
    assert argv[i + 1] == "ssl-cert,ssl-enum-ciphers,ssh2-enum-algos"
    assert argv[argv.index("-p") + 1] == nmap.CRYPTO_PORTS and "22" in nmap.CRYPTO_PORTS.split(",")
    with_ports = nmap.build_argv(
        nmap="nmap", targets=["127.0.0.1"], profile="crypto", ports="8443", rate=100, xml=tmp_path / "x.xml"
    )
    assert with_ports[with_ports.index("-p") + 1] == "8443"


@pytest.mark.nmap
@pytest.mark.skipif(shutil.which("nmap") is None, reason="needs the nmap binary")
def test_live_crypto_profile_on_loopback(tmp_path: Path) -> None:
    """Real nmap with the crypto profile's flags against the loopback TLS and SSH services."""
    xml = tmp_path / "scan.xml"
    argv = nmap.build_argv(
        nmap="nmap", targets=["127.0.0.6"], profile="crypto", ports="28443,28022", rate=1000, xml=xml
    )
    with serve("127.0.0.6", 28443, 28022, tmp_path):
        subprocess.run([*argv[:1], "-Pn", *argv[1:]], check=True, capture_output=True, timeout=300)
    (host,) = list(nmap_parser.NmapXml(xml))
    host.complete()
    got = {row[2]: row for row in host.detail["port_scripts"]}
    assert parse.parse_ssl_cert(got["ssl-cert"][3], got["ssl-cert"][4])["key_bits"] == 2048
    assert "TLSv1.2" in parse.parse_ssl_enum_ciphers(got["ssl-enum-ciphers"][3])["versions"]
    assert "arcfour" in parse.parse_ssh2_enum_algos(got["ssh2-enum-algos"][3])["encryption_algorithms"]


def test_sm2_certificate_counts_as_gm(database) -> None:
    pem = (DATA / "sm2-selfsigned.pem").read_text()  # openssl 3.0: SM2 key, SM2-with-SM3 signature
    facts = parse.parse_ssl_cert("", pem)
    assert facts["key_type"] == "sm2" and facts["signature_algorithm"] == "SM2-with-SM3"
    (row,) = service._items_from_scripts(1, None, {"port_scripts": [["tcp", 443, "ssl-cert", "", pem]]})
    assert row["gm"] is True and row["algorithms"] == ["SM2", "SM3"]


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
        raise SystemExit(0)
    cap = capsys.readouterr()
    return int(e.value.code or 0), cap.out, cap.err


def test_cli_json(database, capsys: pytest.CaptureFixture[str]) -> None:
    with database.unit_of_work() as s:
        ingest.import_files(s, kind="nmap", paths=[DATA / "nmap-crypto-loopback.xml"])
        sysm = System(name="票务系统", mlps_level=3)
        s.add(sysm)
        s.flush()
        sid = sysm.id
        for a in s.scalars(select(Asset)):
            a.system_id = sid
    code, out, _ = _cli(["crypto", "inventory", "--system", str(sid), "--json"], capsys)
    assert code == 0
    inv = json.loads(out)
    assert inv["systems"][0]["system"] == "票务系统" and "network" in inv["systems"][0]["layers"]
    code, out, _ = _cli(["crypto", "flags", "--json"], capsys)
    assert code == 0 and "no_gm" in {f["code"] for f in json.loads(out)}
    code, out, _ = _cli(
        [
            "crypto",
            "add-product",
            "--name",
            "密码机",
            "--certificate-no",
            "GM001",
            "--system",
            str(sid),
            "--algorithm",
            "SM4",
            "--layer",
            "device",
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["certificate_no"] == "GM001"
    code, out, _ = _cli(["crypto", "flags", "--json"], capsys)
    assert "no_gm" not in {f["code"] for f in json.loads(out)}
    code, out, err = _cli(["crypto", "add-cert", "--name", "x", "--not-after", "2027-13-01"], capsys)
    assert code == 1 and "2027-13-01" in err and len(err.strip().splitlines()) == 1
    code, out, err = _cli(["crypto", "inventory", "--system", "99999", "--json"], capsys)
    assert code == 3 and "99999" in err
