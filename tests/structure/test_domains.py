"""Every domain package has the standard files and is wired in.

A *domain* is a sub-package of ``ciimap`` that owns tables and exposes them (see docs/architecture.md
and docs/development/structure-tests.md): ``models.py`` (ORM), ``schemas.py`` (pydantic),
``service.py`` (logic), ``api.py`` (``router``, mounted under /api) and ``cli.py`` (Typer apps), and
``jobs.py`` when it has background jobs. Wired in means: its tables are in the metadata that
``ciimap.models.load_all()`` builds (what Alembic and the tests see), its routes are served by the app,
its Typer apps are reachable from ``ciimap``'s root command, and its job functions are registered.

Every package not listed in :data:`DIFFERENT` is checked as a domain, so a new domain that forgets a
file or a registration fails here, and so does a new package that is not a domain until it is listed.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import typer
from fastapi import APIRouter
from typer.main import get_command_name

from ciimap.core.routes import iter_api_routes

SRC = Path(__file__).resolve().parents[2] / "src" / "ciimap"
STANDARD = ("models.py", "schemas.py", "service.py", "api.py", "cli.py")

#: Packages that legitimately differ from a domain: the files they must have and why.
DIFFERENT: dict[str, tuple[tuple[str, ...], str]] = {
    "core": (
        ("db.py", "deps.py", "errors.py", "entity.py", "audit.py", "jobs.py"),
        "the framework every domain builds on (database, errors, audit, jobs, generic CRUD); its API and CLI "
        "modules (audit_api, jobs_api, ...) are checked below like a domain's",
    ),
    "web": (
        ("api.py", "pages.py", "render.py", "i18n.py"),
        "the browser UI: pages over the domains' services, and the JSON its scripts read (api.py, /api/ui)",
    ),
    "sitemap": (
        ("service.py", "logical.py", "basemap.py", "api.py", "cli.py"),
        "the site map over inventory's sites and zones and other domains' figures: no tables of its own "
        "(the base map is a file in the data dir)",
    ),
    "demo": (
        ("service.py", "cli.py"),
        "generates a demo operator into inventory's tables: no tables, routes or schemas of its own",
    ),
    "migrations": (("env.py",), "Alembic scripts (each domain's own branch), not a Python package"),
    "posture": (
        ("service.py", "schemas.py", "api.py", "cli.py"),
        "read-only figures composed from the other domains' services: no tables of its own",
    ),
}
#: API and CLI modules of packages in DIFFERENT that must be wired in like a domain's.
EXTRA_API = ("ciimap.core.audit_api", "ciimap.core.jobs_api", "ciimap.web.api", "ciimap.posture.api")
EXTRA_CLI = (
    "ciimap.core.audit_cli",
    "ciimap.core.jobs_cli",
    "ciimap.core.db_cli",
    "ciimap.demo.cli",
    "ciimap.posture.cli",
    "ciimap.ingest.assets_cli",
    "ciimap.serve",
)


def _packages() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _domains() -> list[str]:
    return [p for p in _packages() if p not in DIFFERENT]


def test_domains_are_found_and_the_table_of_exceptions_is_current() -> None:
    assert {"inventory", "ingest", "discovery", "graph", "supply", "vulns", "auth"} <= set(_domains())
    stale = sorted(set(DIFFERENT) - set(_packages()))
    assert not stale, f"DIFFERENT lists packages that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_packages_that_differ_have_their_own_files(name: str) -> None:
    files, _why = DIFFERENT[name]
    missing = [f for f in files if not (SRC / name / f).is_file()]
    assert not missing, f"src/ciimap/{name} lacks {missing}"


@pytest.mark.parametrize("name", _domains())
def test_every_domain_has_the_standard_files(name: str) -> None:
    missing = [f for f in ("__init__.py", *STANDARD) if not (SRC / name / f).is_file()]
    assert not missing, (
        f"domain package src/ciimap/{name} lacks {missing} (see docs/development/structure-tests.md; "
        f"a package that is not a domain goes into DIFFERENT in {__file__} with the reason)"
    )


# --- registration -----------------------------------------------------------------------------------

_PROBE = r"""
import importlib, json, sys
from ciimap.registry import load_all
from ciimap.core.db import Base
load_all()
tables = sorted(Base.metadata.tables)
from ciimap.core import jobs
registered = {kind: fn.__module__ + "." + fn.__qualname__ for kind, fn in jobs.registered().items()}
print(json.dumps({"tables": tables, "jobs": registered}))
"""


@pytest.fixture(scope="module")
def wiring() -> dict[str, Any]:
    """What the registries load, seen from a fresh interpreter (in this one, other tests have already
    imported every module, so a forgotten registration would go unnoticed)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _tables_of(mod: ModuleType) -> set[str]:
    return {
        obj.__tablename__
        for obj in vars(mod).values()
        if isinstance(obj, type) and obj.__module__ == mod.__name__ and "__tablename__" in vars(obj)
    }


@pytest.mark.parametrize("name", _domains())
def test_every_domain_models_module_is_loaded_by_load_all(name: str, wiring: dict[str, Any]) -> None:
    mod = importlib.import_module(f"ciimap.{name}.models")
    own = _tables_of(mod)
    assert own, f"ciimap.{name}.models defines no table"
    missing = sorted(own - set(wiring["tables"]))
    assert not missing, f"tables of ciimap.{name}.models unknown to ciimap/registry.py (MODELS): {missing}"


@pytest.mark.parametrize("name", [d for d in _domains() if (SRC / d / "jobs.py").is_file()])
def test_every_jobs_module_is_registered(name: str, wiring: dict[str, Any]) -> None:
    mod = importlib.import_module(f"ciimap.{name}.jobs")
    fns = {
        f"{mod.__name__}.{obj.__qualname__}"
        for obj in vars(mod).values()
        if callable(obj) and getattr(obj, "__module__", None) == mod.__name__ and not isinstance(obj, type)
    }
    assert fns & set(wiring["jobs"].values()), (
        f"no job function of {mod.__name__} is registered (ciimap/registry.py: JOBS)"
    )


def _module_routers(mod: ModuleType) -> list[APIRouter]:
    out: list[APIRouter] = []
    for obj in vars(mod).values():
        if isinstance(obj, APIRouter):
            out.append(obj)
        elif isinstance(obj, list) and obj and all(isinstance(r, APIRouter) for r in obj):
            out.extend(obj)
    return out


@pytest.fixture(scope="module")
def served() -> set[Any]:
    from ciimap.app import create_app

    return {r.endpoint for _p, r in iter_api_routes(create_app())}


@pytest.mark.parametrize("module", [f"ciimap.{d}.api" for d in _domains()] + list(EXTRA_API))
def test_every_api_module_is_mounted(module: str, served: set[Any]) -> None:
    routers = _module_routers(importlib.import_module(module))
    assert routers, f"{module} defines no APIRouter"
    endpoints = {
        r.endpoint for router in routers for _p, r in iter_api_routes(SimpleNamespace(router=router))
    }  # type: ignore[arg-type]
    assert endpoints, f"{module} has no routes"
    missing = sorted(f"{e.__module__}.{e.__qualname__}" for e in endpoints - served)
    assert not missing, f"routes of {module} not served by create_app() (ciimap/app.py: ROUTERS): {missing}"


def _reachable(app: typer.Typer, seen: set[int]) -> None:
    if id(app) in seen:
        return
    seen.add(id(app))
    seen.update(id(c) for c in app.registered_commands)
    for g in app.registered_groups:
        if g.typer_instance is not None:
            _reachable(g.typer_instance, seen)


def _name(info: Any) -> str:
    return info.name or get_command_name(info.callback.__name__)  # type: ignore[no-any-return]


def _reachable_from_root() -> set[int]:
    """The Typer apps and commands ``ciimap`` reaches: what its tables (``ciimap.cli.COMMANDS`` and
    ``SUBCOMMANDS``) name, found in the named modules' ``GROUPS``."""
    from ciimap.cli import COMMANDS, SUBCOMMANDS

    seen: set[int] = set()
    entries = [((name,), module) for name, (_h, module) in COMMANDS.items()]
    entries += [((g, n), m) for g, subs in SUBCOMMANDS.items() for n, (_h, m) in subs.items()]
    for path, module in entries:
        for group_name, sub in importlib.import_module(module).GROUPS:
            if group_name == path[0]:
                if len(path) == 1:
                    _reachable(sub, seen)
                else:
                    seen.update(id(c) for c in sub.registered_commands if _name(c) == path[1])
            elif not group_name and len(path) == 1:
                seen.update(id(c) for c in sub.registered_commands if _name(c) == path[0])
    return seen


def _module_apps(mod: ModuleType) -> list[typer.Typer]:
    found: list[typer.Typer] = []
    for obj in vars(mod).values():
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list | tuple) else [obj]
        for item in items:
            pair = item[1] if isinstance(item, tuple) and len(item) == 2 else item
            if isinstance(pair, typer.Typer) and pair not in found:
                found.append(pair)
    return [a for a in found if a.registered_commands or a.registered_groups]


@pytest.mark.parametrize("module", [f"ciimap.{d}.cli" for d in _domains()] + list(EXTRA_CLI))
def test_every_cli_module_is_mounted(module: str) -> None:
    seen = _reachable_from_root()
    apps = _module_apps(importlib.import_module(module))
    assert apps, f"{module} defines no Typer app with commands"
    lost = [
        a.info.help or repr(a)
        for a in apps
        if id(a) not in seen and not all(id(c) in seen for c in a.registered_commands)
    ]
    assert not lost, (
        f"Typer apps of {module} not reachable from the `ciimap` command (ciimap.cli.COMMANDS): {lost}"
    )
