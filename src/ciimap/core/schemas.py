"""Pydantic base classes and helpers shared by every domain's schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, create_model

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int | None
    limit: int
    offset: int
    #: Keyset cursor: pass as ``after`` to get the next page quickly on very large tables.
    next_after: int | None = None


class Observed(ReadSchema):
    source: str
    first_seen: dt.datetime
    last_seen: dt.datetime


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """An update schema: every field of ``model`` optional and defaulting to 'not given'."""
    fields: dict[str, Any] = {}
    for fname, f in model.model_fields.items():
        fields[fname] = (f.annotation | None, None)  # type: ignore[operator]
    return create_model(name, __base__=Schema, **fields)
