"""``ciimap supply ...``: vendor profiles, foreign-product inventory, substitution plans, findings, export."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ciimap.core.crud_cli import payload_from
from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import console, print_json, print_table, to_data
from ciimap.supply import findings, foreign, plans, service
from ciimap.supply.schemas import VendorProfileRead

app = typer.Typer(
    help="Supply-chain register (供应链安全): vendors, foreign products, substitution", no_args_is_help=True
)
plans_app = typer.Typer(help="Domestic substitution plans (国产化替代)", no_args_is_help=True)
app.add_typer(plans_app, name="plans")
GROUPS = [("supply", app)]

JSON_OPT = typer.Option(False, "--json", help="machine-readable output")


@app.command("vendors")
def vendors(
    domestic: bool | None = typer.Option(
        None, "--domestic/--foreign", help="only domestic / foreign vendors"
    ),
    used: bool = typer.Option(False, "--used", help="only vendors whose products are in use"),
    as_json: bool = JSON_OPT,
) -> None:
    """The vendor register: country, profile essentials and usage on (CII) systems."""
    with get_database().read_session() as db:
        rows = service.list_vendors(db, domestic=domestic, used_only=used)
    if as_json:
        print_json(rows)
        return
    flat = [
        {
            **r,
            "remote_access": (r["profile"] or {}).get("remote_access", "-"),
            "nda": (r["profile"] or {}).get("nda_signed", "-"),
            "contract_end": (r["profile"] or {}).get("contract_end", "-"),
        }
        for r in rows
    ]
    print_table(
        flat,
        [
            "id",
            "name",
            "country",
            "is_domestic",
            "systems",
            "cii_systems",
            "assets",
            "remote_access",
            "nda",
            "contract_end",
        ],
        title=f"厂商 Vendors: {len(rows)}",
    )


@app.command("profile")
def profile(
    vendor: str = typer.Argument(..., help="vendor id, name or alias"),
    set_: list[str] = typer.Option([], "--set", "-s", help="field=value (repeatable); JSON values allowed"),
    data: str | None = typer.Option(None, "--data", help="JSON object of fields"),
    delete: bool = typer.Option(False, "--delete", help="remove the profile"),
) -> None:
    """Show a vendor's profile, or create/update it with --set / --data (audited)."""
    changes = payload_from(set_, data)
    db_ = get_database()
    with db_.unit_of_work() if changes or delete else db_.read_session() as db:
        v = service.resolve_vendor(db, vendor)
        if delete:
            service.delete_profile(db, vendor_id=v.id)
            typer.echo(f"deleted profile of vendor {v.id} {v.name}")
            return
        obj = (
            service.set_profile(db, vendor_id=v.id, changes=changes)
            if changes
            else service.get_profile(db, vendor_id=v.id)
        )
        out = {
            "vendor": v.name,
            "country": v.country,
            "is_domestic": v.is_domestic,
            **to_data(obj, VendorProfileRead),
        }
    print_json(out)


@app.command("foreign")
def foreign_cmd(
    system: int | None = typer.Option(None, "--system", help="system id"),
    layer: str | None = typer.Option(
        None, "--layer", help="os, database, middleware, network, security, ..."
    ),
    include_all: bool = typer.Option(False, "--all", help="also rows with only domestic products"),
    cii: bool = typer.Option(False, "--cii", help="only CII systems (关键信息基础设施)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Foreign products in use per system and layer (via assets, system software and edges)."""
    with get_database().read_session() as db:
        inv = foreign.inventory(
            db, system_id=system, layer=layer, include_domestic_only=include_all, cii_only=cii
        )
    if as_json:
        print_json(inv)
        return
    rows = [
        {
            **r,
            "foreign": ", ".join(f"{f['vendor']} {f['product']} ({f['assets']})" for f in r["foreign"]),
            "domestic_share": "-" if r["domestic_share"] is None else f"{r['domestic_share']:.0%}",
        }
        for r in inv["rows"]
    ]
    print_table(
        rows,
        [
            "system_id",
            "system",
            "is_cii",
            "layer",
            "foreign_products",
            "domestic_products",
            "domestic_share",
            "foreign_assets",
            "foreign",
        ],
        title="国外产品清单 Foreign products",
    )
    summary = [
        {**s, "domestic_share": "-" if s["domestic_share"] is None else f"{s['domestic_share']:.0%}"}
        for s in inv["summary"]
    ]
    print_table(
        summary,
        [
            "layer",
            "products",
            "foreign_products",
            "domestic_products",
            "domestic_share",
            "systems_with_foreign",
            "foreign_assets",
        ],
        title="全局汇总 Organisation",
    )


@app.command("findings")
def findings_cmd(
    vendor: str | None = typer.Option(None, "--vendor", help="vendor id, name or alias"),
    as_json: bool = JSON_OPT,
) -> None:
    """Supply-chain findings: contracts, NDAs, remote maintenance, security review, privileged updates."""
    with get_database().read_session() as db:
        vid = service.resolve_vendor(db, vendor).id if vendor else None
        rows = findings.findings(db, vendor_id=vid)
    if as_json:
        print_json(rows)
        return
    print_table(
        [{**r, "detail": json.dumps(r["detail"], ensure_ascii=False, default=str)} for r in rows],
        ["severity", "vendor", "code", "title_zh", "detail"],
        title=f"发现 Findings: {len(rows)}",
    )


@app.command("export")
def export_cmd(
    path: Path = typer.Argument(..., help="output .xlsx file"),
    lang: str = typer.Option("zh-CN", "--lang", help="zh-CN (default) or en"),
) -> None:
    """Write the register (profiles, foreign products, plans, progress, findings) as XLSX."""
    if path.suffix.lower() != ".xlsx":
        raise Invalid(f"{path}: the export file must end in .xlsx")
    with get_database().read_session() as db:
        from ciimap.supply import export  # openpyxl (~0.1 s): only this command needs it

        data = export.workbook(db, lang=lang)
    path.write_bytes(data)
    console.print(f"wrote {path} ({len(data)} bytes)")


@plans_app.command("list")
def plans_list(
    system: int | None = typer.Option(None, "--system", help="system id"),
    status: str | None = typer.Option(
        None, "--status", help="planned, in_progress, testing, done, cancelled"
    ),
    overdue: bool = typer.Option(False, "--overdue", help="only overdue items"),
    as_json: bool = JSON_OPT,
) -> None:
    """Substitution plan items with candidate, status, milestones and warnings."""
    with get_database().read_session() as db:
        rows = plans.list_plans(db, system_id=system, status=status, overdue=True if overdue else None)
    if as_json:
        print_json(rows)
        return
    flat = [
        {
            **r,
            "milestones": f"{r['milestones_done']}/{len(r['milestones'])}",
            "warnings": "; ".join(r["warnings"]),
        }
        for r in rows
    ]
    print_table(
        flat,
        [
            "id",
            "system",
            "layer",
            "current",
            "candidate",
            "status",
            "milestones",
            "due_date",
            "overdue",
            "warnings",
        ],
        title=f"替代计划 Substitution plans: {len(rows)}",
    )


@plans_app.command("add")
def plans_add(
    set_: list[str] = typer.Option([], "--set", "-s", help="field=value (repeatable)"),
    data: str | None = typer.Option(None, "--data", help="JSON object"),
) -> None:
    """Add an item: system_id, current_product_id/current_software_id/current_asset_id, candidate_product_id..."""
    with get_database().unit_of_work() as db:
        out = plans.describe(db, plan_id=plans.create_plan(db, data=payload_from(set_, data)).id)
    print_json(out)


@plans_app.command("update")
def plans_update(
    plan_id: int,
    set_: list[str] = typer.Option([], "--set", "-s", help="field=value (repeatable)"),
    data: str | None = typer.Option(None, "--data", help="JSON object"),
) -> None:
    """Change an item (status moves planned → in_progress → testing → done, or cancelled)."""
    with get_database().unit_of_work() as db:
        out = plans.describe(
            db, plan_id=plans.update_plan(db, plan_id=plan_id, changes=payload_from(set_, data)).id
        )
    print_json(out)


@plans_app.command("delete")
def plans_delete(plan_id: int) -> None:
    """Delete an item (audited)."""
    with get_database().unit_of_work() as db:
        plans.delete_plan(db, plan_id=plan_id)
    typer.echo(f"deleted substitution plan {plan_id}")


@plans_app.command("progress")
def plans_progress(as_json: bool = JSON_OPT) -> None:
    """Progress per system and across the organisation."""
    with get_database().read_session() as db:
        out = plans.progress(db)
    if as_json:
        print_json(out)
        return
    print_table(
        [*out["systems"], out["total"]],
        [
            "system",
            "is_cii",
            "items",
            "done",
            "active",
            "cancelled",
            "overdue",
            "milestones_done",
            "milestones",
            "percent",
        ],
        title="替代进度 Substitution progress",
    )
