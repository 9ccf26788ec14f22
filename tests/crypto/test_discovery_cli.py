"""The discovery ``crypto`` profile (argv and a live nmap run on loopback), SM2 certificates, CLI JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap.cli import main
from ciimap.config import get_settings
from ciimap.core.errors import OutOfScope
from ciimap.crypto import parse, service
from ciimap.discovery import nmap
from ciimap.discovery import service as discovery
from ciimap.ingest import service as ingest
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
def test_discover_crypto_profile_feeds_the_inventory(sqlite_database, tmp_path: Path, monkeypatch) -> None:
    """Real nmap through discovery (scope check, crypto profile, import) against loopback TLS and SSH,
    then the crypto inventory reads the kept script output. SQLite only: the scan, not the store, is
    under test (the inventory itself runs on both databases above)."""
    monkeypatch.setenv("CIIMAP_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    db = sqlite_database
    with db.unit_of_work() as s:
        discovery.create_scope(s, name="lab", cidrs=["127.0.0.0/29"], max_rate=1000, actor="admin")
    params = {
        "targets": ["127.0.0.6"],
        "scope": "lab",
        "profile": "crypto",
        "ports": "28443,28022",
        "rate": 1000,
    }
    try:
        with serve("127.0.0.6", 28443, 28022, tmp_path), db.unit_of_work() as s:
            out = discovery.run_discovery(s, params=params, progress=lambda *a: None)
    finally:
        get_settings.cache_clear()
    assert "ssl-cert,ssl-enum-ciphers,ssh2-enum-algos" in out["argv"]
    with db.unit_of_work() as s:
        inv = service.inventory(s)
    layers = inv["systems"][0]["layers"]
    cert = next(i for i in layers["network"]["items"] if i["kind"] == "certificate")
    assert cert["port"] == 28443 and cert["facts"]["key_bits"] == 2048
    assert "TLSv1.2" in next(i for i in layers["network"]["items"] if i["kind"] == "tls")["facts"]["versions"]
    assert "RC4" in layers["device"]["algorithms"]  # the SSH endpoint offers arcfour


def test_discover_crypto_profile_stays_inside_scopes(database) -> None:
    with database.unit_of_work() as s:
        discovery.create_scope(s, name="lab", cidrs=["127.0.0.0/29"], max_rate=1000, actor="admin")
        with pytest.raises(OutOfScope):
            discovery.plan(s, targets=["10.0.0.1"], scope="lab", profile="crypto", ports=None, rate=None)
        assert (
            discovery.plan(s, targets=["127.0.0.6"], scope="lab", profile="crypto", ports=None, rate=None)[
                "profile"
            ]
            == "crypto"
        )


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
