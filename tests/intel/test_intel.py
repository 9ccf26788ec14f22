"""Threat intelligence on both databases: the STIX and MISP readers (values, TLP, producer, validity,
complex patterns, CVEs), refused files, matching alerts as they load, the retro-hunt after an intel
import, the links of ``intel show`` (assets, advisories, findings), the API's roles and the CLI's JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from ciimap.alerts.models import Alert
from ciimap.cli import app as cli_app
from ciimap.config import get_settings
from ciimap.core import jobs
from ciimap.core.db import Database
from ciimap.core.errors import InputFileError
from ciimap.core.importer import Reading
from ciimap.ingest.models import ImportRun
from ciimap.ingest.service import import_files
from ciimap.intel import service
from ciimap.intel.models import Indicator
from ciimap.intel.sources.misp import Misp
from ciimap.intel.sources.stix import Stix, values
from ciimap.inventory.models import Asset, IpAddress
from ciimap.vulns.models import Advisory, AdvisoryAlias, FeedImport, Finding

DATA = Path(__file__).resolve().parents[1] / "data"
INTEL = DATA / "intel"
EVE = DATA / "alerts" / "suricata-eve.json"
T0 = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _read(src: Any, path: Path, **options: Any) -> tuple[list[Any], dict[str, Any]]:
    reading = Reading(path, lambda _n: None)
    records = list(src.read(reading, src.options(options)))
    return records, reading.meta


def _import(db: Database, kind: str, path: Path, **options: Any) -> dict[str, Any]:
    with db.unit_of_work() as s:
        return dict(import_files(s, kind=kind, paths=[path], options=options))


def test_stix_reader_values_tlp_validity_and_complex_patterns() -> None:
    records, meta = _read(Stix(), INTEL / "stix-mixed.json")
    by_value = {r.value: r for r in records}
    c2 = by_value["179.60.192.3"]
    assert (c2.type, c2.tlp, c2.confidence, c2.producer) == ("ip", "green", 85, "某省网络安全协调中心")
    assert c2.labels == ["malicious-activity"] and c2.cves == ["CVE-2021-44228"]
    assert c2.context == "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d" and c2.raw["confidence"] == 85
    # one pattern, two values (OR); the domain normalised; TLP 2.0 marking definition of the bundle
    assert by_value["www.eicar.org"].type == "domain" and by_value["www.eicar.org"].tlp == "amber+strict"
    assert by_value["http://www.eicar.org/download/eicar.com"].type == "url"
    md5 = by_value["44d88612fea8a8f36de82e1278abb02f"]
    assert (md5.type, md5.hash_algo) == ("hash", "md5")
    assert by_value["2001:db8::1"].type == "ip"  # ipv6 canonical
    assert by_value["54.192.18.125"].valid_until == dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    other = [r for r in records if r.type == "other"]
    assert len(other) == 1 and "FOLLOWEDBY" in (other[0].note or "") and "exfil.example" in other[0].value
    assert "203.0.113.9" not in by_value  # revoked
    assert (meta["indicators"], meta["complex"], meta["skipped"], meta["cves"]) == (
        6,
        1,
        1,
        ["CVE-2021-44228"],
    )


def test_stix_pattern_values_use_the_pattern_grammar() -> None:
    assert values("[url:value = 'http://a.example/it\\'s']") == (
        [("url", "http://a.example/it's", None)],
        None,
    )
    found, why = values("[email-message:subject MATCHES '^x']")
    assert found == [] and why and "email-message:subject MATCHES" in why
    found, why = values("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS")
    assert found == [] and why and "WITHIN" in why


def test_misp_reader_the_real_event_and_composite_types(tmp_path: Path) -> None:
    records, meta = _read(Misp(), INTEL / "misp-xorist.json")
    assert sorted((r.hash_algo, r.value) for r in records) == [
        ("md5", "0749bae92ca336a02c83d126e04ec628"),
        ("sha1", "77b0c41b7d340b8a3d903f21347bbf06aa766b5b"),
        ("sha256", "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"),
    ]
    assert {(r.tlp, r.producer, r.context) for r in records} == {
        ("clear", "CIRCL", "57c4445b-c548-4654-af0b-4be3950d210f")
    }
    assert meta["skipped_types"] == {"comment": 1, "filename": 1, "link": 2, "regkey|value": 1, "text": 1}
    event = {
        "response": [
            {
                "Event": {
                    "info": "测试事件",
                    "uuid": "4f1d2c3b-0000-4000-8000-000000000001",
                    "Tag": [{"name": "tlp:ex:chr"}, {"name": "tlp:amber"}],
                    "Attribute": [
                        {
                            "type": "domain|ip",
                            "value": "bad.example|198.51.100.20",
                            "category": "Network activity",
                            "timestamp": "1767225600",
                        },
                        {
                            "type": "ip-dst|port",
                            "value": "198.51.100.21|8443",
                            "category": "Network activity",
                        },
                        {
                            "type": "filename|sha256",
                            "value": "x.exe|" + "A" * 64,
                            "category": "Payload delivery",
                            "Tag": [{"name": "tlp:red"}],
                        },
                        {"type": "vulnerability", "value": "cve-2021-44228", "category": "External analysis"},
                    ],
                }
            }
        ]
    }
    f = tmp_path / "event.json"
    f.write_text(json.dumps(event), encoding="utf-8")
    records, meta = _read(Misp(), f, valid_days=30)
    got = {(r.type, r.value, r.tlp) for r in records}
    assert got == {
        ("domain", "bad.example", "amber"),
        ("ip", "198.51.100.20", "amber"),
        ("ip", "198.51.100.21", "amber"),
        ("hash", "a" * 64, "red"),
    }
    assert all(r.cves == ["CVE-2021-44228"] for r in records)
    assert all("tlp:ex:chr" in r.labels for r in records)  # not a TLP level: kept as a label
    # expiry: 30 days after the attribute's time, or after the import when it has none
    jan = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert {r.valid_until for r in records if r.valid_from == jan} == {jan + dt.timedelta(days=30)}
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    untimed = [r.valid_until for r in records if r.valid_from is None]
    assert len(untimed) == 2 and all(u and abs((u - soon).total_seconds()) < 3600 for u in untimed)


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("stix", b"not json", "not a STIX 2.1 bundle: not JSON"),
        ("stix", (INTEL / "misp-xorist.json").read_bytes(), "not a STIX 2.1 bundle: the top-level"),
        ("misp", (INTEL / "stix-c2-with-coa.json").read_bytes(), "not a MISP event: no Event"),
        (
            "stix",
            b'{"type": "bundle", "id": "bundle--63fe3b22-0201-47cf-85d0-97c02164528d",'
            b' "objects": [{"type": "indicator", "id": "x"}]}',
            "not a valid STIX 2.1 bundle",
        ),
        (
            "misp",
            b'{"Event": {"info": "x", "Attribute": [{"type": "md5", "value": "zz"}]}}',
            "not a md5 hash",
        ),
        ("misp", b"\xff\xfe{}", "UTF-8"),
    ],
)
def test_bad_files_are_one_error_and_nothing_is_written(
    database: Database, tmp_path: Path, kind: str, content: bytes, message: str
) -> None:
    f = tmp_path / "intel.json"
    f.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        _import(database, kind, f)
    assert message in e.value.message and str(f) in e.value.message and "\n" not in e.value.message
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Indicator)) == 0
        run = s.scalars(select(ImportRun)).one()
        assert run.status == "failed" and message in (run.error or "")


def test_a_bundle_without_indicators_imports_zero_with_a_warning(database: Database, tmp_path: Path) -> None:
    f = tmp_path / "vulns.json"
    doc = json.loads((INTEL / "stix-mixed.json").read_text(encoding="utf-8"))
    doc["objects"] = [o for o in doc["objects"] if o["type"] != "indicator"]
    f.write_text(json.dumps(doc), encoding="utf-8")
    result = _import(database, "stix", f)
    assert result["indicators"] == 0 and result["cves"] == []
    assert result["warnings"] == ["vulns.json: no indicators in this a STIX 2.1 bundle: nothing to match"]


def _assets(db: Database) -> dict[str, int]:
    with db.unit_of_work() as s:
        a = Asset(name="ws-05", primary_ip="10.0.0.5", criticality="high", first_seen=T0, last_seen=T0)
        b = Asset(name="ws-11", primary_ip="10.16.1.11", criticality="low", first_seen=T0, last_seen=T0)
        s.add_all([a, b])
        s.flush()
        s.add(IpAddress(asset_id=a.id, address="10.0.0.5", first_seen=T0, last_seen=T0))
        s.add(IpAddress(asset_id=b.id, address="10.16.1.11", first_seen=T0, last_seen=T0))
        return {"ws-05": a.id, "ws-11": b.id}


def _matches(db: Database) -> dict[str | None, list[str]]:
    with db.read_session() as s:
        return {a.dest_ip: a.intel_matches for a in s.scalars(select(Alert).where(Alert.reject.is_(None)))}


#: A Suricata alert with its HTTP metadata (the shape EVE writes with ``metadata: yes``).
HTTP_ALERT = {
    "timestamp": "2026-02-01T10:00:00.000000+0800",
    "event_type": "alert",
    "src_ip": "10.16.1.11",
    "src_port": 59908,
    "dest_ip": "188.40.238.250",
    "dest_port": 80,
    "proto": "TCP",
    "alert": {"signature_id": 2000001, "signature": "ET POLICY download", "severity": 2},
    "http": {"hostname": "www.eicar.org", "url": "/download/eicar.com"},
    "fileinfo": {"md5": "44D88612FEA8A8F36DE82E1278ABB02F"},
}


def test_alerts_match_active_indicators_as_they_load(database: Database, tmp_path: Path) -> None:
    ids = _assets(database)
    assert _import(database, "stix", INTEL / "stix-mixed.json")["indicators"] == 6
    _import(database, "suricata", EVE)
    http = tmp_path / "eve-http.json"
    http.write_text(json.dumps(HTTP_ALERT) + "\n", encoding="utf-8")
    _import(database, "suricata", http)
    got = _matches(database)
    assert got["179.60.192.3"] == ["179.60.192.3"]  # the C2 address (destination)
    # an alert naming the indicators' domain, URL and file hash in its http/fileinfo fields
    assert got["188.40.238.250"] == [
        "44d88612fea8a8f36de82e1278abb02f",
        "http://www.eicar.org/download/eicar.com",
        "www.eicar.org",
    ]
    assert got["54.192.18.125"] == []  # that indicator expired in 2021
    # the CLI shows them
    r = CliRunner().invoke(cli_app, ["alerts", "list", "--json", "--asset", str(ids["ws-05"])])
    assert r.exit_code == 0, r.output
    assert [a["intel_matches"] for a in json.loads(r.output)] == [["179.60.192.3"]]


def test_retro_hunt_and_the_links_of_show(database: Database) -> None:
    ids = _assets(database)
    _import(database, "suricata", EVE)
    assert all(m == [] for m in _matches(database).values())
    with database.unit_of_work() as s:
        fi = FeedImport(
            kind="nvd", source="x", snapshot_date=dt.date(2026, 1, 1), checksum="0", imported_by="t"
        )
        s.add(fi)
        s.flush()
        adv = Advisory(advisory_id="CVE-2021-44228", source="nvd", summary="Log4j JNDI", severity="critical")
        s.add(adv)
        s.flush()
        s.add(AdvisoryAlias(alias="CVE-2021-44228", advisory_pk=adv.id))
        s.add(
            Finding(
                target_type="software",
                target_id=1,
                asset_id=ids["ws-11"],
                advisory_pk=adv.id,
                advisory_id=adv.advisory_id,
                cve_ids=["CVE-2021-44228"],
                package="pkg:maven/org.apache.logging.log4j/log4j-core",
                version="2.14.1",
                match_kind="purl",
                triage_key="k",
            )
        )
    result = _import(database, "stix", INTEL / "stix-mixed.json")
    assert result["retro_hunt"] == {"alerts": 1}  # addresses only: 179.60.192.3 (the others expired)
    got = _matches(database)
    assert got["179.60.192.3"] == ["179.60.192.3"] and got["54.192.18.125"] == []
    # importing the same bundle again replaces its indicators (no doubles) and finds nothing new
    again = _import(database, "stix", INTEL / "stix-mixed.json")
    assert again["retro_hunt"] == {"alerts": 0} and again["stats"]["replaced"] == 7
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Indicator)) == 7
        c2 = s.scalars(select(Indicator).where(Indicator.value == "179.60.192.3")).one()
        detail = service.get_indicator(s, indicator_id=c2.id)
    assert detail["alerts"] == 1 and detail["tlp"] == "green" and detail["active"] is True
    assert [(a["id"], a["name"], a["alerts"]) for a in detail["assets"]] == [(ids["ws-05"], "ws-05", 1)]
    assert detail["advisories"] == [
        {
            "advisory_id": "CVE-2021-44228",
            "cve": "CVE-2021-44228",
            "summary": "Log4j JNDI",
            "severity": "critical",
        }
    ]
    assert [(f["asset"], f["version"]) for f in detail["findings"]] == [("ws-11", "2.14.1")]


def test_list_filters(database: Database) -> None:
    _import(database, "stix", INTEL / "stix-mixed.json")
    _import(database, "misp", INTEL / "misp-xorist.json")
    with database.read_session() as s:
        assert {i["value"] for i in service.list_indicators(s, type="ip")} == {
            "179.60.192.3",
            "54.192.18.125",
            "2001:db8::1",
        }
        active = {i["value"] for i in service.list_indicators(s, type="ip", active_only=True)}
        assert active == {"179.60.192.3", "2001:db8::1"}
        assert len(service.list_indicators(s, type="hash", source="misp")) == 3
        assert [i["value"] for i in service.list_indicators(s, tlp="amber+strict", type="domain")] == [
            "www.eicar.org"
        ]
        assert len(service.list_indicators(s, limit=2, offset=1)) == 2


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
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
    files = [("files", ("bundle.json", (INTEL / "stix-mixed.json").read_bytes()))]
    r = client.post("/api/intel/import", headers=auditor_headers, data={"kind": "stix"}, files=files)
    assert r.status_code == 403
    r = client.post("/api/intel/import", headers=analyst_headers, data={"kind": "suricata"}, files=files)
    assert r.status_code == 422 and "unknown intelligence source kind 'suricata'" in r.json()["error"]
    r = client.post(
        "/api/intel/import",
        headers=analyst_headers,
        data={"kind": "stix", "options": '{"valid_days": 0}'},
        files=files,
    )
    assert r.status_code == 422 and "valid_days" in r.json()["error"]
    r = client.post("/api/intel/import", headers=analyst_headers, data={"kind": "stix"}, files=files)
    assert r.status_code == 202, r.text
    jobs.execute(queued[-1])
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=admin_headers).json()
    assert job["status"] == "succeeded", job.get("error")
    assert job["result"]["indicators"] == 6

    assert client.get("/api/intel/indicators").status_code == 401
    r = client.get("/api/intel/indicators", headers=auditor_headers, params={"type": "ip", "active": "true"})
    assert r.status_code == 200 and {i["value"] for i in r.json()} == {"179.60.192.3", "2001:db8::1"}
    one = client.get(f"/api/intel/indicators/{r.json()[0]['id']}", headers=auditor_headers)
    assert one.status_code == 200 and one.json()["raw"]["type"] == "indicator"
    assert client.get("/api/intel/indicators/999999", headers=auditor_headers).status_code == 404
    assert client.get("/api/intel/indicators?type=bogus", headers=auditor_headers).status_code == 422


def test_cli_import_list_show_json(database: Database) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["intel", "import", "stix", str(INTEL / "stix-mixed.json"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["indicators"] == 6 and out["run_id"] and out["retro_hunt"] == {"alerts": 0}
    r = runner.invoke(cli_app, ["intel", "list", "--type", "ip", "--active", "--json"])
    assert r.exit_code == 0, r.output
    items = json.loads(r.output)
    assert {i["value"] for i in items} == {"179.60.192.3", "2001:db8::1"}
    r = runner.invoke(cli_app, ["intel", "show", str(items[0]["id"]), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["id"] == items[0]["id"]
    r = runner.invoke(cli_app, ["intel", "list", "--type", "bogus", "--json"])
    assert r.exit_code == 1 and "type must be one of" in str(r.exception)


def test_loader_matching_is_set_based(database: Database, tmp_path: Path) -> None:
    """The alert loader asks about indicators a fixed number of times per chunk, whatever the number
    of alerts and addresses in it."""
    _import(database, "stix", INTEL / "stix-mixed.json")

    def eve(n: int) -> Path:
        f = tmp_path / f"eve-{n}.json"
        lines = [
            json.dumps({**HTTP_ALERT, "src_ip": f"10.1.{i // 250}.{i % 250}", "dest_ip": "179.60.192.3"})
            for i in range(n)
        ]
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f

    def statements(path: Path) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            if "FROM intel_indicator" in args[2]:
                seen.append(args[2])

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            _import(database, "suricata", path)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return len(seen)

    few, many = statements(eve(3)), statements(eve(300))
    assert few == many and 0 < many <= 5
    with database.read_session() as s:
        rows = s.scalars(select(Alert.intel_matches).where(Alert.dest_ip == "179.60.192.3")).all()
    assert len(rows) == 303 and all("179.60.192.3" in r and "www.eicar.org" in r for r in rows)


def test_an_unknown_tlp_marking_is_no_level(tmp_path: Path) -> None:
    doc = json.loads((INTEL / "stix-mixed.json").read_text(encoding="utf-8"))
    for o in doc["objects"]:
        if o["type"] == "marking-definition":
            o["name"] = "TLP:PURPLE"
    f = tmp_path / "b.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    records, _meta = _read(Stix(), f)
    assert {r.tlp for r in records if r.value == "www.eicar.org"} == {None}
