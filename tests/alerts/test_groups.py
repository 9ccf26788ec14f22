"""Alert groups (rolling window, counts, highest severity, listing filters), scoped suppressions (one
host never hides another; address and attacker scopes; expiry; audit), early-warning rules (each kind
positive and negative, dedup, states, the rules file), API roles and CLI JSON — on both databases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from typer.testing import CliRunner

from ciimap.alerts import groups, load, suppress, warnings
from ciimap.alerts.models import Alert, AlertGroup, AlertSuppression, AlertWarning
from ciimap.cli import app as cli_app
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from ciimap.core.errors import CiimapError, Conflict, InputFileError, Invalid, NotFound
from ciimap.ingest.service import import_files
from ciimap.inventory.models import Asset
from ciimap.vulns.models import Advisory, FeedImport, Finding, KevEntry

from .test_alerts import _map

T = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
X, Y, Z = "203.0.113.5", "198.51.100.9", "192.0.2.77"
WEB, WEB2, WEB3 = "10.20.1.10", "10.20.1.11", "10.20.1.12"


def _more_assets(db: Database) -> dict[str, int]:
    """web-01 from test_alerts' map (SCADA, 供电调度), plus web-02 and web-03 in no system."""
    ids = _map(db)
    with db.unit_of_work() as s:
        for name, ip in (("web-02", WEB2), ("web-03", WEB3)):
            a = Asset(name=name, primary_ip=ip, zone_id=ids["zone"], first_seen=T, last_seen=T)
            s.add(a)
            s.flush()
            ids[name] = a.id
    return ids


def _eve(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    """rows: (minutes after T, signature id, suricata severity, src, dest[, signature text])."""
    lines = []
    for row in rows:
        minutes, sig, sev, src, dst, *text = row
        t = (T + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000000+0000")
        alert = {"signature_id": sig, "signature": text[0] if text else f"rule {sig}", "severity": sev}
        lines.append(
            json.dumps({"timestamp": t, "event_type": "alert", "src_ip": src, "dest_ip": dst, "alert": alert})
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(db: Database, path: Path) -> dict[str, Any]:
    with db.unit_of_work() as s:
        return dict(import_files(s, kind="suricata", paths=[path], options={}))


def _groups(db: Database, **kw: Any) -> list[dict[str, Any]]:
    with db.read_session() as s:
        return groups.list_groups(s, **kw)


def test_groups_rolling_window_counts_highest_severity_and_keys(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    _import(
        database,
        _eve(
            tmp_path / "a.json",
            [
                (0, 1001, 3, X, WEB),  # low
                (50, 1001, 1, X, WEB),  # high: within 1 h of last_seen → joins
                (100, 1001, 2, X, WEB),  # 50 min after the last: joins (rolling, 100 min after first)
                (240, 1001, 3, X, WEB),  # 140 min after the last: a new group
                (1, 1001, 3, X, WEB2),  # another target: another group
                (2, 1001, 3, Y, WEB),  # another attacker: another group
                (3, 1002, 3, X, WEB),  # another rule: another group
                (4, 1001, 3, X, "192.0.2.9"),  # unmapped target: grouped by its address
            ],
        ),
    )
    # A second import (another run, another chunk) joins the open group of the first.
    _import(database, _eve(tmp_path / "b.json", [(290, 1001, 3, X, WEB), (5, 1001, 3, X, "192.0.2.9")]))
    with database.read_session() as s:
        alert_ids = {
            (groups.aware(a.time), a.dest_ip, a.src_ip, a.rule_id): a.id
            for a in s.scalars(select(Alert).order_by(Alert.id))
        }
    got = _groups(database, limit=100)
    assert len(got) == 6
    key = {
        (g["rule_id"], g["target_asset_id"], g["target_ip"], g["attacker_ip"], g["first_seen"]): g
        for g in got
    }
    first = key[("1001", ids["web"], None, X, T)]
    assert (first["count"], first["open_count"], first["severity"]) == (3, 3, "high")
    assert first["last_seen"] == T + dt.timedelta(minutes=100)
    assert first["sample_ids"] == [
        alert_ids[(T + dt.timedelta(minutes=m), WEB, X, "1001")] for m in (0, 50, 100)
    ]
    assert first["system_ids"] == [ids["system"]] and first["service_ids"] == [ids["service"]]
    later = key[("1001", ids["web"], None, X, T + dt.timedelta(minutes=240))]
    assert (later["count"], later["last_seen"]) == (2, T + dt.timedelta(minutes=290))
    assert later["severity"] == "low"
    unmapped = key[("1001", None, "192.0.2.9", X, T + dt.timedelta(minutes=4))]
    assert unmapped["count"] == 2
    for k in (("1001", ids["web-02"], None, X), ("1001", ids["web"], None, Y), ("1002", ids["web"], None, X)):
        assert [
            g["count"]
            for g in got
            if (g["rule_id"], g["target_asset_id"], g["target_ip"], g["attacker_ip"]) == k
        ] == [1]
    # newest last_seen first; filters
    assert [g["last_seen"] for g in got] == sorted((g["last_seen"] for g in got), reverse=True)
    assert [g["id"] for g in _groups(database, severity="high")] == [first["id"]]
    by_system = _groups(database, system_id=ids["system"])
    assert {g["target_asset_id"] for g in by_system} == {ids["web"]} and len(by_system) == 4
    assert {g["id"] for g in _groups(database, service_id=ids["service"])} == {g["id"] for g in by_system}
    assert len(_groups(database, zone_id=ids["zone"])) == 5  # not the unmapped 192.0.2.9
    assert [g["id"] for g in _groups(database, since=T + dt.timedelta(minutes=200))] == [later["id"]]
    with database.read_session() as s, pytest.raises(Invalid):
        groups.list_groups(s, severity="bogus")


def test_group_window_is_configurable(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _more_assets(database)
    monkeypatch.setenv("CIIMAP_ALERT_GROUP_WINDOW", "600")
    _import(database, _eve(tmp_path / "a.json", [(0, 1, 3, X, WEB), (9, 1, 3, X, WEB), (30, 1, 3, X, WEB)]))
    assert sorted(g["count"] for g in _groups(database)) == [1, 2]
    monkeypatch.setenv("CIIMAP_ALERT_GROUP_WINDOW", "soon")
    with database.unit_of_work() as s, pytest.raises(Invalid, match="CIIMAP_ALERT_GROUP_WINDOW"):
        import_files(s, kind="suricata", paths=[tmp_path / "a.json"], options={})


def _add(db: Database, **kw: Any) -> dict[str, Any]:
    with db.unit_of_work() as s:
        return suppress.add(s, **kw)


def test_suppressing_a_rule_on_one_host_never_hides_it_on_another(database: Database, tmp_path: Path) -> None:
    """The Wazuh complaint: a rule silenced for one noisy host must still fire on every other host."""
    ids = _more_assets(database)
    on_web = _add(database, rule_id="1001", asset_id=ids["web"], reason="known scanner host")
    on_addr = _add(database, rule_id="1001", address="192.0.2.9", reason="lab", attacker_ip=X)
    _import(
        database,
        _eve(
            tmp_path / "a.json",
            [
                (0, 1001, 1, X, WEB),
                (1, 1001, 1, Y, WEB),
                (2, 1001, 1, X, WEB2),
                (3, 1002, 1, X, WEB),  # another rule on the same host
                (4, 1001, 1, X, "192.0.2.9"),
                (5, 1001, 1, Y, "192.0.2.9"),  # the address scope names attacker X only
            ],
        ),
    )
    with database.read_session() as s:
        flagged = {(a.rule_id, a.src_ip, a.dest_ip): a.suppression_id for a in s.scalars(select(Alert))}
    assert flagged == {
        ("1001", X, WEB): on_web["id"],
        ("1001", Y, WEB): on_web["id"],
        ("1001", X, WEB2): None,
        ("1002", X, WEB): None,
        ("1001", X, "192.0.2.9"): on_addr["id"],
        ("1001", Y, "192.0.2.9"): None,
    }
    counts = {
        (g["rule_id"], g["target_ip"] or g["target_asset_id"], g["attacker_ip"]): g for g in _groups(database)
    }
    web = counts[("1001", ids["web"], X)]
    assert (web["count"], web["open_count"], web["suppressed_count"]) == (1, 0, 1)
    assert counts[("1001", ids["web-02"], X)]["open_count"] == 1
    assert len(_groups(database, open_only=True)) == 3
    # stored and counted, never dropped
    with database.read_session() as s:
        assert len(list(s.scalars(select(Alert.id)))) == 6


def test_suppression_expiry_audit_and_refusals(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    made = _add(database, rule_id="1001", asset_id=ids["web"], reason="maintenance", expires_at=future)
    assert made["active"] and made["created_by"]
    with database.unit_of_work() as s:  # time passes: the suppression has expired
        s.execute(
            update(AlertSuppression)
            .where(AlertSuppression.id == made["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    _import(database, _eve(tmp_path / "a.json", [(0, 1001, 1, X, WEB)]))
    with database.read_session() as s:
        assert s.scalars(select(Alert.suppression_id)).one() is None
        assert suppress.list_(s, active=True) == []
        assert [x["id"] for x in suppress.list_(s, active=False)] == [made["id"]]
    with database.unit_of_work() as s:
        suppress.remove(s, suppression_id=made["id"])
    with database.read_session() as s:
        actions = [
            a.action
            for a in s.scalars(
                select(AuditLog).where(AuditLog.entity_type == "alert_suppression").order_by(AuditLog.id)
            )
        ]
    assert actions[0] == "create" and actions[-1] == "delete"
    for bad in (
        {"rule_id": "1001", "reason": "r"},  # no target: a rule is never suppressed everywhere
        {"rule_id": "1001", "reason": "r", "asset_id": ids["web"], "address": WEB},
        {"rule_id": "1001", "reason": "r", "address": "not-an-ip"},
        {"rule_id": "1001", "reason": "r", "address": WEB, "expires_at": T},  # in the past
        {"rule_id": "", "reason": "r", "address": WEB},
        {"rule_id": "1001", "reason": "r", "address": WEB, "kind": "nmap"},
    ):
        with database.unit_of_work() as s, pytest.raises(Invalid):
            suppress.add(s, **bad)
    with database.unit_of_work() as s, pytest.raises(NotFound):
        suppress.add(s, rule_id="1", reason="r", asset_id=999999)
    with database.unit_of_work() as s, pytest.raises(NotFound):
        suppress.remove(s, suppression_id=made["id"])


def _rules(tmp_path: Path, rules: list[dict[str, Any]]) -> warnings.RulesFile:
    path = tmp_path / "rules.yaml"
    path.write_text(json.dumps({"version": 1, "rules": rules}))  # JSON is YAML
    return warnings.load_rules(path)


def _evaluate(db: Database, rules: warnings.RulesFile, **kw: Any) -> dict[str, int]:
    with db.unit_of_work() as s:
        return warnings.evaluate(s, rules=rules, **kw)


def _warnings(db: Database, **kw: Any) -> list[dict[str, Any]]:
    with db.read_session() as s:
        return warnings.list_warnings(s, **kw)


def _finding(db: Database, asset_id: int, cve: str, priority: str, status: str = "new") -> None:
    with db.unit_of_work() as s:
        adv = s.scalars(select(Advisory).where(Advisory.advisory_id == cve)).first()
        if adv is None:
            feed = FeedImport(kind="osv", source="t", snapshot_date=dt.date(2026, 1, 1), checksum="0" * 64)
            s.add(feed)
            s.flush()
            adv = Advisory(
                advisory_id=cve,
                source="nvd",
                aliases=[],
                summary="x",
                severity="critical",
                feed_import_id=feed.id,
            )
            s.add(adv)
            s.flush()
        s.add(
            Finding(
                target_type="software",
                target_id=asset_id,
                asset_id=asset_id,
                advisory_pk=adv.id,
                advisory_id=cve,
                cve_ids=[cve],
                package="pkg:maven/log4j",
                match_kind="purl",
                triage_key=f"k{asset_id}{cve}",
                priority=priority,
                status=status,
            )
        )


def test_threshold_and_spread_rules(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    rules = _rules(
        tmp_path,
        [
            {
                "id": "burst",
                "kind": "threshold",
                "level": "yellow",
                "title": "burst",
                "count": 3,
                "window": 600,
                "min_severity": "medium",
            },
            {
                "id": "spread",
                "kind": "spread",
                "level": "orange",
                "title": "spread",
                "assets": 3,
                "window": 3600,
            },
        ],
    )
    _import(
        database,
        _eve(
            tmp_path / "a.json",
            [
                (0, 1, 2, X, WEB),
                (4, 2, 1, X, WEB),
                (8, 9, 3, X, WEB3),
                (9, 3, 2, X, WEB2),  # X: 3 assets within the hour → spread
                (9, 4, 2, Y, WEB),  # web-01: 3 medium+ alerts within 10 min → threshold
                (0, 5, 2, Y, WEB3),  # Y: web-01, web-03 and (2 h later) web-02: never 3 in 1 h
                (130, 6, 1, Y, WEB2),
                (0, 7, 2, Z, WEB2),  # web-02: 4 alerts, one low, spread over 2 h → no threshold
                (125, 8, 3, Z, WEB2),
            ],
        ),
    )
    assert _evaluate(database, rules, since=T - dt.timedelta(days=1)) == {
        "rules": 2,
        "opened": 2,
        "updated": 0,
    }
    got = {w["rule"]: w for w in _warnings(database)}
    assert got["burst"]["scope"] == f"asset:{ids['web']}" and got["burst"]["count"] == 3
    assert got["burst"]["asset_ids"] == sorted({ids["web"]})
    assert got["burst"]["system_ids"] == [ids["system"]] and got["burst"]["service_ids"] == [ids["service"]]
    assert got["spread"]["scope"] == f"attacker:{X}" and got["spread"]["count"] == 4
    assert got["spread"]["details"]["assets"] == 3 and got["spread"]["level"] == "orange"
    assert got["spread"]["level_zh"] == "橙"
    assert got["burst"]["first_alert_at"] == T and got["burst"]["last_alert_at"] == T + dt.timedelta(
        minutes=9
    )


def test_open_p1_kev_and_indicator_rules(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    _finding(database, ids["web"], "CVE-2021-44228", "P1")
    _finding(database, ids["web-02"], "CVE-2021-44228", "P2")  # not P1
    _finding(database, ids["web-03"], "CVE-2021-44228", "P1", status="fixed")  # not open
    with database.unit_of_work() as s:
        s.add(KevEntry(cve_id="CVE-2021-44228", cwes=[]))
    rules = _rules(
        tmp_path,
        [
            {"id": "p1", "kind": "open_p1", "level": "red", "title": "p1"},
            {"id": "kev", "kind": "kev", "level": "orange", "title": "kev"},
            {"id": "ioc", "kind": "indicator", "level": "orange", "title": "ioc"},
        ],
    )
    _import(
        database,
        _eve(
            tmp_path / "a.json",
            [
                (0, 1, 1, X, WEB, "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)"),
                (1, 1, 1, X, WEB2, "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)"),
                (2, 1, 1, X, WEB3, "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)"),
                (3, 2, 1, X, WEB, "ET EXPLOIT something (CVE-2000-0001)"),  # not KEV, no finding
                (4, 3, 3, X, WEB),
            ],
        ),
    )
    with database.unit_of_work() as s:  # what threat intelligence will write
        s.execute(update(Alert).where(Alert.rule_id == "3").values(intel_matches=[X]))
    assert _evaluate(database, rules, since=T)["opened"] == 3
    got = {w["rule"]: w for w in _warnings(database)}
    assert (got["p1"]["scope"], got["p1"]["count"], got["p1"]["level"]) == (f"asset:{ids['web']}", 1, "red")
    assert got["p1"]["details"]["cves"] == ["CVE-2021-44228"] and got["p1"]["level_zh"] == "红"
    assert (got["kev"]["scope"], got["kev"]["count"]) == ("cve:CVE-2021-44228", 3)
    assert set(got["kev"]["asset_ids"]) == {ids["web"], ids["web-02"], ids["web-03"]}
    assert (got["ioc"]["scope"], got["ioc"]["count"]) == (f"indicator:{X}", 1)


def test_warning_dedup_states_and_suppressed_alerts(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _more_assets(database)
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 2\nrules:\n  - id: burst\n    kind: threshold\n    level: blue\n    title: 告警激增\n    count: 2\n    window: 600\n"
    )
    monkeypatch.setenv("CIIMAP_ALERT_WARNING_RULES", str(path))
    # evaluated after each import (the run's alerts)
    first = _import(database, _eve(tmp_path / "a.json", [(0, 1, 3, X, WEB), (1, 1, 3, X, WEB)]))
    assert first["stats"]["warnings_opened"] == 1
    (w,) = _warnings(database)
    assert (w["state"], w["count"], w["title"]) == ("open", 2, "告警激增")
    with database.unit_of_work() as s:  # again on demand: deduplicated, nothing new
        assert warnings.evaluate(s, since=T) == {"rules": 1, "opened": 0, "updated": 0}
    with database.unit_of_work() as s:
        acked = warnings.acknowledge(s, warning_id=w["id"])
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"]
    second = _import(database, _eve(tmp_path / "b.json", [(5, 1, 3, X, WEB)]))
    assert (second["stats"]["warnings_opened"], second["stats"]["warnings_updated"]) == (0, 1)
    (w,) = _warnings(database)
    assert (w["id"], w["count"], w["state"]) == (acked["id"], 3, "acknowledged")
    with database.unit_of_work() as s:
        closed = warnings.close(s, warning_id=w["id"])
        with pytest.raises(Conflict):
            warnings.acknowledge(s, warning_id=w["id"])
        with pytest.raises(Conflict):
            warnings.close(s, warning_id=w["id"])
        with pytest.raises(NotFound):
            warnings.acknowledge(s, warning_id=999999)
    assert closed["state"] == "closed" and closed["closed_by"]
    _import(database, _eve(tmp_path / "c.json", [(30, 1, 3, X, WEB), (31, 1, 3, X, WEB)]))
    states = sorted(x["state"] for x in _warnings(database))
    assert states == ["closed", "open"]  # once closed, the next hit opens a new warning
    # suppressed alerts never count toward a warning
    _add(database, rule_id="1", asset_id=ids["web-02"], reason="noisy")
    _import(database, _eve(tmp_path / "d.json", [(60, 1, 3, X, WEB2), (61, 1, 3, X, WEB2)]))
    assert [x for x in _warnings(database) if x["scope"] == f"asset:{ids['web-02']}"] == []
    assert len(_warnings(database, state="open")) == 1 and len(_warnings(database, level="red")) == 0
    with database.read_session() as s, pytest.raises(Invalid):
        warnings.list_warnings(s, state="bogus")


def test_rules_file_shipped_and_refused(tmp_path: Path) -> None:
    shipped = warnings.load_rules(Path(warnings.__file__).with_name("warning_rules.yaml"))
    assert {r.kind for r in shipped.rules} == {"threshold", "spread", "open_p1", "indicator", "kev"}
    assert {r.level for r in shipped.rules} == {"red", "orange", "yellow", "blue"}
    bad = tmp_path / "r.yaml"
    for text, msg in (
        ("version: 1\nrules:\n  - id: x\n    kind: magic\n    level: red\n    title: t\n", "rules.0.kind"),
        ("version: 1\nrules: [\n", "not YAML"),
        (
            "version: 1\nrules:\n  - {id: a, kind: kev, level: red, title: t}\n  - {id: a, kind: kev, level: red, title: t}\n",
            "duplicate rule ids: a",
        ),
    ):
        bad.write_text(text)
        with pytest.raises(InputFileError, match=msg) as e:
            warnings.load_rules(bad)
        assert "\n" not in str(e.value) and str(bad) in str(e.value)
    assert [lv["zh"] for lv in warnings.levels()] == ["红", "橙", "黄", "蓝"]


def test_api_roles_and_4xx(
    client: Any, database: Database, analyst_headers: Any, auditor_headers: Any, tmp_path: Path
) -> None:
    ids = _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", [(0, 1, 1, X, WEB)]))
    assert client.get("/api/alerts/groups").status_code == 401
    r = client.get("/api/alerts/groups", headers=auditor_headers, params={"severity": "high"})
    assert r.status_code == 200 and [g["count"] for g in r.json()] == [1]
    assert client.get("/api/alerts/groups?severity=bogus", headers=auditor_headers).status_code == 422
    body = {"rule_id": "1", "asset_id": ids["web"], "reason": "scanner"}
    assert client.post("/api/alerts/suppressions", headers=auditor_headers, json=body).status_code == 403
    r = client.post("/api/alerts/suppressions", headers=analyst_headers, json=body)
    assert r.status_code == 201 and r.json()["asset_id"] == ids["web"]
    sid = r.json()["id"]
    r = client.post("/api/alerts/suppressions", headers=analyst_headers, json={"rule_id": "1", "reason": "x"})
    assert r.status_code == 422 and "exactly one target" in r.json()["error"]
    assert (
        client.post(
            "/api/alerts/suppressions", headers=analyst_headers, json={**body, "bogus": 1}
        ).status_code
        == 422
    )
    assert [x["id"] for x in client.get("/api/alerts/suppressions", headers=auditor_headers).json()] == [sid]
    assert client.delete(f"/api/alerts/suppressions/{sid}", headers=auditor_headers).status_code == 403
    assert client.delete(f"/api/alerts/suppressions/{sid}", headers=analyst_headers).status_code == 200
    assert client.delete(f"/api/alerts/suppressions/{sid}", headers=analyst_headers).status_code == 404
    assert client.post("/api/alerts/warnings/evaluate", headers=auditor_headers).status_code == 403
    r = client.post("/api/alerts/warnings/evaluate", headers=analyst_headers)
    assert r.status_code == 200 and set(r.json()) == {"rules", "opened", "updated"}
    with database.unit_of_work() as s:
        s.add(
            AlertWarning(
                rule="r",
                rule_kind="kev",
                level="red",
                title="t",
                scope="cve:X",
                first_alert_id=1,
                last_alert_id=1,
                first_alert_at=T,
                last_alert_at=T,
                count=1,
            )
        )
    (w,) = client.get("/api/alerts/warnings", headers=auditor_headers, params={"level": "red"}).json()
    assert client.get(f"/api/alerts/warnings/{w['id']}", headers=auditor_headers).json()["scope"] == "cve:X"
    assert client.get("/api/alerts/warnings/999999", headers=auditor_headers).status_code == 404
    assert client.get("/api/alerts/warnings?state=bogus", headers=auditor_headers).status_code == 422
    assert client.post(f"/api/alerts/warnings/{w['id']}/ack", headers=auditor_headers).status_code == 403
    assert (
        client.post(f"/api/alerts/warnings/{w['id']}/ack", headers=analyst_headers).json()["state"]
        == "acknowledged"
    )
    assert client.post(f"/api/alerts/warnings/{w['id']}/ack", headers=analyst_headers).status_code == 409
    assert (
        client.post(f"/api/alerts/warnings/{w['id']}/close", headers=analyst_headers).json()["state"]
        == "closed"
    )
    levels = client.get("/api/alerts/warnings/levels", headers=auditor_headers).json()
    assert [lv["level"] for lv in levels] == ["red", "orange", "yellow", "blue"]


def test_cli_json(database: Database, tmp_path: Path) -> None:
    ids = _more_assets(database)
    _import(database, _eve(tmp_path / "a.json", [(0, 1, 1, X, WEB), (1, 1, 1, X, WEB), (2, 1, 1, X, WEB2)]))
    runner = CliRunner()

    def run(*args: str) -> Any:
        r = runner.invoke(cli_app, ["alerts", *args])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    def refused(*args: str) -> CiimapError:
        """``ciimap.cli.main`` prints the message as one line and exits with the error's code."""
        r = runner.invoke(cli_app, ["alerts", *args])
        assert isinstance(r.exception, CiimapError), r.output
        return r.exception

    got = run("groups", "--json", "--system", str(ids["system"]))
    assert [(g["count"], g["target_asset_id"]) for g in got] == [(2, ids["web"])]
    assert got[0]["first_seen"].startswith("2026-03-01T08:00:00")
    made = run("suppress", "add", "--rule", "1", "--asset", str(ids["web"]), "--reason", "noisy", "--json")
    assert made["rule_id"] == "1" and made["active"] is True
    assert [x["id"] for x in run("suppress", "list", "--json")] == [made["id"]]
    err = refused("suppress", "add", "--rule", "1", "--reason", "everywhere", "--json")
    assert err.exit_code == 1 and "exactly one target" in err.message
    assert run("suppress", "remove", str(made["id"]), "--json")["id"] == made["id"]
    assert run("suppress", "list", "--json") == []
    assert set(run("warnings", "evaluate", "--json")) == {"rules", "opened", "updated"}
    with database.unit_of_work() as s:
        s.add(
            AlertWarning(
                rule="r",
                rule_kind="kev",
                level="yellow",
                title="t",
                scope="cve:X",
                first_alert_id=1,
                last_alert_id=1,
                first_alert_at=T,
                last_alert_at=T,
                count=1,
            )
        )
    (w,) = [x for x in run("warnings", "list", "--json") if x["rule"] == "r"]
    assert w["level_zh"] == "黄" and w["state"] == "open"
    assert run("warnings", "ack", str(w["id"]), "--json")["state"] == "acknowledged"
    assert run("warnings", "close", str(w["id"]), "--json")["state"] == "closed"
    err = refused("warnings", "close", str(w["id"]), "--json")
    assert err.exit_code == 4 and "already closed" in err.message
    assert run("warnings", "list", "--state", "closed", "--json")[0]["id"] == w["id"]
    assert [x["zh"] for x in run("warnings", "levels", "--json")] == ["红", "橙", "黄", "蓝"]
    with database.read_session() as s:
        assert s.scalars(select(AlertGroup.id)).first() is not None


def test_groups_are_maintained_per_chunk_not_per_alert(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across chunk boundaries alerts join the right groups, and the statements on alert_group grow
    with the chunks, not with the alerts (20 alerts per chunk cost what 1 does)."""
    _more_assets(database)
    monkeypatch.setattr(load, "CHUNK", 20)
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "alert_group" in statement:
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        # 60 alerts, 3 chunks: 20 new groups (one per attacker) in chunk 1, joined by chunks 2 and 3
        rows = [(i // 20, 7, 3, f"198.51.100.{i % 20}", WEB) for i in range(60)]
        _import(database, _eve(tmp_path / "a.json", rows))
        few = len(seen)
        seen.clear()
        # 60 alerts, 3 chunks, 60 distinct groups
        rows = [(500 + i // 20, 8, 3, f"192.0.2.{i}", WEB) for i in range(60)]
        _import(database, _eve(tmp_path / "b.json", rows))
        many = len(seen)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    got = _groups(database, limit=1000)
    assert sorted({g["count"] for g in got if g["rule_id"] == "7"}) == [3] and len(got) == 80
    assert 0 < few <= 3 * 3 and 0 < many <= 3 * 3
