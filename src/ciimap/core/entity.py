"""Declare an entity once; the generic service, API router, CLI commands, UI lists and the
permission test are all derived from its :class:`EntitySpec` (NetBox-style)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, and_, func, not_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.core.db import Base
from ciimap.core.errors import Conflict, Invalid, NotFound

MAX_LIMIT = 500


@dataclass
class EntitySpec:
    name: str  # plural, URL and CLI name: "assets"
    model: type[Base]
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    #: Exact-match filters: field -> python type (int, str, bool).
    filters: dict[str, type] = field(default_factory=dict)
    #: Fields searched by case-insensitive prefix with ``q``.
    search: Sequence[str] = ("name",)
    #: Extra search subqueries (return ids) for ``q``, e.g. addresses in a child table.
    extra_search: Sequence[Callable[[str, str], Select[Any]]] = ()
    label_zh: str = ""
    label_en: str = ""
    #: Called after the object's fields are set, before flush (derive columns, child rows).
    after_set: Callable[[Session, Any, dict[str, Any]], None] | None = None
    #: Roles' permission needed to write (default "write").
    write_permission: str = "write"


REGISTRY: dict[str, EntitySpec] = {}


def register(spec: EntitySpec) -> EntitySpec:
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> EntitySpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise NotFound(f"unknown entity '{name}' (known: {', '.join(sorted(REGISTRY))})") from None


def _prefix_bounds(q: str) -> tuple[str, str]:
    q = q.strip().lower()
    return q, q + "\U0010ffff"


def build_query(spec: EntitySpec, *, filters: dict[str, Any] | None = None, q: str | None = None,
                top: int | None = None, after: int | None = None, ordered: bool = True,
                dense: frozenset[int] = frozenset()) -> Select[Any]:
    """Filters and prefix search. With ``top`` (search without filters only), each search branch
    keeps just its first ``top`` ids (after ``after``): the first N ids of the union are among them,
    so a page never materialises every match of a broad prefix (150,000 for "hq-" at 1M assets)."""
    model = spec.model
    stmt = select(model)
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key not in spec.filters:
            raise Invalid(f"cannot filter {spec.name} by '{key}' (filters: {', '.join(spec.filters) or 'none'})")
        stmt = stmt.where(getattr(model, key) == value)
    if q:
        id_col = model.id  # type: ignore[attr-defined]
        parts = _branches(spec, q)
        if top is not None:
            parts = [_first(p, top, after, ordered, i in dense) for i, p in enumerate(parts)]
        stmt = stmt.where(id_col.in_(union(*parts).scalar_subquery()) if len(parts) > 1
                          else id_col.in_(parts[0].scalar_subquery()))
    return stmt


def _branches(spec: EntitySpec, q: str) -> list[Select[Any]]:
    """One id query per searched column (and extra search), in a fixed order."""
    return [p for p, _cond in _branch_conditions(spec, q)]


def _branch_conditions(spec: EntitySpec, q: str) -> list[tuple[Select[Any], Any]]:
    """(id query, its condition on the model's own columns or None for an extra search)."""
    lo, hi = _prefix_bounds(q)
    id_col = spec.model.id  # type: ignore[attr-defined]
    out: list[tuple[Select[Any], Any]] = []
    for f in spec.search:
        col = getattr(spec.model, f)
        bounds = [(lo, hi)] + ([(q.strip(), q.strip() + "\U0010ffff")] if lo != q.strip() else [])
        for a, b in bounds:  # original casing too, for columns not stored lower-case
            cond = and_(col >= a, col < b)
            out.append((select(id_col).where(cond), cond))
    out.extend((fn(lo, hi), None) for fn in spec.extra_search)
    return out


def _search_total(session: Session, spec: EntitySpec, q: str) -> int:
    """Exact number of search matches. When one branch holds most of them (a broad hostname
    prefix), |A u B| = |A| + |B without A|: an index count plus a small set, instead of
    de-duplicating every match (0.4-0.9 s for "hq-" at 1M assets)."""
    branches = _branch_conditions(spec, q)
    dense = _dense(session, spec, q)
    model, id_col = spec.model, spec.model.id  # type: ignore[attr-defined]
    if len(dense) == 1 and branches[next(iter(dense))][1] is not None:
        i = next(iter(dense))
        cond = branches[i][1]
        big = session.scalar(select(func.count()).select_from(model).where(cond)) or 0
        others = [p for j, (p, _c) in enumerate(branches) if j != i]
        rest = select(func.count()).select_from(model).where(
            id_col.in_(union(*others).scalar_subquery() if len(others) > 1 else others[0].scalar_subquery()),
            not_(cond))
        return int(big) + int(session.scalar(rest) or 0)
    every = union(*[p for p, _c in branches]).subquery()
    return int(session.scalar(select(func.count()).select_from(every)) or 0)


#: A search branch with more matches than this is "dense": its first ids are found faster by walking
#: the primary key and testing rows (~table/matches x limit rows) than by sorting every match.
DENSE = 5_000


def _dense(session: Session, spec: EntitySpec, q: str) -> frozenset[int]:
    """Which branches are dense — one query of capped counts."""
    parts = _branches(spec, q)
    counts = session.execute(select(*[
        select(func.count()).select_from(p.limit(DENSE + 1).subquery()).scalar_subquery() for p in parts
    ])).one()
    return frozenset(i for i, n in enumerate(counts) if (n or 0) > DENSE)


def _first(part: Select[Any], top: int, after: int | None, ordered: bool = True,
           dense: bool = False) -> Select[Any]:
    col = part.selected_columns[0]
    if after is not None:
        part = part.where(col > after)
    if not ordered:  # for the capped count any ``top`` rows will do: no sort
        return select(part.limit(top).subquery().c[0])
    # "col + 0": order by an expression so the planner reads the search column's index range and
    # sorts the top N, instead of walking the primary key and filtering (a full scan when sparse)
    sub = part.order_by(col if dense else col + 0).limit(top).subquery()
    return select(sub.c[0])


def list_page(session: Session, spec: EntitySpec, *, filters: dict[str, Any] | None = None,
              q: str | None = None, limit: int = 50, offset: int = 0, after: int | None = None,
              with_total: bool = True) -> dict[str, Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise Invalid("offset must not be negative")
    base = build_query(spec, filters=filters, q=q)
    id_col = spec.model.id  # type: ignore[attr-defined]
    total = None
    if with_total:
        total = _total(session, spec, base, filters, q)
    search_only = bool(q) and not any(v is not None for v in (filters or {}).values())
    if search_only:
        base = build_query(spec, q=q, top=limit if after is not None else offset + limit, after=after,
                           dense=_dense(session, spec, q or ""))
    stmt = base.order_by(id_col)
    if after is not None:
        stmt = stmt.where(id_col > after)
    else:
        stmt = stmt.offset(offset)
    items = list(session.scalars(stmt.limit(limit)))
    next_after = items[-1].id if len(items) == limit else None
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next_after": next_after}


#: Totals up to this many rows are counted exactly on every request (cheap: the count stops at the cap).
COUNT_CAP = 10_000
#: Larger totals are counted exactly once and reused for this many seconds per (database, entity,
#: filters, q): counting 150,000 index entries costs 10-100 ms, over the 100 ms page budget at 1M assets.
COUNT_TTL = 60.0
_count_cache: dict[tuple[Any, ...], tuple[float, int]] = {}
_count_lock = threading.Lock()


def _total(session: Session, spec: EntitySpec, base: Select[Any], filters: dict[str, Any] | None,
           q: str | None) -> int:
    """Exact total; for totals above COUNT_CAP possibly up to COUNT_TTL seconds old (see docs/demo.md)."""
    ids = base.with_only_columns(spec.model.id)  # type: ignore[attr-defined]
    if q and not any(v is not None for v in (filters or {}).values()):
        # search: cap each branch (a capped IN (union) would still build the whole union)
        capped = build_query(spec, q=q, top=COUNT_CAP + 1, ordered=False).with_only_columns(spec.model.id)  # type: ignore[attr-defined]
        n = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    else:
        n = session.scalar(select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery())) or 0
    if n <= COUNT_CAP:
        return int(n)
    key = (str(session.get_bind().engine.url), spec.name, tuple(sorted((k, v) for k, v in (filters or {}).items()
                                                              if v is not None)), (q or "").strip().lower())
    now = time.monotonic()
    with _count_lock:
        hit = _count_cache.get(key)
    if hit is not None and now - hit[0] < COUNT_TTL:
        return hit[1]
    if q and not any(v is not None for v in (filters or {}).values()) and len(_branches(spec, q)) > 1:
        total = _search_total(session, spec, q)
    else:
        total = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
    with _count_lock:
        if len(_count_cache) > 10_000:
            _count_cache.clear()
        _count_cache[key] = (now, total)
    return total


def get(session: Session, spec: EntitySpec, obj_id: int) -> Any:
    obj = session.get(spec.model, obj_id)
    if obj is None:
        raise NotFound(f"{spec.name} {obj_id} does not exist")
    return obj


def _validate(schema: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.model_validate(data).model_dump()
    except ValidationError as e:
        raise Invalid(format_validation_error(e), detail=e.errors(include_url=False, include_context=False)) from None


def format_validation_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "input"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _check_references(session: Session, spec: EntitySpec, data: dict[str, Any]) -> None:
    for col in spec.model.__table__.columns:  # type: ignore[attr-defined]
        value = data.get(col.key)
        if value is None:
            continue
        for fk in col.foreign_keys:
            target = fk.column.table
            if session.execute(select(fk.column).where(fk.column == value)).first() is None:
                raise Invalid(f"{col.key}: {target.name} {value} does not exist")


def _apply(session: Session, spec: EntitySpec, obj: Any, data: dict[str, Any]) -> None:
    with session.no_autoflush:
        _check_references(session, spec, data)
    for k, v in data.items():
        setattr(obj, k, v)
    session.add(obj)
    if spec.after_set:
        spec.after_set(session, obj, data)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(f"{spec.name}: conflicts with an existing record ({_short(e)})") from None


def _short(e: IntegrityError) -> str:
    return str(e.orig).splitlines()[0][:200]


def create(session: Session, spec: EntitySpec, data: dict[str, Any] | BaseModel) -> Any:
    raw = data.model_dump() if isinstance(data, BaseModel) else data
    clean = _validate(spec.create, raw)
    obj = spec.model()
    _apply(session, spec, obj, clean)
    return obj


def update(session: Session, spec: EntitySpec, obj_id: int, changes: dict[str, Any] | BaseModel) -> Any:
    raw = changes.model_dump(exclude_unset=True) if isinstance(changes, BaseModel) else dict(changes)
    unknown = set(raw) - set(spec.create.model_fields)
    if unknown:
        raise Invalid(f"unknown field(s) for {spec.name}: {', '.join(sorted(unknown))}")
    obj = get(session, spec, obj_id)
    current = {k: getattr(obj, k) for k in spec.create.model_fields if hasattr(obj, k)}
    merged = _validate(spec.create, {**current, **raw})
    _apply(session, spec, obj, {k: merged[k] for k in raw})
    return obj


def delete(session: Session, spec: EntitySpec, obj_id: int) -> None:
    obj = get(session, spec, obj_id)
    try:
        session.delete(obj)
        session.flush()
    except IntegrityError as e:
        raise Conflict(f"{spec.name} {obj_id} is still referenced ({_short(e)})") from None
