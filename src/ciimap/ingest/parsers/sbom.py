"""SBOMs → SoftwareSet: CycloneDX JSON and XML (1.2–1.6) and SPDX 2.x JSON.

Hand-written walkers rather than cyclonedx-python-lib's deserialiser: that one is strict about
optional fields real generators get wrong and much slower on the 2 MB Keycloak BOM; we only need the
inventory fields (name, version, purl, CPE, hashes, supplier, licences, nesting, dependencies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard, decode_utf8
from ciimap.core.xmlsafe import safe_parse
from ciimap.ingest.records import SoftwareRecord, SoftwareSet

_CDX_KINDS = {
    "library": "library",
    "framework": "library",
    "application": "application",
    "firmware": "firmware",
    "operating-system": "os",
    "container": "container",
    "device": "hardware",
    "file": "file",
}


def parse(path: Path) -> SoftwareSet:
    """An SBOM listing no component is refused: importing it would remove the target's whole inventory."""
    with content_guard(str(path)):
        out = _parse(path)
    if not out.components:
        raise InputFileError(str(path), "the SBOM lists no components: nothing was imported")
    return out


def _parse(path: Path) -> SoftwareSet:
    raw = path.read_bytes()
    if raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _cdx_xml(path)
    try:
        doc = json.loads(decode_utf8(str(path), raw))
    except json.JSONDecodeError as e:
        raise InputFileError(
            str(path), f"malformed JSON SBOM ({e.msg})", position=f"line {e.lineno}, column {e.colno}"
        ) from None
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return _cdx_json(path, doc)
    if isinstance(doc, dict) and str(doc.get("spdxVersion", "")).startswith("SPDX-2"):
        return _spdx(path, doc)
    raise InputFileError(str(path), "not a CycloneDX (bomFormat) or SPDX 2.x (spdxVersion) SBOM")


def _licences(items: Any) -> list[str]:
    out = []
    for it in items or []:
        if not isinstance(it, dict):
            continue
        lic = it.get("license") or {}
        val = it.get("expression") or lic.get("id") or lic.get("name")
        if val:
            out.append(str(val))
    return out


def _supplier(c: dict[str, Any]) -> str | None:
    s = c.get("supplier") or c.get("manufacturer")
    if isinstance(s, dict):
        return s.get("name")
    return c.get("publisher") or c.get("author") or (str(s) if s else None)


def _cdx_component(path: Path, c: Any, where: str, parent: str | None, out: list[SoftwareRecord]) -> None:
    if not isinstance(c, dict) or not c.get("name"):
        raise InputFileError(str(path), "component without a name", position=where)
    name = (
        f"{c['group']}:{c['name']}"
        if c.get("group") and str(c.get("purl", "")).startswith("pkg:maven")
        else c["name"]
    )
    rec = SoftwareRecord(
        name=str(name),
        version=c.get("version"),
        kind=_CDX_KINDS.get(c.get("type", ""), "library"),
        purl=c.get("purl"),
        cpe=c.get("cpe"),
        supplier=_supplier(c),
        licenses=_licences(c.get("licenses")),
        hashes={
            str(h.get("alg")): str(h.get("content")) for h in c.get("hashes") or [] if isinstance(h, dict)
        },
        bom_ref=c.get("bom-ref") or c.get("purl") or f"{name}@{c.get('version')}",
        parent_ref=parent,
    )
    out.append(rec)
    for i, sub in enumerate(c.get("components") or []):
        _cdx_component(path, sub, f"{where}.components[{i}]", rec.bom_ref, out)


def _cdx_json(path: Path, doc: dict[str, Any]) -> SoftwareSet:
    spec = str(doc.get("specVersion", ""))
    if spec not in ("1.2", "1.3", "1.4", "1.5", "1.6"):
        raise InputFileError(
            str(path),
            f"unsupported CycloneDX specVersion '{spec}' (1.2–1.6 are supported)",
            position="specVersion",
        )
    comps = doc.get("components") or []
    if not isinstance(comps, list):
        raise InputFileError(str(path), "'components' is not a list", position="components")
    out = SoftwareSet(meta={"format": "CycloneDX", "spec_version": spec, "serial": doc.get("serialNumber")})
    for i, c in enumerate(comps):
        _cdx_component(path, c, f"components[{i}]", None, out.components)
    meta_comp = (doc.get("metadata") or {}).get("component")
    if isinstance(meta_comp, dict):
        out.meta["component"] = {
            "name": meta_comp.get("name"),
            "version": meta_comp.get("version"),
            "bom_ref": meta_comp.get("bom-ref"),
        }
    for i, d in enumerate(doc.get("dependencies") or []):
        if not isinstance(d, dict) or "ref" not in d:
            raise InputFileError(str(path), "dependency without 'ref'", position=f"dependencies[{i}]")
        out.depends.extend((d["ref"], str(x)) for x in d.get("dependsOn") or [])
    return out


def _local(tag: Any) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def _child(el: Any, name: str) -> Any:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: Any, name: str) -> str | None:
    c = _child(el, name)
    return c.text.strip() if c is not None and c.text else None


def _xml_component(el: Any, parent: str | None, out: list[SoftwareRecord]) -> None:
    name, group = _text(el, "name"), _text(el, "group")
    purl = _text(el, "purl")
    full = f"{group}:{name}" if group and (purl or "").startswith("pkg:maven") else name
    hashes_el, lic_el, sup_el = _child(el, "hashes"), _child(el, "licenses"), _child(el, "supplier")
    lics = []
    for lic in lic_el if lic_el is not None else []:
        v = (
            _text(lic, "id")
            or _text(lic, "name")
            or (lic.text.strip() if _local(lic.tag) == "expression" and lic.text else None)
        )
        if v:
            lics.append(v)
    rec = SoftwareRecord(
        name=full or "?",
        version=_text(el, "version"),
        kind=_CDX_KINDS.get(el.get("type", ""), "library"),
        purl=purl,
        cpe=_text(el, "cpe"),
        supplier=(_text(sup_el, "name") if sup_el is not None else None) or _text(el, "publisher"),
        licenses=lics,
        hashes={h.get("alg"): (h.text or "").strip() for h in (hashes_el if hashes_el is not None else [])},
        bom_ref=el.get("bom-ref") or purl or f"{full}@{_text(el, 'version')}",
        parent_ref=parent,
    )
    out.append(rec)
    sub = _child(el, "components")
    for c in sub if sub is not None else []:
        if _local(c.tag) == "component":
            _xml_component(c, rec.bom_ref, out)


def _cdx_xml(path: Path) -> SoftwareSet:
    root = safe_parse(path)
    ns = root.tag.split("}", 1)[0].lstrip("{") if "}" in root.tag else ""
    if _local(root.tag) != "bom" or not ns.startswith("http://cyclonedx.org/schema/bom/"):
        raise InputFileError(
            str(path), f"not a CycloneDX XML SBOM (root <{_local(root.tag)}> in '{ns}')", position="line 1"
        )
    out = SoftwareSet(
        meta={
            "format": "CycloneDX",
            "spec_version": ns.rsplit("/", 1)[-1],
            "serial": root.get("serialNumber"),
        }
    )
    comps = _child(root, "components")
    for c in comps if comps is not None else []:
        if _local(c.tag) == "component":
            if not _text(c, "name"):
                raise InputFileError(str(path), "component without a name", position=f"line {c.sourceline}")
            _xml_component(c, None, out.components)
    deps = _child(root, "dependencies")
    for d in deps if deps is not None else []:
        out.depends.extend((d.get("ref"), x.get("ref")) for x in d if _local(x.tag) == "dependency")
    return out


def _spdx(path: Path, doc: dict[str, Any]) -> SoftwareSet:
    out = SoftwareSet(
        meta={"format": "SPDX", "spec_version": doc.get("spdxVersion"), "name": doc.get("name")}
    )
    for i, p in enumerate(doc.get("packages") or []):
        if not isinstance(p, dict) or not p.get("name") or not p.get("SPDXID"):
            raise InputFileError(str(path), "package without name or SPDXID", position=f"packages[{i}]")
        refs = {r.get("referenceType"): r.get("referenceLocator") for r in p.get("externalRefs") or []}
        lic = [
            v
            for v in (p.get("licenseConcluded"), p.get("licenseDeclared"))
            if v and v not in ("NOASSERTION", "NONE")
        ]
        sup = p.get("supplier") or p.get("originator")
        out.components.append(
            SoftwareRecord(
                name=p["name"],
                version=p.get("versionInfo"),
                purl=refs.get("purl"),
                cpe=refs.get("cpe23Type") or refs.get("cpe22Type"),
                supplier=str(sup).split(":", 1)[-1].strip() if sup and sup != "NOASSERTION" else None,
                licenses=list(dict.fromkeys(lic)),
                hashes={c.get("algorithm"): c.get("checksumValue") for c in p.get("checksums") or []},
                bom_ref=p["SPDXID"],
            )
        )
    index = {c.bom_ref: c for c in out.components}
    for r in doc.get("relationships") or []:
        t, a, b = r.get("relationshipType"), r.get("spdxElementId"), r.get("relatedSpdxElement")
        if t == "DEPENDS_ON":
            out.depends.append((a, b))
        elif t == "DEPENDENCY_OF":
            out.depends.append((b, a))
        elif t == "CONTAINS":
            child = index.get(b)
            if child is not None and child.parent_ref is None and a in index:
                child.parent_ref = a
    return out
