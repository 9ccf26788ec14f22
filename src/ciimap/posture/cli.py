"""``ciimap posture``: how exposed the operator is now (thin: call the service, render)."""

from __future__ import annotations

import typer

from ciimap.core.db import get_database
from ciimap.core.output import print_json, print_table
from ciimap.posture import service
from ciimap.posture.schemas import Posture

app = typer.Typer()
GROUPS = [("", app)]


@app.command("posture")
def posture(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """How exposed the operator is now (services at risk, KEV on CII, SPOF, overdue work, warnings, incidents)."""
    with get_database().read_session() as db:
        data = Posture.model_validate(service.posture(db)).model_dump(mode="json")
    if as_json:
        print_json(data)
        return
    print_table(
        [
            {
                "figure": c["key"],
                "now": "" if c["value"] is None else f"{c['value']:,}",
                "detail": " · ".join(f"{k} {n}" for k, n in c["parts"]),
                "30 days ago": "" if not c["trend"] else f"{c['trend'][0][1]:,}",
            }
            for c in data["cards"]
        ],
        ["figure", "now", "detail", "30 days ago"],
        title=f"安全态势 Posture ({data['as_of']})",
    )
    if data["services_at_risk"]:
        print_table(
            [
                {
                    "service": s["name"],
                    "criticality": s["criticality"],
                    "vulnerable": s["vulnerable"],
                    "spof": s["spof"],
                }
                for s in data["services_at_risk"]
            ],
            ["service", "criticality", "vulnerable", "spof"],
            title="关键业务风险 Critical business services at risk",
        )
