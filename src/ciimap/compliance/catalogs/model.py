"""The shapes of a requirement catalog: Catalog > Part > Category > ControlPoint > Item.

An :class:`Item` is one requirement as it reads at one or more levels (``levels``); the standard
numbers it differently per level (GB/T 22239-2019 puts level 3 in chapter 8, level 4 in chapter 9),
so an item carries its reference per level in ``refs`` and :class:`LevelItem` is the item as it
applies at one level (id, reference, letter). Pure data: no database, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

Tag = Literal["S", "A", "G"]
Kind = Literal["technical", "management"]
TAGS: tuple[str, ...] = get_args(Tag)
KINDS: tuple[str, ...] = get_args(Kind)
LEVELS: tuple[int, ...] = (1, 2, 3, 4)
#: The level whose id names an item when it applies at several (level 3 is what most systems use).
KEY_LEVEL_ORDER: tuple[int, ...] = (3, 4, 2, 1)


@dataclass(frozen=True)
class Names:
    """A name or a summary in Chinese and English."""

    zh: str
    en: str


@dataclass(frozen=True)
class Item:
    """One requirement item; ``key`` is its stable id (the id at level 3, else 4, 2, 1)."""

    key: str
    catalog: str
    part: str
    category: Names
    control_point: Names
    kind: str
    tag: str
    levels: tuple[int, ...]
    refs: dict[int, str] = field(hash=False)  # level -> clause reference (hash: the key decides)
    summary: Names

    def ref_at(self, level: int) -> str:
        return self.refs[level]

    def id_at(self, level: int) -> str:
        return f"{self.catalog}:{self.refs[level]}"

    def letter_at(self, level: int) -> str:
        return self.refs[level].rsplit(".", 1)[-1]


@dataclass(frozen=True)
class LevelItem:
    """An item as it applies at one level: the id, clause reference and letter of that level."""

    item: Item
    level: int

    @property
    def id(self) -> str:
        return self.item.id_at(self.level)

    @property
    def ref(self) -> str:
        return self.item.ref_at(self.level)

    def as_dict(self) -> dict[str, Any]:
        it = self.item
        return {
            "id": self.id,
            "key": it.key,
            "ref": self.ref,
            "level": self.level,
            "part": it.part,
            "category": it.category.zh,
            "category_en": it.category.en,
            "control_point": it.control_point.zh,
            "control_point_en": it.control_point.en,
            "letter": it.letter_at(self.level),
            "levels": list(it.levels),
            "tag": it.tag,
            "kind": it.kind,
            "summary_zh": it.summary.zh,
            "summary_en": it.summary.en,
        }


@dataclass(frozen=True)
class ControlPoint:
    name: Names
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Category:
    name: Names
    kind: str
    control_points: tuple[ControlPoint, ...]
    number: int | None = None


@dataclass(frozen=True)
class Part:
    """A part of a catalog: the general requirements or one extension (cloud, mobile, IoT, ICS)."""

    key: str
    number: int
    name: Names
    extension: bool
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class Catalog:
    id: str
    standard: str
    name: Names
    version: str
    data_version: int
    published: date | None
    in_force: date | None
    source_note: str
    verify: tuple[str, ...]
    #: level -> chapter number when references are derived per level (GB/T 22239), else None.
    chapters: dict[int, int] | None = field(hash=False)
    parts: tuple[Part, ...]
    source: str = ""
    _by_key: dict[str, Item] = field(default_factory=dict, repr=False, compare=False)

    @property
    def items(self) -> list[Item]:
        return [it for p in self.parts for c in p.categories for cp in c.control_points for it in cp.items]

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if p.extension)

    def item(self, key: str) -> Item:
        return self._by_key[key]

    def header(self) -> dict[str, Any]:
        """What ``list_catalogs`` and the CLI show about a catalog."""
        return {
            "id": self.id,
            "standard": self.standard,
            "name": self.name.zh,
            "name_en": self.name.en,
            "version": self.version,
            "data_version": self.data_version,
            "published": self.published.isoformat() if self.published else None,
            "in_force": self.in_force.isoformat() if self.in_force else None,
            "parts": [p.key for p in self.parts],
            "items": len(self.items),
            "source": self.source,
        }
