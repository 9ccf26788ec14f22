"""Generic create/edit forms derived from an entity's Create schema (NetBox-style).

Form values arrive as strings; they are turned into the schema's shapes (empty → None, lists from
comma-separated text, checkboxes to booleans) and then validated by the same schema as the API.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from ciimap.core.entity import EntitySpec


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) of ``X | None`` / ``Annotated[X, ...]``."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def fields(spec: EntitySpec, obj: Any = None) -> list[dict[str, Any]]:
    """How to render each writable field: input kind, options, required, current value."""
    out = []
    for name, info in spec.create.model_fields.items():
        typ, optional = _unwrap(info.annotation)
        origin = typing.get_origin(typ)
        f: dict[str, Any] = {"name": name, "required": info.is_required(), "options": None, "kind": "text"}
        if origin is Literal:
            f["kind"], f["options"] = "select", [str(v) for v in typing.get_args(typ)]
        elif typ is bool:
            f["kind"] = "checkbox"
        elif typ in (int, float):
            f["kind"] = "number"
        elif origin is list:
            f["kind"] = "list"
        elif origin is dict or typ is dict:
            continue  # structured values are edited through the API
        value = getattr(obj, name, None) if obj is not None else info.default
        if f["kind"] == "list":
            value = ", ".join(str(v) for v in (value or []))
        f["value"] = "" if value is None or value is ... else value
        f["optional"] = optional
        out.append(f)
    return out


def parse(spec: EntitySpec, form: dict[str, str], *, partial: bool) -> dict[str, Any]:
    """Form strings → data for entity.create/update (the schema then validates and converts)."""
    data: dict[str, Any] = {}
    for f in fields(spec):
        name = f["name"]
        if f["kind"] == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1")
            continue
        if name not in form:
            continue
        raw = form[name].strip()
        if f["kind"] == "list":
            data[name] = [x.strip() for x in raw.replace("\n", ",").split(",") if x.strip()]
        elif raw == "":
            if partial or f["optional"]:
                data[name] = None
        else:
            data[name] = raw
    return data
