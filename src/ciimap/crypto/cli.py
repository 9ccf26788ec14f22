"""``ciimap crypto ...``: inventory, flags, manual entries and the 密评 score."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import print_json, print_table
from ciimap.crypto import assess_cli, scoring, service

app = typer.Typer(
    help="Commercial cryptography (商用密码): inventory, flags, 密评 score", no_args_is_help=True
)
app.add_typer(assess_cli.app, name="assess")
GROUPS = [("crypto", app)]
JSON_OPT = typer.Option(False, "--json", help="machine-readable output")


@app.command("score")
def score(
    input_: Path = typer.Option(..., "--input", help="JSON: {level, units: [...]} (docs/crypto.md)"),
    profile: str = typer.Option("2023", "--profile", help="quantitative rule: 2023 or 2021"),
    as_json: bool = JSON_OPT,
) -> None:
    """Score one system's 密评 results by the quantitative rule. Nothing is stored."""
    result = scoring.score_file(input_, profile=profile)
    if as_json:
        print_json(result)
        return
    print_table(result["units"], ["layer", "name", "score"], title=f"总分 Total: {result['total']}")


@app.command("inventory")
def inventory(
    system: int | None = typer.Option(None, "--system", help="only this system id"),
    summary: bool = typer.Option(False, "--summary", help="counts per kind instead of every item (fast)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Algorithms, certificates, libraries and manual entries per system and layer."""
    with get_database().unit_of_work() as db:
        data = service.inventory(db, system_id=system, detail=not summary)
    if as_json:
        print_json(data)
        return
    rows = [
        {
            "system": s["system"] or "-",
            "layer": layer["name"],
            "gm": layer["gm"],
            "algorithms": " ".join(layer["algorithms"]),
        }
        for s in data["systems"]
        for layer in s["layers"].values()
    ]
    print_table(rows, ["system", "layer", "gm", "algorithms"], title="密码清单 Crypto inventory")


@app.command("flags")
def flags(
    expiring_days: int | None = typer.Option(None, "--expiring-days", help="certificate warning window"),
    as_json: bool = JSON_OPT,
) -> None:
    """Weak settings (old TLS, weak suites, small RSA keys, SHA-1, expiry) and missing GM algorithms."""
    with get_database().unit_of_work() as db:
        data = service.flags(db, expiring_days=expiring_days)
    if as_json:
        print_json(data)
        return
    print_table(data, ["code", "system_id", "asset_id", "port", "message"], title=f"Flags: {len(data)}")


def _date(v: str | None) -> dt.date | None:
    if v is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise Invalid(f"--not-after '{v}' is not a date (YYYY-MM-DD)") from None


def _add(kind: str, **kw: object) -> None:
    with get_database().unit_of_work() as db:
        row = service.add_manual(db, kind=kind, **kw)  # type: ignore[arg-type]
    print_json(row)


LAYER_OPT = typer.Option("application", "--layer", help="physical, network, device or application")


@app.command("add-product")
def add_product(
    name: str = typer.Option(..., "--name"),
    certificate_no: str = typer.Option(..., "--certificate-no", help="商用密码产品认证证书编号"),
    system: int | None = typer.Option(None, "--system"),
    asset: int | None = typer.Option(None, "--asset"),
    layer: str = LAYER_OPT,
    algorithm: str | None = typer.Option(None, "--algorithm", help="e.g. SM2/SM3/SM4"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Record a certified commercial crypto product (audited)."""
    _add(
        "product",
        name=name,
        certificate_no=certificate_no,
        system_id=system,
        asset_id=asset,
        layer=layer,
        algorithm=algorithm,
        note=note,
    )


@app.command("add-cert")
def add_cert(
    name: str = typer.Option(..., "--name", help="subject or label"),
    system: int | None = typer.Option(None, "--system"),
    asset: int | None = typer.Option(None, "--asset"),
    layer: str = LAYER_OPT,
    algorithm: str | None = typer.Option(None, "--algorithm", help="key type, e.g. RSA or SM2"),
    key_bits: int | None = typer.Option(None, "--key-bits"),
    not_after: str | None = typer.Option(None, "--not-after", help="expiry, YYYY-MM-DD"),
    kind: str = typer.Option("certificate", "--kind", help="certificate or key"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Record a certificate or key no scan sees (audited)."""
    _add(
        kind,
        name=name,
        system_id=system,
        asset_id=asset,
        layer=layer,
        algorithm=algorithm,
        key_bits=key_bits,
        not_after=_date(not_after),
        note=note,
    )
