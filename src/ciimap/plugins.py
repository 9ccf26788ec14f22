"""Where each domain plugs its API routers, CLI apps and web pages in.

Adding a capability = one line per list here; app.py and cli.py stay untouched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
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
    "ciimap.compliance.api",
    "ciimap.web.api",
]

#: Modules exposing ``app`` (a Typer app) and ``NAME`` (its command name), or ``GROUPS`` (a list of
#: (name, app) pairs), for the CLI. ``NAME = ""`` adds ``app``'s commands at the top level.
CLI_MODULES = [
    "ciimap.auth.cli",
    "ciimap.core.audit_cli",
    "ciimap.core.jobs_cli",
    "ciimap.inventory.cli",
    "ciimap.demo.cli",
    "ciimap.ingest.cli",
    "ciimap.discovery.cli",
    "ciimap.graph.cli",
    "ciimap.supply.cli",
    "ciimap.vulns.cli",
    "ciimap.compliance.cli",
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


def cli_apps() -> list[tuple[str, typer.Typer]]:
    out: list[tuple[str, typer.Typer]] = []
    for name in CLI_MODULES:
        mod: Any = importlib.import_module(name)
        groups = getattr(mod, "GROUPS", None)
        if groups is not None:
            out.extend(groups)
        else:
            out.append((mod.NAME, mod.app))
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
