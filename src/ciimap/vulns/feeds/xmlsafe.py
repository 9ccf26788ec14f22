"""Parse raw CNNVD/CNVD XML dumps safely.

Raw dumps often carry unescaped ``&`` and ``<`` in free text. We reject any DTD or entity
declaration (no entity expansion, ever), escape ``&`` that does not start a predefined or numeric
entity and ``<`` not followed by a complete tag, then parse with lxml, strictly (never in recover
mode, which accepts a file cut short), with entity resolution, DTD loading and network access all off.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ciimap.core.errors import InputFileError

_BAD_AMP = re.compile(rb"&(?!(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);)")
_NAME = rb"[A-Za-z_][\w.:-]*"
#: ``<`` starts markup only when a complete tag follows (``<name attr="v">``, ``</name>``, ``<?``, ``<!``).
_BAD_LT = re.compile(
    rb"<(?!/?" + _NAME + rb"(?:\s+" + _NAME + rb"\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/?>|[?!])"
)
_DECL = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        recover=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def parse(path: Path) -> etree._Element:
    raw = path.read_bytes()
    m = _DECL.search(raw)
    if m:
        line = raw[: m.start()].count(b"\n") + 1
        raise InputFileError(str(path), "DTD/entity declarations are not allowed", position=f"line {line}")
    fixed = _BAD_LT.sub(b"&lt;", _BAD_AMP.sub(b"&amp;", raw))
    try:  # strict only: recover mode would accept a file cut short, and it is a complete catalogue we want
        root = etree.fromstring(fixed, _parser())
    except etree.XMLSyntaxError as e:
        line, col = e.position if e.position else (e.lineno, 0)
        msg = str(e.msg or e).split(", line ")[0]
        lines, last_len = fixed.count(b"\n") + 1, len(fixed.rsplit(b"\n", 1)[-1])
        at_eof = line > lines or (line == lines and col >= last_len)  # the error sits where the file stops
        if "Premature end" in msg or "end of data" in msg.lower() or at_eof:
            msg = f"truncated XML: the file ends inside an element ({msg})"
        else:
            msg = f"invalid XML: {msg}"
        raise InputFileError(str(path), msg, position=f"line {line}, column {col}") from None
    if root is None:
        raise InputFileError(str(path), "empty or unreadable XML document")
    return root


def text(el: etree._Element, *names: str) -> str | None:
    """First non-empty text among child elements named ``names`` (namespace-agnostic)."""
    for name in names:
        for child in el.iter():
            if (
                isinstance(child.tag, str)
                and etree.QName(child).localname == name
                and (child.text or "").strip()
            ):
                return child.text.strip()
    return None


def texts(el: etree._Element, name: str) -> list[str]:
    return [
        c.text.strip()
        for c in el.iter()
        if isinstance(c.tag, str) and etree.QName(c).localname == name and (c.text or "").strip()
    ]


def children(root: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in root.iter() if isinstance(c.tag, str) and etree.QName(c).localname == name]
