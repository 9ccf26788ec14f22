"""Display labels of any registered entity (its ``name``, ``hostname`` or ``address`` column).

Generic over :class:`~ciimap.core.entity.EntitySpec`, like the entity service: the entity pages use
it to show a foreign key as the referenced row's name and to offer small tables as filter menus.
One column query per referenced table, never a row loaded per reference.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ciimap.core.entity import EntitySpec


def label_column(spec: EntitySpec) -> Any:
    """The column that names a row of this entity (its id when it has no name-like column)."""
    model = spec.model
    for name in ("name", "hostname", "address"):
        if hasattr(model, name):
            return getattr(model, name)
    return model.id  # type: ignore[attr-defined]


def labels(session: Session, spec: EntitySpec, ids: set[int]) -> dict[int, str]:
    """id → display label for these rows of one entity, one query."""
    if not ids:
        return {}
    model = spec.model
    rows = session.execute(select(model.id, label_column(spec)).where(model.id.in_(sorted(ids))))  # type: ignore[attr-defined]
    return {i: str(label) for i, label in rows}


def all_labels(session: Session, spec: EntitySpec, *, at_most: int) -> dict[int, str] | None:
    """id → label of every row, or None when the table has more than ``at_most`` rows.

    Probes with LIMIT instead of COUNT(*): a 1M-row referenced table must not cost a scan.
    """
    model = spec.model
    probe = select(model.id).limit(at_most + 1)  # type: ignore[attr-defined]
    if len(session.scalars(probe).all()) > at_most:
        return None
    return {i: str(lbl) for i, lbl in session.execute(select(model.id, label_column(spec)))}  # type: ignore[attr-defined]
