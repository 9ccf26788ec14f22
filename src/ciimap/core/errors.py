"""Domain errors. Services raise these; one handler maps them to HTTP codes and CLI exit codes."""

from __future__ import annotations

from typing import Any


class CiimapError(Exception):
    """Base of every error a user may see. ``str(err)`` is a one-line, human-readable reason."""

    http_status = 400
    exit_code = 1

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(CiimapError):
    http_status = 404
    exit_code = 3


class Invalid(CiimapError):
    http_status = 422
    exit_code = 1


class Conflict(CiimapError):
    http_status = 409
    exit_code = 4


class PermissionDenied(CiimapError):
    http_status = 403
    exit_code = 5


class NotAuthenticated(CiimapError):
    http_status = 401
    exit_code = 5


class TooLarge(Invalid):
    """A request or upload over the configured size limit."""

    http_status = 413


class TooManyAttempts(CiimapError):
    """Refused for now (login throttling); ``headers`` carry ``Retry-After`` in seconds."""

    http_status = 429
    exit_code = 5

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class InputFileError(Invalid):
    """Bad input file: the message names the file and the position (line/column, row, element)."""

    def __init__(self, path: str, message: str, *, position: str | None = None) -> None:
        where = f"{path}:{position}" if position else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.position = position
        self.reason = message


class OutOfScope(PermissionDenied):
    """A scan target lies outside every scope an admin configured."""


def check_choice(name: str, value: str | None, allowed: tuple[str, ...] | frozenset[str]) -> None:
    """Refuse a filter or option value outside its fixed set (instead of silently matching nothing)."""
    if value is not None and value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(sorted(allowed))} (got {value!r})")


def check_range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high} (got {value})")
