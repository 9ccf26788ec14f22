"""``ciimap topology|impact|spof|concentration`` and the ``ciimap scenarios`` / ``ciimap rollout`` groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ciimap.core.db import get_database
from ciimap.core.errors import Invalid
from ciimap.core.output import console, print_json, print_table
from ciimap.core.schemas import INT32_MAX, INT32_MIN
from ciimap.graph import command, progress, rollout, service, topology, whatif_report
from ciimap.graph.concentration import concentration as concentration_report
from ciimap.graph.impact import impact as impact_query
from ciimap.graph.schemas import CommandMap, ImpactResult, ScenarioRead, Selector, TopologyGraph
from ciimap.graph.spof import spof_report

top = typer.Typer()
scenarios = typer.Typer(help="Saved what-if scenarios (场景)", no_args_is_help=True)
rollouts = typer.Typer(
    help="Staged update rollouts: rings, soak, health gates (分批升级)", no_args_is_help=True
)
GROUPS = [("", top), ("scenarios", scenarios), ("rollout", rollouts)]
KINDS = "asset, product, product-version (name@version), vendor, site, zone, channel, system, service"


def _selector(text_: str) -> Selector:
    if ":" not in text_:
        raise Invalid(f"'{text_}' is not kind:ref (kinds: {KINDS})")
    kind, ref = text_.split(":", 1)
    try:
        return Selector(kind=kind.strip(), ref=ref.strip())  # type: ignore[arg-type]
    except ValueError:
        raise Invalid(f"'{text_}': unknown kind (kinds: {KINDS})") from None


def _show_impact(res: ImpactResult) -> None:
    console.print(
        f"failed: {res.counts['failed']}  degraded: {res.counts['degraded']}  ({res.elapsed_ms} ms)"
    )
    rows = [
        {
            "status": n.status,
            "type": n.type,
            "name": n.name,
            "CII": "Y" if n.is_cii else "",
            "MLPS": n.mlps_level,
            "criticality": n.criticality,
            "path": n.path_text,
        }
        for n in res.services + res.systems
    ]
    print_table(rows, ["status", "type", "name", "CII", "MLPS", "criticality", "path"], title="影响 Impact")


@top.command("topology")
def topology_cmd(
    site_id: int | None = typer.Option(
        None, "--site", min=INT32_MIN, max=INT32_MAX, help="only this site id"
    ),
    zone_id: int | None = typer.Option(
        None, "--zone", min=INT32_MIN, max=INT32_MAX, help="only this zone id"
    ),
    mlps_level: int | None = typer.Option(None, "--mlps", min=1, max=5, help="only systems of this level"),
    q: str | None = typer.Option(None, "--search", "-q", help="assets or systems matching this text"),
    budget: int = typer.Option(3000, min=1, max=topology.MAX_BUDGET, help="at most this many assets"),
    view: str = typer.Option(
        "assets", "--view", help="assets (every asset up to the budget) or overview (the command map)"
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="list one cluster's assets, most important first (cluster:<system|->:<zone|->)",
    ),
    find: str | None = typer.Option(None, "--find", help="services, systems and assets matching this text"),
    path_between: tuple[str, str] | None = typer.Option(
        None, "--path", help="shortest dependency path between two node ids, e.g. system:3 asset:42"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The security map as nodes and edges (the topology page's data, with its filters)."""
    if view not in ("assets", "overview"):
        raise typer.BadParameter("--view must be assets or overview")
    with get_database().read_session() as db:
        if cluster or find or path_between:
            if cluster:
                out: Any = command.cluster_assets(db, cluster, budget=min(budget, command.MAX_CLUSTER_BUDGET))
                rows = [
                    {
                        "id": n["id"],
                        "label": n["label"],
                        "ip": n.get("ip"),
                        "vuln": n.get("vuln"),
                        "kev": n.get("kev"),
                    }
                    for n in out["nodes"]
                ]
                title = f"{cluster}: {len(rows)} / {out['total']} assets"
            elif find:
                out = command.search(db, find)
                rows, title = out, f"'{find}'"
            else:
                assert path_between is not None
                out = command.path(db, *path_between)
                rows, title = out["nodes"], "path" if out["found"] else "no path"
            if as_json:
                print_json(out)
            else:
                print_table(rows, list(rows[0]) if rows else ["id"], title=title)
            return
        if view == "overview":
            graph = command.overview(db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level)
            if as_json:
                print_json(CommandMap.model_validate(graph).model_dump(mode="json", exclude_unset=True))
                return
            rows = [
                {
                    "system": next(
                        (n["label"] for n in graph["nodes"] if n["id"] == f"system:{c['system']}"), "—"
                    ),
                    "zone": c["label"],
                    "assets": c["count"],
                    "worst": c.get("vuln", ""),
                    "vulnerable": c.get("vulnerable", 0),
                    "KEV": c.get("kev", 0),
                    "missing": c["missing"],
                    "unmanaged": c["unmanaged"],
                    "id": c["id"],
                }
                for c in graph["nodes"]
                if c["type"] == "cluster"
            ]
            print_table(
                rows,
                list(rows[0]) if rows else ["id"],
                title=f"指挥视图 Command map — {graph['assets']} assets",
            )
            return
        graph = topology.build(
            db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, q=q or None, budget=budget
        )
    if as_json:
        print_json(TopologyGraph.model_validate(graph).model_dump(mode="json", exclude_unset=True))
        return
    print_table(
        [{"type": t, "nodes": n} for t, n in sorted(graph["counts"].items())],
        ["type", "nodes"],
        title=f"拓扑 Topology — {len(graph['edges'])} edges",
    )
    if graph["truncated"]:
        console.print(f"more than {budget} assets match: raise --budget or narrow the filter")


@top.command("impact")
def impact(
    kind: str = typer.Argument(..., help=KINDS),
    ref: str = typer.Argument(..., help="id or name"),
    asset_limit: int = typer.Option(100, help="most critical hit assets to list"),
    as_json: bool = typer.Option(False, "--json"),
    export: Path | None = typer.Option(
        None, "--export", help="write the what-if brief to out.xlsx, out.docx or out.pdf"
    ),
    lang: str = typer.Option("zh-CN", "--lang", help="language of the exported brief: zh-CN or en"),
) -> None:
    """What fails and what degrades if this fails (with the dependency path that explains it)."""
    with get_database().read_session() as db:
        if export is not None:
            fmt = export.suffix.lstrip(".").lower()
            data, _name, _media = whatif_report.export(
                db, selectors=[_selector(f"{kind}:{ref}")], fmt=fmt, lang=lang
            )
            export.write_bytes(data)
            console.print(f"wrote {export} ({len(data)} bytes)")
            return
        res = impact_query(db, kind=kind, ref=ref, asset_limit=asset_limit)
    print_json(res.model_dump(mode="json")) if as_json else _show_impact(res)


@top.command("spof")
def spof(
    service_id: int | None = typer.Option(None, "--service", help="one business service id"),
    min_criticality: str = typer.Option("high", help="services at this criticality or above"),
    asset_limit: int = typer.Option(50),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Single points of failure of critical business services."""
    with get_database().read_session() as db:
        out = spof_report(db, service_id=service_id, min_criticality=min_criticality, asset_limit=asset_limit)
    if as_json:
        print_json([o.model_dump(mode="json") for o in out])
        return
    rows = [
        {
            "service": o.service.name,
            "criticality": o.criticality,
            "type": t,
            "spof": ", ".join(str(n.name or n.id) for n in nodes[:10]) + (" …" if len(nodes) > 10 else ""),
            "count": o.counts.get(t, 0),
        }
        for o in out
        for t, nodes in o.spof.items()
    ]
    print_table(rows, ["service", "criticality", "type", "count", "spof"], title="单点故障 SPOF")


@top.command("concentration")
def concentration(
    threshold: list[str] = typer.Option([], "--threshold", "-t", help="name=value (repeatable)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Vendor/product concentration, CII share, privileged auto-update, with findings."""
    overrides = dict(_kv(t) for t in threshold)
    with get_database().read_session() as db:
        rep = concentration_report(db, overrides=overrides)
    if as_json:
        print_json(rep.model_dump(mode="json"))
        return
    print_table(
        [r.model_dump() for r in rep.vendors],
        [
            "name",
            "is_domestic",
            "assets",
            "systems",
            "cii_systems",
            "cii_system_share",
            "critical_services",
            "update_privilege",
        ],
        title="厂商集中度 Vendors",
    )
    print_table(
        [f.model_dump() for f in rep.findings], ["severity", "rule", "message_zh"], title="发现 Findings"
    )


def _kv(pair: str) -> tuple[str, str]:
    if "=" not in pair:
        raise Invalid(f"'{pair}' is not name=value")
    k, v = pair.split("=", 1)
    return k.strip(), v.strip()


@scenarios.command("save")
def save(
    name: str,
    fail: list[str] = typer.Option(..., "--fail", help="kind:ref, repeatable (vendor:CrowdStrike)"),
    description: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a what-if and save it with its result."""
    with get_database().unit_of_work() as db:
        sc = service.save_scenario(
            db, name=name, selectors=[_selector(f) for f in fail], description=description
        )
        data = ScenarioRead.model_validate(sc).model_dump(mode="json")
    print_json(data) if as_json else typer.echo(f"saved scenario {data['id']} '{name}'")


@scenarios.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Saved scenarios."""
    with get_database().read_session() as db:
        rows = [
            ScenarioRead.model_validate(s).model_dump(mode="json", exclude={"result"})
            for s in service.list_scenarios(db)
        ]
    print_json(rows) if as_json else print_table(
        rows, ["id", "name", "selectors", "created_by", "created_at"]
    )


@scenarios.command("show")
def show(
    ref: str,
    rerun: bool = typer.Option(False, help="evaluate against today's map"),
    as_json: bool = typer.Option(True, "--json/--table"),
) -> None:
    """One scenario (its saved result, or re-run now)."""
    with get_database().read_session() as db:
        data: Any = (
            service.rerun_scenario(db, ref).model_dump(mode="json")
            if rerun
            else ScenarioRead.model_validate(service.get_scenario(db, ref)).model_dump(mode="json")
        )
    print_json(data)


@scenarios.command("compare")
def compare(a: str, b: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """What one scenario breaks that the other does not."""
    with get_database().read_session() as db:
        diff = service.compare_scenarios(db, a=a, b=b).model_dump(mode="json")
    if as_json:
        print_json(diff)
        return
    rows = (
        [{**r, "where": f"only {a}"} for r in diff["only_in_a"]]
        + [{**r, "where": f"only {b}"} for r in diff["only_in_b"]]
        + [{**r, "where": f"{r['status_a']} → {r['status_b']}"} for r in diff["changed"]]
    )
    print_table(rows, ["where", "type", "name", "status"], title=f"{a} vs {b}")


@scenarios.command("delete")
def delete(ref: str) -> None:
    """Delete a saved scenario."""
    with get_database().unit_of_work() as db:
        service.delete_scenario(db, ref)
    typer.echo(f"deleted scenario {ref}")


@rollouts.command("plan")
def plan(
    product: str | None = typer.Argument(None, help="product id or name"),
    channel: str | None = typer.Option(None, help="an update channel instead of a product"),
    save_: bool = typer.Option(False, "--save", help="save the plan so it can be started"),
    name: str | None = typer.Option(None),
    version: str | None = typer.Option(None),
    members: bool = typer.Option(False, help="list every host of every ring"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Rings lab → canary → early → broad → critical for a product's (or channel's) update."""
    if save_:
        with get_database().unit_of_work() as db:
            p = progress.create_plan(db, product=product, channel=channel, name=name, version=version)
            data: Any = progress.status(db, plan_id=p.id)
    else:
        with get_database().read_session() as db:
            data = rollout.proposal_data(
                rollout.propose(db, product=product, channel=channel), members=members
            )
    _show_plan(data, as_json)


def _show_plan(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    print_table(
        [{**r, "gates": ", ".join(f"{k}≤{v:g}" for k, v in r["gates"].items())} for r in data["rings"]],
        ["position", "name", "status", "asset_count", "soak_hours", "gates"],
        title=f"rollout {data.get('id', '(preview)')}: {data.get('target') or data.get('name')}",
    )


def _drive(fn: Any, plan_id: int, as_json: bool, *, fail_on_halt: bool = False, **kw: Any) -> None:
    with get_database().unit_of_work() as db:
        fn(db, plan_id=plan_id, **kw)
        data = progress.status(db, plan_id=plan_id)
    _show_plan(data, as_json)
    if data["status"] == "halted":
        typer.echo(f"HALTED: {data['halted_reason']}", err=True)
        if fail_on_halt:  # a tripped health gate is a failed check: scripts feeding metrics must see it
            raise typer.Exit(1)


@rollouts.command("start")
def start(plan_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Start a saved plan (opens its first ring)."""
    _drive(progress.start, plan_id, as_json)


@rollouts.command("health")
def health(
    plan_id: int,
    metric: list[str] = typer.Option(..., "--metric", "-m", help="name=value, e.g. crash_rate=0.002"),
    note: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Report the current ring's health; a value above a gate halts the rollout (and exits 1)."""
    metrics: dict[str, float] = {}
    for k, v in (_kv(m) for m in metric):
        try:
            metrics[k] = float(v)
        except ValueError:
            raise Invalid(f"metric {k}: '{v}' is not a number") from None
    _drive(progress.report_health, plan_id, as_json, fail_on_halt=True, metrics=metrics, note=note)


@rollouts.command("advance")
def advance(
    plan_id: int,
    force: bool = typer.Option(False, help="override soak time / missing reports (audited)"),
    note: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Close the current ring after its soak time and gates, open the next."""
    _drive(progress.advance, plan_id, as_json, force=force, note=note)


@rollouts.command("halt")
def halt(
    plan_id: int, reason: str = typer.Option(..., help="why"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Stop a rollout."""
    _drive(progress.halt, plan_id, as_json, reason=reason)


@rollouts.command("status")
def status(plan_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Rings, progress and event log of a rollout."""
    with get_database().read_session() as db:
        data = progress.status(db, plan_id=plan_id)
    _show_plan(data, as_json)


@rollouts.command("list")
def list_plans(as_json: bool = typer.Option(False, "--json")) -> None:
    """Saved rollouts."""
    with get_database().read_session() as db:
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "status": p.status,
                "current_ring": p.current_ring,
                "halted_reason": p.halted_reason,
            }
            for p in progress.list_plans(db)
        ]
    print_json(rows) if as_json else print_table(
        rows, ["id", "name", "status", "current_ring", "halted_reason"]
    )
