"""Graph REST routes under /api/graph: topology, what-if impact, SPOF, concentration, scenarios, rollouts.

Queries need Reader; saving scenarios and driving rollouts need Writer.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32, Text, as_utc
from ciimap.graph import command, progress, rollout, service, topology, whatif_report
from ciimap.graph.concentration import concentration
from ciimap.graph.impact import impact, impact_many
from ciimap.graph.schemas import (
    AdvanceRequest,
    ClusterAssets,
    CommandHit,
    CommandMap,
    CommandPath,
    ConcentrationReport,
    HaltRequest,
    HealthReport,
    ImpactResult,
    RolloutPlanCreate,
    ScenarioCreate,
    ScenarioDiff,
    ScenarioRead,
    Selector,
    ServiceSpof,
    TopologyGraph,
    TopologyNeighbours,
)
from ciimap.graph.spof import spof_report

router = APIRouter(prefix="/graph", tags=["Impact and rollouts"])


@router.get("/topology", response_model=TopologyGraph, response_model_exclude_unset=True)
def get_topology(
    db: DbSession,
    principal: Reader,
    site_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    mlps_level: int | None = Query(None, ge=1, le=5),
    q: Text | None = None,
    budget: int = Query(3000, ge=1, le=topology.MAX_BUDGET),
) -> Any:
    """The security map for a filter (the topology page's data, without overlays): at most ``budget``
    assets with their systems, services, products and vendors, positioned by the layered layout."""
    return topology.build(
        db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, q=q or None, budget=budget
    )


@router.get("/topology/overview", response_model=CommandMap, response_model_exclude_unset=True)
def get_topology_overview(
    db: DbSession,
    principal: Reader,
    site_id: Int32 | None = None,
    zone_id: Int32 | None = None,
    mlps_level: int | None = Query(None, ge=1, le=5),
    hot: int = Query(command.HOT, ge=0, le=500),
) -> Any:
    """The command map (the topology page's default view, without overlays): business services →
    systems → clusters of assets per (system, zone) with counts and worst vulnerability priority, and
    the ``hot`` riskiest assets, positioned."""
    return command.overview(db, site_id=site_id, zone_id=zone_id, mlps_level=mlps_level, hot=hot)


@router.get(
    "/topology/cluster", response_model=ClusterAssets, response_model_exclude_unset=True, responses=NOT_FOUND
)
def get_topology_cluster(
    db: DbSession,
    principal: Reader,
    id: Text,  # noqa: A002
    budget: int = Query(command.CLUSTER_BUDGET, ge=1, le=command.MAX_CLUSTER_BUDGET),
    include: Int32 | None = None,
) -> Any:
    """The assets of one cluster (``id`` cluster:<system id or ->:<zone id or ->), most important first."""
    return command.cluster_assets(db, id, budget=budget, include=include)


@router.get("/topology/search", response_model=list[CommandHit])
def get_topology_search(
    db: DbSession, principal: Reader, q: Text, limit: int = Query(20, ge=1, le=200)
) -> Any:
    """Services, systems and assets matching ``q``, each with the cluster it sits in on the overview."""
    return command.search(db, q, limit=limit)


@router.get("/topology/path", response_model=CommandPath, responses=NOT_FOUND)
def get_topology_path(db: DbSession, principal: Reader, src: Text, dst: Text) -> Any:
    """Shortest dependency path between two nodes (ids as on the map: system:3, asset:42, cluster:3:7)."""
    return command.path(db, src, dst)


@router.get("/topology/neighbours", response_model=TopologyNeighbours, response_model_exclude_unset=True)
def get_topology_neighbours(db: DbSession, principal: Reader, type: str, id: Int32) -> Any:  # noqa: A002
    """Direct neighbours of one node (``type`` asset, system, business_service, ...), unpositioned."""
    return topology.neighbours(db, kind=type, ref=id)


@router.get("/impact", response_model=ImpactResult, responses=NOT_FOUND)
def get_impact_many(
    db: DbSession,
    principal: Reader,
    fail: list[str] = Query(..., description="kind:ref, repeatable (vendor:CrowdStrike)"),
    asset_limit: int = Query(100, ge=0, le=5000),
) -> Any:
    """Several things failing at once (names may contain '/'; use this form for them)."""
    return impact_many(db, selectors=_selectors(fail), asset_limit=asset_limit)


def _selectors(fail: list[str]) -> list[Selector]:
    sels = []
    for f in fail:
        kind, _sep, ref = f.partition(":")
        try:
            sels.append(Selector(kind=kind.strip(), ref=ref.strip()))  # type: ignore[arg-type]
        except ValueError:
            raise Invalid(f"'{f}' is not kind:ref with a known kind") from None
    return sels


@router.get(
    "/impact/export",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {
            "description": "The what-if brief (Content-Disposition names it, RFC 5987 for Chinese names)",
            "content": {"application/pdf": {}},
        },
    },
    summary="The what-if result as XLSX, DOCX or PDF (emergency plans and drills)",
)
def export_impact(
    db: DbSession,
    principal: Reader,
    fail: list[str] = Query(..., description="kind:ref, repeatable (vendor:CrowdStrike)"),
    fmt: Literal["xlsx", "docx", "pdf"] = "xlsx",
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> Response:
    data, name, media = whatif_report.export(db, selectors=_selectors(fail), fmt=fmt, lang=lang)
    disposition = f"attachment; filename=\"what-if.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=data, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/impact/{kind}/{ref}", response_model=ImpactResult)
def get_impact(
    kind: str, ref: str, db: DbSession, principal: Reader, asset_limit: int = Query(100, ge=0, le=5000)
) -> Any:
    return impact(db, kind=kind, ref=ref, asset_limit=asset_limit)


@router.get("/spof", response_model=list[ServiceSpof], responses=NOT_FOUND)
def get_spof(
    db: DbSession,
    principal: Reader,
    service_id: Int32 | None = None,
    min_criticality: str = "high",
    asset_limit: int = Query(50, ge=0, le=5000),
) -> Any:
    return spof_report(db, service_id=service_id, min_criticality=min_criticality, asset_limit=asset_limit)


@router.get("/concentration", response_model=ConcentrationReport)
def get_concentration(
    db: DbSession,
    principal: Reader,
    thresholds: str | None = Query(None, description='JSON object, e.g. {"cii_system_share_high": 0.4}'),
) -> Any:
    try:
        overrides = json.loads(thresholds) if thresholds else None
    except json.JSONDecodeError:
        raise Invalid("thresholds must be a JSON object") from None
    if overrides is not None and not isinstance(overrides, dict):
        raise Invalid("thresholds must be a JSON object")
    return concentration(db, overrides=overrides)


@router.get("/scenarios", response_model=list[ScenarioRead])
def list_scenarios(db: DbSession, principal: Reader) -> Any:
    return [
        ScenarioRead.model_validate(s).model_copy(update={"result": None}) for s in service.list_scenarios(db)
    ]


@router.post("/scenarios", response_model=ScenarioRead, status_code=201, responses=NOT_FOUND)
def save_scenario(data: ScenarioCreate, db: DbSession, principal: Writer) -> Any:
    return service.save_scenario(db, name=data.name, selectors=data.selectors, description=data.description)


@router.get("/scenarios/compare", response_model=ScenarioDiff, responses=NOT_FOUND)
def compare(a: str, b: str, db: DbSession, principal: Reader) -> Any:
    return service.compare_scenarios(db, a=a, b=b)


@router.get("/scenarios/{ref}", response_model=ScenarioRead)
def get_scenario(ref: str, db: DbSession, principal: Reader) -> Any:
    return service.get_scenario(db, ref)


@router.get("/scenarios/{ref}/rerun", response_model=ImpactResult)
def rerun(ref: str, db: DbSession, principal: Reader) -> Any:
    return service.rerun_scenario(db, ref)


@router.delete("/scenarios/{ref}", status_code=204)
def delete_scenario(ref: str, db: DbSession, principal: Writer) -> Response:
    service.delete_scenario(db, ref)
    return Response(status_code=204)


@router.get("/rollouts/preview", responses=NOT_FOUND)
def preview(
    db: DbSession,
    principal: Reader,
    product: str | None = None,
    channel: str | None = None,
    members: bool = False,
) -> Any:
    return rollout.proposal_data(rollout.propose(db, product=product, channel=channel), members=members)


@router.get("/rollouts")
def list_rollouts(db: DbSession, principal: Reader) -> Any:
    return [
        {
            "id": p.id,
            "name": p.name,
            "status": p.status,
            "current_ring": p.current_ring,
            "created_at": as_utc(p.created_at),
            "halted_reason": p.halted_reason,
        }
        for p in progress.list_plans(db)
    ]


@router.post("/rollouts", status_code=201, responses=NOT_FOUND)
def create_rollout(data: RolloutPlanCreate, db: DbSession, principal: Writer) -> Any:
    plan = progress.create_plan(db, **data.model_dump())
    return progress.status(db, plan_id=plan.id)


@router.get("/rollouts/{plan_id}")
def rollout_status(plan_id: Int32, db: DbSession, principal: Reader) -> Any:
    return progress.status(db, plan_id=plan_id)


@router.post("/rollouts/{plan_id}/start")
def start(plan_id: Int32, db: DbSession, principal: Writer) -> Any:
    progress.start(db, plan_id=plan_id)
    return progress.status(db, plan_id=plan_id)


@router.post("/rollouts/{plan_id}/health")
def health(plan_id: Int32, data: HealthReport, db: DbSession, principal: Writer) -> Any:
    progress.report_health(db, plan_id=plan_id, metrics=data.metrics, note=data.note)
    return progress.status(db, plan_id=plan_id)


@router.post("/rollouts/{plan_id}/advance")
def advance(plan_id: Int32, data: AdvanceRequest, db: DbSession, principal: Writer) -> Any:
    progress.advance(db, plan_id=plan_id, force=data.force, note=data.note)
    return progress.status(db, plan_id=plan_id)


@router.post("/rollouts/{plan_id}/halt")
def halt(plan_id: Int32, data: HaltRequest, db: DbSession, principal: Writer) -> Any:
    progress.halt(db, plan_id=plan_id, reason=data.reason)
    return progress.status(db, plan_id=plan_id)
