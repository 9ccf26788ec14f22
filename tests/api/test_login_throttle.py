"""Login abuse limits: throttling per username and per address (shared by every server process, in the
database), 429 + Retry-After without a password check, and every failed login audited in its own
transaction (the API request itself rolls back)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select, update

from ciimap.auth import login as login_service
from ciimap.auth import service
from ciimap.auth.models import LoginThrottle, User
from ciimap.config import get_settings
from ciimap.core import audit
from ciimap.core.audit import AuditLog
from ciimap.core.db import Database, utcnow

PASSWORD = "right-password-1"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "login_max_failures", 3)
    monkeypatch.setattr(settings, "login_max_failures_per_address", 5)
    monkeypatch.setattr(settings, "login_delay_seconds", 30)
    monkeypatch.setattr(settings, "login_max_delay_seconds", 100)


def _user(db: Database, name: str = "li", active: bool = True) -> None:
    with db.unit_of_work() as s:
        u = service.create_user(s, username=name, password=PASSWORD, role="analyst")
        u.is_active = active


def _login(client, username: str, password: str):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _failures(db: Database) -> list[dict]:
    with db.read_session() as s:
        rows = s.scalars(
            select(AuditLog).where(AuditLog.action == login_service.FAILED).order_by(AuditLog.id)
        )
        return [{**(r.after or {}), "actor": r.actor, "via": r.via, "entity_id": r.entity_id} for r in rows]


def _unlock(db: Database) -> None:
    """As if the wait were over (no sleeping in tests)."""
    with db.unit_of_work() as s:
        s.execute(update(LoginThrottle).values(locked_until=utcnow() - dt.timedelta(seconds=1)))


def test_failed_api_logins_are_audited_in_their_own_transaction(database, client, limits):
    _user(database, "li")
    _user(database, "gone", active=False)
    assert _login(client, "li", "wrong-password").status_code == 401
    assert _login(client, "nobody", "wrong-password").status_code == 401
    assert _login(client, "gone", PASSWORD).status_code == 401
    got = _failures(database)
    assert [(f["username"], f["reason"]) for f in got] == [
        ("li", "wrong_password"),
        ("nobody", "unknown_user"),
        ("gone", "disabled"),
    ]
    assert all(f["address"] == "testclient" and f["via"] == "api" and f["actor"] == "anonymous" for f in got)
    assert got[0]["entity_id"] is not None and got[1]["entity_id"] is None
    with database.read_session() as s:
        everything = " ".join(str((r.before, r.after, r.note)) for r in s.scalars(select(AuditLog)))
        assert "wrong-password" not in everything and PASSWORD not in everything  # never the password
        assert audit.verify(s).ok  # the chain holds with records from separate transactions


def test_user_is_throttled_with_a_growing_wait_and_no_password_check(database, client, limits, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 100)  # the user's limit only
    _user(database, "li")
    for _ in range(3):
        assert _login(client, "li", "wrong-password").status_code == 401
    checked: list[str] = []
    real = service.check_credentials
    monkeypatch.setattr(service, "check_credentials", lambda *a: checked.append(a[1]) or real(*a))
    r = _login(client, "li", PASSWORD)  # the right password does not help while throttled
    assert r.status_code == 429 and "too many failed logins" in r.json()["error"]
    assert 0 < int(r.headers["Retry-After"]) <= 30 and r.headers["x-frame-options"] == "DENY"
    assert checked == []  # refused before the password was looked at
    assert _failures(database)[-1]["reason"] == "throttled"

    _unlock(database)
    assert _login(client, "li", "wrong-password").status_code == 401  # a fourth failure: the wait doubles
    r = _login(client, "li", PASSWORD)
    assert r.status_code == 429 and 30 < int(r.headers["Retry-After"]) <= 60
    _unlock(database)
    assert _login(client, "li", "wrong-password").status_code == 401
    _unlock(database)
    assert _login(client, "li", "wrong-password").status_code == 401
    assert 60 < int(_login(client, "li", PASSWORD).headers["Retry-After"]) <= 100  # capped at the maximum

    _unlock(database)
    r = _login(client, "li", PASSWORD)
    assert r.status_code == 200
    with database.read_session() as s:  # success clears the user's count; the address keeps its own
        assert s.scalars(select(LoginThrottle.scope)).all() == ["address"]
    assert _login(client, "li", "wrong-password").status_code == 401  # counting starts again from one
    assert _login(client, "li", "wrong-password").status_code == 401


def test_address_is_throttled_across_usernames(database, client, limits):
    _user(database, "li")
    for name in ("a", "b", "c", "d", "e"):  # spraying: one failure each for five names
        assert _login(client, name, "wrong-password").status_code == 401
    r = _login(client, "li", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    with database.read_session() as s:
        assert s.scalar(select(LoginThrottle.failures).where(LoginThrottle.scope == "address")) == 5


def test_a_limit_of_zero_turns_that_throttle_off(database, client, limits, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 0)  # e.g. behind a reverse proxy
    _user(database, "li")
    for name in ("a", "b", "c", "d", "e", "f", "g"):
        assert _login(client, name, "wrong-password").status_code == 401
    assert _login(client, "li", PASSWORD).status_code == 200
    with database.read_session() as s:
        assert s.scalars(select(LoginThrottle.scope).distinct()).all() == ["user"]


def test_counts_are_old_news_after_the_window(database, client, limits):
    _user(database, "li")
    for _ in range(2):
        assert _login(client, "li", "wrong-password").status_code == 401
    with database.unit_of_work() as s:
        s.execute(update(LoginThrottle).values(last_failure_at=utcnow() - dt.timedelta(minutes=16)))
    assert _login(client, "li", "wrong-password").status_code == 401
    with database.read_session() as s:
        assert s.scalar(select(LoginThrottle.failures).where(LoginThrottle.scope == "user")) == 1


def test_web_form_is_throttled_and_audited(database, client, limits):
    _user(database, "li")
    for _ in range(3):
        r = client.post(
            "/login", data={"username": "li", "password": "wrong-password"}, follow_redirects=False
        )
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = client.post("/login", data={"username": "li", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429 and "登录失败次数过多" in r.text and int(r.headers["Retry-After"]) > 0
    assert "ciimap_session" not in r.headers.get("set-cookie", "")
    assert [(f["reason"], f["via"]) for f in _failures(database)] == [("wrong_password", "web")] * 3 + [
        ("throttled", "web")
    ]
    _unlock(database)
    r = client.post("/login", data={"username": "li", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    with database.read_session() as s:
        assert s.scalar(select(User.last_login).where(User.username == "li")) is not None


_OTHER_PROCESS = """
import sys
from ciimap.auth import login
from ciimap.core.db import get_database
from ciimap.core.errors import NotAuthenticated
for _ in range(3):
    with get_database().unit_of_work() as s:
        try:
            login.login(s, login.Attempt("li", "10.9.8.7", "api"), "wrong-password")
        except NotAuthenticated:
            pass
        else:
            sys.exit("logged in with a wrong password")
"""


def test_failures_in_another_process_throttle_this_one(database, client, limits):
    _user(database, "li")
    env = {**os.environ, "CIIMAP_DATABASE_URL": database.url, "CIIMAP_LOGIN_MAX_FAILURES": "3"}
    out = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    r = _login(client, "li", PASSWORD)  # another address, same user: the user's count is shared
    assert r.status_code == 429
    assert [f["address"] for f in _failures(database)] == ["10.9.8.7"] * 3 + ["testclient"]


def test_concurrent_failures_are_all_counted(database, limits):
    """Eight failures at once through two engines (as from two server processes): none is lost."""
    other = Database(database.url)
    attempt = login_service.Attempt("li", None, "api")
    errors: list[BaseException] = []

    def fail(db: Database) -> None:
        try:
            with db.unit_of_work() as s:
                login_service.note_failure(s, attempt, utcnow())
        except BaseException as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=fail, args=(database if i % 2 else other,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.engine.dispose()
    assert not errors
    with database.read_session() as s:
        row = s.scalar(select(LoginThrottle))
        assert row.failures == 8 and row.locked_until is not None


def test_cli_unlock_lifts_the_wait(database, client, limits, monkeypatch):
    from typer.testing import CliRunner

    from ciimap.cli import app

    monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 100)
    _user(database, "li")
    for _ in range(3):
        _login(client, "li", "wrong-password")
    assert _login(client, "li", PASSWORD).status_code == 429
    r = CliRunner().invoke(app, ["user", "unlock", "li"])
    assert r.exit_code == 0, r.output
    assert _login(client, "li", PASSWORD).status_code == 200
    with database.read_session() as s:
        assert s.scalar(select(AuditLog.after).where(AuditLog.action == "login_unlocked")) == {
            "username": "li"
        }
