"""Declare an entity once; the generic service, API router, CLI commands, UI lists and the
permission test are all derived from its :class:`EntitySpec` (NetBox-style)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ciimap.core import listing
from ciimap.core.db import Base
from ciimap.core.errors import Conflict, Invalid, NotFound

MAX_LIMIT = listing.MAX_LIMIT
#: Filters and prefix search as one ORM statement (defined beside the list engine that also uses it).
build_query = listing.build_query


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
    #: Extra prefix-searched columns of child tables, as (entity id column, searched column),
    #: e.g. ``(IpAddress.asset_id, IpAddress.address)``.
    extra_search: Sequence[tuple[Any, Any]] = ()
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


def list_page(
    session: Session,
    spec: EntitySpec,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: int | None = None,
    with_total: bool = True,
) -> dict[str, Any]:
    """One page of ORM objects: ``{items, total, limit, offset, next_after}`` (see core.listing)."""
    return listing.list_page(
        session, spec, filters=filters, q=q, limit=limit, offset=offset, after=after, with_total=with_total
    )


def get(session: Session, spec: EntitySpec, obj_id: int) -> Any:
    obj = session.get(spec.model, obj_id)
    if obj is None:
        raise NotFound(f"{spec.name} {obj_id} does not exist")
    return obj


def _validate(schema: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.model_validate(data).model_dump()
    except ValidationError as e:
        raise Invalid(
            format_validation_error(e), detail=e.errors(include_url=False, include_context=False)
        ) from None


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
