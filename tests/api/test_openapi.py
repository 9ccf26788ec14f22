"""The OpenAPI document tells clients (and the fuzz test) the limits and the error answers.

- every integer a client may send is bounded to what the database stores (32-bit INTEGER columns),
  so a new route or field with a bare ``int`` fails here instead of answering 500 on PostgreSQL;
- every route declares its 4xx answers with the one error body.
"""

from __future__ import annotations

from typing import Any

import pytest

from ciimap.app import create_app
from ciimap.auth.api import PUBLIC_PATHS
from ciimap.core.schemas import INT32_MAX, INT32_MIN, INT64_MAX

#: Fields stored in BIGINT columns (counts that outgrow 32 bits: records and people covered by a data
#: resource, datagov): bounded, but to 64 bits.
BIGINT_FIELDS = {"records", "people"}

ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """The document does not depend on the database: built once, not per backend."""
    return create_app().openapi()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _unbounded(doc: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Integer schemas inside ``schema`` without a minimum and maximum in the 32-bit range."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
    schema = _resolve(doc, schema)
    out = []
    if schema.get("type") == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        field = where.rsplit(".", 1)[-1].split("[", 1)[0]
        top = INT64_MAX if field in BIGINT_FIELDS and "body" in where else INT32_MAX
        if lo is None or hi is None or lo < INT32_MIN or hi > top:
            out.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            out += _unbounded(doc, sub, f"{where}[{i}]", seen)
    for name, sub in schema.get("properties", {}).items():
        out += _unbounded(doc, sub, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        out += _unbounded(doc, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        out += _unbounded(doc, schema["additionalProperties"], f"{where}{{}}", seen)
    return out


def _operations(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


def test_every_integer_input_is_bounded(doc):
    found: list[str] = []
    for method, path, op in _operations(doc):
        for p in op.get("parameters", []):
            found += _unbounded(doc, p["schema"], f"{method} {path} {p['in']} {p['name']}", set())
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            found += _unbounded(doc, content.get("schema", {}), f"{method} {path} body ({media})", set())
    assert not found, "integers without 32-bit bounds (use ciimap.core.schemas.Int32):\n" + "\n".join(found)


def test_every_route_declares_its_error_answers(doc):
    missing = []
    for method, path, op in _operations(doc):
        responses = op["responses"]
        expected = set()
        if path not in PUBLIC_PATHS:
            expected.add("401")
        if "{" in path:
            expected.add("404")
        if op.get("parameters") or op.get("requestBody"):
            expected.add("422")
        if method in {"POST", "PUT", "PATCH", "DELETE"} and path not in PUBLIC_PATHS:
            expected |= {"403", "409"}
        missing += [f"{method} {path} {s}" for s in sorted(expected - set(responses))]
        for status, answer in responses.items():
            if status.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
    assert not missing, "undeclared error answers:\n" + "\n".join(missing)
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's body is not what we send
    assert doc["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


def test_admin_and_write_routes_declare_403_and_read_routes_do_not(doc):
    assert "403" in doc["paths"]["/api/users"]["get"]["responses"]  # admin only
    assert "403" in doc["paths"]["/api/audit"]["get"]["responses"]  # audit permission
    assert "403" in doc["paths"]["/api/assets"]["post"]["responses"]
    assert "403" not in doc["paths"]["/api/assets"]["get"]["responses"]  # every role may read
    assert "401" in doc["paths"]["/api/auth/login"]["post"]["responses"]  # wrong password
    assert "409" not in doc["paths"]["/api/auth/login"]["post"]["responses"]
