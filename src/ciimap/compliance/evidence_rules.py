"""The rules behind evidence from the map: their settings (a data file) and one set-based pass each.

Each rule reads the map for **every system at once** — a fixed number of grouped statements whatever
the number of systems or assets — and returns, per system id, an :class:`Outcome`: a proposed result
(``pass`` 符合, ``partial`` 部分符合, ``fail`` 不符合, ``no_evidence``), a one-line explanation in
Chinese and English, counts, and the records that decided it (capped at ``record_limit``; the counts
are complete). Nothing is written. The decision tables are in docs/compliance-evidence.md.

Settings are data (``evidence_rules.yaml`` in the package, replaced by ``<data_dir>/evidence-rules.yaml``):
the item keys each rule speaks to, the management ports, the clear-text services, the endpoint-protection
product names, the thresholds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import and_, case, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ciimap.compliance.catalogs import load_catalog, yamlio
from ciimap.config import get_settings
from ciimap.core.db import chunks
from ciimap.core.entity import format_validation_error
from ciimap.core.errors import InputFileError, NotFound
from ciimap.crypto import models as crypto_models
from ciimap.crypto import overview as crypto_overview
from ciimap.crypto import service as crypto_service
from ciimap.graph.build import map_version
from ciimap.graph.propagate import path, propagate
from ciimap.graph.spof import killer_sets
from ciimap.graph.structure import Graph
from ciimap.ingest.models import ScopeState
from ciimap.inventory import models as inv
from ciimap.supply import foreign
from ciimap.supply.models import VendorProfile
from ciimap.vulns.models import PRIORITIES, Advisory, Finding

#: A proposal's result: the three assessment results a map can back, or nothing to go on.
Proposed = Literal["pass", "partial", "fail", "no_evidence"]
PROPOSED: tuple[str, ...] = get_args(Proposed)
PROPOSED_ZH = {"pass": "符合", "partial": "部分符合", "fail": "不符合", "no_evidence": "无证据"}
RuleCode = Literal[
    "asset_register",
    "overdue_vulns",
    "management_ports",
    "cleartext",
    "redundancy",
    "endpoint_protection",
    "supply_chain",
    "cryptography",
]
RULE_CODES: tuple[str, ...] = get_args(RuleCode)
#: code -> (中文, English) title
TITLES: dict[str, tuple[str, str]] = {
    "asset_register": ("资产清单与扫描覆盖", "asset register against scan coverage"),
    "overdue_vulns": ("逾期未修复的P1/P2漏洞", "overdue P1/P2 vulnerability findings"),
    "management_ports": ("互联网区域开放的管理端口", "management ports open in internet-facing zones"),
    "cleartext": ("明文协议服务", "clear-text services"),
    "redundancy": ("关基系统的冗余与单点故障", "redundancy and single points of failure of CII systems"),
    "endpoint_protection": ("终端防恶意代码覆盖", "endpoint anti-malware coverage"),
    "supply_chain": (
        "供应链登记、国外产品与特权自动更新",
        "supplier register, foreign products, privileged auto-update",
    ),
    "cryptography": (
        "密码应用（国密算法、弱配置、证书、密评）",
        "cryptography (GM algorithms, weak settings, certificates, 密评)",
    ),
}
BUILTIN = Path(__file__).with_name("evidence_rules.yaml")
FORMAT = "ciimap-evidence-rules/1"
#: Finding triage states that still need work (the others are closed: not affected, fixed, accepted).
OPEN_STATUSES = ("new", "confirmed")


# --- settings ---------------------------------------------------------------------------------


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[str]


class AssetRegisterRule(_Rule):
    fail_share: float = Field(0.1, ge=0, le=1)


class OverdueRule(_Rule):
    fail_priorities: list[str]
    partial_priorities: list[str]

    @field_validator("fail_priorities", "partial_priorities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if p not in PRIORITIES]
        if bad:
            raise ValueError(f"unknown priority {bad[0]!r} (one of {', '.join(PRIORITIES)})")
        return v


class PortSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int = Field(ge=1, le=65535)
    service: str


class PortsRule(_Rule):
    ports: list[PortSpec] = Field(min_length=1)


class CleartextRule(_Rule):
    fail_services: list[str]
    http_services: list[str]
    tls_ports: list[int]


class EndpointRule(_Rule):
    kinds: list[inv.AssetKind] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1)


class SupplyRule(_Rule):
    privileged_updates: list[inv.Privilege]


class CryptoRule(_Rule):
    #: crypto flag codes (crypto/rules.yaml) that make 不符合; any other flag makes 部分符合
    fail_flags: list[str]


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset_register: AssetRegisterRule
    overdue_vulns: OverdueRule
    management_ports: PortsRule
    cleartext: CleartextRule
    redundancy: _Rule
    endpoint_protection: EndpointRule
    supply_chain: SupplyRule
    cryptography: CryptoRule


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["ciimap-evidence-rules/1"]
    version: int
    record_limit: int = Field(50, ge=1, le=10_000)
    rules: Rules


@dataclass(frozen=True)
class Settings:
    data: RulesFile
    source: str  # "built-in" or the path of the file that replaced it
    stamp: str  # changes when the file does (part of the cache key)


_loaded: dict[tuple[str, int, int], Settings] = {}


def user_file() -> Path:
    return get_settings().data_dir / "evidence-rules.yaml"


def load_settings() -> Settings:
    """The rules in force: ``<data_dir>/evidence-rules.yaml`` when present, else the built-in file.

    A bad file is one :class:`InputFileError` naming the file and the field; read again when it changes.
    """
    own = user_file()
    file = own if own.is_file() else BUILTIN
    name = str(file)
    st = file.stat()
    key = (name, st.st_mtime_ns, st.st_size)
    if key in _loaded:
        return _loaded[key]
    raw = yamlio.read_file(file, max_bytes=1 << 20)
    try:
        data = RulesFile.model_validate(raw)
    except ValidationError as e:
        raise InputFileError(name, format_validation_error(e)) from None
    for code in RULE_CODES:
        for i, k in enumerate(getattr(data.rules, code).items):
            _check_key(name, f"rules.{code}.items.{i}", k)
    out = Settings(
        data=data, source="built-in" if file == BUILTIN else name, stamp=f"{name}:{key[1]}:{key[2]}"
    )
    _loaded[key] = out
    return out


def _check_key(name: str, where: str, key: str) -> None:
    cat_id, sep, _ref = key.partition(":")
    if not sep:
        raise InputFileError(name, f"not an item key (catalog:reference): {key!r}", position=where)
    try:
        cat = load_catalog(cat_id)
    except NotFound as e:
        raise InputFileError(name, str(e), position=where) from None
    try:
        cat.item(key)
    except KeyError:
        raise InputFileError(name, f"catalog {cat_id} has no item with key {key}", position=where) from None


# --- outcomes ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one rule proposes for one system."""

    result: str
    zh: str
    en: str
    counts: dict[str, int] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, limit: int) -> dict[str, Any]:
        return {
            "result": self.result,
            "result_zh": PROPOSED_ZH[self.result],
            "explanation_zh": self.zh,
            "explanation_en": self.en,
            "counts": self.counts,
            "records": self.records[:limit],
            "records_total": len(self.records),
        }


#: What a record can show: message keys ``cmp.why.<reason>`` of the web catalogs (zh-CN, en), rendered
#: with the record's ``params`` by the API, CLI and pages (:func:`ciimap.compliance.evidence.with_reasons`).
REASONS: tuple[str, ...] = (
    "unmanaged",
    "missing",
    "never_observed",
    "finding_overdue",
    "management_port",
    "internet_zone",
    "cleartext_login",
    "plain_http",
    "spof",
    "redundancy_group",
    "no_agent",
    "no_inventory",
    "vendor_unregistered",
    "review_failed",
    "review_required",
    "review_pending",
    "remote_without_nda",
    "foreign_privileged_update",
    "privileged_update",
    "foreign_product",
    "vendor_registered",
    "crypto_flag",
    "no_gm",
    "mipping_failed",
)


def rec(
    type_: str,
    id_: int | str,
    label: str | None,
    reason: str,
    params: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One record behind a proposal: its type and id (for a link), label, and what it showed as a reason
    code (one of :data:`REASONS`) with its parameters: no language in the data."""
    assert reason in REASONS, reason
    return {
        "type": type_,
        "id": id_,
        "label": label or f"{type_} {id_}",
        "reason": reason,
        "params": params or {},
        **extra,
    }


@dataclass
class Ctx:
    """What every rule needs: the session, the settings, today, the systems (id -> is_cii), and the
    figures several rules share (computed once, on first use)."""

    session: Session
    settings: RulesFile
    today: dt.date
    systems: dict[int, bool]
    limit: int
    memo: dict[str, Any] = field(default_factory=dict)

    def internet_zones(self) -> dict[int, str]:
        """Internet-facing zones (id -> name): a small table."""
        if "zones" not in self.memo:
            z = inv.NetworkZone
            rows = self.session.execute(select(z.id, z.name).where(z.internet_facing.is_(True)))
            self.memo["zones"] = {int(i): str(n) for i, n in rows}
        return cast(dict[int, str], self.memo["zones"])

    def assets(self) -> dict[int, dict[str, int]]:
        """One grouped pass over the live assets of every system: how many, how many of the
        endpoint-protection kinds, how many in internet-facing zones."""
        if "assets" not in self.memo:
            a = inv.Asset
            zones = sorted(self.internet_zones())
            kinds = self.settings.rules.endpoint_protection.kinds
            # grouped by ``system_id + 0``: SQLite then reads the table in order (3x faster than walking
            # the system_id index and fetching each row); the same plan on PostgreSQL
            sys_key = a.system_id + literal_column("0")
            stmt = (
                select(
                    sys_key,
                    func.count(),
                    _sum(a.kind.in_(kinds)),
                    _sum(a.zone_id.in_(zones)) if zones else func.sum(0),
                )
                .where(func.coalesce(a.system_id, 0) != 0, a.lifecycle_status != "retired")
                .group_by(sys_key)
            )
            self.memo["assets"] = {
                int(sid): {"assets": int(n), "scoped": int(k or 0), "internet": int(z or 0)}
                for sid, n, k, z in self.session.execute(stmt)
            }
        return cast(dict[int, dict[str, int]], self.memo["assets"])

    def asset_count(self, sid: int, what: str = "assets") -> int:
        return self.assets().get(sid, {}).get(what, 0)

    def scanned(self) -> set[int]:
        """Systems with an open port on a live asset: one statement, an EXISTS per system that stops at
        the first such port (indexes on asset.system_id and service_endpoint.asset_id)."""
        if "scanned" not in self.memo:
            sy, a, e = inv.System, inv.Asset, inv.ServiceEndpoint
            has = (
                exists()
                .where(
                    a.system_id == sy.id,
                    a.lifecycle_status != "retired",
                    e.asset_id == a.id,
                    e.state == "open",
                )
                .correlate(sy)
            )
            self.memo["scanned"] = {int(i) for i in self.session.scalars(select(sy.id).where(has))}
        return cast(set[int], self.memo["scanned"])


Per = dict[int, list[Any]]


def _per_system(rows: Iterable[Any], limit: int, key: Any = None) -> tuple[Per, dict[int, int]]:
    """Rows (system id first, then the record's id) grouped by system: the first ``limit`` by id, and
    how many there are. Matching rows are fetched once and counted here, so a rule reads the table once
    instead of once to count and once to list."""
    every: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        every[int(r[0])].append(r)
    out: Per = {}
    counts: dict[int, int] = {}
    for sid, rs in every.items():
        rs.sort(key=key or (lambda r: r[1]))
        out[sid], counts[sid] = rs[:limit], len(rs)
    return out, counts


def _counts(ctx: Ctx, stmt: Any) -> dict[int, int]:
    return {int(s): int(n) for s, n in ctx.session.execute(stmt) if s is not None}


def _live_assets() -> Any:
    a = inv.Asset
    return and_(a.system_id.is_not(None), a.lifecycle_status != "retired")


def _asset_names(ctx: Ctx, ids: Iterable[int]) -> dict[int, str]:
    """Names of a few assets (the records listed), by primary key in batches."""
    out: dict[int, str] = {}
    for part in chunks(sorted(set(ids))):
        out.update(
            (int(k), str(v))
            for k, v in ctx.session.execute(
                select(inv.Asset.id, inv.Asset.name).where(inv.Asset.id.in_(part))
            )
        )
    return out


def _sum(cond: Any) -> Any:
    """How many rows of a group meet ``cond`` (a boolean SQL expression; both databases)."""
    return func.sum(case((cond, 1), else_=0))


# --- 1. asset register against scan coverage -------------------------------------------------------


def asset_register(ctx: Ctx) -> dict[int, Outcome]:
    """Unmanaged (observed, not declared), missing (no longer seen by a scope that saw them) and never
    observed (declared only) assets of each system, against its assets and how many scans saw.

    One pass over the live assets returns the undeclared, missing and unobserved ones (a probe of the
    scope_state index each); they are classified and counted here (ingest/changes.py's definitions)."""
    a, seen = inv.Asset, exists().where(ScopeState.asset_id == inv.Asset.id)
    rule = ctx.settings.rules.asset_register
    any_scan = ctx.session.scalar(select(ScopeState.id).limit(1)) is not None
    flagged: list[tuple[int, int, str, str]] = []
    unseen: dict[int, int] = defaultdict(int)
    if any_scan:
        stmt = select(a.system_id, a.id, a.name, a.declared, a.lifecycle_status, seen.label("seen")).where(
            _live_assets(), or_(a.declared.is_(False), a.lifecycle_status == "missing", ~seen)
        )
        for row in ctx.session.execute(stmt):
            sid, aid, name, declared, life, was_seen = cast(tuple[int, int, str, bool, str, bool], tuple(row))
            if not was_seen:
                unseen[int(sid)] += 1
            if life == "missing":
                flagged.append((int(sid), int(aid), name, "missing"))
            elif not declared and was_seen:
                flagged.append((int(sid), int(aid), name, "unmanaged"))
            elif declared and not was_seen:
                flagged.append((int(sid), int(aid), name, "never_observed"))
    rows, _n = _per_system(flagged, ctx.limit)
    kinds: dict[tuple[int, str], int] = defaultdict(int)
    for sid, _aid, _name, why in flagged:
        kinds[(sid, why)] += 1
    out: dict[int, Outcome] = {}
    for sid in ctx.systems:
        n = ctx.asset_count(sid)
        obs = n - unseen.get(sid, 0) if any_scan else 0
        c = {
            "assets": n,
            "observed": obs,
            **{k: kinds.get((sid, k), 0) for k in ("unmanaged", "missing", "never_observed")},
        }
        recs = [rec("asset", aid, name, why) for _sid, aid, name, why in rows.get(sid, [])]
        if n == 0 or obs == 0:
            out[sid] = Outcome(
                "no_evidence",
                "系统没有资产或其资产从未被扫描/代理观测到，无法核对资产清单",
                "the system has no assets, or none was ever seen by a scan or agent: the register cannot be checked",
                c,
                recs,
            )
            continue
        worse = c["unmanaged"] + c["missing"]
        if worse and worse / n >= rule.fail_share:
            result = "fail"
        elif worse or c["never_observed"]:
            result = "partial"
        else:
            result = "pass"
        if result == "pass":
            out[sid] = Outcome(
                "pass",
                f"资产清单与扫描结果一致：{n}台资产均已登记且无失联（已观测{obs}台）",
                f"the register matches the scans: all {n} assets declared, none missing ({obs} observed)",
                c,
                recs,
            )
        else:
            detail_zh = (
                f"未登记{c['unmanaged']}台、失联{c['missing']}台、登记但从未观测{c['never_observed']}台"
                f"（共{n}台，已观测{obs}台）"
            )
            detail_en = (
                f"{c['unmanaged']} unmanaged, {c['missing']} missing, {c['never_observed']} declared but never "
                f"observed (of {n} assets, {obs} observed)"
            )
            out[sid] = Outcome(
                result,
                f"资产清单与扫描不一致：{detail_zh}",
                f"register and scans disagree: {detail_en}",
                c,
                recs,
            )
    return out


# --- 2. overdue P1/P2 findings -------------------------------------------------------------------------


def overdue_vulns(ctx: Ctx) -> dict[int, Outcome]:
    """Active findings still open (new/confirmed) whose due date has passed, by priority."""
    rule = ctx.settings.rules.overdue_vulns
    f = Finding
    prios = sorted(set(rule.fail_priorities) | set(rule.partial_priorities), key=PRIORITIES.index)
    overdue = and_(
        f.system_id.is_not(None),
        f.active.is_(True),
        f.status.in_(OPEN_STATUSES),
        f.priority.in_(prios),
        f.due_date < ctx.today,
    )
    stmt = select(f.system_id, f.id, f.advisory_id, f.priority, f.due_date, f.asset_id).where(overdue)
    found = ctx.session.execute(stmt).all()
    per: dict[tuple[int, str], int] = defaultdict(int)
    for r in found:
        per[(int(r[0] or 0), str(r[3]))] += 1
    rows, _n = _per_system(found, ctx.limit, key=lambda r: (r[3], r[4], r[1]))
    names = _asset_names(ctx, {r[5] for rs in rows.values() for r in rs if r[5] is not None})
    have_feeds = ctx.session.scalar(select(Advisory.id).limit(1)) is not None
    open_now = _counts(
        ctx,
        select(f.system_id, func.count())
        .where(f.system_id.is_not(None), f.active.is_(True), f.status.in_(OPEN_STATUSES))
        .group_by(f.system_id),
    )
    out: dict[int, Outcome] = {}
    for sid in ctx.systems:
        c: dict[str, int] = {p: per.get((sid, p), 0) for p in prios}
        c["open_findings"] = open_now.get(sid, 0)
        recs = [
            rec(
                "finding",
                r.id,
                f"{r.advisory_id} @ {names.get(r.asset_id, '-')}",
                "finding_overdue",
                {"priority": r.priority, "due_date": str(r.due_date)},
                priority=r.priority,
                due_date=str(r.due_date),
                asset_id=r.asset_id,
            )
            for r in rows.get(sid, [])
        ]
        fail = sum(c[p] for p in rule.fail_priorities)
        partial = sum(c[p] for p in rule.partial_priorities if p not in rule.fail_priorities)
        said = "、".join(f"{p} {c[p]}" for p in prios if c[p])
        if fail or partial:
            out[sid] = Outcome(
                "fail" if fail else "partial",
                f"有逾期未处置的漏洞：{said}",
                f"overdue open findings: {', '.join(f'{c[p]} {p}' for p in prios if c[p])}",
                c,
                recs,
            )
        elif not have_feeds or not ctx.asset_count(sid) and not c["open_findings"]:
            out[sid] = Outcome(
                "no_evidence",
                "未导入漏洞库或系统没有资产，无法判断漏洞修复情况",
                "no vulnerability feed imported or the system has no assets: nothing to judge patching by",
                c,
            )
        else:
            out[sid] = Outcome(
                "pass",
                f"没有逾期的{'/'.join(prios)}漏洞（未关闭漏洞{c['open_findings']}个均在期限内）",
                f"no overdue {'/'.join(prios)} findings ({c['open_findings']} open findings, all within their due dates)",
                c,
            )
    return out


# --- 3 and 4. endpoints: management ports in internet-facing zones, clear-text services ---------------


def _endpoints(ctx: Ctx, cond: Any) -> list[Any]:
    """Open endpoints on live assets that meet ``cond``: (system id, endpoint id, port, service, tunnel,
    asset id, zone id). ``cond`` narrows by an indexed column (port, service name, the asset's zone), so
    only matching rows are read; the columns stay few because there may be many."""
    e, a = inv.ServiceEndpoint, inv.Asset
    stmt = (
        select(a.system_id, e.id, e.port, e.name, e.tunnel, e.asset_id, a.zone_id)
        .join(a, a.id == e.asset_id)
        .where(_live_assets(), e.state == "open", cond)
    )
    return list(ctx.session.execute(stmt).tuples())


def _endpoint_labels(ctx: Ctx, rows: Per) -> dict[int, str]:
    """``address:port/protocol service`` of the endpoints listed (a few per system), by primary key."""
    e, a = inv.ServiceEndpoint, inv.Asset
    ids = sorted(int(r[1]) for rs in rows.values() for r in rs)
    out: dict[int, str] = {}
    for part in chunks(ids):
        stmt = (
            select(e.id, e.address, a.primary_ip, a.name, e.port, e.protocol, e.name)
            .join(a, a.id == e.asset_id)
            .where(e.id.in_(part))
        )
        for eid, addr, ip, asset, port, proto, service in ctx.session.execute(stmt):
            out[int(eid)] = f"{addr or ip or asset}:{port}/{proto} {service or ''}".strip()
    return out


def management_ports(ctx: Ctx) -> dict[int, Outcome]:
    """Open management/file-sharing ports (the list is data) on assets in internet-facing zones."""
    e, a = inv.ServiceEndpoint, inv.Asset
    ports = sorted({p.port for p in ctx.settings.rules.management_ports.ports})
    zones = ctx.internet_zones()
    found = (
        _endpoints(ctx, and_(a.zone_id.in_(sorted(zones)), e.protocol == "tcp", e.port.in_(ports)))
        if zones
        else []
    )
    rows, counts = _per_system(found, ctx.limit)
    labels = _endpoint_labels(ctx, rows)
    scanned = ctx.scanned()
    out: dict[int, Outcome] = {}
    for sid in ctx.systems:
        n = counts.get(sid, 0)
        c = {"open_management_ports": n, "assets_in_internet_zones": ctx.asset_count(sid, "internet")}
        recs: list[dict[str, Any]] = []
        shown: dict[int, str] = {}
        for _sid, eid, port, _service, _tunnel, aid, zid in rows.get(sid, []):
            recs.append(
                rec(
                    "endpoint",
                    eid,
                    labels.get(eid),
                    "management_port",
                    {"port": port, "zone": zones[zid]},
                    asset_id=aid,
                    zone_id=zid,
                )
            )
            shown[zid] = zones[zid]
        recs += [rec("zone", zid, name, "internet_zone") for zid, name in sorted(shown.items())]
        if n:
            out[sid] = Outcome(
                "fail",
                f"互联网区域的资产开放管理端口{n}个（{', '.join(map(str, ports))}）",
                f"{n} management ports ({', '.join(map(str, ports))}) open on assets in internet-facing zones",
                c,
                recs,
            )
        elif sid not in scanned:
            out[sid] = Outcome(
                "no_evidence", "系统资产没有端口扫描结果", "no scanned ports on the system's assets", c
            )
        else:
            out[sid] = Outcome(
                "pass",
                f"互联网区域资产{c['assets_in_internet_zones']}台，均未开放管理端口",
                f"no management port open on the {c['assets_in_internet_zones']} assets in internet-facing zones",
                c,
            )
    return out


def cleartext(ctx: Ctx) -> dict[int, Outcome]:
    """telnet/ftp/r-services (data) anywhere on the system's assets; plain HTTP (not a TLS port, no ssl tunnel)."""
    e = inv.ServiceEndpoint
    rule = ctx.settings.rules.cleartext
    plain = set(rule.fail_services)
    found = [
        r
        for r in _endpoints(ctx, e.name.in_(sorted(plain | set(rule.http_services))))
        if r[3] in plain or (r[4] != "ssl" and r[2] not in rule.tls_ports)
    ]
    rows, counts = _per_system(found, ctx.limit)
    labels = _endpoint_labels(ctx, rows)
    fails: dict[int, int] = defaultdict(int)
    for r in found:
        if r[3] in plain:
            fails[int(r[0])] += 1
    scanned = ctx.scanned()
    out: dict[int, Outcome] = {}
    for sid in ctx.systems:
        n, f = counts.get(sid, 0), fails.get(sid, 0)
        c = {"cleartext_login": f, "plain_http": n - f}
        recs = [
            rec(
                "endpoint",
                eid,
                labels.get(eid),
                "cleartext_login" if service in plain else "plain_http",
                asset_id=aid,
            )
            for _sid, eid, _port, service, _tunnel, aid, _zid in rows.get(sid, [])
        ]
        if f:
            out[sid] = Outcome(
                "fail",
                f"开放明文登录服务{f}个（如telnet、ftp），鉴别信息可被窃听；明文HTTP {n - f}个",
                f"{f} clear-text login services open (telnet, ftp...): credentials can be sniffed; {n - f} plain HTTP",
                c,
                recs,
            )
        elif n:
            out[sid] = Outcome(
                "partial",
                f"开放未加密的HTTP服务{n}个，需核查是否有登录页面",
                f"{n} plain (non-TLS) HTTP services open: check whether any carries a login",
                c,
                recs,
            )
        elif sid not in scanned:
            out[sid] = Outcome(
                "no_evidence", "系统资产没有端口扫描结果", "no scanned ports on the system's assets", c
            )
        else:
            out[sid] = Outcome(
                "pass",
                "已扫描的开放端口中没有明文登录服务或明文HTTP",
                "no open port scanned is a clear-text login service or plain HTTP",
                c,
            )
    return out


# --- 5. redundancy of CII systems: single points of failure ---------------------------------------------


def redundancy(ctx: Ctx, graph: Graph) -> dict[int, Outcome]:
    """For CII systems only: assets whose single failure makes the system fail (graph/spof.py), with
    the dependency path; the redundancy groups the system's needs have."""
    cii = [sid for sid, is_cii in ctx.systems.items() if is_cii]
    if not cii:
        return {}
    g = graph
    roots = g.indices("system", np.array(sorted(cii), np.int64))
    sets = killer_sets(g, roots) if len(roots) else {}
    e = inv.Edge
    groups: dict[int, set[str]] = defaultdict(set)
    for sid, grp in ctx.session.execute(
        select(e.src_id, e.redundancy_group)
        .where(e.src_type == "system", e.src_id.in_(cii), e.redundancy_group.is_not(None))
        .distinct()
    ):
        groups[int(sid)].add(str(grp))
    needs = {int(r) for r in g.group_parent[np.isin(g.group_parent, roots)]} if len(roots) else set()
    spofs: dict[int, list[int]] = {}
    for r in roots.tolist():
        spofs[int(g.dbid[r])] = sorted(x for x in sets.get(r, ()) if g.type_name(x) == "asset")
    names = _asset_names(ctx, {int(g.dbid[x]) for xs in spofs.values() for x in xs[: ctx.limit]})
    out: dict[int, Outcome] = {}
    for r in roots.tolist():
        sid = int(g.dbid[r])
        xs = spofs[sid]
        c = {"spof_assets": len(xs), "redundancy_groups": len(groups.get(sid, ()))}
        recs = []
        for n, x in enumerate(xs[: ctx.limit]):
            label = names.get(int(g.dbid[x]))
            chain = []
            if n < PATHS:
                p = path(g, propagate(g, np.array([x], np.int64)), r)
                chain = [
                    {
                        "type": g.type_name(i),
                        "id": int(g.dbid[i]) if g.type_name(i) != "channel" else g.label(i),
                        "label": names.get(int(g.dbid[i])) if g.type_name(i) == "asset" else g.label(i),
                    }
                    for i in p
                ]
            recs.append(rec("asset", int(g.dbid[x]), label, "spof", path=chain))
        recs += [rec("redundancy_group", grp, grp, "redundancy_group") for grp in sorted(groups.get(sid, ()))]
        if r not in needs:
            out[sid] = Outcome(
                "no_evidence",
                "CII系统在依赖图中没有依赖（无资产、无依赖边），无法判断冗余",
                "the CII system needs nothing in the dependency graph (no assets, no edges): redundancy cannot be judged",
                c,
            )
        elif xs:
            out[sid] = Outcome(
                "fail",
                f"存在{len(xs)}个单点故障资产：其中任一故障即导致系统失效",
                f"{len(xs)} single points of failure: the failure of any one of these assets makes the system fail",
                c,
                recs,
            )
        else:
            out[sid] = Outcome(
                "pass",
                f"没有单点故障资产（冗余组{c['redundancy_groups']}个）",
                f"no single asset failure makes the system fail ({c['redundancy_groups']} redundancy groups)",
                c,
                recs,
            )
    return out


#: SPOFs per system that get their dependency path (each path is one propagation over the graph).
PATHS = 10


# --- 6. endpoint protection coverage ----------------------------------------------------------------


def matching_names(names: Iterable[str | None], patterns: list[str]) -> set[str]:
    """The names that contain one of the patterns (case-insensitive; hand-written: a substring test)."""
    pats = [p.lower() for p in patterns]
    return {n for n in names if n and any(p in n.lower() for p in pats)}


def endpoint_protection(ctx: Ctx) -> dict[int, Outcome]:
    """Servers and workstations (kinds are data) with and without software of an endpoint-protection
    product (names are data): products by name (a small table), software by its distinct names."""
    rule = ctx.settings.rules.endpoint_protection
    a, s, p = inv.Asset, inv.Software, inv.Product
    prods = {
        int(i) for i, n in ctx.session.execute(select(p.id, p.name)) if matching_names([n], rule.patterns)
    }
    names = sorted(matching_names(ctx.session.scalars(select(s.name).distinct()), rule.patterns))
    covered_by = [s.product_id.in_(sorted(prods))] if prods else []
    if names:
        covered_by.append(s.name.in_(names))
    covered = exists().where(s.asset_id == a.id, or_(*covered_by)) if covered_by else None
    inventoried = exists().where(s.asset_id == a.id)
    # one pass over the assets of those kinds: the uncovered ones, and whether they have any software at all
    stmt = select(a.system_id, a.id, a.name, a.kind, inventoried.label("inv")).where(
        _live_assets(), a.kind.in_(rule.kinds), *([~covered] if covered is not None else [])
    )
    found = list(ctx.session.execute(stmt))
    rows, uncovered = _per_system(found, ctx.limit)
    no_inv: dict[int, int] = defaultdict(int)
    for r in found:
        if not r.inv:
            no_inv[int(r[0] or 0)] += 1
    tallies = {
        sid: {
            "assets": ctx.asset_count(sid, "scoped"),
            "covered": ctx.asset_count(sid, "scoped") - uncovered.get(sid, 0),
            "no_inventory": no_inv.get(sid, 0),
        }
        for sid in ctx.systems
    }
    out: dict[int, Outcome] = {}
    kinds = "/".join(rule.kinds)
    for sid in ctx.systems:
        t = tallies[sid]
        n, cv, ni = t["assets"], t["covered"], t["no_inventory"]
        missing = n - cv - ni
        c = {**t, "without_agent": missing}
        recs = [
            rec(
                "asset",
                r.id,
                r.name,
                "no_agent" if r.inv else "no_inventory",
                kind=r.kind,
            )
            for r in rows.get(sid, [])
        ]
        if n == 0 or ni == n:
            out[sid] = Outcome(
                "no_evidence",
                f"系统没有{kinds}类资产，或其资产没有软件清单",
                f"the system has no {kinds} assets, or none has a software inventory",
                c,
                recs,
            )
        elif missing == 0 and ni == 0:
            out[sid] = Outcome(
                "pass",
                f"{n}台{kinds}资产均安装了终端防护软件",
                f"all {n} {kinds} assets run endpoint-protection software",
                c,
            )
        elif cv == 0 and missing:
            out[sid] = Outcome(
                "fail",
                f"有软件清单的{n - ni}台资产均未安装终端防护软件",
                f"none of the {n - ni} assets with a software inventory runs endpoint-protection software",
                c,
                recs,
            )
        else:
            out[sid] = Outcome(
                "partial",
                f"终端防护覆盖{cv}/{n}台：未安装{missing}台，无软件清单{ni}台",
                f"endpoint protection on {cv} of {n} assets: {missing} without it, {ni} without a software inventory",
                c,
                recs,
            )
    return out


# --- 7. supply chain ---------------------------------------------------------------------------


#: product_pairs per database: (map version, pairs). The pairs depend on the map's tables only (software,
#: assets, edges), so a change elsewhere (findings, triage, jobs) reuses them.
_pairs: dict[str, tuple[str, frozenset[tuple[int, int]]]] = {}


def clear_cache() -> None:
    _pairs.clear()


def product_pairs(ctx: Ctx) -> frozenset[tuple[int, int]]:
    """(system id, product id) for every product a system uses: installed on one of its live assets,
    in its SBOM, or wired to it by an edge (supply/foreign.py's three paths).

    Only the distinct pairs, aggregated in the database (``SELECT DISTINCT``), without the per-pair
    asset counts (``count(DISTINCT asset.id)``) of foreign.usage that the rule does not need: the
    installed path joins millions of software rows to their assets, and every row fetched into Python
    costs more than the database's sort (measured with bench/compliance_evidence.py). Kept per map
    version (graph/build.py's fingerprint of the map's tables, the one the dependency graph is cached
    under): recomputed when the map changes, not when findings or triage do."""
    key, ver = str(ctx.session.get_bind().engine.url), map_version(ctx.session)
    hit = _pairs.get(key)
    if hit is not None and hit[0] == ver:
        return hit[1]
    a, s, e = inv.Asset, inv.Software, inv.Edge
    stmts = [
        select(a.system_id, s.product_id)
        .join(a, s.asset_id == a.id)
        .where(func.coalesce(s.product_id, 0) != 0, a.lifecycle_status != "retired")
        .distinct(),
        select(s.system_id, s.product_id)
        .where(s.system_id.is_not(None), s.product_id.is_not(None))
        .distinct(),
        select(e.src_id, e.dst_id).where(e.src_type == "system", e.dst_type == "product").distinct(),
    ]
    out = frozenset(
        (int(x), int(y))
        for stmt in stmts
        for x, y in ctx.session.execute(stmt)
        if x is not None and y is not None
    )
    _pairs[key] = (ver, out)
    return out


def supply_chain(ctx: Ctx) -> dict[int, Outcome]:
    """The products and vendors each system uses (supply/foreign.py: three grouped statements) against
    the supplier register (vendor profiles): review failed, no profile, remote access without an
    NDA, foreign products on CII systems, automatic updates with admin/kernel privilege."""
    rule = ctx.settings.rules.supply_chain
    prods = foreign.products(ctx.session)
    profiles = {pr.vendor_id: pr for pr in ctx.session.scalars(select(VendorProfile))}
    used: dict[int, list[foreign.ProductInfo]] = defaultdict(list)
    for sid, pid in sorted(product_pairs(ctx)):
        if pid in prods:
            used[sid].append(prods[pid])
    out: dict[int, Outcome] = {}
    for sid, is_cii in ctx.systems.items():
        ps = used.get(sid, [])
        vendors = {p.vendor_id: p for p in ps}
        fail: list[dict[str, Any]] = []
        partial: list[dict[str, Any]] = []
        for vid, p in sorted(vendors.items()):
            prof = profiles.get(vid)
            if prof is None:
                partial.append(rec("supplier", vid, p.vendor, "vendor_unregistered"))
            else:
                if prof.security_review == "failed":
                    fail.append(rec("supplier", vid, p.vendor, "review_failed"))
                elif is_cii and prof.security_review in ("required", "pending"):
                    partial.append(rec("supplier", vid, p.vendor, f"review_{prof.security_review}"))
                if prof.remote_access != "none" and not prof.nda_signed:
                    partial.append(
                        rec(
                            "supplier",
                            vid,
                            p.vendor,
                            "remote_without_nda",
                        )
                    )
        for p in ps:
            priv = p.auto_update and p.update_privilege in rule.privileged_updates
            if priv and is_cii and not p.is_domestic:
                fail.append(
                    rec(
                        "product",
                        p.id,
                        f"{p.vendor} {p.name}",
                        "foreign_privileged_update",
                        {"privilege": p.update_privilege},
                        vendor_id=p.vendor_id,
                    )
                )
            elif priv:
                partial.append(
                    rec(
                        "product",
                        p.id,
                        f"{p.vendor} {p.name}",
                        "privileged_update",
                        {"privilege": p.update_privilege},
                        vendor_id=p.vendor_id,
                    )
                )
            elif is_cii and not p.is_domestic:
                partial.append(
                    rec(
                        "product",
                        p.id,
                        f"{p.vendor} {p.name}",
                        "foreign_product",
                        {"country": p.country or "?", "layer": p.layer},
                        vendor_id=p.vendor_id,
                    )
                )
        c = {
            "products": len(ps),
            "vendors": len(vendors),
            "foreign_products": sum(1 for p in ps if not p.is_domestic),
            "unregistered_vendors": sum(1 for v in vendors if v not in profiles),
            "issues": len(fail) + len(partial),
        }
        if not ps:
            out[sid] = Outcome(
                "no_evidence",
                "系统未关联任何产品，无法核对供应链",
                "the system uses no known product: nothing to check",
                c,
            )
        elif fail:
            out[sid] = Outcome(
                "fail",
                f"供应链存在不符合项{len(fail)}个（审查未通过或国外厂商可向关基系统推送高权限更新），另有待改进{len(partial)}个",
                f"{len(fail)} supply-chain failures (review failed, or a foreign vendor pushes privileged updates to a CII system); {len(partial)} more to improve",
                c,
                fail + partial,
            )
        elif partial:
            out[sid] = Outcome(
                "partial",
                f"供应链待改进{len(partial)}项：厂商未登记、审查未完成、国外产品或特权自动更新",
                f"{len(partial)} supply-chain points to improve: unregistered vendors, pending reviews, foreign products or privileged auto-update",
                c,
                partial,
            )
        else:
            out[sid] = Outcome(
                "pass",
                f"系统使用的{len(vendors)}家厂商均已登记，无审查问题、无特权自动更新",
                f"all {len(vendors)} vendors the system uses are registered, with no review issue and no privileged auto-update",
                c,
                [rec("supplier", vid, p.vendor, "vendor_registered") for vid, p in sorted(vendors.items())],
            )
    return out


# --- 8. cryptography: the crypto inventory (crypto/) -------------------------------------------------------


def cryptography(ctx: Ctx) -> dict[int, Outcome]:
    """The crypto inventory of each system (built from nmap ssl-cert / ssl-enum-ciphers / ssh2-enum-algos
    output, SBOM components and manual entries; rebuilt first when an import changed it) through the crypto
    domain's own flags (weak protocols, suites, keys and signatures, expired and expiring certificates, no
    national (GM) algorithm where the level requires it) and the latest 密评."""
    rule = ctx.settings.rules.cryptography
    flags = [f for f in crypto_service.flags(ctx.session, today=ctx.today) if f["system_id"] in ctx.systems]
    it, mn = crypto_models.CryptoItem, crypto_models.CryptoManual
    items = _counts(ctx, select(it.system_id, func.count()).group_by(it.system_id))
    manual = _counts(ctx, select(mn.system_id, func.count()).group_by(mn.system_id))
    assessed = {
        sid: g for sid, g in crypto_overview.gaps(ctx.session, list(ctx.systems)).items() if g["assessed"]
    }
    fail_codes = {*rule.fail_flags, "expired"}
    per: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in flags:
        per[int(f["system_id"])].append(f)
    names = _asset_names(ctx, {f["asset_id"] for f in flags if f.get("asset_id")})
    out: dict[int, Outcome] = {}
    for sid in ctx.systems:
        fs = per.get(sid, [])
        failed = assessed.get(sid, {}).get("passed") is False
        nfail = sum(1 for f in fs if f["code"] in fail_codes)
        no_gm = any(f["code"] == "no_gm" for f in fs)
        c = {"flags": len(fs), "fail_flags": nfail, "no_gm": int(no_gm), "mipping_failed": int(failed)}
        recs = []
        if failed:
            recs.append(rec("system", sid, None, "mipping_failed", {"total": assessed[sid].get("total")}))
        for f in sorted(fs, key=lambda f: (f["code"] not in fail_codes, f["code"], f.get("asset_id") or 0)):
            aid = f.get("asset_id")
            if f["code"] == "no_gm":
                recs.append(rec("system", sid, None, "no_gm"))
            else:
                recs.append(
                    rec(
                        "asset" if aid else "system",
                        aid or sid,
                        names.get(aid) if aid else None,
                        "crypto_flag",
                        {"code": f["code"], "port": f.get("port") or "-"},
                        asset_id=aid,
                    )
                )
        if not failed and not items.get(sid, 0) and not manual.get(sid, 0):
            out[sid] = Outcome(
                "no_evidence",
                "没有该系统的密码清单（可用发现任务的 crypto 配置采集，或登记密码产品）",
                "no crypto inventory for the system (collect it with the discovery crypto profile, or record "
                "its crypto products)",
                c,
            )
        elif failed or nfail:
            out[sid] = Outcome(
                "fail",
                f"密码应用存在高风险问题{nfail}处（弱协议、弱算法、弱密钥或过期证书）"
                + ("，最近一次密评未通过" if failed else ""),
                f"{nfail} high-risk crypto findings (weak protocol, algorithm or key, expired certificate)"
                + ("; the latest 密评 failed" if failed else ""),
                c,
                recs,
            )
        elif fs:
            out[sid] = Outcome(
                "partial",
                f"其他密码问题{len(fs) - int(no_gm)}处"
                + ("；未使用国密算法（按等级应使用密码技术保护传输）" if no_gm else ""),
                f"{len(fs) - int(no_gm)} other crypto findings"
                + ("; no national (GM) algorithm although the level requires it" if no_gm else ""),
                c,
                recs,
            )
        else:
            out[sid] = Outcome(
                "pass",
                "密码清单中未发现弱配置、过期证书或国密缺失",
                "the crypto inventory shows no weak setting, expired certificate or missing GM algorithm",
                c,
            )
    return out
