"""``ciimap demo``: load the synthetic city-metro operator into an empty map (thin: parse, call, render)."""

from __future__ import annotations

from typing import Any

import typer

from ciimap.core.db import get_database
from ciimap.core.migrate import upgrade
from ciimap.core.output import console, print_json, print_table, with_progress
from ciimap.demo import service

app = typer.Typer()
GROUPS = [("", app)]


def _with_progress(run: Any, quiet: bool) -> dict[str, Any]:
    return run(None) if quiet else with_progress(run, title="生成演示数据 / generating")


@app.command("demo")
def demo(
    scale: int | None = typer.Option(
        None, "--scale", help="number of assets (default 5,000; up to 2,000,000)"
    ),
    seed: int = typer.Option(42, "--seed", help="same seed, same operator"),
    reset: bool = typer.Option(
        False, "--reset", help="delete the existing map (and data referring to it) first"
    ),
    no_alerts: bool = typer.Option(
        False, "--no-alerts", help="without the alert history, the staged attack and its incident (faster)"
    ),
    no_history: bool = typer.Option(
        False, "--no-history", help="without the month of scan runs and change events"
    ),
    no_advisories: bool = typer.Option(
        False, "--no-advisories", help="without the bundled advisory slice (no findings)"
    ),
    no_governance: bool = typer.Option(
        False, "--no-governance", help="without the MLPS gradings, assessments and data grades"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable summary"),
) -> None:
    """Load a realistic synthetic CII operator (某市轨道交通集团) into an empty map."""
    upgrade()

    def run(progress: Any) -> dict[str, Any]:
        with service.bulk_mode(get_database()), get_database().unit_of_work() as session:
            return service.load(
                session,
                scale=scale,
                seed=seed,
                reset=reset,
                progress=progress,
                alerts=not no_alerts,
                history=not no_history,
                advisories=not no_advisories,
                governance=not no_governance,
            )

    result = _with_progress(run, as_json)
    service.after_commit(get_database())
    if as_json:
        print_json(result)
        return
    console.print(
        f"[green]loaded[/green] {result['organization']} (seed {result['seed']}, "
        f"{result['scale']:,} assets) in {result['seconds']} s on {result['backend']}"
    )
    if result.get("history"):
        h = result["history"]
        console.print(
            f"scan history: {h['runs']:,} runs, {h['events']:,} change events over {h['days']} days"
        )
    if result.get("advisories"):
        v = result["advisories"]
        console.print(f"findings: {v['findings']:,} ({v['kev_findings']:,} in KEV)")
    if result.get("governance"):
        g = result["governance"]
        console.print(
            f"compliance: {g['gradings']} gradings, {len(g['assessments'])} assessments, "
            f"{g['rectifications']} rectifications; {g['data_resources']} graded data resources"
        )
    if result.get("alerts"):
        a = result["alerts"]
        console.print(f"alert history: {a['events']:,} alerts; warnings: {', '.join(a['warnings'])}")
    if result.get("incident"):
        i = result["incident"]
        console.print(f"incident {i['incident_id']} ({i['grade']}), deadlines: {', '.join(i['deadlines'])}")
    if result["replaced"]:
        console.print("replaced: " + ", ".join(f"{k} {v:,}" for k, v in result["replaced"].items()))
    print_table(
        [
            {"table": k, "rows": f"{v:,}", "sha256": result["digests"][k][:16]}
            for k, v in result["counts"].items()
        ],
        ["table", "rows", "sha256"],
    )
