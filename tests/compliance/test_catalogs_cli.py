"""The catalog CLI commands, on a Typer app of their own (the compliance group mounts them with
``commands.register``): the ``catalog --json`` contract scripts rely on, export and import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ciimap.compliance.catalogs import commands, registry
from ciimap.core.errors import Invalid, NotFound

runner = CliRunner()


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


def test_catalog_json_lists_level3_general_items(app: typer.Typer) -> None:
    res = runner.invoke(
        app, ["catalog", "--standard", "22239-2019", "--level", "3", "--part", "general", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 211
    assert {"id", "category", "control_point"} <= set(rows[0])
    assert rows[0]["id"] == "22239-2019:8.1.1.1.a" and rows[0]["category"] == "安全物理环境"
    cloud = json.loads(
        runner.invoke(app, ["catalog", "--level", "3", "--extension", "cloud", "--json"]).stdout
    )
    assert len(cloud) == 211 + 46


def test_catalog_refuses_bad_options(app: typer.Typer) -> None:
    res = runner.invoke(app, ["catalog", "--level", "7", "--json"])
    assert isinstance(res.exception, Invalid)
    res = runner.invoke(app, ["catalog", "--standard", "nope", "--level", "3"])
    assert isinstance(res.exception, NotFound)


def test_export_and_import_through_the_cli(app: typer.Typer, tmp_path: Path, monkeypatch) -> None:
    own = tmp_path / "catalogs"
    monkeypatch.setattr(registry, "user_dir", lambda: own)
    lib = tmp_path / "lib.yaml"
    res = runner.invoke(app, ["catalog-export", "--standard", "39204-2022", "--out", str(lib)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["catalog-import", str(lib), "--id", "x", "--check", "--json"])
    assert res.exit_code == 0, res.output
    head = json.loads(res.stdout)
    assert head["id"] == "x" and head["items"] == 64 and "installed" not in head
    assert not own.exists()
    res = runner.invoke(app, ["catalog-import", str(lib), "--json"])
    assert json.loads(res.stdout)["installed"] == str(own / "39204-2022.yaml")
    listed = json.loads(runner.invoke(app, ["catalogs", "--json"]).stdout)
    assert {c["id"]: c["source"] for c in listed}["39204-2022"] == str(own / "39204-2022.yaml")
    res = runner.invoke(app, ["catalog-export", "--standard", "39204-2022", "--format", "xml"])
    assert isinstance(res.exception, Invalid)
