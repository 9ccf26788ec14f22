"""One of each: every vocabulary is declared once, the IN-list batch size once, uploads are saved by one helper.

Read from the code with ``ast`` (nothing imported), so a copy is caught wherever it is written:

- a vocabulary is a module-level tuple of strings or ``Literal[...]`` of strings in a domain's
  ``models.py`` (or ``core/jobs.py`` for job statuses); the same set of values written out again
  anywhere else in ``src/ciimap`` (a tuple, list, set or ``Literal``) fails;
- batch sizes are named once in ``ciimap.core.db``: no private ``_IN = 900``, no ``range(0, n, 500)``
  or ``chunks(x, 2000)`` with a number written in place;
- only ``ciimap.core.uploads`` reads an ``UploadFile``'s content to save it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ciimap.core.db import IN_BATCH, INSERT_BATCH

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ciimap"

#: Copies that live in code another change of issue 11 is moving right now (the page queries of
#: web/topology.py move into a domain service); they import the vocabulary once that lands.
PENDING: dict[str, str] = {}
#: IN-lists sized in place in code that is being moved (same reason as PENDING).
PENDING_BATCH: dict[str, str] = {}


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for p in sorted(SRC.rglob("*.py")):
        rel = str(p.relative_to(SRC))
        if not rel.startswith("migrations/"):  # migrations are frozen snapshots of their day
            out.append((rel, ast.parse(p.read_text(encoding="utf-8"), rel)))
    return out


def _strings(node: ast.AST) -> frozenset[str] | None:
    """The values of a tuple/list/set made only of string constants (two or more), else None."""
    elts = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else []
    if len(elts) >= 2 and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
        return frozenset(e.value for e in elts)  # type: ignore[attr-defined]
    return None


def _literal(node: ast.AST) -> frozenset[str] | None:
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
        return _strings(node.slice)
    return None


def _collections(tree: ast.AST) -> list[tuple[int, frozenset[str]]]:
    """Every string collection and Literal in a module, with its line."""
    out = []
    for node in ast.walk(tree):
        values = _literal(node)
        if values is None and not (
            isinstance(node, ast.Tuple) and isinstance(getattr(node, "parent", None), ast.Subscript)
        ):
            values = _strings(node)
        if values is not None:
            out.append((node.lineno, values))
    return out


def _is_owner(rel: str) -> bool:
    return rel.endswith("/models.py") or rel == "core/jobs.py"


def vocabularies(modules: list[tuple[str, ast.Module]]) -> dict[frozenset[str], str]:
    """Values → ``file:NAME`` for every vocabulary declared at module level in an owning module."""
    out: dict[frozenset[str], str] = {}
    for rel, tree in modules:
        if not _is_owner(rel):
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                values = _literal(node.value) or _strings(node.value)
                if values is not None and isinstance(target, ast.Name):
                    out.setdefault(values, f"{rel}:{target.id}")
    return out


def copies(modules: list[tuple[str, ast.Module]]) -> list[str]:
    """Every place a vocabulary's values are written out other than its one declaration."""
    vocab = vocabularies(modules)
    seen: dict[frozenset[str], list[str]] = {}
    for rel, tree in modules:
        for parent in ast.walk(tree):  # a Literal's own tuple is not a second occurrence
            for child in ast.iter_child_nodes(parent):
                child.parent = parent  # type: ignore[attr-defined]
        for line, values in _collections(tree):
            if values in vocab:
                seen.setdefault(values, []).append(f"{rel}:{line}")
    out = []
    for values, places in seen.items():
        owner = vocab[values].split(":")[0]
        extra = [p for p in places if p.split(":")[0] not in PENDING]
        owned = [p for p in extra if p.split(":")[0] == owner]
        others = [p for p in extra if p not in owned[:1]]  # the owner's first occurrence is the declaration
        if others:
            out.append(f"{vocab[values]} ({', '.join(sorted(values))}) also written at {', '.join(others)}")
    return out


def test_each_vocabulary_is_declared_once() -> None:
    found = copies(_modules())
    assert not found, "declare a vocabulary once and import it:\n" + "\n".join(found)


def test_the_vocabularies_the_issue_names_are_found() -> None:
    """The check sees the vocabularies it is about (an empty scan would pass vacuously)."""
    names = set(vocabularies(_modules()).values())
    for name in (
        "inventory/models.py:AssetKind",
        "inventory/models.py:Criticality",
        "inventory/models.py:EdgeKind",
        "inventory/models.py:Lifecycle",
        "vulns/models.py:PRIORITIES",
        "vulns/models.py:TRIAGE_STATES",
        "core/jobs.py:FINISHED",
        "auth/models.py:Role",
    ):
        assert name in names


def test_a_copy_is_reported(tmp_path: Path) -> None:
    models = ast.parse('Kind = Literal["a", "b", "c"]\nKINDS = get_args(Kind)\n')
    schemas = ast.parse(
        'from typing import Literal\nK = Literal["c", "b", "a"]\ndef f(x):\n    return x in ("a", "b", "c")\n'
    )
    found = copies([("dom/models.py", models), ("dom/schemas.py", schemas)])
    assert len(found) == 1 and "dom/schemas.py:2" in found[0] and "dom/schemas.py:4" in found[0]
    assert copies([("dom/models.py", models)]) == []


# Batch sizes ----------------------------------------------------------------------------------------

_BATCH_NAME = re.compile(r"(^|_)(IN|IN_CHUNK|IN_BATCH|BATCH_SIZE)$")


def batch_literals(modules: list[tuple[str, ast.Module]]) -> list[str]:
    """Batch sizes written in place or declared privately outside ciimap.core.db."""
    out = []
    for rel, tree in modules:
        if rel == "core/db.py" or rel in PENDING_BATCH:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for t in node.targets:
                    if (
                        isinstance(t, ast.Name)
                        and _BATCH_NAME.search(t.id)
                        and isinstance(node.value.value, int)
                    ):
                        out.append(f"{rel}:{node.lineno} {t.id} = {node.value.value}")
            if not isinstance(node, ast.Call):
                continue
            fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            size = None
            if fn == "range" and len(node.args) == 3 and isinstance(node.args[1], ast.Call):
                size = node.args[2]  # range(0, len(xs), N)
            elif fn in ("chunks", "islice") and len(node.args) == 2:
                size = node.args[1]
            if isinstance(size, ast.Constant) and isinstance(size.value, int) and size.value >= 50:
                out.append(f"{rel}:{node.lineno} {fn}(..., {size.value})")
    return out


def test_batch_sizes_are_named_once_in_core_db() -> None:
    found = batch_literals(_modules())
    assert not found, "use ciimap.core.db.IN_BATCH / INSERT_BATCH (or name a new size there):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "code",
    [
        "_IN = 900\n",
        "for i in range(0, len(ids), 500):\n    pass\n",
        "for p in chunks(rows, 5000):\n    pass\n",
    ],
)
def test_a_batch_size_in_place_is_reported(code: str) -> None:
    assert len(batch_literals([("dom/load.py", ast.parse(code))])) == 1


def test_the_in_batch_stays_below_sqlites_parameter_limit() -> None:
    assert 100 <= IN_BATCH < 999  # SQLite's host-parameter limit before 3.32, with room for the rest
    assert INSERT_BATCH >= IN_BATCH


# Uploads ---------------------------------------------------------------------------------------------

#: Reads an upload into memory to validate it, never saves the upload itself (it stores the parsed map).
UPLOAD_READERS = {"web/api.py:upload_basemap", "sitemap/api.py:put_basemap"}


def upload_handlers(modules: list[tuple[str, ast.Module]]) -> list[str]:
    """Functions outside core/uploads.py that touch an UploadFile's content (read, file, seek, write)."""
    out = []
    for rel, tree in modules:
        if rel == "core/uploads.py":
            continue
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {
                a.arg
                for a in (*fn.args.args, *fn.args.kwonlyargs)
                if a.annotation is not None and "UploadFile" in ast.unparse(a.annotation)
            }
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in params
                    and node.attr in ("read", "file", "seek", "write")
                    and f"{rel}:{fn.name}" not in UPLOAD_READERS
                ):
                    out.append(f"{rel}:{node.lineno} {fn.name}: {node.value.id}.{node.attr}")
    return out


def test_uploads_are_saved_by_core_uploads_only() -> None:
    found = upload_handlers(_modules())
    assert not found, "save uploads with ciimap.core.uploads.store / store_async:\n" + "\n".join(found)
    code = "async def up(f: UploadFile):\n    with open('x', 'wb') as o:\n        o.write(await f.read())\n"
    assert len(upload_handlers([("dom/api.py", ast.parse(code))])) == 1
