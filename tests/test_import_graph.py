"""The import graph of ``src/ciimap``, built from the code: no import circles, ``core`` imports no domain,
and imports inside functions only where ``import_allowlist.json`` says why.

Imports inside functions hide circles from readers and from mypy; every entry of the allow-list is a
place that still needs one (a lazy import of something heavy, or a circle not yet untangled). The list
only shrinks: a new import inside a function, a new circle or a new ``core`` → domain import fails here.
Imports under ``if TYPE_CHECKING:`` are for type checkers only and are not part of the graph.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ALLOWLIST = Path(__file__).resolve().parent / "import_allowlist.json"
#: Top-level packages of ciimap that are not domains (``core`` is the shared kernel every domain uses).
NOT_DOMAINS = {"core", "migrations"}


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = p.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _targets(mods: dict[str, Path], mod: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            pkg = mod.split(".") if mods[mod].name == "__init__.py" else mod.split(".")[:-1]
            pkg = pkg[: len(pkg) - node.level + 1]
            base = ".".join([*pkg, base] if base else pkg)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
    out = []
    for t in names:
        while t not in mods and "." in t:
            t = t.rsplit(".", 1)[0]
        if t in mods and t.startswith("ciimap"):
            out.append(t)
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(edges, inner): module → ciimap modules it imports; module → those imported inside a function."""
    mods = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    inner: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        in_function = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in skip:
                continue
            for target in _targets(mods, mod, node):
                if target == mod:
                    continue
                edges[mod].add(target)
                if id(node) in in_function:
                    inner[mod].add(target)
    return edges, inner


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(set(edges) | {t for ts in edges.values() for t in ts}):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on_stack:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def _allowlist() -> dict[str, dict]:
    return json.loads(ALLOWLIST.read_text(encoding="utf-8"))


def _domain(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 2 and parts[1] not in NOT_DOMAINS else None


def test_the_graph_sees_the_real_code():
    edges, _inner = import_graph()
    assert "ciimap.core.db" in edges["ciimap.core.jobs"]
    assert "ciimap.graph.structure" in edges["ciimap.graph.build"]


def test_no_new_import_circles():
    allowed = [sorted(c["modules"]) for c in _allowlist()["circles"]]
    new = [c for c in circles(import_graph()[0]) if c not in allowed]
    assert not new, f"import circles (untangle them; see docs/architecture.md): {new}"


def test_core_imports_no_domain():
    allowed = {(e["from"], e["to"]) for e in _allowlist()["core_to_domain"]}
    edges, _ = import_graph()
    bad = sorted(
        (m, t)
        for m, ts in edges.items()
        if m.startswith("ciimap.core.")
        for t in ts
        if _domain(t) and (m, t) not in allowed
    )
    assert not bad, f"core must not import a domain (invert the dependency with a registry): {bad}"


def test_imports_inside_functions_are_on_the_allow_list():
    allowed = {(e["module"], e["imports"]) for e in _allowlist()["inside_functions"]}
    _, inner = import_graph()
    new = sorted((m, t) for m, ts in inner.items() for t in ts if (m, t) not in allowed)
    assert not new, (
        "imports inside functions: move them to the top of the module, or add them with a one-line "
        f"reason to tests/import_allowlist.json: {new}"
    )


def test_allow_list_has_no_stale_entries():
    """Entries that no longer occur are removed, so the list only ever shrinks to what is needed."""
    data = _allowlist()
    edges, inner = import_graph()
    present = {(m, t) for m, ts in inner.items() for t in ts}
    stale = [e for e in data["inside_functions"] if (e["module"], e["imports"]) not in present]
    stale += [c for c in data["circles"] if sorted(c["modules"]) not in circles(edges)]
    stale += [e for e in data["core_to_domain"] if e["to"] not in edges.get(e["from"], set())]
    assert not stale, f"remove these from tests/import_allowlist.json: {stale}"
    assert all(e.get("why") for key in data for e in data[key]), "every entry says why"


def test_at_most_ten_imports_inside_functions():
    """Issue 11: the whole package has at most ten imports inside functions, each with its reason."""
    _, inner = import_graph()
    found = sorted((m, t) for m, ts in inner.items() for t in ts)
    assert len(found) <= 10, f"{len(found)} imports inside functions (at most 10): {found}"
