"""A catalog document (``format: ciimap-catalog/1``) to a :class:`Catalog` and back, validated.

Every mistake is one :class:`InputFileError` naming the file and the place (``part general,
category 安全计算环境, control point 身份鉴别, item 3``): a missing or mistyped field, a level outside
1-4, an unknown S/A/G tag or kind, a reused part key or item id.

References are derived unless an item gives ``ref``: with ``chapters`` (level -> chapter) an item's
reference at level L is ``<chapter>.<part>.<category>.<control point>.<letter>`` counting only what
applies at L (GB/T 22239's own numbering); without chapters, a category with ``number`` numbers its
items ``<number>.<control point>.<letter>`` over all levels (GB/T 39204).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from ciimap.compliance.catalogs.model import (
    KEY_LEVEL_ORDER,
    KINDS,
    LEVELS,
    TAGS,
    Catalog,
    Category,
    ControlPoint,
    Item,
    Names,
    Part,
)
from ciimap.core.errors import InputFileError
from ciimap.core.safeio import content_guard

FORMAT = "ciimap-catalog/1"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LETTERS = string.ascii_lowercase


@dataclass
class _Ctx:
    """The file being read, for error messages."""

    name: str

    def fail(self, msg: str, where: str | None = None) -> NoReturn:
        raise InputFileError(self.name, msg, position=where)


def _get(ctx: _Ctx, m: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str | None) -> Any:
    if key not in m or m[key] is None:
        ctx.fail(f"'{key}' is missing", where)
    value = m[key]
    if not isinstance(value, typ) or isinstance(value, bool) and typ is int:
        ctx.fail(f"'{key}' has the wrong type ({type(value).__name__})", where)
    if isinstance(value, str) and not value.strip():
        ctx.fail(f"'{key}' is empty", where)
    return value


def _mapping(ctx: _Ctx, value: Any, what: str, where: str | None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        ctx.fail(f"{what} must be a mapping (got {type(value).__name__})", where)
    return value


def _list(ctx: _Ctx, m: Mapping[str, Any], key: str, where: str | None) -> list[Any]:
    value = _get(ctx, m, key, list, where)
    if not value:
        ctx.fail(f"'{key}' is an empty list", where)
    return value


def _names(ctx: _Ctx, m: Mapping[str, Any], where: str | None) -> Names:
    return Names(zh=_get(ctx, m, "zh", str, where).strip(), en=_get(ctx, m, "en", str, where).strip())


def _date(ctx: _Ctx, m: Mapping[str, Any], key: str) -> date | None:
    value = m.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        ctx.fail(f"'{key}' is not a date (YYYY-MM-DD): {value!r}", "header")


def parse_catalog(doc: Any, name: str) -> Catalog:
    """Validate a catalog document and build the :class:`Catalog` (refs derived, ids checked)."""
    with content_guard(name):  # a shape the checks below missed is still one line, not a traceback
        return _parse(doc, _Ctx(name))


def _parse(doc: Any, ctx: _Ctx) -> Catalog:
    name = ctx.name
    head = _mapping(ctx, doc, "a catalog file", None)
    if head.get("format") != FORMAT:
        ctx.fail(f"not a ciimap catalog ('format' must be {FORMAT!r}, got {head.get('format')!r})", "header")
    framework = _get(ctx, head, "framework", str, "header")
    if not _ID.match(framework):
        ctx.fail(f"'framework' may hold only letters, digits, '.', '_' and '-' (got {framework!r})", "header")
    data_version = _get(ctx, head, "data_version", int, "header")
    if data_version < 1:
        ctx.fail("'data_version' must be 1 or more", "header")
    verify = head.get("verify") or []
    if not isinstance(verify, list) or not all(isinstance(v, str) for v in verify):
        ctx.fail("'verify' must be a list of strings", "header")
    chapters = _chapters(ctx, head.get("chapters"))
    raw_parts = _list(ctx, head, "parts", "header")
    parts = [_part(ctx, raw, i) for i, raw in enumerate(raw_parts, 1)]
    _unique(ctx, [(p[0], f"part {p[0]}") for p in parts], "part key")
    _unique(ctx, [(str(p[1]), f"part {p[0]}") for p in parts], "part number")
    built = _number(ctx, framework, chapters, parts)
    by_key = {it.key: it for p in built for c in p.categories for cp in c.control_points for it in cp.items}
    return Catalog(
        id=framework,
        standard=_get(ctx, head, "standard", str, "header"),
        name=_names(ctx, _mapping(ctx, head.get("name"), "'name'", "header"), "header name"),
        version=str(_get(ctx, head, "version", (str, int), "header")),
        data_version=data_version,
        published=_date(ctx, head, "published"),
        in_force=_date(ctx, head, "in_force"),
        source_note=str(head.get("source_note") or ""),
        verify=tuple(verify),
        chapters=chapters,
        parts=tuple(built),
        source=name,
        _by_key=by_key,
    )


def _chapters(ctx: _Ctx, value: Any) -> dict[int, int] | None:
    if value is None:
        return None
    m = _mapping(ctx, value, "'chapters'", "header")
    if set(m) != set(LEVELS) or not all(isinstance(v, int) and not isinstance(v, bool) for v in m.values()):
        ctx.fail("'chapters' must map each level 1-4 to a chapter number", "header")
    return {int(k): int(v) for k, v in m.items()}


# A part as read: (key, number, names, extension, [(category names, kind, number, [(cp names, [raw item])])])
_RawCp = tuple[Names, list[tuple[Mapping[str, Any], str]]]
_RawCat = tuple[Names, str, int | None, list[_RawCp]]
_RawPart = tuple[str, int, Names, bool, list[_RawCat]]


def _part(ctx: _Ctx, raw: Any, i: int) -> _RawPart:
    where = f"part {i}"
    m = _mapping(ctx, raw, "a part", where)
    key = _get(ctx, m, "key", str, where)
    if not _ID.match(key):
        ctx.fail(f"part key {key!r} may hold only letters, digits, '.', '_' and '-'", where)
    where = f"part {key}"
    number = _get(ctx, m, "number", int, where)
    extension = m.get("extension", False)
    if not isinstance(extension, bool):
        ctx.fail("'extension' must be true or false", where)
    cats = [
        _category(ctx, c, f"{where}, category {j}")
        for j, c in enumerate(_list(ctx, m, "categories", where), 1)
    ]
    return key, number, _names(ctx, m, where), extension, cats


def _category(ctx: _Ctx, raw: Any, where: str) -> _RawCat:
    m = _mapping(ctx, raw, "a category", where)
    names = _names(ctx, m, where)
    where = f"{where.rsplit(',', 1)[0]}, category {names.zh}"
    kind = _get(ctx, m, "kind", str, where)
    if kind not in KINDS:
        ctx.fail(f"kind must be one of {', '.join(KINDS)} (got {kind!r})", where)
    number = m.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 1):
        ctx.fail(f"category number must be a positive integer (got {number!r})", where)
    cps = []
    for j, raw_cp in enumerate(_list(ctx, m, "control_points", where), 1):
        cp = _mapping(ctx, raw_cp, "a control point", f"{where}, control point {j}")
        cp_names = _names(ctx, cp, f"{where}, control point {j}")
        cp_where = f"{where}, control point {cp_names.zh}"
        items = [(_item_map(ctx, it, f"{cp_where}, item {k}"), f"{cp_where}, item {k}")
                 for k, it in enumerate(_list(ctx, cp, "items", cp_where), 1)]  # fmt: skip
        cps.append((cp_names, items))
    return names, kind, number, cps


def _item_map(ctx: _Ctx, raw: Any, where: str) -> Mapping[str, Any]:
    m = _mapping(ctx, raw, "an item", where)
    levels = _get(ctx, m, "levels", list, where)
    if not levels or not all(isinstance(v, int) and not isinstance(v, bool) and v in LEVELS for v in levels):
        ctx.fail(f"levels must be a non-empty list of levels 1-4 (got {levels!r})", where)
    if len(set(levels)) != len(levels):
        ctx.fail(f"levels lists a level twice ({levels!r})", where)
    tag = _get(ctx, m, "tag", str, where)
    if tag not in TAGS:
        ctx.fail(f"tag must be one of {', '.join(TAGS)} (got {tag!r})", where)
    _names(ctx, m, where)
    ref = m.get("ref")
    if ref is not None and not (isinstance(ref, str) and _ID.match(ref)):
        ctx.fail(f"ref must be text of letters, digits, '.', '_' and '-' (got {ref!r})", where)
    return m


def _number(ctx: _Ctx, framework: str, chapters: dict[int, int] | None, parts: list[_RawPart]) -> list[Part]:
    """Give every item its reference per level, then build the parts; ids must be unique per level."""
    refs: dict[int, dict[int, str]] = {}  # id(raw item) -> level -> ref
    for _key, pnum, _pn, _ext, cats in parts:
        for level in LEVELS:
            _number_level(ctx, chapters, pnum, level, cats, refs)
    seen: dict[tuple[int, str], str] = {}
    keys: dict[str, str] = {}
    built = []
    for key, pnum, pnames, ext, cats in parts:
        built_cats = []
        for cnames, kind, cnum, cps in cats:
            built_cps = []
            for cpnames, items in cps:
                made = []
                for raw, where in items:
                    item_refs = refs[id(raw)]
                    for level, ref in item_refs.items():
                        if (level, ref) in seen:
                            ctx.fail(
                                f"id {framework}:{ref} at level {level} is used twice (first at {seen[level, ref]})",
                                where,
                            )
                        seen[level, ref] = where
                    klevel = next(lv for lv in KEY_LEVEL_ORDER if lv in item_refs)
                    item_key = f"{framework}:{item_refs[klevel]}"
                    if item_key in keys:
                        ctx.fail(f"item key {item_key} is used twice (first at {keys[item_key]})", where)
                    keys[item_key] = where
                    made.append(_item(framework, key, cnames, cpnames, kind, raw, item_refs, item_key))
                built_cps.append(ControlPoint(name=cpnames, items=tuple(made)))
            built_cats.append(Category(name=cnames, kind=kind, control_points=tuple(built_cps), number=cnum))
        built.append(Part(key=key, number=pnum, name=pnames, extension=ext, categories=tuple(built_cats)))
    return built


def _item(framework: str, part: str, cat: Names, cp: Names, kind: str, raw: Mapping[str, Any],
          refs: dict[int, str], key: str) -> Item:  # fmt: skip
    return Item(
        key=key,
        catalog=framework,
        part=part,
        category=cat,
        control_point=cp,
        kind=kind,
        tag=raw["tag"],
        levels=tuple(sorted(raw["levels"])),
        refs=dict(sorted(refs.items())),
        summary=Names(zh=raw["zh"].strip(), en=raw["en"].strip()),
    )


def _number_level(ctx: _Ctx, chapters: dict[int, int] | None, pnum: int, level: int,
                  cats: list[_RawCat], refs: dict[int, dict[int, str]]) -> None:  # fmt: skip
    """References at one level: positions count only what applies at that level (with chapters)."""
    applies: Callable[[Mapping[str, Any]], bool] = (
        (lambda m: level in m["levels"]) if chapters else (lambda m: True)
    )
    cat_pos = 0
    for _cnames, _kind, cnum, cps in cats:
        if not any(applies(raw) for _n, items in cps for raw, _w in items):
            continue
        cat_pos += 1
        cp_pos = 0
        for _cpn, items in cps:
            here = [(raw, where) for raw, where in items if applies(raw)]
            if not here:
                continue
            cp_pos += 1
            for pos, (raw, where) in enumerate(here):
                if level not in raw["levels"]:
                    continue
                refs.setdefault(id(raw), {})[level] = _ref(
                    ctx, chapters, pnum, level, cat_pos, cnum, cp_pos, pos, raw, where
                )


def _ref(ctx: _Ctx, chapters: dict[int, int] | None, pnum: int, level: int, cat_pos: int, cnum: int | None,
         cp_pos: int, pos: int, raw: Mapping[str, Any], where: str) -> str:  # fmt: skip
    if raw.get("ref"):
        return str(raw["ref"])
    if pos >= len(_LETTERS):
        ctx.fail("more than 26 items in one control point: give the items explicit 'ref's", where)
    if chapters:
        return f"{chapters[level]}.{pnum}.{cat_pos}.{cp_pos}.{_LETTERS[pos]}"
    if cnum is None:
        ctx.fail(
            "no 'ref' and nothing to derive one from (give the catalog 'chapters' or the category a 'number')",
            where,
        )
    return f"{cnum}.{cp_pos}.{_LETTERS[pos]}"


def _unique(ctx: _Ctx, values: list[tuple[str, str]], what: str) -> None:
    seen: set[str] = set()
    for value, where in values:
        if value in seen:
            ctx.fail(f"{what} {value!r} is used twice", where)
        seen.add(value)


def to_document(cat: Catalog) -> dict[str, Any]:
    """The catalog as a ``ciimap-catalog/1`` document (what :func:`parse_catalog` reads back equal).

    Derived catalogs (``chapters``) are written without refs; others with each item's ``ref``."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "framework": cat.id,
        "standard": cat.standard,
        "name": {"zh": cat.name.zh, "en": cat.name.en},
        "version": cat.version,
        "published": cat.published,
        "in_force": cat.in_force,
        "data_version": cat.data_version,
        "source_note": cat.source_note,
        "verify": list(cat.verify),
    }
    if cat.chapters:
        doc["chapters"] = dict(cat.chapters)
    doc["parts"] = [_part_doc(p, derived=bool(cat.chapters)) for p in cat.parts]
    return doc


def _part_doc(p: Part, *, derived: bool) -> dict[str, Any]:
    cats = []
    for c in p.categories:
        cat: dict[str, Any] = {"zh": c.name.zh, "en": c.name.en, "kind": c.kind}
        if c.number is not None:
            cat["number"] = c.number
        cat["control_points"] = [
            {"zh": cp.name.zh, "en": cp.name.en, "items": [_item_doc(it, derived) for it in cp.items]}
            for cp in c.control_points
        ]
        cats.append(cat)
    return {"key": p.key, "number": p.number, "zh": p.name.zh, "en": p.name.en, "extension": p.extension,
            "categories": cats}  # fmt: skip


def _item_doc(it: Item, derived: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"levels": list(it.levels), "tag": it.tag}
    if not derived:
        doc["ref"] = it.refs[it.levels[0]]
    doc.update(zh=it.summary.zh, en=it.summary.en)
    return doc
