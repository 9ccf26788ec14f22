"""Enumerate every route of the app with its full path (for the permission test and diagnostics).

FastAPI ≥ 0.120 keeps included routers nested (``_IncludedRouter``); older versions flatten them.
Both shapes are handled here so callers need not care.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def iter_api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Yield (full path, APIRoute) for every API route, however deeply routers are included."""
    for r in app.router.routes:
        yield from _walk(r)


def _walk(r: Any) -> Iterator[tuple[str, APIRoute]]:
    if isinstance(r, APIRoute):
        yield r.path, r
    elif hasattr(r, "effective_route_contexts"):
        for ctx in r.effective_route_contexts():
            orig = getattr(ctx, "original_route", None)
            if isinstance(orig, APIRoute):
                yield ctx.path, orig
