"""Security headers on every response (API, pages, static files, error pages) and the early 413.

A pure ASGI middleware (not ``BaseHTTPMiddleware``): it only appends headers to the
``http.response.start`` message, so API responses and streamed files pass through untouched.
Hand-written: it is a few lines, and the packages offering it add nothing we need offline.

Everything ciimap serves comes from its own origin (no CDN: the users' networks are air-gapped),
so the Content-Security-Policy is strict: scripts and style sheets only from our own files (no
inline script, no eval, no inline ``<style>`` or ``style`` attribute), no plugins, no framing,
forms post only to us. What that asked of the front end: the topology page's early fetch and the
Swagger UI start-up are static files, htmx's indicator styles and cytoscape's container rule are in
app.css, job progress is a ``<progress>`` element, echarts tooltips are drawn on the canvas
(``renderMode: "richText"``). ``tests/web/test_browser.py`` fails on any CSP violation.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ciimap.core import uploads

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NAMES = {name for name, _ in HEADERS}


class SecurityHeaders:
    """Add :data:`HEADERS` to every HTTP response (a header a route set itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers} & _NAMES
                headers.extend(h for h in HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseOversized:
    """Answer 413 with our one-line JSON error when ``Content-Length`` is over the body limit, unread.

    FastAPI's ``max_body_size`` (set in ``create_app``) counts the body as it streams in and stops a
    request without ``Content-Length``; for one that declares its size up front it would replace
    whatever the app answers with a plain-text 413, so that case is answered here first.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
            if length.isdigit() and int(length) > uploads.body_limit():
                body = json.dumps({"error": uploads.too_large_message()}, ensure_ascii=False).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
