"""Where each domain plugs its API routers, job functions and web pages in (its CLI commands: the
``COMMANDS`` table in ``cli.py``).

Adding a capability = one line per list here and one per command in cli.py; app.py stays untouched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

#: Modules exposing ``router`` (an APIRouter mounted under /api).
API_MODULES = [
    "ciimap.auth.api",
    "ciimap.core.audit_api",
    "ciimap.core.jobs_api",
    "ciimap.inventory.api",
    "ciimap.ingest.api",
    "ciimap.discovery.api",
    "ciimap.graph.api",
    "ciimap.supply.api",
    "ciimap.vulns.api",
    "ciimap.web.api",
]

#: Modules exposing ``mount(app)`` for web pages and static files.
WEB_MODULES = [
    "ciimap.web.pages",
]


def api_routers() -> list[APIRouter]:
    out: list[APIRouter] = []
    for name in API_MODULES:
        r = importlib.import_module(name).router  # type: ignore[attr-defined]
        out.extend(r if isinstance(r, list) else [r])
    return out


def web_mount(app: FastAPI) -> None:
    for name in WEB_MODULES:
        importlib.import_module(name).mount(app)  # type: ignore[attr-defined]


#: Modules that register job functions with ``@jobs.job(kind)``.
JOB_MODULES: list[str] = [
    "ciimap.ingest.jobs",
    "ciimap.discovery.jobs",
    "ciimap.vulns.jobs",
]


def load_job_modules() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
