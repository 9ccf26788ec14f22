"""Security headers on every kind of response, and templates the strict Content-Security-Policy can serve
(no inline script, inline style or event-handler attribute). The browser suite checks the pages in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ciimap.core import asgi

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "ciimap" / "web" / "templates"
EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _assert_headers(r: Any) -> None:
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp  # no 'unsafe-inline' / 'unsafe-eval' anywhere
    assert r.headers.get_list("content-security-policy") == [csp]  # once, never doubled


def test_headers_on_api_pages_static_and_errors(client, admin_headers):
    responses = [
        client.get("/api/auth/me", headers=admin_headers),  # API JSON
        client.get("/api/assets"),  # 401
        client.get("/api/nope", headers=admin_headers),  # API 404
        client.get("/login"),  # page
        client.get("/nope"),  # HTML 404 page
        client.get("/static/app.css"),  # static file
        client.get("/static/nope.js"),  # static 404
        client.get("/api/docs", headers=admin_headers),  # Swagger UI
        client.post("/api/auth/login", json={"username": "x"}),  # 422
        client.get("/", follow_redirects=False),  # redirect to the login page
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 200, 404, 200, 404, 200, 422, 303]
    for r in responses:
        _assert_headers(r)


def test_headers_on_an_unhandled_error(database):
    """Even ServerErrorMiddleware's 500 page has them (the middleware wraps the whole stack)."""
    from fastapi.testclient import TestClient

    from ciimap.app import create_app

    app = create_app()

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/boom")
    assert r.status_code == 500
    _assert_headers(r)


def test_a_header_a_route_sets_itself_is_kept():
    import asyncio

    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"Referrer-Policy", b"same-origin")]}
        )
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(asgi.SecurityHeaders(app)({"type": "http"}, None, send))
    names = [n.lower() for n, _v in sent[0]["headers"]]
    assert names.count(b"referrer-policy") == 1 and b"content-security-policy" in names
    assert (b"Referrer-Policy", b"same-origin") in sent[0]["headers"]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_need_no_inline_script_or_style(template: Path):
    html = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script in {template.name}: {tag}"
    assert not re.search(r"<style\b", html), f"inline <style> in {template.name}"
    assert not re.search(r"\sstyle=", html), f"style attribute in {template.name}"
    assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {template.name}"
    assert "javascript:" not in html
