"""Domain errors. Services raise these; one handler maps them to HTTP codes and CLI exit codes."""

from __future__ import annotations

from typing import Any


class CiimapError(Exception):
    """Base of every error a user may see. ``str(err)`` is a one-line, human-readable reason."""

    http_status = 400
    exit_code = 2

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
