"""Every route of the app requires authentication and the right role.

Enumerates all routes (including those other domains add) so a new unprotected route fails here.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from ciimap.core.routes import iter_api_routes

#: Reachable without logging in.
PUBLIC = {("POST", "/api/auth/login"), ("GET", "/login"), ("POST", "/login")}
#: Unsafe routes a read-only auditor may still call: they change only the caller's own session/preferences.
SELF_SERVICE = {
    ("POST", "/logout"),
    ("PATCH", "/api/ui/locale"),
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _permissions(route) -> set[str]:  # noqa: ANN001
    found: set[str] = set()

    def walk(dep) -> None:  # noqa: ANN001
        perm = getattr(dep.call, "permission", None)
        if perm:
            found.add(perm)
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


class _R:
    """A route with its full path (included routers may nest the original route)."""

    def __init__(self, path: str, route: APIRoute) -> None:
        self.path, self.dependant = path, route.dependant


def _routes(app):
    for path, r in iter_api_routes(app):
        for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
            yield m, _R(path, r)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_allow_lists_name_only_existing_routes(app):
    """A route added later at an allow-listed path would be public or self-service without review."""
    existing = {(m, r.path) for m, r in _routes(app)}
    assert not (PUBLIC | SELF_SERVICE) - existing, (PUBLIC | SELF_SERVICE) - existing


def test_every_route_declares_a_permission(app):
    missing = [f"{m} {r.path}" for m, r in _routes(app) if (m, r.path) not in PUBLIC and not _permissions(r)]
    assert not missing, f"routes without an authentication dependency: {missing}"


def test_unsafe_routes_need_more_than_read(app):
    weak = [
        f"{m} {r.path}"
        for m, r in _routes(app)
        if m in UNSAFE and (m, r.path) not in PUBLIC | SELF_SERVICE and _permissions(r) <= {"read", "audit"}
    ]
    assert not weak, f"write routes open to read-only roles: {weak}"


def test_anonymous_requests_are_rejected(app, client):
    checked = 0
    for m, r in _routes(app):
        if (m, r.path) in PUBLIC:
            continue
        resp = client.request(m, _concrete(r.path), follow_redirects=False)
        if r.path.startswith("/api"):
            assert resp.status_code == 401, f"{m} {r.path} -> {resp.status_code}"
        else:
            assert resp.status_code in (303, 307, 401), f"{m} {r.path} -> {resp.status_code}"
        checked += 1
    assert checked >= 60  # the CRUD routes of every map entity alone are 60


def test_auditor_cannot_write(app, client, auditor_headers):
    checked = 0
    for m, r in _routes(app):
        if m not in UNSAFE or (m, r.path) in PUBLIC | SELF_SERVICE:
            continue
        resp = client.request(m, _concrete(r.path), headers=auditor_headers, follow_redirects=False)
        assert resp.status_code == 403, f"{m} {r.path} -> {resp.status_code} for auditor"
        checked += 1
    assert checked >= 36


def test_analyst_cannot_administer(app, client, analyst_headers):
    for m, r in _routes(app):
        if "admin" in _permissions(r) and (m, r.path) not in PUBLIC:
            resp = client.request(m, _concrete(r.path), headers=analyst_headers, follow_redirects=False)
            assert resp.status_code == 403, f"{m} {r.path} -> {resp.status_code} for analyst"


def test_openapi_and_docs_require_login(client, auditor_headers):
    assert client.get("/api/openapi.json").status_code == 401
    spec = client.get("/api/openapi.json", headers=auditor_headers).json()
    assert "/api/assets" in spec["paths"] and "get" in spec["paths"]["/api/assets"]
    params = {p["name"] for p in spec["paths"]["/api/assets"]["get"]["parameters"]}
    assert {"zone_id", "q", "limit", "after"} <= params


#: Served without the checks above, on purpose: the front-end files (no data, the same for everyone).
UNCHECKED_MOUNTS = {"/static"}


def _leaves(routes):  # noqa: ANN001, ANN202
    for r in routes:
        if hasattr(r, "effective_route_contexts"):  # an included router (FastAPI >= 0.120)
            for ctx in r.effective_route_contexts():
                yield getattr(ctx, "original_route", None) or ctx
        else:
            yield r


def test_every_route_is_seen_by_the_permission_checks(app):
    """The checks above enumerate APIRoutes; a plain Starlette route or mount (``router.routes.append``,
    ``app.add_route``, ``app.mount``) would be served without them, so only /static may be one."""
    hidden = [
        f"{type(r).__name__} {getattr(r, 'path', '?')}"
        for r in _leaves(app.router.routes)
        if not isinstance(r, APIRoute) and getattr(r, "path", None) not in UNCHECKED_MOUNTS
    ]
    assert not hidden, (
        f"routes the permission checks cannot see (make them APIRoutes with a Reader/...): {hidden}"
    )
    assert {getattr(r, "path", None) for r in app.router.routes} >= UNCHECKED_MOUNTS


def test_a_plain_route_would_be_reported(app):
    """Also inside an included router, where the APIRoute walk of the checks above does not look."""
    from fastapi import APIRouter
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    extra = APIRouter()
    extra.routes.append(Route("/plain", lambda request: PlainTextResponse("open")))
    app.include_router(extra, prefix="/api")
    app.router.routes.append(Route("/top", lambda request: PlainTextResponse("open")))
    hidden = [r for r in _leaves(app.router.routes) if getattr(r, "path", None) not in UNCHECKED_MOUNTS]
    assert sorted(type(r).__name__ for r in hidden if not isinstance(r, APIRoute)) == ["Route", "Route"]
