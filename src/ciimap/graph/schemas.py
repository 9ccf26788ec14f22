"""Results and inputs of the graph domain (what-if impact, SPOF, concentration, scenarios, rollouts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ciimap.core.schemas import ReadSchema, Schema, UtcDateTime
from ciimap.datagov.models import HolderType
from ciimap.datagov.schemas import AtRisk
from ciimap.inventory.models import Criticality

SelectorKind = Literal[
    "asset", "product", "product-version", "vendor", "site", "zone", "channel", "system", "service"
]


class Selector(Schema):
    """What fails: ``kind`` and an id or a name (``name@version`` for product-version)."""

    kind: SelectorKind
    ref: str = Field(min_length=1, max_length=300)


class NodeRef(BaseModel):
    type: str
    id: int | str
    name: str | None = None


class ImpactNode(BaseModel):
    type: str
    id: int
    name: str | None
    status: Literal["failed", "degraded"]
    is_cii: bool = False
    mlps_level: int | None = None
    criticality: str | None = None
    reason: str
    path: list[NodeRef]
    path_text: str


class ImpactResult(BaseModel):
    selectors: list[Selector]
    seeds: int
    counts: dict[str, dict[str, int]]  # {"failed": {"asset": 3, ...}, "degraded": {...}}
    services: list[ImpactNode]
    systems: list[ImpactNode]
    assets: list[ImpactNode]  # the most critical failed/degraded assets, up to ``asset_limit``
    assets_total: int
    #: Data resources (datagov) held or processed by what fails or degrades, highest level first (≤ 100).
    data_at_risk: list[AtRisk] = []
    data_at_risk_total: int = 0
    map_version: str
    elapsed_ms: float


class ServiceSpof(BaseModel):
    service: NodeRef
    criticality: str
    counts: dict[str, int]
    spof: dict[str, list[NodeRef]]  # by node type; assets truncated to ``asset_limit``


class ConcentrationRow(BaseModel):
    type: Literal["vendor", "product"]
    id: int
    name: str
    vendor: str | None = None
    is_domestic: bool | None = None
    assets: int
    systems: int
    cii_systems: int
    cii_system_share: float
    cii_hosts: int
    cii_host_share: float
    critical_services: int
    systems_failed: int  # of ``systems``: those that would fail (not just degrade) if this failed
    cii_systems_failed: int
    critical_services_failed: int
    auto_update: bool
    update_privilege: str
    update_channel: str | None = None


class Finding(BaseModel):
    severity: Criticality
    rule: str
    type: str
    id: int
    name: str
    message: str
    message_zh: str
    value: float
    threshold: float


class ConcentrationReport(BaseModel):
    thresholds: dict[str, float]
    totals: dict[str, int]
    vendors: list[ConcentrationRow]
    products: list[ConcentrationRow]
    findings: list[Finding]


class ScenarioCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    selectors: list[Selector] = Field(min_length=1)


class ScenarioRead(ReadSchema):
    id: int
    name: str
    description: str | None
    selectors: list[Any]
    map_version: str | None
    created_by: str
    created_at: UtcDateTime
    result: dict[str, Any] | None = None


class ScenarioDiff(BaseModel):
    a: str
    b: str
    only_in_a: list[dict[str, Any]]
    only_in_b: list[dict[str, Any]]
    changed: list[dict[str, Any]]  # same node, different status
    counts_a: dict[str, dict[str, int]]
    counts_b: dict[str, dict[str, int]]


class RolloutPlanCreate(Schema):
    product: str | None = None
    channel: str | None = None
    name: str | None = None
    version: str | None = None
    soak_hours: dict[str, float] | None = None
    gates: dict[str, dict[str, float]] | None = None


class HealthReport(Schema):
    metrics: dict[str, float] = Field(min_length=1)
    note: str | None = None


class HaltRequest(Schema):
    reason: str = Field(min_length=1, max_length=500)


class AdvanceRequest(Schema):
    force: bool = False
    note: str | None = None


TopologyNodeType = Literal["business_service", "system", "asset", "product", "vendor"]


class TopologyNode(BaseModel):
    """A node of the topology map. Besides these fields it carries its type's attributes: assets
    ``kind, ip, site, zone, system, missing, unmanaged, criticality, foreign``; systems ``mlps, cii,
    criticality``; services ``criticality``; products ``layer, foreign, auto_update, vendor``; vendors
    ``country, foreign``. ``x``/``y`` (preset layout) only in the overview, not in neighbours."""

    model_config = ConfigDict(extra="allow")

    id: str  # "<type>:<ref>"
    type: TopologyNodeType
    ref: int
    label: str
    x: float | None = None
    y: float | None = None


class TopologyEdge(BaseModel):
    id: str
    source: str
    target: str
    kind: str
    group: str | None = None  # redundancy group: edges leaving one node in one group are alternatives


class TopologyNeighbours(BaseModel):
    nodes: list[TopologyNode]
    edges: list[TopologyEdge]


class TopologyGraph(TopologyNeighbours):
    truncated: bool  # more assets matched than the budget
    counts: dict[str, int]  # nodes per type


class CommandNode(BaseModel):
    """A node of the command map (the topology page's default, aggregate view). Clusters
    (``type`` cluster, ``id`` cluster:<system id or ->:<zone id or ->) carry ``system, zone, count,
    missing, unmanaged, vulnerable, p1, kev`` (asset counts), ``foreign`` (true when one of its assets
    runs a foreign product) and ``vuln`` (worst active finding priority);
    systems ``assets`` and ``vuln``; hot assets (the riskiest, drawn individually) ``hot, vuln, kev``."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: Literal["business_service", "system", "cluster", "asset"]
    ref: int | None
    label: str
    x: float | None = None
    y: float | None = None


class CommandMap(BaseModel):
    nodes: list[CommandNode]
    edges: list[TopologyEdge]
    truncated: bool
    counts: dict[str, int]
    assets: int  # assets in the filter (all of them are counted in the clusters)


class ClusterAssets(BaseModel):
    cluster: str
    nodes: list[CommandNode]
    edges: list[TopologyEdge]
    truncated: bool  # more assets in the cluster than the budget
    total: int


class CommandHit(BaseModel):
    id: str
    type: HolderType  # business service, system or asset
    ref: int
    label: str
    ip: str | None = None
    cluster: str | None  # the overview node an asset sits in


class CommandPathNode(BaseModel):
    id: str
    type: str
    label: str
    cluster: str | None  # an asset's cluster on the overview


class CommandPath(BaseModel):
    path: list[str]  # node ids from the first node to the second
    nodes: list[CommandPathNode]
    found: bool
