"""Pages are thin: no module of the web package queries the database itself.

A page that builds its own SQL cannot be reused by the API or the CLI and cannot be query-counted, so
every query lives in a domain service (graph/topology.py, inventory/overview.py, core/labels.py, ...)
and the web package only calls services and renders. This test reads the web package's source with
``ast`` and fails on:

- an import from ``sqlalchemy`` other than the session plumbing in :data:`ALLOWED_SQLALCHEMY`
  (``select``, ``func``, ``text``, ``or_``, ... are query constructs);
- an import of a domain ``models`` module (``ciimap.<domain>.models``, ``from ciimap.x import models``,
  or its name as a string for importlib);
- a call of ``.execute(``, ``.scalar(``, ``.scalars(`` or ``.query(`` (running a statement).

The allow-list is explicit and documented; it holds only what a page needs to receive and hand on a
session. Add to it only with a reason, never a query construct.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "src" / "ciimap" / "web"

#: (module, name) a web module may import from SQLAlchemy, and why.
ALLOWED_SQLALCHEMY = {
    # type of the request's unit of work handed to services (DbSession is its Annotated alias)
    ("sqlalchemy.orm", "Session"),
}
#: Method calls that run a statement.
QUERY_CALLS = {"execute", "scalar", "scalars", "query"}
_MODELS = re.compile(r"^(ciimap\.)?([a-z_]+\.)*models$")


def _is_models_string(node: ast.AST) -> bool:
    """A string such as "vulns.models" (a module name for importlib; a bare "models" is a word)."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "." in node.value
        and _MODELS.match(node.value) is not None
    )


def problems(source: str, name: str = "<source>") -> list[str]:
    """What in ``source`` breaks the thin-page rule, one line each (empty: none)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    out.append(f"{where} imports {alias.name} (query constructs belong in a service)")
                if alias.name.startswith("ciimap.") and _MODELS.match(alias.name):
                    out.append(f"{where} imports the models module {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "sqlalchemy":
                for alias in node.names:
                    if (node.module, alias.name) not in ALLOWED_SQLALCHEMY:
                        out.append(f"{where} imports {alias.name} from {node.module} (use a service)")
            elif node.module.startswith("ciimap"):
                full = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                for mod in full:
                    if _MODELS.match(mod):
                        out.append(f"{where} imports the models module {mod}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in QUERY_CALLS:
                out.append(f"{where} calls .{node.func.attr}() (run queries in a service)")
        elif _is_models_string(node):
            out.append(f"{where} names the models module '{node.value}'")  # type: ignore[attr-defined]
    return out


def test_web_modules_do_not_query_the_database():
    modules = sorted(WEB.rglob("*.py"))
    assert len(modules) >= 10  # the package was found (an empty walk must not pass)
    found: list[str] = []
    for path in modules:
        found += problems(path.read_text(encoding="utf-8"), str(path.relative_to(WEB.parents[1])))
    assert not found, "pages must call services, not query:\n" + "\n".join(found)


def test_the_check_catches_each_kind_of_query_in_a_page():
    """The checker itself: each pattern the old pages used is reported (so the test above can fail)."""
    old_page = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session
import sqlalchemy as sa
from ciimap.inventory import models as m
from ciimap.vulns.models import PRIORITIES
import ciimap.auth.models

def counts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(m.Asset))

def rows(db):
    return list(db.execute(select(m.Site.id))) + list(db.scalars(select(m.Site.id)))

def overlay():
    return module("vulns.models")
"""
    found = problems(old_page)
    assert [p.split(" ", 1)[1] for p in found if " imports " in p] == [
        "imports func from sqlalchemy (use a service)",
        "imports select from sqlalchemy (use a service)",
        "imports sqlalchemy (query constructs belong in a service)",
        "imports the models module ciimap.inventory.models",
        "imports the models module ciimap.vulns.models",
        "imports the models module ciimap.auth.models",
    ]
    calls = sorted(p.split(" ", 1)[1] for p in found if " calls " in p)
    assert calls == [f"calls .{c}() (run queries in a service)" for c in ("execute", "scalar", "scalars")]
    assert any("names the models module 'vulns.models'" in p for p in found)
    assert len(found) == 10
    # session plumbing and service calls are fine
    thin = "from sqlalchemy.orm import Session\nfrom ciimap.inventory import overview\n"
    thin += "def page(db: Session):\n    return overview.site_map(db)\n"
    assert problems(thin) == []
