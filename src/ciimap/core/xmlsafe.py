"""Safe XML, the one module every importer and feed uses: no DTD, no entity expansion, no network,
strict parsing (never lxml's recover mode, which accepts a file cut short).

Two ways in:

- ``iterparse`` / ``safe_parse`` for well-formed documents (nmap, masscan, CycloneDX XML): the prolog is
  checked first, then lxml parses with entities, DTD loading and network access off;
- ``parse_dump`` for raw CNNVD/CNVD dumps, which often carry unescaped ``&`` and ``<`` in free text: any
  DTD or entity declaration is refused, stray ``&`` and ``<`` are escaped, then the same strict parse.

The prolog check is hand-written (a few KB scanned once) because lxml with ``resolve_entities=False``
silently keeps entity references, while the user must learn the file was refused and where.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ciimap.core.errors import InputFileError

_PROLOG_LIMIT = 1 << 20
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([^\s\[>]+)([^>\[]*)(\[)?", re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def _line_col(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {col}"


def check_prolog(path: Path, head: bytes) -> str:
    """Refuse DTD internal subsets, external DTDs and entity declarations; return the root tag name."""
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise InputFileError(str(path), "not an XML document (it does not start with '<')", position="line 1")
    pos = 0
    while True:
        lt = head.find(b"<", pos)
        if lt < 0:
            raise InputFileError(
                str(path), "not an XML document (no root element)", position=_line_col(head, len(head))
            )
        nxt = head[lt : lt + 9]
        if nxt.startswith(b"<?"):
            end = head.find(b"?>", lt)
            pos = end + 2 if end > 0 else len(head)
        elif nxt.startswith(b"<!--"):
            end = head.find(b"-->", lt)
            pos = end + 3 if end > 0 else len(head)
        elif nxt.upper().startswith(b"<!DOCTYPE"):
            m = _DOCTYPE.match(head, lt)
            if m and (m.group(3) or re.search(rb"\b(SYSTEM|PUBLIC)\b", m.group(2))):
                raise InputFileError(
                    str(path),
                    "XML with a DTD or entity declarations is refused "
                    "(possible entity expansion or external entity attack)",
                    position=_line_col(head, lt),
                )
            end = head.find(b">", lt)
            pos = end + 1 if end > 0 else len(head)
        elif nxt.startswith(b"<!"):
            raise InputFileError(
                str(path), "XML declarations (<!ENTITY ...>) are refused", position=_line_col(head, lt)
            )
        else:
            m = _ROOT.match(head, lt)
            if not m:
                raise InputFileError(str(path), "not well-formed XML", position=_line_col(head, lt))
            return m.group(1).decode(errors="replace").split(":")[-1]
        if pos >= len(head):
            raise InputFileError(
                str(path), "no root element in the first MB", position=_line_col(head, len(head))
            )


class CountingReader:
    """File wrapper reporting bytes read, so progress bars can follow huge files."""

    def __init__(self, fh: IO[bytes], callback: Callable[[int], None] | None) -> None:
        self.fh, self.callback, self.count = fh, callback, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.count += len(data)
        if self.callback:
            self.callback(self.count)
        return data


def read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(_PROLOG_LIMIT)


def iterparse(
    path: Path,
    tags: tuple[str, ...],
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Yield ``end`` elements with one of ``tags``; errors name the file and the line/column."""
    with path.open("rb") as fh:
        reader = CountingReader(fh, on_bytes)
        ctx = etree.iterparse(
            reader,
            events=("end",),
            tag=tags,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
            remove_comments=True,
            recover=False,
        )
        try:
            for _event, elem in ctx:
                yield elem
        except etree.XMLSyntaxError as e:
            raise syntax_error(path, e) from None


def syntax_error(path: Path, e: etree.XMLSyntaxError) -> InputFileError:
    """One line naming the file and line/column; "truncated" when the file ends inside an element."""
    return _syntax_error(path, e, _line_count(path), "malformed XML ({msg})")


def _syntax_error(path: Path, e: etree.XMLSyntaxError, extent: tuple[int, int], other: str) -> InputFileError:
    """``extent``: lines in the document and the length of its last line; ``other``: the message (with
    ``{msg}``) for an error that is not at the end of the document."""
    line, col = e.position if e.position else (e.lineno, 0)
    msg = str(e.msg or e).split(", line ")[0]
    lines, last_len = extent
    at_eof = line > lines or (line == lines and col >= last_len)  # the error sits where the file stops
    if at_eof or "Premature end" in msg or "end of data" in msg.lower():
        msg = f"truncated XML: the file ends inside an element ({msg})"
    else:
        msg = other.format(msg=msg)
    return InputFileError(str(path), msg, position=f"line {line}, column {col}")


def _line_count(path: Path) -> tuple[int, int]:
    """Lines in the file and the length of its last line (error path only): an error at the very end
    of the file means it was cut short."""
    n, last = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = (last + chunk)[-(1 << 20) :]
    tail = last.rsplit(b"\n", 1)[-1]
    return n + (0 if last.endswith(b"\n") else 1), len(tail)


def detach(elem: Any) -> None:
    """Take a processed element (and any earlier siblings) out of the tree so the tree stays small;
    the element itself lives on while something references it."""
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]
        parent.remove(elem)


def safe_parse(path: Path) -> Any:
    """Whole-document parse for small XML (SBOMs), same protections."""
    check_prolog(path, read_head(path))
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_comments=True
    )
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as e:
        raise syntax_error(path, e) from None


# Raw vulnerability-database dumps (CNNVD, CNVD) -------------------------------------------------------

_BAD_AMP = re.compile(rb"&(?!(?:#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);)")
_NAME = rb"[A-Za-z_][\w.:-]*"
#: ``<`` starts markup only when a complete tag follows (``<name attr="v">``, ``</name>``, ``<?``, ``<!``).
_BAD_LT = re.compile(
    rb"<(?!/?" + _NAME + rb"(?:\s+" + _NAME + rb"\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/?>|[?!])"
)
_DECL = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_dump(path: Path) -> etree._Element:
    """Whole-document parse of a raw dump: declarations refused, stray ``&``/``<`` escaped, strict."""
    raw = path.read_bytes()
    m = _DECL.search(raw)
    if m:
        line = raw[: m.start()].count(b"\n") + 1
        raise InputFileError(str(path), "DTD/entity declarations are not allowed", position=f"line {line}")
    fixed = _BAD_LT.sub(b"&lt;", _BAD_AMP.sub(b"&amp;", raw))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        recover=False,
        huge_tree=False,
        remove_blank_text=True,
    )
    try:  # strict only: recover mode would accept a file cut short, and it is a complete catalogue we want
        root = etree.fromstring(fixed, parser)
    except etree.XMLSyntaxError as e:
        extent = fixed.count(b"\n") + 1, len(fixed.rsplit(b"\n", 1)[-1])
        raise _syntax_error(path, e, extent, "invalid XML: {msg}") from None
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
