"""What the compliance commands share: the ``--json`` option, the date format, and options checked by a
schema (one line, exit 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer
from pydantic import BaseModel, ValidationError

from ciimap.core.entity import format_validation_error
from ciimap.core.errors import Invalid

JSON_OPT = typer.Option(False, "--json", help="machine-readable output")
DATE = ["%Y-%m-%d"]


def validated(schema: type[BaseModel], **values: Any) -> Any:
    """Options checked by ``schema``; unset options are left to its defaults. A rule across options
    (no field in the location) reads best without pydantic's prefixes."""
    try:
        return schema.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as e:
        raise Invalid(
            format_validation_error(e).removeprefix("input: ").replace("Value error, ", "")
        ) from None


def day(value: dt.datetime | None) -> dt.date | None:
    """A ``--…-on`` option (parsed by Typer as a datetime) as a date."""
    return value.date() if value is not None else None
