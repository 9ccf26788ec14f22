"""Passwords, tokens, cookie sessions and CSRF."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from ciimap.auth import service
from ciimap.auth.deps import CSRF_HEADER, SESSION_COOKIE
from ciimap.auth.models import ApiToken, User


def test_password_is_argon2_and_token_is_hashed(database, client):
    with database.unit_of_work() as s:
        service.create_user(s, username="li", password="s3cret-pass", role="analyst")
    r = client.post("/api/auth/login", json={"username": "li", "password": "s3cret-pass"})
    assert r.status_code == 200
    token = r.json()["token"]
    with database.read_session() as s:
        user = s.scalar(select(User).where(User.username == "li"))
        assert user.password_hash.startswith("$argon2")
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "analyst" and "write" in me["permissions"]


def test_wrong_password_and_bad_tokens(database, client):
    with database.unit_of_work() as s:
        service.create_user(s, username="wang", password="right-password", role="auditor")
    r = client.post("/api/auth/login", json={"username": "wang", "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"] == "wrong username or password"
    r = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert r.status_code == 401
    assert client.get("/api/assets", headers={"Authorization": "Bearer cii_forged"}).status_code == 401


def test_expired_token_and_disabled_user(database, client):
    with database.unit_of_work() as s:
        u = service.create_user(s, username="zhao", password="password-1", role="admin")
        _t, secret = service.create_token(s, u, "t", days=1)
    h = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/assets", headers=h).status_code == 200
    with database.unit_of_work() as s:
        s.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert client.get("/api/assets", headers=h).status_code == 401
    with database.unit_of_work() as s:
        s.execute(update(ApiToken).values(expires_at=None))
        s.execute(update(User).values(is_active=False))
    assert client.get("/api/assets", headers=h).status_code == 401


def test_cookie_session_requires_csrf_for_writes(database, client):
    with database.unit_of_work() as s:
        u = service.create_user(s, username="chen", password="password-2", role="analyst")
        secret, csrf = service.create_session(s, u, hours=1)
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/api/assets").status_code == 200
    r = client.post("/api/vendors", json={"name": "统信软件"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = client.post("/api/vendors", json={"name": "统信软件"}, headers={CSRF_HEADER: "wrong"})
    assert r.status_code == 403
    r = client.post("/api/vendors", json={"name": "统信软件"}, headers={CSRF_HEADER: csrf})
    assert r.status_code == 201


def test_user_admin_api(client, admin_headers, analyst_headers):
    r = client.post("/api/users", json={"username": "sun", "password": "short"}, headers=admin_headers)
    assert r.status_code == 422 and "password" in r.json()["error"]
    r = client.post(
        "/api/users",
        json={"username": "sun", "password": "long-enough", "role": "auditor"},
        headers=admin_headers,
    )
    assert r.status_code == 201 and "password" not in r.text
    assert (
        client.post(
            "/api/users", json={"username": "sun", "password": "long-enough"}, headers=admin_headers
        ).status_code
        == 409
    )
    assert client.get("/api/users", headers=analyst_headers).status_code == 403


def test_user_bound_to_a_missing_organisation_is_refused(database, client, admin_headers):
    """A user bound to an organisation that does not exist: 404 naming it, nothing stored (was a 500 from
    the foreign key, found by tests/api/test_fuzz.py)."""
    body = {"username": "moon", "password": "long-enough", "organization_id": 424242}
    r = client.post("/api/users", json=body, headers=admin_headers)
    assert r.status_code == 404 and "organization 424242" in r.json()["error"]
    with database.read_session() as s:
        assert s.scalar(select(User.id).where(User.username == "moon")) is None
