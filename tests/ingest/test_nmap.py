"""nmap XML: parsing the real day1/day2 scans, correlation, change events, missing/returned, why."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ciimap.ingest import changes, decisions
from ciimap.ingest.models import ChangeEvent, ScanDetail
from ciimap.ingest.parsers.nmap import NmapXml, targets_from_args
from ciimap.inventory.models import Asset, IpAddress, ServiceEndpoint

from .conftest import NMAP1, NMAP2


def test_parser_reads_ports_services_os_and_meta() -> None:
    parser = NmapXml(NMAP1)
    hosts = {h.ips[0]: h.complete() for h in parser}
    assert sorted(hosts) == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
    web = {p.port: p for p in hosts["127.0.0.2"].ports}
    assert web[80].product == "nginx" and web[80].version == "1.22.1" and web[80].method == "probed"
    assert web[80].cpes == ["cpe:/a:igor_sysoev:nginx:1.22.1"] and web[80].conf == 10
    assert web[8000].extrainfo == "Python 3.11.7"
    redis = {p.port: p for p in hosts["127.0.0.3"].ports}[6379]
    assert redis.name == "redis" and redis.state == "open"
    assert hosts["127.0.0.2"].os_name == "Linux 5.0 - 5.2" and hosts["127.0.0.2"].os_accuracy == 96
    assert hosts["127.0.0.2"].detail["os_matches"][1]["name"] == "Linux 3.1"
    assert hosts["127.0.0.2"].detail["extraports"] == {"closed": 9997}
    assert parser.meta["targets"] == ["127.0.0.2-6"] and parser.meta["version"] == "7.93"
    assert parser.meta["start"] == 1795236238 and parser.meta["finished"]


def test_targets_skip_option_values() -> None:
    assert targets_from_args("nmap -sV -p 1-100 -oX out.xml --script vuln 10.0.0.0/24 host.example") == [
        "10.0.0.0/24",
        "host.example",
    ]


def test_day1_day2_change_events(database, run_import, count) -> None:
    r1 = run_import("nmap", NMAP1)
    assert r1["assets_created"] == 5 and r1["changes"] == 0 and r1["baseline"] is True
    assert r1["scope"] == "nmap:127.0.0.2-6"
    assert count(ServiceEndpoint) == 5 and count(IpAddress) == 5
    r2 = run_import("nmap", NMAP2)
    assert r2["assets_created"] == 0 and r2["scope"] == r1["scope"]
    with database.read_session() as s:
        evs = {
            (e.kind, e.subject)
            for e in s.scalars(select(ChangeEvent).where(ChangeEvent.run_id == r2["run_id"]))
        }
        redis = s.scalar(select(ServiceEndpoint).where(ServiceEndpoint.port == 6379))
        assert redis.state == "closed"  # kept, never deleted
        new = s.scalar(select(ServiceEndpoint).where(ServiceEndpoint.port == 8443))
        assert new.product == "SimpleHTTPServer" and new.method == "probed"
    assert evs == {("port_closed", "127.0.0.3 tcp/6379"), ("port_opened", "127.0.0.6 tcp/8443")}
    r3 = run_import("nmap", NMAP2)
    assert r3["assets_unchanged"] == 5 and r3["changes"] == 0 and r3["assets_updated"] == 0


def test_missing_then_returned(database, run_import, tmp_path: Path) -> None:
    text = NMAP1.read_text()
    start = text.index('<host starttime="', text.index('addr="127.0.0.4"') - 400)
    start = text.rfind("<host ", 0, text.index('addr="127.0.0.4"'))
    end = text.index("</host>", start) + len("</host>")
    partial = tmp_path / "partial.xml"
    partial.write_text(text[:start] + text[end:])
    run_import("nmap", NMAP1)
    r = run_import("nmap", partial)
    assert r["missing"] == 1
    with database.read_session() as s:
        a = s.scalar(select(Asset).where(Asset.primary_ip == "127.0.0.4"))
        assert a.lifecycle_status == "missing"
        kinds = [e.kind for e in s.scalars(select(ChangeEvent).where(ChangeEvent.run_id == r["run_id"]))]
        assert kinds == ["asset_missing"]
    r = run_import("nmap", NMAP1)
    with database.read_session() as s:
        assert s.scalar(select(Asset.lifecycle_status).where(Asset.primary_ip == "127.0.0.4")) == "active"
        kinds = [e.kind for e in s.scalars(select(ChangeEvent).where(ChangeEvent.run_id == r["run_id"]))]
        assert kinds == ["asset_returned"]


def test_why_and_scan_detail(database, run_import) -> None:
    r1 = run_import("nmap", NMAP1)
    run_import("nmap", NMAP2)
    with database.read_session() as s:
        aid = s.scalar(select(Asset.id).where(Asset.primary_ip == "127.0.0.2"))
        data = decisions.why(s, asset_id=aid)
        detail = s.scalar(select(ScanDetail.data).where(ScanDetail.asset_id == aid))
        runs = [(r.status, r.meta) for r in changes.list_runs(s)]
    assert data["identities"][0]["key"] == "ip" and data["identities"][0]["first_run_id"] == r1["run_id"]
    assert "ip=127.0.0.2 from nmap created this asset in run" in data["explanation"][0]
    assert any(p["attribute"] == "os_name" for p in data["provenance"])
    assert detail["os_matches"][0]["accuracy"] >= 90
    assert [r[0] for r in runs] == ["succeeded", "succeeded"]
    assert runs[0][1]["loopback-sV-O-day2.xml"]["args"].startswith("nmap ")


def test_explicit_scope_separates_history(database, run_import) -> None:
    run_import("nmap", NMAP1, scope="dc-a")
    r = run_import("nmap", NMAP2, scope="dc-b")
    assert r["baseline"] is True and r["changes"] == 0


def test_fingerprint_ignores_per_scan_noise_only() -> None:
    from lxml import etree

    from ciimap.ingest.parsers.nmap import host_keys

    def fp(ttl: str, fp_text: str, version: str) -> str:
        xml = (
            f'<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><ports>'
            f'<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="{ttl}"/>'
            f'<service name="ssh" version="{version}" servicefp="{fp_text}" method="probed" conf="10"/>'
            f"</port></ports></host>"
        )
        rec = host_keys(etree.fromstring(xml), 1)
        assert rec is not None and rec.fingerprint
        return rec.fingerprint

    base = fp("64", "SF-Port22-TCP:V=7.93", "8.9")
    assert (
        fp("63", "SF-Port22-TCP:V=7.94%D=11/21", "8.9") == base
    )  # TTL and raw service fingerprint vary per scan
    assert fp("64", "SF-Port22-TCP:V=7.93", "9.0") != base  # a version change is a change


def test_ip_address_rows_keep_the_mac_address(database, run_import, tmp_path: Path) -> None:
    """The MAC of a single-address host is stored on its ip_address row (it was lost in a comment)."""
    text = NMAP1.read_text()
    marker = '<address addr="127.0.0.4" addrtype="ipv4"/>'
    assert marker in text
    scan = tmp_path / "mac.xml"
    scan.write_text(
        text.replace(marker, marker + '<address addr="aa:bb:cc:00:11:22" addrtype="mac" vendor="Dell"/>')
    )
    run_import("nmap", scan)
    with database.read_session() as s:
        row = s.execute(
            select(IpAddress.mac, IpAddress.mac_vendor).where(IpAddress.address == "127.0.0.4")
        ).one()
        assert tuple(row) == ("AA:BB:CC:00:11:22", "Dell")
        assert s.scalar(select(IpAddress.mac).where(IpAddress.address == "127.0.0.2")) is None
