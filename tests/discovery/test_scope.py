"""Scope checks (every target entirely inside one enabled scope) and the nmap argument list."""

from __future__ import annotations

from pathlib import Path

import pytest

from ciimap.core.errors import Invalid, OutOfScope
from ciimap.discovery import nmap, service
from ciimap.discovery import targets as tg

HOSTS = {"web01": ["127.0.0.3"], "outside": ["10.9.9.9"], "v6host": ["fd00::5"]}


@pytest.fixture
def scopes(database):
    with database.unit_of_work() as s:
        service.create_scope(s, name="lab", cidrs=["127.0.0.0/29", "fd00::/120"], max_rate=200)
        service.create_scope(
            s, name="dmz", cidrs=["192.0.2.10-192.0.2.20"], allowed_ports="22,80,443", max_rate=50
        )
        service.create_scope(s, name="off", cidrs=["198.51.100.0/24"], enabled=False)
    return database


def _plan(db, targets, **kw):
    with db.unit_of_work() as s:
        return service.plan(s, targets=targets, hosts=HOSTS, **kw)


def test_in_scope_targets_pick_their_scope(scopes):
    p = _plan(scopes, ["127.0.0.2", "127.0.0.4-6", "web01"])
    assert p["scope"] == "lab"
    assert p["nmap_targets"] == ["127.0.0.2", "127.0.0.4/31", "127.0.0.6", "127.0.0.3"]
    assert p["rate"] == 200 and p["addresses"] == 5
    assert _plan(scopes, ["192.0.2.12"])["scope"] == "dmz"


def test_out_of_scope_names_the_target(scopes):
    with pytest.raises(OutOfScope, match=r"target '127\.0\.0\.9' is outside any enabled scan scope"):
        _plan(scopes, ["127.0.0.2", "127.0.0.9"])


def test_cidr_partly_outside_is_refused(scopes):
    with pytest.raises(
        OutOfScope, match=r"'127\.0\.0\.0/28' is not entirely inside .*127\.0\.0\.8-127\.0\.0\.15 is outside"
    ):
        _plan(scopes, ["127.0.0.0/28"])
    with pytest.raises(OutOfScope, match=r"not entirely inside scan scope 'dmz'"):
        _plan(scopes, ["192.0.2.0/27"], scope="dmz")


def test_hostnames_only_from_hosts_file(scopes):
    with pytest.raises(OutOfScope, match="target 'outside'"):
        _plan(scopes, ["outside"])
    with pytest.raises(Invalid, match="hostname not found in the local hosts file"):
        _plan(scopes, ["intranet-db.example"])
    with pytest.raises(Invalid, match="not an IP, CIDR, range or hostname"):
        _plan(scopes, ["-sS"])
    with pytest.raises(Invalid, match="not an IP, CIDR, range or hostname"):
        _plan(scopes, ["127.0.0.2;reboot"])


def test_hosts_file_parsing(tmp_path: Path):
    f = tmp_path / "hosts"
    f.write_text(
        "# comment\n127.0.0.3 web01 web01.lab.local  # trailing\n\nfd00::5 v6host\n", encoding="utf-8"
    )
    hosts = tg.read_hosts(f)
    assert hosts == {"web01": ["127.0.0.3"], "web01.lab.local": ["127.0.0.3"], "v6host": ["fd00::5"]}


def test_ipv6(scopes):
    p = _plan(scopes, ["fd00::10", "v6host", "fd00::20-fd00::2f"])
    assert p["scope"] == "lab" and p["nmap_targets"] == ["fd00::10", "fd00::5", "fd00::20/124"]
    with pytest.raises(OutOfScope, match=r"'fd00::1:0/112' is outside"):
        _plan(scopes, ["fd00::1:0/112"])
    with pytest.raises(Invalid, match="IPv4 and IPv6 targets in separate runs"):
        _plan(scopes, ["fd00::10", "127.0.0.2"])
    argv = nmap.build_argv(
        nmap="nmap", targets=p["nmap_targets"], profile="services", ports="22", rate=5, xml=Path("x.xml")
    )
    assert argv[-4:] == ["-6", "fd00::10", "fd00::5", "fd00::20/124"]


def test_disabled_scope_refuses(scopes):
    with pytest.raises(OutOfScope, match="198.51.100.7"):
        _plan(scopes, ["198.51.100.7"])
    with pytest.raises(OutOfScope, match="scan scope 'off' is disabled"):
        _plan(scopes, ["198.51.100.7"], scope="off")
    with scopes.unit_of_work() as s:
        service.update_scope(s, "lab", changes={"enabled": False})
    with pytest.raises(OutOfScope, match="127.0.0.2"):
        _plan(scopes, ["127.0.0.2"])


def test_no_scope_at_all(database):
    with pytest.raises(OutOfScope, match="no enabled scan scope"):
        _plan(database, ["127.0.0.2"])


def test_ports_and_rate_limits(scopes):
    assert _plan(scopes, ["192.0.2.11"])["ports"] == "22,80,443"  # the scope's list by default
    assert _plan(scopes, ["192.0.2.11"], ports="443,22")["ports"] == "22,443"
    with pytest.raises(OutOfScope, match="port 8080 is not allowed in scan scope 'dmz'"):
        _plan(scopes, ["192.0.2.11"], ports="22,8080")
    with pytest.raises(Invalid, match="exceeds the limit of scan scope 'dmz' \\(50\\)"):
        _plan(scopes, ["192.0.2.11"], rate=51)
    with pytest.raises(Invalid, match="ports '22;ls'"):
        _plan(scopes, ["127.0.0.2"], ports="22;ls")
    with pytest.raises(Invalid, match="not within 1-65535"):
        _plan(scopes, ["127.0.0.2"], ports="0-80")


def test_targets_in_two_scopes_and_huge_requests(scopes):
    with pytest.raises(OutOfScope, match="different scan scopes"):
        _plan(scopes, ["127.0.0.2", "192.0.2.11"])
    with pytest.raises(Invalid, match="at most 65536"):
        _plan(scopes, ["10.0.0.0/8"])


def test_scope_validation(database):
    with database.unit_of_work() as s:
        with pytest.raises(Invalid, match="'10.0.0.0/33' is not a valid CIDR"):
            service.create_scope(s, name="bad", cidrs=["10.0.0.0/33"])
        with pytest.raises(Invalid, match="range '10.0.0.9-10.0.0.1' is empty"):
            service.create_scope(s, name="bad", cidrs=["10.0.0.9-10.0.0.1"])


def test_argv_is_a_list_of_fixed_flags(tmp_path: Path):
    xml = tmp_path / "out.xml"
    argv = nmap.build_argv(
        nmap="nmap",
        targets=["127.0.0.2", "127.0.0.4/31"],
        profile="services",
        ports="22,80",
        rate=50,
        xml=xml,
    )
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert argv[0] == "nmap" and argv[-2:] == ["127.0.0.2", "127.0.0.4/31"]
    assert argv[argv.index("--max-rate") + 1] == "50" and argv[argv.index("-oX") + 1] == str(xml)
    assert argv[argv.index("-p") + 1] == "22,80" and "-sV" in argv and "-n" in argv
    assert "--stats-every" in argv
    flags = {a for a in argv if a.startswith("-")}
    allowed = {
        "-n",
        "-T4",
        "--noninteractive",
        "--max-rate",
        "--max-retries",
        "--host-timeout",
        "--stats-every",
        "-oX",
        "-sV",
        "-sn",
        "-O",
        "--osscan-limit",
        "-p",
        "-p-",
        "--top-ports",
        "-6",
    }
    assert flags <= allowed
    assert nmap.build_argv(
        nmap="nmap", targets=["127.0.0.2"], profile="discovery", ports=None, rate=5, xml=xml
    )[-2:] == ["-sn", "127.0.0.2"]
    full = nmap.build_argv(nmap="nmap", targets=["127.0.0.2"], profile="full", ports=None, rate=5, xml=xml)
    assert "-p-" in full and "-O" in full
    with pytest.raises(Invalid, match="unknown scan profile"):
        nmap.build_argv(
            nmap="nmap", targets=["127.0.0.2"], profile="-sS --script=evil", ports=None, rate=5, xml=xml
        )
    with pytest.raises(Invalid, match="looks like an option"):
        nmap.build_argv(nmap="nmap", targets=["--script=x"], profile="services", ports=None, rate=5, xml=xml)


def test_user_input_never_becomes_a_flag(scopes):
    """Whatever the user types, the job parameters hold only validated addresses and port lists."""
    for bad in (["--script", "127.0.0.2"], ["127.0.0.2 -oN /etc/passwd"], ["127.0.0.2,--reason"]):
        with pytest.raises((Invalid, OutOfScope)):
            _plan(scopes, bad)
    with pytest.raises(Invalid, match="unknown scan profile"):
        _plan(scopes, ["127.0.0.2"], profile="-A")


def test_progress_lines_are_parsed():
    seen = []
    last = nmap._progress_line(
        "Service scan Timing: About 42.50% done; ETC: 05:12", 0, lambda d, t, m: seen.append((d, m)), 90
    )
    assert last == 38 and seen[-1] == (38, "nmap Service scan: 42%")
    nmap._progress_line(
        "Stats: 0:00:06 elapsed; 2 hosts completed (3 up)", last, lambda d, t, m: seen.append((d, m)), 90
    )
    assert seen[-1] == (38, "nmap: 2 hosts completed")


def test_nmap_missing_is_a_clear_error(tmp_path: Path):
    with pytest.raises(Invalid, match="nmap not found at '/nonexistent/nmap'"):
        nmap.run(["/nonexistent/nmap", "-V"], progress=lambda *a: None)


def test_scopes_api_is_admin_only(client, admin_headers, analyst_headers, auditor_headers):
    body = {"name": "lab", "cidrs": ["127.0.0.0/29"], "allowed_ports": "8080, 22", "max_rate": 300}
    assert client.post("/api/scan-scopes", json=body, headers=analyst_headers).status_code == 403
    r = client.post("/api/scan-scopes", json=body, headers=admin_headers)
    assert (
        r.status_code == 201 and r.json()["allowed_ports"] == "22,8080" and r.json()["created_by"] == "admin"
    )
    assert client.post("/api/scan-scopes", json=body, headers=admin_headers).json() == {
        "error": "scan scope 'lab' already exists"
    }
    r = client.post(
        "/api/scan-scopes", json={**body, "name": "x", "cidrs": ["10.0.0.0/33"]}, headers=admin_headers
    )
    assert r.status_code == 422 and r.json()["error"] == "'10.0.0.0/33' is not a valid CIDR"
    assert (
        client.patch("/api/scan-scopes/lab", json={"enabled": False}, headers=analyst_headers).status_code
        == 403
    )
    r = client.patch("/api/scan-scopes/lab", json={"enabled": False, "max_rate": 10}, headers=admin_headers)
    assert r.json()["enabled"] is False and r.json()["max_rate"] == 10
    assert [s["name"] for s in client.get("/api/scan-scopes", headers=auditor_headers).json()] == ["lab"]
    r = client.post("/api/discover", json={"targets": ["127.0.0.2"]}, headers=analyst_headers)
    assert (
        r.status_code == 403
        and r.json()["error"]
        == "target '127.0.0.2' refused: no enabled scan scope (an admin adds one with 'ciimap scopes add')"
    )
    assert client.delete("/api/scan-scopes/lab", headers=admin_headers).status_code == 204
    assert client.get("/api/scan-scopes/lab", headers=admin_headers).status_code == 404


def test_scope_changes_are_audited(database):
    from sqlalchemy import select

    from ciimap.core.audit import AuditLog

    with database.unit_of_work() as s:
        service.create_scope(s, name="lab", cidrs=["127.0.0.0/29"], actor="admin")
    with database.unit_of_work() as s:
        service.update_scope(s, "lab", changes={"cidrs": ["127.0.0.0/30"]})
    with database.read_session() as s:
        rows = s.scalars(
            select(AuditLog).where(AuditLog.entity_type == "scan_scope").order_by(AuditLog.id)
        ).all()
        assert [r.action for r in rows] == ["create", "update"]
        assert rows[1].after["cidrs"] == ["127.0.0.0/30"]
