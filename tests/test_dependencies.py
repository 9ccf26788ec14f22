"""Dependencies are declared where they are used: pyproject's lists are checked against the imports.

- every third-party module that ``src/ciimap`` imports (at module level, inside functions or under
  TYPE_CHECKING) comes from a distribution in ``[project] dependencies``;
- every runtime dependency is imported by ``src/ciimap``, unless it is on ``INDIRECT`` (loaded by
  another library, never imported by name);
- ``bench/`` imports only runtime or ``bench`` packages, ``tests/`` only runtime, ``bench`` or ``dev`` ones;
- nothing that only ``bench/`` or ``tests/`` uses is a runtime dependency.

Import names map to distributions with ``importlib.metadata.packages_distributions()`` (``yaml`` →
PyYAML, ``argon2`` → argon2-cffi), so the check follows the installed packages, not a hand-kept table.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"

#: Runtime dependencies that ciimap never imports by name; each is loaded by another library.
INDIRECT = {
    "uvloop": "uvicorn's event loop when installed (loop='auto')",
    "httptools": "uvicorn's HTTP parser when installed (http='auto')",
    "python-multipart": "FastAPI's form and file-upload parsing",
    "jinja2": "the page templates, through Starlette's Jinja2Templates",
}


def _imports(tree: ast.AST) -> set[str]:
    """Top-level names of absolute imports anywhere in a module."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


#: ``import x`` / ``from x import`` inside a string (bench/ runs child interpreters from source text).
_SCRIPT_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.M)


def imported_modules(
    root: Path, *, scripts: bool = False, also_local: Path | None = None, package: bool = False
) -> dict[str, set[str]]:
    """Third-party top-level module → files importing it, for every ``.py`` under ``root``; modules of
    ``root`` itself (and of ``also_local``, a folder it puts on sys.path) are not third-party."""
    local: set[str] = set()
    for folder in (root, also_local) if also_local else (root,):
        if package:  # a package's modules are imported through it (ciimap.alerts.sigma does not hide
            # the third-party ``sigma`` of pySigma): only its own top-level names are local
            local |= {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}
        else:  # tests/ and bench/ put their subfolders on sys.path for child processes
            local |= {p.stem for p in folder.rglob("*.py")} | {
                p.name for p in folder.rglob("*") if p.is_dir()
            }
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = _imports(tree)
        if scripts:
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and "import " in node.value:
                    try:
                        names |= _imports(ast.parse(node.value))
                    except SyntaxError:
                        names.update(_SCRIPT_IMPORT.findall(node.value))
        for name in names:
            if name in sys.stdlib_module_names or name == "ciimap" or name in local or name == "__future__":
                continue
            found.setdefault(name, set()).add(str(path.relative_to(root.parent)))
    return found


def _names(reqs: Iterable[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in reqs}


def declared() -> tuple[set[str], dict[str, set[str]]]:
    """Runtime distributions and each extra's distributions (an extra naming ciimap[x] includes x)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    extras_raw: dict[str, list[str]] = project.get("optional-dependencies", {})
    extras: dict[str, set[str]] = {}

    def expand(name: str) -> set[str]:
        out: set[str] = set()
        for r in extras_raw[name]:
            req = Requirement(r)
            if canonicalize_name(req.name) == "ciimap":
                for sub in req.extras:
                    out |= expand(sub)
            else:
                out.add(canonicalize_name(req.name))
        return out

    for name in extras_raw:
        extras[name] = expand(name)
    return _names(project["dependencies"]), extras


def distributions_of(module: str) -> set[str]:
    return {canonicalize_name(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def undeclared(found: dict[str, set[str]], allowed: set[str]) -> list[str]:
    """``module (files): distributions`` for every imported module whose distribution is not allowed."""
    out = []
    for module, files in sorted(found.items()):
        dists = distributions_of(module)
        if not dists & allowed:
            out.append(
                f"{module} ({', '.join(sorted(files)[:3])}): from {sorted(dists) or 'nothing installed'}"
            )
    return out


def test_src_imports_only_declared_runtime_dependencies() -> None:
    runtime, _extras = declared()
    missing = undeclared(imported_modules(ROOT / "src" / "ciimap", package=True), runtime)
    assert not missing, "imported by src/ciimap but not in [project] dependencies:\n" + "\n".join(missing)


def test_every_runtime_dependency_is_imported_by_src() -> None:
    runtime, _extras = declared()
    used = {
        d
        for module in imported_modules(ROOT / "src" / "ciimap", package=True)
        for d in distributions_of(module)
    }
    unused = sorted(runtime - used - set(INDIRECT))
    assert not unused, (
        f"declared in [project] dependencies but never imported by src/ciimap: {unused} "
        "(move it to the extra that uses it, or add it to INDIRECT with the library that loads it)"
    )
    stale = sorted(set(INDIRECT) - runtime)
    assert not stale, f"INDIRECT names packages that are no longer dependencies: {stale}"


def test_bench_and_tests_use_declared_packages() -> None:
    runtime, extras = declared()
    assert "bench" in extras and extras["bench"] <= extras["dev"], "dev must include the bench extra"
    bench = undeclared(imported_modules(ROOT / "bench", scripts=True), runtime | extras["bench"])
    assert not bench, "imported by bench/ but in neither dependencies nor the bench extra:\n" + "\n".join(
        bench
    )
    tests = undeclared(imported_modules(ROOT / "tests", also_local=ROOT / "bench"), runtime | extras["dev"])
    assert not tests, "imported by tests/ but in neither dependencies nor the dev extra:\n" + "\n".join(tests)


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The scanner itself: an import inside a function and one inside a bench child script both count."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "mod.py").write_text(
        "import os\nfrom . import sibling\n\ndef f():\n    import numpy\n    from lxml import etree\n"
        'CHILD = """\nimport json\nfrom libnmap.parser import NmapParser\n"""\n'
    )
    found = imported_modules(pkg, scripts=True)
    assert set(found) == {"numpy", "lxml", "libnmap"}
    assert [m.split(" ")[0] for m in undeclared(found, {"numpy"})] == ["libnmap", "lxml"]
    assert set(imported_modules(pkg)) == {"numpy", "lxml"}
