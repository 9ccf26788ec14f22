"""One safe-XML module (ciimap.core.xmlsafe): every XML parse in src goes through it, and each way in
refuses DTDs and entity declarations, expands no entity, fetches nothing and never recovers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ciimap.core import xmlsafe
from ciimap.core.errors import InputFileError

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ciimap"
DATA = ROOT / "tests" / "data"
#: lxml calls that parse bytes into a tree (tostring and QName only read trees that exist).
PARSING = {"XMLParser", "iterparse", "parse", "fromstring", "XML", "XMLPullParser", "fromstringlist"}
XML_MODULES = {"xml", "defusedxml"}  # the standard library's parsers and their hardened wrappers


def _parsing_sites(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "etree"
            and node.attr in PARSING
        ):
            out.append(f"{path.relative_to(ROOT)}:{node.lineno} etree.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in XML_MODULES or (
                node.module == "lxml.etree" and {a.name for a in node.names} & PARSING
            ):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
        elif isinstance(node, ast.Import):
            out += [
                f"{path.relative_to(ROOT)}:{node.lineno} import {a.name}"
                for a in node.names
                if a.name.split(".")[0] in XML_MODULES
            ]
    return out


def test_xml_is_parsed_only_in_core_xmlsafe() -> None:
    sites = [s for p in sorted(SRC.rglob("*.py")) if p.name != "xmlsafe.py" for s in _parsing_sites(p)]
    assert not sites, "XML parsed outside ciimap.core.xmlsafe:\n" + "\n".join(sites)
    modules = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("xmlsafe.py"))
    assert modules == ["core/xmlsafe.py"], f"one safe-XML module, found {modules}"


LAUGHS = (DATA / "ingest" / "billion-laughs.xml").read_bytes()
XXE = (DATA / "ingest" / "xxe.xml").read_bytes()
#: An entity declaration without a DOCTYPE wrapper the prolog scanner might miss.
BARE_ENTITY = b'<?xml version="1.0"?>\n<!ENTITY x "boom">\n<root>&x;</root>\n'


@pytest.mark.parametrize("data", [LAUGHS, XXE, BARE_ENTITY], ids=["billion-laughs", "xxe", "bare-entity"])
@pytest.mark.parametrize("entry", ["iterparse", "safe_parse", "parse_dump"])
def test_every_way_in_refuses_dtds_and_entities(tmp_path: Path, data: bytes, entry: str) -> None:
    path = tmp_path / "doc.xml"
    path.write_bytes(data)
    with pytest.raises(InputFileError) as e:
        if entry == "iterparse":
            xmlsafe.check_prolog(path, xmlsafe.read_head(path))  # what the streaming importers call first
            list(xmlsafe.iterparse(path, ("root",)))
        else:
            getattr(xmlsafe, entry)(path)
    msg = str(e.value)
    assert "doc.xml" in msg and "line 2" in msg and "\n" not in msg


@pytest.mark.parametrize("entry", ["safe_parse", "parse_dump"])
def test_a_document_cut_short_is_refused_not_recovered(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes(b"<root>\n  <entry><name>one</name></entry>\n  <entry><name>tw")
    with pytest.raises(InputFileError, match="truncated XML"):
        getattr(xmlsafe, entry)(path)


def test_parse_dump_repairs_stray_ampersands_and_angles(tmp_path: Path) -> None:
    path = tmp_path / "dump.xml"
    path.write_bytes(b"<root><entry><name>A & B < C &amp; D</name></entry></root>")
    root = xmlsafe.parse_dump(path)
    assert xmlsafe.texts(root, "name") == ["A & B < C & D"]
