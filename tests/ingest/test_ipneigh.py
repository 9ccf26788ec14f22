"""The ``ipneigh`` source (ARP/NDP tables of a Linux gateway), written against the importer contract:
its reader alone on the recorded file, then whole imports through the one runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ciimap import sources
from ciimap.core.errors import InputFileError, Invalid
from ciimap.core.importer import Reading
from ciimap.inventory.models import Asset

from .conftest import DATA

RECORDED = DATA / "ip-neigh.json"  # `ip -j neigh` on the test machine: one STALE entry, one FAILED


def _read(path: Path, **options: object) -> tuple[list, dict]:
    src = sources.get("ipneigh")
    reading = Reading(path, lambda _n: None)
    return list(src.read(reading, src.options(options))), reading.meta


def test_reader_keeps_entries_with_a_mac_and_counts_the_rest() -> None:
    recs, meta = _read(RECORDED, observer="gw-01")
    assert [(r.ips, r.macs) for r in recs] == [(["192.0.2.1"], ["02:FC:00:00:00:05"])]
    assert recs[0].detail["neigh"] == {"dev": "eth0", "state": ["STALE"], "observer": "gw-01"}
    assert meta == {"entries": 1, "skipped_without_mac": 1, "observer": "gw-01"}


def test_reader_takes_plain_ip_neigh_output(tmp_path: Path) -> None:
    p = tmp_path / "neigh.txt"
    p.write_text(
        "10.20.0.1 dev eth1 lladdr 00:1a:2b:3c:4d:10 REACHABLE\n"
        "fe80::1 dev eth1 lladdr 00:1a:2b:3c:4d:11 router STALE\n"
        "10.20.0.9 dev eth1  FAILED\n"
        "10.20.0.255 dev eth1 lladdr ff:ff:ff:ff:ff:ff PERMANENT\n",
        encoding="utf-8",
    )
    recs, meta = _read(p)
    assert [(r.ips[0], r.macs[0], r.position) for r in recs] == [
        ("10.20.0.1", "00:1A:2B:3C:4D:10", "line 1"),
        ("fe80::1", "00:1A:2B:3C:4D:11", "line 2"),
    ]
    assert recs[1].detail["neigh"]["router"] is True
    assert meta["skipped_without_mac"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"dst": "10.0.0.300", "lladdr": "00:11:22:33:44:55"}]', "entry 1: '10.0.0.300' is not an IP"),
        ("10.0.0.1 dev eth0 lladdr 00:11:22:33:44 REACHABLE\n", "line 1: '00:11:22:33:44' is not a MAC"),
        ('[{"dst": "10.0.0.1"', "invalid JSON"),
        ('{"dst": "10.0.0.1"}', "not 'ip -j neigh' output"),
        ("[]", "lists no entries"),
    ],
)
def test_reader_refuses_bad_input_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "bad-neigh.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as e:
        _read(p)
    assert "bad-neigh.json" in str(e.value) and message in str(e.value) and "\n" not in str(e.value)


def test_options_are_typed() -> None:
    with pytest.raises(Invalid, match="ipneigh options: asset_id: Extra inputs are not permitted"):
        sources.get("ipneigh").options({"asset_id": 3})


def test_import_creates_assets_and_never_marks_missing(database, run_import, tmp_path) -> None:
    """Each entry is an asset known by IP and MAC; a later table without it marks nothing missing."""
    first = run_import("ipneigh", RECORDED, options={"observer": "gw-01"})
    assert (first["kind"], first["assets_created"], first["scope"]) == ("ipneigh", 1, "ipneigh")
    assert first["meta"]["ip-neigh.json"]["skipped_without_mac"] == 1
    other = tmp_path / "later.txt"
    other.write_text("192.0.2.7 dev eth0 lladdr 02:fc:00:00:00:07 REACHABLE\n", encoding="utf-8")
    second = run_import("ipneigh", other)
    assert (second["assets_created"], second["missing"]) == (1, 0)
    with database.read_session() as s:
        assets = {a.primary_ip: (a.macs, a.lifecycle_status) for a in s.scalars(select(Asset))}
    assert set(assets) == {"192.0.2.1", "192.0.2.7"}
    assert assets["192.0.2.1"][0] == ["02:FC:00:00:00:05"] and assets["192.0.2.1"][1] != "missing"


def test_cli_passes_any_source_option_by_name(database) -> None:
    """``-o NAME=VALUE`` reaches the source's typed options: a new source needs no new CLI flag."""
    import json

    from typer.testing import CliRunner

    from ciimap.cli import app

    r = CliRunner().invoke(app, ["import", "ipneigh", str(RECORDED), "-o", "observer=gw-01", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["meta"]["ip-neigh.json"]["observer"] == "gw-01"
    r = CliRunner().invoke(app, ["import", "ipneigh", str(RECORDED), "-o", "colour=red"])
    assert isinstance(r.exception, Invalid) and "ipneigh options: colour" in str(r.exception)
