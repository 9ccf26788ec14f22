"""Parse raw CNNVD/CNVD XML dumps safely.

Raw dumps often carry unescaped ``&`` and ``<`` in free text. We reject any DTD or entity
declaration (no entity expansion, ever), escape ``&`` that does not start a predefined or numeric
entity and ``<`` not followed by a complete tag, then parse with lxml (strict, falling back to
recover mode) with entity resolution, DTD loading and network access all off.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ciimap.core.errors import InputFileError

_BAD_AMP = re.compile(rb"&(?!(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);)")
_NAME = rb"[A-Za-z_][\w.:-]*"
#: ``<`` starts markup only when a complete tag follows (``<name attr="v">``, ``</name>``, ``<?``, ``<!``).
_BAD_LT = re.compile(rb"<(?!/?" + _NAME + rb"(?:\s+" + _NAME + rb"\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/?>|[?!])")
_DECL = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser(*, recover: bool) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=recover,
                           huge_tree=False, remove_blank_text=True)


def parse(path: Path) -> etree._Element:
    raw = path.read_bytes()
    m = _DECL.search(raw)
    if m:
        line = raw[:m.start()].count(b"\n") + 1
        raise InputFileError(str(path), "DTD/entity declarations are not allowed", position=f"line {line}")
    fixed = _BAD_LT.sub(b"&lt;", _BAD_AMP.sub(b"&amp;", raw))
    try:  # strict first: libxml2's recover mode drops entities after the first error
        root = etree.fromstring(fixed, _parser(recover=False))
    except etree.XMLSyntaxError:
        try:
            root = etree.fromstring(fixed, _parser(recover=True))
        except etree.XMLSyntaxError as e:
            raise InputFileError(str(path), f"invalid XML: {e.msg}", position=f"line {e.lineno}") from e
    if root is None:
        raise InputFileError(str(path), "empty or unreadable XML document")
    return root


def text(el: etree._Element, *names: str) -> str | None:
    """First non-empty text among child elements named ``names`` (namespace-agnostic)."""
    for name in names:
        for child in el.iter():
            if isinstance(child.tag, str) and etree.QName(child).localname == name and (child.text or "").strip():
                return child.text.strip()
    return None


def texts(el: etree._Element, name: str) -> list[str]:
    return [c.text.strip() for c in el.iter() if isinstance(c.tag, str)
            and etree.QName(c).localname == name and (c.text or "").strip()]


def children(root: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in root.iter() if isinstance(c.tag, str) and etree.QName(c).localname == name]
