"""Where each domain plugs its API routers, CLI apps and web pages in.

Adding a capability = one line per list here; app.py and cli.py stay untouched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

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
    "ciimap.alerts.cli",
    "ciimap.worker",
]


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
