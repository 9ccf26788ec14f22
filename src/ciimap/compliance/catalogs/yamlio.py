"""Reading catalog YAML safely: bounded size, UTF-8 with offsets, no aliases, one-line errors.

Catalog files come from users (an organisation's own catalog, a CISO Assistant library), so they are
read like every other untrusted input (``ciimap.core.safeio``): a size limit checked before reading,
0-byte files refused, UTF-8 decoding that names the byte offset. YAML is read with the safe loader
only, and anchors/aliases are refused outright: no catalog needs them and nested aliases are how a
small file expands into a huge walk ("billion laughs"). Errors are one ``InputFileError`` naming the
file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import decode_utf8, require_content

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Largest catalog or library file read (the shipped GB/T 22239 catalog is about 60 KB).
MAX_BYTES = 8 << 20
#: Deepest nesting of mappings and lists accepted (a catalog needs about 12).
MAX_DEPTH = 40


def read_file(path: Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """The parsed YAML document of ``path`` within the limits."""
    name = str(path)
    if not path.is_file():
        raise InputFileError(name, "no such file")
    require_content(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise InputFileError(name, f"too large for a catalog ({size:,} bytes; limit {max_bytes:,})")
    return read_bytes(name, path.read_bytes(), max_bytes=max_bytes)


def read_bytes(name: str, data: bytes, *, max_bytes: int = MAX_BYTES) -> Any:
    if len(data) > max_bytes:
        raise InputFileError(name, f"too large for a catalog ({len(data):,} bytes; limit {max_bytes:,})")
    if not data.strip():
        raise InputFileError(name, "empty file: no catalog in it")
    text = decode_utf8(name, data)
    try:
        _check_events(name, text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader (C or Python)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputFileError(
            name, f"invalid YAML: {getattr(e, 'problem', None) or e}", position=pos
        ) from None


def _check_events(name: str, text: str) -> None:
    """Refuse aliases and absurd nesting before anything is built from the document."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise InputFileError(
                name, "YAML aliases (*name) are not accepted in catalogs", position=_line(event)
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputFileError(name, f"nested deeper than {MAX_DEPTH} levels", position=_line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _line(event: yaml.Event) -> str | None:
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else None


def dump(doc: Any) -> str:
    """YAML text for a catalog or library document (block style, keys in the given order, CJK kept)."""
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
