"""CLI commands for catalogs, added to the ``ciimap compliance`` Typer app with :func:`register`.

``catalog`` prints the items that apply (``--json``: a list of objects with at least ``id``,
``category``, ``control_point``), ``catalogs`` lists the catalogs, ``catalog-export`` writes a
catalog as a ciimap catalog file or a CISO Assistant library, ``catalog-import`` reads either format
and installs it among the organisation's own catalogs. Thin: parse options, call the catalog API,
render. No database.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ciimap.compliance.catalogs import ciso, registry, yamlio
from ciimap.compliance.catalogs.parse import FORMAT, parse_catalog
from ciimap.compliance.catalogs.select import listing
from ciimap.core.errors import check_choice
from ciimap.core.output import console, print_json, print_table

EXPORT_FORMATS = ("ciimap", "ciso")


def catalog(
    standard: str = typer.Option(
        "22239-2019", "--standard", help="catalog id, e.g. 22239-2019 or 39204-2022"
    ),
    level: int = typer.Option(..., "--level", help="the system's level 1-4 (max of S and A)"),
    part: str | None = typer.Option(None, "--part", help="only this part: general, cloud, mobile, iot, ics"),
    extension: list[str] = typer.Option([], "--extension", help="extension types of the system (repeatable)"),
    s_level: int | None = typer.Option(
        None, "--s-level", help="S level (business information); default: --level"
    ),
    a_level: int | None = typer.Option(None, "--a-level", help="A level (system service); default: --level"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """The requirement items that apply at a level (S items at the S level, A items at the A level)."""
    cat = registry.load_catalog(standard)
    rows = listing(cat, level, part=part, extensions=extension, s_level=s_level, a_level=a_level)
    if as_json:
        print_json(rows)
        return
    print_table(
        rows, ["id", "category", "control_point", "tag", "summary_zh"], title=f"{cat.standard} L{level}"
    )


def catalogs(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """The catalogs available: shipped ones and the organisation's own (``<data_dir>/catalogs``)."""
    rows = registry.list_catalogs()
    if as_json:
        print_json(rows)
        return
    print_table(rows, ["id", "standard", "name", "version", "data_version", "items", "source"])


def catalog_export(
    standard: str = typer.Option(..., "--standard", help="catalog id"),
    fmt: str = typer.Option(
        "ciso", "--format", help="ciso (CISO Assistant library) or ciimap (catalog file)"
    ),
    out: Path | None = typer.Option(None, "--out", help="file to write (default: standard output)"),
) -> None:
    """Write a catalog as a CISO Assistant library or as a ciimap catalog file."""
    check_choice("--format", fmt, EXPORT_FORMATS)
    cat = registry.load_catalog(standard)
    text = ciso.export_yaml(cat) if fmt == "ciso" else registry.catalog_yaml(cat)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {cat.id} ({len(cat.items)} items) to {out}")


def catalog_import(
    path: Path = typer.Argument(..., help="a ciimap catalog file or a CISO Assistant library (YAML)"),
    catalog_id: str | None = typer.Option(None, "--id", help="catalog id to use (CISO Assistant libraries)"),
    install: bool = typer.Option(True, "--install/--check", help="install it, or only check it"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Check a catalog file and add it to the organisation's own catalogs (replacing one of the same id)."""
    doc = yamlio.read_file(path)
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        cat = parse_catalog(doc, str(path))
    else:
        cat = ciso.import_library(doc, str(path), catalog_id=catalog_id)
    header = cat.header()
    if install:
        header["installed"] = str(registry.install(cat))
    if as_json:
        print_json(header)
        return
    where = f"installed as {header['installed']}" if install else "valid, not installed"
    console.print(f"{cat.id}: {header['items']} items, {where}")


def register(app: typer.Typer) -> None:
    """Add the catalog commands to ``app`` (the ``ciimap compliance`` group)."""
    app.command("catalog")(catalog)
    app.command("catalogs")(catalogs)
    app.command("catalog-export")(catalog_export)
    app.command("catalog-import")(catalog_import)
