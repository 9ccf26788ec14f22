"""Alert imports through the one runner on both databases: storage, mapping onto the map (asset by IP
as of the alert's time, zone by CIDR, systems and services, agent names), severity and priority,
listing filters, the API's roles and the CLI's JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.alerts import service
from ciimap.alerts.models import Alert
from ciimap.alerts.severity import Context, priority, scales
from ciimap.cli import app as cli_app
from ciimap.config import get_settings
from ciimap.core import jobs
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.ingest.models import ImportRun
from ciimap.ingest.service import import_files
from ciimap.inventory.models import Asset, BusinessService, Edge, IpAddress, NetworkZone, System
from ciimap.vulns.models import Advisory, FeedImport, Finding

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
OWN = Path(__file__).resolve().parents[1] / "data" / "alerts"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _map(db: Database) -> dict[str, int]:
    """web-01 (10.20.1.10) in a CII system (MLPS 3) needed by a critical service; a DMZ zone."""
    with db.unit_of_work() as s:
        zone = NetworkZone(name="生产网", kind="production", cidrs=["10.20.0.0/16"])
        dmz = NetworkZone(name="DMZ", kind="dmz", cidrs=["10.20.2.0/24"], internet_facing=True)
        system = System(name="SCADA", is_cii=True, mlps_level=3)
        svc = BusinessService(name="供电调度", criticality="critical")
        s.add_all([zone, dmz, system, svc])
        s.flush()
        web = Asset(
            name="web-01",
            hostname="web-01",
            primary_ip="10.20.1.10",
            system_id=system.id,
            zone_id=zone.id,
            criticality="high",
            first_seen=T0,
            last_seen=T0,
        )
        mgr = Asset(name="wazuh manager", hostname="localhost.localdomain", criticality="low")
        s.add_all([web, mgr])
        s.flush()
        s.add(IpAddress(asset_id=web.id, address="10.20.1.10", first_seen=T0, last_seen=T0))
        s.add(
            Edge(
                src_type="business_service",
                src_id=svc.id,
                kind="depends_on",
                dst_type="system",
                dst_id=system.id,
            )
        )
        return {
            "zone": zone.id,
            "dmz": dmz.id,
            "system": system.id,
            "service": svc.id,
            "web": web.id,
            "mgr": mgr.id,
        }


def _import(db: Database, kind: str, path: Path, **options: Any) -> dict[str, Any]:
    with db.unit_of_work() as s:
        return dict(import_files(s, kind=kind, paths=[path], options=options))


def test_syslog_import_maps_addresses_zones_systems_and_services(database: Database) -> None:
    ids = _map(database)
    result = _import(database, "syslog", OWN / "syslog.log")
    assert (result["events"], result["rejected"]) == (12, 0)
    with database.read_session() as s:
        rows = {a.rule_id: a for a in s.scalars(select(Alert))}
        asa = rows["ASA-106023"]
        assert (asa.dest_asset_id, asa.dest_matched_by, asa.dest_zone_id) == (ids["web"], "ip", ids["zone"])
        assert (asa.src_asset_id, asa.src_matched_by, asa.src_internal) == (None, None, False)
        assert (asa.system_ids, asa.service_ids) == ([ids["system"]], [ids["service"]])
        # medium raised by: asset high 0.5 + service critical 1 + CII 1 + MLPS 3 0.5 = 3 → at most 2 steps
        assert (asa.severity, asa.priority) == ("medium", "critical")
        assert "cii" in asa.priority_reasons and "service_criticality:critical" in asa.priority_reasons
        built = rows["ASA-302013"]  # 10.20.2.15: in the DMZ's CIDR (the most specific zone), no asset
        assert (built.dest_asset_id, built.dest_zone_id, built.dest_matched_by) == (None, ids["dmz"], "cidr")
        run = s.get(ImportRun, result["run_id"])
        assert built.time == run.started_at  # no time in the line: the import's
        sshd = rows["sshd"]  # no destination address: the HOSTNAME is the attacked host
        assert (sshd.dest_asset_id, sshd.dest_matched_by, sshd.src_ip) == (
            ids["web"],
            "hostname",
            "203.0.113.5",
        )
        candidates = {c["ip"]: c for c in service.unmanaged(s)}
        assert set(candidates) == {"10.20.2.15", "10.20.3.7", "10.20.1.55"}
        assert candidates["10.20.2.15"]["alerts"] == 2 and candidates["10.20.2.15"]["zone_id"] == ids["dmz"]


def test_asset_by_ip_as_of_the_alert_time(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        old = Asset(name="old", first_seen=T0, last_seen=T0)
        new = Asset(name="new", first_seen=T0, last_seen=T0)
        s.add_all([old, new])
        s.flush()
        s.add(
            IpAddress(
                asset_id=old.id,
                address="10.1.1.1",
                first_seen=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                last_seen=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
            )
        )
        s.add(
            IpAddress(
                asset_id=new.id,
                address="10.1.1.1",
                first_seen=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
                last_seen=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
        old_id, new_id = old.id, new.id
    f = tmp_path / "eve.json"
    line = '{{"timestamp":"{t}","event_type":"alert","src_ip":"198.51.100.1","dest_ip":"10.1.1.1","alert":{{"signature_id":{n},"severity":2}}}}'
    f.write_text(
        "\n".join(
            line.format(t=t, n=n)
            for n, t in (
                (1, "2024-12-01T00:00:00+0000"),
                (2, "2025-03-01T00:00:00+0000"),
                (3, "2025-08-01T00:00:00+0000"),
            )
        )
        + "\n"
    )
    _import(database, "suricata", f)
    with database.read_session() as s:
        got = {a.rule_id: a.dest_asset_id for a in s.scalars(select(Alert))}
    # before anyone held it: the first holder; then the holder at the time
    assert got == {"1": old_id, "2": old_id, "3": new_id}


def test_wazuh_agent_name_and_open_finding_cve_raise_priority(database: Database, tmp_path: Path) -> None:
    ids = _map(database)
    result = _import(database, "wazuh", SHARED / "alerts" / "wazuh" / "alerts_integratord_samples.json")
    assert (result["events"], result["rejected"]) == (2, 0)
    with database.read_session() as s:
        first = s.scalars(select(Alert).order_by(Alert.id)).first()
        assert first is not None
        assert (first.rule_id, first.raw_severity, first.severity) == ("5712", "10", "high")
        assert (first.dest_asset_id, first.dest_matched_by, first.src_ip) == (
            ids["mgr"],
            "agent",
            "172.17.1.1",
        )
    with database.unit_of_work() as s:
        feed = FeedImport(kind="osv", source="t", snapshot_date=dt.date(2026, 1, 1), checksum="0" * 64)
        s.add(feed)
        s.flush()
        adv = Advisory(
            advisory_id="CVE-2021-44228",
            source="nvd",
            aliases=[],
            summary="log4shell",
            severity="critical",
            feed_import_id=feed.id,
        )
        s.add(adv)
        s.flush()
        s.add(
            Finding(
                target_type="software",
                target_id=1,
                asset_id=ids["web"],
                advisory_pk=adv.id,
                advisory_id=adv.advisory_id,
                cve_ids=["CVE-2021-44228"],
                package="pkg:maven/log4j",
                match_kind="purl",
                triage_key="k",
            )
        )
    f = tmp_path / "fgt.log"
    f.write_text([ln for ln in (OWN / "syslog.log").read_text().splitlines() if "devname" in ln][0] + "\n")
    _import(database, "syslog", f)
    with database.read_session() as s:
        fgt = s.scalars(select(Alert).where(Alert.rule_id == "0419016384")).one()
        assert fgt.cves == ["CVE-2021-44228"] and "open_finding:CVE-2021-44228" in fgt.priority_reasons


def test_severity_scales_and_priority_formula() -> None:
    sc = scales()
    assert [sc.ranges("wazuh", n) for n in (0, 3, 4, 7, 10, 13, 15)] == [
        "low",
        "low",
        "low",
        "medium",
        "high",
        "critical",
        "critical",
    ]
    assert [sc.suricata(n, None, "alert") for n in (1, 2, 3, 200)] == ["high", "medium", "low", "low"]
    assert sc.suricata(3, "Critical", "alert") == "critical"  # ET signature_severity wins when higher
    assert [
        sc.number_or_word("cef", "cef_words", v) for v in ("0", "5", "8", "10", "Very-High", "Medium")
    ] == ["low", "medium", "high", "critical", "critical", "medium"]
    conf = sc.priority()
    assert priority("low", [], [], conf) == ("low", [])
    assert priority("low", [Context(internet_facing=True)], [], conf)[0] == "low"  # 0.5 rounds down
    cve = Context(open_cves=frozenset({"CVE-2024-1"}))
    assert priority("low", [cve], ["CVE-2024-1"], conf) == ("high", ["open_finding:CVE-2024-1"])
    assert (
        priority("high", [Context(cii=True, criticality="critical", mlps_level=4)], [], conf)[0] == "critical"
    )


def test_severity_mapping_file_is_replaceable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "sev.json"
    f.write_text(json.dumps({"suricata": {"1": "critical", "default": "medium"}}))
    monkeypatch.setenv("CIIMAP_ALERT_SEVERITY", str(f))
    assert scales().suricata(1, None, "alert") == "critical"
    assert scales().ranges("wazuh", 10) == "high"  # keys left out keep their defaults
    f2 = tmp_path / "bad.json"
    f2.write_text(json.dumps({"nonsense": 1}))
    monkeypatch.setenv("CIIMAP_ALERT_SEVERITY", str(f2))
    with pytest.raises(Exception, match="unknown keys"):
        scales()


def test_malformed_lines_are_stored_raw_and_a_wrong_file_is_refused(
    database: Database, tmp_path: Path
) -> None:
    f = tmp_path / "mixed.json"
    good = (SHARED / "alerts" / "suricata" / "telegraf_test3.json").read_text().strip()
    nul = '{"timestamp":"2026-01-01T00:00:00+0000","event_type":"alert","alert":{"signature":"a\\u0000b"}}'
    f.write_text(good + "\n{broken\n" + nul + "\n")
    result = _import(database, "suricata", f)
    assert (result["events"], result["rejected"]) == (2, 1)
    with database.read_session() as s:
        bad = s.scalars(select(Alert).where(Alert.reject.is_not(None))).one()
        assert (bad.raw, bad.line_no) == ("{broken", 2) and "invalid JSON" in (bad.reject or "")
    with pytest.raises(InputFileError, match="not Wazuh alerts.json"):
        _import(database, "wazuh", OWN / "syslog.log")
    with database.read_session() as s:
        runs = s.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        assert [r.status for r in runs] == ["succeeded", "failed"]
        assert len(s.scalars(select(Alert)).all()) == 3  # the refused file wrote nothing
        assert s.scalars(select(Alert.rule_name).where(Alert.line_no == 3)).one() == "ab"


def test_listing_filters(database: Database) -> None:
    ids = _map(database)
    _import(database, "syslog", OWN / "syslog.log")
    _import(database, "cef", OWN / "cef.log")
    with database.read_session() as s:
        everything = service.list_alerts(s, limit=1000)
        assert len(everything) == 17
        times = [a["time"] for a in everything]
        assert times == sorted(times, reverse=True)
        assert all(a["intel_matches"] == [] for a in everything)
        by_system = service.list_alerts(s, system_id=ids["system"])
        by_service = service.list_alerts(s, service_id=ids["service"])
        by_asset = service.list_alerts(s, asset_id=ids["web"])
        assert {a["id"] for a in by_system} == {a["id"] for a in by_service} == {a["id"] for a in by_asset}
        assert len(by_asset) == 4  # ASA deny, FortiGate, Junos and sshd (by hostname) at 10.20.1.10
        assert {a["dest_ip"] for a in service.list_alerts(s, zone_id=ids["dmz"])} == {"10.20.2.15"}
        assert {a["kind"] for a in service.list_alerts(s, kind="cef")} == {"cef"}
        assert {a["severity"] for a in service.list_alerts(s, severity="critical")} == {"critical"}
        since = service.list_alerts(s, since=dt.datetime(2026, 10, 5, 3, 0, tzinfo=dt.UTC))
        assert since and all(a["time"] >= "2026-10-05T03:00:00" for a in since)
        assert len(service.list_alerts(s, limit=2, offset=1)) == 2


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """Capture dispatched job ids; the test runs them with the real ``jobs.execute``."""
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    ids: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", ids.append)
    return ids


def test_api_roles_and_routes(
    client: Any,
    database: Database,
    admin_headers: Any,
    analyst_headers: Any,
    auditor_headers: Any,
    queued: list[int],
) -> None:
    ids = _map(database)
    files = [("files", ("eve.json", (OWN / "syslog.log").read_bytes()))]
    assert (
        client.post(
            "/api/alerts/import", headers=auditor_headers, data={"kind": "syslog"}, files=files
        ).status_code
        == 403
    )
    r = client.post("/api/alerts/import", headers=analyst_headers, data={"kind": "nmap"}, files=files)
    assert r.status_code == 422 and "unknown alert source kind 'nmap'" in r.json()["error"]
    bad = {"kind": "syslog", "options": '{"timezone": "Mars/Olympus"}'}
    r = client.post("/api/alerts/import", headers=analyst_headers, data=bad, files=files)
    assert r.status_code == 422 and "unknown time zone" in r.json()["error"]
    r = client.post("/api/alerts/import", headers=analyst_headers, data={"kind": "syslog"}, files=files)
    assert r.status_code == 202, r.text
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "succeeded" and (job["result"]["events"], job["result"]["rejected"]) == (12, 0)

    assert client.get("/api/alerts").status_code == 401
    r = client.get("/api/alerts", headers=auditor_headers, params={"asset_id": ids["web"]})
    assert r.status_code == 200 and len(r.json()) == 4
    item = r.json()[0]
    for key in ("src_ip", "dest_ip", "src_asset_id", "dest_asset_id", "severity", "intel_matches"):
        assert key in item
    assert item["dest_asset_id"] == ids["web"] and item["intel_matches"] == []
    one = client.get(f"/api/alerts/{item['id']}", headers=auditor_headers).json()
    assert one["raw"] and one["mapping"]["dest"]["asset"] == {"id": ids["web"], "name": "web-01"}
    assert client.get("/api/alerts/999999", headers=auditor_headers).status_code == 404
    assert client.get("/api/alerts?severity=bogus", headers=auditor_headers).status_code == 422
    cands = client.get("/api/alerts/unmanaged", headers=auditor_headers).json()
    assert {c["ip"] for c in cands} == {"10.20.2.15", "10.20.3.7", "10.20.1.55"}


def test_cli_import_and_list_json(database: Database) -> None:
    ids = _map(database)
    runner = CliRunner()
    r = runner.invoke(cli_app, ["alerts", "import", "syslog", str(OWN / "syslog.log"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert (out["events"], out["rejected"]) == (12, 0) and out["run_id"]
    r = runner.invoke(cli_app, ["alerts", "list", "--json", "--asset", str(ids["web"])])
    items = json.loads(r.output)
    assert items and all(ids["web"] in (a["src_asset_id"], a["dest_asset_id"]) for a in items)
    assert all(
        {"src_ip", "dest_ip", "src_asset_id", "dest_asset_id", "severity", "intel_matches"} <= set(a)
        for a in items
    )
    r = runner.invoke(cli_app, ["alerts", "show", str(items[0]["id"]), "--json"])
    assert json.loads(r.output)["mapping"]["dest"]["asset"]["name"] == "web-01"
