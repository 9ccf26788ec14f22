"""The app's OpenAPI document: the error answers every route can give, declared once.

Routes declare their success answer; the 4xx answers follow from how a route is built, so they are
added here from the route itself instead of on every decorator:

- 401 on every route that needs a principal (all but the public ones);
- 403 where the route needs more than ``read`` (write, admin, audit) or changes state (a browser
  session without its CSRF token);
- 400 on routes that take a body (a body that cannot be parsed);
- 404 where the path names something (a path parameter);
- 409 on authenticated routes that change state (unique names, records still referenced, plan states);
- 413 on routes that take an uploaded file (over ``CIIMAP_MAX_UPLOAD_MB``);
- 422 on every route that takes input (the body of FastAPI's validation errors is ours, not its own).

A route that can answer another 4xx declares it (``responses=NOT_FOUND`` where a query or body names
something that may not exist); its body is made the same.

Every one of them has the body of :class:`ciimap.core.schemas.ErrorOut` (``{"error": "..."}``), which
the handlers in :mod:`ciimap.app` send.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute

from ciimap.core.routes import iter_api_routes
from ciimap.core.schemas import ErrorOut

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REASONS = {
    "400": "Malformed request",
    "401": "Not authenticated",
    "403": "Not permitted",
    "404": "Not found",
    "409": "Conflict",
    "413": "Upload over the size limit",
    "422": "Invalid input",
    "429": "Too many failed attempts: wait for Retry-After seconds",
}
#: ``responses=`` of a route whose query or body names something that may not exist.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": REASONS["404"]}}
#: ``responses=`` of a public route that refuses wrong credentials.
UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut, "description": REASONS["401"]}}
#: ``responses=`` of a throttled route (the login).
TOO_MANY: dict[int | str, dict[str, Any]] = {429: {"model": ErrorOut, "description": REASONS["429"]}}


def _permissions(route: APIRoute) -> set[str]:
    found: set[str] = set()
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        perm = getattr(dep.call, "permission", None)
        if perm:
            found.add(perm)
        stack.extend(dep.dependencies)
    return found


def error_statuses(method: str, route: APIRoute) -> list[str]:
    """The 4xx answers ``method`` on ``route`` can give (see the module docstring)."""
    perms = _permissions(route)
    out = []
    dep = route.dependant
    if dep.body_params:
        out.append("400")
        if any(isinstance(f.field_info, params.File) for f in dep.body_params):
            out.append("413")  # an upload over CIIMAP_MAX_UPLOAD_MB
    if perms:
        out.append("401")
        if perms - {"read"} or method in UNSAFE:
            out.append("403")
    if dep.path_params:
        out.append("404")
    if perms and method in UNSAFE:
        out.append("409")
    if dep.query_params or dep.path_params or dep.body_params:
        out.append("422")
    return out


def declare_errors(app: FastAPI, schema: dict[str, Any]) -> None:
    """Add the error answers to ``schema``, FastAPI's document of ``app`` (in place)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, route in iter_api_routes(app):
        if not route.include_in_schema or path not in schema["paths"]:
            continue
        for method in route.methods or ():
            operation = schema["paths"][path].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            declared = [s for s in responses if s.startswith("4")]  # by the route itself
            for status in sorted({*error_statuses(method, route), *declared}):
                responses[status] = {"description": REASONS.get(status, "Error"), "content": error}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return FastAPI's (cached) document with the error answers declared."""
    generate = app.openapi
    done: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if id(schema) not in done:  # FastAPI made a new document (first call, or routes changed)
            declare_errors(app, schema)
            done[:] = [id(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
