"""Exchange catalogs with CISO Assistant's library YAML (``objects.framework.requirement_nodes``).

Export writes one library with one framework: a node per part (depth 1), category (2) and control
point (3), and an assessable node per item (4) whose ``ref_id`` is the item's key reference, whose
``description`` is the Chinese summary (``translations.en`` the English one), whose
``implementation_groups`` are the levels it applies at (``L1``-``L4``, defined in the framework's
``implementation_groups_definition``, so CISO Assistant can filter an audit by level) and whose
``annotation`` carries the S/A/G tag (``S/A/G: S``); category nodes carry ``kind: technical|management``.
What CISO Assistant has no field for (chapters, dates, [verify] notes, part numbers) goes in a
top-level ``ciimap`` block that CISO Assistant ignores and our import reads back, so export -> import
gives the same catalog.

Import accepts any framework library (an organisation's own catalog made in CISO Assistant): the
assessable nodes become items under their non-assessable ancestors read as part > category >
control point (two ancestors: category > control point; one: the category doubles as the control
point); ``ref_id`` gives the item's reference, ``L1``-``L4`` implementation groups its levels (all
levels when it has none). Malformed input is refused with one line naming the file and the node.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ciimap.compliance.catalogs import yamlio
from ciimap.compliance.catalogs.model import LEVELS, Catalog, Item, Names
from ciimap.compliance.catalogs.parse import FORMAT, parse_catalog
from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard

_TAG = re.compile(r"(?:S/A/G|tag)\s*[:：]\s*([SAG])\b")
_KIND = re.compile(r"kind\s*[:：]\s*(technical|management)\b")
_SLUG = re.compile(r"[^a-z0-9._-]+")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LEVEL_NAMES = {
    1: ("第一级", "Level 1"),
    2: ("第二级", "Level 2"),
    3: ("第三级", "Level 3"),
    4: ("第四级", "Level 4"),
}


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "x"


# ---------------------------------------------------------------- export


def export_library(cat: Catalog) -> dict[str, Any]:
    """The catalog as a CISO Assistant library document."""
    slug = _slug(cat.id)
    description = cat.source_note + "".join(f"\n[verify] {v}" for v in cat.verify)
    library: dict[str, Any] = {
        "urn": f"urn:ciimap:risk:library:{slug}",
        "locale": "zh",
        "ref_id": cat.id,
        "name": cat.name.zh,
        "description": description,
        "copyright": f"Structure of {cat.standard}; summaries written by ciimap, not the standard's text",
        "version": cat.data_version,
        "provider": cat.standard,
        "packager": "ciimap",
        "translations": {"en": {"name": cat.name.en, "description": description}},
        "ciimap": _ciimap_block(cat),
        "objects": {"framework": _framework(cat, slug, description)},
    }
    if cat.published:
        library["publication_date"] = cat.published.isoformat()
    return library


def export_yaml(cat: Catalog) -> str:
    return yamlio.dump(export_library(cat))


def _ciimap_block(cat: Catalog) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "framework": cat.id,
        "standard": cat.standard,
        "version": cat.version,
        "published": cat.published.isoformat() if cat.published else None,
        "in_force": cat.in_force.isoformat() if cat.in_force else None,
        "data_version": cat.data_version,
        "source_note": cat.source_note,
        "verify": list(cat.verify),
        "chapters": dict(cat.chapters) if cat.chapters else None,
        "parts": [{"key": p.key, "number": p.number, "extension": p.extension} for p in cat.parts],
    }


def _framework(cat: Catalog, slug: str, description: str) -> dict[str, Any]:
    groups = [
        {"ref_id": f"L{lv}", "name": zh, "description": f"适用于第{lv}级 / applies at level {lv}",
         "translations": {"en": {"name": en}}}
        for lv, (zh, en) in _LEVEL_NAMES.items()
    ]  # fmt: skip
    return {
        "urn": f"urn:ciimap:risk:framework:{slug}",
        "ref_id": cat.id,
        "name": cat.name.zh,
        "description": description,
        "translations": {"en": {"name": cat.name.en}},
        "implementation_groups_definition": groups,
        "requirement_nodes": _nodes(cat, slug),
    }


def _node(
    urn: str, depth: int, parent: str | None, ref_id: str, names: Names, **extra: Any
) -> dict[str, Any]:
    node: dict[str, Any] = {"urn": urn, "assessable": False, "depth": depth}
    if parent:
        node["parent_urn"] = parent
    node.update(ref_id=ref_id, name=names.zh, translations={"en": {"name": names.en}}, **extra)
    return node


def _nodes(cat: Catalog, slug: str) -> list[dict[str, Any]]:
    base = f"urn:ciimap:risk:req_node:{slug}"
    out: list[dict[str, Any]] = []
    for p in cat.parts:
        p_urn = f"{base}:part:{_slug(p.key)}"  # never equal to an item urn (one segment after base)
        out.append(_node(p_urn, 1, None, p.key, p.name))
        for ci, c in enumerate(p.categories, 1):
            c_urn = f"{p_urn}:c{ci}"
            c_ref = str(c.number) if c.number is not None else f"{p.key}.{ci}"
            out.append(_node(c_urn, 2, p_urn, c_ref, c.name, annotation=f"kind: {c.kind}"))
            for pi, cp in enumerate(c.control_points, 1):
                cp_urn = f"{c_urn}:p{pi}"
                out.append(_node(cp_urn, 3, c_urn, f"{c_ref}.{pi}", cp.name))
                out.extend(_item_node(it, cp_urn, base) for it in cp.items)
    return out


def _item_node(it: Item, parent: str, base: str) -> dict[str, Any]:
    ref = it.key.split(":", 1)[1]
    return {
        "urn": f"{base}:{_slug(ref)}",
        "assessable": True,
        "depth": 4,
        "parent_urn": parent,
        "ref_id": ref,
        "description": it.summary.zh,
        "annotation": f"S/A/G: {it.tag}",
        "implementation_groups": [f"L{lv}" for lv in it.levels],
        "translations": {"en": {"description": it.summary.en}},
    }


# ---------------------------------------------------------------- import


def import_file(path: Path, catalog_id: str | None = None) -> Catalog:
    """Read a CISO Assistant library file (size-limited, safe YAML) into a catalog."""
    return import_library(yamlio.read_file(path), str(path), catalog_id=catalog_id)


def import_library(doc: Any, name: str, *, catalog_id: str | None = None) -> Catalog:
    """A CISO Assistant library document as a validated :class:`Catalog` (odd values anywhere: one
    :class:`InputFileError`, never a traceback)."""
    with content_guard(name):
        return _import(doc, name, catalog_id)


def _import(doc: Any, name: str, catalog_id: str | None) -> Catalog:
    lib = _mapping(name, doc, "a CISO Assistant library", None)
    for key in ("urn", "ref_id", "name", "objects"):
        if lib.get(key) is None or lib[key] == "":
            raise InputFileError(
                name, f"not a CISO Assistant library: '{key}' is missing", position="library"
            )
    objects = _mapping(name, lib["objects"], "'objects'", "library")
    fw = _mapping(name, objects.get("framework"), "'objects.framework'", "library")
    raw_nodes = fw.get("requirement_nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise InputFileError(name, "the framework has no 'requirement_nodes' list", position="framework")
    raw_block = lib.get("ciimap")
    block: dict[str, Any] = raw_block if isinstance(raw_block, dict) else {}
    nodes = _check_nodes(name, raw_nodes)
    locale = str(lib.get("locale") or "zh")
    document = _header(lib, fw, block, locale, catalog_id)
    document["parts"] = _parts(name, nodes, block, locale)
    if block.get("chapters"):
        chapters = _mapping(name, block["chapters"], "'ciimap.chapters'", "library")
        document["chapters"] = {int(k): v for k, v in chapters.items()}
        _drop_refs(document)
    cat = parse_catalog(document, name)
    if block.get("chapters"):
        _check_keys(name, cat, nodes)
    return cat


def _mapping(name: str, value: Any, what: str, where: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputFileError(name, f"{what} must be a mapping (got {type(value).__name__})", position=where)
    return value


def _check_nodes(name: str, raw: list[Any]) -> list[dict[str, Any]]:
    """Every node a mapping with a unique urn, a boolean ``assessable`` and a depth one below its
    parent's, the parent given earlier in the list."""
    depth_of: dict[str, int] = {}
    nodes = []
    for i, node in enumerate(raw):
        where = f"requirement_nodes[{i}]"
        n = _mapping(name, node, "a requirement node", where)
        urn = n.get("urn")
        if not isinstance(urn, str) or not urn:
            raise InputFileError(name, "node has no 'urn'", position=where)
        where = f"{where} ({urn})"
        if urn in depth_of:
            raise InputFileError(name, "urn is used twice", position=where)
        if not isinstance(n.get("assessable"), bool):
            raise InputFileError(name, "'assessable' must be true or false", position=where)
        depth, parent = n.get("depth"), n.get("parent_urn")
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise InputFileError(name, f"'depth' must be a positive integer (got {depth!r})", position=where)
        if parent is not None and parent not in depth_of:
            raise InputFileError(
                name, f"parent_urn {parent!r} is not a node listed before it", position=where
            )
        expected = depth_of[parent] + 1 if parent else 1
        if depth != expected:
            raise InputFileError(
                name, f"depth {depth} does not match its place in the tree ({expected})", position=where
            )
        depth_of[urn] = depth
        nodes.append(n)
    return nodes


def _text(node: dict[str, Any], field: str, locale: str) -> tuple[str, str]:
    """(zh, en) of a node's field: the node's own locale plus its translations; one copies the other."""
    own = str(node.get(field) or "").strip()
    trans = node.get("translations")
    other = "en" if locale != "en" else "zh"
    tr = trans.get(other) if isinstance(trans, dict) else None
    tr = tr if isinstance(tr, dict) else {}
    alt = str(tr.get(field) or "").strip()
    zh, en = (alt, own) if locale == "en" else (own, alt)
    return zh or en, en or zh


def _names(node: dict[str, Any], locale: str) -> dict[str, str]:
    zh, en = _text(node, "name", locale)
    if not zh:
        zh = en = str(node.get("ref_id") or node["urn"].rsplit(":", 1)[-1])
    return {"zh": zh, "en": en}


def _header(lib: dict[str, Any], fw: dict[str, Any], block: dict[str, Any], locale: str,
            catalog_id: str | None) -> dict[str, Any]:  # fmt: skip
    zh, en = _text(fw, "name", locale)
    ident = catalog_id or block.get("framework") or _slug(str(fw.get("ref_id") or lib["ref_id"]))
    version = lib.get("version")
    return {
        "format": FORMAT,
        "framework": ident,
        "standard": block.get("standard") or str(fw.get("ref_id") or lib["ref_id"]),
        "name": {"zh": zh or str(lib["name"]), "en": en or zh or str(lib["name"])},
        "version": block.get("version") or str(version or 1),
        "published": block.get("published") or lib.get("publication_date"),
        "in_force": block.get("in_force"),
        "data_version": block.get("data_version")
        or (version if isinstance(version, int) and version > 0 else 1),
        "source_note": block.get("source_note") or str(lib.get("description") or ""),
        "verify": block.get("verify") or [],
    }


def _parts(
    name: str, nodes: list[dict[str, Any]], block: dict[str, Any], locale: str
) -> list[dict[str, Any]]:
    by_urn = {n["urn"]: n for n in nodes}
    raw_parts = block.get("parts")
    raw_info: list[Any] = raw_parts if isinstance(raw_parts, list) else []
    part_info = {p["key"]: p for p in raw_info if isinstance(p, dict) and isinstance(p.get("key"), str)}
    parts: dict[str, dict[str, Any]] = {}
    for i, n in enumerate(nodes):
        if not n["assessable"]:
            continue
        chain = _ancestors(name, n, by_urn, i)
        p_node, c_node, cp_node = (None, chain[0], chain[-1]) if len(chain) < 3 else chain
        part = _part_for(parts, p_node, part_info, locale)
        cat = _child(part["categories"], c_node) or _add(
            part["categories"], c_node, _category(c_node, locale)
        )
        cp = _child(cat["control_points"], cp_node) or _add(
            cat["control_points"], cp_node, {**_names(cp_node, locale), "items": []}
        )
        cp["items"].append(_item_doc(n, locale))
    return [{k: v for k, v in p.items() if k != "_urns"} for p in parts.values()]


def _ancestors(
    name: str, node: dict[str, Any], by_urn: dict[str, dict[str, Any]], i: int
) -> list[dict[str, Any]]:
    chain = []
    parent = node.get("parent_urn")
    while parent:
        chain.append(by_urn[parent])
        parent = by_urn[parent].get("parent_urn")
    chain.reverse()
    where = f"requirement_nodes[{i}] ({node['urn']})"
    if any(a["assessable"] for a in chain):
        raise InputFileError(
            name, "an assessable node under another assessable node is not supported", position=where
        )
    if not chain:
        raise InputFileError(name, "assessable node at the top: put it under a category", position=where)
    if len(chain) > 3:
        raise InputFileError(
            name, "nested deeper than part > category > control point > item", position=where
        )
    return chain


def _part_for(parts: dict[str, dict[str, Any]], node: dict[str, Any] | None, info: dict[Any, Any],
              locale: str) -> dict[str, Any]:  # fmt: skip
    urn = node["urn"] if node else ""
    if urn not in parts:
        names = _names(node, locale) if node else {"zh": "要求", "en": "Requirements"}
        key = str(node.get("ref_id") or f"part-{len(parts) + 1}") if node else "main"
        key = key if key in info else _slug(key)
        meta = info.get(key, {})
        parts[urn] = {"key": key, "number": meta.get("number", len(parts) + 1), **names,
                      "extension": bool(meta.get("extension", False)), "categories": [], "_urns": {}}  # fmt: skip
    return parts[urn]


def _child(children: list[dict[str, Any]], node: dict[str, Any]) -> dict[str, Any] | None:
    return next((child for child in children if child["_urn"] == node["urn"]), None)


def _add(children: list[dict[str, Any]], node: dict[str, Any], made: dict[str, Any]) -> dict[str, Any]:
    made["_urn"] = node["urn"]
    children.append(made)
    return made


def _category(node: dict[str, Any], locale: str) -> dict[str, Any]:
    kind = _KIND.search(str(node.get("annotation") or ""))
    ref = str(node.get("ref_id") or "")
    cat: dict[str, Any] = {**_names(node, locale), "kind": kind.group(1) if kind else "management"}
    if ref.isdigit():
        cat["number"] = int(ref)
    cat["control_points"] = []
    return cat


def _item_doc(node: dict[str, Any], locale: str) -> dict[str, Any]:
    zh, en = _text(node, "description", locale)
    if not zh:
        zh, en = _text(node, "name", locale)
    groups = node.get("implementation_groups") or []
    levels = sorted({lv for lv in LEVELS if f"L{lv}" in groups}) or list(LEVELS)
    tag = _TAG.search(str(node.get("annotation") or ""))
    ref = str(node.get("ref_id") or node["urn"].rsplit(":", 1)[-1]).strip()
    if not _REF.match(ref):
        ref = _slug(ref)
    return {
        "levels": levels,
        "tag": tag.group(1) if tag else "G",
        "ref": ref,
        "zh": zh or ref,
        "en": en or ref,
    }


def _drop_refs(document: dict[str, Any]) -> None:
    """A catalog whose references are derived per level (chapters) is read without item refs."""
    for p in document["parts"]:
        for c in p["categories"]:
            for cp in c["control_points"]:
                for it in cp["items"]:
                    it.pop("ref", None)


def _check_keys(name: str, cat: Catalog, nodes: list[dict[str, Any]]) -> None:
    """With derived references the nodes' ref_ids must be what the order derives (else reordered)."""
    items = cat.items
    refs = [n for n in nodes if n["assessable"]]
    for node, item in zip(refs, items, strict=True):
        ref = item.key.split(":", 1)[1]
        if str(node.get("ref_id")) != ref:
            where = f"node {node['urn']}"
            raise InputFileError(name, f"ref_id {node.get('ref_id')!r} is not the derived reference {ref!r} "
                                 "(nodes reordered or levels changed?)", position=where)  # fmt: skip
