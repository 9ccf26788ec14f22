"""Small helpers the alert sources share: CVE names in text, ports, JSON lines."""

from __future__ import annotations

import re
from typing import Any

import orjson

#: ``CVE-2021-44228``, and ET rule metadata's ``CVE_2021_44228``.
_CVE = re.compile(r"CVE[-_](\d{4})[-_](\d{4,7})", re.IGNORECASE)


def cves_in(text: str) -> list[str]:
    """The CVE ids a line names (cheap when it names none: one substring test)."""
    if "CVE" not in text and "cve" not in text:
        return []
    return sorted({f"CVE-{y}-{n}" for y, n in _CVE.findall(text)})


def port(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 <= n <= 65535 else None


def text(value: Any) -> str | None:
    """A JSON value as text; NUL (``\u0000`` in the JSON) dropped, since PostgreSQL text cannot hold it."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).replace("\x00", "")


def json_object(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object on a line, or why there is none (the reason stored with a rejected line)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        return None, f"invalid JSON: {str(e).split(':', 1)[0]}"
    if not isinstance(doc, dict):
        return None, f"a JSON {type(doc).__name__}, not an object"
    return doc, None
