"""User administration from the web UI (admin only) on both databases: create, change role,
enable/disable, reset password, revoke API tokens — CSRF-protected, audited, and never leaving the
map without an active admin (the same rule from the API and the CLI)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ciimap.auth.models import User
from ciimap.cli import app as cli_app
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database
from conftest import make_user
from web.test_pages import PASSWORD, login


@pytest.fixture
def users(database: Database) -> dict[str, Any]:
    return {name: make_user(database, name, name) for name in ("admin", "analyst", "auditor")}


def _user(database: Database, name: str) -> SimpleNamespace:
    with database.read_session() as s:
        u = s.scalars(select(User).where(User.username == name)).one()
        return SimpleNamespace(id=u.id, role=u.role, full_name=u.full_name, is_active=u.is_active)


def _audit(database: Database, entity_type: str, action: str) -> list[AuditLog]:
    with database.read_session() as s:
        q = select(AuditLog).where(AuditLog.entity_type == entity_type, AuditLog.action == action)
        rows = list(s.scalars(q.order_by(AuditLog.id)))
        s.expunge_all()
        return rows


def test_admin_creates_user_with_service_rules_csrf_and_audit(client, database, users):
    csrf = login(client, "admin")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    page = client.get("/admin/users").text
    assert 'id="user-form"' in page and 'hx-post="/admin/users"' in page and "吊销令牌" in page
    form = {"username": "ops1", "full_name": "运维一", "role": "auditor", "password": "long-enough-1"}
    assert client.post("/admin/users", data=form).status_code == 403  # no CSRF token
    short = client.post("/admin/users", data={**form, "password": "short"}, headers=h)
    assert short.status_code == 422 and "密码至少 8 个字符" in short.text and 'value="ops1"' in short.text
    bad_role = client.post("/admin/users", data={**form, "role": "root"}, headers=h)
    assert bad_role.status_code == 422 and "unknown role &#39;root&#39;" in bad_role.text
    with database.read_session() as s:
        assert s.scalar(select(User.id).where(User.username == "ops1")) is None
    ok = client.post("/admin/users", data=form, headers=h)
    assert ok.status_code == 200 and "已创建用户 ops1" in ok.text and 'data-user="ops1"' in ok.text
    created = _user(database, "ops1")
    assert (created.role, created.full_name, created.is_active) == ("auditor", "运维一", True)
    dup = client.post("/admin/users", data=form, headers=h)
    assert dup.status_code == 409 and "already exists" in dup.text
    rows = [r for r in _audit(database, "user_account", "create") if r.entity_id == str(created.id)]
    assert len(rows) == 1 and rows[0].actor == "admin" and rows[0].via == "web"
    client.cookies.clear()
    r = client.post("/login", data={"username": "ops1", "password": "long-enough-1"}, follow_redirects=False)
    assert r.status_code == 303


def test_role_enable_disable_password_reset_and_token_revocation(client, database, users):
    csrf = login(client, "admin")
    h = {"X-CSRF-Token": csrf}
    analyst = _user(database, "analyst")
    r = client.post(f"/admin/users/{analyst.id}/role", data={"role": "auditor"}, headers=h)
    assert r.status_code == 200 and "已修改用户 analyst 的角色" in r.text
    assert _user(database, "analyst").role == "auditor"
    upd = [r for r in _audit(database, "user_account", "update") if r.entity_id == str(analyst.id)]
    assert upd[-1].before["role"] == "analyst" and upd[-1].after["role"] == "auditor" and upd[-1].via == "web"

    assert (
        client.post(f"/admin/users/{analyst.id}/active", data={"active": "false"}, headers=h).status_code
        == 200
    )
    assert _user(database, "analyst").is_active is False
    assert client.get("/api/auth/me", headers=users["analyst"]).status_code == 401  # disabled: token refused
    other = client.__class__(client.app)
    bad = other.post("/login", data={"username": "analyst", "password": PASSWORD}, follow_redirects=False)
    assert bad.status_code == 401
    r = client.post(f"/admin/users/{analyst.id}/active", data={"active": "true"}, headers=h)
    assert r.status_code == 200 and "已启用用户 analyst" in r.text and _user(database, "analyst").is_active

    short = client.post(f"/admin/users/{analyst.id}/password", data={"password": "1234"}, headers=h)
    assert short.status_code == 422 and "密码至少 8 个字符" in short.text
    ok = client.post(f"/admin/users/{analyst.id}/password", data={"password": "brand-new-pass"}, headers=h)
    assert ok.status_code == 200 and "已重置用户 analyst 的密码" in ok.text
    assert (
        other.post(
            "/login", data={"username": "analyst", "password": PASSWORD}, follow_redirects=False
        ).status_code
        == 401
    )
    assert (
        other.post(
            "/login", data={"username": "analyst", "password": "brand-new-pass"}, follow_redirects=False
        ).status_code
        == 303
    )
    pw = [
        r
        for r in _audit(database, "user_account", "update")
        if r.entity_id == str(analyst.id) and "password_hash" in (r.after or {})
    ]
    assert len(pw) == 1 and pw[0].actor == "admin" and pw[0].via == "web"

    assert client.get("/api/auth/me", headers=users["analyst"]).status_code == 200
    r = client.post(f"/admin/users/{analyst.id}/revoke-tokens", headers=h)
    assert r.status_code == 200 and "已吊销用户 analyst 的 1 个 API 令牌" in r.text
    assert client.get("/api/auth/me", headers=users["analyst"]).status_code == 401
    revoked = _audit(database, "api_token", "update")
    assert revoked and revoked[-1].after["revoked"] is True and revoked[-1].actor == "admin"
    assert client.post("/admin/users/9999/role", data={"role": "admin"}, headers=h).status_code == 404


def test_last_active_admin_cannot_be_disabled_or_demoted(client, database, users):
    csrf = login(client, "admin")
    h = {"X-CSRF-Token": csrf}
    me = _user(database, "admin")
    r = client.post(f"/admin/users/{me.id}/active", data={"active": "false"}, headers=h)
    assert r.status_code == 409 and "不能停用或降级最后一个启用的管理员" in r.text
    r = client.post(f"/admin/users/{me.id}/role", data={"role": "analyst"}, headers=h)
    assert r.status_code == 409 and "最后一个启用的管理员" in r.text
    assert (_user(database, "admin").role, _user(database, "admin").is_active) == ("admin", True)
    # the same rule from the API and the CLI (enforced in the service)
    api = client.patch(f"/api/users/{me.id}", json={"is_active": False}, headers=users["admin"])
    assert api.status_code == 409 and "last active admin" in api.json()["error"]
    cli = CliRunner().invoke(cli_app, ["user", "update", "admin", "--role", "auditor"])
    assert cli.exit_code != 0 and "last active admin" in str(cli.exception)
    # with a second active admin, demoting yourself is allowed
    auditor = _user(database, "auditor")
    assert (
        client.post(f"/admin/users/{auditor.id}/role", data={"role": "admin"}, headers=h).status_code == 200
    )
    r = client.post(f"/admin/users/{me.id}/role", data={"role": "analyst"}, headers=h)
    assert r.status_code == 200 and _user(database, "admin").role == "analyst"
    assert client.get("/admin/users").status_code == 403  # no longer an admin


def test_user_admin_is_admin_only(client, database, users):
    csrf = login(client, "analyst")
    r = client.get("/admin/users")
    assert r.status_code == 403 and "text/html" in r.headers["content-type"] and "无权访问" in r.text
    admin = _user(database, "admin")
    h = {"X-CSRF-Token": csrf}
    assert (
        client.post(
            "/admin/users", data={"username": "x", "password": "long-enough-1"}, headers=h
        ).status_code
        == 403
    )
    assert (
        client.post(f"/admin/users/{admin.id}/active", data={"active": "false"}, headers=h).status_code == 403
    )
    assert client.post(f"/admin/users/{admin.id}/revoke-tokens", headers=h).status_code == 403
    assert client.post(f"/api/users/{admin.id}/revoke-tokens", headers=users["analyst"]).status_code == 403
    assert _user(database, "admin").is_active
    ok = client.post(f"/api/users/{admin.id}/revoke-tokens", headers=users["admin"])
    assert ok.status_code == 200 and ok.json() == {"revoked": 1}
