"""Every import source is written against the one contract and listed once, in ``ciimap/sources.py``:
its attributes are complete, its recorded sample imports end to end through the one runner, its reader
touches no database, and the CLI, the API, the import page and the docs list exactly the registry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from typer.testing import CliRunner

from ciimap import sources
from ciimap.cli import app as cli_app
from ciimap.core.db import Database
from ciimap.core.importer import FAMILIES, Importer, ImportOptions, Reading
from ciimap.ingest import service
from ciimap.ingest.models import ImportRun
from ciimap.inventory.models import Asset

DATA = Path(__file__).resolve().parents[1] / "data"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "importing.md"
KINDS = [s.kind for s in sources.SOURCES]


def test_kinds_are_unique_and_well_formed() -> None:
    assert len(KINDS) == len(set(KINDS))
    for kind in KINDS:
        assert re.fullmatch(r"[a-z][a-z0-9_]{1,15}", kind), kind  # ImportRun.kind is 16 characters


@pytest.mark.parametrize("kind", KINDS)
def test_source_is_complete(kind: str) -> None:
    src = sources.get(kind)
    assert isinstance(src, Importer) and src.family in FAMILIES
    assert all(isinstance(x, str) and x.strip() for x in src.label) and len(src.label) == 2
    assert src.summary.strip() and "\n" not in src.summary
    assert issubclass(src.Options, ImportOptions)
    assert (DATA / src.sample).exists(), f"{kind}: recorded sample tests/data/{src.sample} is missing"


def _options_for(src: Any, database: Database) -> dict[str, Any]:
    """Sources whose records belong to one asset get a fresh asset; the rest need no option."""
    if "asset_id" not in src.Options.model_fields:
        return {}
    with database.unit_of_work() as s:
        a = Asset(name="sample target", kind="server")
        s.add(a)
        s.flush()
        return {"asset_id": a.id}


@pytest.mark.parametrize("kind", KINDS)
def test_recorded_sample_imports_end_to_end(database: Database, kind: str) -> None:
    src = sources.get(kind)
    options = _options_for(src, database)
    with database.unit_of_work() as s:
        result = service.import_files(s, kind=kind, paths=[DATA / src.sample], options=options)
    with database.read_session() as s:
        run = s.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
        assert run is not None and (run.kind, run.status) == (kind, "succeeded"), run and run.error
        assert run.files[0]["sha256"] and Path(src.sample).name in run.meta
    assert result["kind"] == kind
    written = result["records"] if src.family == "feeds" else sum(result["stats"].values())
    assert written > 0, result


@pytest.mark.parametrize("kind", KINDS)
def test_reader_runs_no_statement(database: Database, kind: str) -> None:
    """read is I/O plus a pure transform: reading the sample sends nothing to the database."""
    src = sources.get(kind)
    options = src.options(_options_for(src, database))
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        reading = Reading(DATA / src.sample, lambda _n: None)
        records = list(src.read(reading, options))
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert records and not statements, statements


def test_cli_help_lists_the_registry() -> None:
    runner = CliRunner()
    for args, family in (
        (["import", "--help"], "assets"),
        (["feeds", "import", "--help"], "feeds"),
        (["alerts", "import", "--help"], "alerts"),
    ):
        out = re.sub(r"[\s│|]+", " ", runner.invoke(cli_app, args).output)  # the help box wraps lines
        assert " ".join(sources.kinds(family)) in out, out


def test_unknown_kind_is_refused_with_the_registry_kinds(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli_app, ["import", "rss", str(tmp_path)])
    assert r.exit_code != 0 and f"kinds: {', '.join(sources.kinds('assets'))}" in str(r.exception)


def test_api_and_import_page_list_the_registry(client, admin_headers) -> None:
    r = client.get("/api/sources", headers=admin_headers)
    assert r.status_code == 200 and [x["kind"] for x in r.json()] == KINDS
    assert all(x["options"]["type"] == "object" for x in r.json())
    page = client.get("/imports", headers=admin_headers).text
    assert re.findall(r'<option value="([a-z0-9_]+)"', page) == list(sources.kinds("assets"))
    r = client.post(
        "/api/imports", headers=admin_headers, data={"kind": "kev"}, files=[("files", ("a", b"x"))]
    )
    assert r.status_code == 422 and "unknown import kind 'kev'" in r.json()["error"]
    r = client.post(
        "/api/imports",
        headers=admin_headers,
        data={"kind": "nmap", "options": '{"asset_id": 1}'},
        files=[("files", ("a.xml", b"<x/>"))],
    )
    assert r.status_code == 422 and "nmap options: asset_id" in r.json()["error"]


def test_docs_table_is_the_registry() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("<!-- sources:begin -->\n", 1)[1].split("<!-- sources:end -->", 1)[0]
    assert table == service.sources_markdown(), (
        "docs/importing.md is out of date: put the output of `ciimap sources --markdown` between its markers"
    )
