"""Pydantic base classes and helpers shared by every domain's schemas.

Input limits live here, once, so that bad input is a 422 and never reaches the database:

- :data:`Int32` for every integer in a path, query string or body (ids, cursors, ports, minutes): ids
  and most numbers are ``INTEGER`` columns, 32-bit on PostgreSQL, and PostgreSQL compares a parameter
  as the column's type, so a larger number is out of range even in a lookup (a 500 before: SQLite's
  ``OverflowError`` beyond 64 bits, PostgreSQL's "integer out of range" beyond 32); :data:`Offset`
  for page offsets;
- :class:`Schema` refuses NUL characters in every text field (PostgreSQL cannot store them, SQLite
  would), and integers beyond 64 bits inside free-form JSON values; query strings, paths and form
  fields are checked by :func:`ciimap.core.deps.input_without_nul` and :data:`Text`;
- :data:`UtcDateTime` for timestamps in answers: stored timestamps are naive UTC on SQLite, so they
  are marked UTC and always serialised with an offset (``Z``), as the OpenAPI ``date-time`` format
  requires.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)

T = TypeVar("T")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: Largest page offset: offset + limit stays a 32-bit integer in the listing queries.
MAX_OFFSET = 1_000_000_000
NUL_MESSAGE = "must not contain NUL characters"


def refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


def as_utc(value: dt.datetime) -> dt.datetime:
    """Naive timestamps are UTC (how ciimap stores them); aware ones are converted to UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


#: An integer in a path, query string or body: an id, a cursor, a port, a number of minutes.
Int32 = Annotated[int, Ge(INT32_MIN), Le(INT32_MAX)]
#: A page offset.
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]
#: Text from a form field or another place a :class:`Schema` does not cover.
Text = Annotated[str, AfterValidator(refuse_nul)]


def iso_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(refuse_nul(value).strip()).isoformat()
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD)") from None


#: A calendar date given as text (a form field), normalised to YYYY-MM-DD.
DateText = Annotated[str, AfterValidator(iso_date), WithJsonSchema({"type": "string", "format": "date"})]
#: A timestamp in an answer: always with a time zone (UTC).
UtcDateTime = Annotated[dt.datetime, AfterValidator(as_utc)]


def check_value(value: Any) -> Any:
    """Refuse NUL in text and integers beyond 64 bits, also inside lists and free-form JSON objects."""
    if isinstance(value, str):
        refuse_nul(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("integer out of range (64-bit)")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_value(k)
            check_value(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            check_value(v)
    return value


class Schema(BaseModel):
    """Base of input schemas."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        # Read schemas inherit their create schema's fields: what is stored is shown as it is.
        if issubclass(cls, ReadSchema):
            return value
        return check_value(value)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    """The body of every error answer (4xx): a one-line reason, and for 422 the invalid fields."""

    error: str
    detail: Any = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int | None
    limit: int
    offset: int
    #: Keyset cursor: pass as ``after`` to get the next page quickly on very large tables.
    next_after: int | None = None


class Observed(ReadSchema):
    source: str
    first_seen: UtcDateTime
    last_seen: UtcDateTime


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """An update schema: every field of ``model`` optional and defaulting to 'not given'."""
    fields: dict[str, Any] = {}
    for fname, f in model.model_fields.items():
        kind = Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation  # keep ge/le, lengths
        fields[fname] = (kind | None, None)  # type: ignore[operator]
    return create_model(name, __base__=Schema, **fields)
