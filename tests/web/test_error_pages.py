"""Web paths answer HTML error pages in the caller's language; /api paths keep JSON errors."""

from __future__ import annotations

import pytest

from conftest import make_user
from web.test_pages import login


@pytest.fixture
def users(database):
    return {name: make_user(database, name, name) for name in ("admin", "auditor")}


def _html(r, status: int) -> str:
    assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (
        r.status_code,
        r.text,
    )
    return r.text


def test_unknown_pages_and_missing_records_are_html_404(client, users):
    csrf = login(client, "admin")
    page = _html(client.get("/no-such-page"), 404)
    assert (
        "页面不存在" in page and 'href="/"' in page and "返回首页" in page and 'data-nav="dashboard"' in page
    )
    missing = _html(client.get("/entities/assets/99999"), 404)
    assert "页面不存在" in missing and "99999" in missing
    assert "页面不存在" in _html(client.get("/entities/no-such-entity"), 404)
    api = client.get("/api/no-such")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
    assert api.json()
    rec = client.get("/api/assets/99999")
    assert rec.status_code == 404 and "99999" in rec.json()["error"]
    client.patch("/api/ui/locale", json={"locale": "en"}, headers={"X-CSRF-Token": csrf})
    en = _html(client.get("/no-such-page"), 404)
    assert '<html lang="en">' in en and "Page not found" in en and "Back to the dashboard" in en


def test_error_pages_for_anonymous_and_forbidden(client, users):
    anon = _html(client.get("/no-such-page", headers={"Accept-Language": "en-US,en;q=0.9"}), 404)
    assert "Page not found" in anon and 'href="/"' in anon and "data-nav" not in anon
    assert client.get("/entities/assets/1", follow_redirects=False).status_code == 303  # still asks to log in
    anon_api = client.get("/api/no-such")
    assert anon_api.status_code == 404 and anon_api.headers["content-type"].startswith("application/json")
    login(client, "auditor")
    assert "无权访问" in _html(client.get("/admin/users"), 403)
    api = client.get("/api/users", headers=users["auditor"])
    assert api.status_code == 403 and "error" in api.json()
