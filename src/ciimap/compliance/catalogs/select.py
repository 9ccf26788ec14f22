"""Which items apply to a system: by level, S and A levels, and the system's extension types.

The rule (GB/T 22239-2019 with GB/T 22240-2020): a system graded S<s>A<a> has level max(s, a). An
item tagged **S** (business-information security) applies as it reads at the S level, an item
tagged **A** (system-service security) as it reads at the A level, and an item tagged **G**
(general) as it reads at the system's level. The returned :class:`LevelItem` carries the id of the
level it applies at, so an S2A3 system gets the level-2 form (``22239-2019:7.1.…``) of its S items.
The general part always applies; extension parts (cloud, mobile, iot, ics) only when named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ciimap.compliance.catalogs.model import LEVELS, Catalog, LevelItem
from ciimap.core.errors import Invalid


def _check_level(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise Invalid(f"{name} must be one of 1, 2, 3, 4 (got {value!r})")


def _levels(level: int, s_level: int | None, a_level: int | None) -> tuple[int, int]:
    _check_level("level", level)
    s = level if s_level is None else s_level
    a = level if a_level is None else a_level
    _check_level("s_level", s)
    _check_level("a_level", a)
    if max(s, a) != level:
        raise Invalid(f"level {level} does not match S{s}A{a}: the level is the higher of the S and A levels")
    return s, a


def check_extensions(cat: Catalog, extensions: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(extensions)
    unknown = sorted(wanted - set(cat.extensions))
    if unknown:
        known = ", ".join(cat.extensions) or "none"
        raise Invalid(f"catalog {cat.id} has no extension {', '.join(unknown)} (it has: {known})")
    return wanted


def items_for(
    cat: Catalog,
    level: int,
    extensions: Iterable[str] = (),
    s_level: int | None = None,
    a_level: int | None = None,
    *,
    parts: Iterable[str] | None = None,
) -> list[LevelItem]:
    """The items a system of ``level`` (S/A levels default to it) with ``extensions`` must meet.

    ``parts`` restricts the result to those part keys (e.g. ``["general"]``), in catalog order."""
    s, a = _levels(level, s_level, a_level)
    wanted = check_extensions(cat, extensions)
    only = None if parts is None else set(parts)
    if only is not None and (bad := sorted(only - {p.key for p in cat.parts})):
        raise Invalid(f"catalog {cat.id} has no part {', '.join(bad)}")
    by_tag = {"S": s, "A": a, "G": level}
    out: list[LevelItem] = []
    for part in cat.parts:
        if part.extension and part.key not in wanted and only is None:
            continue
        if only is not None and part.key not in only:
            continue
        for c in part.categories:
            for cp in c.control_points:
                for it in cp.items:
                    at = by_tag[it.tag]
                    if at in it.levels:
                        out.append(LevelItem(item=it, level=at))
    return out


@dataclass(frozen=True)
class Counts:
    """How much of a part applies at one level (every item read at that level, S/A/G alike)."""

    level: int
    part: str
    categories: int
    control_points: int
    items: int
    technical: int
    management: int
    by_category: dict[str, int]
    by_control_point: dict[str, int]


def counts(cat: Catalog, level: int, part: str = "general") -> Counts:
    """Categories, control points and items of ``part`` at ``level`` (the standard's own tallies)."""
    _check_level("level", level)
    found = [p for p in cat.parts if p.key == part]
    if not found:
        raise Invalid(f"catalog {cat.id} has no part {part!r}")
    by_cat: Counter[str] = Counter()
    by_cp: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for c in found[0].categories:
        for cp in c.control_points:
            n = sum(1 for it in cp.items if level in it.levels)
            if n:
                by_cat[c.name.zh] += n
                by_cp[f"{c.name.zh}/{cp.name.zh}"] += n
                kinds[c.kind] += n
    return Counts(
        level=level,
        part=part,
        categories=len(by_cat),
        control_points=len(by_cp),
        items=sum(by_cat.values()),
        technical=kinds["technical"],
        management=kinds["management"],
        by_category=dict(by_cat),
        by_control_point=dict(by_cp),
    )


def listing(
    cat: Catalog,
    level: int,
    *,
    part: str | None = None,
    extensions: Iterable[str] = (),
    s_level: int | None = None,
    a_level: int | None = None,
) -> list[dict[str, object]]:
    """The applicable items as plain dicts (``id``, ``category``, ``control_point``, ...): what the CLI's
    ``catalog --json`` prints and an API route returns."""
    parts = [part] if part else None
    return [li.as_dict() for li in items_for(cat, level, extensions, s_level, a_level, parts=parts)]
