"""The audit trail records every change with actor and before/after, and detects tampering."""

from __future__ import annotations

from sqlalchemy import select, text
from typer.testing import CliRunner

from ciimap.cli import app as cli_app
from ciimap.core import audit


def _seed(client, h) -> int:
    aid = client.post("/api/assets", json={"name": "web-01", "ips": ["10.0.0.1"]}, headers=h).json()["id"]
    client.patch(f"/api/assets/{aid}", json={"criticality": "critical"}, headers=h)
    client.post("/api/vendors", json={"name": "奇安信", "country": "CN", "is_domestic": True}, headers=h)
    return aid


def test_changes_are_recorded_with_actor_and_diff(client, admin_headers):
    aid = _seed(client, admin_headers)
    items = client.get("/api/audit", params={"entity_type": "asset"}, headers=admin_headers).json()["items"]
    update = next(i for i in items if i["action"] == "update")
    assert update["actor"] == "admin" and update["via"] == "api" and update["entity_id"] == str(aid)
    assert update["before"]["criticality"] == "medium" and update["after"]["criticality"] == "critical"
    assert "name" not in update["after"]  # only what changed


def test_verify_detects_edit_delete_and_truncation(database, client, admin_headers):
    _seed(client, admin_headers)
    with database.read_session() as s:
        res = audit.verify(s)
    assert res.ok and res.checked >= 4

    with database.engine.begin() as c:  # an insider edits history
        c.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2"))
    with database.read_session() as s:
        res = audit.verify(s)
    assert not res.ok and any("record 2" in p and "edited" in p for p in res.problems)

    with database.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'admin' WHERE id = 2"))
        c.execute(text("DELETE FROM audit_log WHERE id = 3"))
    with database.read_session() as s:
        res = audit.verify(s)
    assert not res.ok and any("missing" in p for p in res.problems)


def test_verify_detects_deleted_tail(database, client, admin_headers):
    _seed(client, admin_headers)
    with database.engine.begin() as c:
        last = c.execute(text("SELECT max(id) FROM audit_log")).scalar()
        c.execute(text(f"DELETE FROM audit_log WHERE id = {last}"))
    with database.read_session() as s:
        res = audit.verify(s)
    assert not res.ok and any("head" in p for p in res.problems)


def test_cli_verify_exit_codes(database, client, admin_headers):
    _seed(client, admin_headers)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    with database.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET after = NULL WHERE id = 1"))
    bad = runner.invoke(cli_app, ["audit", "verify", "--json"])
    assert bad.exit_code == 1 and '"ok": false' in bad.output


def test_failed_request_leaves_no_change_and_no_audit(database, client, admin_headers):
    with database.read_session() as s:
        before = s.execute(text("SELECT count(*) FROM audit_log")).scalar()
    r = client.post("/api/assets", json={"name": "x", "zone_id": 12345}, headers=admin_headers)
    assert r.status_code == 422
    with database.read_session() as s:
        assert s.execute(text("SELECT count(*) FROM audit_log")).scalar() == before
        assert s.execute(text("SELECT count(*) FROM asset")).scalar() == 0


def test_bulk_record_is_chained(database):
    with database.unit_of_work() as s:
        audit.record_bulk(s, "import", "asset", count=1000, digest="ab" * 32, detail={"file": "x.xml"})
    with database.read_session() as s:
        res = audit.verify(s)
        row = s.execute(text("SELECT action, entity_type FROM audit_log")).one()
    assert res.ok and tuple(row) == ("import", "asset")


def test_password_and_token_hashes_never_reach_the_log(database, client, admin_headers):
    from ciimap.auth import service
    from ciimap.auth.models import ApiToken, User

    with database.unit_of_work() as s:
        user = service.create_user(s, username="张三", password="first-password-1", role="analyst")
        service.create_token(s, user, "script")
    with database.unit_of_work() as s:
        user = s.query(User).filter_by(username="张三").one()
        service.set_password(s, user, "second-password-2")
        hashes = {
            user.password_hash,
            *s.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)),
        }
    with database.read_session() as s:
        rows = list(s.scalars(select(audit.AuditLog).order_by(audit.AuditLog.id)))
        dump = " ".join(f"{r.before} {r.after}" for r in rows)
        assert "$argon2" not in dump and not any(h in dump for h in hashes)
        change = [r for r in rows if r.entity_type == "user_account" and r.action == "update"][-1]
        assert change.before["password_hash"].startswith("secret:")
        assert change.after["password_hash"].startswith("secret:")
        assert (
            change.before["password_hash"] != change.after["password_hash"]
        )  # that it changed stays visible
