"""``ciimap assets why|link|unlink``: the identity decisions ingest makes and an analyst corrects, added to
inventory's ``ciimap assets`` group (``ciimap.cli.SUBCOMMANDS`` lists them, so ``ciimap assets list``
does not load this module)."""

from __future__ import annotations

import typer

from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table
from ciimap.ingest import decisions

assets_app = typer.Typer()
GROUPS = [("assets", assets_app)]


@assets_app.command("why")
def why_(
    asset_id: int, as_json: bool = typer.Option(False, "--json", help="machine-readable output")
) -> None:
    """Explain which identity keys merged which observations into the asset, and when."""
    with get_database().read_session() as db:
        data = decisions.why(db, asset_id=asset_id)
    if as_json:
        print_json(data)
        return
    a = data["asset"]
    typer.echo(f"asset {a['id']} {a['name']} ({a['primary_ip'] or '-'}, {a['lifecycle_status']})")
    for line in data["explanation"]:
        typer.echo(f"  - {line}")
    print_table(
        data["provenance"],
        ["attribute", "value", "source", "run_id", "first_seen", "last_seen"],
        title="provenance",
    )


@assets_app.command("link")
def link_(
    asset_id: int,
    other: int | None = typer.Argument(None, help="duplicate asset to merge into ASSET_ID"),
    key: str | None = typer.Option(None, "--key"),
    value: str | None = typer.Option(None, "--value"),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Merge OTHER into ASSET_ID (or pin --key/--value to it); later imports honour the decision."""
    with get_database().unit_of_work() as db:
        out = decisions.link(db, asset_id=asset_id, other_id=other, key=key, value=value, note=note)
    print_json(out) if as_json else typer.echo(f"linked {', '.join(out['linked'])} to asset {asset_id}")


@assets_app.command("unlink")
def unlink_(
    asset_id: int,
    key: str = typer.Option(..., "--key"),
    value: str = typer.Option(..., "--value"),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Never merge KEY=VALUE into ASSET_ID again (the next import starts a separate asset)."""
    with get_database().unit_of_work() as db:
        out = decisions.unlink(db, asset_id=asset_id, key=key, value=value, note=note)
    print_json(out) if as_json else typer.echo(f"unlinked {out['unlinked']} from asset {asset_id}")
