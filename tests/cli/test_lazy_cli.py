"""The lazy ``ciimap`` root (``ciimap.cli.COMMANDS`` / ``SUBCOMMANDS``): the tables can never drift from the
commands the modules define, and ``ciimap --help`` imports no domain.

"Eager" below is what loading every CLI module of the package gives: every module under ``src/ciimap`` that
defines ``GROUPS`` (found from the source, not from the tables), merged as the old root did with
``add_typer`` and top-level commands.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.main import get_command_name
from typer.testing import CliRunner

from ciimap import cli

SRC = Path(cli.__file__).resolve().parent


def _defines_groups(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(t, ast.Name) and t.id == "GROUPS"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
        for node in tree.body
    )


@cache
def _cli_modules() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if _defines_groups(path):
            parts = path.relative_to(SRC.parent).with_suffix("").parts
            out.append(".".join(parts))
    return out


def _name(info: Any) -> str:
    return info.name or get_command_name(info.callback.__name__)  # type: ignore[no-any-return]


def _help(text: str | None) -> str:
    """The one line ``--help`` lists for a command: the first paragraph of its help."""
    return inspect.cleandoc(text or "").split("\n\n")[0].replace("\n", " ")


@cache
def _eager() -> dict[str, tuple[str, str, dict[str, tuple[str, str]]]]:
    """name → (listed help, module, {sub-command → (listed help, module)}) over every CLI module."""
    found: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {}
    added: dict[str, dict[str, tuple[str, str]]] = {}
    for module in _cli_modules():
        for group_name, sub in importlib.import_module(module).GROUPS:
            assert isinstance(sub, typer.Typer), f"{module}.GROUPS: {group_name!r} is not a Typer app"
            if not group_name:
                for info in sub.registered_commands:
                    help_ = info.help or inspect.getdoc(info.callback)
                    assert _name(info) not in found, f"command {_name(info)} defined twice"
                    found[_name(info)] = (_help(help_), module, {})
            elif sub.info.help:  # a group of its own (a group is listed with its help)
                assert group_name not in found, f"group {group_name} defined twice"
                subs = {
                    _name(i): (_help(i.help or inspect.getdoc(i.callback)), module)
                    for i in sub.registered_commands
                }
                subs.update(
                    {
                        g.name: (_help(g.typer_instance.info.help), module)
                        for g in sub.registered_groups
                        if g.name and g.typer_instance
                    }
                )
                found[group_name] = (_help(sub.info.help), module, subs)
            else:  # no help of its own: commands added to another module's group
                for info in sub.registered_commands:
                    added.setdefault(group_name, {})[_name(info)] = (
                        _help(info.help or inspect.getdoc(info.callback)),
                        module,
                    )
    for group_name, subs in added.items():
        assert group_name in found, f"commands added to an unknown group {group_name}: {sorted(subs)}"
        found[group_name][2].update(subs)
    return found


def test_the_source_scan_finds_the_cli_modules() -> None:
    mods = _cli_modules()
    assert {"ciimap.inventory.cli", "ciimap.ingest.assets_cli", "ciimap.serve", "ciimap.core.db_cli"} <= set(
        mods
    )
    assert "ciimap.cli" not in mods


def test_the_tables_name_every_command_with_its_real_help_and_module() -> None:
    eager = _eager()
    assert list(cli.COMMANDS) == [n for n in cli.COMMANDS if n in eager]  # no stale entry
    assert set(cli.COMMANDS) == set(eager), "ciimap.cli.COMMANDS differs from the modules' GROUPS"
    for name, (help_, module) in cli.COMMANDS.items():
        real_help, real_module, _subs = eager[name]
        assert (help_, module) == (real_help, real_module), name
    for group, subs in cli.SUBCOMMANDS.items():
        for name, (help_, module) in subs.items():
            assert eager[group][2][name] == (help_, module), f"{group} {name}"
    added = {g: {n for n, (_h, m) in subs.items() if m != eager[g][1]} for g, (_h, _m, subs) in eager.items()}
    assert {g: set(s) for g, s in cli.SUBCOMMANDS.items()} == {g: s for g, s in added.items() if s}, (
        "commands another module adds to a group must be listed in ciimap.cli.SUBCOMMANDS"
    )


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_entry_resolves_to_its_command(name: str) -> None:
    cmd = cli.load_command((name,), cli.COMMANDS[name][1], root=cli.app)
    assert cmd.name == name
    assert _help(cmd.short_help or cmd.help) == cli.COMMANDS[name][0]
    subs = _eager()[name][2]
    if subs:
        listed = cmd.list_commands(None)  # type: ignore[attr-defined, arg-type]
        assert set(listed) == set(subs), name
        for sub in cli.SUBCOMMANDS.get(name, {}):
            real = cmd.get_command(None, sub)  # type: ignore[attr-defined, arg-type]
            assert not isinstance(real, cli.Listed) and real.callback is not None, f"{name} {sub} not loaded"


def test_help_and_a_group_help_list_every_command() -> None:
    runner = CliRunner()
    top = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "200"})
    assert top.exit_code == 0
    for name, (help_, _m) in cli.COMMANDS.items():
        assert f" {name} " in top.output and help_ in top.output, name
    assets = runner.invoke(cli.app, ["assets", "--help"], env={"COLUMNS": "200"})
    assert assets.exit_code == 0
    for name in ("list", "get", "create", "update", "delete", "why", "link", "unlink"):
        assert f" {name} " in assets.output, name
    typo = runner.invoke(cli.app, ["asets"])
    assert typo.exit_code == 2 and "Did you mean 'assets'" in typo.output


_PROBE = r"""
import json, sys
from ciimap.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ciimap"))), file=sys.stderr)
"""


def _loaded(*argv: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_help_loads_no_domain_module() -> None:
    loaded = _loaded("--help")
    assert "ciimap.cli" in loaded
    domains = [m for m in loaded if m != "ciimap" and m.split(".")[1] not in ("cli", "core")]
    assert domains == [], f"`ciimap --help` imported {domains}"


def test_a_group_command_loads_only_its_module(tmp_path: Path) -> None:
    """``ciimap assets --help`` loads inventory's commands, not ingest's (``assets why`` is loaded when it runs)."""
    loaded = _loaded("--database", f"sqlite:///{tmp_path}/x.db", "assets", "--help")
    assert "ciimap.inventory.cli" in loaded
    assert not [m for m in loaded if m.startswith(("ciimap.ingest", "ciimap.vulns", "ciimap.graph"))], loaded


def test_a_command_runs_with_garbage_collection_on(tmp_path: Path) -> None:
    """``main`` pauses the collector only while a command's modules load; the command itself runs with it on
    (a long import must not grow without bound), and the start-up objects are frozen out of its passes."""
    probe = (
        "import functools, gc, json, sys\n"
        "from ciimap.inventory import cli as inv\n"
        "seen = {}\n"
        "cb = inv.app.registered_commands[0].callback\n"
        "@functools.wraps(cb)\n"
        "def spy(*a, **k):\n"
        "    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())\n"
        "    return cb(*a, **k)\n"
        "inv.app.registered_commands[0].callback = spy\n"
        "from ciimap.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(seen), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, "--database", f"sqlite:///{tmp_path}/x.db", "overview", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(out.stderr.strip().splitlines()[-1])
    assert seen["enabled"] is True
    assert seen["frozen"] > 10_000
