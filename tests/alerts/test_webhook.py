"""The alert webhook on both databases: admin-made tokens stored hashed and shown once, calls without
a valid token refused (401) and audited, a token for one source refused on another, body limits, one
event or a list through the import path (mapping, rejected events kept raw), CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.alerts.live import webhook
from ciimap.alerts.live.models import AlertWebhookToken
from ciimap.alerts.models import Alert
from ciimap.cli import app as cli_app
from ciimap.core.audit import AuditLog
from ciimap.core.errors import CiimapError
from ciimap.ingest.models import ImportRun

from .test_alerts import _map

EVE = {
    "timestamp": "2026-03-01T08:00:00.000000+0800",
    "event_type": "alert",
    "src_ip": "203.0.113.5",
    "dest_ip": "10.20.1.10",
    "alert": {
        "signature_id": 2100498,
        "signature": "GPL ATTACK_RESPONSE id check returned root",
        "severity": 2,
    },
}


@pytest.fixture(autouse=True)
def _fresh_refusals(monkeypatch):
    """The refusal throttle is per process: each test starts without remembered refusals."""
    monkeypatch.setattr(webhook, "_refusals", webhook._Refusals())


def _token(client, admin_headers, **body):
    resp = client.post("/api/alerts/webhook-tokens", json={"name": "sensor-1", **body}, headers=admin_headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _refusals(database) -> list[dict]:
    with database.read_session() as s:
        return [a.after for a in s.scalars(select(AuditLog).where(AuditLog.action == "webhook_refused"))]


def test_tokens_are_made_by_admins_stored_hashed_and_shown_once(
    database, client, admin_headers, analyst_headers
):
    assert (
        client.post("/api/alerts/webhook-tokens", json={"name": "x"}, headers=analyst_headers).status_code
        == 403
    )
    made = _token(client, admin_headers, source="suricata")
    secret = made["token"]
    assert secret.startswith(webhook.TOKEN_PREFIX) and made["state"] == "active"
    listed = client.get("/api/alerts/webhook-tokens", headers=admin_headers).json()
    assert [t["name"] for t in listed] == ["sensor-1"] and all("token" not in t for t in listed)
    with database.read_session() as s:
        row = s.scalar(select(AlertWebhookToken))
        assert row is not None and secret not in (row.token_hash, row.prefix)
        assert row.token_hash == webhook._sha256(secret)
        audited = [
            a.after for a in s.scalars(select(AuditLog).where(AuditLog.entity_type == "alert_webhook_token"))
        ]
    assert audited and secret not in json.dumps(audited)
    dup = client.post("/api/alerts/webhook-tokens", json={"name": "sensor-1"}, headers=admin_headers)
    assert dup.status_code == 409


def test_events_are_loaded_through_the_import_path(database, client, admin_headers):
    ids = _map(database)
    secret = _token(client, admin_headers)["token"]
    h = {"Authorization": f"Bearer {secret}"}
    one = client.post("/api/alerts/webhook/suricata", json=EVE, headers=h)
    assert one.status_code == 200, one.text
    assert (one.json()["events"], one.json()["mapped"]) == (1, 1)
    many = client.post(
        "/api/alerts/webhook/suricata", json=[EVE, {"not": "eve"}, {**EVE, "event_type": "flow"}], headers=h
    )
    assert (many.json()["events"], many.json()["rejected"], many.json()["skipped"]) == (1, 1, 1)
    line = "<12>Mar  1 08:00:01 fw-01 kernel: IN=eth0 SRC=198.51.100.9 DST=10.20.1.10 PROTO=TCP SPT=1 DPT=22"
    sys_ = client.post("/api/alerts/webhook/syslog", json=[line], headers=h)
    assert sys_.json()["events"] == 1
    with database.read_session() as s:
        alerts = [
            (a.kind, a.dest_asset_id, a.reject, a.raw) for a in s.scalars(select(Alert).order_by(Alert.id))
        ]
        runs = [(r.kind, r.scope, r.status) for r in s.scalars(select(ImportRun).order_by(ImportRun.id))]
        used = s.scalar(select(AlertWebhookToken.last_used_at))
    assert [a[:2] for a in alerts if a[2] is None] == [("suricata", ids["web"])] * 2 + [
        ("syslog", ids["web"])
    ]
    assert any(a[2] and json.loads(a[3]) == {"not": "eve"} for a in alerts)  # kept raw with the reason
    assert runs == [
        ("suricata", "webhook:suricata", "succeeded"),
        ("suricata", "webhook:suricata", "succeeded"),
        ("syslog", "webhook:syslog", "succeeded"),
    ]
    assert used is not None
    listed = client.get("/api/alerts", headers=admin_headers).json()
    assert len(listed) == 4


def test_calls_without_a_valid_token_are_refused_and_audited(
    database, client, admin_headers, auditor_headers, monkeypatch
):
    made = _token(client, admin_headers, source="wazuh")
    cases = [
        ({}, 401),
        ({"Authorization": "Bearer ciw_not-a-token"}, 401),
        ({"Authorization": "Bearer nonsense"}, 401),
        (auditor_headers, 403),  # a user's API token is no webhook token
        ({"Authorization": f"Bearer {made['token']}"}, 403),  # a wazuh token on the suricata webhook
    ]
    for headers, status in cases:
        resp = client.post("/api/alerts/webhook/suricata", json=EVE, headers=headers)
        assert resp.status_code == status, (headers, resp.text)
        assert "error" in resp.json()
    refused = _refusals(database)
    # one record per client address and reason per minute: the two unknown tokens share one
    assert len(refused) == 4 and all(r["source"] == "suricata" and r["count"] == 1 for r in refused)
    for _ in range(5):  # a flood of the same bad call does not flood the audit trail...
        client.post("/api/alerts/webhook/suricata", json=EVE, headers={"Authorization": "Bearer ciw_x"})
    assert len(_refusals(database)) == 4
    monkeypatch.setattr(webhook, "REFUSAL_AUDIT_EVERY", 0.0)  # ...but is counted in the next record
    client.post("/api/alerts/webhook/suricata", json=EVE, headers={"Authorization": "Bearer ciw_x"})
    last = _refusals(database)[-1]
    assert last["reason"] == "invalid webhook token" and last["count"] == 7
    client.delete(f"/api/alerts/webhook-tokens/{made['id']}", headers=admin_headers)
    revoked = client.post(
        "/api/alerts/webhook/wazuh", json={}, headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert revoked.status_code == 401
    with database.read_session() as s:
        assert s.scalar(select(Alert.id)) is None  # nothing refused was loaded


def test_body_limits_and_bad_bodies_are_4xx(database, client, admin_headers, monkeypatch):
    h = {"Authorization": f"Bearer {_token(client, admin_headers)['token']}"}
    monkeypatch.setattr(webhook, "MAX_BODY", 1000)
    monkeypatch.setattr(webhook, "MAX_EVENTS", 3)
    big = client.post("/api/alerts/webhook/suricata", content=b"[" + b"1," * 600 + b"1]", headers=h)
    assert big.status_code == 413
    assert client.post("/api/alerts/webhook/suricata", json=[EVE] * 4, headers=h).status_code == 413
    assert client.post("/api/alerts/webhook/suricata", content=b"{not json", headers=h).status_code == 422
    assert client.post("/api/alerts/webhook/suricata", json=[], headers=h).status_code == 422
    assert client.post("/api/alerts/webhook/moon", json=EVE, headers=h).status_code == 422


def test_cli_creates_lists_and_revokes_tokens(database):
    runner = CliRunner()
    made = runner.invoke(
        cli_app, ["webhooks", "create", "ids-1", "--source", "cef", "--days", "30", "--json"]
    )
    assert made.exit_code == 0, made.output
    data = json.loads(made.stdout)
    assert data["token"].startswith(webhook.TOKEN_PREFIX) and data["source"] == "cef"
    listed = json.loads(runner.invoke(cli_app, ["webhooks", "list", "--json"]).stdout)
    assert [(t["name"], t["state"]) for t in listed] == [("ids-1", "active")] and "token" not in listed[0]
    gone = runner.invoke(cli_app, ["webhooks", "revoke", str(data["id"]), "--json"])
    assert json.loads(gone.stdout)["state"] == "revoked"
    bad = runner.invoke(cli_app, ["webhooks", "create", "x", "--source", "moon"]).exception
    assert isinstance(bad, CiimapError) and bad.exit_code == 1
    missing = runner.invoke(cli_app, ["webhooks", "revoke", "999"]).exception
    assert isinstance(missing, CiimapError) and missing.exit_code == 3
